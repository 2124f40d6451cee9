//! GET/PUT /api/v1/users/me.

use serde_json::json;

use crate::support::{shared, tenant, Backend};

on_both_backends!(
    me_returns_the_whole_user_response,
    put_me_changes_only_the_fields_sent,
    put_me_rejects_bad_fields_and_changes_nothing,
);

/// The user view: every field.
async fn me_returns_the_whole_user_response(b: Backend) {
    let t = tenant(b).await;
    let r = t.owner.me().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["success"], true);
    let u = r.ok();
    for field in [
        "id",
        "tenantId",
        "email",
        "firstName",
        "fatherName",
        "grandfatherName",
        "familyName",
        "displayName",
        "status",
        "roles",
        "preferences",
        "mfaEnabled",
        "metadata",
        "externalIds",
        "lastLoginAt",
        "passwordChangedAt",
        "createdAt",
        "updatedAt",
    ] {
        assert!(u.get(field).is_some(), "missing {field}: {u}");
    }
    assert_eq!(u["id"], t.owner_id.as_str());
    assert_eq!(u["tenantId"], t.id.as_str());
    assert_eq!(u["status"], "active");
    assert_eq!(u["roles"], json!(["owner"]));
    assert_eq!(
        u["preferences"],
        json!({ "theme": "light", "language": "en", "timezone": "UTC" })
    );
    assert_eq!(u["metadata"], json!({}));
    assert_eq!(u["externalIds"], json!({}));
    assert_eq!(u["mfaEnabled"], false);
    assert_eq!(u["locked"], false);
    assert!(u["lastLoginAt"].as_str().unwrap().ends_with('Z'));
}

/// All fields optional: only the fields sent are updated.
async fn put_me_changes_only_the_fields_sent(b: Backend) {
    let t = tenant(b).await;
    let before = t.owner.me().await.ok().clone();
    let r = t
        .owner
        .put(
            "/api/v1/users/me",
            json!({ "firstName": "Alicia", "familyName": "Smith-Jones" }),
        )
        .await;
    let after = r.ok();
    assert_eq!(after["firstName"], "Alicia");
    assert_eq!(after["familyName"], "Smith-Jones");
    assert_eq!(after["displayName"], "Alicia Smith-Jones");
    for unchanged in [
        "email",
        "fatherName",
        "grandfatherName",
        "preferences",
        "createdAt",
        "status",
        "roles",
    ] {
        assert_eq!(after[unchanged], before[unchanged], "{unchanged}");
    }
    let r = t
        .owner
        .put(
            "/api/v1/users/me",
            json!({ "fatherName": "Omar", "preferences": { "theme": "dark" } }),
        )
        .await;
    let after = r.ok();
    assert_eq!(after["firstName"], "Alicia");
    assert_eq!(after["fatherName"], "Omar");
    assert_eq!(
        after["preferences"],
        json!({ "theme": "dark", "language": "en", "timezone": "UTC" })
    );
    // A single name, split on the last space, and phoneNumber.
    let r = t
        .owner
        .put(
            "/api/v1/users/me",
            json!({ "name": "John Updated Doe", "phoneNumber": "+0987654321" }),
        )
        .await;
    let after = r.ok();
    assert_eq!(
        (after["firstName"].as_str(), after["familyName"].as_str()),
        (Some("John Updated"), Some("Doe"))
    );
    assert_eq!(after["phoneNumber"], "+0987654321");
    // An empty body changes nothing.
    let r = t.owner.put("/api/v1/users/me", json!({})).await;
    assert_eq!(r.ok()["firstName"], "John Updated");
    // Persisted, not just echoed.
    assert_eq!(t.owner.me().await.ok()["fatherName"], "Omar");
}

/// Unknown or wrongly typed fields are a VALIDATION_ERROR naming the field;
/// nothing is written.
async fn put_me_rejects_bad_fields_and_changes_nothing(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let before = t.owner.me().await.ok().clone();
    let cases = [
        (json!({ "firstName": "Ok", "nickname": "x" }), "nickname"),
        (json!({ "firstName": 5 }), "firstName"),
        (json!({ "firstName": null }), "firstName"),
        (json!({ "firstName": "" }), "firstName"),
        (json!({ "familyName": "x".repeat(101) }), "familyName"),
        (json!({ "phoneNumber": "call me" }), "phoneNumber"),
        (
            json!({ "preferences": { "theme": 1 } }),
            "preferences.theme",
        ),
        (
            json!({ "preferences": { "colour": "red" } }),
            "preferences.colour",
        ),
        (json!({ "email": "new@x.io" }), "email"),
        (json!({ "status": "suspended" }), "status"),
    ];
    for (body, field) in cases {
        let r = t.owner.put("/api/v1/users/me", body.clone()).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{body}");
    }
    // Two bad fields at once are both named, and the good one is not applied.
    let r = t
        .owner
        .put(
            "/api/v1/users/me",
            json!({ "firstName": "", "familyName": "", "fatherName": "Ok" }),
        )
        .await;
    assert_eq!(r.fields(), ["firstName", "familyName"]);
    let after = t.owner.me().await.ok().clone();
    assert_eq!(after, before);
    app.api()
        .put("/api/v1/users/me", json!({ "firstName": "x" }))
        .await
        .expect(401, "UNAUTHORIZED");
}
