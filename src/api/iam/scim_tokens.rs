//! Aritma SCIM tokens (docs/api/iam.md, SCIM tokens and SSO providers):
//! `POST /v1/scim` creates the same tokens as `/api/v1/scim/tokens`, tied to
//! an SSO provider's scheme; `GET /v1/scim` lists them and `DELETE /v1/scim/{id}`
//! revokes one, on the same rows and the same rules (`service::scim_tokens`).

use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::json;

use super::views;
use crate::api::extract::{path_id, JsonBody};
use crate::api::ithbat::views::timestamp;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::domain::principal::Caller;
use crate::domain::scim_token::ScimToken;
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::scim_tokens::NewToken;
use crate::service::{scim_tokens, Gate};

/// `provider` and `providerDisplayName`, both required.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = iam::scim_tokens::CreateBody)]
pub struct CreateBody {
    provider: String,
    provider_display_name: String,
}

/// 200 `{"id", "token", "provider", "providerDisplayName"}`; the token is
/// shown this once.
#[utoipa::path(post, path = "/core/iam/v1/scim", tag = IAM, request_body = CreateBody,
    responses((status = 200, description = "`{id, token, provider, providerDisplayName}`: the token is shown this once", body = AnyObject)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let input = NewToken {
        name: None,
        provider: Some(b.provider),
        provider_display_name: Some(b.provider_display_name),
    };
    let (row, secret) = gate
        .run(move |app| async move { scim_tokens::create(&app, &caller, input, &origin).await })
        .await?;
    Ok(views::ok(json!({
        "id": row.id,
        "token": secret,
        "provider": row.provider,
        "providerDisplayName": row.provider_display_name,
    })))
}

/// A token as listed: the creation response's fields without the secret,
/// and what tells tokens apart (name, the secret's last characters, use).
fn dto(t: &ScimToken) -> serde_json::Value {
    json!({
        "id": t.id,
        "provider": t.provider,
        "providerDisplayName": t.provider_display_name,
        "name": t.name,
        "tokenHint": format!("{}…{}", scim_tokens::PREFIX, t.token_hint),
        "createdAt": timestamp(t.created_at),
        "lastUsedAt": t.last_used_at.map(timestamp),
    })
}

/// 200 with the tenant's tokens, oldest first, never their secrets.
#[utoipa::path(get, path = "/core/iam/v1/scim", tag = IAM,
    responses((status = 200, description = "`[{id, provider, providerDisplayName, name, tokenHint, createdAt, lastUsedAt}]`, oldest first", body = Vec<AnyObject>)))]
pub async fn index(gate: Data<Gate>, caller: Caller) -> Result<HttpResponse, Error> {
    let rows = gate
        .run(move |app| async move { scim_tokens::list(&app, &caller).await })
        .await?;
    Ok(views::ok(rows.iter().map(dto).collect::<Vec<_>>()))
}

/// 200, no content: the token is refused from its next request on.
#[utoipa::path(delete, path = "/core/iam/v1/scim/{id}", tag = IAM,
    responses((status = 200, description = "Revoked from its next request on")))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "SCIM token")?;
    gate.run(move |app| async move { scim_tokens::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(views::done())
}
