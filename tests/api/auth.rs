//! Sign-in, tokens and lockout (docs/api/ithbat.md, Sign in, Sessions and
//! tokens; docs/security.md, Lockout and Tokens).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::support::{shared, spawn, tenant, Backend, PASSWORD};

fn jwt_part(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

on_both_backends!(
    login_returns_the_documented_tokens,
    access_token_verifies_with_the_published_jwks,
    wrong_password_and_unknown_email_answer_alike,
    login_rejects_bad_input_and_changes_nothing,
    refresh_rotates_and_reuse_revokes_the_session,
    logout_ends_the_session_at_once,
    tokens_that_are_not_access_tokens_are_refused,
    parallel_wrong_passwords_lock_exactly_once,
    parallel_correct_logins_all_succeed,
    lockout_does_not_reveal_whether_an_account_exists,
    remember_me_extends_the_session,
    an_unknown_email_costs_one_argon2_verification,
);

/// Sign-in answers `{success, data: {accessToken, refreshToken, idToken,
/// tokenType, expiresIn, user{...roles, permissions}}}`.
async fn login_returns_the_documented_tokens(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let r = t
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({ "email": t.owner_email, "password": PASSWORD, "rememberMe": false }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["success"], true);
    let d = &r.body["data"];
    assert_eq!(d["tokenType"], "Bearer");
    assert_eq!(d["expiresIn"], 3600);
    assert!(d["refreshToken"].as_str().unwrap().len() >= 43);
    let user = &d["user"];
    assert_eq!(user["email"], t.owner_email.as_str());
    assert_eq!(user["tenantId"], t.id.as_str());
    assert_eq!(user["firstName"], "Olivia");
    assert_eq!(user["familyName"], "Owner");
    assert_eq!(user["fatherName"], "");
    assert_eq!(user["grandfatherName"], "");
    assert_eq!(user["displayName"], "Olivia Owner");
    assert_eq!(user["roles"], json!(["owner"]));
    let perms: Vec<&str> = user["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        perms.contains(&"user:read") && perms.contains(&"tenant:write"),
        "{perms:?}"
    );

    // docs/security.md: access tokens are RS256 JWTs with sub, iss, aud, exp,
    // iat, jti, tenant_id, sid, roles, permissions.
    let access = d["accessToken"].as_str().unwrap();
    let header = jwt_part(access, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "at+jwt");
    let claims = jwt_part(access, 1);
    assert_eq!(claims["sub"], user["id"]);
    assert_eq!(claims["tenant_id"], t.id.as_str());
    assert_eq!(claims["iss"], app.base.as_str());
    assert_eq!(claims["aud"], app.base.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(claims["jti"].is_string() && claims["sid"].is_string());
    assert_eq!(claims["roles"], json!(["owner"]));
    assert!(claims["permissions"].as_array().unwrap().len() > 10);

    let id_claims = jwt_part(d["idToken"].as_str().unwrap(), 1);
    assert_eq!(id_claims["sub"], user["id"]);
    assert_eq!(id_claims["email"], t.owner_email.as_str());
    assert_eq!(id_claims["name"], "Olivia Owner");
    assert_eq!(id_claims["sid"], claims["sid"]);
}

/// Tokens are verifiable by third parties through
/// the openid-configuration and its JWKS.
async fn access_token_verifies_with_the_published_jwks(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let discovery = app.api().get("/.well-known/openid-configuration").await;
    assert_eq!(discovery.status, 200);
    assert_eq!(discovery.body["issuer"], app.base.as_str());
    let jwks_path = discovery.body["jwks_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches(&app.base)
        .to_string();
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(app.api().get(&jwks_path).await.body).unwrap();
    let token = t.owner.token.clone().unwrap();
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let jwk = jwks.find(&kid).expect("signing key is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[&app.base]);
    v.set_issuer(&[&app.base]);
    let data = jsonwebtoken::decode::<Value>(&token, &key, &v).expect("verifies with the JWKS");
    assert_eq!(data.claims["tenant_id"], t.id.as_str());
}

/// INVALID_CREDENTIALS 401 for a wrong email or password,
/// and the same answer whichever it was (no user enumeration).
async fn wrong_password_and_unknown_email_answer_alike(b: Backend) {
    let t = tenant(b).await;
    let api = t.anonymous();
    let wrong = api.try_login(&t.owner_email, "Wrong!pass1").await;
    let unknown = api.try_login("nobody@nowhere.example", "Wrong!pass1").await;
    wrong.expect(401, "INVALID_CREDENTIALS");
    unknown.expect(401, "INVALID_CREDENTIALS");
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));
    // The email is matched case-insensitively.
    let upper = t.owner_email.to_uppercase();
    api.login(&upper, PASSWORD).await;
}

/// Bad input gets a clear error naming the field, and changes nothing.
async fn login_rejects_bad_input_and_changes_nothing(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let api = t.anonymous();
    let path = "/api/v1/auth/login";

    let r = api.post(path, json!({ "email": t.owner_email })).await;
    r.invalid(&["password"]);

    let r = api
        .post(
            path,
            json!({ "email": t.owner_email, "password": PASSWORD, "rememberMe": "yes" }),
        )
        .await;
    r.invalid(&["rememberMe"]);

    let r = api
        .post(
            path,
            json!({ "email": t.owner_email, "password": PASSWORD, "tenant": "x" }),
        )
        .await;
    r.invalid(&["tenant"]);

    let r = api
        .post(path, json!({ "email": 42, "password": PASSWORD }))
        .await;
    assert_eq!(r.fields(), ["email"]);

    let r = api.post_raw(path, "application/json", "{\"email\": ").await;
    r.invalid(&["body"]);

    let r = api.post_raw(path, "application/json", "[]").await;
    r.expect(400, "VALIDATION_ERROR");

    let r = api
        .post_raw(
            path,
            "text/plain",
            format!(
                "{{\"email\":\"{}\",\"password\":\"{PASSWORD}\"}}",
                t.owner_email
            ),
        )
        .await;
    r.expect(415, "UNSUPPORTED_MEDIA_TYPE");

    // Request bodies over 1 MiB get 413.
    let huge = format!(
        "{{\"email\":\"{}\",\"password\":\"{}\"}}",
        t.owner_email,
        "x".repeat(1 << 20)
    );
    let r = api.post_raw(path, "application/json", huge).await;
    r.expect(413, "PAYLOAD_TOO_LARGE");

    // X-Tenant-ID: neither an id nor a slug is a validation error, unknown
    // is TENANT_NOT_FOUND.
    let r = app
        .api()
        .with_tenant("Not_A_Tenant")
        .post(path, json!({ "email": "a@b.c", "password": "x" }))
        .await;
    r.invalid(&["X-Tenant-ID"]);
    let r = app
        .api()
        .with_tenant("00000000-0000-4000-8000-000000000000")
        .post(path, json!({ "email": "a@b.c", "password": "x" }))
        .await;
    r.expect(404, "TENANT_NOT_FOUND");

    // None of this counted as a guess or created a session.
    let sessions = t.owner.get("/api/v1/auth/sessions").await;
    assert_eq!(sessions.ok()["total"], 1);
    api.login(&t.owner_email, PASSWORD).await;
}

/// Refresh tokens are single use (docs/api/ithbat.md, Sessions and tokens);
/// presenting a used one revokes the session and answers 401.
async fn refresh_rotates_and_reuse_revokes_the_session(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let api = app.api();
    let first = t.owner.refresh_token.clone().unwrap();

    let r = api.try_refresh(&first).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let second = r.body["data"]["refreshToken"].as_str().unwrap().to_string();
    let access = r.body["data"]["accessToken"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert!(r.body["data"]["idToken"].is_string());
    let me = api.with_token(&access).me().await;
    assert_eq!(me.status, 200);

    // The same session: refreshing does not create another one.
    let sessions = api.with_token(&access).get("/api/v1/auth/sessions").await;
    assert_eq!(sessions.ok()["total"], 1);

    // Reuse of the first token: 401 and the whole session is revoked.
    let reuse = api.try_refresh(&first).await;
    reuse.expect(401, "UNAUTHORIZED");
    api.with_token(&access)
        .me()
        .await
        .expect(401, "UNAUTHORIZED");
    t.owner.me().await.expect(401, "UNAUTHORIZED");
    api.try_refresh(&second).await.expect(401, "UNAUTHORIZED");

    api.try_refresh("rt_garbage")
        .await
        .expect(401, "UNAUTHORIZED");
    let r = api.post("/api/v1/auth/refresh", json!({})).await;
    r.invalid(&["refreshToken"]);
}

/// Logout revokes the session: its access token fails on the very next
/// request and its refresh token no longer works.
async fn logout_ends_the_session_at_once(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let r = t.owner.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["success"], true);
    t.owner.me().await.expect(401, "UNAUTHORIZED");
    app.api()
        .try_refresh(t.owner.refresh_token.as_deref().unwrap())
        .await
        .expect(401, "UNAUTHORIZED");
    // Logging out needs a token.
    app.api()
        .post("/api/v1/auth/logout", json!({}))
        .await
        .expect(401, "UNAUTHORIZED");
}

/// Only this server's access tokens authenticate: not the ID token, not a
/// tampered or foreign token, not a missing header.
async fn tokens_that_are_not_access_tokens_are_refused(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let api = app.api();
    let r = api.me().await;
    r.expect(401, "UNAUTHORIZED");
    assert!(r.header("www-authenticate").is_some());

    let login = api
        .with_tenant(&t.id)
        .try_login(&t.owner_email, PASSWORD)
        .await;
    let id_token = login.body["data"]["idToken"].as_str().unwrap();
    api.with_token(id_token)
        .me()
        .await
        .expect(401, "UNAUTHORIZED");

    let access = login.body["data"]["accessToken"].as_str().unwrap();
    let mut parts: Vec<String> = access.split('.').map(String::from).collect();
    let mut claims = jwt_part(access, 1);
    claims["tenant_id"] = json!("00000000-0000-4000-8000-000000000000");
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    api.with_token(&parts.join("."))
        .me()
        .await
        .expect(401, "UNAUTHORIZED");

    // Signed by another key, with the right kid.
    let other = rsa_pem_token(&jwt_part(access, 0)["kid"], &jwt_part(access, 1));
    api.with_token(&other)
        .me()
        .await
        .expect(401, "UNAUTHORIZED");

    let r = app::raw_auth(&api, "Basic dXNlcjpwYXNz").await;
    r.expect(401, "UNAUTHORIZED");
}

fn rsa_pem_token(kid: &Value, claims: &Value) -> String {
    let pem = ithbat::service::tokens::generate_rsa_pem().unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = kid.as_str().map(String::from);
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

mod app {
    use crate::support::{Api, Resp};

    pub async fn raw_auth(api: &Api, value: &str) -> Resp {
        Api::send(
            api.request(reqwest::Method::GET, "/api/v1/users/me")
                .header("Authorization", value),
        )
        .await
    }
}

/// 5 failures in 15 minutes lock the account for 15 minutes (docs/security.md),
/// counted atomically. Fifty guesses at once: exactly five are checked
/// (INVALID_CREDENTIALS), the rest are refused unchecked (ACCOUNT_LOCKED),
/// the lock is recorded once, and the right password is refused too.
async fn parallel_wrong_passwords_lock_exactly_once(b: Backend) {
    let app = spawn(b, |_| {}).await;
    let t = crate::support::new_tenant(&app.api(), &app.admin().await).await;
    let api = t.anonymous();
    let guesses = (0..50).map(|i| {
        let api = api.clone();
        let email = t.owner_email.clone();
        async move { api.try_login(&email, &format!("Wrong!{i}a")).await }
    });
    let answers = join_all(guesses).await;
    let codes: Vec<&str> = answers.iter().map(|r| r.code()).collect();
    let invalid = codes
        .iter()
        .filter(|c| **c == "INVALID_CREDENTIALS")
        .count();
    let locked = codes.iter().filter(|c| **c == "ACCOUNT_LOCKED").count();
    assert_eq!((invalid, locked), (5, 45), "{codes:?}");
    for r in answers.iter().filter(|r| r.code() == "ACCOUNT_LOCKED") {
        assert_eq!(r.status, 403);
        let retry: i64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!(retry > 0 && retry <= 15 * 60);
    }
    let right = api.try_login(&t.owner_email, PASSWORD).await;
    right.expect(403, "ACCOUNT_LOCKED");

    let pool = ithbat::db::Pool::connect(&app.db.url, 1, Default::default())
        .await
        .unwrap();
    let mut conn = pool.get().await.unwrap();
    let tenant: uuid::Uuid = t.id.parse().unwrap();
    let locks = ithbat::repo::audit::count_actions(&mut conn.db(), tenant, "auth.account_locked")
        .await
        .unwrap();
    assert_eq!(locks, 1, "the account is locked exactly once");
    let failures = ithbat::repo::audit::count_actions(&mut conn.db(), tenant, "auth.login_failed")
        .await
        .unwrap();
    assert_eq!(failures, 51, "every failed login is audited");
}

/// Guesses under check count against the lockout, but correct ones must
/// not be turned away for it: 21 parallel sign-ins with the right
/// password (a script's workers sharing an account) all succeed, even
/// beside a few wrong ones.
async fn parallel_correct_logins_all_succeed(b: Backend) {
    let t = tenant(b).await;
    let api = t.anonymous();
    let attempts = (0..24).map(|i| {
        let api = api.clone();
        let email = t.owner_email.clone();
        let password = if i % 8 == 7 {
            format!("Wrong!{i}a")
        } else {
            PASSWORD.to_string()
        };
        async move { api.try_login(&email, &password).await }
    });
    let answers = join_all(attempts).await;
    let ok = answers.iter().filter(|r| r.status == 200).count();
    let wrong = answers
        .iter()
        .filter(|r| r.code() == "INVALID_CREDENTIALS")
        .count();
    assert_eq!(
        (ok, wrong),
        (21, 3),
        "{:?}",
        answers.iter().map(|r| r.code()).collect::<Vec<_>>()
    );
    api.login(&t.owner_email, PASSWORD).await;
}

/// An unknown email locks after five guesses just like a real one, so the
/// lockout answer tells nothing about which accounts exist.
async fn lockout_does_not_reveal_whether_an_account_exists(b: Backend) {
    let t = tenant(b).await;
    let api = t.anonymous();
    for email in [t.owner_email.as_str(), "ghost@nowhere.example"] {
        let mut codes = Vec::new();
        for i in 0..7 {
            let r = api.try_login(email, &format!("Wrong!{i}a")).await;
            codes.push(r.code().to_string());
        }
        assert_eq!(codes[..5], ["INVALID_CREDENTIALS"; 5], "{email}: {codes:?}");
        assert_eq!(codes[5..], ["ACCOUNT_LOCKED"; 2], "{email}: {codes:?}");
    }
}

/// rememberMe lengthens the session: 30 days instead of a day.
async fn remember_me_extends_the_session(b: Backend) {
    let t = tenant(b).await;
    let api = t.anonymous();
    let r = api
        .post(
            "/api/v1/auth/login",
            json!({ "email": t.owner_email, "password": PASSWORD, "rememberMe": true }),
        )
        .await;
    let token = r.body["data"]["accessToken"].as_str().unwrap();
    let sessions = api.with_token(token).get("/api/v1/auth/sessions").await;
    let list = sessions.ok()["sessions"].as_array().unwrap().clone();
    let expiry = |current: bool| {
        let s = list.iter().find(|s| s["isCurrent"] == current).unwrap();
        let created =
            chrono::DateTime::parse_from_rfc3339(s["createdAt"].as_str().unwrap()).unwrap();
        let expires =
            chrono::DateTime::parse_from_rfc3339(s["expiresAt"].as_str().unwrap()).unwrap();
        (expires - created).num_hours()
    };
    assert_eq!(expiry(true), 30 * 24);
    assert_eq!(expiry(false), 24);
}

/// An unknown email costs the same argon2 work as a known one
/// (docs/security.md): the server's own count of argon2 verifications (in
/// /metrics) goes up by one for a wrong password, an unknown email and a right
/// password alike.
async fn an_unknown_email_costs_one_argon2_verification(b: Backend) {
    let app = spawn(b, |_| {}).await;
    let api = app.api();
    let verifications = || async {
        let text = api.get("/metrics").await.text;
        text.lines()
            .find_map(|l| l.strip_prefix("ithbat_password_verifications_total "))
            .expect("the counter is exported")
            .parse::<u64>()
            .unwrap()
    };
    let admin = crate::support::ADMIN_EMAIL;
    for (email, password, status) in [
        (admin, "Wr0ng!Password", 401),
        ("nobody@ithbat.test", "Wr0ng!Password", 401),
        ("nobody@ithbat.test", crate::support::ADMIN_PASSWORD, 401),
        (admin, crate::support::ADMIN_PASSWORD, 200),
    ] {
        let before = verifications().await;
        let r = api.try_login(email, password).await;
        assert_eq!(r.status, status, "{}", r.text);
        assert_eq!(verifications().await, before + 1, "{email}");
    }
}
