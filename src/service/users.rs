//! Users: self-service (seed 001 /users/me) and administration (seeds 000
//! and 001 /users), lifecycle, roles, metadata and bulk creation.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::passwords::Password;
use super::{audit, App};
use crate::db::Db;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::list::{Listing, PageRequest};
use crate::domain::permission::{BuiltinRole, Permissions};
use crate::domain::principal::Caller;
use crate::domain::session::{Origin, Session};
use crate::domain::user::{
    email_key, merge_metadata, validate_name_part, validate_phone, Email, PersonName, Preferences,
    User, UserStatus, MAX_METADATA_BYTES,
};
use crate::domain::{Error, FieldError, Problems, Result};
use crate::repo;
use crate::repo::roles::Grants;
use crate::repo::users::UserQuery;
use crate::transaction;

/// A user as the API shows it: the row, role names and lockout.
pub struct UserDetails {
    pub user: User,
    pub roles: Vec<String>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Role names and locks for many users, in two queries.
async fn details_of(db: &mut Db<'_>, users: Vec<User>) -> Result<Vec<UserDetails>> {
    let Some(tenant_id) = users.first().map(|u| u.tenant_id) else {
        return Ok(Vec::new());
    };
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let keys: Vec<String> = users.iter().map(|u| email_key(&u.email)).collect();
    let mut roles = repo::roles::names_for_users(db, &ids).await?;
    let locks = repo::throttle::locks(db, tenant_id, &keys, Utc::now()).await?;
    Ok(users
        .into_iter()
        .map(|user| UserDetails {
            roles: roles.remove(&user.id).unwrap_or_default(),
            locked_until: locks.get(&email_key(&user.email)).copied(),
            user,
        })
        .collect())
}

async fn details(db: &mut Db<'_>, user: User) -> Result<UserDetails> {
    details_of(db, vec![user])
        .await?
        .pop()
        .ok_or_else(|| Error::internal("user vanished"))
}

// ---- self-service ----

pub async fn me(app: &App, caller: &Caller) -> Result<UserDetails> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let (me, _) = caller.session()?;
    let user = repo::users::find(db, caller.principal.home_tenant, me)
        .await?
        .ok_or(Error::NotFound("User"))?;
    details(db, user).await
}

/// Changes to a profile; None leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProfileChanges {
    /// Administrators only.
    pub email: Option<String>,
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

/// Applies `changes` to a user, validating every field; returns the API
/// names of the fields that changed. Nothing is applied unless all are valid.
fn apply(user: &mut User, changes: ProfileChanges) -> Result<Vec<&'static str>> {
    let mut problems = Problems::default();
    let mut next = user.clone();
    if let Some(email) = &changes.email {
        if let Some(email) = problems.check("email", Email::parse(email)) {
            if email.key != email_key(&next.email) {
                // A new address is not verified by the old one's verification.
                next.email_verified = false;
            }
            next.email = email.address;
        }
    }
    if let Some(full) = &changes.name {
        if let Some(full) = problems.check("name", validate_name_part(full, true)) {
            let (first, family) = PersonName::split_full(&full);
            next.name.first = first;
            next.name.family = family;
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
                *slot(&mut next.name) = v;
            }
        }
    }
    match changes.phone_number {
        Some(Some(p)) => next.phone_number = problems.check("phoneNumber", validate_phone(&p)),
        Some(None) => next.phone_number = None,
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
                *slot(&mut next.preferences) = v;
            }
        }
    }
    problems.into_result()?;
    let mut changed = Vec::new();
    if next.email != user.email {
        changed.push("email");
    }
    if next.name != user.name {
        changed.push("name");
    }
    if next.phone_number != user.phone_number {
        changed.push("phoneNumber");
    }
    if next.preferences != user.preferences {
        changed.push("preferences");
    }
    *user = next;
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
        let (me, _) = caller.session()?;
        let mut user = repo::users::find(tx, tenant_id, me)
            .await?
            .ok_or(Error::NotFound("User"))?;
        save_changes(tx, caller, tenant_id, &mut user, changes, origin).await?;
        details(tx, user).await
    })
}

/// Applies and stores profile changes, auditing what changed.
async fn save_changes(
    db: &mut Db<'_>,
    caller: &Caller,
    tenant_id: Uuid,
    user: &mut User,
    changes: ProfileChanges,
    origin: &Origin,
) -> Result<()> {
    let changed = apply(user, changes)?;
    if changed.is_empty() {
        return Ok(());
    }
    user.updated_at = Utc::now();
    repo::users::update(db, user).await?;
    let event = AuditEvent::new(tenant_id, Actor::from(caller), "user.updated", origin)
        .target("user", user.id)
        .details(json!({ "changed": changed }));
    audit(db, event).await
}

// ---- administration ----

/// A user of the caller's tenant that the caller may manage: platform
/// administrators are managed only by platform administrators, and no one
/// manages a user holding permissions they lack themselves.
pub(crate) async fn managed(db: &mut Db<'_>, caller: &Caller, id: Uuid) -> Result<(User, Grants)> {
    let user = repo::users::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    if user.is_platform_admin && !caller.principal.platform_admin {
        return Err(Error::Forbidden(
            "Platform administrators are managed by platform administrators only".into(),
        ));
    }
    let grants = repo::roles::grants_for_user(db, user.id).await?;
    if !caller.is_provisioner() {
        caller.require_superset(&grants.permissions, "manage this user")?;
    }
    Ok((user, grants))
}

fn refuse_self(caller: &Caller, user: &User, what: &str) -> Result<()> {
    if caller.is_user(user.id) {
        return Err(Error::Conflict {
            field: None,
            message: format!("You cannot {what} yourself"),
        });
    }
    Ok(())
}

/// A tenant keeps at least one active owner: refuses to take the last one
/// away (by suspension, deletion or role removal).
pub(crate) async fn keep_an_owner(db: &mut Db<'_>, user: &User, grants: &Grants) -> Result<()> {
    if !grants
        .role_names
        .iter()
        .any(|r| r == BuiltinRole::Owner.key())
    {
        return Ok(());
    }
    let owner = repo::roles::find_builtin(db, user.tenant_id, BuiltinRole::Owner).await?;
    if repo::roles::active_holders_except(db, owner, user.id).await? == 0 {
        return Err(Error::Conflict {
            field: None,
            message: "This is the tenant's last active owner".into(),
        });
    }
    Ok(())
}

pub async fn list(
    app: &App,
    caller: &Caller,
    query: UserQuery<'_>,
) -> Result<Listing<UserDetails>> {
    caller.require("user:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let query = UserQuery {
        tenant_id: caller.tenant_id,
        ..query
    };
    if let Some(role) = query.role_id {
        // Another tenant's role filters nothing in: report it as unknown.
        repo::roles::find(db, caller.tenant_id, role)
            .await?
            .ok_or_else(|| Error::invalid("roleId", "is not a role of this tenant"))?;
    }
    let listing = repo::users::list(db, &query).await?;
    let items = details_of(db, listing.items).await?;
    Ok(Listing {
        items,
        total: listing.total,
        page: listing.page,
    })
}

pub async fn get(app: &App, caller: &Caller, id: Uuid) -> Result<UserDetails> {
    caller.require("user:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = repo::users::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    details(db, user).await
}

/// A user to create (seed 001 CreateUserRequest, with seed 000's `name` and
/// `phoneNumber`).
#[derive(Debug, Default, Clone)]
pub struct NewUser {
    pub email: String,
    pub first_name: Option<String>,
    pub father_name: Option<String>,
    pub grandfather_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub password: Option<Password>,
    pub skip_email_verification: bool,
}

/// Validates a new user into a User row (and the password to hash), or the
/// field errors.
fn validate_new(
    tenant: &crate::domain::tenant::Tenant,
    input: &NewUser,
    now: DateTime<Utc>,
) -> std::result::Result<(User, Option<Password>), Vec<FieldError>> {
    let mut problems = Problems::default();
    let email = problems.check("email", Email::parse(&input.email));
    let (first, family) = match (&input.first_name, &input.family_name, &input.name) {
        (None, None, Some(full)) => match validate_name_part(full, true) {
            Ok(full) => PersonName::split_full(&full),
            Err(e) => {
                problems.add("name", e);
                Default::default()
            }
        },
        (first, family, _) => {
            let mut required = |field: &str, v: &Option<String>| match v {
                Some(v) => problems
                    .check(field, validate_name_part(v, true))
                    .unwrap_or_default(),
                None => {
                    problems.add(field, "is required");
                    String::new()
                }
            };
            (required("firstName", first), required("familyName", family))
        }
    };
    let mut optional = |field: &str, v: &Option<String>| {
        v.as_deref()
            .and_then(|v| problems.check(field, validate_name_part(v, false)))
            .unwrap_or_default()
    };
    let father = optional("fatherName", &input.father_name);
    let grandfather = optional("grandfatherName", &input.grandfather_name);
    let phone = input
        .phone_number
        .as_deref()
        .and_then(|p| problems.check("phoneNumber", validate_phone(p)));
    if let Some(p) = &input.password {
        problems.check(
            "password",
            tenant.settings.password_policy.check(p.expose()),
        );
    }
    if let Err(Error::Validation(fields)) = problems.into_result() {
        return Err(fields);
    }
    let email = email.expect("validated");
    let user = User {
        id: Uuid::now_v7(),
        tenant_id: tenant.id,
        user_name: email.address.clone(),
        external_id: None,
        version: 1,
        email: email.address,
        name: PersonName {
            first,
            father,
            grandfather,
            family,
        },
        phone_number: phone,
        status: UserStatus::Active,
        email_verified: input.skip_email_verification,
        mfa_enabled: false,
        is_platform_admin: false,
        preferences: Preferences::default(),
        metadata: Default::default(),
        external_ids: Default::default(),
        last_login_at: None,
        password_changed_at: input.password.as_ref().map(|_| now),
        created_at: now,
        updated_at: now,
    };
    Ok((user, input.password.clone()))
}

async fn caller_tenant(db: &mut Db<'_>, caller: &Caller) -> Result<crate::domain::tenant::Tenant> {
    repo::tenants::find(db, caller.tenant_id)
        .await?
        .ok_or(Error::TenantNotFound)
}

/// Creates one user with the `member` role. Without a password the account
/// has none (as if given a random one never disclosed): it signs in after a
/// reset or an invitation sets one.
pub async fn create(
    app: &App,
    caller: &Caller,
    input: NewUser,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let tenant = {
        let mut conn = app.db.get().await?;
        caller_tenant(&mut conn.db(), caller).await?
    };
    let now = Utc::now();
    let (user, password) = validate_new(&tenant, &input, now).map_err(Error::Validation)?;
    let hash = match &password {
        Some(p) => Some(app.passwords.hash(p).await?),
        None => None,
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::users::insert(tx, &user, hash.as_deref()).await?;
        let member = repo::roles::find_builtin(tx, tenant.id, BuiltinRole::Member).await?;
        repo::roles::assign(tx, user.id, member, now).await?;
        audit(tx, created_event(caller, &user, origin)).await?;
        details(tx, user).await
    })
}

fn created_event(caller: &Caller, user: &User, origin: &Origin) -> AuditEvent {
    AuditEvent::new(user.tenant_id, Actor::from(caller), "user.created", origin)
        .target("user", user.id)
        .details(json!({ "email": user.email, "emailVerified": user.email_verified }))
}

/// The outcome of a bulk creation (seed 001 POST /users/bulk).
pub struct BulkOutcome {
    pub created: Vec<UserDetails>,
    /// (index in the request, email as sent, error)
    pub errors: Vec<(usize, String, Error)>,
}

/// Most users per bulk request (seed 001).
pub const MAX_BULK: usize = 1000;

/// Creates up to 1000 users: every row is validated and either created or
/// reported with its index. Duplicates within the batch and against
/// existing users are reported per row. Passwords are hashed in parallel
/// on the blocking pool; all successful rows are written in one
/// transaction, in batched statements, so a crash leaves none half-made.
pub async fn bulk_create(
    app: &App,
    caller: &Caller,
    rows: Vec<NewUser>,
    origin: &Origin,
) -> Result<BulkOutcome> {
    caller.require("user:write")?;
    if rows.len() > MAX_BULK {
        return Err(Error::invalid(
            "users",
            format!("must hold 1 to {MAX_BULK} users"),
        ));
    }
    let tenant = {
        let mut conn = app.db.get().await?;
        caller_tenant(&mut conn.db(), caller).await?
    };
    let now = Utc::now();
    let mut errors: Vec<(usize, String, Error)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut valid: Vec<(usize, User, Option<Password>)> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        match validate_new(&tenant, row, now) {
            Err(fields) => errors.push((index, row.email.clone(), Error::Validation(fields))),
            Ok((user, password)) => {
                if seen.insert(email_key(&user.email)) {
                    valid.push((index, user, password));
                } else {
                    errors.push((index, row.email.clone(), Error::DuplicateEmail));
                }
            }
        }
    }
    let hashes = futures_util::future::join_all(valid.iter().map(|(_, _, password)| async move {
        match password {
            Some(p) => app.passwords.hash(p).await.map(Some),
            None => Ok(None),
        }
    }))
    .await;
    let mut prepared: Vec<(usize, User, Option<String>)> = Vec::with_capacity(valid.len());
    for ((index, user, _), hash) in valid.into_iter().zip(hashes) {
        prepared.push((index, user, hash?));
    }

    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let inserted: HashSet<Uuid> = transaction!(db, |tx| {
        let rows: Vec<(User, Option<String>)> = prepared
            .iter()
            .map(|(_, u, h)| (u.clone(), h.clone()))
            .collect();
        let inserted = repo::users::insert_many(tx, &rows).await?;
        let ids: Vec<Uuid> = prepared
            .iter()
            .map(|(_, u, _)| u.id)
            .filter(|id| inserted.contains(id))
            .collect();
        let member = repo::roles::find_builtin(tx, tenant.id, BuiltinRole::Member).await?;
        repo::roles::assign_many(tx, &ids, member, now).await?;
        let events: Vec<AuditEvent> = prepared
            .iter()
            .filter(|(_, u, _)| inserted.contains(&u.id))
            .map(|(_, u, _)| {
                created_event(caller, u, origin).details(json!({ "email": u.email, "bulk": true }))
            })
            .collect();
        repo::audit::append_many(tx, &events, now).await?;
        Ok(inserted)
    })?;
    let mut created = Vec::new();
    for (index, user, _) in prepared {
        if inserted.contains(&user.id) {
            created.push(user);
        } else {
            errors.push((index, rows[index].email.clone(), Error::DuplicateEmail));
        }
    }
    errors.sort_by_key(|(index, _, _)| *index);
    let created = details_of(db, created).await?;
    Ok(BulkOutcome { created, errors })
}

pub async fn update(
    app: &App,
    caller: &Caller,
    id: Uuid,
    changes: ProfileChanges,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (mut user, _) = managed(tx, caller, id).await?;
        save_changes(tx, caller, caller.tenant_id, &mut user, changes, origin).await?;
        details(tx, user).await
    })
}

/// Deletes a user for good; their sessions go with them.
pub async fn delete(
    app: &App,
    caller: &Caller,
    id: Uuid,
    origin: &Origin,
) -> Result<DateTime<Utc>> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| delete_managed(tx, caller, id, origin).await)
}

/// The deletion itself, inside the caller's transaction.
pub(crate) async fn delete_managed(
    tx: &mut Db<'_>,
    caller: &Caller,
    id: Uuid,
    origin: &Origin,
) -> Result<DateTime<Utc>> {
    let (user, grants) = managed(tx, caller, id).await?;
    refuse_self(caller, &user, "delete")?;
    keep_an_owner(tx, &user, &grants).await?;
    repo::users::delete(tx, caller.tenant_id, user.id).await?;
    repo::throttle::clear(tx, caller.tenant_id, &email_key(&user.email)).await?;
    let event = AuditEvent::new(
        caller.tenant_id,
        Actor::from(caller),
        "user.deleted",
        origin,
    )
    .target("user", user.id)
    .details(json!({ "email": user.email }));
    audit(tx, event).await?;
    Ok(Utc::now())
}

/// Suspends (sign-in refused, every session and refresh token revoked at
/// once) or reactivates a user.
pub async fn set_status(
    app: &App,
    caller: &Caller,
    id: Uuid,
    status: UserStatus,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (mut user, grants) = managed(tx, caller, id).await?;
        let now = Utc::now();
        let action = match status {
            UserStatus::Suspended => {
                refuse_self(caller, &user, "suspend")?;
                keep_an_owner(tx, &user, &grants).await?;
                "user.suspended"
            }
            _ => "user.reactivated",
        };
        if user.status != status {
            user.status = status;
            user.updated_at = now;
            repo::users::update(tx, &user).await?;
            let revoked = match status {
                UserStatus::Suspended => repo::sessions::revoke_all(tx, user.id, None, now).await?,
                _ => 0,
            };
            let event = AuditEvent::new(caller.tenant_id, Actor::from(caller), action, origin)
                .target("user", user.id)
                .details(json!({ "sessionsRevoked": revoked }));
            audit(tx, event).await?;
        }
        details(tx, user).await
    })
}

/// Clears a lockout.
pub async fn unlock(app: &App, caller: &Caller, id: Uuid, origin: &Origin) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, _) = managed(tx, caller, id).await?;
        repo::throttle::clear(tx, caller.tenant_id, &email_key(&user.email)).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "user.unlocked",
            origin,
        )
        .target("user", user.id);
        audit(tx, event).await?;
        details(tx, user).await
    })
}

pub async fn sessions(
    app: &App,
    caller: &Caller,
    id: Uuid,
    page: PageRequest,
) -> Result<Listing<Session>> {
    caller.require("user:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = repo::users::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    repo::sessions::list_active(db, user.id, Utc::now(), page).await
}

/// Revokes every session of a user; returns how many.
pub async fn revoke_sessions(
    app: &App,
    caller: &Caller,
    id: Uuid,
    origin: &Origin,
) -> Result<usize> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, _) = managed(tx, caller, id).await?;
        let n = repo::sessions::revoke_all(tx, user.id, None, Utc::now()).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "auth.session_revoked",
            origin,
        )
        .target("user", user.id)
        .details(json!({ "scope": "all_sessions", "revoked": n }));
        audit(tx, event).await?;
        Ok(n)
    })
}

/// The union of the permissions of a user's roles (seed 001).
pub async fn permissions(app: &App, caller: &Caller, id: Uuid) -> Result<Permissions> {
    caller.require("user:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = repo::users::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    Ok(repo::roles::grants_for_user(db, user.id).await?.permissions)
}

/// Assigns a role (seed 001 `role:write`). The caller must hold every
/// permission of the role.
pub async fn assign_role(
    app: &App,
    caller: &Caller,
    id: Uuid,
    role_id: Uuid,
    origin: &Origin,
) -> Result<()> {
    caller.require("role:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, _) = managed(tx, caller, id).await?;
        let role = repo::roles::find(tx, caller.tenant_id, role_id)
            .await?
            .ok_or_else(|| Error::invalid("roleId", "is not a role of this tenant"))?;
        caller.require_superset(&role.effective_permissions(), "assign this role")?;
        if repo::roles::assign(tx, user.id, role.id, Utc::now()).await? {
            let event = AuditEvent::new(
                caller.tenant_id,
                Actor::from(caller),
                "role.assigned",
                origin,
            )
            .target("user", user.id)
            .details(json!({ "roleId": role.id, "role": role.name }));
            audit(tx, event).await?;
        }
        Ok(())
    })
}

pub async fn remove_role(
    app: &App,
    caller: &Caller,
    id: Uuid,
    role_id: Uuid,
    origin: &Origin,
) -> Result<()> {
    caller.require("role:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, grants) = managed(tx, caller, id).await?;
        let role = repo::roles::find(tx, caller.tenant_id, role_id)
            .await?
            .ok_or(Error::NotFound("Role"))?;
        if role.builtin == Some(BuiltinRole::Owner) {
            keep_an_owner(tx, &user, &grants).await?;
        }
        if !repo::roles::unassign(tx, user.id, role.id).await? {
            return Err(Error::NotFound("Role assignment"));
        }
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "role.revoked",
            origin,
        )
        .target("user", user.id)
        .details(json!({ "roleId": role.id, "role": role.name }));
        audit(tx, event).await
    })
}

/// Deep-merges `patch` into a user's metadata (a null removes a key).
pub async fn merge_user_metadata(
    app: &App,
    caller: &Caller,
    id: Uuid,
    patch: serde_json::Map<String, serde_json::Value>,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (mut user, _) = managed(tx, caller, id).await?;
        let keys: Vec<String> = patch.keys().cloned().collect();
        merge_metadata(&mut user.metadata, patch);
        let size = serde_json::to_vec(&user.metadata)
            .map_err(Error::internal)?
            .len();
        if size > MAX_METADATA_BYTES {
            return Err(Error::invalid(
                "metadata",
                format!("would be {size} bytes; metadata is limited to {MAX_METADATA_BYTES} bytes"),
            ));
        }
        user.updated_at = Utc::now();
        repo::users::update(tx, &user).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "user.metadata_updated",
            origin,
        )
        .target("user", user.id)
        .details(json!({ "keys": keys }));
        audit(tx, event).await?;
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
    use super::passwords::{generate_password, Passwords};
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
