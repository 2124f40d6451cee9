//! `account/passwords` (docs/api/jsonapi.md): reset by mailed token, token
//! check and change. The bodies are plain JSON objects, or the same fields as
//! the attributes of a resource document.

use actix_web::web::Data;
use actix_web::HttpResponse;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::document::shapes::Input;
use super::document::{self, plain_or_attributes};
use super::error::{JsonApiError, JsonApiResult};
use super::{attributes, Body, Request};
use crate::api::openapi::JSONAPI;
use crate::domain::Error;
use crate::service::passwords::Password;
use crate::service::{recovery, Gate};

/// The body's fields as `T`, with errors pointing where the client put
/// them.
fn fields<T: DeserializeOwned>(body: Value) -> Result<(T, bool), JsonApiError> {
    let (map, wrapped) = plain_or_attributes(body).map_err(JsonApiError::plain)?;
    let wrap = |e: Error| {
        if wrapped {
            JsonApiError::from(e)
        } else {
            JsonApiError::plain(e)
        }
    };
    attributes(map).map(|v| (v, wrapped)).map_err(wrap)
}

fn in_body(wrapped: bool) -> impl Fn(Error) -> JsonApiError {
    move |e| {
        if wrapped {
            JsonApiError::from(e)
        } else {
            JsonApiError::plain(e)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestReset {
    email: String,
}

/// 204 whether or not an account has the email.
#[utoipa::path(post, path = "/api/v1/account/passwords/request_reset", tag = JSONAPI,
    description = "`{email}` plain, or as the attributes of a document.",
    request_body(content = Input, content_type = "application/vnd.api+json"),
    security(()),
    responses((status = 204, description = "The same answer whether or not an account has the email")))]
pub async fn request_reset(
    gate: Data<Gate>,
    r: Request,
    body: Body,
) -> JsonApiResult<HttpResponse> {
    super::query::no_parameters(&r.query)?;
    let (b, wrapped): (RequestReset, bool) = fields(body.0)?;
    let (tenant, origin) = (r.tenant, r.origin);
    gate.run(move |app| async move {
        recovery::request_reset(&app, tenant.as_ref(), &b.email, &origin).await
    })
    .await
    .map_err(in_body(wrapped))?;
    Ok(document::no_content())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reset {
    token: String,
    #[serde(alias = "new_password")]
    password: Password,
}

/// Sets a new password with a reset token (the tenant's password policy
/// applies); 204.
#[utoipa::path(post, path = "/api/v1/account/passwords/reset", tag = JSONAPI,
    description = "`{token, password}` plain, or as the attributes of a document.",
    request_body(content = Input, content_type = "application/vnd.api+json"),
    security(()),
    responses((status = 204, description = "The password is set")))]
pub async fn reset(gate: Data<Gate>, r: Request, body: Body) -> JsonApiResult<HttpResponse> {
    super::query::no_parameters(&r.query)?;
    let (b, wrapped): (Reset, bool) = fields(body.0)?;
    let origin = r.origin;
    gate.run(move |app| async move { recovery::reset(&app, &b.token, b.password, &origin).await })
        .await
        .map_err(in_body(wrapped))?;
    Ok(document::no_content())
}

/// Whether a reset token is usable: the body is a JSON boolean, `true` or
/// `false`.
#[utoipa::path(get, path = "/api/v1/account/passwords/token_valid", tag = JSONAPI,
    security(()),
    params(("token" = String, Query)),
    responses((status = 200, description = "Whether the reset token is usable", content_type = "application/json", body = bool)))]
pub async fn token_valid(gate: Data<Gate>, r: Request) -> JsonApiResult<HttpResponse> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&r.query)
        .map_err(|_| Error::invalid("query", "is not a valid query string"))?;
    let mut token = None;
    for (k, v) in pairs {
        match k.as_str() {
            "token" => token = Some(v),
            _ => {
                return Err(Error::invalid(
                    format!("?{k}"),
                    "is not a parameter of this request (token)",
                )
                .into())
            }
        }
    }
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(Error::invalid("?token", "is required").into());
    };
    let valid = gate
        .run(move |app| async move { recovery::reset_token_valid(&app, &token).await })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(valid))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    #[serde(alias = "currentPassword")]
    current_password: Password,
    #[serde(alias = "newPassword", alias = "password")]
    new_password: Password,
}

/// Changes the signed-in account's password; its other sessions end; 204.
#[utoipa::path(post, path = "/api/v1/account/passwords/change", tag = JSONAPI,
    description = "`{current_password, new_password}` plain, or as the attributes of a document.",
    request_body(content = Input, content_type = "application/vnd.api+json"),
    responses((status = 204, description = "Changed; the account's other sessions end")))]
pub async fn change(gate: Data<Gate>, r: Request, body: Body) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    super::query::no_parameters(&r.query)?;
    let (b, wrapped): (Change, bool) = fields(body.0)?;
    let origin = r.origin;
    gate.run(move |app| async move {
        recovery::change(&app, &caller, b.current_password, b.new_password, &origin).await
    })
    .await
    .map_err(in_body(wrapped))?;
    Ok(document::no_content())
}
