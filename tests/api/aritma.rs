//! The Aritma dialect under /core/iam (docs/api/iam.md): every operation
//! requires the scope services.iam, errors are RFC 7807 problem details,
//! and the scope catalogue.

use serde_json::json;

use crate::support::oauth::IAM;
use crate::support::{pluck, tenant, Api, Backend, Resp};

on_both_backends!(
    every_operation_requires_services_iam,
    session_tokens_act_with_the_users_permissions,
    errors_are_problem_details,
    the_scope_catalogue,
);

/// Every route of the dialect, with a body where it takes one.
fn routes(client: &str, secret: &str, user: &str, role: &str) -> Vec<(reqwest::Method, String)> {
    use reqwest::Method;
    vec![
        (Method::GET, "/core/iam/v1/scopes".into()),
        (Method::GET, "/core/iam/v1/clients".into()),
        (Method::POST, "/core/iam/v1/clients".into()),
        (Method::GET, format!("/core/iam/v1/clients/{client}")),
        (Method::PUT, format!("/core/iam/v1/clients/{client}")),
        (Method::DELETE, format!("/core/iam/v1/clients/{client}")),
        (
            Method::GET,
            format!("/core/iam/v1/clients/{client}/secrets"),
        ),
        (
            Method::POST,
            format!("/core/iam/v1/clients/{client}/secrets"),
        ),
        (
            Method::DELETE,
            format!("/core/iam/v1/clients/{client}/secrets/{secret}"),
        ),
        (Method::GET, "/core/iam/v1/scim".into()),
        (Method::POST, "/core/iam/v1/scim".into()),
        (Method::DELETE, format!("/core/iam/v1/scim/{secret}")),
        (Method::GET, "/core/iam/v1/domains".into()),
        (
            Method::POST,
            "/core/iam/v1/domains?domain=example.com".into(),
        ),
        (
            Method::GET,
            "/core/iam/v1/domains/status?domain=example.com".into(),
        ),
        (
            Method::DELETE,
            "/core/iam/v1/domains?domain=example.com".into(),
        ),
        (Method::GET, "/core/iam/v1/users".into()),
        (Method::GET, format!("/core/iam/v1/users/{user}")),
        (
            Method::POST,
            format!("/core/iam/v1/users/{user}/roles/{role}"),
        ),
        (
            Method::DELETE,
            format!("/core/iam/v1/users/{user}/roles/{role}"),
        ),
        (
            Method::POST,
            "/core/iam/v1/users/invite?email=a@example.com".into(),
        ),
        (
            Method::POST,
            "/core/iam/v1/users/users?email=a@example.com&fullName=A".into(),
        ),
        // Unknown paths and methods are refused the same way first.
        (Method::GET, "/core/iam/v1/nothing-here".into()),
        (Method::PATCH, "/core/iam/v1/clients".into()),
    ]
}

async fn send(api: &Api, method: reqwest::Method, path: &str) -> Resp {
    Api::send(api.request(method, path).json(&json!({}))).await
}

/// Every operation requires services.iam (docs/api/iam.md, Tokens, scope
/// and errors). RFC 6750 3.1: 403 with `WWW-Authenticate: Bearer
/// error="insufficient_scope", scope="services.iam"`; nothing happens.
async fn every_operation_requires_services_iam(b: Backend) {
    let t = tenant(b).await;
    let target = t.new_client(&["client_credentials"], &[IAM]).await;
    let secret = t.add_secret(&target, "untouched-secret").await;
    let secret = secret["id"].as_str().unwrap().to_string();

    // A client allowed only an OpenID scope holds no services.iam.
    let unscoped = t
        .machine_with(&["client_credentials"], &["profile"])
        .await
        .bearer()
        .await;
    let role = t.role_id("admin").await;
    for (method, path) in routes(&target, &secret, &t.owner_id, &role) {
        let r = send(&unscoped, method.clone(), &path).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer error=\"insufficient_scope\", scope=\"services.iam\""),
            "{method} {path}"
        );
        assert_eq!(
            r.code(),
            "INSUFFICIENT_SCOPE",
            "{method} {path}: {}",
            r.text
        );
        // The instance is the path, never the query (it may name a person).
        assert_eq!(r.body["instance"], path.split('?').next().unwrap());
    }
    // Nothing was changed by any of them.
    let got = t.owner.get(&format!("/core/iam/v1/clients/{target}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let secrets = t
        .owner
        .get(&format!("/core/iam/v1/clients/{target}/secrets"))
        .await;
    assert_eq!(secrets.body.as_array().unwrap().len(), 1);

    // With services.iam the scope check passes; permissions decide next
    // (a client holds none until policies grant them).
    let scoped = t.machine().await.bearer().await;
    assert_eq!(scoped.get("/core/iam/v1/scopes").await.status, 200);
    let r = scoped
        .post(
            "/core/iam/v1/scim",
            json!({ "provider": "azure-ad", "providerDisplayName": "Entra" }),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.code(), "FORBIDDEN");
    assert!(r.header("www-authenticate").is_none());

    // No token, or a bad one: 401 in problem details.
    for api in [t.anonymous(), t.anonymous().with_token("nope")] {
        let r = api.get("/core/iam/v1/scopes").await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert!(r.problem().is_some());
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    }
    // A SCIM token is not a credential here.
    let scim = t.scim_token().await;
    let r = t
        .anonymous()
        .with_token(&scim)
        .get("/core/iam/v1/scopes")
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
}

/// Our rule for user tokens (docs/api/iam.md): a session
/// token from /api/v1/auth/login is the user acting in person; it counts
/// as carrying services.iam, and the user's permissions decide.
async fn session_tokens_act_with_the_users_permissions(b: Backend) {
    let t = tenant(b).await;
    assert_eq!(t.owner.get("/core/iam/v1/scopes").await.status, 200);
    assert_eq!(t.owner.get("/core/iam/v1/clients").await.status, 200);
    let member = t.user("member").await;
    assert_eq!(member.api.get("/core/iam/v1/scopes").await.status, 200);
    let r = member.api.get("/core/iam/v1/clients").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.code(), "FORBIDDEN");
}

/// Errors are RFC 7807 problem details (`type`, `title`, `status`, `detail`,
/// `instance`), as application/problem+json.
async fn errors_are_problem_details(b: Backend) {
    let t = tenant(b).await;
    let check = |r: &Resp, status: u16, code: &str, path: &str| {
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
        assert_eq!(
            &keys[..6],
            ["type", "title", "status", "detail", "instance", "code"]
        );
        assert_eq!(r.body["status"], status);
        assert_eq!(r.body["code"], code);
        assert_eq!(r.body["instance"], path);
        assert!(r.body["type"]
            .as_str()
            .unwrap()
            .starts_with("https://tools.ietf.org/html/rfc"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
    };
    let r = t.anonymous().get("/core/iam/v1/clients").await;
    check(&r, 401, "UNAUTHORIZED", "/core/iam/v1/clients");
    assert_eq!(r.body["title"], "Unauthorized");
    let r = t.owner.get("/core/iam/v1/nothing").await;
    check(&r, 404, "RESOURCE_NOT_FOUND", "/core/iam/v1/nothing");
    assert_eq!(
        r.body["type"],
        "https://tools.ietf.org/html/rfc9110#section-15.5.5"
    );
    let r = t.owner.delete("/core/iam/v1/clients").await;
    check(&r, 405, "METHOD_NOT_ALLOWED", "/core/iam/v1/clients");
    let r = t
        .owner
        .post_raw("/core/iam/v1/clients", "application/json", "[1]")
        .await;
    check(&r, 400, "VALIDATION_ERROR", "/core/iam/v1/clients");
    assert_eq!(
        r.body["errors"],
        json!({ "body": ["must be a JSON object"] })
    );
    let r = t.owner.get("/core/iam/v1/clients/not-an-id").await;
    check(
        &r,
        404,
        "RESOURCE_NOT_FOUND",
        "/core/iam/v1/clients/not-an-id",
    );
    assert_eq!(r.body["detail"], "Client not found");
    // The rate limiter speaks the dialect too (its headers are present).
    assert!(r.header("x-ratelimit-limit").is_some());
    // Native paths keep the native envelope.
    let r = t.anonymous().get("/api/v1/users").await;
    r.expect(401, "UNAUTHORIZED");
    assert!(r.problem().is_none());
}

/// The scope catalogue clients' allowedScopes come from (RFC 6749 3.3):
/// at least services.iam, openid, profile, email, offline_access.
async fn the_scope_catalogue(b: Backend) {
    let t = tenant(b).await;
    let r = t.owner.get("/core/iam/v1/scopes").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let names: Vec<&str> = pluck(&r.body, "/name");
    assert_eq!(
        names,
        [IAM, "openid", "profile", "email", "phone", "offline_access"]
    );
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["description"].is_string()));
    let r = t
        .owner
        .post(
            "/core/iam/v1/clients",
            json!({ "name": "x", "description": "", "allowedGrantTypes": ["client_credentials"],
                    "redirectUris": [], "allowedScopes": ["services.banking"] }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.fields(), ["allowedScopes"]);
}
