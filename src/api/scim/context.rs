//! Who is calling the SCIM service, on which tenant, and the request parts
//! every SCIM operation reads: the JSON body, ETag preconditions and the
//! base URL resources are located under.
//!
//! Credentials: a SCIM token (`scim_live_...`) acts on its own tenant with
//! the provisioning permissions. A user's access token is accepted too, but
//! only if its roles grant `scim:read` (reads) or `scim:write` (changes),
//! so that a console can inspect what an identity provider wrote without
//! every signed-in user reaching the provisioning surface; `/Me`, a
//! person's own resource, needs neither.

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde_json::Value;
use uuid::Uuid;

use super::error::ScimError;
use crate::api::extract::{bearer_token, check_strings, gate, requested_tenant};
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::tenant::TenantRef;
use crate::domain::text::JsonPath;
use crate::domain::Error;
use crate::service::tokens::AccessClaims;
use crate::service::{authentication, scim_tokens, tenants, Gate};

/// An authenticated SCIM request.
#[derive(Debug, Clone)]
pub struct Scim {
    pub caller: Caller,
    pub origin: Origin,
    /// The absolute URL of this SCIM service, e.g. `https://id.example/scim/v2`.
    pub base: String,
}

/// The SCIM service's absolute base URL for this request: Ithbat's form or
/// Aritma's tenant-in-path form.
pub fn base_url(req: &HttpRequest, gate: &Gate) -> String {
    let issuer = gate.tokens().issuer().trim_end_matches('/');
    match req.match_info().get("tenant") {
        Some(tenant) => format!("{issuer}/{tenant}/api/scim/v2"),
        None => format!("{issuer}/scim/v2"),
    }
}

/// Reads are GETs and searches (`POST .../.search`); everything else writes.
fn is_read(req: &HttpRequest) -> bool {
    req.method() == Method::GET || req.method() == Method::HEAD || req.path().ends_with("/.search")
}

/// Is this the `/Me` alias?
fn is_me(req: &HttpRequest) -> bool {
    req.match_pattern().is_some_and(|p| p.ends_with("/Me"))
}

impl FromRequest for Scim {
    type Error = ScimError;
    type Future = LocalBoxFuture<'static, Result<Self, ScimError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let gate = gate(req);
        let base = base_url(req, &gate);
        let origin = Origin::extract(req).into_inner();
        let token = bearer_token(req).map(str::to_string);
        let verified = req.extensions().get::<AccessClaims>().cloned();
        let header_tenant = requested_tenant(req);
        let path_tenant = req
            .match_info()
            .get("tenant")
            .map(|t| Uuid::parse_str(t).map_err(|_| Error::TenantNotFound));
        // `/Me` is a person's own resource: self-service, as
        // /api/v1/users/me, needs no SCIM permission (RFC 7644 3.11).
        let permission = if is_me(req) {
            None
        } else if is_read(req) {
            Some("scim:read")
        } else {
            Some("scim:write")
        };
        Box::pin(async move {
            let origin = origin.map_err(ScimError::from)?;
            let token = token?;
            let header_tenant = header_tenant?;
            let path_tenant = path_tenant.transpose()?;
            let caller = gate
                .run(move |app| async move {
                    if token.starts_with(scim_tokens::PREFIX) {
                        let principal =
                            scim_tokens::authenticate(&app, &token)
                                .await?
                                .ok_or_else(|| {
                                    Error::Unauthenticated(
                                        "The SCIM token is invalid or revoked".into(),
                                    )
                                })?;
                        let tenant_id = principal.home_tenant;
                        if let Some(named) = &header_tenant {
                            if !tenants::names(&app, named, tenant_id).await? {
                                return Err(Error::TenantNotFound);
                            }
                        }
                        return Ok(Caller {
                            principal,
                            tenant_id,
                        });
                    }
                    let claims = match verified {
                        Some(claims) => claims,
                        None => app.tokens.verify_access(&token).await?,
                    };
                    // A platform administrator may name the tenant in the path.
                    let named = header_tenant.or(path_tenant.map(TenantRef::Id));
                    let caller =
                        authentication::authenticate_api(&app, claims, named.as_ref()).await?;
                    if let Some(permission) = permission {
                        caller.require(permission)?;
                    }
                    Ok(caller)
                })
                .await?;
            // Aritma's form: the path names the token's tenant, or nothing.
            if path_tenant.is_some_and(|t| t != caller.tenant_id) {
                return Err(Error::TenantNotFound.into());
            }
            Ok(Scim {
                caller,
                origin,
                base,
            })
        })
    }
}

/// A SCIM request body: a JSON object within the size limit, sent as
/// application/scim+json or application/json.
pub struct ScimJson(pub Value);

impl FromRequest for ScimJson {
    type Error = ScimError;
    type Future = LocalBoxFuture<'static, Result<Self, ScimError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = gate(req).config().max_body_bytes;
        let media = req.headers().get(header::CONTENT_TYPE).map(|v| {
            v.to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        let mut payload = payload.take();
        Box::pin(async move {
            if let Some(m) =
                media.filter(|m| m != "application/scim+json" && m != "application/json")
            {
                return Err(Error::UnsupportedMediaType(format!(
                    "Content-Type must be application/scim+json, not {m:?}"
                ))
                .into());
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ScimError::invalid_syntax(format!("the body could not be read: {e}"))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(Error::PayloadTooLarge { limit }.into());
                }
                body.extend_from_slice(&chunk);
            }
            let value: Value = serde_json::from_slice(&body).map_err(|e| {
                ScimError::invalid_syntax(format!("the body is not valid JSON: {e}"))
            })?;
            if !value.is_object() {
                return Err(ScimError::invalid_syntax("the body must be a JSON object"));
            }
            check_strings(&value, JsonPath::dotted)?;
            Ok(ScimJson(value))
        })
    }
}

/// An `If-Match` / `If-None-Match` precondition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No header, or `*`.
    Any,
    /// A version; `None` when the tag names no version this server issues
    /// (it then matches nothing).
    Version(Option<i32>),
}

impl Precondition {
    pub fn parse(req: &HttpRequest, name: header::HeaderName) -> Precondition {
        let Some(value) = req.headers().get(name).and_then(|v| v.to_str().ok()) else {
            return Precondition::Any;
        };
        let value = value.trim();
        if value == "*" {
            return Precondition::Any;
        }
        // W/"3" or "3"; a list of tags is matched on its first.
        let first = value.split(',').next().unwrap_or("").trim();
        let tag = first.strip_prefix("W/").unwrap_or(first).trim_matches('"');
        Precondition::Version(tag.parse().ok())
    }

    /// The version a write must find, for the service layer: a tag that
    /// names no version becomes one no resource has.
    pub fn expected(self) -> Option<i32> {
        match self {
            Precondition::Any => None,
            Precondition::Version(v) => Some(v.unwrap_or(-1)),
        }
    }

    pub fn matches(self, version: i32) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::Version(v) => v == Some(version),
        }
    }

    pub fn is_any(self) -> bool {
        self == Precondition::Any
    }
}

/// The precondition of a write (If-Match) and of a read (If-None-Match).
pub fn if_match(req: &HttpRequest) -> Precondition {
    Precondition::parse(req, header::IF_MATCH)
}

/// If-None-Match on a read; None when the header is absent.
pub fn if_none_match(req: &HttpRequest) -> Option<Precondition> {
    req.headers()
        .contains_key(header::IF_NONE_MATCH)
        .then(|| Precondition::parse(req, header::IF_NONE_MATCH))
}
