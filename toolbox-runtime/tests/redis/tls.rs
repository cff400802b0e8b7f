//! The `redis` source over TLS: a Redis started by the test with a certificate from a CA made in
//! the test, reached with that CA (`tls.caFile`), refused without it (the platform's roots do not
//! know the CA), and reached with `insecureSkipVerify`.

use super::{Server, free_port};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use toolbox_runtime::call::ToolOutput;
use toolbox_runtime::db::redis::{Arg, RedisSource, RedisSourceDef, run};
use toolbox_runtime::setting::Setting;

fn setting(raw: String) -> Setting {
    Setting { raw: Box::leak(raw.into_boxed_str()), file: "tools.yaml", line: 1, col: 1 }
}

fn source(port: u16, ca_file: Option<&str>, insecure: bool) -> RedisSource {
    let def = RedisSourceDef {
        address: setting(format!("127.0.0.1:{port}")),
        username: None,
        password: None,
        database: None,
        tls: true,
        tls_insecure_skip_verify: insecure,
        tls_ca_file: ca_file.map(|f| setting(f.to_string())),
        connect_timeout: Some(setting("2s".into())),
        command_timeout: None,
        max_connections: 1,
    };
    RedisSource::open("tools.yaml", "/", "secure", &def, &|_| None).expect("the settings resolve")
}

const PING: &[&[Arg]] = &[&[Arg::Text("PING")]];

#[tokio::test]
async fn tls_with_the_ca_file_and_without_it() {
    if !super::redis_server_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&key, &ca).unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(path("ca.pem"), ca.pem()).unwrap();
    std::fs::write(path("cert.pem"), cert.pem()).unwrap();
    std::fs::write(path("key.pem"), key.serialize_pem()).unwrap();
    let port = free_port();
    let _server = Server::start_with(
        port,
        &[
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-cert-file",
            &path("cert.pem"),
            "--tls-key-file",
            &path("key.pem"),
            "--tls-ca-cert-file",
            &path("ca.pem"),
            "--tls-auth-clients",
            "no",
        ],
    );

    let trusted = source(port, Some(&path("ca.pem")), false);
    assert_eq!(
        run(&trusted, PING, &[]).await,
        ToolOutput::Rows { json: r#"["PONG"]"#.into(), rows: 1, truncated: false }
    );

    let untrusted = source(port, None, false);
    let ToolOutput::Error(_, message) = run(&untrusted, PING, &[]).await else { panic!("an unknown CA is refused") };
    assert!(message.starts_with("source `secure` is unavailable"), "{message}");

    let insecure = source(port, None, true);
    assert!(matches!(run(&insecure, PING, &[]).await, ToolOutput::Rows { .. }), "insecureSkipVerify accepts it");
}
