//! Mail flows end to end through a real SMTP server on loopback: JSON:API
//! invitations (join, resend_invitation) and account/passwords
//! (request_reset, token_valid, reset, change), and the
//! native register, verify-email, resend-verification, password-reset and
//! change-password.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::jsonapi::doc;
use crate::support::smtp::{shared_sink, Sink};
use crate::support::{spawn, tenant, Api, Backend, Resp, PASSWORD};

on_both_backends!(
    an_invitation_is_mailed_and_joined_once,
    resending_an_invitation_replaces_the_link,
    expired_invitations_and_resets_are_refused,
    password_reset_by_mailed_token,
    request_reset_answers_the_same_for_unknown_emails,
    changing_the_password_ends_other_sessions,
    register_verify_and_sign_in,
    registering_a_taken_email_reveals_nothing,
    native_password_reset_and_change,
    temporary_smtp_failures_are_retried,
);

const NEW_PASSWORD: &str = "N3w!Passw0rd";

async fn join(api: &Api, token: &str, password: &str) -> Resp {
    api.jsonapi(
        Method::PATCH,
        &format!("/api/v1/accounts/{token}/join"),
        Some(doc("accounts", json!({ "password": password }))),
    )
    .await
}

/// JSON:API reset: a mailed token and a new password.
async fn reset_password(api: &Api, token: &str, password: &str) -> Resp {
    api.post(
        "/api/v1/account/passwords/reset",
        json!({ "token": token, "password": password }),
    )
    .await
}

async fn token_valid(api: &Api, token: &str) -> Resp {
    api.get(&format!(
        "/api/v1/account/passwords/token_valid?token={token}"
    ))
    .await
}

/// JSON:API resend_invitation.
async fn resend(api: &Api, account_id: &str) -> Resp {
    api.jsonapi(
        Method::POST,
        &format!("/api/v1/accounts/{account_id}/resend_invitation"),
        None,
    )
    .await
}

/// A JSON:API account created without a password is invited (pending,
/// invitation_expired_at = now + 7 days) and mailed a single-use link;
/// PATCH /accounts/{token}/join sets the password and marks it joined.
async fn an_invitation_is_mailed_and_joined_once(b: Backend) {
    let t = tenant(b).await;
    let email = t.email("invitee");
    let before = chrono::Utc::now();
    let (account, mail) = t.invite_account("In Vitee", &email).await;
    let a = &account["attributes"];
    assert_eq!(a["status"], "pending");
    assert_eq!(a["joined_at"], Value::Null);
    let expires =
        chrono::DateTime::parse_from_rfc3339(a["invitation_expired_at"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - before).num_hours();
    assert!((167..=168).contains(&days), "7 days, got {days} hours");
    // Pending accounts cannot sign in yet.
    let r = t.anonymous().try_login(&email, PASSWORD).await;
    assert_eq!(r.status, 401, "{}", r.text);

    assert!(
        mail.subject.contains(&format!("Tenant {}", t.slug)),
        "{}",
        mail.subject
    );
    assert_eq!(mail.content_type, "multipart/alternative");
    assert!(mail.html.contains("<a href=") && !mail.text.contains('<'));
    let token = mail.token();
    assert!(token.starts_with("inv_") && token.len() >= 40, "{token}");
    assert!(mail.link().contains("/account/join?token="));

    // The policy applies before the token is used.
    let weak = join(&t.anonymous(), &token, "weak").await;
    weak.jsonapi_error(400, Some(json!({ "pointer": "/data/attributes/password" })));
    let r = join(&t.anonymous(), &token, PASSWORD).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let signed_in = t.anonymous().login(&email, PASSWORD).await;
    signed_in.me().await.ok();
    let shown = t
        .owner
        .jsonapi_get(&format!(
            "/api/v1/accounts/{}",
            account["id"].as_str().unwrap()
        ))
        .await;
    let a = &shown.body["data"]["attributes"];
    assert_eq!(a["status"], "active");
    assert!(a["joined_at"].is_string());
    assert_eq!(a["invitation_expired_at"], Value::Null);

    // Single use.
    let again = join(&t.anonymous(), &token, NEW_PASSWORD).await;
    again.jsonapi_error(400, None);
    assert!(
        again.error()["detail"]
            .as_str()
            .unwrap()
            .contains("already been used"),
        "{}",
        again.text
    );
    let unknown = join(&t.anonymous(), "inv_nonsense", PASSWORD).await;
    unknown.jsonapi_error(400, None);
    // A plain JSON body works too.
    let plain = t
        .anonymous()
        .patch("/api/v1/accounts/inv_x/join", json!({ "pass": 1 }))
        .await;
    plain.jsonapi_error(400, Some(json!({ "pointer": "/pass" })));
}

/// resend_invitation: a fresh token; the old one stops working.
async fn resending_an_invitation_replaces_the_link(b: Backend) {
    let t = tenant(b).await;
    let email = t.email("again");
    let (account, first) = t.invite_account("Re Send", &email).await;
    let id = account["id"].as_str().unwrap();
    let first = first.token();
    let r = resend(&t.owner, id).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let second = shared_sink().mail_to(&email).await.token();
    assert_ne!(first, second);
    let old = join(&t.anonymous(), &first, PASSWORD).await;
    old.jsonapi_error(400, None);
    assert!(
        old.error()["detail"].as_str().unwrap().contains("replaced"),
        "{}",
        old.text
    );
    let r = join(&t.anonymous(), &second, PASSWORD).await;
    assert_eq!(r.status, 204, "{}", r.text);
    // Joined accounts are not invited again; members may not resend.
    let r = resend(&t.owner, id).await;
    r.jsonapi_error(409, None);
    let member = t.user("m").await;
    let other = t
        .create_account(json!({ "name": "Other Invitee", "email": t.email("oi") }))
        .await;
    resend(&member.api, other["id"].as_str().unwrap())
        .await
        .jsonapi_error(403, None);
    resend(&t.owner, "00000000-0000-0000-0000-000000000000")
        .await
        .jsonapi_error(404, None);
}

/// Expired tokens give a clear error (a token 8 days old, or a reset link
/// older than an hour).
async fn expired_invitations_and_resets_are_refused(b: Backend) {
    let server = spawn(b, |_| {}).await;
    let admin = server.admin().await;
    let t = crate::support::new_tenant(&server.api(), &admin).await;
    let email = t.email("late");
    let token = t.invite_account("Late Comer", &email).await.1.token();
    server
        .db
        .execute("UPDATE account_tokens SET expires_at = '2020-01-01T00:00:00.000000Z'")
        .await;
    let r = join(&t.anonymous(), &token, PASSWORD).await;
    r.jsonapi_error(400, None);
    assert!(
        r.error()["detail"].as_str().unwrap().contains("expired"),
        "{}",
        r.text
    );

    let user = t.user("forgetful").await;
    let r = t.anonymous().request_reset(&user.email).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let reset = shared_sink().mail_to(&user.email).await.token();
    server
        .db
        .execute("UPDATE account_tokens SET expires_at = '2020-01-01T00:00:00.000000Z' WHERE purpose = 'password_reset'")
        .await;
    let anon = t.anonymous();
    assert_eq!(token_valid(&anon, &reset).await.body, json!(false));
    let r = reset_password(&anon, &reset, NEW_PASSWORD).await;
    r.jsonapi_error(400, Some(json!({ "pointer": "/token" })));
    assert!(r.error()["detail"].as_str().unwrap().contains("expired"));
    anon.login(&user.email, PASSWORD).await;
}

/// JSON:API request_reset / token_valid / reset: a mailed token (256 bits,
/// single use, one hour), the tenant's policy, every session ended.
async fn password_reset_by_mailed_token(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("resetter").await;
    user.api.me().await.ok();
    let anon = t.anonymous();
    let r = anon
        .jsonapi(
            Method::POST,
            "/api/v1/account/passwords/request_reset",
            Some(doc(
                "account_passwords",
                json!({ "email": user.email.to_uppercase() }),
            )),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let mail = shared_sink().mail_to(&user.email).await;
    assert!(mail.link().contains("/account/reset-password?token="));
    let token = mail.token();
    assert!(token.starts_with("pwr_"));
    let valid = token_valid(&anon, &token).await;
    assert_eq!(valid.status, 200);
    assert_eq!(valid.body, json!(true));
    assert_eq!(token_valid(&anon, "pwr_forged").await.body, json!(false));
    anon.get("/api/v1/account/passwords/token_valid")
        .await
        .jsonapi_error(400, Some(json!({ "parameter": "token" })));

    let weak = reset_password(&anon, &token, "password").await;
    weak.jsonapi_error(400, Some(json!({ "pointer": "/password" })));
    let r = reset_password(&anon, &token, NEW_PASSWORD).await;
    assert_eq!(r.status, 204, "{}", r.text);
    user.api.me().await.expect(401, "UNAUTHORIZED");
    anon.login(&user.email, NEW_PASSWORD).await;
    let r = anon.try_login(&user.email, PASSWORD).await;
    r.expect(401, "INVALID_CREDENTIALS");
    let reused = reset_password(&anon, &token, "An0ther!Pass").await;
    reused.jsonapi_error(400, Some(json!({ "pointer": "/token" })));
    assert_eq!(token_valid(&anon, &token).await.body, json!(false));
    // Bad bodies: missing or unknown fields, wrong types.
    for (body, pointer) in [
        (json!({ "password": NEW_PASSWORD }), "/token"),
        (json!({ "token": 1, "password": NEW_PASSWORD }), "/token"),
        (
            json!({ "token": "x", "password": NEW_PASSWORD, "extra": true }),
            "/extra",
        ),
    ] {
        anon.post("/api/v1/account/passwords/reset", body)
            .await
            .jsonapi_error(400, Some(json!({ "pointer": pointer })));
    }
}

/// request_reset answers 204 whether or not the email exists, and
/// sends nothing for an unknown one.
async fn request_reset_answers_the_same_for_unknown_emails(b: Backend) {
    let t = tenant(b).await;
    let anon = t.anonymous();
    let nobody = t.email("nobody");
    let r = anon.request_reset(&nobody).await;
    assert_eq!(r.status, 204);
    assert!(r.text.is_empty());
    let invited = t.email("invited");
    t.invite_account("Only Invited", &invited).await;
    let r = anon.request_reset(&invited).await;
    assert_eq!(r.status, 204);
    for address in [&nobody, &invited] {
        assert!(
            shared_sink()
                .try_mail_to(address, std::time::Duration::from_millis(700))
                .await
                .is_none(),
            "no reset mail for {address}"
        );
    }
    // A malformed address is a clear 400; an unknown tenant a 404.
    anon.request_reset("not-an-email")
        .await
        .jsonapi_error(400, Some(json!({ "pointer": "/email" })));
    anon.with_tenant("00000000-0000-0000-0000-000000000000")
        .request_reset(&nobody)
        .await
        .jsonapi_error(404, None);
}

/// JSON:API change: current and new password; the account's other
/// sessions are revoked, this one stays.
async fn changing_the_password_ends_other_sessions(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("changer").await;
    let other = user.api.anonymous().login(&user.email, PASSWORD).await;
    let wrong = user
        .api
        .post(
            "/api/v1/account/passwords/change",
            json!({ "current_password": "Wr0ng!Password", "new_password": NEW_PASSWORD }),
        )
        .await;
    wrong.jsonapi_error(400, Some(json!({ "pointer": "/current_password" })));
    let weak = user
        .api
        .post(
            "/api/v1/account/passwords/change",
            json!({ "current_password": PASSWORD, "new_password": "short" }),
        )
        .await;
    weak.jsonapi_error(400, Some(json!({ "pointer": "/new_password" })));
    other.me().await.ok();
    let r = user
        .api
        .jsonapi(
            Method::POST,
            "/api/v1/account/passwords/change",
            Some(doc(
                "account_passwords",
                json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
            )),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    user.api.me().await.ok();
    other.me().await.expect(401, "UNAUTHORIZED");
    user.api.anonymous().login(&user.email, NEW_PASSWORD).await;
    user.api
        .anonymous()
        .post(
            "/api/v1/account/passwords/change",
            json!({ "current_password": NEW_PASSWORD, "new_password": PASSWORD }),
        )
        .await
        .jsonapi_error(401, None);
}

/// Native registration (docs/api/ithbat.md): register (201), login refused
/// until the mailed verification token is used (ACCOUNT_NOT_VERIFIED),
/// verify-email, then sign-in; resend-verification sends a fresh link.
async fn register_verify_and_sign_in(b: Backend) {
    let t = tenant(b).await;
    let anon = t.anonymous();
    let email = t.email("sara");
    let r = anon
        .post(
            "/api/v1/auth/register",
            json!({ "email": email, "password": PASSWORD, "firstName": "Sara", "familyName": "Al-Rashidi", "fatherName": "Omar" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let d = r.ok();
    assert_eq!(d["email"], email);
    assert_eq!(d["displayName"], "Sara Al-Rashidi");
    assert_eq!(d["tenantId"], t.id);
    assert!(d["message"].as_str().unwrap().contains("verify"));
    let user_id = d["userId"].as_str().unwrap().to_string();
    anon.try_login(&email, PASSWORD)
        .await
        .expect(403, "ACCOUNT_NOT_VERIFIED");
    let first = shared_sink().mail_to(&email).await;
    assert!(first.link().contains("/account/verify-email?token="));
    let r = anon
        .post(
            "/api/v1/auth/resend-verification",
            json!({ "email": email }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = shared_sink().mail_to(&email).await.token();
    assert!(token.starts_with("evt_"));
    anon.post(
        "/api/v1/auth/verify-email",
        json!({ "token": first.token() }),
    )
    .await
    .expect(400, "VALIDATION_ERROR");
    let r = anon
        .post("/api/v1/auth/verify-email", json!({ "token": token }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["message"], "Email verified successfully");
    let me = anon.login(&email, PASSWORD).await.me().await;
    assert_eq!(me.ok()["id"], user_id);
    assert_eq!(me.ok()["emailVerified"], true);
    assert_eq!(me.ok()["roles"], json!(["member"]));
    anon.post("/api/v1/auth/verify-email", json!({ "token": token }))
        .await
        .expect(400, "VALIDATION_ERROR");

    // Bad input names the field; a disabled registration is refused.
    anon.post(
        "/api/v1/auth/register",
        json!({ "email": "x", "password": PASSWORD, "firstName": "A", "familyName": "B" }),
    )
    .await
    .expect(400, "VALIDATION_ERROR");
    let r = anon
        .post("/api/v1/auth/register", json!({ "email": t.email("z"), "password": "weak", "firstName": "A", "familyName": "B" }))
        .await;
    r.invalid(&["password"]);
    t.owner
        .put("/api/v1/settings", json!({ "allowRegistration": false }))
        .await
        .ok();
    anon.post(
        "/api/v1/auth/register",
        json!({ "email": t.email("y"), "password": PASSWORD, "firstName": "A", "familyName": "B" }),
    )
    .await
    .expect(403, "FORBIDDEN");
}

/// Registering an address that has an account answers exactly as a new
/// one does (anti-enumeration), and its owner is told by mail.
async fn registering_a_taken_email_reveals_nothing(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("taken").await;
    let anon = t.anonymous();
    let body = json!({ "email": user.email, "password": PASSWORD, "firstName": "Some", "familyName": "One" });
    let r = anon.post("/api/v1/auth/register", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_ne!(r.ok()["userId"], user.id, "the real id is not disclosed");
    let keys: Vec<&String> = r.ok().as_object().unwrap().keys().collect();
    let fresh = anon
        .post("/api/v1/auth/register", json!({ "email": t.email("fresh"), "password": PASSWORD, "firstName": "Some", "familyName": "One" }))
        .await;
    assert_eq!(
        fresh.ok().as_object().unwrap().keys().collect::<Vec<_>>(),
        keys
    );
    let warning = shared_sink().mail_to(&user.email).await;
    assert!(
        warning.subject.contains("tried to register"),
        "{}",
        warning.subject
    );
    // The existing account is untouched.
    anon.login(&user.email, PASSWORD).await;
}

/// Native password-reset/initiate, the completion endpoint, and
/// change-password with snake_case fields.
async fn native_password_reset_and_change(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("native").await;
    let anon = t.anonymous();
    let r = anon.initiate_reset(&user.email).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let unknown = anon.initiate_reset(&t.email("ghost")).await;
    assert_eq!(unknown.status, 200);
    assert_eq!(unknown.body, r.body, "the same answer for an unknown email");
    let token = shared_sink().mail_to(&user.email).await.token();
    let weak = anon
        .post(
            "/api/v1/auth/password-reset/complete",
            json!({ "token": token, "new_password": "weak" }),
        )
        .await;
    weak.invalid(&["new_password"]);
    let r = anon
        .post(
            "/api/v1/auth/password-reset/complete",
            json!({ "token": token, "new_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let signed_in = anon.login(&user.email, NEW_PASSWORD).await;

    let camel = signed_in
        .post(
            "/api/v1/auth/change-password",
            json!({ "oldPassword": NEW_PASSWORD, "newPassword": PASSWORD }),
        )
        .await;
    camel.expect(400, "VALIDATION_ERROR");
    let r = signed_in
        .post(
            "/api/v1/auth/change-password",
            json!({ "current_password": NEW_PASSWORD, "new_password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    anon.login(&user.email, PASSWORD).await;
}

/// Mail is sent off the request path and retried: a relay that answers
/// 451 twice still gets the message.
async fn temporary_smtp_failures_are_retried(b: Backend) {
    let sink: &'static Sink = Box::leak(Box::new(Sink::start(2)));
    let server = spawn(b, |c| c.smtp_url = Some(sink.url())).await;
    let admin = server.admin().await;
    let t = crate::support::new_tenant(&server.api(), &admin).await;
    let email = t.email("patient");
    let started = std::time::Instant::now();
    t.create_account(json!({ "name": "Pa Tient", "email": email }))
        .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "not on the request path"
    );
    let mail = sink
        .try_mail_to(&email, std::time::Duration::from_secs(20))
        .await;
    assert!(mail.is_some(), "delivered after retries");
    assert_eq!(sink.refusals_left(), 0);
}
