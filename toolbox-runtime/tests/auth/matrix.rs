//! The authorization matrix against the loopback issuer: each case asserts the status, every
//! parameter of the `WWW-Authenticate` challenge, and the JSON-RPC body.

use crate::issuer::{Issuer, SigningKey, b64, now};
use crate::*;
use aws_lc_rs::hmac;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use toolbox_runtime::args::NoClaims;
use toolbox_runtime::mcp::Transport;

const ALL: &str = "mcp:access bookings:read bookings:write";

async fn setup() -> (Issuer, Issuer, App) {
    let issuer = Issuer::start().await;
    let google = Issuer::start().await;
    let app = guarded_app(&issuer, &google).await;
    (issuer, google, app)
}

fn bare_challenge() -> std::collections::BTreeMap<String, String> {
    params(&[("resource_metadata", METADATA), ("scope", "mcp:access")])
}

/// 401 with `error="invalid_token"` and this description, a body with `id: null`, and the
/// token nowhere in the answer.
fn assert_invalid_token(r: &Reply, description: &str, token: &str) {
    assert_eq!(r.status, 401, "{}", r.text);
    let (scheme, p) = r.challenge();
    assert_eq!(scheme, "Bearer");
    assert_eq!(
        p,
        params(&[
            ("resource_metadata", METADATA),
            ("scope", "mcp:access"),
            ("error", "invalid_token"),
            ("error_description", description)
        ])
    );
    assert_eq!(r.error(-401), description);
    assert_eq!(r.body["id"], Value::Null);
    if token.len() > 8 {
        assert!(!r.text.contains(token), "the token is echoed in the body");
        let challenge = r.headers["www-authenticate"].to_str().unwrap();
        assert!(!challenge.contains(token), "the token is echoed in the challenge");
    }
}

#[tokio::test]
async fn no_token_or_another_scheme_gets_the_bare_challenge() {
    let (_issuer, _google, app) = setup().await;
    let initialize =
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}});
    for (headers, body) in [
        (vec![], call_body("list_flights", json!({}))),
        (vec![], initialize.clone()),
        (vec![("authorization", "Basic dXNlcjpwYXNz")], initialize.clone()),
        (vec![("authorization", "Token abc")], call_body("list_flights", json!({}))),
    ] {
        let r = post(&app, &headers, &body).await;
        assert_eq!(r.status, 401, "{headers:?}: {}", r.text);
        let (scheme, p) = r.challenge();
        assert_eq!((scheme.as_str(), p), ("Bearer", bare_challenge()), "no error code without a bearer token");
        assert_eq!(r.error(-401), "this server requires a bearer token; see the WWW-Authenticate header");
        assert_eq!(r.body["id"], Value::Null);
    }
    // Not even a malformed body is read without credentials.
    let r = send(
        &app.router,
        axum::http::Request::post("/mcp")
            .header("host", "127.0.0.1:5000")
            .header("content-type", "text/plain")
            .body(axum::body::Body::from("{"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn malformed_tokens() {
    let (_issuer, _google, app) = setup().await;
    for value in ["Bearer", "Bearer  ", "Bearer a b", "Bearer tok\"en", "Bearer tok,en"] {
        let r = post(&app, &[("authorization", value)], &call_body("list_flights", json!({}))).await;
        assert_invalid_token(&r, "the token is malformed", "");
    }
    let not_json = format!("{}.{}.{}", b64(r#"{"alg":"RS256","kid":"key-1"}"#), b64("not json"), b64("sig"));
    let r = call(&app, &not_json, "list_flights", json!({})).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.challenge().1["error"], "invalid_token");
}

#[tokio::test]
async fn forged_and_invalid_jwts_are_refused() {
    let (issuer, _google, app) = setup().await;
    let good = issuer.claims(RESOURCE, ALL);
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": "key-1"});

    // Bad signature: another key, claiming to be key-1.
    let impostor = SigningKey::generate("key-1");
    let token = impostor.sign(&header, &good);
    assert_invalid_token(
        &call(&app, &token, "list_flights", json!({})).await,
        "the token's signature is invalid",
        &token,
    );

    // A payload changed after signing.
    let real = issuer.key.jwt(&good);
    let mut parts: Vec<String> = real.split('.').map(str::to_string).collect();
    parts[1] = b64(
        json!({"iss": issuer.url, "aud": RESOURCE, "sub": "mallory", "scope": ALL, "exp": now() + 600}).to_string()
    );
    let token = parts.join(".");
    assert_invalid_token(
        &call(&app, &token, "list_flights", json!({})).await,
        "the token's signature is invalid",
        &token,
    );

    // alg: none, with and without a signature.
    for sig in ["", "AAAA"] {
        let token = format!("{}.{}.{sig}", b64(r#"{"alg":"none","kid":"key-1"}"#), b64(good.to_string()));
        let r = call(&app, &token, "list_flights", json!({})).await;
        assert_invalid_token(&r, "the token's signing algorithm is not accepted", &token);
    }

    // HS256 "signed" with the provider's public key (key confusion).
    for secret in [issuer.key.public_pem().into_bytes(), issuer.key.jwk()["n"].as_str().unwrap().as_bytes().to_vec()] {
        let message = format!("{}.{}", b64(r#"{"alg":"HS256","typ":"JWT","kid":"key-1"}"#), b64(good.to_string()));
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &secret), message.as_bytes());
        let token = format!("{message}.{}", b64(tag.as_ref()));
        let r = call(&app, &token, "list_flights", json!({})).await;
        assert_invalid_token(&r, "the token's signing algorithm is not accepted", &token);
    }

    let cases: [(&str, Value, &str); 6] = [
        ("iss", json!("http://127.0.0.1:1"), "the token was issued by another authorization server"),
        ("aud", json!("http://127.0.0.1:5000/other"), "the token was not issued for this resource"),
        ("aud", json!(["corp-apps", "https://elsewhere/mcp"]), "the token was not issued for this resource"),
        ("exp", json!(now() - 3600), "the token has expired"),
        ("nbf", json!(now() + 3600), "the token is not valid yet"),
        ("exp", Value::Null, "the token lacks a required claim (exp, iss or aud)"),
    ];
    for (claim, value, description) in cases {
        let mut claims = good.clone();
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(claim);
        } else {
            claims[claim] = value;
        }
        let token = issuer.key.jwt(&claims);
        assert_invalid_token(&call(&app, &token, "list_flights", json!({})).await, description, &token);
    }

    // Within the leeway (30 s): accepted.
    let mut claims = good.clone();
    claims["exp"] = json!(now() - 10);
    claims["nbf"] = json!(now() + 10);
    assert_eq!(call(&app, &issuer.key.jwt(&claims), "list_flights", json!({})).await.status, 200);
    // An audience list that contains the resource: accepted.
    claims["aud"] = json!(["corp-apps", RESOURCE]);
    assert_eq!(call(&app, &issuer.key.jwt(&claims), "list_flights", json!({})).await.status, 200);
}

#[tokio::test]
async fn missing_server_scope_is_403() {
    let (issuer, _google, app) = setup().await;
    for scope in ["", "bookings:read bookings:write", "mcp:accessx", "MCP:ACCESS"] {
        let token = issuer.key.jwt(&issuer.claims(RESOURCE, scope));
        let r = call(&app, &token, "list_flights", json!({})).await;
        assert_eq!(r.status, 403, "{scope}: {}", r.text);
        let (scheme, p) = r.challenge();
        assert_eq!(scheme, "Bearer");
        assert_eq!(
            p,
            params(&[
                ("error", "insufficient_scope"),
                ("scope", "mcp:access"),
                ("resource_metadata", METADATA),
                ("error_description", "the token lacks a scope this server requires"),
            ])
        );
        assert_eq!(r.error(-403), "the token lacks a scope this server requires");
    }
    // `scp` as a list works too.
    let mut claims = issuer.claims(RESOURCE, "");
    claims.as_object_mut().unwrap().remove("scope");
    claims["scp"] = json!(["mcp:access"]);
    assert_eq!(call(&app, &issuer.key.jwt(&claims), "list_flights", json!({})).await.status, 200);
}

/// 403 naming exactly the scopes the operation needs (server-level and the tool's own).
fn assert_tool_scope_denied(r: &Reply, tool: &str, scopes: &str, tool_scopes: &str) {
    assert_eq!(r.status, 403, "{}", r.text);
    let (scheme, p) = r.challenge();
    assert_eq!(scheme, "Bearer");
    assert_eq!(
        p,
        params(&[
            ("error", "insufficient_scope"),
            ("scope", scopes),
            ("resource_metadata", METADATA),
            ("error_description", "the token lacks a scope this tool requires"),
        ])
    );
    assert_eq!(r.body["id"], 42, "the request id is echoed");
    assert_eq!(r.error(-403), format!("tool `{tool}` requires the scopes: {tool_scopes}"));
}

#[tokio::test]
async fn missing_tool_scope_is_403_naming_every_needed_scope() {
    let (issuer, _google, app) = setup().await;
    let token = issuer.key.jwt(&issuer.claims(RESOURCE, "mcp:access"));
    let r = call(&app, &token, "get_booking", json!({"id": 1})).await;
    assert_tool_scope_denied(&r, "get_booking", "mcp:access bookings:read", "bookings:read");
    let token = issuer.key.jwt(&issuer.claims(RESOURCE, "mcp:access bookings:read"));
    let r = call(&app, &token, "cancel_booking", json!({"id": 1})).await;
    assert_tool_scope_denied(
        &r,
        "cancel_booking",
        "mcp:access bookings:read bookings:write",
        "bookings:read bookings:write",
    );
    // The same token may call what it has scopes for.
    assert_eq!(call(&app, &token, "get_booking", json!({"id": 1})).await.rows()[0]["flight"], "UA0001");
    // Refused before the arguments are looked at.
    let r = call(&app, &token, "cancel_booking", json!({"nonsense": true})).await;
    assert_eq!(r.status, 403);
    // A batch (2025-03-26) with a refused call is refused with the challenge.
    let batch = json!([call_body("list_flights", json!({})), call_body("cancel_booking", json!({"id": 1}))]);
    let bearer = format!("Bearer {token}");
    let r = post(&app, &[("authorization", &bearer), ("mcp-protocol-version", "2025-03-26")], &batch).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.challenge().1["scope"], "mcp:access bookings:read bookings:write");
    assert_eq!(r.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_tool_name_comes_from_the_body_not_the_header() {
    let (issuer, _google, app) = setup().await;
    let token = issuer.key.jwt(&issuer.claims(RESOURCE, "mcp:access"));
    let bearer = format!("Bearer {token}");
    // An older protocol version: the header is not checked against the body, and does not decide.
    for version in ["2025-03-26", "2025-06-18", "2025-11-25"] {
        let headers = [
            ("authorization", bearer.as_str()),
            ("mcp-protocol-version", version),
            ("mcp-method", "tools/call"),
            ("mcp-name", "list_flights"),
        ];
        let r = post(&app, &headers, &call_body("cancel_booking", json!({"id": 1}))).await;
        assert_tool_scope_denied(
            &r,
            "cancel_booking",
            "mcp:access bookings:read bookings:write",
            "bookings:read bookings:write",
        );
    }
    // 2026-07-28: a header that disagrees with the body is refused outright.
    let mut body = call_body("cancel_booking", json!({"id": 1}));
    body["params"]["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let headers = [
        ("authorization", bearer.as_str()),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "list_flights"),
    ];
    let r = post(&app, &headers, &body).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.error(-32020), "the Mcp-Name header does not match the request body");
    assert!(!r.has_challenge());
    // ... and one that agrees is judged on the scopes.
    let headers = [
        ("authorization", bearer.as_str()),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "cancel_booking"),
    ];
    assert_eq!(post(&app, &headers, &body).await.status, 403);
}

#[tokio::test]
async fn all_scopes_succeed_and_claims_fill_authenticated_parameters() {
    let (issuer, _google, app) = setup().await;
    let token = issuer.key.jwt(&issuer.claims(RESOURCE, ALL));
    let r = call(&app, &token, "list_flights", json!({})).await;
    assert_eq!(
        r.rows(),
        json!([{"flight": "UA0001"}, {"flight": "UA0002"}, {"flight": "UA0003"}, {"flight": "UA0004"}])
    );
    assert!(!r.has_challenge());
    // `passenger` is the token's `sub`; a value sent by the client is ignored.
    let mine = json!([{"id": 1, "flight": "UA0001"}, {"id": 2, "flight": "UA0002"}]);
    assert_eq!(call(&app, &token, "my_bookings", json!({})).await.rows(), mine);
    assert_eq!(call(&app, &token, "my_bookings", json!({"passenger": "bob"})).await.rows(), mine);
    // bob's booking cannot be cancelled by alice, whatever she sends; her own can.
    let r = call(&app, &token, "cancel_booking", json!({"id": 3, "passenger": "bob"})).await;
    assert_eq!(r.body["result"]["structuredContent"], json!({"rowsAffected": 0}));
    let r = call(&app, &token, "cancel_booking", json!({"id": 1})).await;
    assert_eq!(r.body["result"]["structuredContent"], json!({"rowsAffected": 1}));
    // The schema says so.
    let r = post(
        &app,
        &[("authorization", &format!("Bearer {token}"))],
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    )
    .await;
    let tools = r.body["result"]["tools"].as_array().unwrap();
    let my = tools.iter().find(|t| t["name"] == "my_bookings").unwrap();
    assert!(
        my["inputSchema"]["properties"]["passenger"]["description"]
            .as_str()
            .unwrap()
            .contains("any value sent is ignored")
    );
    assert_eq!(my["inputSchema"]["required"], json!([]));
}

#[tokio::test]
async fn opaque_tokens_are_introspected_with_client_credentials() {
    let (issuer, _google, app) = setup().await;
    let exp = now() + 600;
    let active = json!({"active": true, "scope": ALL, "aud": RESOURCE, "iss": issuer.url, "exp": exp, "sub": "bob", "client_id": "agent"});
    issuer.opaque("opaque-active-token", active.clone());
    issuer.opaque("opaque-inactive-token", json!({"active": false}));
    issuer.opaque("opaque-expired-token", json!({"active": true, "scope": ALL, "aud": RESOURCE, "exp": now() - 3600}));
    issuer
        .opaque("opaque-other-audience", json!({"active": true, "scope": ALL, "aud": "https://other/mcp", "exp": exp}));
    issuer.opaque(
        "opaque-other-issuer",
        json!({"active": true, "scope": ALL, "aud": RESOURCE, "iss": "https://evil", "exp": exp}),
    );
    issuer.opaque("opaque-no-scope", json!({"active": true, "scope": "profile", "aud": [RESOURCE], "exp": exp}));

    let r = call(&app, "opaque-active-token", "my_bookings", json!({})).await;
    assert_eq!(r.rows(), json!([{"id": 3, "flight": "UA0001"}]), "claims of an introspected token reach parameters");
    let hits = issuer.state.introspection_hits.load(Ordering::SeqCst);
    assert_eq!(call(&app, "opaque-active-token", "get_booking", json!({"id": 2})).await.status, 200);
    assert_eq!(
        issuer.state.introspection_hits.load(Ordering::SeqCst),
        hits,
        "the second call is served from the cache"
    );
    assert_eq!(issuer.state.unauthenticated_introspections.load(Ordering::SeqCst), 0, "client_secret_basic was sent");

    assert_invalid_token(
        &call(&app, "opaque-inactive-token", "list_flights", json!({})).await,
        "the token is not active",
        "opaque-inactive-token",
    );
    assert_invalid_token(
        &call(&app, "never-issued-token", "list_flights", json!({})).await,
        "the token is not active",
        "never-issued-token",
    );
    assert_invalid_token(
        &call(&app, "opaque-expired-token", "list_flights", json!({})).await,
        "the token has expired",
        "opaque-expired-token",
    );
    assert_invalid_token(
        &call(&app, "opaque-other-audience", "list_flights", json!({})).await,
        "the token was not issued for this resource",
        "opaque-other-audience",
    );
    assert_invalid_token(
        &call(&app, "opaque-other-issuer", "list_flights", json!({})).await,
        "the token was issued by another authorization server",
        "opaque-other-issuer",
    );
    let r = call(&app, "opaque-no-scope", "list_flights", json!({})).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.challenge().1["error"], "insufficient_scope");
}

#[tokio::test]
async fn introspection_endpoint_down_is_503_and_never_cached() {
    let (issuer, _google, app) = setup().await;
    issuer.opaque("opaque-a", json!({"active": true, "scope": ALL, "aud": RESOURCE, "exp": now() + 600}));
    issuer.state.introspection_down.store(true, Ordering::SeqCst);
    let r = call(&app, "opaque-a", "list_flights", json!({})).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(!r.has_challenge(), "not the client's fault: no challenge");
    assert_eq!(r.headers["retry-after"], "5");
    assert_eq!(r.error(-32603), "the token introspection endpoint is unavailable");
    assert!(!r.text.contains("opaque-a"));
    issuer.state.introspection_down.store(false, Ordering::SeqCst);
    assert_eq!(call(&app, "opaque-a", "list_flights", json!({})).await.status, 200);
    // JWTs do not need the introspection endpoint.
    issuer.state.introspection_down.store(true, Ordering::SeqCst);
    let token = issuer.key.jwt(&issuer.claims(RESOURCE, ALL));
    assert_eq!(call(&app, &token, "list_flights", json!({})).await.status, 200);
}

#[tokio::test]
async fn wrong_introspection_credentials_fail_closed() {
    let issuer = Issuer::start().await;
    let google = Issuer::start().await;
    let app = app_with(
        &guarded::TOOLBOX,
        &issuer.url,
        Some(&google),
        test_options(),
        &[("INTROSPECTION_CLIENT_SECRET", "wrong")],
        true,
    )
    .await;
    issuer.opaque("opaque-a", json!({"active": true, "scope": ALL, "aud": RESOURCE, "exp": now() + 600}));
    let r = call(&app, "opaque-a", "list_flights", json!({})).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(issuer.state.unauthenticated_introspections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn jwks_down_with_keys_cached_still_verifies() {
    let (issuer, _google, app) = setup().await;
    issuer.state.jwks_down.store(true, Ordering::SeqCst);
    let token = issuer.key.jwt(&issuer.claims(RESOURCE, ALL));
    assert_eq!(call(&app, &token, "list_flights", json!({})).await.status, 200);
    // A new key cannot be fetched while the JWKS is down: 401, and the old key still works.
    let rotated = SigningKey::generate("key-2");
    issuer.publish(rotated.clone());
    let token2 = rotated.jwt(&issuer.claims(RESOURCE, ALL));
    let r = call(&app, &token2, "list_flights", json!({})).await;
    assert_invalid_token(&r, "the token is signed with an unknown key", &token2);
    assert_eq!(call(&app, &token, "list_flights", json!({})).await.status, 200, "a failed refetch keeps the old keys");
}

#[tokio::test]
async fn key_rotation_refetches_once_single_flight_and_rate_limited() {
    let (issuer, _google, app) = setup().await;
    let provider = app.state.auth.providers()[0].clone();
    let fetches = || provider.jwks_fetches.load(Ordering::SeqCst);
    assert_eq!(fetches(), 1);
    let claims = issuer.claims(RESOURCE, ALL);

    // A new kid: one refetch, shared by every request waiting for it.
    let rotated = SigningKey::generate("key-2");
    issuer.publish(rotated.clone());
    let token = rotated.jwt(&claims);
    let calls: Vec<_> = (0..8).map(|_| call(&app, &token, "list_flights", json!({}))).collect();
    for r in futures_util::future::join_all(calls).await {
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(fetches(), 2, "one refetch for eight requests");
    assert_eq!(call(&app, &issuer.key.jwt(&claims), "list_flights", json!({})).await.status, 200, "old keys stay");

    // Another unknown kid right after: no fetch (rate limit), 401.
    let stranger = SigningKey::generate("key-3");
    let token3 = stranger.jwt(&claims);
    assert_invalid_token(
        &call(&app, &token3, "list_flights", json!({})).await,
        "the token is signed with an unknown key",
        &token3,
    );
    assert_eq!(fetches(), 2, "rate-limited");
    // After the interval, an unknown kid may refetch again.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    issuer.publish(stranger);
    assert_eq!(call(&app, &token3, "list_flights", json!({})).await.status, 200);
    assert_eq!(fetches(), 3);
}

#[tokio::test]
async fn discovery_is_retried_until_the_provider_comes_up() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let google = Issuer::start().await;
    let app = app_with(&guarded::TOOLBOX, &url, Some(&google), test_options(), &[], false).await;
    // Up and answering: 401 without a token (the challenge needs no provider), 503 with one.
    let r = post(&app, &[], &call_body("list_flights", json!({}))).await;
    assert_eq!((r.status, r.challenge().1), (401, bare_challenge()));
    let r = call(&app, "eyJhbGciOiJSUzI1NiIsImtpZCI6ImtleS0xIn0.e30.c2ln", "list_flights", json!({})).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.error(-32603), "the authorization server has not been reached yet; retry shortly");
    assert_eq!(call(&app, "opaque-token", "list_flights", json!({})).await.status, 503);
    // The metadata is served meanwhile.
    assert_eq!(get(&app, "/.well-known/oauth-protected-resource/mcp").await.status, 200);

    let issuer = Issuer::start_on(port).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !app.state.auth.ready() {
        assert!(std::time::Instant::now() < deadline, "discovery was not retried");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let token = issuer.key.jwt(&issuer.claims(RESOURCE, ALL));
    assert_eq!(call(&app, &token, "list_flights", json!({})).await.status, 200);
}

#[tokio::test]
async fn protected_resource_metadata() {
    let (issuer, _google, app) = setup().await;
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource/mcp/",
        "/.well-known/oauth-protected-resource",
    ] {
        let r = get(&app, path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(
            r.body,
            json!({
                "resource": RESOURCE,
                "authorization_servers": [issuer.url],
                "scopes_supported": ["mcp:access", "bookings:read", "bookings:write"],
                "bearer_methods_supported": ["header"],
                "resource_name": "toolbox",
            })
        );
    }
    // The challenge points at the path form, which is served.
    let r = post(&app, &[], &call_body("list_flights", json!({}))).await;
    let url = r.challenge().1["resource_metadata"].clone();
    assert_eq!(get(&app, url.strip_prefix(TOOLBOX_URL).unwrap()).await.status, 200);
}

#[tokio::test]
async fn the_trailing_slash_endpoints_are_guarded_alike() {
    let (issuer, _google, app) = setup().await;
    for path in ["/mcp/", "/mcp/bookings/"] {
        let r = post_to(&app, path, &[], &call_body("list_flights", json!({}))).await;
        assert_eq!((r.status, r.challenge().1), (401, bare_challenge()), "{path}");
    }
    let token = issuer.key.jwt(&issuer.claims(RESOURCE, ALL));
    let bearer = format!("Bearer {token}");
    let r = post_to(&app, "/mcp/", &[("authorization", bearer.as_str())], &call_body("list_flights", json!({}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn native_tokens_alongside_mcp_authorization() {
    let (issuer, google, app) = setup().await;
    let token = issuer.key.jwt(&issuer.claims(RESOURCE, ALL));
    let bearer = format!("Bearer {token}");
    // `dept_bookings` needs a `corp` token in `corp_token`; the bearer token is not one.
    let r = post(&app, &[("authorization", &bearer)], &call_body("dept_bookings", json!({}))).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.challenge(), ("Toolbox-Token".to_string(), params(&[("header", "corp_token")])));
    assert_eq!(r.body["id"], 42);
    assert_eq!(
        r.error(-401),
        "tool `dept_bookings` requires a verified token from corp: send it in the corp_token header"
    );

    let mut corp = issuer.claims("corp-apps", "");
    corp["dept"] = json!("ops");
    let corp_token = issuer.key.jwt(&corp);
    let headers = [("authorization", bearer.as_str()), ("corp_token", corp_token.as_str())];
    let r = post(&app, &headers, &call_body("dept_bookings", json!({"dept": "sales"}))).await;
    assert_eq!(
        r.rows(),
        json!([{"id": 3, "flight": "UA0001"}, {"id": 4, "flight": "UA0003"}, {"id": 5, "flight": "UA0004"}])
    );
    // A corp token for another audience is not one.
    let wrong = issuer.key.jwt(&issuer.claims(RESOURCE, ""));
    let headers = [("authorization", bearer.as_str()), ("corp_token", wrong.as_str())];
    assert_eq!(post(&app, &headers, &call_body("dept_bookings", json!({}))).await.status, 401);

    // A Google ID token, through the same JWKS machinery (the second issuer plays Google).
    let id_token = google.key.jwt(&json!({
        "iss": google.url, "aud": GOOGLE_CLIENT, "sub": "110169484474386276334", "email": "carol@example.com",
        "email_verified": true, "iat": now(), "exp": now() + 600
    }));
    let headers = [("authorization", bearer.as_str()), ("google_token", id_token.as_str())];
    assert_eq!(
        post(&app, &headers, &call_body("google_bookings", json!({}))).await.rows(),
        json!([{"id": 4, "flight": "UA0003"}])
    );
    let other_client = google
        .key
        .jwt(&json!({"iss": google.url, "aud": "someone-else", "email": "carol@example.com", "exp": now() + 600}));
    let headers = [("authorization", bearer.as_str()), ("google_token", other_client.as_str())];
    assert_eq!(post(&app, &headers, &call_body("google_bookings", json!({}))).await.status, 401);
}

#[tokio::test]
async fn stdio_refuses_tools_that_need_authorization() {
    let (_issuer, _google, app) = setup().await;
    let toolset = guarded::TOOLBOX.toolset(None).unwrap();
    for (tool, code) in [("get_booking", -403), ("dept_bookings", -401)] {
        let body = call_body(tool, json!({"id": 1}));
        let reply = app
            .state
            .mcp
            .handle_body(toolset, body.to_string().as_bytes(), Transport::Stdio { negotiated: None }, &NoClaims)
            .await;
        let body: Value = serde_json::from_slice(&reply.body.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], code);
        assert_eq!(
            body["error"]["message"],
            format!("tool `{tool}` requires authorization, which the stdio transport cannot carry; call it over HTTP")
        );
    }
}

/// The auth caches report to the metrics: a known key is a JWKS hit, an unknown `kid` a miss; a
/// token already verified skips the key lookup altogether.
#[tokio::test]
async fn jwks_lookups_are_counted_in_the_metrics() {
    use toolbox_runtime::telemetry::{Telemetry, TelemetryConfig};
    let issuer = Issuer::start().await;
    let google = Issuer::start().await;
    let config = TelemetryConfig { prometheus: true, service_name: "auth-test".into(), ..Default::default() };
    // The pool gauges read these sources; they are never opened here.
    let lookup = toolbox_runtime::testing::env(&[("AUTH_TEST_DB", "unused.db")]);
    let sources = std::sync::Arc::new(guarded::TOOLBOX.resolve_sources_with(&lookup).unwrap());
    let telemetry = Telemetry::start(&config, sources).expect("telemetry starts");
    let options = AuthOptions { counters: telemetry.auth_counters(), ..test_options() };
    let app = app_with(&guarded::TOOLBOX, &issuer.url, Some(&google), options, &[], true).await;
    let count = |result: &str| {
        let text = telemetry.render_prometheus().expect("metrics on");
        let series = format!("toolbox_auth_cache_lookups_total{{cache=\"jwks\",result=\"{result}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&series)).map(|v| v.parse::<f64>().unwrap()).unwrap_or(0.0)
    };
    let claims = issuer.claims(RESOURCE, ALL);
    let token = issuer.key.jwt(&claims);
    for _ in 0..3 {
        assert_eq!(call(&app, &token, "list_flights", json!({})).await.status, 200);
    }
    assert_eq!((count("hit"), count("miss")), (1.0, 0.0), "one lookup: the token is then remembered");
    let stranger = SigningKey::generate("key-unknown").jwt(&claims);
    assert_eq!(call(&app, &stranger, "list_flights", json!({})).await.status, 401);
    assert_eq!((count("hit"), count("miss")), (1.0, 1.0));
}
