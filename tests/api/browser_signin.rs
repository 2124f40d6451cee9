//! Issue 8 item 5: a real browser (headless Chromium, through
//! ChromeDriver) signs in on the hosted page as a person would: the page,
//! a wrong then the right password, the TOTP step, the redirect back to the
//! application with a code, which the application's backend redeems.
//! Then the same through an SSO provider: a second ithbat server on
//! loopback (issue 8 items 3 and 5).
//! Screenshots of each page land in `target/screenshots/`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::browser::{self, Browser};
use crate::support::oauth::{post_form, Auth};
use crate::support::totp::Authenticator;
use crate::support::web::query;
use crate::support::{shared, Backend, PASSWORD};

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

async fn a_person_signs_in_with_a_browser(b: Backend) {
    if browser::skip() {
        return;
    }
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let user = t.user("olivia").await;
    // Two-step verification on, as reference 2.7 enrols it.
    let r = user.api.post("/api/v1/auth/mfa/setup", json!({})).await;
    let mut authenticator = Authenticator::new(r.ok()["secret"].as_str().unwrap());
    let code = authenticator.next_code().await;
    user.api
        .post("/api/v1/auth/mfa/verify-setup", json!({ "code": code }))
        .await
        .ok();

    let port = callback_server().await;
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let r = t
        .owner
        .post(
            "/core/iam/v1/clients",
            json!({ "name": "Acme Portal", "description": "Web app",
                    "allowedGrantTypes": ["authorization_code", "refresh_token"],
                    "redirectUris": [redirect], "allowedScopes": ["openid", "profile", "email"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let client_id = r.body["clientId"].as_str().unwrap().to_string();
    t.add_secret(&client_id, "Portal!s3cret").await;

    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let params = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("scope", "openid profile email"),
        ("state", "xyz"),
        ("nonce", "n-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let url = format!(
        "{}/oauth/authorize?{}",
        app.base,
        serde_urlencoded::to_string(params).unwrap()
    );
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
    let landed = browser.wait_for_url(|u| u.starts_with(&redirect)).await;
    browser.text_containing("#done", "Signed in").await;
    browser
        .screenshot(&format!("signin-{backend}-4-back-in-the-app"))
        .await;
    browser.quit().await;

    let q = query(&landed);
    assert_eq!(q["state"], "xyz");
    let r = post_form(
        &t.owner,
        "/oauth/token",
        Auth::Basic(&client_id, "Portal!s3cret"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", &redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id_token = r.body["id_token"].as_str().unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
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
    let idp = crate::sso::idp(b, &app.base, "acme").await;
    crate::sso::create_provider(
        &t,
        "custom",
        crate::sso::custom_body("acme", &idp.base, &idp.client_id, Some(&idp.secret)),
    )
    .await;
    let port = callback_server().await;
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let r = t
        .owner
        .post(
            "/core/iam/v1/clients",
            json!({ "name": "Acme Portal", "description": "Web app",
                    "allowedGrantTypes": ["authorization_code"],
                    "redirectUris": [redirect], "allowedScopes": ["openid", "profile", "email"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let client_id = r.body["clientId"].as_str().unwrap().to_string();
    t.add_secret(&client_id, "Portal!s3cret").await;
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let params = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("scope", "openid profile email"),
        ("state", "sso-state"),
        ("nonce", "n-2"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let url = format!(
        "{}/oauth/authorize?{}",
        app.base,
        serde_urlencoded::to_string(params).unwrap()
    );
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
    let landed = browser.wait_for_url(|u| u.starts_with(&redirect)).await;
    browser.text_containing("#done", "Signed in").await;
    browser
        .screenshot(&format!("sso-{backend}-3-back-in-the-app"))
        .await;
    browser.quit().await;

    let q = query(&landed);
    assert_eq!(q["state"], "sso-state");
    let r = post_form(
        &t.owner,
        "/oauth/token",
        Auth::Basic(&client_id, "Portal!s3cret"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", &redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(
                r.body["id_token"]
                    .as_str()
                    .unwrap()
                    .split('.')
                    .nth(1)
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["email"], idp.person_email,
        "the provider's person, provisioned"
    );
}
