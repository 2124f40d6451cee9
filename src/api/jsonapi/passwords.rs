//! `account/passwords` (seed 002): reset by mailed token, token check and
//! change. The bodies are plain JSON objects, or the same fields as the
//! attributes of a resource document.

use actix_web::web::Data;
use actix_web::HttpResponse;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::document::{self, plain_or_attributes};
use super::error::{JsonApiError, JsonApiResult};
use super::{attributes, Body, Request};
use crate::domain::Error;
use crate::service::passwords::Password;
use crate::service::{recovery, App};

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

/// 204 whether or not an account has the email (seed 002).
pub async fn request_reset(app: Data<App>, r: Request, body: Body) -> JsonApiResult<HttpResponse> {
    super::query::no_parameters(&r.query)?;
    let (b, wrapped): (RequestReset, bool) = fields(body.0)?;
    let (tenant, origin) = (r.tenant, r.origin);
    app.run(move |app| async move {
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

/// Sets a new password with a reset token (seed 002: the tenant's policy,
/// seed 002's rules by default); 204.
pub async fn reset(app: Data<App>, r: Request, body: Body) -> JsonApiResult<HttpResponse> {
    super::query::no_parameters(&r.query)?;
    let (b, wrapped): (Reset, bool) = fields(body.0)?;
    let origin = r.origin;
    app.run(move |app| async move { recovery::reset(&app, &b.token, b.password, &origin).await })
        .await
        .map_err(in_body(wrapped))?;
    Ok(document::no_content())
}

/// Whether a reset token is usable: the body is a JSON boolean (seed 002
/// "returns a boolean").
pub async fn token_valid(app: Data<App>, r: Request) -> JsonApiResult<HttpResponse> {
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
    let valid = app
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
pub async fn change(app: Data<App>, r: Request, body: Body) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    super::query::no_parameters(&r.query)?;
    let (b, wrapped): (Change, bool) = fields(body.0)?;
    let origin = r.origin;
    app.run(move |app| async move {
        recovery::change(&app, &caller, b.current_password, b.new_password, &origin).await
    })
    .await
    .map_err(in_body(wrapped))?;
    Ok(document::no_content())
}
