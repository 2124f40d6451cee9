//! A small HTTP client for the API, as an integrator would write one.

use serde_json::{json, Value};

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    pub token: Option<String>,
    pub refresh_token: Option<String>,
    pub tenant: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error code of a native error body, or of problem details
    /// (the Aritma dialect's `code` member).
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .or_else(|| self.problem().and_then(|p| p["code"].as_str()))
            .unwrap_or("")
    }

    /// The fields named in a native error body's details, or in the
    /// `errors` member of problem details.
    pub fn fields(&self) -> Vec<String> {
        if let Some(errors) = self.problem().and_then(|p| p["errors"].as_object()) {
            return errors.keys().cloned().collect();
        }
        self.body["error"]["details"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|e| e["field"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The body, if it is RFC 7807 problem details.
    pub fn problem(&self) -> Option<&Value> {
        self.header("content-type")
            .is_some_and(|t| t.starts_with("application/problem+json"))
            .then_some(&self.body)
    }

    #[track_caller]
    pub fn expect(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(self.code(), code, "unexpected code; body: {}", self.text);
        self
    }

    /// Asserts a native validation error (400 VALIDATION_ERROR) naming
    /// exactly `fields`, in order.
    #[track_caller]
    pub fn invalid(&self, fields: &[&str]) -> &Self {
        self.expect(400, "VALIDATION_ERROR");
        assert_eq!(self.fields(), fields, "{}", self.text);
        self
    }

    /// The first JSON:API error object.
    pub fn error(&self) -> &Value {
        &self.body["errors"][0]
    }

    /// Asserts a JSON:API error: status, code and the `source` of the
    /// first error object (`{"pointer": ...}` or `{"parameter": ...}`).
    #[track_caller]
    pub fn jsonapi_error(&self, status: u16, source: Option<Value>) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/vnd.api+json"),
            "{}",
            self.text
        );
        assert_eq!(self.error()["status"], status.to_string(), "{}", self.text);
        if let Some(source) = source {
            assert_eq!(self.error()["source"], source, "{}", self.text);
        }
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(
            (200..300).contains(&self.status),
            "expected success, got {}: {}",
            self.status,
            self.text
        );
        &self.body["data"]
    }
}

/// A client per test: a reqwest client keeps connection tasks on the
/// runtime that made them, and every test has a runtime of its own.
fn new_client() -> reqwest::Client {
    // The server installs the same provider; a test talking only to
    // servers in other processes must do it itself.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().unwrap()
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_string(),
            client: new_client(),
            token: None,
            refresh_token: None,
            tenant: None,
            user_agent: None,
        }
    }

    pub fn with_tenant(&self, tenant: &str) -> Api {
        Api {
            tenant: Some(tenant.to_string()),
            ..self.clone()
        }
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    pub fn with_user_agent(&self, ua: &str) -> Api {
        Api {
            user_agent: Some(ua.to_string()),
            ..self.clone()
        }
    }

    pub fn anonymous(&self) -> Api {
        Api {
            token: None,
            refresh_token: None,
            ..self.clone()
        }
    }

    /// A sign-in attempt (`/api/v1/auth/login`), whatever it answers.
    pub async fn try_login(&self, email: &str, password: &str) -> Resp {
        self.post(
            "/api/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Signs in; panics unless it succeeds.
    pub async fn login(&self, email: &str, password: &str) -> Api {
        let r = self.try_login(email, password).await;
        assert_eq!(r.status, 200, "login {email}: {}", r.text);
        Api {
            token: r.body["data"]["accessToken"].as_str().map(String::from),
            refresh_token: r.body["data"]["refreshToken"].as_str().map(String::from),
            ..self.clone()
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        if let Some(t) = &self.tenant {
            rb = rb.header("X-Tenant-ID", t);
        }
        if let Some(ua) = &self.user_agent {
            rb = rb.header("User-Agent", ua);
        }
        rb
    }

    pub async fn send(rb: reqwest::RequestBuilder) -> Resp {
        let res = rb.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            headers,
            text,
        }
    }

    /// A refresh (`/api/v1/auth/refresh`), whatever it answers.
    pub async fn try_refresh(&self, refresh_token: &str) -> Resp {
        self.post(
            "/api/v1/auth/refresh",
            json!({ "refreshToken": refresh_token }),
        )
        .await
    }

    /// The signed-in user (`GET /api/v1/users/me`): a token's simplest use.
    pub async fn me(&self) -> Resp {
        self.get("/api/v1/users/me").await
    }

    /// The caller's own session, as `GET /auth/sessions` lists it.
    pub async fn current_session(&self) -> Value {
        let r = self.get("/api/v1/auth/sessions").await;
        r.ok()["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["isCurrent"] == true)
            .unwrap_or_else(|| panic!("no current session: {}", r.text))
            .clone()
    }

    /// A request of any method, with a JSON body when there is one.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Resp {
        let rb = self.request(method, path);
        Self::send(match body {
            Some(body) => rb.json(body),
            None => rb,
        })
        .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        Self::send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        Self::send(self.request(reqwest::Method::DELETE, path)).await
    }

    /// POST without a body.
    pub async fn post_empty(&self, path: &str) -> Resp {
        Self::send(self.request(reqwest::Method::POST, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        Self::send(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        Self::send(self.request(reqwest::Method::PATCH, path).json(&body)).await
    }

    /// A JSON:API request: the body (if any) as application/vnd.api+json.
    pub async fn jsonapi(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Resp {
        let rb = self
            .request(method, path)
            .header("Accept", "application/vnd.api+json");
        let rb = match body {
            Some(b) => rb
                .header("Content-Type", "application/vnd.api+json")
                .body(b.to_string()),
            None => rb,
        };
        Self::send(rb).await
    }

    /// A JSON:API read.
    pub async fn jsonapi_get(&self, path: &str) -> Resp {
        self.jsonapi(reqwest::Method::GET, path, None).await
    }

    /// A JSON:API delete.
    pub async fn jsonapi_delete(&self, path: &str) -> Resp {
        self.jsonapi(reqwest::Method::DELETE, path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        Self::send(self.request(reqwest::Method::PUT, path).json(&body)).await
    }

    /// POSTs a raw body with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        Self::send(
            self.request(reqwest::Method::POST, path)
                .header("Content-Type", content_type)
                .body(body),
        )
        .await
    }
}
