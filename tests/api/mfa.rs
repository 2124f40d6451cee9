//! MFA (docs/api/ithbat.md, Multi-factor sign-in; docs/security.md, MFA):
//! setup, verify-setup, disable, backup-codes, the two-step login with an
//! mfaToken valid 5 minutes, verify and verify-backup, ten single-use
//! backup codes, the `{"mfaRequired", "mfaToken"}` login answer, the audit
//! events, and RFC 6238 (codes of 30-second steps, ±1 step, each accepted
//! once).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::support::totp::{backup_codes_of, enrol, Authenticator};
use crate::support::{
    shared, spawn, spawn_on, tenant, Api, Backend, Resp, TestDb, TestTenant, PASSWORD,
};

on_both_backends!(
    enrolment_shows_the_secret_once_and_turns_mfa_on,
    setup_with_the_sdk_body_checks_the_password,
    two_step_login_issues_tokens_only_after_the_code,
    backup_codes_sign_in_once_each,
    wrong_codes_void_the_mfa_token,
    mfa_failures_count_toward_the_lockout,
    mfa_tokens_are_bound_to_their_tenant,
    disable_needs_the_password,
    bad_input_is_refused_and_changes_nothing,
    codes_are_rate_limited_per_user,
    secrets_are_stored_sealed_or_hashed_and_mfa_tokens_expire,
    a_configured_secret_key_is_not_stored_and_opens_nothing_old_alone,
);

const SETUP: &str = "/api/v1/auth/mfa/setup";
const VERIFY_SETUP: &str = "/api/v1/auth/mfa/verify-setup";
const VERIFY: &str = "/api/v1/auth/mfa/verify";
const VERIFY_BACKUP: &str = "/api/v1/auth/mfa/verify-backup";
const DISABLE: &str = "/api/v1/auth/mfa/disable";
const BACKUP_CODES: &str = "/api/v1/auth/mfa/backup-codes";

/// The first step of sign-in for a user with MFA: the mfaToken.
async fn first_step(api: &Api, email: &str) -> String {
    let r = api.anonymous().try_login(email, PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["mfaRequired"], true, "{}", r.text);
    r.body["mfaToken"].as_str().unwrap().to_string()
}

async fn second_step(api: &Api, path: &str, mfa_token: &str, code: &str) -> Resp {
    api.anonymous()
        .post(path, json!({ "mfaToken": mfa_token, "code": code }))
        .await
}

/// A wrong password in `body` is refused as a bad `password` field.
async fn refuses_a_wrong_password(api: &Api, path: &str, mut body: Value) {
    body["password"] = json!("Wr0ng!Password");
    let r = api.post(path, body).await;
    r.expect(400, "VALIDATION_ERROR");
    assert_eq!(r.fields(), ["password"], "{path}");
}

/// `n` wrong TOTP codes against an mfaToken, each refused as such.
async fn wrong_codes(api: &Api, mfa_token: &str, phone: &Authenticator, n: usize) {
    for _ in 0..n {
        second_step(api, VERIFY, mfa_token, &phone.wrong_code())
            .await
            .expect(401, "INVALID_MFA_CODE");
    }
}

async fn mfa_enabled(api: &Api) -> bool {
    api.me().await.ok()["mfaEnabled"].as_bool().unwrap()
}

/// The tenant's audit events of one action.
async fn events(t: &TestTenant, action: &str) -> Vec<Value> {
    t.audit(&format!("limit=100&action={action}")).await.ok()["events"]
        .as_array()
        .unwrap()
        .clone()
}

/// What the phone's camera reads: the PNG decoded, then the QR symbol.
fn scan(data_url: &str) -> String {
    let png = STANDARD
        .decode(data_url.strip_prefix("data:image/png;base64,").unwrap())
        .unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    let (w, h) = (frame.width as usize, frame.height as usize);
    assert_eq!(w, h, "a QR code is square");
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().unwrap().1
}

/// Setup answers `{secret, qrCodeUrl, backupCodes: []}`;
/// MFA is on only once verify-setup has seen a code from the secret, and
/// it returns the ten backup codes, this once.
async fn enrolment_shows_the_secret_once_and_turns_mfa_on(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("alice").await;

    let r = u.api.post_empty(SETUP).await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let d = r.ok().clone();
    let secret = d["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    assert!(secret
        .bytes()
        .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)));
    assert_eq!(d["backupCodes"], json!([]));
    let qr = d["qrCodeUrl"].as_str().unwrap();
    assert!(qr.starts_with("data:image/png;base64,"), "{qr}");
    assert_eq!(
        d["qrCode"], d["qrCodeUrl"],
        "another name for the same image"
    );
    let uri = d["otpauthUrl"].as_str().unwrap();
    let issuer = format!("Tenant%20{}", t.slug);
    let account = u.email.replace('@', "%40");
    assert_eq!(
        uri,
        format!("otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}")
    );
    assert_eq!(scan(qr), uri, "the QR code carries the otpauth URI");
    assert!(!mfa_enabled(&u.api).await, "not on before verify-setup");

    // A wrong code, and a code of an abandoned secret, enable nothing.
    let old = Authenticator::new(secret);
    let r = u
        .api
        .post(VERIFY_SETUP, json!({ "code": old.wrong_code() }))
        .await;
    r.invalid(&["code"]);
    let again = u.api.post_empty(SETUP).await;
    let mut phone = Authenticator::new(again.ok()["secret"].as_str().unwrap());
    assert_ne!(phone.secret, old.secret, "a new setup, a new secret");
    let r = u
        .api
        .post(VERIFY_SETUP, json!({ "code": old.wrong_code() }))
        .await;
    r.expect(400, "VALIDATION_ERROR");
    assert!(!mfa_enabled(&u.api).await);

    let code = phone.next_code().await;
    let r = u
        .api
        .post(VERIFY_SETUP, json!({ "code": code, "method": "totp" }))
        .await;
    let codes = backup_codes_of(&r);
    assert_eq!(codes.len(), 10, "ten backup codes");
    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);
    for c in &codes {
        assert_eq!(c.len(), 19, "four groups of four: {c}");
        assert_eq!(c.matches('-').count(), 3, "{c}");
    }
    assert!(mfa_enabled(&u.api).await);
    let shown = t.owner.get(&format!("/api/v1/users/{}", u.id)).await;
    assert_eq!(shown.ok()["mfaEnabled"], true, "administrators see it too");

    // Enrolled once: a second setup or verify-setup is refused.
    u.api.post_empty(SETUP).await.expect(409, "CONFLICT");
    u.api
        .post(VERIFY_SETUP, json!({ "code": phone.peek_code().await }))
        .await
        .expect(409, "CONFLICT");

    // The audit events of enrolment.
    let enabled = events(&t, "user.mfa_enabled").await;
    assert_eq!(enabled.len(), 1);
    assert_eq!(enabled[0]["target"]["id"], u.id.as_str());
    assert_eq!(enabled[0]["actor"]["id"], u.id.as_str());
    let failed = events(&t, "auth.mfa_failed").await;
    assert_eq!(failed.len(), 2, "the two wrong setup codes");
    assert_eq!(failed[0]["status"], "failure");
    for e in enabled
        .iter()
        .chain(&failed)
        .chain(&events(&t, "user.mfa_setup_started").await)
    {
        let text = e.to_string();
        assert!(
            !text.contains(&phone.secret) && !text.contains(&codes[0]),
            "{text}"
        );
    }
}

/// Setup may be sent `{"method": "totp", "password"}`;
/// a password that is sent must be right, and only TOTP is offered.
async fn setup_with_the_sdk_body_checks_the_password(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("sdk").await;
    refuses_a_wrong_password(&u.api, SETUP, json!({ "method": "totp" })).await;
    // Nothing was stored: there is no enrolment to verify.
    u.api
        .post(VERIFY_SETUP, json!({ "code": "123456" }))
        .await
        .expect(409, "CONFLICT");
    for method in ["sms", "email", "backup_codes"] {
        let r = u
            .api
            .post(SETUP, json!({ "method": method, "password": PASSWORD }))
            .await;
        r.invalid(&["method"]);
    }
    let r = u
        .api
        .post(SETUP, json!({ "method": "totp", "password": PASSWORD }))
        .await;
    assert!(r.ok()["secret"].is_string());
    assert_eq!(
        events(&t, "auth.password_check_failed").await.len(),
        1,
        "the wrong password is audited"
    );
}

/// With MFA on, a right password answers only `{"mfaRequired": true,
/// "mfaToken": "mfa_..."}`; the code then gets the same tokens as a login. RFC
/// 6238 5.2: a code is accepted once.
async fn two_step_login_issues_tokens_only_after_the_code(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("bob").await;
    let (mut phone, _) = enrol(&u.api).await;

    let r = u
        .api
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({ "email": u.email, "password": PASSWORD, "rememberMe": true }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["mfaRequired", "mfaToken"],
        "not enveloped, no tokens"
    );
    let mfa_token = r.body["mfaToken"].as_str().unwrap().to_string();
    assert!(mfa_token.starts_with("mfa_") && mfa_token.len() > 40);
    // The mfaToken is no access token.
    u.api
        .with_token(&mfa_token)
        .me()
        .await
        .expect(401, "UNAUTHORIZED");

    let code = phone.next_code().await;
    let r = second_step(&u.api, VERIFY, &mfa_token, &code).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["success"], true);
    let d = &r.body["data"];
    assert_eq!(d["tokenType"], "Bearer");
    assert_eq!(d["expiresIn"], 3600);
    assert!(d["idToken"].is_string());
    assert_eq!(d["user"]["email"], u.email.as_str());
    assert_eq!(d["user"]["roles"], json!(["member"]));
    let signed_in = u.api.with_token(d["accessToken"].as_str().unwrap());
    assert!(mfa_enabled(&signed_in).await);
    let refreshed = u
        .api
        .anonymous()
        .try_refresh(d["refreshToken"].as_str().unwrap())
        .await;
    assert!(
        refreshed.ok()["accessToken"].is_string(),
        "an ordinary session"
    );
    let current = signed_in.current_session().await;
    let expires =
        chrono::DateTime::parse_from_rfc3339(current["expiresAt"].as_str().unwrap()).unwrap();
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::days(29),
        "rememberMe of the first step holds: {expires}"
    );

    // Single use: the same mfaToken, even with a fresh code, is spent.
    second_step(&u.api, VERIFY, &mfa_token, &phone.peek_code().await)
        .await
        .expect(401, "UNAUTHORIZED");
    // Replay: the code already accepted, with a new mfaToken.
    let mfa_token = first_step(&u.api, &u.email).await;
    second_step(&u.api, VERIFY, &mfa_token, &code)
        .await
        .expect(401, "INVALID_MFA_CODE");
    let r = second_step(&u.api, VERIFY, &mfa_token, &phone.next_code().await).await;
    assert!(r.ok()["accessToken"].is_string(), "{}", r.text);

    let verified = events(&t, "auth.mfa_verified").await;
    assert_eq!(verified.len(), 2);
    assert_eq!(verified[0]["details"]["method"], "totp");
    let logins: Vec<Value> = events(&t, "auth.login")
        .await
        .into_iter()
        .filter(|e| e["actor"]["id"] == u.id.as_str() && e["details"]["mfa"] == "totp")
        .collect();
    assert_eq!(logins.len(), 2, "auth.login only after the second step");
    assert_eq!(events(&t, "auth.mfa_required").await.len(), 2);
    let failed = events(&t, "auth.mfa_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["details"]["reason"], "code_reused");
}

/// Ten single-use backup codes through verify-backup;
/// regenerating them (with the password) voids the old ones.
async fn backup_codes_sign_in_once_each(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("carol").await;
    let (_phone, codes) = enrol(&u.api).await;

    let mfa_token = first_step(&u.api, &u.email).await;
    let r = second_step(&u.api, VERIFY_BACKUP, &mfa_token, &codes[0]).await;
    assert!(r.ok()["accessToken"].is_string(), "{}", r.text);
    let mfa_token = first_step(&u.api, &u.email).await;
    second_step(&u.api, VERIFY_BACKUP, &mfa_token, &codes[0])
        .await
        .expect(401, "INVALID_MFA_CODE");
    // As typed by hand: upper case, no hyphens.
    let typed = codes[1].replace('-', "").to_uppercase();
    let r = second_step(&u.api, VERIFY_BACKUP, &mfa_token, &typed).await;
    assert!(r.ok()["accessToken"].is_string(), "{}", r.text);
    // A backup code is no TOTP code, and the other way round.
    let mfa_token = first_step(&u.api, &u.email).await;
    let r = second_step(&u.api, VERIFY, &mfa_token, &codes[2]).await;
    r.invalid(&["code"]);
    let r = second_step(&u.api, VERIFY_BACKUP, &mfa_token, "123456").await;
    r.expect(400, "VALIDATION_ERROR");

    // Regeneration needs the password; a wrong one changes nothing.
    refuses_a_wrong_password(&u.api, BACKUP_CODES, json!({})).await;
    let r = second_step(&u.api, VERIFY_BACKUP, &mfa_token, &codes[2]).await;
    assert!(r.ok()["accessToken"].is_string(), "old codes still work");
    let r = u
        .api
        .post(BACKUP_CODES, json!({ "password": PASSWORD }))
        .await;
    let fresh = backup_codes_of(&r);
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !codes.contains(c)));
    let mfa_token = first_step(&u.api, &u.email).await;
    second_step(&u.api, VERIFY_BACKUP, &mfa_token, &codes[3])
        .await
        .expect(401, "INVALID_MFA_CODE");
    let r = second_step(&u.api, VERIFY_BACKUP, &mfa_token, &fresh[0]).await;
    assert!(r.ok()["accessToken"].is_string(), "{}", r.text);
    assert_eq!(
        events(&t, "user.mfa_backup_codes_regenerated").await.len(),
        1
    );
    let verified = events(&t, "auth.mfa_verified").await;
    assert_eq!(verified.len(), 4);
    assert!(verified
        .iter()
        .all(|e| e["details"]["method"] == "backup_code"));
}

/// An mfaToken is void after five wrong codes, however many are sent at
/// once: each attempt is counted before its code is checked.
async fn wrong_codes_void_the_mfa_token(b: Backend) {
    let t = tenant(b).await;
    // A lockout threshold above the token's own limit, to see the latter.
    t.owner
        .put(
            "/api/v1/settings",
            json!({ "lockout": { "maxFailedAttempts": 30 } }),
        )
        .await
        .ok();
    let u = t.user("dave").await;
    let (mut phone, _) = enrol(&u.api).await;

    let mfa_token = first_step(&u.api, &u.email).await;
    wrong_codes(&u.api, &mfa_token, &phone, 5).await;
    second_step(&u.api, VERIFY, &mfa_token, &phone.peek_code().await)
        .await
        .expect(401, "UNAUTHORIZED");
    let failed = events(&t, "auth.mfa_failed").await;
    assert_eq!(failed.len(), 5);
    assert!(failed
        .iter()
        .all(|e| e["details"]["reason"] == "invalid_code"));

    // Ten at once against a new token: five are checked, five refused.
    let mfa_token = first_step(&u.api, &u.email).await;
    let wrong = phone.wrong_code();
    let answers = join_all((0..10).map(|_| second_step(&u.api, VERIFY, &mfa_token, &wrong))).await;
    let checked = answers
        .iter()
        .filter(|r| r.code() == "INVALID_MFA_CODE")
        .count();
    let refused = answers
        .iter()
        .filter(|r| r.code() == "UNAUTHORIZED")
        .count();
    assert_eq!((checked, refused), (5, 5), "{answers:?}");

    let mfa_token = first_step(&u.api, &u.email).await;
    let r = second_step(&u.api, VERIFY, &mfa_token, &phone.next_code().await).await;
    assert!(
        r.ok()["accessToken"].is_string(),
        "a new token works: {}",
        r.text
    );
}

/// A right password is not a finished sign-in: wrong codes count as failed
/// sign-ins, a right password does not forgive them, and the account
/// locks as it would for wrong passwords (5 in 15 minutes by default).
async fn mfa_failures_count_toward_the_lockout(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("erin").await;
    let (mut phone, _) = enrol(&u.api).await;

    let mfa_token = first_step(&u.api, &u.email).await;
    wrong_codes(&u.api, &mfa_token, &phone, 3).await;
    let mfa_token = first_step(&u.api, &u.email).await;
    wrong_codes(&u.api, &mfa_token, &phone, 2).await;
    let r = second_step(&u.api, VERIFY, &mfa_token, &phone.peek_code().await).await;
    r.expect(403, "ACCOUNT_LOCKED");
    assert!(r.header("retry-after").is_some());
    u.api
        .anonymous()
        .try_login(&u.email, PASSWORD)
        .await
        .expect(403, "ACCOUNT_LOCKED");
    assert_eq!(events(&t, "auth.account_locked").await.len(), 1);

    // An administrator's unlock lets the user in again, with a code.
    let r = t
        .owner
        .post(&format!("/api/v1/users/{}/unlock", u.id), json!({}))
        .await;
    r.ok();
    let mfa_token = first_step(&u.api, &u.email).await;
    let r = second_step(&u.api, VERIFY, &mfa_token, &phone.next_code().await).await;
    assert!(r.ok()["accessToken"].is_string(), "{}", r.text);
}

/// An mfaToken works for its own tenant only; unknown ones are refused
/// alike, and none reveals anything about the account.
async fn mfa_tokens_are_bound_to_their_tenant(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let u = t.user("frank").await;
    let (mut phone, _) = enrol(&u.api).await;
    let mfa_token = first_step(&u.api, &u.email).await;

    let code = phone.next_code().await;
    let r = app
        .api()
        .with_tenant(&other.id)
        .post(VERIFY, json!({ "mfaToken": mfa_token, "code": code }))
        .await;
    r.expect(401, "UNAUTHORIZED");
    let unknown = second_step(&u.api, VERIFY, "mfa_not-a-token", &code).await;
    unknown.expect(401, "UNAUTHORIZED");
    assert_eq!(r.body["error"]["message"], unknown.body["error"]["message"]);
    let r = second_step(&u.api, VERIFY, &mfa_token, &code).await;
    assert!(r.ok()["accessToken"].is_string(), "{}", r.text);
}

/// Disable needs the password; afterwards sign-in is one
/// step again and the old secret and codes are gone.
async fn disable_needs_the_password(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("grace").await;
    u.api
        .post(DISABLE, json!({ "password": PASSWORD }))
        .await
        .expect(409, "CONFLICT");
    let (phone, codes) = enrol(&u.api).await;

    refuses_a_wrong_password(&u.api, DISABLE, json!({ "method": "totp" })).await;
    assert!(
        mfa_enabled(&u.api).await,
        "a wrong password changes nothing"
    );
    first_step(&u.api, &u.email).await;

    let r = u.api.post(DISABLE, json!({ "password": PASSWORD })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!mfa_enabled(&u.api).await);
    // One step again: the login answers tokens.
    let again = u.api.anonymous().login(&u.email, PASSWORD).await;
    assert!(again.token.is_some());
    let disabled = events(&t, "user.mfa_disabled").await;
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0]["target"]["id"], u.id.as_str());

    // A new enrolment has a new secret and new codes.
    let (phone2, codes2) = enrol(&u.api).await;
    assert_ne!(phone.secret, phone2.secret);
    let mfa_token = first_step(&u.api, &u.email).await;
    second_step(&u.api, VERIFY_BACKUP, &mfa_token, &codes[0])
        .await
        .expect(401, "INVALID_MFA_CODE");
    let r = second_step(&u.api, VERIFY_BACKUP, &mfa_token, &codes2[0]).await;
    assert!(r.ok()["accessToken"].is_string());
    // An unfinished enrolment is cancelled by disable too.
    let v = t.user("heidi").await;
    v.api.post_empty(SETUP).await.ok();
    let r = v.api.post(DISABLE, json!({ "password": PASSWORD })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    v.api
        .post(VERIFY_SETUP, json!({ "code": "123456" }))
        .await
        .expect(409, "CONFLICT");
}

/// Malformed bodies are refused naming the field, and change nothing: no
/// enrolment, no attempt counted against an mfaToken.
async fn bad_input_is_refused_and_changes_nothing(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("ivan").await;
    for (path, body, field) in [
        (SETUP, json!({ "password": 5 }), "password"),
        (SETUP, json!({ "method": null }), "method"),
        (SETUP, json!({ "secret": "JBSWY3DPEHPK3PXP" }), "secret"),
        (VERIFY_SETUP, json!({}), "code"),
        (VERIFY_SETUP, json!({ "code": 123456 }), "code"),
        (VERIFY_SETUP, json!({ "code": "12345" }), "code"),
        (DISABLE, json!({}), "password"),
        (DISABLE, json!({ "password": "" }), "password"),
        (
            BACKUP_CODES,
            json!({ "password": PASSWORD, "count": 20 }),
            "count",
        ),
    ] {
        let r = u.api.post(path, body.clone()).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{path} {body}: {}", r.text);
    }
    let r = u.api.post_raw(SETUP, "text/plain", "totp").await;
    r.expect(415, "UNSUPPORTED_MEDIA_TYPE");
    let r = u.api.post_raw(SETUP, "application/json", "[1]").await;
    r.expect(400, "VALIDATION_ERROR");
    u.api
        .post(VERIFY_SETUP, json!({ "code": "123456" }))
        .await
        .expect(409, "CONFLICT");
    assert!(!mfa_enabled(&u.api).await);
    // Without a signed-in user there is no enrolment at all.
    u.api
        .anonymous()
        .post_empty(SETUP)
        .await
        .expect(401, "UNAUTHORIZED");

    let (mut phone, _) = enrol(&u.api).await;
    let mfa_token = first_step(&u.api, &u.email).await;
    for (body, field) in [
        (json!({ "mfaToken": mfa_token }), "code"),
        (json!({ "code": "123456" }), "mfaToken"),
        (json!({ "mfaToken": 7, "code": "123456" }), "mfaToken"),
        (json!({ "mfaToken": mfa_token, "code": ["123456"] }), "code"),
        (json!({ "mfaToken": mfa_token, "code": "12a456" }), "code"),
        (
            json!({ "mfaToken": mfa_token, "code": "123456", "remember": true }),
            "remember",
        ),
    ] {
        let r = u.api.anonymous().post(VERIFY, body.clone()).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{body}: {}", r.text);
    }
    // None of those counted: five wrong codes still fit before the right one.
    wrong_codes(&u.api, &mfa_token, &phone, 4).await;
    let r = second_step(&u.api, VERIFY, &mfa_token, &phone.next_code().await).await;
    assert!(r.ok()["accessToken"].is_string(), "{}", r.text);
}

/// Codes count against a per-user budget a minute (the per-account
/// sign-in limit), across mfaTokens: 429 with Retry-After beyond it.
async fn codes_are_rate_limited_per_user(b: Backend) {
    let app = spawn(b, |c| c.auth_rate_limit_per_account = 4).await;
    let t = crate::support::new_tenant(&app.api(), &app.admin().await).await;
    let u = t.user("judy").await;
    let (phone, _) = enrol(&u.api).await; // one code: verify-setup
    let mfa_token = first_step(&u.api, &u.email).await;
    wrong_codes(&u.api, &mfa_token, &phone, 3).await;
    let mfa_token = first_step(&u.api, &u.email).await;
    let r = second_step(&u.api, VERIFY, &mfa_token, &phone.wrong_code()).await;
    r.expect(429, "RATE_LIMIT_EXCEEDED");
    assert!(r.header("retry-after").is_some());
}

/// Security by default: the TOTP secret is stored sealed (AES-256-GCM),
/// backup codes and mfaTokens as SHA-256; an mfaToken is refused once its
/// five minutes are over.
async fn secrets_are_stored_sealed_or_hashed_and_mfa_tokens_expire(b: Backend) {
    let app = spawn(b, |_| {}).await;
    let t = crate::support::new_tenant(&app.api(), &app.admin().await).await;
    let u = t.user("mallory").await;
    let (mut phone, codes) = enrol(&u.api).await;
    let mfa_token = first_step(&u.api, &u.email).await;

    let raw_hex: String = crate::support::totp::base32_decode(&phone.secret)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let raw_b64 = STANDARD.encode(crate::support::totp::base32_decode(&phone.secret));
    let stored = app.db.texts("SELECT totp_secret AS v FROM user_mfa").await;
    assert_eq!(stored.len(), 1);
    let sealed = &stored[0];
    assert!(sealed.starts_with("v1."), "{sealed}");
    for clear in [
        &phone.secret,
        &phone.secret.to_lowercase(),
        &raw_hex,
        &raw_b64,
    ] {
        assert!(
            !sealed.contains(clear.as_str()),
            "{sealed} holds the secret"
        );
    }
    let hashes = app
        .db
        .texts("SELECT code_hash AS v FROM mfa_backup_codes")
        .await;
    assert_eq!(hashes.len(), 10);
    for code in &codes {
        let bare = code.replace('-', "");
        assert!(hashes.iter().all(|h| h.len() == 64 && !h.contains(&bare)));
    }
    let tokens = app
        .db
        .texts("SELECT token_hash AS v FROM mfa_challenges")
        .await;
    assert_eq!(tokens.len(), 1);
    assert!(!tokens[0].contains(mfa_token.trim_start_matches("mfa_")));
    // The sealing key was generated on first start and kept in the database.
    assert_eq!(
        app.db.texts("SELECT name AS v FROM sealing_keys").await,
        ["default"]
    );

    // Five minutes later (the clock moved on: the row says so).
    app.db
        .execute("UPDATE mfa_challenges SET expires_at = '2000-01-01T00:00:00.000000Z'")
        .await;
    second_step(&u.api, VERIFY, &mfa_token, &phone.peek_code().await)
        .await
        .expect(401, "UNAUTHORIZED");
    let mfa_token = first_step(&u.api, &u.email).await;
    assert_eq!(
        app.db
            .texts("SELECT token_hash AS v FROM mfa_challenges")
            .await
            .len(),
        1,
        "expired challenges are cleared when a new one is made"
    );
    let r = second_step(&u.api, VERIFY, &mfa_token, &phone.next_code().await).await;
    assert!(r.ok()["accessToken"].is_string(), "{}", r.text);
}

/// ITHBAT_SECRET_KEY: with it set, no key is stored in the database. A
/// deployment that started without it keeps its stored key for what that
/// key sealed, so setting the variable later needs no re-enrolment.
async fn a_configured_secret_key_is_not_stored_and_opens_nothing_old_alone(b: Backend) {
    let key = ithbat::domain::secret::SealingKey::parse(&STANDARD.encode([42u8; 32])).unwrap();
    let configured = key.clone();
    let app = spawn(b, move |c| c.secret_key = Some(configured)).await;
    let t = crate::support::new_tenant(&app.api(), &app.admin().await).await;
    let u = t.user("niaj").await;
    enrol(&u.api).await;
    assert!(app
        .db
        .texts("SELECT name AS v FROM sealing_keys")
        .await
        .is_empty());
    drop(app);

    // Started without the variable, enrolled; restarted with it.
    let app = spawn(b, |_| {}).await;
    let t = crate::support::new_tenant(&app.api(), &app.admin().await).await;
    let u = t.user("olivia").await;
    let (mut phone, _) = enrol(&u.api).await;
    let before = app.db.texts("SELECT totp_secret AS v FROM user_mfa").await;
    app.stop().await;
    let app = {
        let db = std::mem::replace(&mut { app }.db, TestDb::create(b).await);
        spawn_on(db, move |c| c.secret_key = Some(key)).await
    };
    let api = Api::new(&app.base).with_tenant(&t.id);
    let mfa_token = first_step(&api, &u.email).await;
    let r = second_step(&api, VERIFY, &mfa_token, &phone.next_code().await).await;
    assert!(
        r.ok()["accessToken"].is_string(),
        "the stored key still opens: {}",
        r.text
    );
    // New enrolments are sealed with the configured key.
    let t = TestTenant {
        owner: api.login(&t.owner_email, PASSWORD).await,
        ..t
    };
    let v = t.user("peggy").await;
    enrol(&v.api).await;
    let after = app.db.texts("SELECT totp_secret AS v FROM user_mfa").await;
    let kid = |sealed: &str| sealed.split('.').nth(1).unwrap().to_string();
    let kids: std::collections::HashSet<String> = after.iter().map(|s| kid(s)).collect();
    assert_eq!(kids.len(), 2, "{after:?}");
    assert!(kids.contains(&kid(&before[0])));
}
