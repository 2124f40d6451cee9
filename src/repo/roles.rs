use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema::{role_permissions, roles, user_roles};
use crate::db::{Db, Ts, Uid};
use crate::domain::permission::{BuiltinRole, Permissions};
use crate::domain::Result;
use crate::{insert_all, with_conn};

#[derive(Insertable)]
#[diesel(table_name = role_permissions)]
struct RolePermissionRow<'a> {
    role_id: Uid,
    permission: &'a str,
}

/// Creates the built-in roles of a new tenant with their initial permissions.
pub async fn insert_builtin(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<(BuiltinRole, Uuid)>> {
    let mut created = Vec::new();
    for role in BuiltinRole::ALL {
        let id = Uuid::now_v7();
        let values = (
            roles::id.eq(Uid(id)),
            roles::tenant_id.eq(Uid(tenant_id)),
            roles::name.eq(role.key()),
            roles::name_key.eq(role.key()),
            roles::description.eq(role.description()),
            roles::builtin.eq(Some(role.key())),
            roles::created_at.eq(Ts(now)),
            roles::updated_at.eq(Ts(now)),
        );
        with_conn!(db, |c| diesel::insert_into(roles::table)
            .values(values)
            .execute(c)
            .await)?;
        let permissions = role.initial_permissions();
        let rows: Vec<RolePermissionRow> = permissions
            .iter()
            .map(|p| RolePermissionRow {
                role_id: Uid(id),
                permission: p,
            })
            .collect();
        if !rows.is_empty() {
            insert_all!(db, role_permissions::table, &rows)?;
        }
        created.push((role, id));
    }
    Ok(created)
}

pub async fn assign(
    db: &mut Db<'_>,
    user_id: Uuid,
    role_id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let values = (
        user_roles::user_id.eq(Uid(user_id)),
        user_roles::role_id.eq(Uid(role_id)),
        user_roles::assigned_at.eq(Ts(now)),
    );
    with_conn!(db, |c| diesel::insert_into(user_roles::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(())
}

/// A user's role names and the union of their roles' permissions.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    pub role_names: Vec<String>,
    pub permissions: Permissions,
}

pub async fn grants_for_user(db: &mut Db<'_>, user_id: Uuid) -> Result<Grants> {
    let rows: Vec<(String, Option<String>, Option<String>)> =
        with_conn!(db, |c| user_roles::table
            .inner_join(roles::table)
            .left_join(role_permissions::table.on(role_permissions::role_id.eq(roles::id)))
            .filter(user_roles::user_id.eq(Uid(user_id)))
            .select((
                roles::name,
                roles::builtin,
                role_permissions::permission.nullable()
            ))
            .order((roles::name.asc(), role_permissions::permission.asc()))
            .load(c)
            .await)?;
    let mut role_names: Vec<String> = Vec::new();
    let mut everything = false;
    let mut permissions = Vec::new();
    for (name, builtin, permission) in rows {
        if role_names.last() != Some(&name) {
            role_names.push(name);
        }
        let fixed = builtin
            .as_deref()
            .and_then(BuiltinRole::parse)
            .is_some_and(BuiltinRole::is_fixed);
        everything |= fixed;
        permissions.extend(permission);
    }
    let permissions = if everything {
        Permissions::all()
    } else {
        permissions.into_iter().collect()
    };
    Ok(Grants {
        role_names,
        permissions,
    })
}
