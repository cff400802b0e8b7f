//! What authorization costs per request (ignored by default; run in release):
//!
//!   cargo test --release -p toolbox-runtime --test auth cost -- --ignored --nocapture
//!
//! Prints microseconds per operation: the bare RS256 signature check, the whole bearer-token
//! check (header, key lookup, signature, claims, scopes), and a `tools/call` through the router
//! with a JWT against the same call to the same toolbox served with auth disabled.

use crate::issuer::Issuer;
use crate::*;
use axum::http::{HeaderMap, HeaderValue, header};
use serde_json::json;
use std::time::Instant;

const N: u32 = 2000;

async fn per_op<F, Fut>(mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..N / 10 {
        f().await;
    }
    let start = Instant::now();
    for _ in 0..N {
        f().await;
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(N)
}

#[tokio::test(flavor = "current_thread")]
#[ignore]
async fn cost_of_a_jwt_authenticated_call() {
    let issuer = Issuer::start().await;
    let google = Issuer::start().await;
    let guarded = guarded_app(&issuer, &google).await;
    // The same toolbox served with no auth service at all: the difference is the cost of auth.
    let open = {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("open.db").display().to_string();
        let sources = toolbox_runtime::sources::Sources::resolve_with(&guarded::TOOLBOX, &|name| {
            (name == "AUTH_TEST_DB").then(|| db.clone())
        })
        .unwrap();
        let mcp = toolbox_runtime::mcp::Mcp::new(&guarded::TOOLBOX, std::sync::Arc::new(sources));
        let config = toolbox_runtime::http::HttpConfig {
            allowed_hosts: toolbox_runtime::http::HostRule::Loopback,
            allowed_origins: toolbox_runtime::http::OriginRule::Loopback,
            max_body_bytes: 1 << 20,
        };
        let auth = toolbox_runtime::auth::Auth::disabled();
        let state = std::sync::Arc::new(toolbox_runtime::http::AppState { mcp, config, auth });
        (toolbox_runtime::http::router(state.clone()), state, dir)
    };
    let open = App { router: open.0, state: open.1, _dir: open.2 };
    let token = issuer.key.jwt(&issuer.claims(RESOURCE, "mcp:access bookings:read bookings:write"));

    // The signature check alone, with jsonwebtoken's aws-lc backend.
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(issuer.key.jwk()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let (message, signature) = token.rsplit_once('.').unwrap();
    let signature_only = per_op(|| async {
        assert!(
            jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, jsonwebtoken::Algorithm::RS256).unwrap()
        );
    })
    .await;

    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    let auth = &guarded.state.auth;
    let bearer_check = per_op(|| async {
        assert!(auth.authenticate(&headers).await.is_ok());
    })
    .await;
    let disabled = toolbox_runtime::auth::Auth::disabled();
    let no_auth = per_op(|| async {
        assert!(disabled.authenticate(&headers).await.is_ok());
    })
    .await;

    // The two calls alternate in rounds (the machine is shared); the best round of each counts.
    let body = call_body("list_flights", json!({}));
    let bearer = format!("Bearer {token}");
    let (mut authenticated_call, mut anonymous_call) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let a = per_op(|| async {
            assert_eq!(post(&guarded, &[("authorization", bearer.as_str())], &body).await.status, 200);
        })
        .await;
        let b = per_op(|| async {
            assert_eq!(post(&open, &[("authorization", bearer.as_str())], &body).await.status, 200);
        })
        .await;
        authenticated_call = authenticated_call.min(a);
        anonymous_call = anonymous_call.min(b);
    }

    // The method layer alone on both apps, with no claims: the two databases should cost the same.
    let bytes = body.to_string().into_bytes();
    let transport = || {
        toolbox_runtime::mcp::Transport::Http(toolbox_runtime::mcp::Headers {
            protocol_version: Some("2025-11-25"),
            ..Default::default()
        })
    };
    let ts = guarded::TOOLBOX.toolset(None).unwrap();
    let (mut m_guarded, mut m_open) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        m_guarded = m_guarded.min(
            per_op(|| async {
                let claims = &toolbox_runtime::args::NoClaims;
                assert_eq!(guarded.state.mcp.handle_body(ts, &bytes, transport(), claims).await.status, 200);
            })
            .await,
        );
        m_open = m_open.min(
            per_op(|| async {
                let claims = &toolbox_runtime::args::NoClaims;
                assert_eq!(open.state.mcp.handle_body(ts, &bytes, transport(), claims).await.status, 200);
            })
            .await,
        );
    }
    println!("µs per operation ({N} iterations, one thread):");
    println!("  method layer only (no claims), the JWT app / the open app     {m_guarded:8.2} / {m_open:.2}");
    println!("  RS256 signature check alone (jsonwebtoken::crypto::verify)  {signature_only:8.2}");
    println!("  bearer check: header, kid lookup, signature, claims, scopes   {bearer_check:8.2}");
    println!("    of which beyond the signature check                       {:8.2}", bearer_check - signature_only);
    println!("  Auth::disabled().authenticate (no auth service)               {no_auth:8.3}");
    println!("  tools/call list_flights through the router, auth disabled     {anonymous_call:8.2}");
    println!("  tools/call list_flights through the router, with a JWT        {authenticated_call:8.2}");
}
