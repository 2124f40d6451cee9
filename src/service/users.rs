//! Users: self-service profile (seed 001 /users/me).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{audit, App};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::user::{
    email_key, validate_name_part, validate_phone, PersonName, Preferences, User,
};
use crate::domain::{Error, Problems, Result};
use crate::repo;
use crate::repo::roles::Grants;
use crate::transaction;

/// A user with what the API shows beside the row: role names and lockout.
pub struct UserDetails {
    pub user: User,
    pub grants: Grants,
    pub locked_until: Option<DateTime<Utc>>,
}

async fn details(db: &mut crate::db::Db<'_>, user: User) -> Result<UserDetails> {
    let grants = repo::roles::grants_for_user(db, user.id).await?;
    let locked_until =
        repo::throttle::locked_until(db, user.tenant_id, &email_key(&user.email), Utc::now())
            .await?;
    Ok(UserDetails {
        user,
        grants,
        locked_until,
    })
}

pub async fn me(app: &App, caller: &Caller) -> Result<UserDetails> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = repo::users::find(db, caller.principal.home_tenant, caller.user_id())
        .await?
        .ok_or(Error::NotFound("User"))?;
    details(db, user).await
}

/// Changes to a profile; None leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProfileChanges {
    /// Seed 000's single name, split into first and family name.
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub father_name: Option<String>,
    pub grandfather_name: Option<String>,
    pub family_name: Option<String>,
    /// Some(None) clears the number.
    pub phone_number: Option<Option<String>>,
    pub theme: Option<String>,
    pub language: Option<String>,
    pub timezone: Option<String>,
}

/// A settable string field: its API name, the new value if any, and where it lives.
type Slot<T> = (&'static str, Option<String>, fn(&mut T) -> &mut String);

/// Applies `changes` to a name and preferences, validating every field.
/// Returns the names of the fields that changed.
fn apply(user: &mut User, changes: ProfileChanges) -> Result<Vec<&'static str>> {
    let mut problems = Problems::default();
    let before = (
        user.name.clone(),
        user.phone_number.clone(),
        user.preferences.clone(),
    );
    if let Some(full) = &changes.name {
        match validate_name_part(full, true) {
            Ok(full) => {
                let (first, family) = PersonName::split_full(&full);
                user.name.first = first;
                user.name.family = family;
            }
            Err(e) => problems.add("name", e),
        }
    }
    let parts: [(Slot<PersonName>, bool); 4] = [
        (("firstName", changes.first_name, |n| &mut n.first), true),
        (
            ("fatherName", changes.father_name, |n| &mut n.father),
            false,
        ),
        (
            ("grandfatherName", changes.grandfather_name, |n| {
                &mut n.grandfather
            }),
            false,
        ),
        (("familyName", changes.family_name, |n| &mut n.family), true),
    ];
    for ((field, value, slot), required) in parts {
        if let Some(value) = value {
            if let Some(v) = problems.check(field, validate_name_part(&value, required)) {
                *slot(&mut user.name) = v;
            }
        }
    }
    match changes.phone_number {
        Some(Some(p)) => {
            if let Some(p) = problems.check("phoneNumber", validate_phone(&p)) {
                user.phone_number = Some(p);
            }
        }
        Some(None) => user.phone_number = None,
        None => {}
    }
    let prefs: [Slot<Preferences>; 3] = [
        ("preferences.theme", changes.theme, |p| &mut p.theme),
        ("preferences.language", changes.language, |p| {
            &mut p.language
        }),
        ("preferences.timezone", changes.timezone, |p| {
            &mut p.timezone
        }),
    ];
    for (field, value, slot) in prefs {
        if let Some(value) = value {
            let checked = if value.trim().is_empty()
                || value.chars().count() > 64
                || value.chars().any(char::is_control)
            {
                Err("must be 1 to 64 printable characters".to_string())
            } else {
                Ok(value.trim().to_string())
            };
            if let Some(v) = problems.check(field, checked) {
                *slot(&mut user.preferences) = v;
            }
        }
    }
    problems.into_result()?;
    let mut changed = Vec::new();
    if user.name != before.0 {
        changed.push("name");
    }
    if user.phone_number != before.1 {
        changed.push("phoneNumber");
    }
    if user.preferences != before.2 {
        changed.push("preferences");
    }
    Ok(changed)
}

pub async fn update_me(
    app: &App,
    caller: &Caller,
    changes: ProfileChanges,
    origin: &Origin,
) -> Result<UserDetails> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let tenant_id = caller.principal.home_tenant;
    transaction!(db, |tx| {
        let mut user = repo::users::find(tx, tenant_id, caller.user_id())
            .await?
            .ok_or(Error::NotFound("User"))?;
        let changed = apply(&mut user, changes)?;
        if !changed.is_empty() {
            user.updated_at = Utc::now();
            repo::users::update_profile(tx, &user).await?;
            let event = AuditEvent::new(tenant_id, Actor::from(caller), "user.updated", origin)
                .target("user", user.id)
                .details(json!({ "changed": changed }));
            audit(tx, event).await?;
        }
        details(tx, user).await
    })
}

/// `ithbat reset-password`: a new random password for a user, set from the
/// command line (for a lost administrator password). Unlocks the account
/// and ends its sessions.
pub async fn reset_password_offline(
    config: &crate::config::Config,
    tenant_slug: &str,
    email: &str,
) -> Result<String> {
    use super::passwords::{generate_password, Password, Passwords};
    let pool = crate::db::Pool::connect(&config.database_url, 1).await?;
    let passwords = Passwords::new(config.hash_cost, 1).map_err(Error::internal)?;
    let mut conn = pool.get().await?;
    let db = &mut conn.db();
    let tenant = repo::tenants::find_by_slug(db, tenant_slug)
        .await?
        .ok_or(Error::TenantNotFound)?;
    let key = email_key(email);
    let (user, _) = repo::users::find_for_login(db, tenant.id, &key)
        .await?
        .ok_or(Error::NotFound("User"))?;
    let password = generate_password();
    let hash = passwords.hash(&Password::new(password.clone())).await?;
    let now = Utc::now();
    transaction!(db, |tx| {
        repo::users::set_password_hash(tx, user.id, &hash, now).await?;
        repo::throttle::clear(tx, tenant.id, &key).await?;
        repo::sessions::revoke_all(tx, user.id, None, now).await?;
        let event = AuditEvent::new(
            tenant.id,
            Actor::System,
            "user.password_reset",
            &Origin::default(),
        )
        .target("user", user.id)
        .details(json!({ "via": "command line" }));
        audit(tx, event).await
    })?;
    Ok(password)
}
