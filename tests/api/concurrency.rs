//! No lost update: every read-modify-write reads the row it changes inside
//! its write transaction, locked (ARCHITECTURE.md "Read-modify-write"), so
//! N parallel changes of distinct keys all survive, and none answers 412
//! unless the client sent If-Match.

use std::future::Future;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::scim::{GROUP, USER};
use crate::support::{shared, Backend, Resp};

on_both_backends!(
    parallel_metadata_merges_all_survive,
    parallel_scim_user_patches_all_survive,
    parallel_scim_group_patches_all_survive,
    parallel_settings_changes_all_survive,
    parallel_role_edits_all_survive,
    parallel_account_updates_all_survive,
    two_owners_suspending_each_other_leave_one,
    parallel_client_secrets_stop_at_the_limit,
);

/// Sends the requests at once; each must answer `status`.
async fn all_answer<F: Future<Output = Resp>>(status: u16, requests: impl IntoIterator<Item = F>) {
    for r in join_all(requests).await {
        assert_eq!(r.status, status, "{}", r.text);
    }
}

/// PATCH /users/{id}/metadata deep-merges: 50 merges of one key
/// each, sent together, leave 50 keys.
async fn parallel_metadata_merges_all_survive(b: Backend) {
    let t = shared(b).await.new_tenant().await;
    let u = t.user("meta").await;
    let path = format!("/api/v1/users/{}/metadata", u.id);
    all_answer(
        200,
        (0..50).map(|i| {
            let rb = t
                .owner
                .request(Method::PATCH, &path)
                .json(&json!({ "metadata": { format!("k{i}"): i } }));
            crate::support::Api::send(rb)
        }),
    )
    .await;
    let metadata = t.owner.get(&format!("/api/v1/users/{}", u.id)).await.ok()["metadata"].clone();
    let expected: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("k{i}"), json!(i))).collect();
    assert_eq!(metadata, Value::Object(expected));
}

/// RFC 7644 3.5.2.1: "add" appends to a multi-valued attribute. Twenty
/// PATCHes without If-Match, each adding a phone number, all answer 200
/// and all twenty numbers stay.
async fn parallel_scim_user_patches_all_survive(b: Backend) {
    let t = shared(b).await.new_tenant().await;
    let scim = t.scim().await;
    let id = scim
        .create_user(
            &t.email("phones"),
            json!({ "name": { "givenName": "P", "familyName": "Hones" } }),
        )
        .await;
    let path = format!("/Users/{id}");
    let phone = |i: usize| format!("+64 21 555 {:04}", 100 + i);
    all_answer(
        200,
        (0..20).map(|i| {
            scim.patch(
                &path,
                json!([{ "op": "add", "path": "phoneNumbers", "value": [{ "type": "work", "value": phone(i) }] }]),
            )
        }),
    )
    .await;
    let r = scim.get(&path).await;
    let mut numbers: Vec<String> = r.scim(200)["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap().to_string())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (0..20).map(phone).collect::<Vec<_>>());
    assert_eq!(r.body["schemas"][0], USER);
}

/// A group PATCH changes membership in sets: twenty PATCHes adding one
/// member each, and one renaming the group, all land.
async fn parallel_scim_group_patches_all_survive(b: Backend) {
    let t = shared(b).await.new_tenant().await;
    let scim = t.scim().await;
    let mut members = Vec::new();
    for i in 0..20 {
        members.push(
            scim.create_user(&t.email(&format!("m{i}")), json!({}))
                .await,
        );
    }
    let r = scim
        .post(
            "/Groups",
            json!({ "schemas": [GROUP], "displayName": "Crowd" }),
        )
        .await;
    let id = r.scim(201)["id"].as_str().unwrap().to_string();
    let path = format!("/Groups/{id}");
    let mut patches: Vec<Value> = members
        .iter()
        .map(|m| json!([{ "op": "add", "path": "members", "value": [{ "value": m }] }]))
        .collect();
    patches.push(json!([{ "op": "replace", "path": "externalId", "value": "crowd-1" }]));
    all_answer(204, patches.into_iter().map(|ops| scim.patch(&path, ops))).await;
    let group = scim.get(&path).await;
    let group = group.scim(200);
    assert_eq!(group["externalId"], "crowd-1");
    let mut got: Vec<&str> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    got.sort();
    members.sort();
    assert_eq!(got, members);
}

/// PUT /settings changes only the fields it names: nine changes
/// of distinct settings, sent together, all stay.
async fn parallel_settings_changes_all_survive(b: Backend) {
    let t = shared(b).await.new_tenant().await;
    let changes = [
        json!({ "passwordPolicy": { "minLength": 12 } }),
        json!({ "passwordPolicy": { "requireSpecial": false } }),
        json!({ "lockout": { "maxFailedAttempts": 7 } }),
        json!({ "lockout": { "windowMinutes": 20 } }),
        json!({ "lockout": { "lockMinutes": 30 } }),
        json!({ "sessions": { "lifetimeMinutes": 600 } }),
        json!({ "sessions": { "rememberMeDays": 7 } }),
        json!({ "requireEmailVerification": false }),
        json!({ "allowRegistration": true }),
    ];
    all_answer(
        200,
        changes
            .iter()
            .map(|body| t.owner.put("/api/v1/settings", body.clone())),
    )
    .await;
    let s = t.owner.get("/api/v1/settings").await;
    let s = s.ok();
    assert_eq!(s["passwordPolicy"]["minLength"], 12);
    assert_eq!(s["passwordPolicy"]["requireSpecial"], false);
    assert_eq!(
        s["lockout"],
        json!({ "maxFailedAttempts": 7, "windowMinutes": 20, "lockMinutes": 30 })
    );
    assert_eq!(
        s["sessions"],
        json!({ "lifetimeMinutes": 600, "rememberMeDays": 7 })
    );
    assert_eq!(s["requireEmailVerification"], false);
    assert_eq!(s["allowRegistration"], true);
}

/// PUT /roles/{id} changes the fields it names; a rename, a new
/// description and new permissions sent together all stay, in both the
/// native and the Aritma dialect (which edit the same role).
async fn parallel_role_edits_all_survive(b: Backend) {
    let t = shared(b).await.new_tenant().await;
    for round in 0..4 {
        let r = t
            .owner
            .post(
                "/api/v1/roles",
                json!({ "name": format!("Editor {round}"), "permissions": ["user:read"] }),
            )
            .await;
        let id = r.ok()["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/roles/{id}");
        let bodies = [
            json!({ "name": format!("Renamed {round}") }),
            json!({ "description": "Edits things" }),
            json!({ "permissions": ["user:read", "group:read"] }),
        ];
        all_answer(
            200,
            bodies.iter().map(|body| t.owner.put(&path, body.clone())),
        )
        .await;
        let role = t.owner.get(&path).await;
        let role = role.ok();
        assert_eq!(role["name"], format!("Renamed {round}"));
        assert_eq!(role["description"], "Edits things");
        let mut permissions: Vec<&str> = role["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        permissions.sort();
        assert_eq!(permissions, ["group:read", "user:read"]);
    }
}

/// JSON:API PATCH /accounts/{id} changes the attributes it sends: five
/// updates of distinct attributes, sent together, all stay.
async fn parallel_account_updates_all_survive(b: Backend) {
    let t = shared(b).await.new_tenant().await;
    let u = t.user("acct").await;
    let path = format!("/api/v1/accounts/{}", u.id);
    let email = t.email("renamed");
    let attributes = [
        json!({ "name": "Ada Lovelace" }),
        json!({ "email": email }),
        json!({ "picture_url": "https://img.example/ada.png" }),
        json!({ "sso_channel": "google" }),
        json!({ "role_scope": "/organizations/7" }),
    ];
    all_answer(
        200,
        attributes.iter().map(|a| {
            let body = json!({ "data": { "type": "accounts", "id": u.id, "attributes": a } });
            t.owner.jsonapi(Method::PATCH, &path, Some(body))
        }),
    )
    .await;
    let r = t.owner.jsonapi(Method::GET, &path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let a = &r.body["data"]["attributes"];
    assert_eq!(a["name"], "Ada Lovelace");
    assert_eq!(a["email"], email);
    assert_eq!(a["picture_url"], "https://img.example/ada.png");
    assert_eq!(a["sso_channel"], "google");
    assert_eq!(a["role_scope"], "/organizations/7");
}

/// A tenant always keeps an active owner. Two owners suspending
/// each other at the same moment: one wins, the other is refused (409, or
/// 401 when its own suspension came first), and one owner stays active.
async fn two_owners_suspending_each_other_leave_one(b: Backend) {
    let app = shared(b).await;
    for _ in 0..3 {
        let t = app.new_tenant().await;
        let second = t.user("second").await;
        let r = t
            .owner
            .post(
                &format!("/api/v1/users/{}/roles", second.id),
                json!({ "roleId": t.role_id("owner").await }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let (suspend_second, suspend_owner) = (
            format!("/api/v1/users/{}/suspend", second.id),
            format!("/api/v1/users/{}/suspend", t.owner_id),
        );
        let (a, b) = tokio::join!(
            t.owner.post(&suspend_second, json!({})),
            second.api.post(&suspend_owner, json!({})),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert!(
            statuses == [200, 401] || statuses == [200, 409],
            "{statuses:?}: {} / {}",
            a.text,
            b.text
        );
        let (a, b) = tokio::join!(
            t.owner.get("/api/v1/users/me"),
            second.api.get("/api/v1/users/me")
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 401], "exactly one owner stays active");
    }
}

/// A client holds at most five live secrets (docs/api/iam.md). Ten created at
/// once: five are made, five refused (409), and five exist.
async fn parallel_client_secrets_stop_at_the_limit(b: Backend) {
    let t = shared(b).await.new_tenant().await;
    let id = t
        .new_client(&["client_credentials"], &[crate::support::oauth::IAM])
        .await;
    let path = format!("/core/iam/v1/clients/{id}/secrets");
    let created = join_all((0..10).map(|i| {
        t.owner.post(
            &path,
            json!({ "value": format!("s3cret-{i:02}"), "description": "race" }),
        )
    }))
    .await;
    let mut statuses: Vec<u16> = created.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 409, 409, 409, 409, 409]);
    let listed = t.owner.get(&path).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body.as_array().unwrap().len(), 5, "{}", listed.text);
}
