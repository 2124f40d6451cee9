//! `/api/v1/auth/*`: login, refresh, logout and the caller's sessions.

use actix_web::http::header;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::views::SessionView;
use super::{created, list, message, ok};
use crate::api::extract::{body_id, path_id, present, requested_tenant, JsonBody};
use crate::api::query::Query;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::{Error, Problems};
use crate::service::authentication::{LoginInput, SignIn, TokenSet};
use crate::service::passwords::Password;
use crate::service::users::NewUser;
use crate::service::{authentication, recovery, sessions, App};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoginBody {
    email: String,
    password: Password,
    #[serde(default, deserialize_with = "present")]
    remember_me: Option<bool>,
}

/// Reference 2.1: the tokens and who they are for.
pub(crate) fn token_response(t: TokenSet) -> HttpResponse {
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
    let outcome = app
        .run(move |app| async move {
            authentication::login(&app, tenant.as_ref(), input, &origin).await
        })
        .await?;
    Ok(match outcome {
        SignIn::Complete(tokens) => token_response(*tokens),
        // Reference 2.1 and 2.7: not enveloped, and no token but this one.
        SignIn::MfaRequired { mfa_token } => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "mfaRequired": true, "mfaToken": mfa_token })),
    })
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
    let tokens =
        app.run(move |app| async move {
            authentication::refresh(&app, &token, None, None, &origin).await
        })
        .await?;
    Ok(token_response(tokens))
}

pub async fn logout(app: Data<App>, caller: Caller, origin: Origin) -> Result<HttpResponse, Error> {
    app.run(move |app| async move { authentication::logout(&app, &caller, &origin).await })
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

// ---- registration, verification and passwords (reference 2.2, 2.3, 2.5) ----

/// Reference 2.2's register body (the guide's fields, the SDK's `tenantId`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegisterBody {
    email: String,
    #[serde(default, deserialize_with = "present")]
    password: Option<Password>,
    #[serde(default, deserialize_with = "present")]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    father_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    grandfather_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    family_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    tenant_id: Option<String>,
}

/// 201 with the guide's fields, whether the email was free or not (the
/// owner of a taken address is told by mail instead).
pub async fn register(
    req: HttpRequest,
    app: Data<App>,
    origin: Origin,
    body: JsonBody<RegisterBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let header = requested_tenant(&req)?;
    let in_body = b
        .tenant_id
        .as_deref()
        .map(|t| body_id("tenantId", t))
        .transpose()?;
    let input = NewUser {
        email: b.email,
        password: b.password,
        first_name: b.first_name,
        father_name: b.father_name,
        grandfather_name: b.grandfather_name,
        family_name: b.family_name,
        ..Default::default()
    };
    let r = app
        .run(move |app| async move {
            recovery::register(&app, header.as_ref(), in_body, input, &origin).await
        })
        .await?;
    Ok(created(json!({
        "userId": r.user_id,
        "id": r.user_id,
        "email": r.email,
        "displayName": r.display_name,
        "tenantId": r.tenant_id,
        "message": "Registration successful. Please check your email to verify your account.",
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

pub async fn verify_email(
    app: Data<App>,
    origin: Origin,
    body: JsonBody<TokenBody>,
) -> Result<HttpResponse, Error> {
    let token = body.0.token;
    app.run(move |app| async move { recovery::verify_email(&app, &token, &origin).await })
        .await?;
    Ok(message("Email verified successfully", json!({})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    email: String,
}

/// The same answer whether or not an unverified account has the email.
pub async fn resend_verification(
    req: HttpRequest,
    app: Data<App>,
    origin: Origin,
    body: JsonBody<EmailBody>,
) -> Result<HttpResponse, Error> {
    let tenant = requested_tenant(&req)?;
    let email = body.0.email;
    app.run(move |app| async move {
        recovery::resend_verification(&app, tenant.as_ref(), &email, &origin).await
    })
    .await?;
    Ok(message(
        "If an unverified account has this address, a new verification link is on its way",
        json!({}),
    ))
}

/// The same answer whether or not an account has the email.
pub async fn initiate_password_reset(
    req: HttpRequest,
    app: Data<App>,
    origin: Origin,
    body: JsonBody<EmailBody>,
) -> Result<HttpResponse, Error> {
    let tenant = requested_tenant(&req)?;
    let email = body.0.email;
    app.run(move |app| async move {
        recovery::request_reset(&app, tenant.as_ref(), &email, &origin).await
    })
    .await?;
    Ok(message(
        "If an account has this address, a password reset link is on its way",
        json!({}),
    ))
}

/// The completion the reference could not show: the mailed token and the
/// new password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteResetBody {
    token: String,
    #[serde(alias = "newPassword", alias = "password")]
    new_password: Password,
}

pub async fn complete_password_reset(
    app: Data<App>,
    origin: Origin,
    body: JsonBody<CompleteResetBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    app.run(
        move |app| async move { recovery::reset(&app, &b.token, b.new_password, &origin).await },
    )
    .await
    .map_err(|e| rename_field(e, "password", "new_password"))?;
    Ok(message("Password reset successfully", json!({})))
}

/// Reference 2.5: snake_case fields (the API refused the SDK's camelCase).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    current_password: Password,
    new_password: Password,
}

pub async fn change_password(
    app: Data<App>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<ChangePasswordBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    app.run(move |app| async move {
        recovery::change(&app, &caller, b.current_password, b.new_password, &origin).await
    })
    .await?;
    Ok(message("Password changed successfully", json!({})))
}

/// Names a field as this endpoint's body calls it.
fn rename_field(e: Error, from: &str, to: &str) -> Error {
    match e {
        Error::Validation(fields) => Error::Validation(
            fields
                .into_iter()
                .map(|mut f| {
                    if f.field == from {
                        f.field = to.to_string();
                    }
                    f
                })
                .collect(),
        ),
        other => other,
    }
}
