//! JSON:API (docs/api/jsonapi.md): resource documents, and the accounts and
//! organizations tests set up through them.

use reqwest::Method;
use serde_json::{json, Value};

use super::client::{Api, Resp};
use super::TestTenant;

/// A resource document: `{"data": {"type": kind, "attributes": ...}}`.
pub fn doc(kind: &str, attributes: Value) -> Value {
    json!({ "data": { "type": kind, "attributes": attributes } })
}

/// A document for the existing resource `id` (a PATCH body).
pub fn doc_for(kind: &str, id: &str, attributes: Value) -> Value {
    json!({ "data": { "type": kind, "id": id, "attributes": attributes } })
}

impl Api {
    /// Create: `POST /api/v1/accounts` with `attributes`.
    pub async fn post_account(&self, attributes: Value) -> Resp {
        self.jsonapi(
            Method::POST,
            "/api/v1/accounts",
            Some(doc("accounts", attributes)),
        )
        .await
    }

    /// Update: `PATCH /api/v1/accounts/{id}` with `attributes`.
    pub async fn update_account(&self, id: &str, attributes: Value) -> Resp {
        self.jsonapi(
            Method::PATCH,
            &format!("/api/v1/accounts/{id}"),
            Some(doc_for("accounts", id, attributes)),
        )
        .await
    }
}

impl TestTenant {
    /// Creates an account as the owner (200); its resource object. One
    /// without a password is invited by mail.
    pub async fn create_account(&self, attributes: Value) -> Value {
        let r = self.owner.post_account(attributes).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["data"].clone()
    }

    /// Creates an organization as the owner (200); its resource object.
    pub async fn create_organization(&self, name: &str) -> Value {
        let r = self
            .owner
            .jsonapi(
                Method::POST,
                "/api/v1/organizations",
                Some(doc("organizations", json!({ "name": name }))),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["data"].clone()
    }
}
