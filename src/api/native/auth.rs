//! `/api/v1/auth/*`: login, refresh, logout and the caller's sessions.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::views::SessionView;
use super::{list, message, ok};
use crate::api::extract::{path_id, present, requested_tenant, JsonBody};
use crate::api::query::Query;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::{Error, Problems};
use crate::service::auth::{LoginInput, TokenSet};
use crate::service::passwords::Password;
use crate::service::{auth, sessions, App};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoginBody {
    email: String,
    password: Password,
    #[serde(default, deserialize_with = "present")]
    remember_me: Option<bool>,
}

/// Reference 2.1: the tokens and who they are for.
fn token_response(t: TokenSet) -> HttpResponse {
    let u = &t.user;
    ok(json!({
        "accessToken": t.access_token,
        "refreshToken": t.refresh_token,
        "idToken": t.id_token,
        "tokenType": "Bearer",
        "expiresIn": t.expires_in,
        "user": {
            "id": u.id,
            "tenantId": u.tenant_id,
            "email": u.email,
            "firstName": u.name.first,
            "fatherName": u.name.father,
            "grandfatherName": u.name.grandfather,
            "familyName": u.name.family,
            "displayName": u.name.display(),
            "emailVerified": u.email_verified,
            "roles": t.grants.role_names,
            "permissions": t.grants.permissions.to_vec(),
        }
    }))
}

pub async fn login(
    req: HttpRequest,
    app: Data<App>,
    origin: Origin,
    body: JsonBody<LoginBody>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let mut problems = Problems::default();
    if body.email.trim().is_empty() {
        problems.add("email", "must not be empty");
    }
    if body.password.expose().is_empty() {
        problems.add("password", "must not be empty");
    }
    problems.into_result()?;
    let input = LoginInput {
        email: body.email,
        password: body.password,
        remember_me: body.remember_me.unwrap_or(false),
    };
    let tenant = requested_tenant(&req)?;
    let tokens = app
        .run(move |app| async move { auth::login(&app, tenant, input, &origin).await })
        .await?;
    Ok(token_response(tokens))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RefreshBody {
    refresh_token: String,
}

pub async fn refresh(
    app: Data<App>,
    origin: Origin,
    body: JsonBody<RefreshBody>,
) -> Result<HttpResponse, Error> {
    let token = body.0.refresh_token;
    let tokens = app
        .run(move |app| async move { auth::refresh(&app, &token, &origin).await })
        .await?;
    Ok(token_response(tokens))
}

pub async fn logout(app: Data<App>, caller: Caller, origin: Origin) -> Result<HttpResponse, Error> {
    app.run(move |app| async move { auth::logout(&app, &caller, &origin).await })
        .await?;
    Ok(message("Logged out", json!({})))
}

pub async fn list_sessions(
    req: HttpRequest,
    app: Data<App>,
    caller: Caller,
) -> Result<HttpResponse, Error> {
    let page = Query::paging(req.query_string())?;
    let (_, current) = caller.session()?;
    let listing = app
        .run(move |app| async move { sessions::list_own(&app, &caller, page).await })
        .await?;
    Ok(list(
        "sessions",
        listing.map(|s| SessionView::new(s, current)),
    ))
}

pub async fn revoke_other_sessions(
    app: Data<App>,
    caller: Caller,
    origin: Origin,
) -> Result<HttpResponse, Error> {
    let revoked = app
        .run(move |app| async move { sessions::revoke_others(&app, &caller, &origin).await })
        .await?;
    Ok(message(
        "All other sessions revoked",
        json!({ "data": { "revoked": revoked } }),
    ))
}

pub async fn revoke_session(
    app: Data<App>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Session")?;
    app.run(move |app| async move { sessions::revoke_own(&app, &caller, id, &origin).await })
        .await?;
    Ok(message("Session revoked", json!({})))
}
