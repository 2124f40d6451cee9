//! Aritma scopes (docs/api/iam.md): the catalogue a client's
//! `allowedScopes` come from.
//! Reading it needs no permission, only `services.iam` like every
//! operation of the dialect.

use actix_web::HttpResponse;
use serde_json::json;

use super::views;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::domain::principal::Caller;
use crate::domain::scope::CATALOGUE;

/// `GET /v1/scopes`: `[{"name", "displayName", "description"}]`.
#[utoipa::path(get, path = "/core/iam/v1/scopes", tag = IAM,
    responses((status = 200, description = "The OAuth scopes a client may be allowed", body = Vec<AnyObject>)))]
pub async fn index(_caller: Caller) -> HttpResponse {
    views::ok(
        CATALOGUE
            .iter()
            .map(|s| json!({ "name": s.name, "displayName": s.display_name, "description": s.description }))
            .collect::<Vec<_>>(),
    )
}
