//! The JSON:API dialect (docs/api/jsonapi.md, JSON:API 1.1) beside the native
//! paths under `/api/v1`: `accounts`, `organizations`, `account_sessions` and
//! `account/passwords`. Accounts are users and account sessions are sessions:
//! only parsing and shaping live here.

pub mod accounts;
pub mod document;
pub mod error;
pub mod negotiation;
pub mod organizations;
pub mod passwords;
pub mod query;
pub mod sessions;

/// The operations of this dialect, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    accounts::index,
    accounts::show,
    accounts::create,
    accounts::update,
    accounts::delete,
    accounts::join,
    accounts::resend_invitation,
    organizations::index,
    organizations::show,
    organizations::create,
    organizations::update,
    organizations::delete,
    sessions::index,
    sessions::delete,
    passwords::request_reset,
    passwords::reset,
    passwords::token_valid,
    passwords::change,
))]
pub struct Doc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{self, delete, get, patch, post};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::api::extract::{bearer_token, gate, read_body, requested_tenant};
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::tenant::TenantRef;
use crate::domain::text::JsonPath;
use crate::domain::Error;
use crate::service::authentication;
use crate::service::tokens::AccessClaims;
use error::JsonApiError;

pub const MEDIA_TYPE: &str = "application/vnd.api+json";

/// Paths this dialect serves (under `/api/v1`), so that errors raised
/// before a handler runs (rate limits) are JSON:API documents too.
pub fn is_jsonapi_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return false;
    };
    let first = rest.split('/').next().unwrap_or("");
    matches!(first, "accounts" | "organizations" | "account_sessions")
        || rest.starts_with("account/passwords")
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::api::resource;
    cfg.service(
        resource("/accounts")
            .route(get().to(accounts::index))
            .route(post().to(accounts::create)),
    )
    .service(
        resource("/accounts/{id}")
            .route(get().to(accounts::show))
            .route(patch().to(accounts::update))
            .route(delete().to(accounts::delete)),
    )
    .service(resource("/accounts/{token}/join").route(patch().to(accounts::join)))
    .service(
        resource("/accounts/{id}/resend_invitation").route(post().to(accounts::resend_invitation)),
    )
    .service(
        resource("/organizations")
            .route(get().to(organizations::index))
            .route(post().to(organizations::create)),
    )
    .service(
        resource("/organizations/{id}")
            .route(get().to(organizations::show))
            .route(patch().to(organizations::update))
            .route(delete().to(organizations::delete)),
    )
    .service(resource("/account_sessions").route(get().to(sessions::index)))
    .service(resource("/account_sessions/{id}").route(delete().to(sessions::delete)))
    .service(
        resource("/account/passwords/request_reset").route(post().to(passwords::request_reset)),
    )
    .service(resource("/account/passwords/reset").route(post().to(passwords::reset)))
    .service(resource("/account/passwords/token_valid").route(get().to(passwords::token_valid)))
    .service(resource("/account/passwords/change").route(post().to(passwords::change)));
}

fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A JSON:API request: who calls (if anyone), from where, and what they
/// accept.
pub struct Request {
    pub caller: Option<Caller>,
    pub origin: Origin,
    pub query: String,
    /// The tenant X-Tenant-ID names.
    pub tenant: Option<TenantRef>,
}

impl Request {
    /// The caller, for endpoints that need one.
    pub fn caller(&self) -> Result<Caller, JsonApiError> {
        self.caller.clone().ok_or_else(|| {
            Error::Unauthenticated(
                "Authentication required: send Authorization: Bearer <access token>".into(),
            )
            .into()
        })
    }
}

impl FromRequest for Request {
    type Error = JsonApiError;
    type Future = LocalBoxFuture<'static, Result<Self, JsonApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let gate = gate(req);
        let origin = Origin::extract(req).into_inner();
        let query = req.query_string().to_string();
        let tenant = requested_tenant(req);
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|_| bearer_token(req).map(str::to_string));
        let verified = req.extensions().get::<AccessClaims>().cloned();
        Box::pin(async move {
            let origin = origin?;
            let tenant = tenant?;
            let caller = match token {
                None => None,
                Some(token) => {
                    let token = token?;
                    let claims = match verified {
                        Some(c) => c,
                        None => gate.tokens().verify_access(&token).await?,
                    };
                    let named = tenant.clone();
                    Some(
                        gate.run(move |app| async move {
                            authentication::authenticate_api(&app, claims, named.as_ref()).await
                        })
                        .await?,
                    )
                }
            };
            Ok(Request {
                caller,
                origin,
                query,
                tenant,
            })
        })
    }
}

/// A request body: JSON within the size limit, sent as
/// `application/vnd.api+json` (its parameters are negotiated before, in
/// `negotiation`) or `application/json`.
pub struct Body(pub Value);

impl FromRequest for Body {
    type Error = JsonApiError;
    type Future = LocalBoxFuture<'static, Result<Self, JsonApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let media = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("").to_string());
        let body = read_body(req, payload);
        Box::pin(async move {
            if let Some(media) = media {
                if !matches!(essence(&media).as_str(), MEDIA_TYPE | "application/json") {
                    return Err(Error::UnsupportedMediaType(format!(
                        "Content-Type must be {MEDIA_TYPE} (parameters: ext, profile only), not {media:?}"
                    ))
                    .into());
                }
            }
            let bytes = body.await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Body(Value::Null));
            }
            let value: Value = serde_json::from_slice(&bytes)
                .map_err(|e| Error::invalid("body", format!("is not valid JSON ({e})")))?;
            crate::api::extract::check_strings(&value, JsonPath::pointer)?;
            Ok(Body(value))
        })
    }
}

/// Deserializes attributes into `T`, naming the offending attribute.
pub fn attributes<T: serde::de::DeserializeOwned>(
    attributes: serde_json::Map<String, Value>,
) -> Result<T, Error> {
    crate::api::extract::from_value(Value::Object(attributes))
}

/// A path id: anything but a UUID names nothing.
pub fn path_id(raw: &str, what: &'static str) -> Result<uuid::Uuid, JsonApiError> {
    crate::api::extract::path_id(raw, what).map_err(JsonApiError::from)
}

/// JSON:API timestamps keep microseconds, so that a value read back in a
/// filter finds the same instant.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub fn opt_timestamp(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.map(|t| Value::String(timestamp(t)))
        .unwrap_or(Value::Null)
}
