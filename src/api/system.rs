//! Probes, metrics and the public key discovery documents.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::extract::bearer_token;
use super::observe::Metrics;
use crate::api::openapi::SYSTEM;
use crate::domain::scope::CATALOGUE;
use crate::domain::Error;
use crate::service::{App, Gate};

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    healthz,
    readyz,
    metrics,
    jwks,
    openid_configuration,
    crate::api::openapi::serve
))]
pub struct Doc;

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = SYSTEM, responses(
    (status = 200, description = "Alive", body = Object, example = json!({"status": "ok"})),
))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// How long /readyz waits for the database: a probe must answer promptly
/// even when the database does not.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// The database answers within `READINESS_TIMEOUT`; 503 while it does not.
#[utoipa::path(get, path = "/readyz", tag = SYSTEM, responses(
    (status = 200, description = "The database answers", body = Object, example = json!({"status": "ready", "database": "sqlite"})),
    (status = 503, description = "The database does not answer", body = Object, example = json!({"status": "unavailable", "database": "postgres"})),
))]
pub async fn readyz(gate: Data<Gate>) -> HttpResponse {
    let backend = gate.config().database_url.backend();
    let ping = |app: App| async move { app.db.ping(READINESS_TIMEOUT).await };
    match gate.run(ping).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready", "database": backend })),
        Err(e) => {
            log::warn!("readiness check failed: {e}");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "database": backend }))
        }
    }
}

/// Prometheus metrics; behind a bearer token when ITHBAT_METRICS_TOKEN is set.
#[utoipa::path(get, path = "/metrics", tag = SYSTEM,
    description = "Prometheus text format. Open unless ITHBAT_METRICS_TOKEN is set; then send it as a bearer token.",
    responses(
        (status = 200, description = "Metrics", content_type = "text/plain", body = String),
        (status = 401, description = "ITHBAT_METRICS_TOKEN is set and was not sent", body = crate::api::openapi::schemas::NativeError),
    ),
    security((), ("bearer" = [])),
)]
pub async fn metrics(
    req: HttpRequest,
    gate: Data<Gate>,
    metrics: Data<Metrics>,
) -> Result<HttpResponse, Error> {
    if let Some(expected) = &gate.config().metrics_token {
        let given = bearer_token(&req)?;
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(Error::Unauthenticated("Invalid metrics token".into()));
        }
    }
    let ((hashes, verifications), pool) = gate
        .run(|app| async move { Ok::<_, Error>((app.passwords.work_done(), app.db.status())) })
        .await?;
    let mut body = metrics.render(pool);
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
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = SYSTEM,
    description = "The JSON Web Key Set (RFC 7517) of the keys that verify this server's tokens.",
    responses((status = 200, description = "The key set", body = Object)),
)]
pub async fn jwks(gate: Data<Gate>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(gate.tokens().jwks().as_ref())
}

/// OpenID Connect discovery (and RFC 8414 metadata): only what is
/// implemented is listed.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = SYSTEM,
    description = "OpenID Connect Discovery 1.0 (and RFC 8414) metadata.",
    responses((status = 200, description = "The provider metadata", body = Object)),
)]
pub async fn openid_configuration(gate: Data<Gate>) -> HttpResponse {
    let issuer = gate.tokens().issuer();
    let client_auth = ["client_secret_basic", "client_secret_post"];
    // Public clients (no secret) redeem codes with PKCE alone.
    let token_auth = ["client_secret_basic", "client_secret_post", "none"];
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
            "end_session_endpoint": format!("{issuer}/oauth/logout"),
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": gate
                .tokens()
                .algorithms()
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>(),
            "token_endpoint_auth_methods_supported": token_auth,
            "introspection_endpoint_auth_methods_supported": client_auth,
            "revocation_endpoint_auth_methods_supported": client_auth,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "code_challenge_methods_supported": ["S256"],
            "prompt_values_supported": ["none", "login"],
            "authorization_response_iss_parameter_supported": true,
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "scopes_supported": CATALOGUE.iter().map(|s| s.name).collect::<Vec<_>>(),
            "claims_supported": [
                "iss", "sub", "aud", "exp", "iat", "auth_time", "sid", "tenant_id",
                "email", "email_verified", "name", "given_name", "family_name",
                "middle_name", "preferred_username", "picture", "locale", "zoneinfo",
                "updated_at", "phone_number", "phone_number_verified", "nonce", "azp",
                "client_id", "scope"
            ],
        }))
}
