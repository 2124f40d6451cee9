//! `/api/v1/scim/tokens` (reference 14). Aritma's form is `api::iam::scim_tokens`.

use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::json;

use super::views::timestamp;
use super::{created, message, ok};
use crate::api::extract::{path_id, present, OptionalJsonBody};
use crate::domain::principal::Caller;
use crate::domain::scim_token::ScimToken;
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::scim_tokens::NewToken;
use crate::service::{scim_tokens, App};

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateBody {
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    provider: Option<String>,
    #[serde(default, deserialize_with = "present")]
    provider_display_name: Option<String>,
}

/// Returns the secret once: `{"id", "token", "createdAt", ...}`.
pub async fn create(
    app: Data<App>,
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
    let (row, secret) = app
        .run(move |app| async move { scim_tokens::create(&app, &caller, input, &origin).await })
        .await?;
    let mut data = view(&row);
    data["token"] = json!(secret);
    Ok(created(data))
}

pub async fn index(app: Data<App>, caller: Caller) -> Result<HttpResponse, Error> {
    let rows = app
        .run(move |app| async move { scim_tokens::list(&app, &caller).await })
        .await?;
    let items: Vec<_> = rows.iter().map(view).collect();
    Ok(ok(json!({ "tokens": items, "total": items.len() })))
}

pub async fn delete(
    app: Data<App>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "SCIM token")?;
    app.run(move |app| async move { scim_tokens::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(message("SCIM token revoked", json!({})))
}
