//! Aritma clients (docs/api/iam.md, OAuth clients and secrets): list with
//! searchText/page/pageSize in the items/metadata/links envelope, create,
//! get, update, delete, and secrets (8 to 32 characters, shown once,
//! several for rotation, optional expiration), on the tenant's own clients.

use serde_json::{json, Value};

use crate::support::oauth::{post_form, Auth, Machine, IAM};
use crate::support::{pluck, shared, spawn, tenant, Backend, Resp};

on_both_backends!(
    clients_are_created_read_and_listed_in_aritma_shapes,
    lists_page_and_search_with_links,
    secrets_are_shown_once_rotate_and_expire,
    secrets_and_refresh_tokens_are_stored_hashed,
    bad_client_input_is_refused_and_changes_nothing,
    updates_change_what_a_client_may_do,
    another_tenants_clients_are_404,
    client_management_needs_permissions_and_is_audited,
);

fn body(name: &str) -> Value {
    json!({
        "name": name,
        "description": "Nightly ERP jobs",
        "allowedGrantTypes": ["client_credentials"],
        "redirectUris": [],
        "allowedScopes": [IAM],
    })
}

/// 404: unknown, or another tenant's (docs/security.md, Tenancy), in problem
/// details.
#[track_caller]
fn missing(r: &Resp) {
    problem(r, 404, "RESOURCE_NOT_FOUND");
}

/// A problem details answer (RFC 7807) with this status and code.
#[track_caller]
fn problem(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(
        r.problem().is_some(),
        "not problem details: {:?} {}",
        r.headers,
        r.text
    );
    assert_eq!(r.code(), code, "{}", r.text);
    assert_eq!(r.body["status"], status);
}

/// Create takes name, description, allowedGrantTypes,
/// redirectUris, allowedScopes; a newly created client has no secrets;
/// get by clientId returns its details, lists the concise ClientDto.
async fn clients_are_created_read_and_listed_in_aritma_shapes(b: Backend) {
    let t = tenant(b).await;
    let r = t
        .owner
        .post("/core/iam/v1/clients", body("My Application"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let created = r.body.clone();
    let id = created["clientId"].as_str().unwrap().to_string();
    uuid::Uuid::parse_str(&id).unwrap();
    assert_eq!(created["name"], "My Application");
    assert_eq!(created["description"], "Nightly ERP jobs");
    assert_eq!(created["allowedGrantTypes"], json!(["client_credentials"]));
    assert_eq!(created["redirectUris"], json!([]));
    assert_eq!(created["allowedScopes"], json!([IAM]));
    assert_eq!(created["enabled"], true);

    let got = t.owner.get(&format!("/core/iam/v1/clients/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body, created);

    // No secret yet: it cannot authenticate.
    let r = post_form(
        &t.owner,
        "/oauth/token",
        Auth::Basic(&id, "anything-at-all"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    let secrets = t
        .owner
        .get(&format!("/core/iam/v1/clients/{id}/secrets"))
        .await;
    assert_eq!(secrets.body, json!([]));

    let list = t.owner.get("/core/iam/v1/clients").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(
        list.body["items"],
        json!([{ "clientId": id, "name": "My Application", "description": "Nightly ERP jobs" }])
    );
    assert_eq!(
        list.body["metadata"],
        json!({ "page": 1, "pageSize": 25, "totalCount": 1 })
    );

    // A code-flow client keeps its redirect URIs (https, or http on loopback).
    let web = t
        .owner
        .post(
            "/core/iam/v1/clients",
            json!({ "name": "Portal", "description": "",
                    "allowedGrantTypes": ["authorization_code", "refresh_token"],
                    "redirectUris": ["https://portal.example/cb", "http://127.0.0.1:8400/cb"],
                    "allowedScopes": ["openid", "profile", "email", "offline_access"] }),
        )
        .await;
    assert_eq!(web.status, 200, "{}", web.text);
    assert_eq!(
        web.body["redirectUris"],
        json!(["https://portal.example/cb", "http://127.0.0.1:8400/cb"])
    );
}

/// The items/metadata/links envelope: page is 1-based,
/// links absolute, previous/next null where there is none; searchText
/// matches name or description regardless of case.
async fn lists_page_and_search_with_links(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    for i in 0..5 {
        t.owner
            .post("/core/iam/v1/clients", body(&format!("Batch job {i}")))
            .await;
    }
    t.owner
        .post("/core/iam/v1/clients", body("Ledger Export"))
        .await;

    let base = format!("{}/core/iam/v1/clients", app.base);
    let r = t.owner.get("/core/iam/v1/clients?page=2&pageSize=2").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let names: Vec<&str> = pluck(&r.body["items"], "/name");
    assert_eq!(names, ["Batch job 2", "Batch job 3"]);
    assert_eq!(
        r.body["metadata"],
        json!({ "page": 2, "pageSize": 2, "totalCount": 6 })
    );
    assert_eq!(
        r.body["links"],
        json!({
            "first": format!("{base}?page=1&pageSize=2"),
            "previous": format!("{base}?page=1&pageSize=2"),
            "next": format!("{base}?page=3&pageSize=2"),
            "last": format!("{base}?page=3&pageSize=2"),
        })
    );
    let last = t.owner.get("/core/iam/v1/clients?page=3&pageSize=2").await;
    assert_eq!(last.body["links"]["next"], Value::Null);

    let r = t
        .owner
        .get("/core/iam/v1/clients?searchText=LEDGER&pageSize=10")
        .await;
    assert_eq!(r.body["metadata"]["totalCount"], 1, "{}", r.text);
    assert_eq!(r.body["items"][0]["name"], "Ledger Export");
    assert_eq!(r.body["links"]["previous"], Value::Null);
    assert_eq!(
        r.body["links"]["first"],
        format!("{base}?searchText=LEDGER&page=1&pageSize=10")
    );
    let r = t
        .owner
        .get("/core/iam/v1/clients?searchText=erp+jobs")
        .await;
    assert_eq!(
        r.body["metadata"]["totalCount"], 6,
        "description matches: {}",
        r.text
    );
    let r = t.owner.get("/core/iam/v1/clients?searchText=nothing").await;
    assert_eq!(r.body["items"], json!([]));
    assert_eq!(
        r.body["links"]["last"],
        format!("{base}?searchText=nothing&page=1&pageSize=25")
    );

    // Out-of-range paging is an error naming the parameter, not clamped.
    for q in ["page=0", "pageSize=0", "pageSize=101", "page=x"] {
        let r = t.owner.get(&format!("/core/iam/v1/clients?{q}")).await;
        problem(&r, 400, "VALIDATION_ERROR");
        let param = q.split('=').next().unwrap();
        assert_eq!(r.fields(), [param], "{}", r.text);
    }
}

/// Create a secret: `value` 8 to 32 characters, `description`,
/// optional `expiration`; the value is in that response only; several
/// secrets for rotation; an expired or deleted one no longer works.
async fn secrets_are_shown_once_rotate_and_expire(b: Backend) {
    let t = tenant(b).await;
    let id = t.new_client(&["client_credentials"], &[IAM]).await;
    let path = format!("/core/iam/v1/clients/{id}/secrets");
    let token = |secret: &'static str| {
        let (api, id) = (t.owner.clone(), id.clone());
        async move {
            post_form(
                &api,
                "/oauth/token",
                Auth::Basic(&id, secret),
                &[("grant_type", "client_credentials")],
            )
            .await
            .status
        }
    };

    let r = t
        .owner
        .post(
            &path,
            json!({ "value": "s3cr3tV@lue!", "description": "Production API access" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["value"], "s3cr3tV@lue!");
    assert_eq!(r.body["description"], "Production API access");
    assert_eq!(r.body["expiration"], Value::Null);
    let first = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(token("s3cr3tV@lue!").await, 200);

    // Bounds: 8 and 32 characters are accepted, 7 and 33 are not.
    for (value, status) in [
        ("12345678", 200),
        ("1234567", 400),
        (&*"x".repeat(32), 200),
        (&*"x".repeat(33), 400),
    ] {
        let r = t
            .owner
            .post(&path, json!({ "value": value, "description": "bounds" }))
            .await;
        assert_eq!(r.status, status, "{value:?}: {}", r.text);
        if status == 400 {
            problem(&r, 400, "VALIDATION_ERROR");
            assert_eq!(r.fields(), ["value"]);
        }
    }

    // Rotation: a new secret beside the old one; both work; the old one
    // deleted stops working, the new one goes on.
    let second = t
        .owner
        .post(
            &path,
            json!({ "value": "n3w-r0tated", "description": "rotation", "expiration": "2100-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(
        second.body["expiration"], "2100-01-01T00:00:00Z",
        "{}",
        second.text
    );
    assert_eq!(token("n3w-r0tated").await, 200);
    assert_eq!(token("s3cr3tV@lue!").await, 200);
    let r = t.owner.delete(&format!("{path}/{first}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");
    assert_eq!(token("s3cr3tV@lue!").await, 401);
    assert_eq!(token("n3w-r0tated").await, 200);
    missing(&t.owner.delete(&format!("{path}/{first}")).await);
    missing(&t.owner.delete(&format!("{path}/nope")).await);

    // Listed without values, ever.
    let list = t.owner.get(&path).await;
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), 3, "{}", list.text);
    assert!(items.iter().all(|s| s.get("value").is_none()));
    assert!(!list.text.contains("n3w-r0tated") && !list.text.contains("12345678"));
    assert!(items.iter().any(|s| s["lastUsedAt"].is_string()));

    // At most five live secrets.
    t.owner
        .post(
            &path,
            json!({ "value": "fourth-secret", "description": "4" }),
        )
        .await;
    t.owner
        .post(
            &path,
            json!({ "value": "fifth-secret", "description": "5" }),
        )
        .await;
    let r = t
        .owner
        .post(
            &path,
            json!({ "value": "sixth-secret", "description": "6" }),
        )
        .await;
    problem(&r, 409, "CONFLICT");
    assert_eq!(t.owner.get(&path).await.body.as_array().unwrap().len(), 5);

    // Expiration is honoured: a secret that expires in two seconds.
    let other = t.new_client(&["client_credentials"], &[IAM]).await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let r = t
        .owner
        .post(
            &format!("/core/iam/v1/clients/{other}/secrets"),
            json!({ "value": "short-lived", "description": "expires", "expiration": soon }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let short_lived = Machine {
        id: other.clone(),
        secret: "short-lived".into(),
        api: t.anonymous(),
    };
    let r = short_lived.request_token(&[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let r = short_lived.request_token(&[]).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // Expired secrets no longer count against the five.
    let r = t
        .owner
        .post(
            &format!("/core/iam/v1/clients/{other}/secrets"),
            json!({ "value": "x", "description": "too short", "expiration": "2000-01-01T00:00:00Z" }),
        )
        .await;
    problem(&r, 400, "VALIDATION_ERROR");
    assert_eq!(r.fields(), ["value", "expiration"]);
}

/// Client secrets and refresh tokens are stored hashed
/// (argon2id for the caller's secrets, SHA-256 for the server's 256-bit
/// refresh tokens); the audit log never holds them.
async fn secrets_and_refresh_tokens_are_stored_hashed(b: Backend) {
    let server = spawn(b, |_| {}).await;
    let admin = server.admin().await;
    let t = crate::support::new_tenant(&server.api(), &admin).await;
    let m = t.refreshing_machine().await;
    let issued = m.request_token(&[]).await;
    let refresh = issued.body["refresh_token"].as_str().unwrap().to_string();

    let hashes = server
        .db
        .texts("SELECT secret_hash AS v FROM oauth_client_secrets")
        .await;
    assert_eq!(hashes.len(), 1);
    assert!(hashes[0].starts_with("$argon2id$"), "{}", hashes[0]);
    assert!(!hashes[0].contains(&m.secret));
    let stored = server
        .db
        .texts("SELECT token_hash AS v FROM oauth_refresh_tokens")
        .await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].len(), 64, "hex SHA-256");
    assert_ne!(stored[0], refresh);

    let cast = match b {
        Backend::Postgres => "details::text",
        Backend::Sqlite => "details",
    };
    let audit = server
        .db
        .texts(&format!(
            "SELECT action || ' ' || {cast} AS v FROM audit_events"
        ))
        .await;
    assert!(audit.iter().any(|e| e.starts_with("client.secret_created")));
    for e in &audit {
        assert!(!e.contains(&m.secret) && !e.contains(&refresh), "{e}");
    }
}

/// Bad input gets a clear error naming the field and
/// changes nothing: wrong types, unknown and missing fields, values
/// outside the catalogues.
async fn bad_client_input_is_refused_and_changes_nothing(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let id = t.new_client(&["client_credentials"], &[IAM]).await;
    let with = |field: &str, value: Value| {
        let mut v = body("x");
        v[field] = value;
        v
    };
    let cases: Vec<(Value, &str)> = vec![
        (with("name", json!(5)), "name"),
        (with("name", json!("  ")), "name"),
        (
            with("allowedGrantTypes", json!("client_credentials")),
            "allowedGrantTypes",
        ),
        (
            with("allowedGrantTypes", json!(["password"])),
            "allowedGrantTypes",
        ),
        (with("allowedGrantTypes", json!([])), "allowedGrantTypes"),
        (
            with("allowedGrantTypes", json!(["refresh_token"])),
            "allowedGrantTypes",
        ),
        (
            with("allowedScopes", json!(["services.everything"])),
            "allowedScopes",
        ),
        (
            with("redirectUris", json!(["http://app.example/cb"])),
            "redirectUris",
        ),
        (
            with("redirectUris", json!(["https://app.example/cb#frag"])),
            "redirectUris",
        ),
        (with("redirectUris", json!(["not a uri"])), "redirectUris"),
        (
            with("allowedGrantTypes", json!(["authorization_code"])),
            "redirectUris",
        ),
        (with("clientSecret", json!("x")), "clientSecret"),
        (json!({ "name": "x" }), "description"),
    ];
    for (bad, field) in cases {
        let r = t.owner.post("/core/iam/v1/clients", bad.clone()).await;
        problem(&r, 400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{bad}: {}", r.text);
        assert!(r.body["detail"].is_string());
        assert_eq!(r.body["instance"], "/core/iam/v1/clients");
    }
    let r = t
        .owner
        .post_raw("/core/iam/v1/clients", "application/json", "{\"name\":")
        .await;
    problem(&r, 400, "VALIDATION_ERROR");
    assert_eq!(r.fields(), ["body"]);
    let r = t
        .owner
        .post_raw("/core/iam/v1/clients", "text/plain", "name=x")
        .await;
    problem(&r, 415, "UNSUPPORTED_MEDIA_TYPE");

    // Updates refuse the same and keep the client as it was.
    let path = format!("/core/iam/v1/clients/{id}");
    let before = t.owner.get(&path).await.body;
    for (bad, field) in [
        (
            json!({ "name": "ok", "allowedScopes": ["nope"] }),
            "allowedScopes",
        ),
        (json!({ "enabled": "no" }), "enabled"),
        (json!({ "name": null }), "name"),
        (
            json!({ "allowedGrantTypes": ["authorization_code"] }),
            "redirectUris",
        ),
        (json!({ "secret": "x" }), "secret"),
    ] {
        let r = t.owner.put(&path, bad.clone()).await;
        problem(&r, 400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{bad}: {}", r.text);
    }
    assert_eq!(t.owner.get(&path).await.body, before);

    // Secrets: wrong types and unknown fields.
    let secrets = format!("{path}/secrets");
    for (bad, field) in [
        (json!({ "value": 12345678, "description": "d" }), "value"),
        (json!({ "value": "12345678" }), "description"),
        (
            json!({ "value": "12345678", "description": "d", "expiration": "tomorrow" }),
            "expiration",
        ),
        (
            json!({ "value": "12345678", "description": "d", "expiration": "2001-01-01T00:00:00Z" }),
            "expiration",
        ),
        (
            json!({ "value": "12345678", "description": "d", "scope": "all" }),
            "scope",
        ),
    ] {
        let r = t.owner.post(&secrets, bad.clone()).await;
        problem(&r, 400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{bad}: {}", r.text);
    }

    // Nothing was created or changed.
    let list = t.owner.get("/core/iam/v1/clients").await;
    assert_eq!(list.body["metadata"]["totalCount"], 1, "{}", list.text);
    assert_eq!(t.owner.get(&secrets).await.body, json!([]));
    let audit = t.audit("targetType=client").await;
    assert_eq!(audit.ok()["total"], 1, "only the creation: {}", audit.text);

    // Unknown ids are 404s.
    missing(&t.owner.get("/core/iam/v1/clients/nope").await);
    let unknown = format!("/core/iam/v1/clients/{}", uuid::Uuid::new_v4());
    missing(&t.owner.get(&unknown).await);
    missing(&t.owner.put(&unknown, json!({ "name": "x" })).await);
    missing(
        &t.owner
            .post(
                &format!("{unknown}/secrets"),
                json!({ "value": "12345678", "description": "d" }),
            )
            .await,
    );
}

/// Update (an ithbat addition to the Aritma API): partial, and what the client
/// may do follows at once: a scope taken away stops counting in tokens
/// already issued (introspection and the API agree).
async fn updates_change_what_a_client_may_do(b: Backend) {
    let t = tenant(b).await;
    let m = t.machine().await;
    let rs = t.machine().await;
    let api = m.bearer().await;
    let token = api.token.clone().unwrap();
    let path = format!("/core/iam/v1/clients/{}", m.id);

    let r = t
        .owner
        .put(
            &path,
            json!({ "name": "Renamed", "allowedScopes": ["openid"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Renamed");
    assert_eq!(r.body["description"], "Service account", "kept");
    assert_eq!(r.body["allowedScopes"], json!(["openid"]));
    let refused = api.get("/core/iam/v1/scopes").await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.code(), "INSUFFICIENT_SCOPE");
    let r = rs.introspect(&token).await;
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["scope"], "");
    let r = m.request_token(&[("scope", IAM)]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_scope");

    // Given back: the token counts it again; nothing else changed.
    let r = t.owner.put(&path, json!({ "allowedScopes": [IAM] })).await;
    assert_eq!(r.body["name"], "Renamed");
    assert_eq!(api.get("/core/iam/v1/scopes").await.status, 200);
    let r = t.owner.put(&path, json!({})).await;
    assert_eq!(r.status, 200, "an empty update changes nothing: {}", r.text);
    let audit = t.audit("action=client.updated").await;
    assert_eq!(audit.ok()["total"], 2, "{}", audit.text);
}

/// Another tenant's resource is indistinguishable from one that
/// does not exist (404); lists show the caller's tenant only.
async fn another_tenants_clients_are_404(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let m = other.machine().await;
    let theirs = format!("/core/iam/v1/clients/{}", m.id);
    missing(&t.owner.get(&theirs).await);
    missing(&t.owner.put(&theirs, json!({ "enabled": false })).await);
    missing(&t.owner.delete(&theirs).await);
    missing(&t.owner.get(&format!("{theirs}/secrets")).await);
    missing(
        &t.owner
            .post(
                &format!("{theirs}/secrets"),
                json!({ "value": "intruder-secret", "description": "x" }),
            )
            .await,
    );
    let secret_id = other.owner.get(&format!("{theirs}/secrets")).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    missing(
        &t.owner
            .delete(&format!("{theirs}/secrets/{secret_id}"))
            .await,
    );
    // Their secret under one of our clients is unknown too.
    let mine = t.new_client(&["client_credentials"], &[IAM]).await;
    missing(
        &t.owner
            .delete(&format!("/core/iam/v1/clients/{mine}/secrets/{secret_id}"))
            .await,
    );
    assert_eq!(
        t.owner.get("/core/iam/v1/clients").await.body["metadata"]["totalCount"],
        1
    );
    // Their client is untouched and still works.
    assert_eq!(m.request_token(&[]).await.status, 200);
    // Their client's token cannot reach our tenant through X-Tenant-ID.
    let api = m.bearer().await.with_tenant(&t.id);
    problem(
        &api.get("/core/iam/v1/scopes").await,
        404,
        "TENANT_NOT_FOUND",
    );
    // A platform administrator may act on a tenant by naming it.
    let admin = app.admin().await.with_tenant(&other.id);
    assert_eq!(admin.get(&theirs).await.status, 200);
}

/// Permissions `client:read` / `client:write`; every change is
/// audited (client.created, client.secret_created, ...). A client's own
/// token carries services.iam but no permission until policies grant it.
async fn client_management_needs_permissions_and_is_audited(b: Backend) {
    let t = tenant(b).await;
    let member = t.user("member").await;
    problem(
        &member.api.get("/core/iam/v1/clients").await,
        403,
        "FORBIDDEN",
    );
    problem(
        &member.api.post("/core/iam/v1/clients", body("x")).await,
        403,
        "FORBIDDEN",
    );
    let machine = t.machine().await.bearer().await;
    let r = machine.get("/core/iam/v1/clients").await;
    problem(&r, 403, "FORBIDDEN");
    assert!(r.body["detail"].as_str().unwrap().contains("client:read"));

    let id = t.new_client(&["client_credentials"], &[IAM]).await;
    let path = format!("/core/iam/v1/clients/{id}");
    problem(&member.api.get(&path).await, 403, "FORBIDDEN");
    problem(&member.api.delete(&path).await, 403, "FORBIDDEN");
    let secret = t.add_secret(&id, "audited-secret").await;
    let secret_id = secret["id"].as_str().unwrap();
    t.owner
        .put(&path, json!({ "description": "changed" }))
        .await;
    t.owner.put(&path, json!({ "enabled": false })).await;
    t.owner.delete(&format!("{path}/secrets/{secret_id}")).await;
    t.owner.delete(&path).await;
    missing(&t.owner.get(&path).await);

    let audit = t
        .audit(&format!(
            "targetType=client&targetId={id}&sortOrder=asc&limit=100"
        ))
        .await;
    let actions: Vec<&str> = pluck(&audit.ok()["events"], "/action");
    let mut sorted = actions.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "client.created",
            "client.deleted",
            "client.disabled",
            "client.secret_created",
            "client.secret_deleted",
            "client.updated",
        ],
        "{}",
        audit.text
    );
    assert!(!audit.text.contains("audited-secret"));
}
