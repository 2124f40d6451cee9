//! Tenants: created, suspended and listed by platform administrators; read
//! and renamed by their own owners.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::passwords::Password;
use super::{audit, App, Gate};
use crate::db::Db;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::list::Listing;
use crate::domain::permission::BuiltinRole;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::settings::TenantSettings;
use crate::domain::tenant::{
    validate_name, validate_slug, Plan, Tenant, TenantQuery, TenantRef, TenantStatus,
};
use crate::domain::user::{
    validate_name_part, AccountFields, Email, PersonName, Preferences, User, UserStatus,
};
use crate::domain::{Error, Problems, Result};
use crate::repo::{self, Locked};
use crate::transaction;

/// The first owner of a new tenant. Without a password the account is
/// created pending (it signs in after an invitation or a reset).
pub struct NewOwner {
    pub email: String,
    pub password: Option<Password>,
    pub first_name: Option<String>,
    pub family_name: Option<String>,
}

pub struct NewTenant {
    pub name: String,
    pub slug: String,
    pub plan: Option<String>,
    pub owner: Option<NewOwner>,
}

/// A validated owner, ready to insert.
pub struct Owner {
    pub user: User,
    pub password_hash: Option<String>,
}

impl Owner {
    /// Builds an owner user for `tenant_id`; `password_hash` is already hashed.
    pub fn new(
        tenant_id: Uuid,
        email: Email,
        name: PersonName,
        password_hash: Option<String>,
        platform_admin: bool,
        now: DateTime<Utc>,
    ) -> Owner {
        let active = password_hash.is_some();
        Owner {
            user: User {
                id: Uuid::now_v7(),
                tenant_id,
                user_name: email.address.clone(),
                external_id: None,
                version: 1,
                email: Some(email.address),
                name,
                phone_number: None,
                status: if active {
                    UserStatus::Active
                } else {
                    UserStatus::Pending
                },
                email_verified: active,
                mfa_enabled: false,
                is_platform_admin: platform_admin,
                preferences: Preferences::default(),
                metadata: Default::default(),
                external_ids: Default::default(),
                last_login_at: None,
                password_changed_at: active.then_some(now),
                created_at: now,
                updated_at: now,
                account: AccountFields {
                    joined_at: active.then_some(now),
                    ..Default::default()
                },
            },
            password_hash,
        }
    }
}

/// Creates a tenant with its built-in roles and, optionally, its first owner.
/// Call inside a transaction.
pub async fn provision(db: &mut Db<'_>, tenant: &Tenant, owner: Option<&Owner>) -> Result<()> {
    repo::tenants::insert(db, tenant).await?;
    let roles = repo::roles::insert_builtin(db, tenant.id, tenant.created_at).await?;
    if let Some(owner) = owner {
        repo::users::insert(db, &owner.user, owner.password_hash.as_deref()).await?;
        let owner_role = roles
            .iter()
            .find(|(r, _)| *r == BuiltinRole::Owner)
            .map(|(_, id)| *id)
            .ok_or_else(|| Error::internal("owner role missing"))?;
        repo::roles::assign(db, owner.user.id, owner_role, tenant.created_at).await?;
    }
    Ok(())
}

pub fn new_tenant(name: String, slug: String, plan: Plan, now: DateTime<Utc>) -> Tenant {
    Tenant {
        id: Uuid::now_v7(),
        name,
        slug,
        plan,
        status: TenantStatus::Active,
        rate_limit_per_minute: None,
        settings: TenantSettings::default(),
        created_at: now,
        updated_at: now,
    }
}

pub async fn create(
    app: &App,
    caller: &Caller,
    input: NewTenant,
    origin: &Origin,
) -> Result<(Tenant, Option<Uuid>)> {
    caller.require_platform_admin()?;
    let mut problems = Problems::default();
    let name = problems.check("name", validate_name(&input.name));
    let slug = problems.check("slug", validate_slug(&input.slug));
    let plan = match &input.plan {
        Some(p) => problems.check("plan", Plan::parse(p)),
        None => Some(Plan::Free),
    };
    let mut owner_parts = None;
    if let Some(owner) = &input.owner {
        let email = problems.check("adminEmail", Email::parse(&owner.email));
        let first = problems.check(
            "adminFirstName",
            validate_name_part(owner.first_name.as_deref().unwrap_or(""), false),
        );
        let family = problems.check(
            "adminLastName",
            validate_name_part(owner.family_name.as_deref().unwrap_or(""), false),
        );
        if let Some(p) = &owner.password {
            problems.check(
                "adminPassword",
                TenantSettings::default().password_policy.check(p.expose()),
            );
        }
        owner_parts = email.zip(first).zip(family);
    }
    problems.into_result()?;
    let (name, slug, plan) = (
        name.unwrap_or_default(),
        slug.unwrap_or_default(),
        plan.unwrap_or(Plan::Free),
    );

    let now = Utc::now();
    let tenant = new_tenant(name, slug, plan, now);
    let owner = match (input.owner, owner_parts) {
        (Some(o), Some(((email, first), family))) => {
            let hash = match &o.password {
                Some(p) => Some(app.passwords.hash(p).await?),
                None => None,
            };
            let name = PersonName {
                first,
                family,
                ..Default::default()
            };
            Some(Owner::new(tenant.id, email, name, hash, false, now))
        }
        _ => None,
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        provision(tx, &tenant, owner.as_ref()).await?;
        let event = AuditEvent::new(
            caller.principal.home_tenant,
            Actor::from(caller),
            "tenant.created",
            origin,
        )
        .target("tenant", tenant.id)
        .details(json!({ "name": tenant.name, "slug": tenant.slug, "plan": tenant.plan.as_str() }));
        audit(tx, event).await?;
        if let Some(o) = &owner {
            let event = AuditEvent::new(tenant.id, Actor::from(caller), "user.created", origin)
                .target("user", o.user.id)
                .details(json!({ "email": o.user.email, "roles": ["owner"] }));
            audit(tx, event).await?;
        }
        Ok(())
    })?;
    Ok((tenant, owner.map(|o| o.user.id)))
}

/// The tenant a request names by id or slug (`X-Tenant-ID`), if it exists.
/// Who may see it is the caller's business.
pub async fn find_named(db: &mut Db<'_>, named: &TenantRef) -> Result<Option<Tenant>> {
    match named {
        TenantRef::Id(id) => repo::tenants::find(db, *id).await,
        TenantRef::Slug(slug) => repo::tenants::find_by_slug(db, slug).await,
    }
}

/// Does `named` name the tenant `id`? A slug costs a lookup.
pub async fn names(app: &App, named: &TenantRef, id: Uuid) -> Result<bool> {
    if let TenantRef::Id(named) = named {
        return Ok(*named == id);
    }
    let mut conn = app.db.get().await?;
    Ok(find_named(&mut conn.db(), named)
        .await?
        .is_some_and(|t| t.id == id))
}

pub async fn list(app: &App, caller: &Caller, query: &TenantQuery) -> Result<Listing<Tenant>> {
    caller.require_platform_admin()?;
    let mut conn = app.db.get().await?;
    repo::tenants::list(&mut conn.db(), query).await
}

/// A tenant the caller may see: any for a platform administrator, else only
/// their own (with `permission`). Others do not exist, as far as they know.
async fn visible(db: &mut Db<'_>, caller: &Caller, id: Uuid, permission: &str) -> Result<Tenant> {
    let own = id == caller.principal.home_tenant;
    if !caller.principal.platform_admin && !own {
        return Err(Error::TenantNotFound);
    }
    let tenant = repo::tenants::find(db, id)
        .await?
        .ok_or(Error::TenantNotFound)?;
    caller.require(permission)?;
    Ok(tenant)
}

pub async fn get(app: &App, caller: &Caller, id: Uuid) -> Result<Tenant> {
    let mut conn = app.db.get().await?;
    visible(&mut conn.db(), caller, id, "tenant:read").await
}

/// The tenant the caller acts on; any authenticated caller may read it.
pub async fn current(app: &App, caller: &Caller) -> Result<Tenant> {
    let mut conn = app.db.get().await?;
    repo::tenants::find(&mut conn.db(), caller.tenant_id)
        .await?
        .ok_or(Error::TenantNotFound)
}

#[derive(Debug, Default)]
pub struct TenantChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub plan: Option<String>,
    /// Some(None) clears the custom limit.
    pub rate_limit_per_minute: Option<Option<i64>>,
}

pub async fn update(
    app: &App,
    caller: &Caller,
    id: Uuid,
    changes: TenantChanges,
    origin: &Origin,
) -> Result<Tenant> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::lock_for_update(tx, Locked::Tenant(id)).await?;
        let mut tenant = visible(tx, caller, id, "tenant:write").await?;
        let platform_only = changes.slug.is_some()
            || changes.plan.is_some()
            || changes.rate_limit_per_minute.is_some();
        if platform_only {
            caller.require_platform_admin().map_err(|_| {
                Error::Forbidden(
                    "Only platform administrators may change a tenant's slug, plan or rate limit"
                        .into(),
                )
            })?;
        }
        let mut problems = Problems::default();
        let mut changed = Vec::new();
        if let Some(name) = problems
            .check(
                "name",
                changes.name.as_deref().map(validate_name).transpose(),
            )
            .flatten()
        {
            tenant.name = name;
            changed.push("name");
        }
        if let Some(slug) = problems
            .check(
                "slug",
                changes.slug.as_deref().map(validate_slug).transpose(),
            )
            .flatten()
        {
            tenant.slug = slug;
            changed.push("slug");
        }
        if let Some(plan) = problems
            .check("plan", changes.plan.as_deref().map(Plan::parse).transpose())
            .flatten()
        {
            tenant.plan = plan;
            changed.push("plan");
        }
        if let Some(limit) = changes.rate_limit_per_minute {
            let checked = match limit {
                None => Ok(None),
                Some(n) if (1..=1_000_000).contains(&n) => Ok(Some(n as i32)),
                Some(_) => Err("must be between 1 and 1000000, or null".to_string()),
            };
            if let Some(v) = problems.check("rateLimitPerMinute", checked) {
                tenant.rate_limit_per_minute = v;
                changed.push("rateLimitPerMinute");
            }
        }
        problems.into_result()?;
        tenant.updated_at = Utc::now();
        repo::tenants::update(tx, &tenant).await?;
        let event = AuditEvent::new(
            caller.principal.home_tenant,
            Actor::from(caller),
            "tenant.updated",
            origin,
        )
        .target("tenant", tenant.id)
        .details(json!({ "changed": changed }));
        audit(tx, event).await?;
        Ok(tenant)
    })
    .inspect(|t| app.limits.forget_tenant(t.id))
}

/// A tenant holding platform administrators can be neither suspended nor
/// deleted: the platform would lose its operators.
async fn refuse_platform_tenant(db: &mut Db<'_>, tenant: &Tenant, what: &str) -> Result<()> {
    if repo::users::count_platform_admins(db, tenant.id).await? > 0 {
        return Err(Error::Conflict {
            field: None,
            message: format!("The tenant of the platform administrators cannot be {what}"),
        });
    }
    Ok(())
}

pub async fn delete(
    app: &App,
    caller: &Caller,
    id: Uuid,
    origin: &Origin,
) -> Result<DateTime<Utc>> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let tenant = visible(tx, caller, id, "tenant:write").await?;
        refuse_platform_tenant(tx, &tenant, "deleted").await?;
        repo::tenants::delete(tx, tenant.id).await?;
        let now = Utc::now();
        // Recorded in the caller's home tenant: the deleted tenant's own log
        // goes with it. A tenant deleting itself leaves this event nowhere
        // but the server log.
        if caller.principal.home_tenant != tenant.id {
            let event = AuditEvent::new(
                caller.principal.home_tenant,
                Actor::from(caller),
                "tenant.deleted",
                origin,
            )
            .target("tenant", tenant.id)
            .details(json!({ "name": tenant.name, "slug": tenant.slug }));
            audit(tx, event).await?;
        }
        log::info!(
            "tenant {} ({}) deleted by {}",
            tenant.id,
            tenant.slug,
            caller.principal.subject
        );
        Ok(now)
    })
}

/// Suspends (logins and tokens of the tenant fail with TENANT_SUSPENDED
/// until reactivated) or reactivates a tenant.
pub async fn set_status(
    app: &App,
    caller: &Caller,
    id: Uuid,
    status: TenantStatus,
    reason: Option<String>,
    origin: &Origin,
) -> Result<Tenant> {
    caller.require_platform_admin()?;
    if let Some(r) = &reason {
        if r.chars().count() > 500 {
            return Err(Error::invalid("reason", "must be at most 500 characters"));
        }
    }
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::lock_for_update(tx, Locked::Tenant(id)).await?;
        let mut tenant = repo::tenants::find(tx, id)
            .await?
            .ok_or(Error::TenantNotFound)?;
        if status == TenantStatus::Suspended {
            refuse_platform_tenant(tx, &tenant, "suspended").await?;
        }
        let action = match status {
            TenantStatus::Suspended => "tenant.suspended",
            TenantStatus::Active => "tenant.reactivated",
        };
        if tenant.status != status {
            tenant.status = status;
            tenant.updated_at = Utc::now();
            repo::tenants::update(tx, &tenant).await?;
            let event = AuditEvent::new(
                caller.principal.home_tenant,
                Actor::from(caller),
                action,
                origin,
            )
            .target("tenant", tenant.id)
            .details(json!({ "reason": reason }));
            audit(tx, event).await?;
        }
        Ok(tenant)
    })
}

/// Requests a minute the tenant's plan allows, remembered briefly (the
/// rate limiter asks on every request). A tenant that no longer exists
/// gets the strictest plan's: its tokens are refused by authentication.
/// Called before any use case, it runs its own query through the gate.
pub async fn rate_limit(gate: &Gate, tenant: Uuid) -> Result<u32> {
    if let Some(limit) = gate.limits().cached_tenant_limit(tenant) {
        return Ok(limit);
    }
    let found = gate
        .run(move |app| async move {
            let mut conn = app.db.get().await?;
            repo::tenants::find(&mut conn.db(), tenant).await
        })
        .await?;
    let limit = found.map(|t| t.effective_rate_limit()).unwrap_or(100);
    gate.limits().remember_tenant_limit(tenant, limit);
    Ok(limit)
}
