//! The page of `--ui` under authorization: `/ui/tools.json` asks for the credentials `/mcp`
//! asks for, and names each tool's auth services, scopes and token-filled parameters, and the
//! header each native service's token goes in.

use crate::issuer::Issuer;
use crate::*;
use serde_json::json;

fn tool<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no {name}"))
}

async fn tools_json(app: &App, headers: &[(&str, &str)]) -> Reply {
    let mut builder = Request::get("/ui/tools.json").header("host", "127.0.0.1:5000");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    send(&app.router, builder.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn with_mcp_authorization_the_statements_need_a_bearer_token() {
    let issuer = Issuer::start().await;
    let google = Issuer::start().await;
    let app = guarded_app(&issuer, &google).await;
    // The page itself holds no data and loads without a token; what it lists does not.
    assert_eq!(get(&app, "/ui/").await.status, 200);
    let r = tools_json(&app, &[]).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.challenge().0, "Bearer");
    assert_eq!(r.headers["content-security-policy"], "default-src 'self'; frame-ancestors 'none'");
    let r = tools_json(&app, &[("authorization", "Bearer not-a-token")]).await;
    assert_eq!(r.status, 401, "{}", r.text);

    let token = issuer.key.jwt(&issuer.claims(RESOURCE, "mcp:access"));
    let bearer = format!("Bearer {token}");
    let r = tools_json(&app, &[("authorization", bearer.as_str())]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let doc = r.body;
    assert_eq!(doc["mcpAuth"], true);
    assert_eq!(
        doc["authServices"],
        json!([
            {"name": "idp", "type": "generic", "mcpEnabled": true, "header": null, "scopesRequired": ["mcp:access"]},
            {"name": "corp", "type": "generic", "mcpEnabled": false, "header": "corp_token", "scopesRequired": []},
            {"name": "google", "type": "google", "mcpEnabled": false, "header": "google_token", "scopesRequired": []}
        ])
    );
    let get_booking = tool(&doc, "get_booking");
    assert_eq!(get_booking["scopesRequired"], json!(["bookings:read"]));
    assert_eq!(get_booking["statements"][0]["sql"], "SELECT id, passenger, flight FROM bookings WHERE id = ?");
    let cancel = tool(&doc, "cancel_booking");
    assert_eq!(cancel["scopesRequired"], json!(["bookings:read", "bookings:write"]));
    assert_eq!(cancel["params"][1]["name"], "passenger");
    assert_eq!(cancel["params"][1]["fromToken"], json!([{"service": "idp", "claim": "sub"}]));
    assert_eq!(cancel["statements"][0]["columns"], json!([]), "a DELETE returns no rows");
    let dept = tool(&doc, "dept_bookings");
    assert_eq!(dept["authRequired"], json!(["corp"]));
    assert_eq!(dept["params"][0]["fromToken"], json!([{"service": "corp", "claim": "dept"}]));
    assert_eq!(tool(&doc, "list_flights")["authRequired"], json!([]));
}

#[tokio::test]
async fn with_native_auth_only_the_list_is_open_and_names_every_service() {
    let issuer = Issuer::start().await;
    let google = Issuer::start().await;
    let app = app_with(&native_only::TOOLBOX, &issuer.url, Some(&google), test_options(), &[], true).await;
    let r = tools_json(&app, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["mcpAuth"], false);
    let whoami = tool(&r.body, "whoami");
    assert_eq!(whoami["authRequired"], json!(["corp", "google"]));
    assert_eq!(
        whoami["params"][0]["fromToken"],
        json!([{"service": "corp", "claim": "sub"}, {"service": "google", "claim": "email"}])
    );
    let headers: Vec<&Value> = r.body["authServices"].as_array().unwrap().iter().map(|s| &s["header"]).collect();
    assert_eq!(headers, [&json!("corp_token"), &json!("google_token")]);
}
