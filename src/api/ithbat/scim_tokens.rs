//! `/api/v1/scim/tokens` (docs/api/scim.md, A SCIM token). Aritma's form is
//! `api::iam::scim_tokens`.

use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::json;

use super::views::timestamp;
use super::{created, message, ok};
use crate::api::extract::{path_id, present, OptionalJsonBody};
use crate::api::openapi::schemas::{AnyObject, Message, Success};
use crate::api::openapi::NATIVE;
use crate::domain::principal::Caller;
use crate::domain::scim_token::ScimToken;
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::scim_tokens::NewToken;
use crate::service::{scim_tokens, Gate};

fn view(t: &ScimToken) -> serde_json::Value {
    json!({
        "id": t.id,
        "name": t.name,
        "provider": t.provider,
        "providerDisplayName": t.provider_display_name,
        "tokenHint": format!("scim_live_…{}", t.token_hint),
        "createdAt": timestamp(t.created_at),
        "lastUsedAt": t.last_used_at.map(timestamp),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::scim_tokens::CreateBody)]
pub struct CreateBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    provider: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    provider_display_name: Option<String>,
}

/// Returns the secret once: `{"id", "token", "createdAt", ...}`.
#[utoipa::path(post, path = "/api/v1/scim/tokens", tag = NATIVE, request_body = Option<CreateBody>,
    responses((status = 201, description = "`{id, name, provider, providerDisplayName, tokenHint, createdAt, lastUsedAt, token}`: the token is shown this once", body = Success<AnyObject>)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: OptionalJsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0.unwrap_or(CreateBody {
        name: None,
        provider: None,
        provider_display_name: None,
    });
    let input = NewToken {
        name: b.name,
        provider: b.provider,
        provider_display_name: b.provider_display_name,
    };
    let (row, secret) = gate
        .run(move |app| async move { scim_tokens::create(&app, &caller, input, &origin).await })
        .await?;
    let mut data = view(&row);
    data["token"] = json!(secret);
    Ok(created(data))
}

#[utoipa::path(get, path = "/api/v1/scim/tokens", tag = NATIVE,
    responses((status = 200, description = "`{tokens: [...], total}`, without the secrets", body = Success<AnyObject>)))]
pub async fn index(gate: Data<Gate>, caller: Caller) -> Result<HttpResponse, Error> {
    let rows = gate
        .run(move |app| async move { scim_tokens::list(&app, &caller).await })
        .await?;
    let items: Vec<_> = rows.iter().map(view).collect();
    Ok(ok(json!({ "tokens": items, "total": items.len() })))
}

#[utoipa::path(delete, path = "/api/v1/scim/tokens/{id}", tag = NATIVE,
    responses((status = 200, description = "Revoked", body = Message)))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "SCIM token")?;
    gate.run(move |app| async move { scim_tokens::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(message("SCIM token revoked", json!({})))
}
