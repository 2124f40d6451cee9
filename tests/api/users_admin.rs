//! User administration (docs/api/ithbat.md, Users): GET/POST/PUT/DELETE
//! /api/v1/users, PATCH and the single `name`, the list envelope.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{pluck, shared, tenant, Backend, PASSWORD};

on_both_backends!(
    create_returns_201_and_the_user_response,
    seed_000_requests_still_work,
    create_without_password_or_verification,
    email_is_unique_per_tenant_case_insensitively,
    concurrent_creates_of_one_email_make_one_user,
    create_rejects_bad_input_and_writes_nothing,
    list_pages_searches_filters_and_sorts,
    get_update_and_delete,
    suspend_revokes_sessions_at_once,
    reactivate_and_unlock,
    user_sessions_are_listed_and_revoked,
    metadata_deep_merges_within_a_size_limit,
    every_endpoint_enforces_its_permission,
    another_tenants_users_do_not_exist,
    the_last_owner_stays,
    substring_search_follows_every_change,
);

/// POST /users answers 201 with the created user;
/// new users get the `member` role.
async fn create_returns_201_and_the_user_response(b: Backend) {
    let t = tenant(b).await;
    let email = t.email("carol");
    let r = t
        .owner
        .post(
            "/api/v1/users",
            json!({ "email": email, "firstName": "Carol", "fatherName": "Omar", "familyName": "Williams", "skipEmailVerification": true }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let u = r.ok();
    assert_eq!(u["email"], email.as_str());
    assert_eq!(u["firstName"], "Carol");
    assert_eq!(u["fatherName"], "Omar");
    assert_eq!(u["grandfatherName"], "");
    assert_eq!(u["familyName"], "Williams");
    assert_eq!(u["displayName"], "Carol Williams");
    assert_eq!(u["tenantId"], t.id.as_str());
    assert_eq!(u["status"], "active");
    assert_eq!(u["emailVerified"], true);
    assert_eq!(u["roles"], json!(["member"]));
    assert_eq!(u["metadata"], json!({}));
    let id = u["id"].as_str().unwrap();
    let got = t.owner.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(got.ok()["email"], email.as_str());
}

/// POST with `name`, `password`, `phoneNumber`; PATCH with `name`
/// and `phoneNumber`; DELETE answers `deletedAt`; GET /users?page&limit
/// answers `pagination`.
async fn seed_000_requests_still_work(b: Backend) {
    let t = tenant(b).await;
    let email = t.email("jane");
    let r = t
        .owner
        .post(
            "/api/v1/users",
            json!({ "email": email, "name": "Jane Smith", "password": "SecureP@ssw0rd123", "phoneNumber": "+1234567890" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let u = r.ok();
    assert_eq!(
        (u["firstName"].as_str(), u["familyName"].as_str()),
        (Some("Jane"), Some("Smith"))
    );
    assert_eq!(u["name"], "Jane Smith");
    assert_eq!(u["phoneNumber"], "+1234567890");
    assert_eq!(u["emailVerified"], false);
    let id = u["id"].as_str().unwrap().to_string();

    let r = t
        .owner
        .patch(
            &format!("/api/v1/users/{id}"),
            json!({ "name": "John Updated Doe", "phoneNumber": "+0987654321" }),
        )
        .await;
    let u = r.ok();
    assert_eq!(u["name"], "John Updated Doe");
    assert_eq!(u["phoneNumber"], "+0987654321");
    assert!(u["updatedAt"].is_string());

    let r = t.owner.get("/api/v1/users?page=1&limit=20").await;
    assert_eq!(
        r.body["pagination"],
        json!({ "page": 1, "limit": 20, "total": 2, "totalPages": 1 })
    );
    assert_eq!(r.ok()["total"], 2);

    let r = t.owner.delete(&format!("/api/v1/users/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["message"], "User deleted");
    assert!(r.body["deletedAt"].as_str().unwrap().ends_with('Z'));
    t.owner
        .get(&format!("/api/v1/users/{id}"))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
}

/// The password is optional, skipEmailVerification defaults to false; an
/// unverified account cannot sign in (ACCOUNT_NOT_VERIFIED) until verified.
async fn create_without_password_or_verification(b: Backend) {
    let t = tenant(b).await;
    let unverified = t.email("unverified");
    let r = t
        .owner
        .post("/api/v1/users", json!({ "email": unverified, "firstName": "U", "familyName": "V", "password": PASSWORD }))
        .await;
    assert_eq!(r.ok()["emailVerified"], false);
    let login = t.anonymous().try_login(&unverified, PASSWORD).await;
    login.expect(403, "ACCOUNT_NOT_VERIFIED");

    // Without a password there is nothing to sign in with.
    let nopass = t.email("nopass");
    let r = t
        .owner
        .post("/api/v1/users", json!({ "email": nopass, "firstName": "N", "familyName": "P", "skipEmailVerification": true }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let login = t.anonymous().try_login(&nopass, PASSWORD).await;
    login.expect(401, "INVALID_CREDENTIALS");
}

/// The email must be unique in the tenant (DUPLICATE_EMAIL 409),
/// case-insensitively, non-ASCII addresses included; another tenant may
/// use the same address.
async fn email_is_unique_per_tenant_case_insensitively(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let create = |email: String| {
        let owner = t.owner.clone();
        async move {
            owner
                .post(
                    "/api/v1/users",
                    json!({ "email": email, "firstName": "A", "familyName": "B" }),
                )
                .await
        }
    };
    assert_eq!(
        create(format!("Ünïcode@{}.example", t.slug)).await.status,
        201
    );
    let r = create(format!("üNÏCODE@{}.EXAMPLE", t.slug)).await;
    r.expect(409, "DUPLICATE_EMAIL");
    assert_eq!(r.fields(), ["email"]);
    // NFC and NFD spellings of "é" are the same address.
    assert_eq!(
        create(format!("caf\u{e9}@{}.example", t.slug)).await.status,
        201
    );
    create(format!("cafe\u{301}@{}.example", t.slug))
        .await
        .expect(409, "DUPLICATE_EMAIL");
    create(t.owner_email.to_uppercase())
        .await
        .expect(409, "DUPLICATE_EMAIL");

    let other = app.new_tenant().await;
    let r = other
        .owner
        .post("/api/v1/users", json!({ "email": format!("ünïcode@{}.example", t.slug), "firstName": "A", "familyName": "B" }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Changing an email onto a taken one is refused the same way.
    let id = other.owner.get("/api/v1/users?limit=100").await.ok()["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"].as_str().unwrap().starts_with("ü"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    other
        .owner
        .put(
            &format!("/api/v1/users/{id}"),
            json!({ "email": other.owner_email }),
        )
        .await
        .expect(409, "DUPLICATE_EMAIL");
}

/// The unique index decides under concurrency: twenty simultaneous creates
/// of one address make one user.
async fn concurrent_creates_of_one_email_make_one_user(b: Backend) {
    let t = tenant(b).await;
    let email = t.email("racer");
    let attempts = (0..20).map(|i| {
        let owner = t.owner.clone();
        let email = if i % 2 == 0 {
            email.clone()
        } else {
            email.to_uppercase()
        };
        async move {
            owner
                .post(
                    "/api/v1/users",
                    json!({ "email": email, "firstName": "R", "familyName": "C" }),
                )
                .await
        }
    });
    let answers = join_all(attempts).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    let duplicates = answers
        .iter()
        .filter(|r| r.code() == "DUPLICATE_EMAIL")
        .count();
    assert_eq!(
        (created, duplicates),
        (1, 19),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let list = t
        .owner
        .get(&format!("/api/v1/users?search={}", "racer"))
        .await;
    assert_eq!(list.ok()["total"], 1);
}

async fn create_rejects_bad_input_and_writes_nothing(b: Backend) {
    let t = tenant(b).await;
    let e = t.email("x");
    let cases = [
        (
            json!({ "firstName": "A", "familyName": "B" }),
            vec!["email"],
        ),
        (
            json!({ "email": "not-an-email", "firstName": "A", "familyName": "B" }),
            vec!["email"],
        ),
        (json!({ "email": e, "familyName": "B" }), vec!["firstName"]),
        (
            json!({ "email": e, "firstName": "", "familyName": "" }),
            vec!["firstName", "familyName"],
        ),
        (
            json!({ "email": e, "firstName": "A", "familyName": "B", "password": "short" }),
            vec!["password"],
        ),
        (
            json!({ "email": e, "firstName": "A", "familyName": "B", "role": "admin" }),
            vec!["role"],
        ),
        (
            json!({ "email": e, "firstName": 1, "familyName": "B" }),
            vec!["firstName"],
        ),
        (
            json!({ "email": e, "firstName": "A", "familyName": "B", "skipEmailVerification": "yes" }),
            vec!["skipEmailVerification"],
        ),
        (
            json!({ "email": e, "firstName": "A", "familyName": "B", "phoneNumber": "call me" }),
            vec!["phoneNumber"],
        ),
        (
            json!({ "email": e, "firstName": "A".repeat(101), "familyName": "B" }),
            vec!["firstName"],
        ),
    ];
    for (body, fields) in cases {
        let r = t.owner.post("/api/v1/users", body.clone()).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), fields, "{body}");
    }
    let r = t.owner.get("/api/v1/users").await;
    assert_eq!(r.ok()["total"], 1, "only the owner exists");
}

/// GET /users: page, limit (default 25, max 100), search over
/// names and email, status, roleId, sortBy/sortOrder; exact totals.
async fn list_pages_searches_filters_and_sorts(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let rows: Vec<Value> = (0..30)
        .map(|i| {
            json!({
                "email": t.email(&format!("user{i:02}")),
                "firstName": if i % 3 == 0 { "Ālice" } else { "Bob" },
                "familyName": format!("Family{i:02}"),
                "skipEmailVerification": true,
            })
        })
        .collect();
    let r = t.bulk_users(rows).await;
    assert_eq!(r.ok()["successful"], 30, "{}", r.text);

    let r = t.owner.get("/api/v1/users").await;
    assert_eq!(r.ok()["total"], 31);
    assert_eq!(
        r.ok()["users"].as_array().unwrap().len(),
        25,
        "default limit is 25"
    );
    assert_eq!(
        r.body["pagination"],
        json!({ "page": 1, "limit": 25, "total": 31, "totalPages": 2 })
    );
    let r = t.owner.get("/api/v1/users?page=2").await;
    assert_eq!(r.ok()["users"].as_array().unwrap().len(), 6);

    // Case-insensitive search, Unicode included, over names and email.
    let r = t.owner.get("/api/v1/users?search=%C4%80LICE").await;
    assert_eq!(r.ok()["total"], 10);
    let r = t.owner.get("/api/v1/users?search=family07").await;
    assert_eq!(r.ok()["total"], 1);
    let r = t.owner.get("/api/v1/users?search=USER1").await;
    assert_eq!(r.ok()["total"], 10);
    // LIKE wildcards are literal.
    assert_eq!(t.owner.get("/api/v1/users?search=_").await.ok()["total"], 0);
    // the Aritma spellings (pageSize, searchText)
    let r = t
        .owner
        .get("/api/v1/users?searchText=family0&pageSize=3")
        .await;
    assert_eq!(
        (
            r.ok()["total"].as_i64(),
            r.body["pagination"]["limit"].as_i64()
        ),
        (Some(10), Some(3))
    );

    let r = t
        .owner
        .get("/api/v1/users?sortBy=familyName&sortOrder=desc&limit=3")
        .await;
    let names: Vec<&str> = pluck(&r.ok()["users"], "/familyName");
    assert_eq!(names, ["Owner", "Family29", "Family28"]);

    let owner_role = t.role_id("owner").await;
    let r = t
        .owner
        .get(&format!("/api/v1/users?roleId={owner_role}"))
        .await;
    assert_eq!(r.ok()["total"], 1);
    assert_eq!(r.ok()["users"][0]["email"], t.owner_email.as_str());
    let member = t.role_id("member").await;
    assert_eq!(
        t.owner
            .get(&format!("/api/v1/users?roleId={member}"))
            .await
            .ok()["total"],
        30
    );

    let id = r.ok()["users"][0]["id"].as_str().unwrap().to_string();
    let victim = t.owner.get("/api/v1/users?search=user05").await.ok()["users"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.owner
        .post(&format!("/api/v1/users/{victim}/suspend"), json!({}))
        .await;
    let r = t.owner.get("/api/v1/users?status=suspended").await;
    assert_eq!(r.ok()["total"], 1);
    assert_eq!(
        t.owner.get("/api/v1/users?status=active").await.ok()["total"],
        30
    );
    assert_ne!(id, victim);

    for (query, field) in [
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("page=-1", "page"),
        ("status=locked", "status"),
        ("roleId=abc", "roleId"),
        ("sortBy=password", "sortBy"),
        ("sortOrder=sideways", "sortOrder"),
    ] {
        let r = t.owner.get(&format!("/api/v1/users?{query}")).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{query}");
    }
    // Another tenant's role filters nothing in: it is refused.
    let other = app.new_tenant().await;
    let foreign = other.role_id("member").await;
    let r = t
        .owner
        .get(&format!("/api/v1/users?roleId={foreign}"))
        .await;
    assert_eq!(r.fields(), ["roleId"]);
}

/// GET/PUT/DELETE /users/{id}.
async fn get_update_and_delete(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("dana").await;
    let path = format!("/api/v1/users/{}", u.id);
    let r = t.owner.put(&path, json!({ "firstName": "Alicia" })).await;
    let data = r.ok();
    assert_eq!(data["firstName"], "Alicia");
    assert_eq!(data["familyName"], "Tester");
    let new_email = t.email("dana.new");
    let r = t.owner.put(&path, json!({ "email": new_email })).await;
    assert_eq!(r.ok()["email"], new_email.as_str());
    assert_eq!(
        r.ok()["emailVerified"],
        false,
        "a new address is not verified"
    );
    for (body, field) in [
        (json!({ "status": "active" }), "status"),
        (json!({ "email": "bad" }), "email"),
        (json!({ "familyName": "" }), "familyName"),
        (json!({ "firstName": null }), "firstName"),
    ] {
        let r = t.owner.put(&path, body).await;
        r.invalid(&[field]);
    }
    assert_eq!(t.owner.get(&path).await.ok()["firstName"], "Alicia");

    // Delete revokes every session: the user's token fails at once.
    assert_eq!(u.api.me().await.status, 200);
    let r = t.owner.delete(&path).await;
    assert_eq!(r.body["message"], "User deleted");
    u.api.me().await.expect(401, "UNAUTHORIZED");
    t.owner.get(&path).await.expect(404, "RESOURCE_NOT_FOUND");
    t.owner
        .delete(&path)
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    t.owner
        .get("/api/v1/users/not-a-uuid")
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    // No one deletes themselves.
    t.owner
        .delete(&format!("/api/v1/users/{}", t.owner_id))
        .await
        .expect(409, "CONFLICT");
}

/// POST /users/{id}/suspend: suspended users cannot sign in, and all their
/// active sessions are revoked.
async fn suspend_revokes_sessions_at_once(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("sam").await;
    let other_session = u.api.anonymous().login(&u.email, PASSWORD).await;
    let r = t
        .owner
        .post(&format!("/api/v1/users/{}/suspend", u.id), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["message"], "User suspended");
    assert_eq!(r.body["data"]["status"], "suspended");
    u.api.me().await.expect(401, "UNAUTHORIZED");
    other_session.me().await.expect(401, "UNAUTHORIZED");
    t.anonymous()
        .try_refresh(u.api.refresh_token.as_deref().unwrap())
        .await
        .expect(401, "UNAUTHORIZED");
    // ACCOUNT_SUSPENDED, but only to someone with the password.
    let right = u.api.anonymous().try_login(&u.email, PASSWORD).await;
    right.expect(403, "ACCOUNT_SUSPENDED");
    let wrong = u.api.anonymous().try_login(&u.email, "Wrong!pass1").await;
    wrong.expect(401, "INVALID_CREDENTIALS");
    // No one suspends themselves.
    t.owner
        .post(&format!("/api/v1/users/{}/suspend", t.owner_id), json!({}))
        .await
        .expect(409, "CONFLICT");
}

/// Reactivate ("User reactivated") and unlock ("User account
/// unlocked"); the user object shows `locked` and `lockedUntil`.
async fn reactivate_and_unlock(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("rita").await;
    t.owner
        .post(&format!("/api/v1/users/{}/suspend", u.id), json!({}))
        .await;
    let r = t
        .owner
        .post(&format!("/api/v1/users/{}/reactivate", u.id), json!({}))
        .await;
    assert_eq!(r.body["message"], "User reactivated");
    assert_eq!(r.body["data"]["status"], "active");
    let api = u.api.anonymous().login(&u.email, PASSWORD).await;

    for i in 0..5 {
        api.anonymous()
            .try_login(&u.email, &format!("Wrong!{i}x"))
            .await;
    }
    let shown = t.owner.get(&format!("/api/v1/users/{}", u.id)).await;
    assert_eq!(shown.ok()["locked"], true);
    assert!(shown.ok()["lockedUntil"].is_string());
    api.anonymous()
        .try_login(&u.email, PASSWORD)
        .await
        .expect(403, "ACCOUNT_LOCKED");
    let r = t
        .owner
        .post(&format!("/api/v1/users/{}/unlock", u.id), json!({}))
        .await;
    assert_eq!(r.body["message"], "User account unlocked");
    assert_eq!(r.body["data"]["locked"], false);
    api.anonymous().login(&u.email, PASSWORD).await;
}

/// GET/DELETE /users/{id}/sessions.
async fn user_sessions_are_listed_and_revoked(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("sid").await;
    u.api.anonymous().login(&u.email, PASSWORD).await;
    let r = t
        .owner
        .get(&format!("/api/v1/users/{}/sessions", u.id))
        .await;
    assert_eq!(r.ok()["total"], 2);
    assert_eq!(r.ok()["sessions"][0]["isCurrent"], false);
    let r = t
        .owner
        .delete(&format!("/api/v1/users/{}/sessions", u.id))
        .await;
    assert_eq!(r.body["data"]["revoked"], 2);
    u.api.me().await.expect(401, "UNAUTHORIZED");
    assert_eq!(
        t.owner
            .get(&format!("/api/v1/users/{}/sessions", u.id))
            .await
            .ok()["total"],
        0
    );
}

/// PATCH /users/{id}/metadata sets or merges custom metadata;
/// a null value removes a key; 16 KiB at most.
async fn metadata_deep_merges_within_a_size_limit(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("meta").await;
    let path = format!("/api/v1/users/{}/metadata", u.id);
    let patch = |body: Value| t.owner.patch(&path, body);
    let r = patch(json!({ "metadata": { "department": "Engineering", "employeeId": "EMP-0042", "costCenter": "CC-101", "address": { "city": "Riyadh", "zip": "11564" } } })).await;
    assert_eq!(r.ok()["metadata"]["department"], "Engineering");
    let r = patch(json!({ "metadata": { "costCenter": null, "address": { "zip": null, "country": "SA" }, "tags": [1, 2] } })).await;
    assert_eq!(
        r.ok()["metadata"],
        json!({ "department": "Engineering", "employeeId": "EMP-0042", "address": { "city": "Riyadh", "country": "SA" }, "tags": [1, 2] })
    );
    let big = "x".repeat(17 * 1024);
    let r = patch(json!({ "metadata": { "blob": big } })).await;
    r.invalid(&["metadata"]);
    let r = patch(json!({ "metadata": "not an object" })).await;
    assert_eq!(r.fields(), ["metadata"]);
    let r = patch(json!({ "meta": {} })).await;
    r.expect(400, "VALIDATION_ERROR");
    let stored = t.owner.get(&format!("/api/v1/users/{}", u.id)).await;
    assert_eq!(stored.ok()["metadata"]["department"], "Engineering");
    assert!(stored.ok()["metadata"].get("blob").is_none());
}

/// user:read / user:write / role:write; members hold none.
async fn every_endpoint_enforces_its_permission(b: Backend) {
    let t = tenant(b).await;
    let member = t.user("plain").await;
    let target = t.user("target").await;
    let id = &target.id;
    let role = t.role_id("admin").await;
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/users".into(), None),
        (Method::GET, format!("/api/v1/users/{id}"), None),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({ "email": t.email("z"), "firstName": "Z", "familyName": "Z" })),
        ),
        (
            Method::POST,
            "/api/v1/users/bulk".into(),
            Some(
                json!({ "users": [{ "email": t.email("y"), "firstName": "Y", "familyName": "Y" }] }),
            ),
        ),
        (
            Method::PUT,
            format!("/api/v1/users/{id}"),
            Some(json!({ "firstName": "Hacked" })),
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{id}"),
            Some(json!({ "name": "Hacked Name" })),
        ),
        (Method::DELETE, format!("/api/v1/users/{id}"), None),
        (
            Method::POST,
            format!("/api/v1/users/{id}/suspend"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/users/{id}/reactivate"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/users/{id}/unlock"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/users/{id}/sessions"), None),
        (Method::DELETE, format!("/api/v1/users/{id}/sessions"), None),
        (
            Method::POST,
            format!("/api/v1/users/{id}/roles"),
            Some(json!({ "roleId": role })),
        ),
        (
            Method::DELETE,
            format!("/api/v1/users/{id}/roles/{role}"),
            None,
        ),
        (Method::GET, format!("/api/v1/users/{id}/permissions"), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{id}/metadata"),
            Some(json!({ "metadata": { "a": 1 } })),
        ),
    ];
    for (method, path, body) in calls {
        let r = member.api.call(method.clone(), &path, body.as_ref()).await;
        assert_eq!(
            (r.status, r.code()),
            (403, "FORBIDDEN"),
            "{method} {path}: {}",
            r.text
        );
        let r = member
            .api
            .anonymous()
            .call(method.clone(), &path, body.as_ref())
            .await;
        assert_eq!(
            (r.status, r.code()),
            (401, "UNAUTHORIZED"),
            "{method} {path} without a token"
        );
    }
    // Nothing changed.
    let r = t.owner.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(r.ok()["firstName"], "target");
    assert_eq!(r.ok()["status"], "active");
    assert_eq!(t.owner.get("/api/v1/users").await.ok()["total"], 3);
    // The member still manages themselves.
    assert_eq!(
        member
            .api
            .put("/api/v1/users/me", json!({ "firstName": "Plain" }))
            .await
            .status,
        200
    );
}

/// A resource of another tenant is indistinguishable from one that does
/// not exist (404, never 403; docs/security.md, Tenancy).
async fn another_tenants_users_do_not_exist(b: Backend) {
    let app = shared(b).await;
    let a = app.new_tenant().await;
    let other = app.new_tenant().await;
    let theirs = other.user("theirs").await;
    let id = &theirs.id;
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/users/{id}"), None),
        (
            Method::PUT,
            format!("/api/v1/users/{id}"),
            Some(json!({ "firstName": "X" })),
        ),
        (Method::DELETE, format!("/api/v1/users/{id}"), None),
        (
            Method::POST,
            format!("/api/v1/users/{id}/suspend"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/users/{id}/sessions"), None),
        (Method::GET, format!("/api/v1/users/{id}/permissions"), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{id}/metadata"),
            Some(json!({ "metadata": { "x": 1 } })),
        ),
    ] {
        let r = a.owner.call(method.clone(), &path, body.as_ref()).await;
        assert_eq!(
            (r.status, r.code()),
            (404, "RESOURCE_NOT_FOUND"),
            "{method} {path}: {}",
            r.text
        );
    }
    assert_eq!(theirs.api.me().await.ok()["status"], "active");
    assert!(
        a.owner.get("/api/v1/users?search=theirs").await.ok()["users"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A platform administrator reaches them by naming the tenant.
    let admin = app.admin().await;
    let r = admin
        .with_tenant(&other.id)
        .get(&format!("/api/v1/users/{id}"))
        .await;
    assert_eq!(r.ok()["id"], id.as_str());
}

/// A tenant keeps an active owner: the last one cannot be suspended,
/// deleted or lose the role.
async fn the_last_owner_stays(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let admin = app.admin().await.with_tenant(&t.id);
    let owner_role = t.role_id("owner").await;
    let path = format!("/api/v1/users/{}", t.owner_id);
    admin
        .post(&format!("{path}/suspend"), json!({}))
        .await
        .expect(409, "CONFLICT");
    admin.delete(&path).await.expect(409, "CONFLICT");
    admin
        .delete(&format!("{path}/roles/{owner_role}"))
        .await
        .expect(409, "CONFLICT");
    // With a second owner, the first may go.
    let second = t.user("second").await;
    let r = t
        .owner
        .post(
            &format!("/api/v1/users/{}/roles", second.id),
            json!({ "roleId": owner_role }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = admin.post(&format!("{path}/suspend"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Substring search (the list's `search`, JSON:API `__match`, SCIM `co`)
/// finds users by what they are now: after a rename, an email change and a
/// deletion, through every dialect. On SQLite these go through the FTS5
/// trigram table its triggers keep (docs/design, ARCHITECTURE.md "Lists at
/// scale"); two-character terms have no trigram and scan.
async fn substring_search_follows_every_change(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let id = t
        .create_user(&t.email("quentin"), "Quentin", "Zebulon")
        .await;
    let path = format!("/api/v1/users/{id}");
    let found = |body: &Value| -> Vec<String> {
        body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect()
    };
    let searches = |term: &str| {
        let (t, scim) = (&t, &scim);
        let term = term.to_string();
        async move {
            let native = t.owner.get(&format!("/api/v1/users?search={term}")).await;
            let native = found(native.ok());
            let jsonapi = t
                .owner
                .get(&format!("/api/v1/accounts?filter%5Bname__match%5D={term}"))
                .await;
            assert_eq!(jsonapi.status, 200, "{}", jsonapi.text);
            let jsonapi: Vec<String> = jsonapi.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_string())
                .collect();
            let filter = format!("userName co \"{term}\"");
            let r = scim.query("/Users", &[("filter", filter.as_str())]).await;
            let scim: Vec<String> = r.scim(200)["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_string())
                .collect();
            (native, jsonapi, scim)
        }
    };
    let me = vec![id.clone()];
    let none: Vec<String> = Vec::new();
    let (native, jsonapi, _) = searches("zebul").await;
    assert_eq!((native, jsonapi), (me.clone(), me.clone()));
    let (native, jsonapi, _) = searches("ze").await;
    assert!(native.contains(&id) && jsonapi.contains(&id));
    let (native, _, by_user_name) = searches("quenti").await;
    assert_eq!((native, by_user_name), (me.clone(), me.clone()));
    // A NUL inside a term never reaches the trigram table (FTS5 reads its
    // query as C text): every dialect refuses it first.
    let r = t
        .owner
        .get("/api/v1/accounts?filter%5Bname__match%5D=zebu%00lon")
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = scim
        .query("/Users", &[("filter", "userName co \"quen\u{0}tin\"")])
        .await;
    r.scim_error(400, Some("invalidFilter"));
    let r = t.owner.get("/api/v1/users?search=zebu%00lon").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["details"][0]["field"], "search");

    let r = t
        .owner
        .put(
            &path,
            json!({ "familyName": "Yarrow", "email": t.email("ursula") }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (native, jsonapi, _) = searches("zebul").await;
    assert_eq!((native, jsonapi), (none.clone(), none.clone()));
    let (native, jsonapi, _) = searches("yarro").await;
    assert_eq!((native, jsonapi), (me.clone(), me.clone()));
    let (native, _, by_user_name) = searches("ursul").await;
    assert_eq!((native, by_user_name), (me.clone(), none.clone()));
    // The userName stays what it was when the email changed.
    let (_, _, by_user_name) = searches("quenti").await;
    assert_eq!(by_user_name, me.clone());

    assert_eq!(t.owner.delete(&path).await.status, 200);
    for term in ["yarro", "ursul", "quenti"] {
        let (native, jsonapi, scim) = searches(term).await;
        assert!(
            native.is_empty() && jsonapi.is_empty() && scim.is_empty(),
            "{term}"
        );
    }
}
