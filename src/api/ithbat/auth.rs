//! `/api/v1/auth/*`: login, refresh, logout and the caller's sessions.

use actix_web::http::header;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::views::SessionPage;
use super::views::SessionView;
use super::{created, list, message, ok};
use crate::api::extract::{body_id, path_id, present, requested_tenant, JsonBody};
use crate::api::openapi::schemas::{AnyObject, Listing, Message, NativeList, Success};
use crate::api::openapi::NATIVE;
use crate::api::query::Query;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::{Error, Problems};
use crate::service::authentication::{LoginInput, SignIn, TokenSet};
use crate::service::passwords::Password;
use crate::service::users::NewUser;
use crate::service::{authentication, recovery, sessions, Gate};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::auth::LoginBody)]
pub struct LoginBody {
    /// The email or the userName, in any case (`userName` is accepted as
    /// the field's name too).
    #[serde(alias = "userName")]
    email: String,
    #[schema(value_type = String)]
    password: Password,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    remember_me: Option<bool>,
}

/// A sign-in's answer (docs/api/ithbat.md, Sign in): the tokens and who
/// they are for.
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

#[utoipa::path(post, path = "/api/v1/auth/login", tag = NATIVE, request_body = LoginBody, security(()),
    params(("X-Tenant-ID" = Option<String>, Header, description = "The tenant to sign in to (its id or slug); `default` when absent")),
    responses((status = 200, description = "Signed in: `{success, data: {accessToken, refreshToken, idToken, tokenType, expiresIn, user}}`; or, for a user with MFA, `{mfaRequired: true, mfaToken}` (then POST /api/v1/auth/mfa/verify)", body = AnyObject,
        example = json!({"success": true, "data": {"accessToken": "eyJ...", "refreshToken": "rt_...", "tokenType": "Bearer", "expiresIn": 3600, "user": {"id": "0190...", "email": "admin@localhost", "roles": ["owner"]}}}))))]
pub async fn login(
    req: HttpRequest,
    gate: Data<Gate>,
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
        identifier: body.email,
        password: body.password,
        remember_me: body.remember_me.unwrap_or(false),
    };
    let tenant = requested_tenant(&req)?;
    let outcome = gate
        .run(move |app| async move {
            authentication::login(&app, tenant.as_ref(), input, &origin).await
        })
        .await?;
    Ok(match outcome {
        SignIn::Complete(tokens) => token_response(*tokens),
        // Not enveloped, and no token but this one (docs/api/ithbat.md,
        // Multi-factor sign-in).
        SignIn::MfaRequired { mfa_token } => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "mfaRequired": true, "mfaToken": mfa_token })),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::auth::RefreshBody)]
pub struct RefreshBody {
    refresh_token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = NATIVE, request_body = RefreshBody, security(()),
    responses((status = 200, description = "New tokens, as a sign-in answers; the refresh token sent is used up", body = Success<AnyObject>)))]
pub async fn refresh(
    gate: Data<Gate>,
    origin: Origin,
    body: JsonBody<RefreshBody>,
) -> Result<HttpResponse, Error> {
    let token = body.0.refresh_token;
    let tokens =
        gate.run(move |app| async move {
            authentication::refresh(&app, &token, None, None, &origin).await
        })
        .await?;
    Ok(token_response(tokens))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = NATIVE,
    responses((status = 200, description = "Signed out: the session and its tokens are revoked", body = Message)))]
pub async fn logout(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
) -> Result<HttpResponse, Error> {
    gate.run(move |app| async move { authentication::logout(&app, &caller, &origin).await })
        .await?;
    Ok(message("Logged out", json!({})))
}

#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = NATIVE, params(NativeList),
    responses((status = 200, description = "The caller's sessions (`isCurrent` marks this one)", body = Listing<SessionPage>)))]
pub async fn list_sessions(
    req: HttpRequest,
    gate: Data<Gate>,
    caller: Caller,
) -> Result<HttpResponse, Error> {
    let page = Query::paging(req.query_string())?;
    let (_, current) = caller.session()?;
    let listing = gate
        .run(move |app| async move { sessions::list_own(&app, &caller, page).await })
        .await?;
    Ok(list(
        "sessions",
        listing.map(|s| SessionView::new(s, current)),
    ))
}

#[utoipa::path(delete, path = "/api/v1/auth/sessions", tag = NATIVE,
    responses((status = 200, description = "Revoked (`data.revoked`: how many)", body = Message)))]
pub async fn revoke_other_sessions(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
) -> Result<HttpResponse, Error> {
    let revoked = gate
        .run(move |app| async move { sessions::revoke_others(&app, &caller, &origin).await })
        .await?;
    Ok(message(
        "All other sessions revoked",
        json!({ "data": { "revoked": revoked } }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = NATIVE,
    responses((status = 200, description = "Revoked", body = Message)))]
pub async fn revoke_session(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Session")?;
    gate.run(move |app| async move { sessions::revoke_own(&app, &caller, id, &origin).await })
        .await?;
    Ok(message("Session revoked", json!({})))
}

// ---- registration, verification and passwords (docs/api/ithbat.md) ----

/// The registration body: the new user's email, password and names, and
/// optionally the tenant's id (`tenantId`, besides `X-Tenant-ID`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::auth::RegisterBody)]
pub struct RegisterBody {
    email: String,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    #[schema(value_type = Option<String>)]
    password: Option<Password>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    father_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    grandfather_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    family_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    tenant_id: Option<String>,
}

/// 201 with the new account's fields, whether the email was free or not (the
/// owner of a taken address is told by mail instead).
#[utoipa::path(post, path = "/api/v1/auth/register", tag = NATIVE, request_body = RegisterBody, security(()),
    responses((status = 201, description = "`{userId, id, email, displayName, tenantId, message}`; the same answer whether or not the address was free", body = Success<AnyObject>)))]
pub async fn register(
    req: HttpRequest,
    gate: Data<Gate>,
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
        email: Some(b.email),
        password: b.password,
        first_name: b.first_name,
        father_name: b.father_name,
        grandfather_name: b.grandfather_name,
        family_name: b.family_name,
        ..Default::default()
    };
    let r = gate
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::auth::TokenBody)]
pub struct TokenBody {
    token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = NATIVE, request_body = TokenBody, security(()),
    responses((status = 200, description = "Verified", body = Message)))]
pub async fn verify_email(
    gate: Data<Gate>,
    origin: Origin,
    body: JsonBody<TokenBody>,
) -> Result<HttpResponse, Error> {
    let token = body.0.token;
    gate.run(move |app| async move { recovery::verify_email(&app, &token, &origin).await })
        .await?;
    Ok(message("Email verified successfully", json!({})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::auth::EmailBody)]
pub struct EmailBody {
    email: String,
}

/// The same answer whether or not an unverified account has the email.
#[utoipa::path(post, path = "/api/v1/auth/resend-verification", tag = NATIVE, request_body = EmailBody, security(()),
    responses((status = 200, description = "The same answer whether or not an unverified account has the address", body = Message)))]
pub async fn resend_verification(
    req: HttpRequest,
    gate: Data<Gate>,
    origin: Origin,
    body: JsonBody<EmailBody>,
) -> Result<HttpResponse, Error> {
    let tenant = requested_tenant(&req)?;
    let email = body.0.email;
    gate.run(move |app| async move {
        recovery::resend_verification(&app, tenant.as_ref(), &email, &origin).await
    })
    .await?;
    Ok(message(
        "If an unverified account has this address, a new verification link is on its way",
        json!({}),
    ))
}

/// The same answer whether or not an account has the email.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/initiate", tag = NATIVE, request_body = EmailBody, security(()),
    responses((status = 200, description = "The same answer whether or not an account has the address", body = Message)))]
pub async fn initiate_password_reset(
    req: HttpRequest,
    gate: Data<Gate>,
    origin: Origin,
    body: JsonBody<EmailBody>,
) -> Result<HttpResponse, Error> {
    let tenant = requested_tenant(&req)?;
    let email = body.0.email;
    gate.run(move |app| async move {
        recovery::request_reset(&app, tenant.as_ref(), &email, &origin).await
    })
    .await?;
    Ok(message(
        "If an account has this address, a password reset link is on its way",
        json!({}),
    ))
}

/// A password reset's completion: the mailed token and the new password.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::auth::CompleteResetBody)]
pub struct CompleteResetBody {
    token: String,
    #[serde(alias = "newPassword", alias = "password")]
    #[schema(value_type = String)]
    new_password: Password,
}

#[utoipa::path(post, path = "/api/v1/auth/password-reset/complete", tag = NATIVE, request_body = CompleteResetBody, security(()),
    responses((status = 200, description = "The password is changed and the other sessions revoked", body = Message)))]
pub async fn complete_password_reset(
    gate: Data<Gate>,
    origin: Origin,
    body: JsonBody<CompleteResetBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    gate.run(
        move |app| async move { recovery::reset(&app, &b.token, b.new_password, &origin).await },
    )
    .await
    .map_err(|e| rename_field(e, "password", "new_password"))?;
    Ok(message("Password reset successfully", json!({})))
}

/// A password change: snake_case fields, as the reset's completion has
/// them (docs/api/ithbat.md, Registration, email verification, passwords).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::auth::ChangePasswordBody)]
pub struct ChangePasswordBody {
    #[schema(value_type = String)]
    current_password: Password,
    #[schema(value_type = String)]
    new_password: Password,
}

#[utoipa::path(post, path = "/api/v1/auth/change-password", tag = NATIVE, request_body = ChangePasswordBody,
    responses((status = 200, description = "Changed", body = Message)))]
pub async fn change_password(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<ChangePasswordBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    gate.run(move |app| async move {
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
