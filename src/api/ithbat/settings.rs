//! `/api/v1/settings`: the tenant's password policy, lockout and sessions
//! (`settings:read`/`settings:write`), plan and rate limit (platform
//! administrators).

use actix_web::web::Data;
use actix_web::HttpResponse;
use serde::Deserialize;

use super::ok;
use super::views::SettingsView;
use crate::api::extract::{nullable, present, JsonBody};
use crate::api::openapi::schemas::Success;
use crate::api::openapi::NATIVE;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::settings::SettingsChanges;
use crate::service::{settings, Gate};

#[utoipa::path(get, path = "/api/v1/settings", tag = NATIVE,
    responses((status = 200, description = "The caller's tenant's settings", body = Success<SettingsView>)))]
pub async fn show(gate: Data<Gate>, caller: Caller) -> Result<HttpResponse, Error> {
    let tenant = gate
        .run(move |app| async move { settings::get(&app, &caller).await })
        .await?;
    Ok(ok(SettingsView::from(tenant)))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::settings::PolicyBody)]
pub struct PolicyBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    min_length: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    require_uppercase: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    require_lowercase: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    require_digit: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    require_special: Option<bool>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::settings::LockoutBody)]
pub struct LockoutBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    max_failed_attempts: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    window_minutes: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    lock_minutes: Option<u32>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::settings::SessionsBody)]
pub struct SessionsBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    lifetime_minutes: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    remember_me_days: Option<u32>,
}

/// The shape GET returns; every part optional.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::settings::UpdateBody)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    password_policy: Option<PolicyBody>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    lockout: Option<LockoutBody>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    sessions: Option<SessionsBody>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    require_email_verification: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    allow_registration: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    redirect_urls: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    plan: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    rate_limit_per_minute: Option<Option<i64>>,
}

#[utoipa::path(put, path = "/api/v1/settings", tag = NATIVE, request_body = UpdateBody,
    responses((status = 200, description = "The settings after the change", body = Success<SettingsView>)))]
pub async fn update(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<UpdateBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let (policy, lockout, sessions) = (
        b.password_policy.unwrap_or_default(),
        b.lockout.unwrap_or_default(),
        b.sessions.unwrap_or_default(),
    );
    let changes = SettingsChanges {
        min_length: policy.min_length,
        require_uppercase: policy.require_uppercase,
        require_lowercase: policy.require_lowercase,
        require_digit: policy.require_digit,
        require_special: policy.require_special,
        max_failed_attempts: lockout.max_failed_attempts,
        window_minutes: lockout.window_minutes,
        lock_minutes: lockout.lock_minutes,
        session_lifetime_minutes: sessions.lifetime_minutes,
        remember_me_days: sessions.remember_me_days,
        require_email_verification: b.require_email_verification,
        allow_registration: b.allow_registration,
        redirect_urls: b.redirect_urls,
        plan: b.plan,
        rate_limit_per_minute: b.rate_limit_per_minute,
    };
    let tenant = gate
        .run(move |app| async move { settings::update(&app, &caller, changes, &origin).await })
        .await?;
    Ok(ok(SettingsView::from(tenant)))
}
