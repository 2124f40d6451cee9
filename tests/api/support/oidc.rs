//! A person signing in to an application, as its browser and backend
//! would: the application's client, PKCE S256 (RFC 7636), the
//! authorization request (RFC 6749 4.1.1, OpenID Connect 3.1.2.1), the
//! hosted page's password form, and the code's redemption (RFC 6749 4.1.3).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::client::{Api, Resp};
use super::oauth::{post_form, Auth};
use super::web::{field, Web};
use super::TestTenant;

/// The redirect URI the tests' applications register.
pub const REDIRECT: &str = "https://app.example/callback";

/// A code verifier and its S256 challenge (RFC 7636 4.1, 4.2).
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        let verifier = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// An authorization request for the code flow with PKCE S256.
pub struct AuthRequest<'a> {
    pub client: &'a str,
    pub redirect: &'a str,
    pub scope: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    pub challenge: &'a str,
}

impl AuthRequest<'_> {
    /// `/oauth/authorize?...`, with `extra` parameters after the usual ones.
    pub fn path(&self, extra: &[(&str, &str)]) -> String {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.client),
            ("redirect_uri", self.redirect),
            ("scope", self.scope),
            ("state", self.state),
            ("nonce", self.nonce),
            ("code_challenge", self.challenge),
            ("code_challenge_method", "S256"),
        ];
        params.extend_from_slice(extra);
        format!(
            "/oauth/authorize?{}",
            serde_urlencoded::to_string(&params).unwrap()
        )
    }
}

/// The claims of a JWT (its payload; the signature is the server's business).
pub fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Posts the hosted page's password form.
pub async fn post_password(
    web: &mut Web,
    request: &str,
    csrf: &str,
    email: &str,
    password: &str,
) -> Resp {
    web.post_form(
        "/oauth/authorize/password",
        &[
            ("request", request),
            ("csrf", csrf),
            ("email", email),
            ("password", password),
        ],
    )
    .await
}

/// Fills in the password form of a sign-in `page`: the page's answer.
pub async fn submit_password(web: &mut Web, page: &Resp, email: &str, password: &str) -> Resp {
    let (request, csrf) = (field(&page.text, "request"), field(&page.text, "csrf"));
    post_password(web, &request, &csrf, email, password).await
}

/// The application's backend redeems a code (RFC 6749 4.1.3, RFC 7636 4.5).
pub async fn redeem_code(
    api: &Api,
    auth: Auth<'_>,
    code: &str,
    redirect: &str,
    verifier: &str,
) -> Resp {
    post_form(
        api,
        "/oauth/token",
        auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ],
    )
    .await
}

impl TestTenant {
    /// Creates a client through the Aritma API from an Aritma body; its
    /// clientId.
    pub async fn create_client(&self, body: Value) -> String {
        let r = self.owner.post("/core/iam/v1/clients", body).await;
        assert_eq!(r.status, 200, "create client: {}", r.text);
        r.body["clientId"].as_str().unwrap().to_string()
    }
}
