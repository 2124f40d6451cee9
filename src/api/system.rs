//! Probes, metrics and the public key discovery documents.

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::extract::bearer_token;
use super::observe::Metrics;
use crate::domain::scope::CATALOGUE;
use crate::domain::Error;
use crate::service::App;

/// The process is alive.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers; 503 while it does not.
pub async fn readyz(app: Data<App>) -> HttpResponse {
    match app.run(|app| async move { app.db.ping().await }).await {
        Ok(()) => {
            HttpResponse::Ok().json(json!({ "status": "ready", "database": app.db.backend() }))
        }
        Err(e) => {
            log::warn!("readiness check failed: {e}");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "database": app.db.backend() }))
        }
    }
}

/// Prometheus metrics; behind a bearer token when ITHBAT_METRICS_TOKEN is set.
pub async fn metrics(
    req: HttpRequest,
    app: Data<App>,
    metrics: Data<Metrics>,
) -> Result<HttpResponse, Error> {
    if let Some(expected) = &app.config.metrics_token {
        let given = bearer_token(&req)?;
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(Error::Unauthenticated("Invalid metrics token".into()));
        }
    }
    let (hashes, verifications) = app.passwords.work_done();
    let mut body = metrics.render(app.db.status());
    body.push_str(&format!(
        "# HELP ithbat_password_hashes_total argon2id hashes computed.\n\
         # TYPE ithbat_password_hashes_total counter\n\
         ithbat_password_hashes_total {hashes}\n\
         # HELP ithbat_password_verifications_total argon2id verifications computed (unknown accounts included).\n\
         # TYPE ithbat_password_verifications_total counter\n\
         ithbat_password_verifications_total {verifications}\n"
    ));
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body))
}

/// The public keys that verify every token this server signs.
pub async fn jwks(app: Data<App>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(app.tokens.jwks())
}

/// OpenID Connect discovery (and RFC 8414 metadata): only what is
/// implemented is listed.
pub async fn openid_configuration(app: Data<App>) -> HttpResponse {
    let issuer = app.tokens.issuer();
    let client_auth = ["client_secret_basic", "client_secret_post"];
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": client_auth,
            "introspection_endpoint_auth_methods_supported": client_auth,
            "revocation_endpoint_auth_methods_supported": client_auth,
            "response_types_supported": [],
            "grant_types_supported": ["client_credentials", "refresh_token"],
            "scopes_supported": CATALOGUE.iter().map(|s| s.name).collect::<Vec<_>>(),
            "claims_supported": [
                "iss", "sub", "aud", "exp", "iat", "auth_time", "sid", "tenant_id",
                "email", "email_verified", "name", "given_name", "family_name",
                "client_id", "scope"
            ],
        }))
}
