//! Rate limiting for every request (docs/api/ithbat.md, Rate limits and
//! probes; docs/design/sign-in.md, Rate limits): a token's
//! tenant gets its plan's limit, anything else its client address's.
//! Every response carries X-RateLimit-Limit, -Remaining and -Reset; a 429
//! adds Retry-After and RATE_LIMIT_EXCEEDED.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use uuid::Uuid;

use super::extract::{bearer_token, client_ip};
use super::scim::error::ScimError;
use crate::domain::{Error, Result};
use crate::service::ratelimit::Decision;
use crate::service::{scim_tokens, tenants, Gate};

/// Probes and metrics are for the operator's infrastructure, not clients.
const UNLIMITED: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(gate) = req.app_data::<Data<Gate>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    if UNLIMITED.contains(&req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let token = bearer_token(req.request()).ok().map(str::to_string);
    let claims = match token.as_deref() {
        Some(t) if !t.starts_with(scim_tokens::PREFIX) => gate.tokens().verify_access(t).await.ok(),
        _ => None,
    };
    let tenant = match (&claims, token) {
        (Some(claims), _) => Ok(claims.tenant_id.parse::<Uuid>().ok()),
        (None, Some(t)) if t.starts_with(scim_tokens::PREFIX) => {
            scim_tokens::tenant_of(&gate, &t).await
        }
        _ => Ok(None),
    };
    let decision = match tenant {
        Ok(Some(tenant)) => tenant_decision(&gate, tenant).await,
        Ok(None) => Ok(anonymous_decision(&gate, &req).await),
        Err(e) => Err(e),
    };
    let decision = match decision {
        Ok(d) => d,
        Err(e) => {
            let response = error_response(&req, e);
            return Ok(req.into_response(response).map_into_right_body());
        }
    };
    if let Some(claims) = claims {
        // The Caller extractor takes it from here instead of verifying again.
        req.extensions_mut().insert(claims);
    }
    if !decision.allowed {
        let error = Error::RateLimited {
            retry_after_secs: decision.reset_secs.max(1),
        };
        let mut response = error_response(&req, error);
        add_headers(response.headers_mut(), decision);
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    add_headers(res.headers_mut(), decision);
    Ok(res.map_into_left_body())
}

/// An error in the dialect of the path: SCIM clients get SCIM errors,
/// Aritma clients problem details, OAuth clients RFC 6749 errors.
pub(crate) fn error_response(req: &ServiceRequest, e: Error) -> HttpResponse {
    let path = req.path();
    if is_scim_path(path) {
        ScimError::from(e).error_response()
    } else if super::jsonapi::is_jsonapi_path(path) {
        super::jsonapi::error::JsonApiError::from(e).error_response()
    } else if super::iam::is_path(path) {
        super::iam::error::response(&e, path)
    } else if super::oauth::is_path(path) {
        super::oauth::error::response(&e)
    } else {
        e.error_response()
    }
}

pub fn is_scim_path(path: &str) -> bool {
    path.starts_with("/scim/v2")
        || path.split('/').nth(2) == Some("api") && path.split('/').nth(3) == Some("scim")
}

async fn anonymous_decision(gate: &Gate, req: &ServiceRequest) -> Decision {
    let config = gate.config();
    let ip = client_ip(req.request(), config.trust_proxy).unwrap_or_default();
    gate.limits()
        .hit(&format!("ip:{ip}"), config.anonymous_rate_limit)
        .await
}

/// Counted against the tenant, at its plan's limit.
async fn tenant_decision(gate: &Gate, tenant: Uuid) -> Result<Decision> {
    let limit = tenants::rate_limit(gate, tenant).await?;
    Ok(gate.limits().hit(&format!("tenant:{tenant}"), limit).await)
}

fn add_headers(headers: &mut actix_web::http::header::HeaderMap, d: Decision) {
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(d.limit)),
        ("x-ratelimit-remaining", u64::from(d.remaining)),
        ("x-ratelimit-reset", d.reset_secs),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}
