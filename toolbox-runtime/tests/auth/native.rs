//! Native tool auth without MCP authorization: no bearer token is needed, `authRequired` tools
//! need a verified `<service>_token` header (any one of their services), and authenticated
//! parameters take the claim, whatever the client sent.

use crate::issuer::{Issuer, now};
use crate::*;
use serde_json::json;

async fn setup() -> (Issuer, Issuer, App) {
    let issuer = Issuer::start().await;
    let google = Issuer::start().await;
    let app = app_with(&native_only::TOOLBOX, &issuer.url, Some(&google), test_options(), &[], true).await;
    (issuer, google, app)
}

fn corp_token(issuer: &Issuer, sub: &str, dept: &str) -> String {
    let mut claims = issuer.claims("corp-apps", "");
    claims["sub"] = json!(sub);
    claims["dept"] = json!(dept);
    issuer.key.jwt(&claims)
}

#[tokio::test]
async fn open_tools_need_nothing_and_no_metadata_is_served() {
    let (_issuer, _google, app) = setup().await;
    assert_eq!(post(&app, &[], &call_body("list_flights", json!({}))).await.rows().as_array().unwrap().len(), 4);
    assert_eq!(get(&app, "/.well-known/oauth-protected-resource").await.status, 404);
}

#[tokio::test]
async fn auth_required_tools_need_a_verified_header() {
    let (issuer, google, app) = setup().await;
    let r = post(&app, &[], &call_body("dept_bookings", json!({"dept": "sales"}))).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.challenge(), ("Toolbox-Token".to_string(), params(&[("header", "corp_token")])));
    assert_eq!(
        r.error(-401),
        "tool `dept_bookings` requires a verified token from corp: send it in the corp_token header"
    );

    // A bad token is simply not a verification.
    let mut expired = issuer.claims("corp-apps", "");
    expired["exp"] = json!(now() - 3600);
    for bad in [issuer.key.jwt(&expired), "garbage".to_string(), google.key.jwt(&issuer.claims("corp-apps", ""))] {
        let r = post(&app, &[("corp_token", bad.as_str())], &call_body("dept_bookings", json!({}))).await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert!(!r.text.contains(&bad));
    }

    // The claim decides, not the argument.
    let token = corp_token(&issuer, "alice", "sales");
    let r = post(&app, &[("corp_token", token.as_str())], &call_body("dept_bookings", json!({"dept": "ops"}))).await;
    assert_eq!(r.rows(), json!([{"id": 1, "flight": "UA0001"}, {"id": 2, "flight": "UA0002"}]));
    // A bearer token is not a native token.
    let bearer = format!("Bearer {token}");
    assert_eq!(
        post(&app, &[("authorization", bearer.as_str())], &call_body("dept_bookings", json!({}))).await.status,
        401
    );
}

#[tokio::test]
async fn any_one_of_the_listed_services_will_do() {
    let (issuer, google, app) = setup().await;
    let r = post(&app, &[], &call_body("whoami", json!({}))).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.headers["www-authenticate"],
        "Toolbox-Token header=\"corp_token\", Toolbox-Token header=\"google_token\""
    );
    let corp = corp_token(&issuer, "bob", "ops");
    let r = post(&app, &[("corp_token", corp.as_str())], &call_body("whoami", json!({"passenger": "alice"}))).await;
    assert_eq!(r.rows(), json!([{"id": 3, "flight": "UA0001"}]));
    let id_token = google.key.jwt(&json!({
        "iss": google.url, "aud": GOOGLE_CLIENT, "email": "carol@example.com", "iat": now(), "exp": now() + 600
    }));
    let r = post(&app, &[("google_token", id_token.as_str())], &call_body("whoami", json!({}))).await;
    assert_eq!(r.rows(), json!([{"id": 4, "flight": "UA0003"}]));
    // Header names are case-insensitive.
    let r = post(&app, &[("Google_Token", id_token.as_str())], &call_body("whoami", json!({}))).await;
    assert_eq!(r.status, 200);
}

/// What the reference's SDKs read to know which tokens a tool takes: `toolbox/authParam` and
/// `toolbox/authInvoke` in every version, and the `com.google.cloud/` pair too at 2026-07-28.
#[tokio::test]
async fn tools_list_names_the_services_whose_tokens_each_tool_takes() {
    let (_issuer, _google, app) = setup().await;
    let expected = |prefixes: &[&str]| {
        let mut dept = serde_json::Map::new();
        let mut whoami = serde_json::Map::new();
        for p in prefixes {
            dept.insert(format!("{p}/authParam"), json!({"dept": ["corp"]}));
            dept.insert(format!("{p}/authInvoke"), json!(["corp"]));
            whoami.insert(format!("{p}/authParam"), json!({"passenger": ["corp", "google"]}));
            whoami.insert(format!("{p}/authInvoke"), json!(["corp", "google"]));
        }
        (json!(dept), json!(whoami))
    };
    let meta_of = |r: &Reply, name: &str| {
        let tools = r.body["result"]["tools"].as_array().unwrap_or_else(|| panic!("no tools in {}", r.text));
        tools.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no {name}"))["_meta"].clone()
    };
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let r = post_to(&app, "/mcp/", &[("mcp-protocol-version", version)], &list).await;
        let (dept, whoami) = expected(&["toolbox"]);
        assert_eq!(meta_of(&r, "dept_bookings"), dept, "{version}");
        assert_eq!(meta_of(&r, "whoami"), whoami, "{version}");
        assert_eq!(meta_of(&r, "list_flights"), Value::Null, "{version}: an open tool has no _meta");
    }
    let mut modern = list.clone();
    modern["params"] = json!({"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"extensions": {"com.google.cloud/toolbox.v1": {}}},
        "io.modelcontextprotocol/clientInfo": {"name": "toolbox-core-python", "version": "1.4.0"}
    }});
    let r =
        post_to(&app, "/mcp/", &[("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/list")], &modern).await;
    let (dept, whoami) = expected(&["toolbox", "com.google.cloud"]);
    assert_eq!(meta_of(&r, "dept_bookings"), dept);
    assert_eq!(meta_of(&r, "whoami"), whoami);
    assert_eq!(meta_of(&r, "list_flights"), Value::Null);
}

/// The SDKs send every token they hold as `<service>_token` on every call, to `/mcp/`.
#[tokio::test]
async fn tokens_in_service_headers_work_on_the_sdk_paths() {
    let (issuer, _google, app) = setup().await;
    let token = corp_token(&issuer, "alice", "sales");
    let body = call_body("dept_bookings", json!({}));
    let r = post_to(&app, "/mcp/", &[("corp_token", token.as_str()), ("google_token", "not-a-token")], &body).await;
    assert_eq!(r.rows(), json!([{"id": 1, "flight": "UA0001"}, {"id": 2, "flight": "UA0002"}]));
    let r = post_to(&app, "/mcp/", &[], &body).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.challenge(), ("Toolbox-Token".to_string(), params(&[("header", "corp_token")])));
}
