//! Roles and the permission catalogue (docs/api/ithbat.md, Roles and
//! permissions).

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::{audit, App};
use crate::domain::account::TENANT_SCOPE;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::list::Listing;
use crate::domain::permission::BuiltinRole;
use crate::domain::principal::Caller;
use crate::domain::role::{
    validate_description, validate_name, validate_permissions, Role, RoleQuery,
};
use crate::domain::session::Origin;
use crate::domain::{Error, Problems, Result};
use crate::repo::{self, Locked};
use crate::transaction;

pub async fn list(app: &App, caller: &Caller, query: RoleQuery) -> Result<Listing<Role>> {
    caller.require("role:read")?;
    let mut conn = app.db.get().await?;
    repo::roles::list(&mut conn.db(), caller.tenant_id, &query).await
}

pub async fn get(app: &App, caller: &Caller, id: Uuid) -> Result<Role> {
    caller.require("role:read")?;
    let mut conn = app.db.get().await?;
    repo::roles::find(&mut conn.db(), caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("Role"))
}

pub struct NewRole {
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<String>,
}

pub async fn create(app: &App, caller: &Caller, input: NewRole, origin: &Origin) -> Result<Role> {
    caller.require("role:write")?;
    let mut problems = Problems::default();
    let name = problems.check("name", validate_name(&input.name));
    let description = problems.check(
        "description",
        validate_description(input.description.as_deref().unwrap_or("")),
    );
    let permissions = problems.check("permissions", validate_permissions(&input.permissions));
    problems.into_result()?;
    let permissions = permissions.unwrap_or_default();
    let now = Utc::now();
    let role = Role {
        id: Uuid::now_v7(),
        tenant_id: caller.tenant_id,
        name: name.unwrap_or_default(),
        description: description.unwrap_or_default(),
        builtin: None,
        permissions,
        user_count: 0,
        created_at: now,
        updated_at: now,
    };
    caller.require_holds(
        &role.grants(TENANT_SCOPE),
        target(&role),
        "create this role",
    )?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::roles::insert(tx, &role).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "role.created",
            origin,
        )
        .target("role", role.id)
        .details(json!({ "name": role.name, "permissions": role.permissions }));
        audit(tx, event).await
    })?;
    Ok(role)
}

#[derive(Debug, Default)]
pub struct RoleChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<Vec<String>>,
}

/// The audit target naming a role.
fn target(role: &Role) -> (&'static str, String) {
    ("role", role.id.to_string())
}

fn refuse(message: &str) -> Error {
    Error::Conflict {
        field: None,
        message: message.to_string(),
    }
}

/// Renames, redescribes or re-permissions a role. Built-in roles keep their
/// names, and owner keeps every permission. The caller must hold every
/// permission the role has before and after.
pub async fn update(
    app: &App,
    caller: &Caller,
    id: Uuid,
    changes: RoleChanges,
    origin: &Origin,
) -> Result<Role> {
    caller.require("role:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let row = Locked::Role {
            tenant: caller.tenant_id,
            id,
        };
        repo::lock_for_update(tx, row).await?;
        let mut role = repo::roles::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("Role"))?;
        // Holders may hold it anywhere: the caller must hold it everywhere.
        caller.require_holds(
            &role.grants(TENANT_SCOPE),
            target(&role),
            "change this role",
        )?;
        let mut problems = Problems::default();
        let mut changed = Vec::new();
        if let Some(name) = problems
            .check(
                "name",
                changes.name.as_deref().map(validate_name).transpose(),
            )
            .flatten()
        {
            if name != role.name {
                if role.builtin.is_some() {
                    return Err(Error::conflict("name", "Built-in roles cannot be renamed"));
                }
                role.name = name;
                changed.push("name");
            }
        }
        if let Some(d) = problems
            .check(
                "description",
                changes
                    .description
                    .as_deref()
                    .map(validate_description)
                    .transpose(),
            )
            .flatten()
        {
            role.description = d;
            changed.push("description");
        }
        if let Some(p) = problems
            .check(
                "permissions",
                changes
                    .permissions
                    .as_deref()
                    .map(validate_permissions)
                    .transpose(),
            )
            .flatten()
        {
            if role.builtin.is_some_and(BuiltinRole::is_fixed) {
                return Err(refuse("The owner role always holds every permission"));
            }
            role.permissions = p;
            caller.require_holds(
                &role.grants(TENANT_SCOPE),
                target(&role),
                "give this role these permissions",
            )?;
            changed.push("permissions");
        }
        problems.into_result()?;
        role.updated_at = Utc::now();
        repo::roles::update(tx, &role).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "role.updated",
            origin,
        )
        .target("role", role.id)
        .details(json!({ "changed": changed, "permissions": role.permissions }));
        audit(tx, event).await?;
        Ok(role)
    })
}

/// Deletes a custom role; its holders lose it. Built-in roles stay.
pub async fn delete(app: &App, caller: &Caller, id: Uuid, origin: &Origin) -> Result<()> {
    caller.require("role:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let role = repo::roles::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("Role"))?;
        if role.builtin.is_some() {
            return Err(refuse("Built-in roles cannot be deleted"));
        }
        caller.require_holds(
            &role.grants(TENANT_SCOPE),
            target(&role),
            "delete this role",
        )?;
        repo::roles::delete(tx, caller.tenant_id, role.id).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "role.deleted",
            origin,
        )
        .target("role", role.id)
        .details(json!({ "name": role.name, "holders": role.user_count }));
        audit(tx, event).await
    })
}
