//! Accounts (docs/api/jsonapi.md): users as the JSON:API dialect changes them.
//! An update may touch the profile, `enabled` and the role at once, in one
//! transaction, with the same rules as the native endpoints.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::users::{change_status, details, hold_role, keep_an_owner, managed, save_changes};
use super::users::{ProfileChanges, RoleChoice, UserDetails};
use super::{audit, App};
use crate::domain::account::TENANT_SCOPE;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::permission::BuiltinRole;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::user::UserStatus;
use crate::domain::{Error, Result};
use crate::repo;
use crate::transaction;

#[derive(Debug, Default)]
pub struct AccountChanges {
    pub profile: ProfileChanges,
    /// false suspends (every session ends), true reactivates.
    pub enabled: Option<bool>,
    /// A new role, scope, or both: the other stays as it was.
    pub role_name: Option<String>,
    pub role_scope: Option<String>,
}

pub async fn update(
    app: &App,
    caller: &Caller,
    id: Uuid,
    changes: AccountChanges,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (mut user, grants) = managed(tx, caller, id).await?;
        save_changes(
            tx,
            caller,
            caller.tenant_id,
            &mut user,
            changes.profile,
            origin,
        )
        .await?;
        if let Some(enabled) = changes.enabled {
            let status = if enabled {
                UserStatus::Active
            } else {
                UserStatus::Suspended
            };
            change_status(tx, caller, &mut user, &grants, status, origin).await?;
        }
        if changes.role_name.is_some() || changes.role_scope.is_some() {
            let before = repo::roles::assignments_for_users(tx, &[user.id])
                .await?
                .remove(&user.id)
                .unwrap_or_default();
            let current = before.first();
            let choice = RoleChoice {
                name: match (&changes.role_name, current) {
                    (Some(name), _) => name.clone(),
                    (None, Some(a)) => a.role_name.clone(),
                    (None, None) => {
                        return Err(Error::invalid(
                            "roleName",
                            "is required: the account holds no role",
                        ))
                    }
                },
                scope: changes
                    .role_scope
                    .clone()
                    .or_else(|| current.map(|a| a.scope.clone()))
                    .unwrap_or_else(|| TENANT_SCOPE.to_string()),
            };
            let choice = &choice;
            let owner_before = before
                .iter()
                .any(|a| a.builtin == Some(BuiltinRole::Owner) && a.scope == TENANT_SCOPE);
            let role = hold_role(tx, caller, &user, choice, Utc::now()).await?;
            let owner_after =
                role.builtin == Some(BuiltinRole::Owner) && choice.scope.trim() == TENANT_SCOPE;
            if owner_before && !owner_after {
                keep_an_owner(tx, &user, &grants).await?;
            }
            let event = AuditEvent::new(
                caller.tenant_id,
                Actor::from(caller),
                "role.assigned",
                origin,
            )
            .target("user", user.id)
            .details(json!({ "roleId": role.id, "role": role.name, "scope": choice.scope, "replaces": before.iter().map(|a| &a.role_name).collect::<Vec<_>>() }));
            audit(tx, event).await?;
            let now = Utc::now();
            user.updated_at = now;
            user.version = repo::users::update(tx, &user).await?;
        }
        details(tx, user).await
    })
}
