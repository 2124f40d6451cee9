//! The hosted pages mailed links open: /account/join, /account/reset-password
//! and /account/verify-email, driven as a browser would, from the link in the
//! mail a real SMTP server on loopback received.

use serde_json::json;

use crate::support::smtp::shared_sink;
use crate::support::web::{field, Web};
use crate::support::{shared, Backend, Resp, PASSWORD};

on_both_backends!(
    joining_without_a_redirect_ends_on_a_welcome_page,
    pages_refuse_forged_and_dead_forms,
    a_reset_link_sets_a_new_password,
    a_verification_link_verifies_on_post_only,
);

const NEW_PASSWORD: &str = "N3w!Passw0rd";

/// The hosted pages' rules (api/pages): no script, one nonce'd style,
/// no framing, never cached, no referrer.
fn assert_hosted_page(r: &Resp) {
    assert_eq!(
        r.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{}",
        r.text
    );
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'nonce-"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!r.text.contains("<script"), "{}", r.text);
    assert!(!r.text.contains("http://") && !r.text.contains("https://"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
}

async fn submit(web: &mut Web, path: &str, page: &Resp, password: &str, confirm: &str) -> Resp {
    web.post_form(
        path,
        &[
            ("token", &field(&page.text, "token")),
            ("csrf", &field(&page.text, "csrf")),
            ("password", password),
            ("confirm", confirm),
        ],
    )
    .await
}

/// A JSON:API invitation, accepted on the hosted page: mismatched and weak
/// passwords are shown on the form (the link stays usable), then the
/// account joins and signs in; the link works once.
async fn joining_without_a_redirect_ends_on_a_welcome_page(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let email = t.email("joiner");
    let link = t.invite_account("Jo Iner", &email).await.1.link();

    let mut web = Web::new(&app.base);
    let page = web.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_hosted_page(&page);
    assert!(
        page.text.contains(&format!("Join Tenant {}", t.slug)),
        "{}",
        page.text
    );
    assert!(page.text.contains(&email));
    assert!(web.cookies.contains_key("ithbat_account_csrf"));

    let r = submit(&mut web, "/account/join", &page, PASSWORD, "Other!Passw0rd").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("The two passwords differ"), "{}", r.text);
    let r = submit(&mut web, "/account/join", &r, "weak", "weak").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("8 characters"), "{}", r.text);
    let r = submit(&mut web, "/account/join", &r, PASSWORD, PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_hosted_page(&r);
    assert!(r.text.contains("Your account is ready"), "{}", r.text);
    let me = t.anonymous().login(&email, PASSWORD).await;
    assert_eq!(me.me().await.ok()["emailVerified"], true);

    let again = web.get(&link).await;
    assert_eq!(again.status, 400, "{}", again.text);
    assert!(again.text.contains("already been used"), "{}", again.text);
}

/// Forms need the cookie set with the page (a cross-site post has none);
/// a refused post uses nothing up. Unknown links are refused politely.
async fn pages_refuse_forged_and_dead_forms(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let email = t.email("forged");
    let link = t.invite_account("For Ged", &email).await.1.link();
    let mut web = Web::new(&app.base);
    let page = web.get(&link).await;

    let mut attacker = Web::new(&app.base);
    let r = submit(&mut attacker, "/account/join", &page, PASSWORD, PASSWORD).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_hosted_page(&r);
    web.cookies
        .insert("ithbat_account_csrf".into(), "guess".into());
    let r = submit(&mut web, "/account/join", &page, PASSWORD, PASSWORD).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Nothing happened: the account is still pending, the link alive.
    let r = t.anonymous().try_login(&email, PASSWORD).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let page = web.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.text);

    for path in [
        "/account/join?token=inv_nonsense",
        "/account/join",
        "/account/reset-password?token=pwr_nonsense",
        "/account/verify-email?token=",
    ] {
        let r = web.get(path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_hosted_page(&r);
        assert!(r.text.contains("This link cannot be used"), "{}", r.text);
    }
    // An invitation token is not a reset token.
    let token = field(&page.text, "token");
    let r = web
        .get(&format!("/account/reset-password?token={token}"))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

/// A native password reset, completed on the hosted page: the new password
/// works, the old one no longer does, every session ends.
async fn a_reset_link_sets_a_new_password(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let u = t.user("forgetful").await;
    let anon = t.anonymous();
    let r = anon.initiate_reset(&u.email).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let link = shared_sink().mail_to(&u.email).await.link();
    assert!(
        link.contains("/account/reset-password?token=pwr_"),
        "{link}"
    );

    let mut web = Web::new(&app.base);
    let page = web.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_hosted_page(&page);
    assert!(page.text.contains("Choose a new password"));
    let r = submit(
        &mut web,
        "/account/reset-password",
        &page,
        NEW_PASSWORD,
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("Your password has been changed"),
        "{}",
        r.text
    );
    assert_eq!(u.api.me().await.status, 401);
    anon.login(&u.email, NEW_PASSWORD).await;
    let r = anon.try_login(&u.email, PASSWORD).await;
    assert_eq!(r.status, 401, "{}", r.text);
}

/// Email verification on the hosted page: opening the link (as a
/// mail scanner would) verifies nothing; posting its form does.
async fn a_verification_link_verifies_on_post_only(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let anon = t.anonymous();
    let email = t.email("verifier");
    let r = anon
        .post(
            "/api/v1/auth/register",
            json!({ "email": email, "password": PASSWORD, "firstName": "Veri", "familyName": "Fier" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let link = shared_sink().mail_to(&email).await.link();
    let mut web = Web::new(&app.base);
    // Opening the link twice uses nothing (the second page's form counts).
    assert_eq!(web.get(&link).await.status, 200);
    let page = web.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_hosted_page(&page);
    assert!(page.text.contains("Verify my email"));
    assert!(!page.text.contains("type=\"password\""));
    anon.try_login(&email, PASSWORD)
        .await
        .expect(403, "ACCOUNT_NOT_VERIFIED");

    let r = web
        .post_form(
            "/account/verify-email",
            &[
                ("token", &field(&page.text, "token")),
                ("csrf", &field(&page.text, "csrf")),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Your email is verified"), "{}", r.text);
    anon.login(&email, PASSWORD).await;
}
