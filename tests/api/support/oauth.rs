//! A machine client, as a backend service would be: a client made through
//! the Aritma API, a secret, and form-encoded requests to /oauth/*.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::client::{Api, Resp};
use super::TestTenant;

pub const IAM: &str = "services.iam";

/// How a request authenticates its client (RFC 6749 2.3.1).
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// client_secret_basic, id and secret form-encoded first.
    Basic(&'a str, &'a str),
    /// client_secret_post.
    Post(&'a str, &'a str),
    /// A public client (RFC 6749 2.1): its client_id, no secret.
    Public(&'a str),
    None,
}

/// Form-encodes one value (application/x-www-form-urlencoded).
pub fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// POSTs form parameters to an OAuth endpoint.
pub async fn post_form(api: &Api, path: &str, auth: Auth<'_>, params: &[(&str, &str)]) -> Resp {
    let mut params: Vec<(&str, &str)> = params.to_vec();
    let mut rb = api
        .anonymous()
        .request(reqwest::Method::POST, path)
        .header("Content-Type", "application/x-www-form-urlencoded");
    match auth {
        Auth::Basic(id, secret) => {
            let pair = format!("{}:{}", form_encode(id), form_encode(secret));
            rb = rb.header("Authorization", format!("Basic {}", STANDARD.encode(pair)));
        }
        Auth::Post(id, secret) => {
            params.push(("client_id", id));
            params.push(("client_secret", secret));
        }
        Auth::Public(id) => params.push(("client_id", id)),
        Auth::None => {}
    }
    let body = serde_urlencoded::to_string(&params).unwrap();
    Api::send(rb.body(body)).await
}

/// `POST /oauth/token` with a refresh token (RFC 6749 6) and `extra`
/// parameters.
pub async fn refresh_grant(api: &Api, auth: Auth<'_>, token: &str, extra: &[(&str, &str)]) -> Resp {
    let mut params = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    params.extend_from_slice(extra);
    post_form(api, "/oauth/token", auth, &params).await
}

/// A client of a test tenant with one secret.
#[derive(Clone)]
pub struct Machine {
    pub id: String,
    pub secret: String,
    /// Anonymous, at the server: sends OAuth requests.
    pub api: Api,
}

impl Machine {
    pub fn basic(&self) -> Auth<'_> {
        Auth::Basic(&self.id, &self.secret)
    }

    pub fn post(&self) -> Auth<'_> {
        Auth::Post(&self.id, &self.secret)
    }

    /// `POST /oauth/token` with client_credentials and these extra parameters.
    pub async fn request_token(&self, extra: &[(&str, &str)]) -> Resp {
        let mut params = vec![("grant_type", "client_credentials")];
        params.extend_from_slice(extra);
        post_form(&self.api, "/oauth/token", self.basic(), &params).await
    }

    /// `POST /oauth/token` with a refresh token and `extra` parameters.
    pub async fn refresh(&self, token: &str, extra: &[(&str, &str)]) -> Resp {
        refresh_grant(&self.api, self.basic(), token, extra).await
    }

    /// An access token by client_credentials; panics unless issued.
    pub async fn token(&self) -> String {
        let r = self.request_token(&[]).await;
        assert_eq!(r.status, 200, "token: {}", r.text);
        r.body["access_token"].as_str().unwrap().to_string()
    }

    /// An API client that sends this machine's access token.
    pub async fn bearer(&self) -> Api {
        self.api.with_token(&self.token().await)
    }

    /// RFC 7662 introspection of `token`.
    pub async fn introspect(&self, token: &str) -> Resp {
        self.about_token("/oauth/introspect", token).await
    }

    /// RFC 7009 revocation of `token`.
    pub async fn revoke(&self, token: &str) -> Resp {
        self.about_token("/oauth/revoke", token).await
    }

    async fn about_token(&self, path: &str, token: &str) -> Resp {
        post_form(&self.api, path, self.basic(), &[("token", token)]).await
    }
}

impl TestTenant {
    /// Creates a client through the Aritma API (`POST /core/iam/v1/clients`)
    /// and returns its clientId.
    pub async fn new_client(&self, grants: &[&str], scopes: &[&str]) -> String {
        self.create_client(json!({
            "name": "Nightly ERP sync",
            "description": "Service account",
            "allowedGrantTypes": grants,
            "redirectUris": [],
            "allowedScopes": scopes,
        }))
        .await
    }

    /// Adds a secret with this value to a client.
    pub async fn add_secret(&self, client_id: &str, value: &str) -> Value {
        let r = self
            .owner
            .post(
                &format!("/core/iam/v1/clients/{client_id}/secrets"),
                json!({ "value": value, "description": "test" }),
            )
            .await;
        assert_eq!(r.status, 200, "create secret: {}", r.text);
        r.body.clone()
    }

    /// A client allowed these grants and scopes, with one secret.
    pub async fn machine_with(&self, grants: &[&str], scopes: &[&str]) -> Machine {
        let id = self.new_client(grants, scopes).await;
        // A secret with characters form encoding changes (RFC 6749 2.3.1).
        let secret = format!(
            "S3c+r%t {}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        self.add_secret(&id, &secret).await;
        Machine {
            id,
            secret,
            api: self.owner.anonymous(),
        }
    }

    /// A client_credentials client allowed services.iam.
    pub async fn machine(&self) -> Machine {
        self.machine_with(&["client_credentials"], &[IAM]).await
    }

    /// A client_credentials client allowed services.iam that also gets
    /// refresh tokens.
    pub async fn refreshing_machine(&self) -> Machine {
        self.machine_with(&["client_credentials", "refresh_token"], &[IAM])
            .await
    }
}
