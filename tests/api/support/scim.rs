//! A SCIM client, as an identity provider's connector would be: bearer
//! token, application/scim+json, the base URL it was configured with.

use serde_json::{json, Value};

use super::client::{Api, Resp};
use super::TestTenant;

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// A group (RFC 7643 4.1) with these member ids.
pub fn group(name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
    json!({ "schemas": [GROUP], "displayName": name, "members": members })
}

/// The operations of a PATCH replacing one attribute (RFC 7644 3.5.2.3).
pub fn replace(path: &str, value: &str) -> Value {
    json!([{ "op": "replace", "path": path, "value": value }])
}

#[derive(Clone)]
pub struct Scim {
    pub api: Api,
    /// `/scim/v2` or `/{tenant}/api/scim/v2`
    pub prefix: String,
}

impl Scim {
    pub fn new(api: &Api, token: &str) -> Scim {
        Scim {
            api: api.anonymous().with_token(token),
            prefix: "/scim/v2".into(),
        }
    }

    /// The same credential at Aritma's tenant-in-path base URL.
    pub fn at_tenant(&self, tenant: &str) -> Scim {
        Scim {
            prefix: format!("/{tenant}/api/scim/v2"),
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.prefix, path)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self.api.request(method, &self.url(path));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/scim+json")
                .body(b.to_string());
        }
        Api::send(rb).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(reqwest::Method::GET, path, None, &[]).await
    }

    /// GET with query parameters, encoded.
    pub async fn query(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        let query = serde_urlencoded::to_string(params).unwrap();
        let rb = self
            .api
            .request(reqwest::Method::GET, &format!("{}?{query}", self.url(path)));
        Api::send(rb).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::POST, path, Some(body), &[])
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::PUT, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, ops: Value) -> Resp {
        let body = json!({ "schemas": [PATCH_OP], "Operations": ops });
        self.send(reqwest::Method::PATCH, path, Some(body), &[])
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, None, &[]).await
    }

    /// Creates a user from a minimal body; returns its id.
    pub async fn create_user(&self, user_name: &str, extra: Value) -> String {
        let mut body = json!({ "schemas": [USER], "userName": user_name });
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
            b.extend(extra);
        }
        let r = self.post("/Users", body).await;
        assert_eq!(r.status, 201, "create {user_name}: {}", r.text);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Creates a group with these member ids; returns its id.
    pub async fn create_group(&self, name: &str, members: &[&str]) -> String {
        let r = self.post("/Groups", group(name, members)).await;
        assert_eq!(r.status, 201, "create {name}: {}", r.text);
        r.body["id"].as_str().unwrap().to_string()
    }
}

impl Resp {
    /// Asserts a SCIM error (RFC 7644 3.12): status, body status as a
    /// string, scimType when given, and the SCIM media type.
    #[track_caller]
    pub fn scim_error(&self, status: u16, scim_type: Option<&str>) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(self.body["schemas"], json!([ERROR]), "{}", self.text);
        assert_eq!(self.body["status"], status.to_string(), "{}", self.text);
        assert_eq!(self.body["scimType"].as_str(), scim_type, "{}", self.text);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/scim+json")),
            "{:?}",
            self.headers
        );
        self
    }

    /// Asserts a success and returns the SCIM body.
    #[track_caller]
    pub fn scim(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        &self.body
    }
}

impl TestTenant {
    /// A SCIM token of this tenant, made by its owner.
    pub async fn scim_token(&self) -> String {
        let r = self
            .owner
            .post("/api/v1/scim/tokens", json!({ "name": "test sync" }))
            .await;
        r.ok()["token"].as_str().unwrap().to_string()
    }

    /// A SCIM client with a fresh token of this tenant.
    pub async fn scim(&self) -> Scim {
        Scim::new(&self.owner, &self.scim_token().await)
    }
}
