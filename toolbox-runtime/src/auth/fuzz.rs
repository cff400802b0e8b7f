//! Property-based fuzzing (proptest) of everything authorization reads from outside: the
//! `Authorization` header, token text (the JWT shape test, the unverified header), JWKS
//! documents, signed claims, introspection answers and the scopes of a principal. Whatever they
//! hold, nothing panics and a malformed input is a rejection, never access.
//!
//! Signed claims are fuzzed with a real Ed25519 key made in the test, so that arbitrary payloads
//! get past the signature to the claim checks; tokens signed by nobody must always be refused.
//!
//! Each property runs a fixed number of cases in `cargo test`; `TOOLBOX_FUZZ_CASES=100000` runs
//! that many instead.

use super::introspect::{CacheLimits, Flavor, Introspector, Method};
use super::jwt::{self, KeySet, Validations};
use super::principal::Principal;
use super::provider::Fetched;
use crate::fuzz::{config, json};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ISSUER: &str = "https://as.example.com";
const AUDIENCE: &str = "https://toolbox.example.com/mcp";
const LEEWAY: u64 = 30;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The test's signing key and the key set that publishes it.
struct Signer {
    pair: Ed25519KeyPair,
    keys: KeySet,
    validations: Validations,
}

static SIGNER: LazyLock<Signer> = LazyLock::new(|| {
    let pair = Ed25519KeyPair::generate().expect("an Ed25519 key");
    let jwks = json!({"keys": [
        {"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref()), "kid": "k1", "alg": "EdDSA", "use": "sig"}
    ]});
    let keys = KeySet::parse(jwks.to_string().as_bytes()).expect("the test JWKS");
    Signer { pair, keys, validations: Validations::new(&[ISSUER], AUDIENCE, LEEWAY) }
});

impl Signer {
    fn sign(&self, header: &[u8], payload: &[u8]) -> String {
        let message = format!("{}.{}", b64(header), b64(payload));
        let signature = self.pair.sign(message.as_bytes());
        format!("{message}.{}", b64(signature.as_ref()))
    }
}

/// Headers and payloads that are almost right: duplicate members, a `crit`, trailing text, an
/// array where an object belongs.
const ODD_PARTS: &[&[u8]] = &[
    br#"{"alg":"EdDSA","alg":"RS256"}"#,
    br#"{"alg":"EdDSA","kid":"k1","crit":[]}"#,
    br#"{"alg":"EdDSA","kid":"k1"} "#,
    br#"{"exp":1,"exp":99999999999,"iss":"https://as.example.com","aud":"https://toolbox.example.com/mcp"}"#,
    br#"[99999999999,null,"s","https://as.example.com","https://toolbox.example.com/mcp"]"#,
    br#"[true,99999999999,null,"https://as.example.com","https://toolbox.example.com/mcp"]"#,
    b"null",
    b"",
];

/// Header and payload texts: structured JSON, any JSON, or any bytes.
fn part(structured: BoxedStrategy<Value>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => structured.prop_map(|v| v.to_string().into_bytes()),
        2 => json().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..40),
        1 => select(ODD_PARTS).prop_map(<[u8]>::to_vec),
    ]
}

fn jwt_header() -> BoxedStrategy<Value> {
    (
        prop_oneof![6 => Just("EdDSA"), 1 => select(&["RS256", "ES256", "HS256", "none", "", "EDDSA"][..])],
        prop::option::weighted(0.9, prop_oneof![6 => Just(json!("k1")), 1 => Just(json!("k2")), 1 => json()]),
        prop::option::weighted(0.2, json()),
    )
        .prop_map(|(alg, kid, extra)| {
            let mut h = json!({"alg": alg, "typ": "at+jwt"});
            if let Some(kid) = kid {
                h["kid"] = kid;
            }
            if let Some(extra) = extra {
                h["x"] = extra;
            }
            h
        })
        .boxed()
}

/// Numbers around the edges of time, and values of the wrong type.
fn time() -> impl Strategy<Value = Value> {
    let now = now() as i64;
    prop_oneof![
        4 => (600..100_000i64).prop_map(move |d| json!(now + d)),
        1 => (-100_000..100_000i64).prop_map(move |d| json!(now + d)),
        1 => (-100_000..100_000i64).prop_map(move |d| json!((now + d) as f64 + 0.5)),
        1 => (-100_000..100_000i64).prop_map(move |d| json!((now + d).to_string())),
        1 => select(&[0i64, -1, i64::MAX, i64::MIN][..]).prop_map(Value::from),
        1 => Just(json!(u64::MAX)),
        1 => Just(json!(1e300)),
        1 => json(),
    ]
}

fn text_or_list(expected: &'static str) -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => Just(json!(expected)),
        1 => Just(json!(format!("{expected}/"))),
        2 => Just(json!([expected])),
        2 => Just(json!(["https://other", expected])),
        1 => Just(json!(["https://other"])),
        1 => Just(json!([])),
        1 => json(),
    ]
}

fn scope_claim() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z:]{0,6}( [a-z:]{0,6}){0,3}".prop_map(Value::from),
        prop::collection::vec("[a-z:]{0,6}|[a-z]{1,3} [a-z]{1,3}|\\PC{0,4}", 0..4).prop_map(|v| json!(v)),
        json(),
    ]
}

/// A claims object with every claim the checks read, each sometimes missing or malformed.
fn claims() -> BoxedStrategy<Value> {
    (
        prop::option::weighted(0.9, time()),
        prop::option::weighted(0.3, time()),
        prop::option::weighted(0.9, text_or_list(ISSUER)),
        prop::option::weighted(0.9, text_or_list(AUDIENCE)),
        prop::option::of(scope_claim()),
        prop::option::of(scope_claim()),
        prop::option::of(json()),
    )
        .prop_map(|(exp, nbf, iss, aud, scope, scp, sub)| {
            let mut c = json!({});
            for (name, value) in
                [("exp", exp), ("nbf", nbf), ("iss", iss), ("aud", aud), ("scope", scope), ("scp", scp), ("sub", sub)]
            {
                if let Some(v) = value {
                    c[name] = v;
                }
            }
            c
        })
        .boxed()
}

/// What RFC 7519 and the configuration allow: a JSON object, `exp` a number not past (with the
/// leeway), `nbf` absent or not in the future, `iss` the issuer, `aud` the audience or a list
/// holding it. Only tokens like this may be accepted.
fn acceptable_claims(payload: &[u8]) -> bool {
    let Ok(Value::Object(c)) = serde_json::from_slice::<Value>(payload) else { return false };
    let now = now() as f64;
    let date = |v: Option<&Value>| v.and_then(Value::as_f64).filter(|n| *n >= 0.0);
    let exp_ok = date(c.get("exp")).is_some_and(|e| e.round() + LEEWAY as f64 >= now);
    let nbf_ok = match c.get("nbf") {
        None | Some(Value::Null) => true,
        v => date(v).is_some_and(|n| n.round() <= now + LEEWAY as f64),
    };
    let iss_ok = c.get("iss").and_then(Value::as_str) == Some(ISSUER);
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == AUDIENCE,
        Some(Value::Array(list)) => list.iter().all(Value::is_string) && list.iter().any(|a| a == AUDIENCE),
        _ => false,
    };
    exp_ok && nbf_ok && iss_ok && aud_ok
}

/// Claims any verifier must accept: plainly valid, well inside the time bounds, written as
/// serde_json writes them (so no member twice: a token with two `exp` may well be refused).
fn plainly_valid(payload: &[u8]) -> bool {
    let Ok(Value::Object(c)) = serde_json::from_slice::<Value>(payload) else { return false };
    if Value::Object(c.clone()).to_string().as_bytes() != payload {
        return false;
    }
    let now = now() as i64;
    c.get("exp").and_then(Value::as_i64).is_some_and(|e| e > now + 120)
        && c.get("nbf").is_none_or(|n| n.as_i64().is_some_and(|n| n < now - 120))
        && c.get("iss") == Some(&json!(ISSUER))
        && (c.get("aud") == Some(&json!(AUDIENCE)) || c.get("aud") == Some(&json!([AUDIENCE])))
        // RFC 7519 §4.1.2: `sub` is a string; a token with another `sub` may well be refused.
        && c.get("sub").is_none_or(Value::is_string)
}

/// A header naming the test's key and nothing else.
fn plain_header(header: &[u8]) -> bool {
    serde_json::from_slice::<Value>(header).is_ok_and(|h| {
        h.get("alg") == Some(&json!("EdDSA"))
            && h.get("kid") == Some(&json!("k1"))
            && h.as_object()
                .is_some_and(|o| o.iter().all(|(k, v)| (k == "alg" || k == "kid" || k == "typ") && v.is_string()))
    })
}

/// Scope tokens of a claims object, as RFC 6749 defines them: `scope` split on blanks, or the
/// entries of a `scp` list that are single tokens.
fn granted_scopes(claims: &Value) -> Vec<String> {
    let claim = claims.get("scope").filter(|v| !v.is_null()).or_else(|| claims.get("scp"));
    match claim {
        Some(Value::String(s)) => s.split_ascii_whitespace().map(str::to_string).collect(),
        Some(Value::Array(list)) if list.iter().all(Value::is_string) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn introspector(flavor: Flavor) -> Introspector {
    Introspector::new(
        flavor,
        None,
        Method::Post,
        "token".into(),
        None,
        AUDIENCE.into(),
        LEEWAY,
        CacheLimits::default(),
        reqwest::Client::new(),
        Default::default(),
    )
}

static RFC7662: LazyLock<Introspector> = LazyLock::new(|| introspector(Flavor::Rfc7662));
static TOKENINFO: LazyLock<Introspector> = LazyLock::new(|| introspector(Flavor::GoogleTokenInfo));

/// An introspection answer: the fields RFC 7662 and tokeninfo define, each sometimes malformed.
fn answer() -> impl Strategy<Value = Vec<u8>> {
    let structured = (
        prop::option::of(prop_oneof![Just(json!(true)), Just(json!(false)), json()]),
        claims(),
        prop::option::of(prop_oneof![Just(json!(AUDIENCE)), json()]),
    )
        .prop_map(|(active, mut c, azp)| {
            if let Some(a) = active {
                c["active"] = a;
            }
            if let Some(azp) = azp {
                c["azp"] = azp;
            }
            c
        })
        .boxed();
    part(structured)
}

proptest! {
    #![proptest_config(config(256))]

    /// `Authorization` values: any bytes are a token of b64token characters or a rejection.
    #[test]
    fn bearer_header_values(raw in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        "(Bearer|bearer|BEARER|Basic|)( {0,2})[A-Za-z0-9._~+/=\\- \"]{0,30}".prop_map(String::into_bytes),
    ]) {
        let Ok(value) = HeaderValue::from_bytes(&raw) else { return Ok(()) };
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value);
        if let Ok(token) = super::request::bearer_token(&headers) {
            prop_assert!(!token.is_empty() && token.len() <= 16 * 1024);
            prop_assert!(token.trim_end_matches('=').bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)));
        }
    }

    /// Token text signed by nobody: the shape test, the unverified header and the key choice
    /// never panic, and verification always refuses it.
    #[test]
    fn unsigned_tokens_are_refused(
        header in part(jwt_header()),
        payload in part(claims()),
        signature in prop_oneof![prop::collection::vec(any::<u8>(), 0..80), Just(vec![0; 64])],
        raw in prop::option::of("\\PC{0,40}|[A-Za-z0-9_\\-.=]{0,60}"),
    ) {
        let token = raw.unwrap_or_else(|| format!("{}.{}.{}", b64(&header), b64(&payload), b64(&signature)));
        let _ = jwt::looks_like_jwt(&token);
        if let Ok((alg, kid)) = jwt::header(&token) {
            prop_assert!(jwt::ALLOWED_ALGORITHMS.contains(&alg));
            if let Ok(key) = SIGNER.keys.find(kid.as_deref(), alg) {
                prop_assert!(jwt::verify(&token, key, &SIGNER.validations).is_err());
            }
        }
    }

    /// Signed tokens with any header and payload: accepted only when the claims are acceptable,
    /// always when they are plainly valid; a principal's scopes are the tokens it was granted.
    #[test]
    fn signed_claims_are_judged(header in part(jwt_header()), payload in part(claims())) {
        let token = SIGNER.sign(&header, &payload);
        let _ = jwt::looks_like_jwt(&token);
        let Ok((alg, kid)) = jwt::header(&token) else { return Ok(()) };
        let Ok(key) = SIGNER.keys.find(kid.as_deref(), alg) else { return Ok(()) };
        let verdict = jwt::verify(&token, key, &SIGNER.validations);
        let text = String::from_utf8_lossy(&payload);
        match &verdict {
            Ok(principal) => {
                prop_assert!(acceptable_claims(&payload), "accepted {text}");
                let claims: Value = serde_json::from_slice(&payload).unwrap_or_default();
                let granted = granted_scopes(&claims);
                for s in principal.scopes().split(' ').filter(|s| !s.is_empty()) {
                    prop_assert!(granted.iter().any(|g| g == s), "scope {s:?} granted by {text}");
                }
                prop_assert!(!principal.has_scope(""));
                let _ = principal.claim("sub");
            }
            Err(e) => prop_assert!(!(plain_header(&header) && plainly_valid(&payload)), "refused ({e:?}) {text}"),
        }
        // The same token with its signature changed is refused.
        let (message, signature) = token.rsplit_once('.').unwrap_or_default();
        let first = if signature.starts_with('A') { "B" } else { "A" };
        let forged = format!("{message}.{first}{}", signature.get(1..).unwrap_or_default());
        prop_assert!(jwt::verify(&forged, key, &SIGNER.validations).is_err());
    }

    /// JWKS documents: any document reads as usable keys or an error; tokens checked against
    /// whatever keys it held never panic.
    #[test]
    fn jwks_documents(document in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..60),
        json().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(jwk(), 0..4).prop_map(|keys| json!({"keys": keys}).to_string().into_bytes()),
    ], header in part(jwt_header()), payload in part(claims())) {
        let token = format!("{}.{}.{}", b64(&header), b64(&payload), b64([7u8; 64]));
        if let Ok(set) = KeySet::parse(&document) {
            prop_assert!(!set.keys.is_empty());
            if let Ok((alg, kid)) = jwt::header(&token) {
                if let Ok(key) = set.find(kid.as_deref(), alg) {
                    prop_assert!(jwt::verify(&token, key, &SIGNER.validations).is_err());
                }
            }
        }
    }

    /// Principals from any claims object: scopes are only the tokens granted, `""` never is.
    #[test]
    fn principal_scopes(claims in claims(), asked in "[a-z:]{0,6}|\\PC{0,4}") {
        let text = claims.to_string();
        let principal = Principal::new(RawValue::from_string(text.clone()).expect("JSON"));
        let granted = granted_scopes(&claims);
        prop_assert_eq!(principal.has_scope(&asked), granted.contains(&asked), "{} in {}", asked, text);
        let _ = principal.claim(&asked);
    }

    /// Introspection answers: any status and body is a verdict or "unavailable", an active one
    /// only for a JSON object that says so, for this audience, not expired.
    #[test]
    fn introspection_answers(
        status in select(&[200u16, 200, 200, 400, 401, 500][..]),
        body in answer(),
        google in any::<bool>(),
    ) {
        let introspector = if google { &*TOKENINFO } else { &*RFC7662 };
        let fetched = Fetched { status, body: body.clone(), max_age: None };
        let (verdict, ttl) = introspector.judge(&fetched, Some(ISSUER));
        if let Ok(principal) = verdict {
            let text = String::from_utf8_lossy(&body);
            let Ok(Value::Object(a)) = serde_json::from_slice::<Value>(&body) else {
                return Err(TestCaseError::fail(format!("accepted a body that is not an object: {text}")));
            };
            prop_assert_eq!(status, 200);
            let active = a.get("active");
            prop_assert!(if google { active != Some(&json!(false)) } else { active == Some(&json!(true)) }, "{}", text);
            let aud = |v: Option<&Value>| match v {
                Some(Value::String(s)) => s == AUDIENCE,
                Some(Value::Array(l)) => l.iter().any(|x| x == AUDIENCE),
                _ => false,
            };
            prop_assert!(aud(a.get("aud")) || (google && a.get("azp") == Some(&json!(AUDIENCE))), "{}", text);
            prop_assert!(ttl.is_some_and(|t| t <= Duration::from_secs(300)));
            let _ = (principal.scopes(), principal.claim("sub"));
        }
    }
}

/// A JWK of any type, with components that are sometimes not keys at all.
fn jwk() -> impl Strategy<Value = Value> {
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..4),
        prop::collection::vec(any::<u8>(), 30..34),
        prop::collection::vec(any::<u8>(), 250..260),
    ];
    (
        select(&["RSA", "EC", "OKP", "oct", "", "rsa"][..]),
        select(&["P-256", "P-384", "P-521", "Ed25519", "Ed448", "X25519", ""][..]),
        prop::option::of(select(&["RS256", "ES256", "EdDSA", "HS256", "RSA-OAEP", "PS512", "none"][..])),
        prop::option::of(select(&["sig", "enc", ""][..])),
        bytes.clone(),
        bytes,
        prop::option::of(json()),
    )
        .prop_map(|(kty, crv, alg, usage, a, b, extra)| {
            let mut k = json!({"kty": kty, "crv": crv, "kid": "k1", "n": b64(&a), "e": b64(&b), "x": b64(&a), "y": b64(&b), "k": b64(&a)});
            if let Some(alg) = alg {
                k["alg"] = json!(alg);
            }
            if let Some(u) = usage {
                k["use"] = json!(u);
            }
            if let Some(extra) = extra {
                k["x5c"] = extra;
            }
            k
        })
}

/// Inputs that were let through once, kept as they were found, and neighbours of them.
mod regressions {
    use super::*;

    fn signed(claims: Value) -> Result<Principal, jwt::JwtError> {
        let token = SIGNER.sign(br#"{"alg":"EdDSA","kid":"k1"}"#, claims.to_string().as_bytes());
        let (alg, kid) = jwt::header(&token)?;
        jwt::verify(&token, SIGNER.keys.find(kid.as_deref(), alg)?, &SIGNER.validations)
    }

    /// RFC 7519: `iss` is one string. jsonwebtoken accepts a list that contains the issuer.
    #[test]
    fn an_issuer_list_is_refused() {
        let exp = now() + 600;
        assert!(signed(json!({"exp": exp, "iss": ISSUER, "aud": AUDIENCE})).is_ok());
        let listed = json!({"exp": exp, "iss": ["https://other", ISSUER], "aud": AUDIENCE});
        assert!(signed(listed).is_err());
    }

    /// A `scp` list entry with a blank inside granted each word; a principal without scopes
    /// granted `""`.
    #[test]
    fn scope_entries_are_single_tokens() {
        let p = |claims: Value| Principal::new(RawValue::from_string(claims.to_string()).unwrap());
        let listed = p(json!({"scp": ["read write", "admin", ""]}));
        assert!(!listed.has_scope("read") && !listed.has_scope("write") && listed.has_scope("admin"));
        assert!(!listed.has_scope(""));
        assert!(!p(json!({})).has_scope(""));
    }

    /// serde reads a struct from an array of its fields in order: an introspection answer
    /// `[true, exp, nbf, iss, aud]` was taken for an active token.
    #[test]
    fn an_introspection_answer_that_is_an_array_is_refused() {
        let exp = now() + 600;
        let body = format!(r#"[true,{exp},null,"{ISSUER}","{AUDIENCE}"]"#).into_bytes();
        let (verdict, _) = RFC7662.judge(&Fetched { status: 200, body, max_age: None }, Some(ISSUER));
        assert_eq!(verdict.err(), Some(super::super::introspect::IntrospectionError::Unavailable));
        let body = format!(r#" {{"active":true,"exp":{exp},"iss":"{ISSUER}","aud":"{AUDIENCE}"}}"#).into_bytes();
        assert!(RFC7662.judge(&Fetched { status: 200, body, max_age: None }, Some(ISSUER)).0.is_ok());
    }
}
