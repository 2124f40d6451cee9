//! Seed 003 "SCIM": `POST /v1/scim` creates the same tokens as
//! `/api/v1/scim/tokens`, tied to an SSO provider's scheme.

use actix_web::web::Data;
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::json;

use super::views;
use crate::api::extract::JsonBody;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::scim_tokens::NewToken;
use crate::service::{scim_tokens, App};

/// `provider` and `providerDisplayName`, both required.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateBody {
    provider: String,
    provider_display_name: String,
}

/// 200 `{"id", "token", "provider", "providerDisplayName"}`; the token is
/// shown this once.
pub async fn create(
    app: Data<App>,
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
    let (row, secret) = app
        .run(move |app| async move { scim_tokens::create(&app, &caller, input, &origin).await })
        .await?;
    Ok(views::ok(json!({
        "id": row.id,
        "token": secret,
        "provider": row.provider,
        "providerDisplayName": row.provider_display_name,
    })))
}
