//! OAuth 2.0 for machines: the token endpoint (RFC 6749 4.4
//! client_credentials, 6 refresh_token, 5.1/5.2 responses), introspection
//! (RFC 7662), revocation (RFC 7009), RS256 access tokens verifiable
//! through the JWKS (RFC 9068), and discovery.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};

use crate::support::oauth::{post_form, Auth, IAM};
use crate::support::{new_tenant, shared, signing_key, spawn, tenant, Api, Backend, Resp};

on_both_backends!(
    client_credentials_by_basic_and_by_post,
    access_tokens_are_rs256_jwts_verifiable_with_the_jwks,
    token_errors_follow_rfc_6749,
    scopes_are_granted_only_from_what_the_client_is_allowed,
    introspection_tells_active_from_expired_revoked_and_foreign,
    revocation_answers_200_and_ends_the_grant,
    refresh_tokens_rotate_and_a_reused_one_revokes_its_grant,
    disabled_and_deleted_clients_tokens_stop_working_on_next_use,
    discovery_lists_the_oauth_endpoints,
    guessing_secrets_is_limited_using_them_is_not,
);

/// RFC 6749 5.1: a token response is JSON, never cached.
#[track_caller]
fn token_response(r: &Resp) -> &Value {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(r.body["access_token"].is_string());
    &r.body
}

/// RFC 6749 5.2: `error` and `error_description`, nothing else; never
/// cached; 401 with WWW-Authenticate for invalid_client.
#[track_caller]
fn oauth_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["error"], error, "{}", r.text);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error", "error_description"], "{}", r.text);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    if error == "invalid_client" {
        assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"ithbat\""));
    }
}

/// The claims of a JWT, unverified (the tests that need verification do it).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// RFC 6749 4.4.2 and 2.3.1: a client authenticates with HTTP Basic (id and
/// secret form-encoded) or with client_id/client_secret in the body.
async fn client_credentials_by_basic_and_by_post(b: Backend) {
    let t = tenant(b).await;
    let m = t.machine().await;

    let by_basic = m.request_token(&[]).await;
    let body = token_response(&by_basic);
    assert_eq!(body["scope"], IAM);
    assert_eq!(body["expires_in"], 3600);
    assert!(
        body.get("refresh_token").is_none(),
        "RFC 6749 4.4.3: none by default"
    );

    let mut params = vec![("grant_type", "client_credentials"), ("scope", IAM)];
    let by_post = post_form(&m.api, "/oauth/token", m.post(), &params).await;
    token_response(&by_post);
    // RFC 6749 3.2: unknown parameters are ignored.
    params.push(("audience", "whatever"));
    token_response(&post_form(&m.api, "/oauth/token", m.basic(), &params).await);
    // A Basic header whose id and secret are not form-encoded works when
    // they hold nothing encoding changes.
    let plain = t.new_client(&["client_credentials"], &[IAM]).await;
    t.add_secret(&plain, "s3cr3tV@lue!").await;
    let r = Api::send(
        m.api
            .request(reqwest::Method::POST, "/oauth/token")
            .basic_auth(&plain, Some("s3cr3tV@lue!"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials"),
    )
    .await;
    token_response(&r);

    // The token works on the Aritma API (it carries services.iam).
    let token = by_basic.body["access_token"].as_str().unwrap();
    let r = m.api.with_token(token).get("/core/iam/v1/scopes").await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Issuance is audited, with the client as actor, never the secret.
    let audit = t.audit("action=oauth.token_issued&limit=100").await;
    let events = audit.ok()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 4, "{}", audit.text);
    assert_eq!(events[0]["actor"]["type"], "client");
    assert!(!audit.text.contains(&m.secret) && !audit.text.contains("s3cr3tV@lue!"));
}

/// Access tokens are RS256 JWTs signed with the users' key (JWKS),
/// carrying client_id, scope, tenant_id and sub (RFC 9068 2.2: sub is the
/// client for client_credentials).
async fn access_tokens_are_rs256_jwts_verifiable_with_the_jwks(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let m = t.machine().await;
    let token = m.token().await;

    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwks = app.api().get("/.well-known/jwks.json").await.body;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .expect("the token's key is published");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&app.base]);
    validation.set_audience(&[&app.base]);
    let verified = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
    let c = verified.claims;
    assert_eq!(c["client_id"], m.id.as_str());
    assert_eq!(c["sub"], m.id.as_str());
    assert_eq!(c["scope"], IAM);
    assert_eq!(c["tenant_id"], t.id.as_str());
    assert!(c["jti"].is_string() && c["sid"].is_string());
    assert!(c.get("email").is_none());
    // The same key signs users' tokens.
    let user_token = t.owner.token.clone().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&user_token).unwrap().kid,
        header.kid
    );
}

/// RFC 6749 5.2: every error code the endpoint can answer, with its status.
async fn token_errors_follow_rfc_6749(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let m = t.machine().await;
    let api = &m.api;
    let cc = [("grant_type", "client_credentials")];

    // invalid_request: grant_type missing, a parameter repeated, two
    // authentication methods, a refresh without its token, a JSON body.
    oauth_error(
        &post_form(api, "/oauth/token", m.basic(), &[]).await,
        400,
        "invalid_request",
    );
    let r = post_form(
        api,
        "/oauth/token",
        m.basic(),
        &[
            ("grant_type", "client_credentials"),
            ("scope", IAM),
            ("scope", IAM),
        ],
    )
    .await;
    oauth_error(&r, 400, "invalid_request");
    assert!(r.body["error_description"]
        .as_str()
        .unwrap()
        .contains("scope"));
    let r = post_form(
        api,
        "/oauth/token",
        m.basic(),
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", &m.secret),
        ],
    )
    .await;
    oauth_error(&r, 400, "invalid_request");
    oauth_error(
        &post_form(
            api,
            "/oauth/token",
            m.basic(),
            &[("grant_type", "refresh_token")],
        )
        .await,
        400,
        "invalid_request",
    );
    let r = Api::send(
        api.request(reqwest::Method::POST, "/oauth/token")
            .json(&json!({ "grant_type": "client_credentials" })),
    )
    .await;
    oauth_error(&r, 400, "invalid_request");

    // unsupported_grant_type, before any client authentication.
    for grant in ["password", "urn:ietf:params:oauth:grant-type:device_code"] {
        let r = post_form(api, "/oauth/token", Auth::None, &[("grant_type", grant)]).await;
        oauth_error(&r, 400, "unsupported_grant_type");
    }

    // invalid_client: none, wrong secret (both methods), unknown client,
    // an id that is no UUID, a Bearer header, broken Basic; all alike.
    let wrong = post_form(api, "/oauth/token", Auth::Basic(&m.id, "wrong-secret"), &cc).await;
    oauth_error(&wrong, 401, "invalid_client");
    let unknown = post_form(
        api,
        "/oauth/token",
        Auth::Basic(&uuid::Uuid::new_v4().to_string(), "wrong-secret"),
        &cc,
    )
    .await;
    oauth_error(&unknown, 401, "invalid_client");
    assert_eq!(
        wrong.body, unknown.body,
        "an unknown client looks like a wrong secret"
    );
    for auth in [
        Auth::None,
        Auth::Post(&m.id, "wrong-secret"),
        Auth::Post("not-a-client", "wrong-secret"),
    ] {
        oauth_error(
            &post_form(api, "/oauth/token", auth, &cc).await,
            401,
            "invalid_client",
        );
    }
    let only_id = post_form(
        api,
        "/oauth/token",
        Auth::None,
        &[("grant_type", "client_credentials"), ("client_id", &m.id)],
    )
    .await;
    oauth_error(&only_id, 401, "invalid_client");
    for header in ["Bearer abc", "Basic !!!", "Basic bm9jb2xvbg"] {
        let r = Api::send(
            api.request(reqwest::Method::POST, "/oauth/token")
                .header("Authorization", header)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials"),
        )
        .await;
        oauth_error(&r, 401, "invalid_client");
    }

    // unauthorized_client: the client is not allowed the grant.
    let web = t
        .owner
        .post(
            "/core/iam/v1/clients",
            json!({ "name": "web", "description": "", "allowedGrantTypes": ["authorization_code"],
                    "redirectUris": ["https://app.example/cb"], "allowedScopes": ["openid"] }),
        )
        .await;
    let web = web.body["clientId"].as_str().unwrap().to_string();
    t.add_secret(&web, "web-secret-1").await;
    oauth_error(
        &post_form(api, "/oauth/token", Auth::Basic(&web, "web-secret-1"), &cc).await,
        400,
        "unauthorized_client",
    );
    oauth_error(&m.refresh("crt_x", &[]).await, 400, "unauthorized_client");

    // invalid_scope: malformed, unknown, not allowed.
    for scope in ["services.iam \"x\"", "admin", "email"] {
        let r = m.request_token(&[("scope", scope)]).await;
        oauth_error(&r, 400, "invalid_scope");
    }

    // A method other than POST, and a path that does not exist.
    let r = api.anonymous().get("/oauth/token").await;
    oauth_error(&r, 405, "invalid_request");
    let r = api.anonymous().get("/oauth/nope").await;
    oauth_error(&r, 404, "invalid_request");

    // None of this issued anything.
    let audit = t.audit("action=oauth.token_issued").await;
    assert_eq!(audit.ok()["total"], 0, "{}", audit.text);
    // Failures of a known client's secret are audited.
    let audit = t.audit("action=oauth.client_auth_failed").await;
    assert_eq!(audit.ok()["total"], 2, "{}", audit.text);
}

/// RFC 6749 3.3: a client gets only scopes it is allowed, never OpenID ones
/// without a user (a client_credentials scope cannot be an OpenID scope);
/// without `scope`, every scope it is allowed that needs no user.
async fn scopes_are_granted_only_from_what_the_client_is_allowed(b: Backend) {
    let t = tenant(b).await;
    let both = t
        .machine_with(&["client_credentials"], &[IAM, "openid", "profile"])
        .await;
    let r = both.request_token(&[]).await;
    assert_eq!(token_response(&r)["scope"], IAM);
    let r = both.request_token(&[("scope", "openid")]).await;
    oauth_error(&r, 400, "invalid_scope");
    assert!(r.body["error_description"]
        .as_str()
        .unwrap()
        .contains("openid"));

    // A client allowed nothing gets a token that reaches nothing.
    let none = t.machine_with(&["client_credentials"], &[]).await;
    let r = none.request_token(&[]).await;
    assert_eq!(token_response(&r)["scope"], "");
    oauth_error(
        &none.request_token(&[("scope", IAM)]).await,
        400,
        "invalid_scope",
    );
    let api = none
        .api
        .with_token(r.body["access_token"].as_str().unwrap());
    let r = api.get("/core/iam/v1/scopes").await;
    assert_eq!(r.status, 403, "{}", r.text);
}

/// A token the server would have signed, with its lifetime in the past.
fn expired_copy(token: &str) -> String {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let mut c = claims(token);
    let past = chrono::Utc::now().timestamp() - 7200;
    c["iat"] = json!(past);
    c["nbf"] = json!(past);
    c["exp"] = json!(past + 60);
    let mut h = Header::new(Algorithm::RS256);
    h.kid = header.kid;
    h.typ = header.typ;
    let key = EncodingKey::from_rsa_pem(signing_key().as_bytes()).unwrap();
    jsonwebtoken::encode(&h, &c, &key).unwrap()
}

/// RFC 7662 2.2: active tokens are described; anything unknown, expired,
/// revoked or another tenant's is `{"active": false}` and nothing more.
/// Introspection needs client authentication (2.1).
async fn introspection_tells_active_from_expired_revoked_and_foreign(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let m = t.machine().await;
    // A resource server: another client of the same tenant.
    let rs = t.machine().await;
    let token = m.token().await;

    let r = rs.introspect(&token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let body = &r.body;
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], m.id.as_str());
    assert_eq!(body["sub"], m.id.as_str());
    assert_eq!(body["scope"], IAM);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["tenant_id"], t.id.as_str());
    assert_eq!(body["iss"], app.base.as_str());
    assert!(body["exp"].as_i64().unwrap() > body["iat"].as_i64().unwrap());
    // token_type_hint is only a hint (2.1).
    let r = post_form(
        &rs.api,
        "/oauth/introspect",
        rs.post(),
        &[("token", &token), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(r.body["active"], true, "{}", r.text);

    // A user's session token of the tenant: active, its user named.
    let user = t.owner.token.clone().unwrap();
    let r = rs.introspect(&user).await;
    assert_eq!(r.body["active"], true, "{}", r.text);
    assert_eq!(r.body["username"], t.owner_email.as_str());
    assert_eq!(r.body["sub"], t.owner_id.as_str());

    let inactive = |r: &Resp| {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body, json!({ "active": false }), "{}", r.text);
    };
    // Expired: signed by the server, lifetime over.
    inactive(&rs.introspect(&expired_copy(&token)).await);
    // Unknown and malformed.
    inactive(&rs.introspect("not-a-token").await);
    inactive(&rs.introspect("crt_unknown").await);
    let mut forged = token.clone();
    forged.pop();
    inactive(&rs.introspect(&forged).await);
    // Another tenant's client token and user token.
    let other = app.new_tenant().await;
    let theirs = other.machine().await.token().await;
    inactive(&rs.introspect(&theirs).await);
    inactive(&rs.introspect(other.owner.token.as_deref().unwrap()).await);
    // Revoked.
    m.revoke(&token).await;
    inactive(&rs.introspect(&token).await);

    // Client authentication is required; the token parameter too.
    let r = post_form(
        &rs.api,
        "/oauth/introspect",
        Auth::None,
        &[("token", &user)],
    )
    .await;
    oauth_error(&r, 401, "invalid_client");
    let r = post_form(
        &rs.api,
        "/oauth/introspect",
        Auth::Basic(&rs.id, "nope"),
        &[("token", &user)],
    )
    .await;
    oauth_error(&r, 401, "invalid_client");
    let r = post_form(&rs.api, "/oauth/introspect", rs.basic(), &[]).await;
    oauth_error(&r, 400, "invalid_request");
}

/// RFC 7009 2.2: 200 whether the token was known or not; revoking an
/// access or refresh token ends its grant (every token of it). Another
/// client's token is left alone (2.1), with the same answer.
async fn revocation_answers_200_and_ends_the_grant(b: Backend) {
    let t = tenant(b).await;
    let m = t.refreshing_machine().await;
    let other = t.machine().await;

    let issued = m.request_token(&[]).await;
    let access = issued.body["access_token"].as_str().unwrap().to_string();
    let refresh = issued.body["refresh_token"].as_str().unwrap().to_string();
    let api = m.api.with_token(&access);
    assert_eq!(api.get("/core/iam/v1/scopes").await.status, 200);

    // Another client cannot revoke it; the answer does not say so.
    let r = other.revoke(&access).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");
    assert_eq!(api.get("/core/iam/v1/scopes").await.status, 200);

    // Unknown tokens: 200.
    for token in ["garbage", "crt_nothing", &expired_copy(&access)] {
        assert_eq!(m.revoke(token).await.status, 200);
    }

    // Revoking the access token ends the grant: the token and its
    // refresh token stop working at once.
    let r = m.revoke(&access).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let refused = api.get("/core/iam/v1/scopes").await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    let r = m.refresh(&refresh, &[]).await;
    oauth_error(&r, 400, "invalid_grant");
    // Revoking again is still 200.
    assert_eq!(m.revoke(&access).await.status, 200);

    // Revoking a refresh token ends the access tokens of its grant too.
    let issued = m.request_token(&[]).await;
    let access = issued.body["access_token"].as_str().unwrap().to_string();
    let refresh = issued.body["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(m.revoke(&refresh).await.status, 200);
    assert_eq!(
        m.api
            .with_token(&access)
            .get("/core/iam/v1/scopes")
            .await
            .status,
        401
    );

    let audit = t.audit("action=oauth.token_revoked").await;
    assert_eq!(audit.ok()["total"], 2, "{}", audit.text);
    // Revocation needs client authentication.
    let r = post_form(&m.api, "/oauth/revoke", Auth::None, &[("token", &access)]).await;
    oauth_error(&r, 401, "invalid_client");
}

/// RFC 6749 6 and 10.4: a client allowed refresh_token gets one with
/// client_credentials; each works once, for its client only, may narrow
/// the scope but not widen it; a reused one revokes the grant.
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_grant(b: Backend) {
    let t = tenant(b).await;
    let m = t.refreshing_machine().await;
    let first = m.request_token(&[]).await;
    let r1 = token_response(&first)["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(r1.starts_with("crt_") && r1.len() == 4 + 43, "{r1}");

    // Widening the scope is refused and consumes nothing.
    let r = m.refresh(&r1, &[("scope", "services.iam openid")]).await;
    oauth_error(&r, 400, "invalid_scope");
    // Another client cannot use it, and its attempt consumes nothing.
    let thief = t.refreshing_machine().await;
    let r = thief.refresh(&r1, &[]).await;
    oauth_error(&r, 400, "invalid_grant");

    let second = m.refresh(&r1, &[("scope", IAM)]).await;
    let body = token_response(&second);
    assert_eq!(body["scope"], IAM);
    let r2 = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let a2 = body["access_token"].as_str().unwrap().to_string();
    // Both access tokens belong to one grant.
    assert_eq!(
        claims(&a2)["sid"],
        claims(first.body["access_token"].as_str().unwrap())["sid"]
    );
    assert_eq!(
        m.api
            .with_token(&a2)
            .get("/core/iam/v1/scopes")
            .await
            .status,
        200
    );

    // Presenting r1 again: it was used, so the grant is revoked.
    let r = m.refresh(&r1, &[]).await;
    oauth_error(&r, 400, "invalid_grant");
    assert!(r.body["error_description"]
        .as_str()
        .unwrap()
        .contains("already used"));
    assert_eq!(
        m.api
            .with_token(&a2)
            .get("/core/iam/v1/scopes")
            .await
            .status,
        401
    );
    oauth_error(&m.refresh(&r2, &[]).await, 400, "invalid_grant");
    let audit = t.audit("action=oauth.refresh_token_reused").await;
    assert_eq!(audit.ok()["total"], 1, "{}", audit.text);

    // Introspection of refresh tokens: the owner only, while unused.
    let fresh = m.request_token(&[]).await;
    let r3 = fresh.body["refresh_token"].as_str().unwrap().to_string();
    let r = m.introspect(&r3).await;
    assert_eq!(r.body["active"], true, "{}", r.text);
    assert_eq!(r.body["client_id"], m.id.as_str());
    assert_eq!(thief.introspect(&r3).await.body, json!({ "active": false }));
    m.refresh(&r3, &[]).await;
    assert_eq!(m.introspect(&r3).await.body, json!({ "active": false }));
}

/// A disabled or deleted client's tokens stop working on their
/// next use; a disabled client cannot get new ones.
async fn disabled_and_deleted_clients_tokens_stop_working_on_next_use(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let m = t.machine().await;
    let rs = t.machine().await;
    let api = m.bearer().await;
    let token = api.token.clone().unwrap();
    assert_eq!(api.get("/core/iam/v1/scopes").await.status, 200);

    let path = format!("/core/iam/v1/clients/{}", m.id);
    let r = t.owner.put(&path, json!({ "enabled": false })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["enabled"], false);
    let refused = api.get("/core/iam/v1/scopes").await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert_eq!(rs.introspect(&token).await.body, json!({ "active": false }));
    let r = m.request_token(&[]).await;
    oauth_error(&r, 401, "invalid_client");
    assert!(r.body["error_description"]
        .as_str()
        .unwrap()
        .contains("disabled"));

    // Enabled again: new tokens work, the old one stays dead.
    t.owner.put(&path, json!({ "enabled": true })).await;
    assert_eq!(api.get("/core/iam/v1/scopes").await.status, 401);
    let fresh = m.bearer().await;
    assert_eq!(fresh.get("/core/iam/v1/scopes").await.status, 200);

    // Deleted: its tokens fail on next use; it cannot authenticate.
    let r = t.owner.delete(&path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(fresh.get("/core/iam/v1/scopes").await.status, 401);
    oauth_error(&m.request_token(&[]).await, 401, "invalid_client");
    assert_eq!(
        rs.introspect(fresh.token.as_deref().unwrap()).await.body,
        json!({ "active": false })
    );

    // A suspended tenant's client cannot get tokens, and its tokens fail.
    let live = rs.bearer().await;
    app.admin()
        .await
        .post(&format!("/api/v1/tenants/{}/suspend", t.id), json!({}))
        .await
        .ok();
    assert_eq!(live.get("/core/iam/v1/scopes").await.status, 403);
    oauth_error(&rs.request_token(&[]).await, 401, "invalid_client");
}

/// openid-configuration lists the token, introspection and
/// revocation endpoints, grant types and client authentication methods.
async fn discovery_lists_the_oauth_endpoints(b: Backend) {
    let app = shared(b).await;
    let r = app.api().get("/.well-known/openid-configuration").await;
    let c = &r.body;
    for (endpoint, path) in [
        ("token_endpoint", "/oauth/token"),
        ("introspection_endpoint", "/oauth/introspect"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("authorization_endpoint", "/oauth/authorize"),
        ("userinfo_endpoint", "/oauth/userinfo"),
        ("end_session_endpoint", "/oauth/logout"),
    ] {
        assert_eq!(c[endpoint], format!("{}{path}", app.base), "{endpoint}");
    }
    assert_eq!(
        c["grant_types_supported"],
        json!(["authorization_code", "client_credentials", "refresh_token"])
    );
    assert_eq!(c["response_types_supported"], json!(["code"]));
    assert_eq!(c["code_challenge_methods_supported"], json!(["S256"]));
    // Public clients redeem codes with PKCE and no secret.
    assert_eq!(
        c["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    let methods = json!(["client_secret_basic", "client_secret_post"]);
    assert_eq!(c["introspection_endpoint_auth_methods_supported"], methods);
    assert_eq!(c["revocation_endpoint_auth_methods_supported"], methods);
    assert!(c["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!(IAM)));
}

/// No brute force from outside (docs/security.md, OAuth clients): failed client
/// authentications are limited per client (and per address, with the
/// sign-in limits); successful ones are not, so that a busy service or
/// resource server is not slowed. The refusal is RFC 6749-shaped, 429
/// with Retry-After.
async fn guessing_secrets_is_limited_using_them_is_not(b: Backend) {
    let server = spawn(b, |c| c.auth_rate_limit_per_account = 3).await;
    let t = new_tenant(&server.api(), &server.admin().await).await;
    let m = t.machine().await;
    for _ in 0..10 {
        token_response(&m.request_token(&[]).await);
    }
    let cc = [("grant_type", "client_credentials")];
    for _ in 0..3 {
        let r = post_form(
            &m.api,
            "/oauth/token",
            Auth::Basic(&m.id, "guess-guess"),
            &cc,
        )
        .await;
        oauth_error(&r, 401, "invalid_client");
    }
    // Now even the right secret waits for the window to pass.
    let r = m.request_token(&[]).await;
    oauth_error(&r, 429, "temporarily_unavailable");
    assert!(r.header("retry-after").is_some());
    let r = m.introspect("anything").await;
    oauth_error(&r, 429, "temporarily_unavailable");
    // Another client is not affected.
    let other = t.machine().await;
    token_response(&other.request_token(&[]).await);
}
