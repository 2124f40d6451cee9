//! Rate limiting for every request (api-map "Rate limits"): a token's
//! tenant gets its plan's limit, anything else its client address's.
//! Every response carries X-RateLimit-Limit, -Remaining and -Reset; a 429
//! adds Retry-After and RATE_LIMIT_EXCEEDED.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{HttpMessage, ResponseError};
use uuid::Uuid;

use super::extract::{bearer_token, client_ip};
use crate::domain::{Error, Result};
use crate::repo;
use crate::service::ratelimit::Decision;
use crate::service::App;

/// Probes and metrics are for the operator's infrastructure, not clients.
const UNLIMITED: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(app) = req.app_data::<Data<App>>().cloned() else {
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
    let claims = bearer_token(req.request())
        .ok()
        .and_then(|token| app.tokens.verify_access(token).ok());
    let decision = match &claims {
        Some(claims) => {
            let tenant: Option<Uuid> = claims.tenant_id.parse().ok();
            match tenant {
                Some(tenant) => tenant_decision(&app, tenant).await,
                None => Ok(anonymous_decision(&app, &req).await),
            }
        }
        None => Ok(anonymous_decision(&app, &req).await),
    };
    let decision = match decision {
        Ok(d) => d,
        Err(e) => {
            let response = e.error_response();
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
        let mut response = error.error_response();
        add_headers(response.headers_mut(), decision);
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    add_headers(res.headers_mut(), decision);
    Ok(res.map_into_left_body())
}

async fn anonymous_decision(app: &App, req: &ServiceRequest) -> Decision {
    let ip = client_ip(req.request(), app.config.trust_proxy).unwrap_or_default();
    app.limits
        .hit(&format!("ip:{ip}"), app.config.anonymous_rate_limit)
        .await
}

/// The tenant's limit (cached briefly), counted against the tenant.
async fn tenant_decision(app: &Data<App>, tenant: Uuid) -> Result<Decision> {
    let limit = match app.limits.cached_tenant_limit(tenant) {
        Some(limit) => limit,
        None => {
            let found = app
                .run(move |app| async move {
                    let mut conn = app.db.get().await?;
                    repo::tenants::find(&mut conn.db(), tenant).await
                })
                .await?;
            // A token of a deleted tenant is refused by authentication;
            // count it as the strictest plan meanwhile.
            let limit = found.map(|t| t.effective_rate_limit()).unwrap_or(100);
            app.limits.remember_tenant_limit(tenant, limit);
            limit
        }
    };
    Ok(app.limits.hit(&format!("tenant:{tenant}"), limit).await)
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
