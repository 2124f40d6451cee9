//! First start: on an empty database, the tenant `default` and a platform
//! administrator (docs/deployment.md, One instance).

use chrono::Utc;
use serde_json::json;

use super::passwords::{generate_password, Password};
use super::tenants::{new_tenant, provision, Owner};
use super::{audit, App};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::session::Origin;
use crate::domain::settings::PasswordPolicy;
use crate::domain::tenant::{Plan, DEFAULT_TENANT_SLUG};
use crate::domain::user::{Email, PersonName};
use crate::domain::{Error, Result};
use crate::repo;
use crate::transaction;

pub const DEFAULT_ADMIN_EMAIL: &str = "admin@localhost";

/// Creates the default tenant and its platform administrator if there are
/// no tenants yet. Returns the generated password when one was made up
/// (it is logged once, here, and never again).
pub async fn run(app: &App) -> Result<Option<String>> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    if repo::tenants::count(db).await? > 0 {
        return Ok(None);
    }
    let config = &app.config;
    let email_input = config.admin_email.as_deref().unwrap_or(DEFAULT_ADMIN_EMAIL);
    let email = Email::parse(email_input).map_err(|e| Error::invalid("ITHBAT_ADMIN_EMAIL", e))?;
    let (password, generated) = match &config.admin_password {
        Some(p) => {
            PasswordPolicy::default()
                .check(p)
                .map_err(|e| Error::invalid("ITHBAT_ADMIN_PASSWORD", e))?;
            (p.clone(), false)
        }
        None => (generate_password(), true),
    };
    let hash = app.passwords.hash(&Password::new(password.clone())).await?;
    let now = Utc::now();
    let tenant = new_tenant(
        "Default".into(),
        DEFAULT_TENANT_SLUG.into(),
        Plan::Enterprise,
        now,
    );
    let name = PersonName {
        first: "Platform".into(),
        family: "Administrator".into(),
        ..Default::default()
    };
    let owner = Owner::new(tenant.id, email, name, Some(hash), true, now);
    let created = transaction!(db, |tx| {
        // Another instance may have bootstrapped meanwhile.
        if repo::tenants::count(tx).await? > 0 {
            return Ok(false);
        }
        provision(tx, &tenant, Some(&owner)).await?;
        let event = AuditEvent::new(
            tenant.id,
            Actor::System {
                label: "first start",
            },
            "tenant.created",
            &Origin::default(),
        )
        .target("tenant", tenant.id)
        .details(json!({ "bootstrap": true, "admin": owner.user.email }));
        audit(tx, event).await?;
        Ok(true)
    })?;
    if !created {
        return Ok(None);
    }
    log::info!(
        "first start: created tenant '{DEFAULT_TENANT_SLUG}' ({}) and platform administrator {}",
        tenant.id,
        owner.user.label()
    );
    if generated {
        log::warn!(
            "generated password for {}: {password}  (shown once; set ITHBAT_ADMIN_PASSWORD to choose it)",
            owner.user.label()
        );
        Ok(Some(password))
    } else {
        Ok(None)
    }
}
