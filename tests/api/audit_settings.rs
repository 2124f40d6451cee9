//! The audit log (docs/security.md, Audit: every state change records who
//! did what to whom, when, from which address) and tenant settings
//! (docs/api/ithbat.md, Audit log and settings: password policy, lockout).

use serde_json::json;

use crate::support::{pluck, shared, tenant, Backend, PASSWORD};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

on_both_backends!(
    state_changes_and_sign_ins_are_audited,
    the_audit_log_filters_and_pages,
    the_audit_log_is_read_only_and_private,
    settings_show_the_documented_defaults,
    password_policy_and_verification_settings_apply,
    lockout_and_session_settings_apply,
    settings_reject_bad_input_and_guard_the_plan,
);

async fn state_changes_and_sign_ins_are_audited(b: Backend) {
    let t = tenant(b).await;
    let owner = t.owner.with_user_agent(BROWSER);
    let email = t.email("audited");
    let id = owner
        .post("/api/v1/users", json!({ "email": email, "firstName": "A", "familyName": "B", "password": PASSWORD, "skipEmailVerification": true }))
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    owner
        .put(
            &format!("/api/v1/users/{id}"),
            json!({ "firstName": "Changed" }),
        )
        .await;
    owner
        .post(&format!("/api/v1/users/{id}/suspend"), json!({}))
        .await;
    owner
        .post(&format!("/api/v1/users/{id}/reactivate"), json!({}))
        .await;
    let anon = t.anonymous().with_user_agent(BROWSER);
    anon.try_login(&email, "Wrong!pass1").await;
    let signed_in = anon.login(&email, PASSWORD).await;
    let refresh = signed_in.refresh_token.clone().unwrap();
    anon.try_refresh(&refresh).await.ok();
    owner
        .post("/api/v1/groups", json!({ "name": "Audited group" }))
        .await;

    let r = t.audit("limit=100&sortOrder=asc").await;
    let events = r.ok()["events"].as_array().unwrap().clone();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "user.created",
        "auth.login",
        "user.updated",
        "user.suspended",
        "user.reactivated",
        "auth.login_failed",
        "auth.token_refreshed",
        "group.created",
    ] {
        assert!(actions.contains(&expected), "{expected} not in {actions:?}");
    }
    let created = events
        .iter()
        .find(|e| e["action"] == "user.created" && e["target"]["id"] == id.as_str())
        .unwrap();
    assert_eq!(created["actor"]["type"], "user");
    assert_eq!(created["actor"]["id"], t.owner_id.as_str());
    assert_eq!(created["actor"]["label"], t.owner_email.as_str());
    assert_eq!(created["target"]["type"], "user");
    assert_eq!(created["status"], "success");
    assert_eq!(created["ipAddress"], "127.0.0.1");
    assert_eq!(created["userAgent"], BROWSER);
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    let updated = events
        .iter()
        .find(|e| e["action"] == "user.updated")
        .unwrap();
    assert_eq!(updated["details"]["changed"], json!(["name"]));
    let failed = events
        .iter()
        .find(|e| e["action"] == "auth.login_failed")
        .unwrap();
    assert_eq!(failed["status"], "failure");
    assert_eq!(failed["actor"]["type"], "anonymous");
    assert_eq!(failed["details"]["reason"], "invalid_credentials");
    // Secrets are never recorded.
    assert!(!r.text.contains(PASSWORD) && !r.text.contains("Wrong!pass1"));
}

/// Filters by actor, action, target, status and time range, with the list
/// envelope.
async fn the_audit_log_filters_and_pages(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("filtered").await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    for name in ["G1", "G2", "G3"] {
        t.group(name).await;
    }
    let r = t.audit("action=group.created&limit=2").await;
    assert_eq!(r.ok()["total"], 3);
    assert_eq!(r.body["pagination"]["totalPages"], 2);
    assert_eq!(
        r.ok()["events"][0]["details"]["name"],
        "G3",
        "newest first by default"
    );
    let r = t.audit("action=group.created&sortOrder=asc").await;
    assert_eq!(r.ok()["events"][0]["details"]["name"], "G1");
    let r = t.audit(&format!("targetType=user&targetId={}", u.id)).await;
    let actions: Vec<&str> = pluck(&r.ok()["events"], "/action");
    assert_eq!(actions, ["user.created"]);
    let r = t
        .audit(&format!("actorId={}&action=group.created", t.owner_id))
        .await;
    assert_eq!(r.ok()["total"], 3);
    let r = t
        .audit(&format!("userId={}&action=group.created", u.id))
        .await;
    assert_eq!(r.ok()["total"], 0);
    let from = before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let r = t.audit(&format!("action=group.created&from={from}")).await;
    assert_eq!(r.ok()["total"], 3);
    let r = t
        .audit("action=group.created&to=2000-01-01T00:00:00Z")
        .await;
    assert_eq!(r.ok()["total"], 0);
    assert_eq!(t.audit("status=failure").await.ok()["total"], 0);
    for (q, field) in [
        ("actorId=me", "actorId"),
        ("from=yesterday", "from"),
        ("status=ok", "status"),
        ("limit=500", "limit"),
    ] {
        let r = t.audit(q).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{q}");
    }
    let id = t.audit("action=group.created&limit=1").await.ok()["events"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let one = t.owner.get(&format!("/api/v1/audit-logs/{id}")).await;
    assert_eq!(one.ok()["details"]["name"], "G3");
}

/// "There is no endpoint that changes or deletes an event"; audit:read is
/// required; another tenant's events do not exist.
async fn the_audit_log_is_read_only_and_private(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let id = t.audit("limit=1").await.ok()["events"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/audit-logs/{id}");
    t.owner
        .delete(&path)
        .await
        .expect(405, "METHOD_NOT_ALLOWED");
    t.owner
        .put(&path, json!({ "action": "nothing" }))
        .await
        .expect(405, "METHOD_NOT_ALLOWED");
    t.owner
        .post("/api/v1/audit-logs", json!({ "action": "forged" }))
        .await
        .expect(405, "METHOD_NOT_ALLOWED");
    other
        .owner
        .get(&path)
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    let theirs = other.audit("limit=100").await;
    assert!(!theirs.text.contains(&t.owner_email));
    let member = t.user("nosy").await;
    member
        .api
        .get("/api/v1/audit-logs")
        .await
        .expect(403, "FORBIDDEN");
    t.owner.get(&path).await.ok();
}

/// The default password policy (docs/api/ithbat.md); 5 failures in
/// 15 minutes lock for 15 minutes.
async fn settings_show_the_documented_defaults(b: Backend) {
    let t = tenant(b).await;
    let r = t.owner.get("/api/v1/settings").await;
    let s = r.ok();
    assert_eq!(
        s["passwordPolicy"],
        json!({ "minLength": 8, "requireUppercase": true, "requireLowercase": true, "requireDigit": true, "requireSpecial": true })
    );
    assert_eq!(
        s["lockout"],
        json!({ "maxFailedAttempts": 5, "windowMinutes": 15, "lockMinutes": 15 })
    );
    assert_eq!(
        s["sessions"],
        json!({ "lifetimeMinutes": 1440, "rememberMeDays": 30 })
    );
    assert_eq!(s["requireEmailVerification"], true);
    assert_eq!(s["plan"], "pro");
    assert_eq!(s["rateLimitPerMinute"], 1000);
    assert!(s["customRateLimitPerMinute"].is_null());
}

async fn password_policy_and_verification_settings_apply(b: Backend) {
    let t = tenant(b).await;
    let r = t
        .owner
        .put(
            "/api/v1/settings",
            json!({ "passwordPolicy": { "minLength": 14, "requireSpecial": false } }),
        )
        .await;
    assert_eq!(r.ok()["passwordPolicy"]["minLength"], 14);
    assert_eq!(
        r.ok()["passwordPolicy"]["requireUppercase"],
        true,
        "other rules unchanged"
    );
    let r = t
        .owner
        .post("/api/v1/users", json!({ "email": t.email("p"), "firstName": "P", "familyName": "Q", "password": "Short!Pass1" }))
        .await;
    r.expect(400, "VALIDATION_ERROR");
    assert!(r.body["error"]["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("14"));
    let r = t
        .owner
        .post("/api/v1/users", json!({ "email": t.email("p"), "firstName": "P", "familyName": "Q", "password": "LongEnoughPass99" }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Without required verification an unverified user signs in.
    t.anonymous()
        .try_login(&t.email("p"), "LongEnoughPass99")
        .await
        .expect(403, "ACCOUNT_NOT_VERIFIED");
    t.owner
        .put(
            "/api/v1/settings",
            json!({ "requireEmailVerification": false }),
        )
        .await
        .ok();
    t.anonymous().login(&t.email("p"), "LongEnoughPass99").await;
}

async fn lockout_and_session_settings_apply(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("locky").await;
    let r = t
        .owner
        .put("/api/v1/settings", json!({ "lockout": { "maxFailedAttempts": 2, "lockMinutes": 1 }, "sessions": { "lifetimeMinutes": 60 } }))
        .await;
    assert_eq!(
        r.ok()["lockout"],
        json!({ "maxFailedAttempts": 2, "windowMinutes": 15, "lockMinutes": 1 })
    );
    let anon = u.api.anonymous();
    let codes: Vec<String> = {
        let mut codes = Vec::new();
        for i in 0..3 {
            let r = anon.try_login(&u.email, &format!("Wrong!{i}x")).await;
            codes.push(r.code().to_string());
        }
        codes
    };
    assert_eq!(
        codes,
        [
            "INVALID_CREDENTIALS",
            "INVALID_CREDENTIALS",
            "ACCOUNT_LOCKED"
        ]
    );
    let locked = anon.try_login(&u.email, PASSWORD).await;
    locked.expect(403, "ACCOUNT_LOCKED");
    let retry: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!(retry <= 60, "locked for the configured minute, not 15");

    let owner_again = t.anonymous().login(&t.owner_email, PASSWORD).await;
    let s = owner_again.current_session().await;
    let created = chrono::DateTime::parse_from_rfc3339(s["createdAt"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(s["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_minutes(), 60);
}

async fn settings_reject_bad_input_and_guard_the_plan(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    for (body, field) in [
        (
            json!({ "passwordPolicy": { "minLength": 4 } }),
            "passwordPolicy.minLength",
        ),
        (
            json!({ "passwordPolicy": { "minLength": "long" } }),
            "passwordPolicy.minLength",
        ),
        (
            json!({ "lockout": { "maxFailedAttempts": 0 } }),
            "lockout.maxFailedAttempts",
        ),
        (
            json!({ "sessions": { "lifetimeMinutes": 1 } }),
            "sessions.lifetimeMinutes",
        ),
        (json!({ "lockout": { "forever": true } }), "lockout.forever"),
        (json!({ "theme": "dark" }), "theme"),
    ] {
        let r = t.owner.put("/api/v1/settings", body.clone()).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{body}");
    }
    // Several bad values are all named, and none applied.
    let r = t
        .owner
        .put(
            "/api/v1/settings",
            json!({ "lockout": { "maxFailedAttempts": 0, "lockMinutes": 99999 } }),
        )
        .await;
    assert_eq!(
        r.fields(),
        ["lockout.maxFailedAttempts", "lockout.lockMinutes"]
    );
    assert_eq!(
        t.owner.get("/api/v1/settings").await.ok()["lockout"]["maxFailedAttempts"],
        5
    );

    // Plan and rate limit: platform administrators only.
    t.owner
        .put("/api/v1/settings", json!({ "plan": "enterprise" }))
        .await
        .expect(403, "FORBIDDEN");
    t.owner
        .put("/api/v1/settings", json!({ "rateLimitPerMinute": 99999 }))
        .await
        .expect(403, "FORBIDDEN");
    let admin = app.admin().await.with_tenant(&t.id);
    let r = admin
        .put(
            "/api/v1/settings",
            json!({ "plan": "enterprise", "rateLimitPerMinute": 5000 }),
        )
        .await;
    assert_eq!(
        (
            r.ok()["plan"].as_str(),
            r.ok()["rateLimitPerMinute"].as_i64()
        ),
        (Some("enterprise"), Some(5000))
    );
    admin
        .put("/api/v1/settings", json!({ "plan": "platinum" }))
        .await
        .expect(400, "VALIDATION_ERROR");
    let member = t.user("m").await;
    member
        .api
        .get("/api/v1/settings")
        .await
        .expect(403, "FORBIDDEN");
    member
        .api
        .put(
            "/api/v1/settings",
            json!({ "requireEmailVerification": false }),
        )
        .await
        .expect(403, "FORBIDDEN");
}
