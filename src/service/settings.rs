//! Tenant settings (`settings:read` / `settings:write`): password policy,
//! lockout, session lifetime, invitation redirects; plan and rate limit for
//! platform administrators.

use chrono::Utc;
use serde_json::json;

use super::{audit, App};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::principal::Caller;
use crate::domain::redirect::validate_allow_list;
use crate::domain::session::Origin;
use crate::domain::settings::TenantSettings;
use crate::domain::tenant::{Plan, Tenant};
use crate::domain::{Error, Problems, Result};
use crate::repo::{self, Locked};
use crate::transaction;

pub async fn get(app: &App, caller: &Caller) -> Result<Tenant> {
    caller.require("settings:read")?;
    let mut conn = app.db.get().await?;
    repo::tenants::find(&mut conn.db(), caller.tenant_id)
        .await?
        .ok_or(Error::TenantNotFound)
}

/// Changes to settings; None leaves a value as it is.
#[derive(Debug, Default)]
pub struct SettingsChanges {
    pub min_length: Option<u32>,
    pub require_uppercase: Option<bool>,
    pub require_lowercase: Option<bool>,
    pub require_digit: Option<bool>,
    pub require_special: Option<bool>,
    pub max_failed_attempts: Option<u32>,
    pub window_minutes: Option<u32>,
    pub lock_minutes: Option<u32>,
    pub session_lifetime_minutes: Option<u32>,
    pub remember_me_days: Option<u32>,
    pub require_email_verification: Option<bool>,
    pub allow_registration: Option<bool>,
    /// The whole allow-list of invitation redirects (replaced, not merged).
    pub redirect_urls: Option<Vec<String>>,
    /// Platform administrators only.
    pub plan: Option<String>,
    /// Platform administrators only; Some(None) returns to the plan's default.
    pub rate_limit_per_minute: Option<Option<i64>>,
}

fn ranged(
    problems: &mut Problems,
    field: &str,
    value: Option<u32>,
    range: std::ops::RangeInclusive<u32>,
    slot: &mut u32,
) {
    if let Some(v) = value {
        if range.contains(&v) {
            *slot = v;
        } else {
            problems.add(
                field,
                format!("must be from {} to {}", range.start(), range.end()),
            );
        }
    }
}

fn apply(settings: &mut TenantSettings, c: &SettingsChanges) -> Result<()> {
    let mut p = Problems::default();
    let policy = &mut settings.password_policy;
    // Eight characters is the floor whatever a tenant chooses (OWASP, NIST 800-63B).
    ranged(
        &mut p,
        "passwordPolicy.minLength",
        c.min_length,
        8..=128,
        &mut policy.min_length,
    );
    for (value, slot) in [
        (c.require_uppercase, &mut policy.require_uppercase),
        (c.require_lowercase, &mut policy.require_lowercase),
        (c.require_digit, &mut policy.require_digit),
        (c.require_special, &mut policy.require_special),
    ] {
        if let Some(v) = value {
            *slot = v;
        }
    }
    let lockout = &mut settings.lockout;
    ranged(
        &mut p,
        "lockout.maxFailedAttempts",
        c.max_failed_attempts,
        1..=100,
        &mut lockout.max_failed_attempts,
    );
    ranged(
        &mut p,
        "lockout.windowMinutes",
        c.window_minutes,
        1..=1440,
        &mut lockout.window_minutes,
    );
    ranged(
        &mut p,
        "lockout.lockMinutes",
        c.lock_minutes,
        1..=10080,
        &mut lockout.lock_minutes,
    );
    let sessions = &mut settings.sessions;
    ranged(
        &mut p,
        "sessions.lifetimeMinutes",
        c.session_lifetime_minutes,
        5..=525_600,
        &mut sessions.lifetime_minutes,
    );
    ranged(
        &mut p,
        "sessions.rememberMeDays",
        c.remember_me_days,
        1..=365,
        &mut sessions.remember_me_days,
    );
    if let Some(v) = c.require_email_verification {
        settings.require_email_verification = v;
    }
    if let Some(v) = c.allow_registration {
        settings.allow_registration = v;
    }
    if let Some(urls) = &c.redirect_urls {
        if let Some(list) = p.check("redirectUrls", validate_allow_list(urls)) {
            settings.redirect_urls = list;
        }
    }
    p.into_result()
}

pub async fn update(
    app: &App,
    caller: &Caller,
    changes: SettingsChanges,
    origin: &Origin,
) -> Result<Tenant> {
    caller.require("settings:write")?;
    if changes.plan.is_some() || changes.rate_limit_per_minute.is_some() {
        caller.require_platform_admin().map_err(|_| {
            Error::Forbidden(
                "Only platform administrators may change the plan or the rate limit".into(),
            )
        })?;
    }
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::lock_for_update(tx, Locked::Tenant(caller.tenant_id)).await?;
        let mut tenant = repo::tenants::find(tx, caller.tenant_id)
            .await?
            .ok_or(Error::TenantNotFound)?;
        let before = tenant.settings.clone();
        apply(&mut tenant.settings, &changes)?;
        let mut problems = Problems::default();
        if let Some(plan) = problems
            .check("plan", changes.plan.as_deref().map(Plan::parse).transpose())
            .flatten()
        {
            tenant.plan = plan;
        }
        if let Some(limit) = changes.rate_limit_per_minute {
            let checked = match limit {
                None => Ok(None),
                Some(n) if (1..=1_000_000).contains(&n) => Ok(Some(n as i32)),
                Some(_) => Err("must be from 1 to 1000000, or null".to_string()),
            };
            if let Some(v) = problems.check("rateLimitPerMinute", checked) {
                tenant.rate_limit_per_minute = v;
            }
        }
        problems.into_result()?;
        tenant.updated_at = Utc::now();
        repo::tenants::update(tx, &tenant).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "settings.updated",
            origin,
        )
        .target("tenant", tenant.id)
        .details(json!({
            "before": before,
            "after": tenant.settings,
            "plan": tenant.plan.as_str(),
            "rateLimitPerMinute": tenant.rate_limit_per_minute,
        }));
        audit(tx, event).await?;
        Ok(tenant)
    })
    .inspect(|t| app.limits.forget_tenant(t.id))
}
