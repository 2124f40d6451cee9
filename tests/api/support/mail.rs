//! Account flows that send mail, read where a person reads them: at the
//! SMTP server on loopback.

use serde_json::{json, Value};

use super::client::{Api, Resp};
use super::smtp::{shared_sink, Mail};
use super::TestTenant;

impl TestTenant {
    /// A JSON:API account created without a password, invited; the
    /// account and the invitation mail.
    pub async fn invite_account(&self, name: &str, email: &str) -> (Value, Mail) {
        let account = self
            .create_account(json!({ "name": name, "email": email }))
            .await;
        (account, shared_sink().mail_to(email).await)
    }
}

impl Api {
    /// `/api/v1/auth/password-reset/initiate`: asks for a password reset mail.
    pub async fn initiate_reset(&self, email: &str) -> Resp {
        self.post(
            "/api/v1/auth/password-reset/initiate",
            json!({ "email": email }),
        )
        .await
    }

    /// JSON:API `account/passwords/request_reset`, with a plain JSON body.
    pub async fn request_reset(&self, email: &str) -> Resp {
        self.post(
            "/api/v1/account/passwords/request_reset",
            json!({ "email": email }),
        )
        .await
    }
}
