//! A real browser (headless Chromium, through
//! ChromeDriver) signs in on the hosted page as a person would: the page,
//! a wrong then the right password, the TOTP step, the redirect back to the
//! application with a code, which the application's backend redeems.
//! Then the same through an SSO provider: a second ithbat server on
//! loopback.
//! Screenshots of each page land in `target/screenshots/`.

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::browser::{self, Browser};
use crate::support::oauth::Auth;
use crate::support::oidc::{claims, redeem_code, AuthRequest, Pkce};
use crate::support::sso::idp;
use crate::support::totp::enrol;
use crate::support::web::query;
use crate::support::{shared, Backend, TestTenant, PASSWORD};

on_both_backends!(
    a_person_signs_in_with_a_browser,
    a_person_signs_in_through_sso_with_a_browser
);

/// The application's callback: a real HTTP server on loopback that answers
/// every request with a small page.
async fn callback_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let body = "<!DOCTYPE html><title>Acme Portal</title><h1 id=\"done\">Signed in to Acme Portal</h1>";
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

const SECRET: &str = "Portal!s3cret";

/// The application people sign in to: its callback, its client (with a
/// secret) allowed `grants`, and the PKCE pair and state of one sign-in.
struct Portal {
    redirect: String,
    client_id: String,
    pkce: Pkce,
    state: &'static str,
}

impl Portal {
    async fn new(t: &TestTenant, grants: &[&str], state: &'static str) -> Portal {
        let port = callback_server().await;
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let client_id = t
            .create_client(json!({ "name": "Acme Portal", "description": "Web app",
                    "allowedGrantTypes": grants,
                    "redirectUris": [redirect], "allowedScopes": ["openid", "profile", "email"] }))
            .await;
        t.add_secret(&client_id, SECRET).await;
        Portal {
            redirect,
            client_id,
            pkce: Pkce::new(),
            state,
        }
    }

    /// Where the application sends the browser to sign in.
    fn authorize_url(&self, base: &str, nonce: &str) -> String {
        let request = AuthRequest {
            client: &self.client_id,
            redirect: &self.redirect,
            scope: "openid profile email",
            state: self.state,
            nonce,
            challenge: &self.pkce.challenge,
        };
        format!("{base}{}", request.path(&[]))
    }

    /// Waits for the browser to come back to the application, shows the
    /// page (screenshot `shot`) and closes the browser: where it landed.
    async fn back_in_the_app(&self, browser: Browser, shot: &str) -> String {
        let landed = browser
            .wait_for_url(|u| u.starts_with(&self.redirect))
            .await;
        browser.text_containing("#done", "Signed in").await;
        browser.screenshot(shot).await;
        browser.quit().await;
        landed
    }

    /// The application's backend: the state it sent, then the code
    /// redeemed (200); the ID token's claims.
    async fn id_token(&self, t: &TestTenant, landed: &str) -> Value {
        let q = query(landed);
        assert_eq!(q["state"], self.state);
        let auth = Auth::Basic(&self.client_id, SECRET);
        let r = redeem_code(
            &t.owner,
            auth,
            &q["code"],
            &self.redirect,
            &self.pkce.verifier,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        claims(r.body["id_token"].as_str().unwrap())
    }
}

async fn a_person_signs_in_with_a_browser(b: Backend) {
    if browser::skip() {
        return;
    }
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let user = t.user("olivia").await;
    // Two-step verification on, enrolled as docs/api/ithbat.md shows.
    let (mut authenticator, _) = enrol(&user.api).await;
    let portal = Portal::new(&t, &["authorization_code", "refresh_token"], "xyz").await;
    let url = portal.authorize_url(&app.base, "n-1");
    let backend = format!("{b:?}").to_lowercase();

    let browser = Browser::start().await;
    browser.goto(&url).await;
    browser.text_containing("h1", "Sign in").await;
    browser.text_containing(".sub", "Acme Portal").await;
    browser
        .screenshot(&format!("signin-{backend}-1-page"))
        .await;

    browser.type_into("#email", &user.email).await;
    browser.type_into("#password", "Not!the-password1").await;
    browser.click("#sign-in").await;
    browser.text_containing(".alert", "not right").await;
    browser
        .screenshot(&format!("signin-{backend}-2-wrong-password"))
        .await;

    browser.type_into("#email", &user.email).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#sign-in").await;
    browser.text_containing("h1", "Two-step verification").await;
    browser
        .screenshot(&format!("signin-{backend}-3-code"))
        .await;

    let code = authenticator.next_code().await;
    browser.type_into("#code", &code).await;
    browser.click("#verify").await;
    let landed = portal
        .back_in_the_app(browser, &format!("signin-{backend}-4-back-in-the-app"))
        .await;

    let claims = portal.id_token(&t, &landed).await;
    assert_eq!(claims["email"], user.email);
    assert_eq!(claims["nonce"], "n-1");
}

/// The SSO button on the sign-in page, the provider's own page (a second
/// ithbat, the other backend's), and back through the callback to the
/// application, which redeems the code for the provisioned user.
async fn a_person_signs_in_through_sso_with_a_browser(b: Backend) {
    if browser::skip() {
        return;
    }
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let idp = idp(b, &app.base, "acme").await;
    t.create_provider("custom", idp.custom_body("acme")).await;
    let portal = Portal::new(&t, &["authorization_code"], "sso-state").await;
    let url = portal.authorize_url(&app.base, "n-2");
    let backend = format!("{b:?}").to_lowercase();

    let browser = Browser::start().await;
    browser.goto(&url).await;
    browser
        .text_containing("#sso-acme", "Continue with Acme Login")
        .await;
    browser
        .screenshot(&format!("sso-{backend}-1-buttons"))
        .await;
    browser.click("#sso-acme").await;
    // the provider's page, on the other server
    browser
        .wait_for_url(|u| u.starts_with(&format!("{}/oauth/authorize", idp.base)))
        .await;
    browser
        .text_containing(".sub", "ithbat relying party")
        .await;
    browser
        .screenshot(&format!("sso-{backend}-2-provider"))
        .await;
    browser.type_into("#email", &idp.person_email).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#sign-in").await;
    let landed = portal
        .back_in_the_app(browser, &format!("sso-{backend}-3-back-in-the-app"))
        .await;

    let claims = portal.id_token(&t, &landed).await;
    assert_eq!(
        claims["email"], idp.person_email,
        "the provider's person, provisioned"
    );
}
