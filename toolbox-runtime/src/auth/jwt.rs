//! JWT checks: the shape test that tells a JWT from an opaque token, the key set read from a JWKS
//! document, and verification with a fixed list of asymmetric algorithms.
//!
//! Never accepted: `alg: none` (jsonwebtoken has no such algorithm), any HMAC algorithm (a JWKS
//! publishes public keys; an HS256 token "signed" with one is the classic key-confusion attack),
//! symmetric (`oct`) keys in a JWKS, a key whose own `alg` differs from the token's.

use super::principal::Principal;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The algorithms a token may be signed with: every asymmetric one jsonwebtoken verifies.
pub const ALLOWED_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Most keys read from one JWKS document; the rest are ignored.
const MAX_KEYS: usize = 64;

#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    /// RFC 7515 §4.1.11: extensions the verifier must understand. None is supported, so a token
    /// that has any is refused. (`jku`, `x5u` and `jwk` are never followed: keys come from the
    /// discovered JWKS only.)
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// What the unverified header says.
pub struct Header<'a> {
    pub alg: Algorithm,
    pub kid: Option<Cow<'a, str>>,
}

/// Why a token was refused. Every message is fixed text: a token is never echoed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    Malformed,
    Algorithm,
    UnknownKey,
    KeyMismatch,
    Signature,
    Expired,
    NotYetValid,
    Issuer,
    Audience,
    MissingClaim,
}

impl JwtError {
    pub fn description(self) -> &'static str {
        match self {
            JwtError::Malformed => "the token is malformed",
            JwtError::Algorithm => "the token's signing algorithm is not accepted",
            JwtError::UnknownKey => "the token is signed with an unknown key",
            JwtError::KeyMismatch => "the token's algorithm does not match its key",
            JwtError::Signature => "the token's signature is invalid",
            JwtError::Expired => "the token has expired",
            JwtError::NotYetValid => "the token is not valid yet",
            JwtError::Issuer => "the token was issued by another authorization server",
            JwtError::Audience => "the token was not issued for this resource",
            JwtError::MissingClaim => "the token lacks a required claim (exp, iss or aud)",
        }
    }
}

/// The reference's test, kept: three dot-separated parts whose first decodes to a JSON object
/// with an `alg` member. Anything else is an opaque token.
pub fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    decode_segment(head).is_some_and(|json| {
        #[derive(Deserialize)]
        struct HasAlg<'a> {
            #[serde(borrow)]
            #[allow(dead_code)]
            alg: Cow<'a, str>,
        }
        serde_json::from_slice::<HasAlg<'_>>(&json).is_ok()
    })
}

fn decode_segment(segment: &str) -> Option<Vec<u8>> {
    if segment.len() > 8 * 1024 {
        return None;
    }
    URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()
}

/// Reads the header without trusting it: the algorithm must be on the allowed list.
pub fn header(token: &str) -> Result<(Algorithm, Option<String>), JwtError> {
    let head = token.split('.').next().ok_or(JwtError::Malformed)?;
    let json = decode_segment(head).ok_or(JwtError::Malformed)?;
    let raw: RawHeader<'_> = serde_json::from_slice(&json).map_err(|_| JwtError::Malformed)?;
    if raw.crit.is_some() {
        return Err(JwtError::Malformed);
    }
    let alg = ALLOWED_ALGORITHMS.iter().copied().find(|a| alg_name(*a) == raw.alg).ok_or(JwtError::Algorithm)?;
    Ok((alg, raw.kid.map(Cow::into_owned)))
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        _ => "",
    }
}

fn family(alg: Algorithm) -> AlgorithmFamily {
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => AlgorithmFamily::Ec,
        Algorithm::EdDSA => AlgorithmFamily::Ed,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => AlgorithmFamily::Hmac,
        _ => AlgorithmFamily::Rsa,
    }
}

/// One verification key from a JWKS.
pub struct Key {
    pub kid: Option<String>,
    /// The key's own `alg`, when the JWKS states it.
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
}

impl Key {
    fn accepts(&self, alg: Algorithm) -> bool {
        self.key.family() == family(alg) && self.alg.is_none_or(|a| a == alg)
    }
}

/// The keys of one JWKS document.
#[derive(Default)]
pub struct KeySet {
    pub keys: Vec<Key>,
}

impl KeySet {
    /// Reads a JWKS document. Keys that are not for signatures, symmetric, of an unsupported
    /// type or malformed are skipped; a document with no usable key is an error.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document = serde_json::from_slice(body).map_err(|e| format!("not a JWKS document: {e}"))?;
        let mut keys = Vec::new();
        for value in document.keys.into_iter().take(MAX_KEYS) {
            if value.get("use").and_then(|u| u.as_str()).is_some_and(|u| u != "sig") {
                continue;
            }
            let Ok(jwk) = serde_json::from_value::<Jwk>(value) else { continue };
            if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_) | AlgorithmParameters::Other(_)) {
                continue;
            }
            let alg = match jwk.common.key_algorithm {
                None => None,
                Some(a) => match Algorithm::try_from(a) {
                    Ok(alg) if ALLOWED_ALGORITHMS.contains(&alg) => Some(alg),
                    _ => continue,
                },
            };
            let Ok(key) = DecodingKey::from_jwk(&jwk) else { continue };
            keys.push(Key { kid: jwk.common.key_id.clone(), alg, key });
        }
        if keys.is_empty() {
            return Err("the JWKS document has no usable signing key".into());
        }
        Ok(Self { keys })
    }

    /// The key a token names. Without a `kid`, the first key that fits the algorithm.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> Result<&Key, JwtError> {
        match kid {
            Some(kid) => {
                let key = self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)).ok_or(JwtError::UnknownKey)?;
                if key.accepts(alg) { Ok(key) } else { Err(JwtError::KeyMismatch) }
            }
            None => self.keys.iter().find(|k| k.accepts(alg)).ok_or(JwtError::UnknownKey),
        }
    }
}

/// Validation rules for one (issuer, audience) pair: the allowed algorithms, `exp` required,
/// `nbf` checked, `iss` and `aud` required and compared, with `leeway` seconds of clock skew.
/// One rule set per key family, because jsonwebtoken wants every algorithm of a rule set to
/// belong to the family of the key.
pub struct Validations {
    rsa: Validation,
    ec: Validation,
    ed: Validation,
}

impl Validations {
    pub fn new(issuers: &[&str], audience: &str, leeway: u64) -> Self {
        let make = |family: AlgorithmFamily| {
            let mut v = Validation::new(Algorithm::RS256);
            v.algorithms = ALLOWED_ALGORITHMS.iter().copied().filter(|a| self::family(*a) == family).collect();
            v.leeway = leeway;
            v.validate_exp = true;
            v.validate_nbf = true;
            v.validate_aud = true;
            v.set_issuer(issuers);
            v.set_audience(&[audience]);
            v.set_required_spec_claims(&["exp", "iss", "aud"]);
            v
        };
        Self { rsa: make(AlgorithmFamily::Rsa), ec: make(AlgorithmFamily::Ec), ed: make(AlgorithmFamily::Ed) }
    }

    fn for_family(&self, family: AlgorithmFamily) -> Option<&Validation> {
        match family {
            AlgorithmFamily::Rsa => Some(&self.rsa),
            AlgorithmFamily::Ec => Some(&self.ec),
            AlgorithmFamily::Ed => Some(&self.ed),
            AlgorithmFamily::Hmac => None,
        }
    }
}

/// The `iss` claim, which must be a string.
#[derive(Deserialize)]
struct IssuerClaim<'a> {
    #[serde(borrow)]
    #[allow(dead_code)]
    iss: Cow<'a, str>,
}

/// Checks the signature with `key` and the claims with `validations`.
pub fn verify(token: &str, key: &Key, validations: &Validations) -> Result<Principal, JwtError> {
    let validation = validations.for_family(key.key.family()).ok_or(JwtError::KeyMismatch)?;
    match jsonwebtoken::decode::<Box<RawValue>>(token, &key.key, validation) {
        Ok(data) if !data.claims.get().starts_with('{') => Err(JwtError::Malformed),
        // RFC 7519 §4.1.1: `iss` is one string. jsonwebtoken also accepts a list that contains an
        // accepted issuer (`["https://other", issuer]`); found by the fuzz suite.
        Ok(data) if serde_json::from_str::<IssuerClaim<'_>>(data.claims.get()).is_err() => Err(JwtError::Issuer),
        Ok(data) => Ok(Principal::new(data.claims)),
        Err(e) => Err(match e.kind() {
            ErrorKind::InvalidSignature => JwtError::Signature,
            ErrorKind::ExpiredSignature => JwtError::Expired,
            ErrorKind::ImmatureSignature => JwtError::NotYetValid,
            ErrorKind::InvalidIssuer => JwtError::Issuer,
            ErrorKind::InvalidAudience => JwtError::Audience,
            ErrorKind::MissingRequiredClaim(_) => JwtError::MissingClaim,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm => {
                JwtError::Algorithm
            }
            ErrorKind::InvalidKeyFormat | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidEcdsaKey => {
                JwtError::KeyMismatch
            }
            _ => JwtError::Malformed,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn jwt_shape() {
        let jwt = format!("{}.{}.sig", b64(r#"{"alg":"RS256"}"#), b64("{}"));
        assert!(looks_like_jwt(&jwt));
        assert!(!looks_like_jwt("opaque-token"));
        assert!(!looks_like_jwt("a.b.c"), "three parts that are not a JWT header");
        assert!(!looks_like_jwt(&format!("{}.{}.x.y", b64(r#"{"alg":"RS256"}"#), b64("{}"))));
        assert!(!looks_like_jwt(&format!("{}.{}.sig", b64(r#"{"typ":"JWT"}"#), b64("{}"))));
    }

    #[test]
    fn header_algorithms() {
        let token = |alg: &str| format!("{}.{}.sig", b64(&format!(r#"{{"alg":"{alg}","kid":"k1"}}"#)), b64("{}"));
        assert_eq!(header(&token("RS256")), Ok((Algorithm::RS256, Some("k1".into()))));
        assert_eq!(header(&token("ES256")).map(|h| h.0), Ok(Algorithm::ES256));
        for refused in ["none", "None", "HS256", "HS512", "", "RS1"] {
            assert_eq!(header(&token(refused)), Err(JwtError::Algorithm), "{refused}");
        }
        assert_eq!(header("!!!.x.y"), Err(JwtError::Malformed));
        let crit = format!("{}.{}.sig", b64(r#"{"alg":"RS256","crit":["exp"],"exp":1}"#), b64("{}"));
        assert_eq!(header(&crit), Err(JwtError::Malformed), "unknown critical extensions are refused");
    }

    #[test]
    fn jwks_skips_symmetric_and_encryption_keys() {
        let doc = br#"{"keys":[
            {"kty":"oct","k":"c2VjcmV0","kid":"hmac"},
            {"kty":"RSA","use":"enc","n":"sXch","e":"AQAB","kid":"enc"},
            {"kty":"RSA","n":"sXchDaQebSXc","e":"AQAB","kid":"sig","alg":"RS256"},
            {"kty":"RSA","n":"sXchDaQebSXc","e":"AQAB","kid":"oaep","alg":"RSA-OAEP"}
        ]}"#;
        let set = KeySet::parse(doc).unwrap();
        assert_eq!(set.keys.len(), 1);
        assert!(set.find(Some("sig"), Algorithm::RS256).is_ok());
        assert_eq!(set.find(Some("sig"), Algorithm::PS256).err(), Some(JwtError::KeyMismatch));
        assert_eq!(set.find(Some("hmac"), Algorithm::RS256).err(), Some(JwtError::UnknownKey));
        assert_eq!(set.find(None, Algorithm::ES256).err(), Some(JwtError::UnknownKey));
        assert!(KeySet::parse(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#).is_err());
        assert!(KeySet::parse(b"[]").is_err());
    }
}
