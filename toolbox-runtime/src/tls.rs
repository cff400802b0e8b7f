//! TLS on the HTTP listener (`--tls-cert`, `--tls-key`): the certificate files, the rustls server
//! configuration, and the reload on SIGHUP.
//!
//! rustls on aws-lc-rs, the crypto library the rest of the server already links (sqlx, reqwest,
//! jsonwebtoken). ALPN offers `http/1.1` only: the server speaks HTTP/1.
//!
//! The certificate in use is held by [`CurrentCert`], the configuration's certificate resolver,
//! which every handshake asks. A reload reads both files again and, when they make a valid pair,
//! swaps what the resolver hands out: new handshakes get the new certificate, connections already
//! established keep theirs. A pair that fails to load changes nothing.
//!
//! The handshake itself runs in the connection's task, on the clocks of [`crate::serve`].

use chrono::{DateTime, NaiveDate, Utc};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, ServerConfig};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

/// The server's TLS: its files, its configuration, and the certificate in use.
pub struct Tls {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: Arc<CurrentCert>,
    acceptor: TlsAcceptor,
}

/// A certificate chain and its key, loaded and checked.
pub struct Loaded {
    key: Arc<CertifiedKey>,
    /// The leaf's `notAfter`, when it could be read.
    pub not_after: Option<DateTime<Utc>>,
}

impl Tls {
    /// Loads the pair and builds the server configuration; every failure names the file and what
    /// is wrong with it.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<(Tls, Loaded), String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let loaded = load_pair(cert_path, key_path, &provider)?;
        let current = Arc::new(CurrentCert(RwLock::new(loaded.key.clone())));
        let mut config = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot configure TLS: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tls = Tls {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            provider,
            current,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        };
        Ok((tls, loaded))
    }

    /// What accepts the connections' handshakes (cheap to clone).
    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }

    /// Reads both files again; on success the new pair serves every handshake from now on, on
    /// failure the one in use stays.
    pub fn reload(&self) -> Result<Loaded, String> {
        let loaded = load_pair(&self.cert_path, &self.key_path, &self.provider)?;
        *self.current.0.write().unwrap_or_else(|e| e.into_inner()) = loaded.key.clone();
        Ok(loaded)
    }

    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }
}

impl Loaded {
    /// ` (valid until 2027-01-31 12:00:00 UTC)`, or nothing when the date could not be read.
    pub fn validity(&self) -> String {
        self.not_after.map(|t| format!(" (valid until {})", t.format("%Y-%m-%d %H:%M:%S UTC"))).unwrap_or_default()
    }

    /// Whether the leaf's `notAfter` has passed.
    pub fn expired(&self) -> bool {
        self.not_after.is_some_and(|t| t < DateTime::<Utc>::from(std::time::SystemTime::now()))
    }
}

/// The certificate every handshake is given: swapped whole by a reload, read under a lock held
/// only for the clone of an `Arc`.
#[derive(Debug)]
struct CurrentCert(RwLock<Arc<CertifiedKey>>);

impl CurrentCert {
    fn get(&self) -> Arc<CertifiedKey> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ResolvesServerCert for CurrentCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// Reads the chain and the key and checks that they belong together.
fn load_pair(cert_path: &Path, key_path: &Path, provider: &CryptoProvider) -> Result<Loaded, String> {
    let chain = read_chain(cert_path)?;
    let key = read_key(key_path)?;
    let signing_key = provider.key_provider.load_private_key(key).map_err(|e| {
        format!(
            "--tls-key {}: the private key cannot be used: {e} (RSA, ECDSA P-256/P-384 and Ed25519 keys are)",
            key_path.display()
        )
    })?;
    let not_after = not_after(&chain[0]);
    let key = CertifiedKey::new(chain, signing_key);
    match key.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            return Err(format!(
                "--tls-key {} does not match the certificate --tls-cert {} starts with (the server's own certificate must come first)",
                key_path.display(),
                cert_path.display()
            ));
        }
        Err(e) => return Err(format!("--tls-cert {}: the first certificate cannot be read: {e}", cert_path.display())),
    }
    Ok(Loaded { key: Arc::new(key), not_after })
}

fn read_file(flag: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{flag} {}: cannot read the file: {e}", path.display()))
}

/// The chain, leaf first, from the file's `CERTIFICATE` blocks.
fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = read_file("--tls-cert", path)?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--tls-cert {}: not a valid PEM file: {}", path.display(), pem_error(&e)))?;
    if chain.is_empty() {
        return Err(format!(
            "--tls-cert {}: no certificate in it (no -----BEGIN CERTIFICATE----- block)",
            path.display()
        ));
    }
    Ok(chain)
}

/// The first private key of the file: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
/// (`EC PRIVATE KEY`).
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = read_file("--tls-key", path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => {
            const ENCRYPTED: &[u8] = b"-----BEGIN ENCRYPTED PRIVATE KEY-----";
            let encrypted = if bytes.windows(ENCRYPTED.len()).any(|w| w == ENCRYPTED) {
                " (an encrypted key is not supported: decrypt it first)"
            } else {
                ""
            };
            format!(
                "--tls-key {}: no private key in it (a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block){encrypted}",
                path.display()
            )
        }
        e => format!("--tls-key {}: not a valid PEM file: {}", path.display(), pem_error(&e)),
    })
}

/// A PEM error in words (the crate's own messages print byte arrays).
fn pem_error(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { end_marker } => {
            format!("a block has no `-----END {}-----` line", String::from_utf8_lossy(end_marker))
        }
        pem::Error::IllegalSectionStart { line } => {
            format!("a malformed BEGIN line `{}`", String::from_utf8_lossy(line))
        }
        pem::Error::Base64Decode(e) => format!("a block is not valid base64 ({e})"),
        e => e.to_string(),
    }
}

/// The `notAfter` of a DER certificate: Certificate ::= SEQUENCE { tbsCertificate SEQUENCE {
/// [0] version OPTIONAL, serialNumber, signature, issuer, validity SEQUENCE { notBefore, notAfter
/// }, ... }, ... } (RFC 5280 §4.1). Only for the log: `None` when anything is unexpected.
fn not_after(der: &[u8]) -> Option<DateTime<Utc>> {
    let (_, certificate, _) = der_item(der)?;
    let (_, tbs, _) = der_item(certificate)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xa0) {
        rest = der_item(rest)?.2;
    }
    for _ in 0..3 {
        rest = der_item(rest)?.2; // serialNumber, signature, issuer
    }
    let (tag, validity, _) = der_item(rest)?;
    if tag != 0x30 {
        return None;
    }
    let after = der_item(validity)?.2;
    let (tag, time, _) = der_item(after)?;
    let time = std::str::from_utf8(time).ok()?;
    // UTCTime: YYMMDDHHMMSSZ, years 1950-2049; GeneralizedTime: YYYYMMDDHHMMSSZ.
    let (year, rest) = match tag {
        0x17 => {
            let yy: i32 = time.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, time.get(2..)?)
        }
        0x18 => (time.get(..4)?.parse().ok()?, time.get(4..)?),
        _ => return None,
    };
    if rest.len() != 11 || !rest.ends_with('Z') {
        return None;
    }
    let field = |i: usize| rest.get(i..i + 2)?.parse::<u32>().ok();
    let date = NaiveDate::from_ymd_opt(year, field(0)?, field(2)?)?;
    Some(date.and_hms_opt(field(4)?, field(6)?, field(8)?)?.and_utc())
}

/// One DER item: its tag, its contents and what follows it.
fn der_item(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes.iter().fold(0usize, |n, b| n << 8 | usize::from(*b))
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

/// TLS from `--tls-cert` and `--tls-key`: both, or neither (no TLS). The certificate is logged
/// with its expiry.
pub fn from_flags(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<Arc<Tls>>, String> {
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        (Some(_), None) => return Err("--tls-cert needs --tls-key (the certificate's private key)".to_string()),
        (None, Some(_)) => return Err("--tls-key needs --tls-cert (the certificate chain)".to_string()),
    };
    let (tls, loaded) = Tls::load(cert, key)?;
    log_loaded("TLS on: the certificate from", &tls, &loaded);
    Ok(Some(Arc::new(tls)))
}

/// Installs the SIGHUP handler: with TLS, SIGHUP reloads the certificate and key (see
/// [`Tls::reload`]); without, it is logged and ignored. Either way it no longer ends the process,
/// as its default action would. Installed when called, so a SIGHUP right after start-up is
/// handled.
pub fn reload_on_hangup(tls: Option<Arc<Tls>>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot handle SIGHUP: {e}");
                return;
            }
        };
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                let Some(tls) = tls.clone() else {
                    tracing::info!("SIGHUP: TLS is off (no --tls-cert), so there is no certificate to reload");
                    continue;
                };
                // Two small files, but still file I/O: off the request workers.
                let reload = tokio::task::spawn_blocking({
                    let tls = tls.clone();
                    move || tls.reload()
                });
                match reload.await {
                    Ok(Ok(loaded)) => log_loaded("reloaded the TLS certificate from", &tls, &loaded),
                    Ok(Err(e)) => {
                        tracing::error!(
                            "SIGHUP: cannot reload the TLS certificate, still serving the previous one: {e}"
                        )
                    }
                    Err(e) => tracing::error!("SIGHUP: the TLS reload failed: {e}"),
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = tls;
}

/// Logs a loaded certificate, and warns when it has already expired.
pub fn log_loaded(what: &str, tls: &Tls, loaded: &Loaded) {
    tracing::info!("{what} {}{}", tls.cert_path().display(), loaded.validity());
    if loaded.expired() {
        tracing::warn!("the TLS certificate from {} has expired{}", tls.cert_path().display(), loaded.validity());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(dir: &Path, name: &str, not_after: (i32, u8, u8)) -> (PathBuf, PathBuf, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let cert = params.self_signed(&key).unwrap();
        let (cert_path, key_path) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path, key)
    }

    #[test]
    fn reads_not_after_in_both_time_forms() {
        let dir = tempfile::tempdir().unwrap();
        // rcgen writes UTCTime up to 2049 and GeneralizedTime from 2050 (RFC 5280).
        for (year, month, day) in [(2031, 7, 9), (2049, 12, 31), (2051, 2, 3)] {
            let (cert, key, _) = pair(dir.path(), "a", (year, month, day));
            let (_, loaded) = Tls::load(&cert, &key).unwrap();
            let expected = NaiveDate::from_ymd_opt(year, month.into(), day.into()).unwrap();
            assert_eq!(loaded.not_after.unwrap().date_naive(), expected);
            assert!(!loaded.expired());
            assert!(loaded.validity().contains(&expected.to_string()), "{}", loaded.validity());
        }
        let (cert, key, _) = pair(dir.path(), "old", (2001, 1, 1));
        assert!(Tls::load(&cert, &key).unwrap().1.expired());
        assert_eq!(not_after(b"\x30\x03\x02\x01"), None);
        assert_eq!(not_after(b""), None);
    }

    /// Every key encoding loads: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) and SEC1
    /// (`EC PRIVATE KEY`); a key of another certificate, or none, is refused naming the file.
    #[test]
    fn loads_each_key_encoding() {
        use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
        let dir = tempfile::tempdir().unwrap();
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let path = |name: &str| dir.path().join(name);

        // ECDSA P-256, as rcgen makes it: PKCS#8, then the same key as SEC1.
        let (ec_cert, ec_key, _) = pair(dir.path(), "ec", (2040, 1, 1));
        load_pair(&ec_cert, &ec_key, &provider).unwrap();
        let pkcs8 = PrivateKeyDer::from_pem_file(&ec_key).unwrap();
        let ec = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8.secret_der(),
        )
        .unwrap();
        std::fs::write(path("ec.sec1"), pem_block("EC PRIVATE KEY", ec.private_key().as_der().unwrap().as_ref()))
            .unwrap();
        assert!(matches!(read_key(&path("ec.sec1")).unwrap(), PrivateKeyDer::Sec1(_)));
        load_pair(&ec_cert, &path("ec.sec1"), &provider).unwrap();

        // RSA: PKCS#8, then PKCS#1 (the RSAPrivateKey inside the PKCS#8's OCTET STRING).
        let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&rsa).unwrap();
        let key = rcgen::KeyPair::try_from(pkcs8.as_ref()).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
        std::fs::write(path("rsa.crt"), cert.pem()).unwrap();
        std::fs::write(path("rsa.pkcs8"), pem_block("PRIVATE KEY", pkcs8.as_ref())).unwrap();
        load_pair(&path("rsa.crt"), &path("rsa.pkcs8"), &provider).unwrap();
        let (_, info, _) = der_item(pkcs8.as_ref()).unwrap();
        let after_version = der_item(info).unwrap().2;
        let after_algorithm = der_item(after_version).unwrap().2;
        let (tag, pkcs1, _) = der_item(after_algorithm).unwrap();
        assert_eq!(tag, 0x04, "PrivateKeyInfo.privateKey is an OCTET STRING");
        std::fs::write(path("rsa.pkcs1"), pem_block("RSA PRIVATE KEY", pkcs1)).unwrap();
        assert!(matches!(read_key(&path("rsa.pkcs1")).unwrap(), PrivateKeyDer::Pkcs1(_)));
        load_pair(&path("rsa.crt"), &path("rsa.pkcs1"), &provider).unwrap();

        // The RSA key with the EC certificate; a key file with no key; a missing file; a
        // certificate file with no certificate; an encrypted key.
        let mismatch = load_pair(&ec_cert, &path("rsa.pkcs1"), &provider).err().unwrap();
        assert!(mismatch.contains("does not match") && mismatch.contains("rsa.pkcs1"), "{mismatch}");
        let no_key = load_pair(&ec_cert, &ec_cert, &provider).err().unwrap();
        assert!(no_key.contains("--tls-key") && no_key.contains("no private key"), "{no_key}");
        let missing = load_pair(&path("nope.crt"), &ec_key, &provider).err().unwrap();
        assert!(
            missing.contains("--tls-cert") && missing.contains("nope.crt") && missing.contains("cannot read"),
            "{missing}"
        );
        let no_cert = load_pair(&ec_key, &ec_key, &provider).err().unwrap();
        assert!(no_cert.contains("no certificate"), "{no_cert}");
        std::fs::write(path("enc.key"), pem_block("ENCRYPTED PRIVATE KEY", b"xx")).unwrap();
        let encrypted = load_pair(&ec_cert, &path("enc.key"), &provider).err().unwrap();
        assert!(encrypted.contains("encrypted key is not supported"), "{encrypted}");
        std::fs::write(path("cut.crt"), &std::fs::read_to_string(&ec_cert).unwrap()[..200]).unwrap();
        let cut = load_pair(&path("cut.crt"), &ec_key, &provider).err().unwrap();
        assert!(cut.contains("not a valid PEM file") && cut.contains("END CERTIFICATE"), "{cut}");
    }

    fn pem_block(label: &str, der: &[u8]) -> String {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }
}
