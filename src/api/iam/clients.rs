//! Aritma clients (docs/api/iam.md, OAuth clients and secrets):
//! `/v1/clients`, one client, its secrets. Update and delete of a client
//! are ithbat's additions to the Aritma API, in the same shapes.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::views;
use crate::api::extract::{path_id, present, JsonBody};
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::clients::{ClientChanges, NewClient, NewSecret};
use crate::service::{clients, Gate};

/// `GET /v1/clients?searchText=&page=&pageSize=`: ClientDto items.
#[utoipa::path(get, path = "/core/iam/v1/clients", tag = IAM,
    params(
        ("page" = Option<u32>, Query, description = "From 1"),
        ("pageSize" = Option<u32>, Query, description = "1 to 100"),
        ("searchText" = Option<String>, Query)),
    responses((status = 200, description = "ClientDto items in the Aritma ID envelope: `{items, metadata: {page, pageSize, totalCount}, links: {first, previous, next, last}}`", body = AnyObject)))]
pub async fn index(
    gate: Data<Gate>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (page, search) = views::list_params(&req)?;
    let term = search.clone();
    let listing = gate
        .run(move |app| async move { clients::list(&app, &caller, term, page).await })
        .await?;
    Ok(views::page(
        listing.map(|c| views::client_summary(&c)),
        &views::url(&gate, &req),
        search.as_deref(),
    ))
}

/// All fields required (docs/api/iam.md, OAuth clients and secrets);
/// `redirectUris` empty for a client_credentials-only client.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = iam::clients::CreateBody)]
pub struct CreateBody {
    name: String,
    description: String,
    allowed_grant_types: Vec<String>,
    redirect_uris: Vec<String>,
    allowed_scopes: Vec<String>,
}

/// `POST /v1/clients`: 200 with the new client (no secrets yet).
#[utoipa::path(post, path = "/core/iam/v1/clients", tag = IAM, request_body = CreateBody,
    responses((status = 200, description = "ClientDetailsDto `{clientId, name, description, allowedGrantTypes, redirectUris, allowedScopes, enabled, createdAt, updatedAt}`; no secret yet", body = AnyObject)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let input = NewClient {
        name: b.name,
        description: b.description,
        grant_types: b.allowed_grant_types,
        redirect_uris: b.redirect_uris,
        scopes: b.allowed_scopes,
    };
    let client = gate
        .run(move |app| async move { clients::create(&app, &caller, input, &origin).await })
        .await?;
    Ok(views::ok(views::client_details(&client)))
}

#[utoipa::path(get, path = "/core/iam/v1/clients/{client_id}", tag = IAM,
    responses((status = 200, description = "ClientDetailsDto", body = AnyObject)))]
pub async fn show(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Client")?;
    let client = gate
        .run(move |app| async move { clients::get(&app, &caller, id).await })
        .await?;
    Ok(views::ok(views::client_details(&client)))
}

/// Any of the create fields, and `enabled`; absent ones are kept.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = iam::clients::UpdateBody)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    allowed_grant_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    redirect_uris: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    allowed_scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    enabled: Option<bool>,
}

/// `PUT /v1/clients/{clientId}`: 200 with the client. Disabling it
/// revokes its tokens.
#[utoipa::path(put, path = "/core/iam/v1/clients/{client_id}", tag = IAM, request_body = UpdateBody,
    responses((status = 200, description = "ClientDetailsDto; disabling the client revokes its tokens", body = AnyObject)))]
pub async fn update(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<UpdateBody>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Client")?;
    let b = body.0;
    let changes = ClientChanges {
        name: b.name,
        description: b.description,
        grant_types: b.allowed_grant_types,
        redirect_uris: b.redirect_uris,
        scopes: b.allowed_scopes,
        enabled: b.enabled,
    };
    let client = gate
        .run(move |app| async move { clients::update(&app, &caller, id, changes, &origin).await })
        .await?;
    Ok(views::ok(views::client_details(&client)))
}

/// `DELETE /v1/clients/{clientId}`: its tokens stop working.
#[utoipa::path(delete, path = "/core/iam/v1/clients/{client_id}", tag = IAM,
    responses((status = 200, description = "Deleted; its tokens stop working")))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Client")?;
    gate.run(move |app| async move { clients::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(views::done())
}

/// `GET /v1/clients/{clientId}/secrets`: metadata only, never a value.
#[utoipa::path(get, path = "/core/iam/v1/clients/{client_id}/secrets", tag = IAM,
    responses((status = 200, description = "`[{id, description, expiration, createdAt, lastUsedAt}]`, never a value", body = Vec<AnyObject>)))]
pub async fn secrets(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Client")?;
    let secrets = gate
        .run(move |app| async move { clients::secrets(&app, &caller, id).await })
        .await?;
    Ok(views::ok(
        secrets.iter().map(views::secret).collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = iam::clients::SecretBody)]
pub struct SecretBody {
    value: String,
    description: String,
    /// RFC 3339.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    expiration: Option<DateTime<Utc>>,
}

/// `POST /v1/clients/{clientId}/secrets`: the value (8 to 32 characters,
/// the caller's) appears in this response only.
#[utoipa::path(post, path = "/core/iam/v1/clients/{client_id}/secrets", tag = IAM, request_body = SecretBody,
    responses((status = 200, description = "The secret, its value shown this once", body = AnyObject)))]
pub async fn create_secret(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<SecretBody>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Client")?;
    let b = body.0;
    let input = NewSecret {
        value: b.value,
        description: b.description,
        expiration: b.expiration,
    };
    let (secret, value) =
        gate.run(move |app| async move {
            clients::create_secret(&app, &caller, id, input, &origin).await
        })
        .await?;
    let mut body = views::secret(&secret);
    body["value"] = json!(value);
    Ok(views::ok(body))
}

/// `DELETE /v1/clients/{clientId}/secrets/{secretId}`.
#[utoipa::path(delete, path = "/core/iam/v1/clients/{client_id}/secrets/{secret_id}", tag = IAM,
    responses((status = 200, description = "Deleted")))]
pub async fn delete_secret(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    ids: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (client, secret) = ids.into_inner();
    let client = path_id(&client, "Client")?;
    let secret = path_id(&secret, "Client secret")?;
    gate.run(move |app| async move {
        clients::delete_secret(&app, &caller, client, secret, &origin).await
    })
    .await?;
    Ok(views::done())
}
