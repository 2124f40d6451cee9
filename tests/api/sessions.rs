//! /api/v1/auth/sessions: list, revoke one, revoke all others.

use serde_json::json;

use crate::support::{shared, tenant, Backend, PASSWORD};

const CHROME_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";

on_both_backends!(
    sessions_list_shows_the_seed_fields,
    deleting_a_session_revokes_its_tokens_at_once,
    deleting_all_sessions_keeps_the_current_one,
    session_ids_of_others_are_not_found,
    sessions_list_pages,
);

/// Each session: id, deviceType, deviceName, ipAddress, userAgent, location,
/// createdAt, lastActivity, isCurrent, and `total`.
async fn sessions_list_shows_the_seed_fields(b: Backend) {
    let t = tenant(b).await;
    let api = t.anonymous();
    let desktop = api
        .with_user_agent(CHROME_WINDOWS)
        .login(&t.owner_email, PASSWORD)
        .await;
    api.with_user_agent(SAFARI_IPHONE)
        .login(&t.owner_email, PASSWORD)
        .await;

    let r = desktop.get("/api/v1/auth/sessions").await;
    let data = r.ok();
    assert_eq!(data["total"], 3);
    assert_eq!(r.body["pagination"]["total"], 3);
    let sessions = data["sessions"].as_array().unwrap();
    let current: Vec<_> = sessions.iter().filter(|s| s["isCurrent"] == true).collect();
    assert_eq!(current.len(), 1);
    let c = current[0];
    assert_eq!(c["deviceType"], "desktop");
    assert_eq!(c["deviceName"], "Chrome on Windows");
    assert_eq!(c["userAgent"], CHROME_WINDOWS);
    assert_eq!(c["ipAddress"], "127.0.0.1");
    assert!(c["location"].is_null());
    for field in ["id", "createdAt", "lastActivity"] {
        assert!(c[field].is_string(), "{field}: {c}");
    }
    let phone = sessions
        .iter()
        .find(|s| s["userAgent"] == SAFARI_IPHONE)
        .unwrap();
    assert_eq!(phone["deviceType"], "mobile");
    assert_eq!(phone["deviceName"], "Safari on iOS");
    assert_eq!(phone["isCurrent"], false);
}

/// DELETE /auth/sessions/{id}: "Session revoked", and that session's access
/// token fails on its next request.
async fn deleting_a_session_revokes_its_tokens_at_once(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let second = t.anonymous().login(&t.owner_email, PASSWORD).await;
    let id = second.current_session().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = t.owner.delete(&format!("/api/v1/auth/sessions/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({ "success": true, "message": "Session revoked" })
    );
    second.me().await.expect(401, "UNAUTHORIZED");
    app.api()
        .try_refresh(second.refresh_token.as_deref().unwrap())
        .await
        .expect(401, "UNAUTHORIZED");
    // Revoked once; a second delete finds nothing.
    t.owner
        .delete(&format!("/api/v1/auth/sessions/{id}"))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    assert_eq!(t.owner.me().await.status, 200);
}

/// DELETE /auth/sessions: "All other sessions revoked"; the current one lives.
async fn deleting_all_sessions_keeps_the_current_one(b: Backend) {
    let t = tenant(b).await;
    let api = t.anonymous();
    let others = [
        api.login(&t.owner_email, PASSWORD).await,
        api.login(&t.owner_email, PASSWORD).await,
    ];
    let r = t.owner.delete("/api/v1/auth/sessions").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["message"], "All other sessions revoked");
    assert_eq!(r.body["data"]["revoked"], 2);
    for other in &others {
        other.me().await.expect(401, "UNAUTHORIZED");
    }
    let list = t.owner.get("/api/v1/auth/sessions").await;
    assert_eq!(list.ok()["total"], 1);
    assert_eq!(list.ok()["sessions"][0]["isCurrent"], true);
}

/// Another user's session (here, of another tenant) is not found, nor is a
/// malformed id; nothing is revoked.
async fn session_ids_of_others_are_not_found(b: Backend) {
    let app = shared(b).await;
    let a = app.new_tenant().await;
    let other = app.new_tenant().await;
    let theirs = other.owner.get("/api/v1/auth/sessions").await.ok()["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    a.owner
        .delete(&format!("/api/v1/auth/sessions/{theirs}"))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    a.owner
        .delete("/api/v1/auth/sessions/not-a-uuid")
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    assert_eq!(other.owner.me().await.status, 200);
    app.api()
        .delete("/api/v1/auth/sessions")
        .await
        .expect(401, "UNAUTHORIZED");
}

/// `GET /auth/sessions?page&limit` is paged; bad paging is a
/// VALIDATION_ERROR naming the parameter.
async fn sessions_list_pages(b: Backend) {
    let t = tenant(b).await;
    let api = t.anonymous();
    for _ in 0..4 {
        api.login(&t.owner_email, PASSWORD).await;
    }
    let r = t.owner.get("/api/v1/auth/sessions?page=2&limit=2").await;
    assert_eq!(r.ok()["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(
        r.body["pagination"],
        json!({ "page": 2, "limit": 2, "total": 5, "totalPages": 3 })
    );
    let r = t.owner.get("/api/v1/auth/sessions?page=3&limit=2").await;
    assert_eq!(r.ok()["sessions"].as_array().unwrap().len(), 1);
    let r = t.owner.get("/api/v1/auth/sessions?limit=101").await;
    r.invalid(&["limit"]);
    let r = t.owner.get("/api/v1/auth/sessions?page=zero").await;
    assert_eq!(r.fields(), ["page"]);
}
