//! Aritma SSO providers (docs/api/iam.md, SCIM tokens and SSO providers;
//! docs/api/oauth.md, SSO providers): `/v1/sso` (the providers of
//! every kind) and `/v1/sso/{azuread|google|signicat|custom}` with create,
//! get, update, delete, and the button icon.

use actix_web::http::{header, StatusCode};
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::views;
use crate::api::extract::JsonBody;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::sso::{PropertiesInput, ProviderKind, SsoProvider, SECRET_MASK};
use crate::domain::Error;
use crate::service::sso_providers::{self, ProviderInput};
use crate::service::Gate;

/// The properties every kind has (docs/api/iam.md, SCIM tokens and SSO
/// providers, shows them).
const SHARED: [&str; 5] = [
    "loginEnabled",
    "visible",
    "delegationEnabled",
    "autoProvisioningEnabled",
    "clientId",
];

/// The provider response of the Aritma API: the kind's own
/// properties, and the client secret masked.
fn view(p: &SsoProvider) -> Value {
    let all = serde_json::to_value(&p.properties).unwrap_or_default();
    let mut properties = Map::new();
    for key in SHARED.iter().chain(p.kind.own_properties()) {
        if let Some(v) = all.get(*key) {
            properties.insert((*key).to_string(), v.clone());
        }
    }
    properties.insert(
        "clientSecret".into(),
        json!(p.client_secret_sealed.as_ref().map(|_| SECRET_MASK)),
    );
    json!({
        "id": p.id,
        "scheme": p.scheme,
        "displayName": p.display_name,
        "enabled": p.enabled,
        "providerName": p.kind.provider_name(),
        "type": p.protocol,
        "properties": properties,
    })
}

fn kind_of(segment: &str) -> Result<ProviderKind, Error> {
    ProviderKind::parse(segment).ok_or(Error::NotFound("SSO provider"))
}

/// Provider ids are integers; anything else names no provider.
fn id_of(segment: &str) -> Result<i64, Error> {
    segment
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(Error::NotFound("SSO provider"))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = iam::sso::Body)]
pub struct Body {
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    scheme: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default, rename = "type")]
    protocol: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    properties: Option<PropertiesInput>,
}

impl Body {
    fn input(self) -> ProviderInput {
        ProviderInput {
            scheme: self.scheme,
            display_name: self.display_name,
            enabled: self.enabled,
            protocol: self.protocol,
            properties: self.properties,
        }
    }
}

/// `GET /v1/sso`: every provider of the tenant.
#[utoipa::path(get, path = "/core/iam/v1/sso", tag = IAM,
    responses((status = 200, description = "The tenant's SSO providers (client secrets masked)", body = Vec<AnyObject>)))]
pub async fn index(gate: Data<Gate>, caller: Caller) -> Result<HttpResponse, Error> {
    let providers = gate
        .run(move |app| async move { sso_providers::list(&app, &caller).await })
        .await?;
    Ok(views::ok(providers.iter().map(view).collect::<Vec<_>>()))
}

/// `GET /v1/sso/{segment}`: one provider by id, or the providers of a kind.
#[utoipa::path(get, path = "/core/iam/v1/sso/{segment}", tag = IAM,
    responses((status = 200, description = "One provider by its id, or the providers of a kind (`oidc`, `signicat`, ...) as an array", body = AnyObject)))]
pub async fn index_or_show(
    gate: Data<Gate>,
    caller: Caller,
    segment: Path<String>,
) -> Result<HttpResponse, Error> {
    if let Some(kind) = ProviderKind::parse(&segment) {
        let providers = gate
            .run(move |app| async move { sso_providers::list(&app, &caller).await })
            .await?;
        let of_kind: Vec<Value> = providers
            .iter()
            .filter(|p| p.kind == kind)
            .map(view)
            .collect();
        return Ok(views::ok(of_kind));
    }
    let id = id_of(&segment)?;
    let p = gate
        .run(move |app| async move { sso_providers::get(&app, &caller, None, id).await })
        .await?;
    Ok(views::ok(view(&p)))
}

/// `POST /v1/sso/{kind}`: 201 with the links of the new provider.
#[utoipa::path(post, path = "/core/iam/v1/sso/{segment}", tag = IAM,
    description = "`segment` is the kind of provider.", request_body = Body,
    responses((status = 201, description = "`[{rel, href, method}]`: the links of the new provider (also in Location)", body = Vec<AnyObject>)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    kind: Path<String>,
    body: JsonBody<Body>,
) -> Result<HttpResponse, Error> {
    let kind = kind_of(&kind)?;
    let b = body.0;
    if b.id.is_some() {
        return Err(Error::invalid("id", "is set by the server on create"));
    }
    let p = gate
        .run(move |app| async move {
            sso_providers::create(&app, &caller, kind, b.input(), &origin).await
        })
        .await?;
    let href = format!(
        "{}/core/iam/v1/sso/{}/{}",
        gate.tokens().issuer().trim_end_matches('/'),
        p.kind.as_str(),
        p.id
    );
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, href.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!([
            { "rel": "self", "href": href, "method": "GET" },
            { "rel": "update", "href": href, "method": "PUT" },
            { "rel": "delete", "href": href, "method": "DELETE" },
        ])))
}

#[utoipa::path(get, path = "/core/iam/v1/sso/{kind}/{id}", tag = IAM,
    responses((status = 200, description = "The provider, its client secret masked", body = AnyObject)))]
pub async fn show(
    gate: Data<Gate>,
    caller: Caller,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (kind, id) = path.into_inner();
    let (kind, id) = (kind_of(&kind)?, id_of(&id)?);
    let p = gate
        .run(move |app| async move { sso_providers::get(&app, &caller, Some(kind), id).await })
        .await?;
    Ok(views::ok(view(&p)))
}

/// `PUT /v1/sso/{kind}/{id}`: the create body plus `id`, which must be
/// the path's; 200 with no content.
#[utoipa::path(put, path = "/core/iam/v1/sso/{kind}/{id}", tag = IAM, request_body = Body,
    responses((status = 200, description = "Updated")))]
pub async fn update(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    path: Path<(String, String)>,
    body: JsonBody<Body>,
) -> Result<HttpResponse, Error> {
    let (kind, id) = path.into_inner();
    let (kind, id) = (kind_of(&kind)?, id_of(&id)?);
    let b = body.0;
    match b.id {
        None => return Err(Error::invalid("id", "is required (the provider's id)")),
        Some(given) if given != id => {
            return Err(Error::invalid("id", "must be the id in the path"))
        }
        Some(_) => {}
    }
    gate.run(move |app| async move {
        sso_providers::update(&app, &caller, kind, id, b.input(), &origin).await
    })
    .await?;
    Ok(views::done())
}

#[utoipa::path(delete, path = "/core/iam/v1/sso/{kind}/{id}", tag = IAM,
    responses((status = 200, description = "Deleted")))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (kind, id) = path.into_inner();
    let (kind, id) = (kind_of(&kind)?, id_of(&id)?);
    gate.run(move |app| async move {
        sso_providers::delete(&app, &caller, Some(kind), id, &origin).await
    })
    .await?;
    Ok(views::done())
}

/// `DELETE /v1/sso/{id}`: the common delete.
#[utoipa::path(delete, path = "/core/iam/v1/sso/{segment}", tag = IAM,
    description = "`segment` is the provider's id.",
    responses((status = 200, description = "Deleted")))]
pub async fn delete_any(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = id_of(&id)?;
    gate.run(
        move |app| async move { sso_providers::delete(&app, &caller, None, id, &origin).await },
    )
    .await?;
    Ok(views::done())
}

/// `PUT /v1/sso/{kind}/{id}/icon`: multipart/form-data with one file
/// field `icon` (an image), as in the Aritma API.
#[utoipa::path(put, path = "/core/iam/v1/sso/{kind}/{id}/icon", tag = IAM,
    request_body(content = Object, content_type = "multipart/form-data", description = "One file field `icon`: an image"),
    responses((status = 200, description = "Stored")))]
pub async fn update_icon(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    req: HttpRequest,
    path: Path<(String, String)>,
    body: Bytes,
) -> Result<HttpResponse, Error> {
    let (kind, id) = path.into_inner();
    kind_of(&kind)?;
    let id = id_of(&id)?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (file_type, bytes) = crate::api::multipart::file_field(content_type, &body, "icon")?;
    gate.run(move |app| async move {
        sso_providers::set_icon(&app, &caller, id, &file_type, bytes, &origin).await
    })
    .await?;
    Ok(views::done())
}

/// `GET /v1/sso/{kind}/{id}/icon`: the icon as stored.
#[utoipa::path(get, path = "/core/iam/v1/sso/{kind}/{id}/icon", tag = IAM,
    responses((status = 200, description = "The icon as stored, in its own media type", content_type = "image/*", body = Vec<u8>)))]
pub async fn icon(
    gate: Data<Gate>,
    caller: Caller,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (kind, id) = path.into_inner();
    let (kind, id) = (kind_of(&kind)?, id_of(&id)?);
    let (bytes, content_type) = gate
        .run(move |app| async move { sso_providers::icon(&app, &caller, kind, id).await })
        .await?;
    Ok(HttpResponse::build(StatusCode::OK)
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // An SVG opened directly must not run anything.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ))
        .body(bytes))
}
