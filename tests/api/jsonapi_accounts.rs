//! JSON:API `accounts` (docs/api/jsonapi.md): documents over the same user rows
//! as `/api/v1/users`; create, show, update, delete, and every malformed
//! document refused without a write.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::jsonapi::{doc, doc_for};
use crate::support::{shared, tenant, Api, Backend, PASSWORD};

on_both_backends!(
    create_show_update_delete,
    an_account_is_the_native_user,
    sparse_fieldsets_and_included_organization,
    role_name_and_scope,
    disabling_an_account_ends_its_sessions,
    malformed_documents_change_nothing,
    credentials_and_permissions,
    media_types,
);

async fn count(api: &Api) -> i64 {
    let r = api
        .jsonapi_get("/api/v1/accounts?count=true&page[size]=1")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["meta"]["count"].as_i64().unwrap()
}

/// Create answers 200 with the account, show 200, update 200,
/// delete 204; attributes from the documented filter fields, never
/// password_reset_token.
async fn create_show_update_delete(b: Backend) {
    let t = tenant(b).await;
    let email = t.email("jane");
    let r = t
        .owner
        .jsonapi(
            Method::POST,
            "/api/v1/accounts",
            Some(doc(
                "accounts",
                json!({ "name": "Jane Doe", "email": email, "password": PASSWORD, "picture_url": "https://cdn.example/jane.png" }),
            )),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/vnd.api+json"));
    let data = &r.body["data"];
    assert_eq!(data["type"], "accounts");
    let id = data["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/accounts/{id}").as_str())
    );
    let a = &data["attributes"];
    assert_eq!(a["name"], "Jane Doe");
    assert_eq!(a["email"], email);
    assert_eq!(a["enabled"], true);
    assert_eq!(a["status"], "active");
    assert_eq!(a["role_name"], "member");
    assert_eq!(a["role_scope"], "/");
    assert_eq!(a["picture_url"], "https://cdn.example/jane.png");
    assert_eq!(a["sso_channel"], Value::Null);
    assert!(a["joined_at"].is_string());
    assert_eq!(a["invitation_expired_at"], Value::Null);
    for key in ["created_at", "updated_at"] {
        assert!(
            chrono::DateTime::parse_from_rfc3339(a[key].as_str().unwrap()).is_ok(),
            "{key}"
        );
    }
    assert!(a.get("password").is_none() && a.get("password_reset_token").is_none());
    assert!(!r.text.contains(PASSWORD));
    assert_eq!(data["links"]["self"], format!("/api/v1/accounts/{id}"));
    assert_eq!(data["relationships"]["organization"]["data"], Value::Null);

    let shown = t.owner.jsonapi_get(&format!("/api/v1/accounts/{id}")).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert_eq!(shown.body["data"]["attributes"], *a);

    let updated = t
        .owner
        .update_account(
            &id,
            json!({
                "name": "Janet Doe", "picture_url": null, "sso_channel": "google",
                // read-only attributes a client sends back are ignored
                "created_at": "2000-01-01T00:00:00Z"
            }),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    let u = &updated.body["data"]["attributes"];
    assert_eq!(u["name"], "Janet Doe");
    assert_eq!(u["picture_url"], Value::Null);
    assert_eq!(u["sso_channel"], "google");
    assert_eq!(u["email"], email, "unchanged fields stay");
    assert_eq!(u["created_at"], a["created_at"]);

    let deleted = t
        .owner
        .jsonapi_delete(&format!("/api/v1/accounts/{id}"))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert!(deleted.text.is_empty());
    let gone = t.owner.jsonapi_get(&format!("/api/v1/accounts/{id}")).await;
    gone.jsonapi_error(404, None);
    assert_eq!(gone.error()["code"], "RESOURCE_NOT_FOUND");
}

/// An account is the same user row as /api/v1/users; a change in
/// one dialect shows in the other.
async fn an_account_is_the_native_user(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("native").await;
    let r = t
        .owner
        .jsonapi_get(&format!("/api/v1/accounts/{}", user.id))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["attributes"]["email"], user.email);
    assert_eq!(r.body["data"]["attributes"]["name"], "native Tester");

    let account = t
        .create_account(
            json!({ "name": "Ali Hassan", "email": t.email("ali"), "password": PASSWORD }),
        )
        .await;
    let id = account["id"].as_str().unwrap();
    let native = t.owner.get(&format!("/api/v1/users/{id}")).await;
    let n = native.ok();
    assert_eq!(n["firstName"], "Ali");
    assert_eq!(n["familyName"], "Hassan");
    assert_eq!(n["roles"], json!(["member"]));
    // The account signs in with its password.
    t.anonymous().login(&t.email("ali"), PASSWORD).await;

    t.owner
        .put(
            &format!("/api/v1/users/{id}"),
            json!({ "firstName": "Alia" }),
        )
        .await
        .ok();
    let r = t.owner.jsonapi_get(&format!("/api/v1/accounts/{id}")).await;
    assert_eq!(r.body["data"]["attributes"]["name"], "Alia Hassan");
}

/// JSON:API sparse fieldsets (`fields[accounts]=name,email`) and
/// `included` on show and index: a compound document without duplicates.
async fn sparse_fieldsets_and_included_organization(b: Backend) {
    let t = tenant(b).await;
    let org = t.create_organization("Research").await;
    let org_id = org["id"].as_str().unwrap();
    let mut ids = Vec::new();
    for n in 0..3 {
        let r = t
            .owner
            .jsonapi(
                Method::POST,
                "/api/v1/accounts",
                Some(json!({ "data": { "type": "accounts",
                    "attributes": { "name": format!("Member {n}"), "email": t.email(&format!("m{n}")), "password": PASSWORD },
                    "relationships": { "organization": { "data": { "type": "organizations", "id": org_id } } } } })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.body["data"]["relationships"]["organization"]["data"],
            json!({ "type": "organizations", "id": org_id })
        );
        ids.push(r.body["data"]["id"].as_str().unwrap().to_string());
    }
    let r = t
        .owner
        .jsonapi_get(&format!(
            "/api/v1/accounts/{}?fields[accounts]=name,email&included=organization",
            ids[0]
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let attrs = r.body["data"]["attributes"].as_object().unwrap();
    assert_eq!(
        attrs.keys().collect::<Vec<_>>(),
        ["name", "email"],
        "{}",
        r.text
    );
    assert!(r.body["data"].get("relationships").is_none());
    assert_eq!(r.body["included"][0]["type"], "organizations");
    assert_eq!(r.body["included"][0]["attributes"]["name"], "Research");

    let r = t
        .owner
        .jsonapi_get("/api/v1/accounts?included=organization&fields[organizations]=name&filter[name__match]=member")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 3);
    let included = r.body["included"].as_array().unwrap();
    assert_eq!(included.len(), 1, "one organization, not three: {}", r.text);
    assert_eq!(
        included[0]["attributes"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["name"]
    );

    // Moving an account out of its organization.
    let r = t
        .owner
        .jsonapi(
            Method::PATCH,
            &format!("/api/v1/accounts/{}", ids[0]),
            Some(json!({ "data": { "type": "accounts", "id": ids[0], "relationships": { "organization": { "data": null } } } })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["data"]["relationships"]["organization"]["data"],
        Value::Null
    );
}

/// role_name / role_scope: the account's role and where it
/// applies; a role on part of the tenant grants nothing tenant-wide.
async fn role_name_and_scope(b: Backend) {
    let t = tenant(b).await;
    let admin = t.create_account(json!({ "name": "Ada Admin", "email": t.email("ada"), "password": PASSWORD, "role_name": "admin" }),
    )
    .await;
    assert_eq!(admin["attributes"]["role_name"], "admin");
    assert_eq!(admin["attributes"]["role_scope"], "/");
    let ada = t.anonymous().login(&t.email("ada"), PASSWORD).await;
    ada.get("/api/v1/users").await.ok();

    let scoped = t
        .create_account(
            json!({ "name": "Sam Scoped", "email": t.email("sam"), "password": PASSWORD,
                "role_name": "admin", "role_scope": "/organizations/7" }),
        )
        .await;
    assert_eq!(scoped["attributes"]["role_scope"], "/organizations/7");
    let sam = t.anonymous().login(&t.email("sam"), PASSWORD).await;
    sam.get("/api/v1/users").await.expect(403, "FORBIDDEN");

    // Widening the scope grants the role's permissions at once.
    let id = scoped["id"].as_str().unwrap();
    let r = t
        .owner
        .update_account(id, json!({ "role_scope": "/" }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["attributes"]["role_name"], "admin");
    sam.get("/api/v1/users").await.ok();

    // An unknown role or a malformed scope is refused, naming the attribute.
    for (attributes, pointer) in [
        (
            json!({ "role_name": "emperor" }),
            "/data/attributes/role_name",
        ),
        (
            json!({ "role_scope": "organizations" }),
            "/data/attributes/role_scope",
        ),
    ] {
        let r = t.owner.update_account(id, attributes).await;
        r.jsonapi_error(400, Some(json!({ "pointer": pointer })));
    }
    // A member cannot make themselves admin.
    let member = t.user("plain").await;
    let r = member
        .api
        .update_account(&member.id, json!({ "role_name": "admin" }))
        .await;
    r.jsonapi_error(403, None);
}

/// enabled=false suspends the account: its access token fails on the next
/// request (suspending anywhere revokes sessions everywhere,
/// docs/api/jsonapi.md).
async fn disabling_an_account_ends_its_sessions(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("eve").await;
    user.api.me().await.ok();
    let r = t
        .owner
        .update_account(&user.id, json!({ "enabled": false }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["attributes"]["enabled"], false);
    assert_eq!(r.body["data"]["attributes"]["status"], "suspended");
    user.api.me().await.expect(401, "UNAUTHORIZED");
    let r = t
        .owner
        .update_account(&user.id, json!({ "enabled": true }))
        .await;
    assert_eq!(r.body["data"]["attributes"]["status"], "active");
    t.anonymous().login(&user.email, PASSWORD).await;
}

/// JSON:API 1.1: wrong type 409, missing data 400, id mismatch on PATCH
/// 409, client-generated id 403, unknown attributes 400, with
/// source.pointer; nothing is written by any of them.
async fn malformed_documents_change_nothing(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let existing = t
        .create_account(
            json!({ "name": "Kept Name", "email": t.email("kept"), "password": PASSWORD }),
        )
        .await;
    let id = existing["id"].as_str().unwrap().to_string();
    let before = count(&t.owner).await;
    let email = t.email("new");
    let cases: Vec<(Value, u16, Option<Value>)> = vec![
        (
            doc("people", json!({ "name": "A B", "email": email })),
            409,
            Some(json!({ "pointer": "/data/type" })),
        ),
        (
            json!({ "attributes": { "name": "A B", "email": email } }),
            400,
            Some(json!({ "pointer": "/attributes" })),
        ),
        (json!({}), 400, Some(json!({ "pointer": "/data" }))),
        (
            json!({ "data": [] }),
            400,
            Some(json!({ "pointer": "/data" })),
        ),
        (
            json!({ "data": { "attributes": { "name": "A B", "email": email } } }),
            400,
            Some(json!({ "pointer": "/data/type" })),
        ),
        (
            json!({ "data": { "type": "accounts", "id": "00000000-0000-0000-0000-000000000001", "attributes": { "name": "A B", "email": email } } }),
            403,
            None,
        ),
        (
            doc(
                "accounts",
                json!({ "name": "A B", "email": email, "bogus": 1 }),
            ),
            400,
            Some(json!({ "pointer": "/data/attributes/bogus" })),
        ),
        (
            doc("accounts", json!({ "name": "A B", "email": 5 })),
            400,
            Some(json!({ "pointer": "/data/attributes/email" })),
        ),
        (
            doc("accounts", json!({ "name": "A B" })),
            400,
            Some(json!({ "pointer": "/data/attributes/email" })),
        ),
        (
            doc(
                "accounts",
                json!({ "name": "A B", "email": "not-an-email" }),
            ),
            400,
            Some(json!({ "pointer": "/data/attributes/email" })),
        ),
        (
            doc(
                "accounts",
                json!({ "name": "A B", "email": email, "password": "weak" }),
            ),
            400,
            Some(json!({ "pointer": "/data/attributes/password" })),
        ),
        (
            doc(
                "accounts",
                json!({ "name": "A B", "email": email, "picture_url": "javascript:alert(1)" }),
            ),
            400,
            Some(json!({ "pointer": "/data/attributes/picture_url" })),
        ),
        (
            doc("accounts", json!({ "name": "", "email": email })),
            400,
            Some(json!({ "pointer": "/data/attributes/name" })),
        ),
        (
            doc(
                "accounts",
                json!({ "name": "x".repeat(300), "email": email }),
            ),
            400,
            Some(json!({ "pointer": "/data/attributes/name" })),
        ),
        (
            doc(
                "accounts",
                json!({ "name": "Dup Licate", "email": t.email("KEPT") }),
            ),
            409,
            Some(json!({ "pointer": "/data/attributes/email" })),
        ),
        (
            json!({ "data": { "type": "accounts", "attributes": { "name": "A B", "email": email },
            "relationships": { "organization": { "data": { "type": "organizations", "id": "00000000-0000-0000-0000-000000000009" } } } } }),
            404,
            None,
        ),
        (
            json!({ "data": { "type": "accounts", "attributes": { "name": "A B", "email": email },
            "relationships": { "organization": { "data": { "type": "accounts", "id": id } } } } }),
            409,
            None,
        ),
        (
            json!({ "data": { "type": "accounts", "attributes": { "name": "A B", "email": email },
            "relationships": { "manager": { "data": null } } } }),
            400,
            Some(json!({ "pointer": "/data/relationships/manager" })),
        ),
    ];
    for (body, status, source) in cases {
        let r = t
            .owner
            .jsonapi(Method::POST, "/api/v1/accounts", Some(body.clone()))
            .await;
        r.jsonapi_error(status, source);
        assert!(
            r.error()["detail"].is_string() && r.error()["code"].is_string(),
            "{}",
            r.text
        );
        assert_eq!(count(&t.owner).await, before, "{body} wrote something");
    }

    // PATCH: the id in the document must be the URL's.
    let other = "00000000-0000-0000-0000-000000000002";
    let path = format!("/api/v1/accounts/{id}");
    for (body, status, source) in [
        (
            doc_for("accounts", other, json!({ "name": "Changed Name" })),
            409,
            Some(json!({ "pointer": "/data/id" })),
        ),
        (
            doc("accounts", json!({ "name": "Changed Name" })),
            400,
            Some(json!({ "pointer": "/data/id" })),
        ),
        (
            doc_for("organizations", &id, json!({ "name": "Changed Name" })),
            409,
            Some(json!({ "pointer": "/data/type" })),
        ),
        (
            doc_for(
                "accounts",
                &id,
                json!({ "name": "Changed Name", "email": "bad" }),
            ),
            400,
            Some(json!({ "pointer": "/data/attributes/email" })),
        ),
        (
            doc_for(
                "accounts",
                &id,
                json!({ "name": "Changed Name", "enabled": "no" }),
            ),
            400,
            Some(json!({ "pointer": "/data/attributes/enabled" })),
        ),
        (
            doc_for(
                "accounts",
                &id,
                json!({ "name": "Changed Name", "role_name": "nonexistent" }),
            ),
            400,
            Some(json!({ "pointer": "/data/attributes/role_name" })),
        ),
    ] {
        let r = t.owner.jsonapi(Method::PATCH, &path, Some(body)).await;
        r.jsonapi_error(status, source);
    }
    let after = t.owner.jsonapi_get(&path).await;
    assert_eq!(
        after.body["data"]["attributes"]["name"], "Kept Name",
        "no partial write"
    );

    // Malformed JSON, bodies that are not objects, oversized bodies.
    let r = t
        .owner
        .post_raw("/api/v1/accounts", "application/vnd.api+json", "{\"data\":")
        .await;
    r.jsonapi_error(400, Some(json!({ "pointer": "" })));
    let r = t
        .owner
        .post_raw("/api/v1/accounts", "application/vnd.api+json", "[1]")
        .await;
    r.jsonapi_error(400, None);
    let big = format!(
        "{{\"data\":{{\"type\":\"accounts\",\"attributes\":{{\"name\":\"{}\"}}}}}}",
        "x".repeat(1 << 21)
    );
    let r = t
        .owner
        .post_raw("/api/v1/accounts", "application/vnd.api+json", big)
        .await;
    r.jsonapi_error(413, None);
    assert_eq!(count(&t.owner).await, before);

    // Unknown or foreign ids: 404, never 500 or 403.
    let other_tenant = app.new_tenant().await;
    let foreign = other_tenant.create_account(json!({ "name": "Foreign One", "email": other_tenant.email("f"), "password": PASSWORD }),
    )
    .await;
    let foreign_id = foreign["id"].as_str().unwrap();
    for path in [
        "/api/v1/accounts/not-a-uuid".to_string(),
        format!("/api/v1/accounts/{foreign_id}"),
        "/api/v1/accounts/00000000-0000-0000-0000-000000000003".to_string(),
    ] {
        t.owner.jsonapi_get(&path).await.jsonapi_error(404, None);
        t.owner.jsonapi_delete(&path).await.jsonapi_error(404, None);
    }
    let r = t
        .owner
        .update_account(foreign_id, json!({ "name": "Hijacked Name" }))
        .await;
    r.jsonapi_error(404, None);
    let still = other_tenant
        .owner
        .jsonapi_get(&format!("/api/v1/accounts/{foreign_id}"))
        .await;
    assert_eq!(still.body["data"]["attributes"]["name"], "Foreign One");
}

/// No token: 401 as a JSON:API error; no permission: 403.
async fn credentials_and_permissions(b: Backend) {
    let t = tenant(b).await;
    let r = t.anonymous().jsonapi_get("/api/v1/accounts").await;
    r.jsonapi_error(401, None);
    assert_eq!(r.error()["code"], "UNAUTHORIZED");
    assert!(r.header("www-authenticate").is_some());
    let r = t
        .owner
        .with_token("garbage")
        .jsonapi_get("/api/v1/accounts")
        .await;
    r.jsonapi_error(401, None);

    let member = t.user("member").await;
    let r = member.api.jsonapi_get("/api/v1/accounts").await;
    r.jsonapi_error(403, None);
    assert_eq!(r.error()["code"], "FORBIDDEN");
    let r = member
        .api
        .jsonapi(
            Method::POST,
            "/api/v1/accounts",
            Some(doc(
                "accounts",
                json!({ "name": "No Way", "email": t.email("noway") }),
            )),
        )
        .await;
    r.jsonapi_error(403, None);
    let r = member
        .api
        .jsonapi_delete(&format!("/api/v1/accounts/{}", t.owner_id))
        .await;
    r.jsonapi_error(403, None);
}

/// JSON:API 1.1 "Content Negotiation": 415 for a JSON:API media type with
/// parameters other than ext/profile, 406 when Accept allows only such.
async fn media_types(b: Backend) {
    let t = tenant(b).await;
    let body = doc(
        "accounts",
        json!({ "name": "Media Type", "email": t.email("mt") }),
    )
    .to_string();
    let r = t
        .owner
        .post_raw(
            "/api/v1/accounts",
            "application/vnd.api+json; charset=utf-8",
            body.clone(),
        )
        .await;
    r.jsonapi_error(415, None);
    let r = t
        .owner
        .post_raw("/api/v1/accounts", "text/plain", body.clone())
        .await;
    r.jsonapi_error(415, None);
    let r = Api::send(
        t.owner
            .request(Method::GET, "/api/v1/accounts")
            .header("Accept", "application/vnd.api+json; version=2"),
    )
    .await;
    r.jsonapi_error(406, None);
    // An extension this server does not support: 415 in Content-Type, 406
    // when every JSON:API instance in Accept asks for one (JSON:API 1.1
    // "Server Responsibilities").
    const UNKNOWN_EXT: &str = "application/vnd.api+json; ext=\"https://example.com/unknown-ext\"";
    let r = t
        .owner
        .post_raw("/api/v1/accounts", UNKNOWN_EXT, body.clone())
        .await;
    r.jsonapi_error(415, None);
    let r = Api::send(
        t.owner
            .request(Method::GET, "/api/v1/accounts")
            .header("Accept", UNKNOWN_EXT),
    )
    .await;
    r.jsonapi_error(406, None);
    // One acceptable instance is enough.
    let r = Api::send(
        t.owner
            .request(Method::GET, "/api/v1/accounts")
            .header("Accept", format!("{UNKNOWN_EXT}, application/vnd.api+json")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // "Servers ... SHOULD specify the Vary header with Accept as one of its
    // values", on answers and errors alike.
    assert!(
        r.header("vary").is_some_and(|v| v.contains("Accept")),
        "{:?}",
        r.header("vary")
    );
    let r = t.owner.get("/api/v1/accounts?page[size]=0").await;
    assert!(r.header("vary").is_some_and(|v| v.contains("Accept")));
    // Unknown paths below a resource and missing methods are JSON:API
    // errors too, not the native envelope.
    let me = t.owner.get("/api/v1/users/me").await;
    let id = me.ok()["id"].as_str().unwrap().to_string();
    for path in [
        format!("/api/v1/accounts/{id}/relationships/organization"),
        "/api/v1/organizations/x/y/z".to_string(),
    ] {
        t.owner.get(&path).await.jsonapi_error(404, None);
    }
    let r = t
        .owner
        .jsonapi(
            Method::PUT,
            &format!("/api/v1/accounts/{id}"),
            Some(json!({})),
        )
        .await;
    r.jsonapi_error(405, None);
    // ext and profile are allowed; plain application/json is accepted too.
    let r = t
        .owner
        .post_raw(
            "/api/v1/accounts",
            "application/vnd.api+json; profile=\"https://example.com/p\"",
            body,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t
        .owner
        .post(
            "/api/v1/accounts",
            doc(
                "accounts",
                json!({ "name": "Plain Json", "email": t.email("pj"), "password": PASSWORD }),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}
