//! A loopback OpenID provider made in the test: real RS256 keys (aws-lc-rs), real HTTP discovery,
//! JWKS and RFC 7662 introspection endpoints on 127.0.0.1, with switches to take the JWKS or the
//! introspection endpoint down and counters of the requests they served.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

pub const CLIENT_ID: &str = "toolbox-rs";
pub const CLIENT_SECRET: &str = "s3cret:with spaces&symbols";

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An RSA key pair with its `kid`.
pub struct SigningKey {
    pub kid: String,
    pair: KeyPair,
}

impl SigningKey {
    pub fn generate(kid: &str) -> Arc<Self> {
        Arc::new(Self { kid: kid.into(), pair: KeyPair::generate(KeySize::Rsa2048).expect("RSA key") })
    }

    pub fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// The public key as PEM text: what a key-confusion attacker uses as an HMAC secret.
    pub fn public_pem(&self) -> String {
        let der = self.pair.public_key().as_der().expect("SPKI");
        let body = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
    }

    /// A compact JWS with this key: RS256 over `header.claims`.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let message = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message.as_bytes(), &mut signature).expect("sign");
        format!("{message}.{}", b64(signature))
    }

    pub fn jwt(&self, claims: &Value) -> String {
        self.sign(&json!({"alg": "RS256", "typ": "at+jwt", "kid": self.kid}), claims)
    }
}

#[derive(Default)]
pub struct IssuerState {
    pub url: Mutex<String>,
    /// Published in the JWKS.
    pub keys: Mutex<Vec<Arc<SigningKey>>>,
    /// Opaque tokens and their introspection answers.
    pub opaque: Mutex<HashMap<String, Value>>,
    pub jwks_down: AtomicBool,
    pub introspection_down: AtomicBool,
    pub jwks_hits: AtomicUsize,
    pub introspection_hits: AtomicUsize,
    /// Introspection requests that came without the right client credentials.
    pub unauthenticated_introspections: AtomicUsize,
}

pub struct Issuer {
    pub url: String,
    pub state: Arc<IssuerState>,
    pub key: Arc<SigningKey>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Issuer {
    /// Starts on a free port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener, SigningKey::generate("key-1")).await
    }

    /// Starts on a port chosen earlier (a provider that comes up late).
    pub async fn start_on(port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind the reserved port");
        Self::serve(listener, SigningKey::generate("key-1")).await
    }

    async fn serve(listener: tokio::net::TcpListener, key: Arc<SigningKey>) -> Self {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(IssuerState::default());
        *state.url.lock().unwrap() = url.clone();
        state.keys.lock().unwrap().push(key.clone());
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/introspect", post(introspect))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, state, key, task }
    }

    /// Claims of a good access token for `audience` with `scope`.
    pub fn claims(&self, audience: &str, scope: &str) -> Value {
        let now = now();
        json!({
            "iss": self.url, "aud": audience, "sub": "alice", "client_id": "agent",
            "scope": scope, "iat": now, "exp": now + 600, "jti": format!("{}", now)
        })
    }

    /// Registers an opaque token and its introspection answer.
    pub fn opaque(&self, token: &str, answer: Value) {
        self.state.opaque.lock().unwrap().insert(token.into(), answer);
    }

    pub fn publish(&self, key: Arc<SigningKey>) {
        self.state.keys.lock().unwrap().push(key);
    }
}

async fn discovery(State(state): State<Arc<IssuerState>>) -> Response {
    let url = state.url.lock().unwrap().clone();
    json_response(
        StatusCode::OK,
        json!({
            "issuer": url,
            "jwks_uri": format!("{url}/jwks"),
            "introspection_endpoint": format!("{url}/introspect"),
            "token_endpoint": format!("{url}/token"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }),
    )
}

fn json_response(status: StatusCode, value: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

async fn jwks(State(state): State<Arc<IssuerState>>) -> Response {
    state.jwks_hits.fetch_add(1, Ordering::SeqCst);
    if state.jwks_down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys: Vec<Value> = state.keys.lock().unwrap().iter().map(|k| k.jwk()).collect();
    json_response(StatusCode::OK, json!({ "keys": keys }))
}

/// `application/x-www-form-urlencoded` decoding, enough for the test.
pub fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

async fn introspect(State(state): State<Arc<IssuerState>>, headers: HeaderMap, body: Bytes) -> Response {
    state.introspection_hits.fetch_add(1, Ordering::SeqCst);
    if state.introspection_down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    // RFC 6749 §2.3.1: Basic with the form-encoded id and secret.
    let expected = format!("{}:{}", CLIENT_ID, CLIENT_SECRET);
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            pair.split_once(':').map(|(id, secret)| format!("{}:{}", form_decode(id), form_decode(secret)))
        });
    if sent.as_deref() != Some(expected.as_str()) {
        state.unauthenticated_introspections.fetch_add(1, Ordering::SeqCst);
        return json_response(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"}));
    }
    let text = String::from_utf8_lossy(&body).to_string();
    let token = text
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| form_decode(v))
        .unwrap_or_default();
    let answer = state.opaque.lock().unwrap().get(&token).cloned().unwrap_or_else(|| json!({"active": false}));
    json_response(StatusCode::OK, answer)
}
