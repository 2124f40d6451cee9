use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::filter::Dialect;
use super::list::{self, Narrow, SortKey, Sorts, Total};
use super::{corrupt, like_contains};
use crate::db::schema::{role_permissions, roles, user_roles, users};
use crate::db::{is_unique_violation, Db, Ts, Uid};
use crate::domain::account::TENANT_SCOPE;
use crate::domain::list::{Listing, SortOrder};
use crate::domain::permission::{BuiltinRole, Permissions};
use crate::domain::role::{Assignment, Grants, Role, RoleQuery, RoleSort};
use crate::domain::user::{fold, UserStatus};
use crate::domain::{Error, Result};
use crate::{insert_all, with_conn};

#[derive(Queryable, Selectable)]
#[diesel(table_name = roles)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct RoleRow {
    id: Uid,
    tenant_id: Uid,
    name: String,
    description: String,
    builtin: Option<String>,
    created_at: Ts,
    updated_at: Ts,
}

#[derive(Insertable)]
#[diesel(table_name = role_permissions)]
struct RolePermissionRow<'a> {
    role_id: Uid,
    permission: &'a str,
}

fn duplicate_name(e: diesel::result::Error) -> Error {
    if is_unique_violation(&e, "roles_tenant_name_key") {
        Error::conflict("name", "A role with this name already exists")
    } else {
        e.into()
    }
}

/// Attaches permissions and holder counts to rows, in two queries.
async fn complete(db: &mut Db<'_>, rows: Vec<RoleRow>) -> Result<Vec<Role>> {
    let ids: Vec<Uid> = rows.iter().map(|r| r.id).collect();
    let permissions: Vec<(Uid, String)> = with_conn!(db, |c| role_permissions::table
        .filter(role_permissions::role_id.eq_any(ids.clone()))
        .select((role_permissions::role_id, role_permissions::permission))
        .order(role_permissions::permission.asc())
        .load(c)
        .await)?;
    let counts: Vec<(Uid, i64)> = with_conn!(db, |c| user_roles::table
        .filter(user_roles::role_id.eq_any(ids.clone()))
        .group_by(user_roles::role_id)
        .select((user_roles::role_id, diesel::dsl::count_star()))
        .load(c)
        .await)?;
    let mut by_role: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (role, permission) in permissions {
        by_role.entry(role.0).or_default().push(permission);
    }
    let counts: HashMap<Uuid, i64> = counts.into_iter().map(|(r, n)| (r.0, n)).collect();
    rows.into_iter()
        .map(|r| {
            let builtin = match r.builtin.as_deref() {
                Some(key) => {
                    Some(BuiltinRole::parse(key).ok_or_else(|| corrupt("built-in role", key))?)
                }
                None => None,
            };
            Ok(Role {
                id: r.id.0,
                tenant_id: r.tenant_id.0,
                name: r.name,
                description: r.description,
                builtin,
                permissions: by_role.remove(&r.id.0).unwrap_or_default(),
                user_count: counts.get(&r.id.0).copied().unwrap_or(0),
                created_at: r.created_at.0,
                updated_at: r.updated_at.0,
            })
        })
        .collect()
}

async fn write_permissions(db: &mut Db<'_>, role_id: Uuid, permissions: &[String]) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        role_permissions::table.filter(role_permissions::role_id.eq(Uid(role_id)))
    )
    .execute(c)
    .await)?;
    let rows: Vec<RolePermissionRow> = permissions
        .iter()
        .map(|p| RolePermissionRow {
            role_id: Uid(role_id),
            permission: p,
        })
        .collect();
    if !rows.is_empty() {
        insert_all!(db, role_permissions::table, &rows)?;
    }
    Ok(())
}

/// Inserts a role with its permissions. Call inside a transaction.
pub async fn insert(db: &mut Db<'_>, role: &Role) -> Result<()> {
    let values = (
        roles::id.eq(Uid(role.id)),
        roles::tenant_id.eq(Uid(role.tenant_id)),
        roles::name.eq(&role.name),
        roles::name_key.eq(fold(&role.name)),
        roles::description.eq(&role.description),
        roles::builtin.eq(role.builtin.map(BuiltinRole::key)),
        roles::created_at.eq(Ts(role.created_at)),
        roles::updated_at.eq(Ts(role.updated_at)),
    );
    with_conn!(db, |c| diesel::insert_into(roles::table)
        .values(values)
        .execute(c)
        .await)
    .map_err(duplicate_name)?;
    write_permissions(db, role.id, &role.permissions).await
}

/// Creates the built-in roles of a new tenant with their initial permissions.
pub async fn insert_builtin(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<(BuiltinRole, Uuid)>> {
    let mut created = Vec::new();
    for builtin in BuiltinRole::ALL {
        let role = Role {
            id: Uuid::now_v7(),
            tenant_id,
            name: builtin.key().to_string(),
            description: builtin.description().to_string(),
            builtin: Some(builtin),
            permissions: builtin.initial_permissions(),
            user_count: 0,
            created_at: now,
            updated_at: now,
        };
        insert(db, &role).await?;
        created.push((builtin, role.id));
    }
    Ok(created)
}

/// Writes name, description and permissions. Call inside a transaction.
pub async fn update(db: &mut Db<'_>, role: &Role) -> Result<()> {
    with_conn!(db, |c| diesel::update(roles::table.find(Uid(role.id)))
        .set((
            roles::name.eq(&role.name),
            roles::name_key.eq(fold(&role.name)),
            roles::description.eq(&role.description),
            roles::updated_at.eq(Ts(role.updated_at)),
        ))
        .execute(c)
        .await)
    .map_err(duplicate_name)?;
    write_permissions(db, role.id, &role.permissions).await
}

pub async fn delete(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        roles::table
            .filter(roles::id.eq(Uid(id)))
            .filter(roles::tenant_id.eq(Uid(tenant_id)))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<Option<Role>> {
    let row: Option<RoleRow> = with_conn!(db, |c| roles::table
        .filter(roles::id.eq(Uid(id)))
        .filter(roles::tenant_id.eq(Uid(tenant_id)))
        .select(RoleRow::as_select())
        .first(c)
        .await
        .optional())?;
    match row {
        Some(r) => Ok(complete(db, vec![r]).await?.pop()),
        None => Ok(None),
    }
}

pub async fn find_builtin(db: &mut Db<'_>, tenant_id: Uuid, builtin: BuiltinRole) -> Result<Uuid> {
    let id: Option<Uid> = with_conn!(db, |c| roles::table
        .filter(roles::tenant_id.eq(Uid(tenant_id)))
        .filter(roles::builtin.eq(builtin.key()))
        .select(roles::id)
        .first(c)
        .await
        .optional())?;
    id.map(|u| u.0)
        .ok_or_else(|| Error::internal(format!("tenant {tenant_id} has no {} role", builtin.key())))
}

impl SortKey for RoleSort {
    type Table = roles::table;

    fn order<DB: Dialect>(self, s: Sorts<Self::Table, DB>, o: SortOrder) -> Sorts<Self::Table, DB> {
        match self {
            RoleSort::Name => s.by(roles::name_key, o),
            RoleSort::CreatedAt => s.by(roles::created_at, o),
            RoleSort::UpdatedAt => s.by(roles::updated_at, o),
        }
    }
}

pub async fn list(db: &mut Db<'_>, tenant_id: Uuid, q: &RoleQuery) -> Result<Listing<Role>> {
    let pattern = q.search.as_deref().map(|s| like_contains(&fold(s)));
    let mut listing = with_conn!(db, |c| {
        let filtered = || {
            Ok(roles::table
                .filter(roles::tenant_id.eq(Uid(tenant_id)))
                .into_boxed()
                .narrow(list::like(roles::name_key, &pattern)))
        };
        let sorts = Sorts::default().keys(q.sort.as_slice(), (RoleSort::CreatedAt, SortOrder::Asc));
        let rows = list::by_id(roles::id, RoleRow::as_select());
        list::page(c, filtered, sorts, rows, q.page, Total::Count).await
    })?;
    let items = complete(db, std::mem::take(&mut listing.items)).await?;
    Ok(listing.with_items(items))
}

/// Gives a user a role on the whole tenant; false if they already had it
/// there. A narrower holding of the same role is widened. Call inside a
/// transaction.
pub async fn assign(
    db: &mut Db<'_>,
    user_id: Uuid,
    role_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    with_conn!(db, |c| diesel::delete(
        user_roles::table
            .filter(user_roles::user_id.eq(Uid(user_id)))
            .filter(user_roles::role_id.eq(Uid(role_id)))
            .filter(user_roles::scope.ne(TENANT_SCOPE))
    )
    .execute(c)
    .await)?;
    let values = (
        user_roles::user_id.eq(Uid(user_id)),
        user_roles::role_id.eq(Uid(role_id)),
        user_roles::assigned_at.eq(Ts(now)),
        user_roles::scope.eq(TENANT_SCOPE),
    );
    let n = with_conn!(db, |c| diesel::insert_into(user_roles::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Makes `role_id` on `scope` the user's only role (an account's
/// `role_name`/`role_scope`). Call inside a transaction.
pub async fn replace_all(
    db: &mut Db<'_>,
    user_id: Uuid,
    role_id: Uuid,
    scope: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        user_roles::table.filter(user_roles::user_id.eq(Uid(user_id)))
    )
    .execute(c)
    .await)?;
    let values = (
        user_roles::user_id.eq(Uid(user_id)),
        user_roles::role_id.eq(Uid(role_id)),
        user_roles::assigned_at.eq(Ts(now)),
        user_roles::scope.eq(scope),
    );
    with_conn!(db, |c| diesel::insert_into(user_roles::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

/// A role of the tenant by name, regardless of case.
pub async fn find_by_name(db: &mut Db<'_>, tenant_id: Uuid, name: &str) -> Result<Option<Role>> {
    let row = with_conn!(db, |c| roles::table
        .filter(roles::tenant_id.eq(Uid(tenant_id)))
        .filter(roles::name_key.eq(fold(name.trim())))
        .select(RoleRow::as_select())
        .first(c)
        .await
        .optional())?;
    match row {
        Some(row) => Ok(complete(db, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// Every user's role assignments, the one an account shows first.
pub async fn assignments_for_users(
    db: &mut Db<'_>,
    user_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Assignment>>> {
    let ids: Vec<Uid> = user_ids.iter().copied().map(Uid).collect();
    let rows: Vec<(Uid, Uid, String, Option<String>, String)> =
        with_conn!(db, |c| user_roles::table
            .inner_join(roles::table)
            .filter(user_roles::user_id.eq_any(ids))
            .select((
                user_roles::user_id,
                roles::id,
                roles::name,
                roles::builtin,
                user_roles::scope
            ))
            .load(c)
            .await)?;
    let mut out: HashMap<Uuid, Vec<Assignment>> = HashMap::new();
    for (user, role_id, role_name, builtin, scope) in rows {
        out.entry(user.0).or_default().push(Assignment {
            role_id: role_id.0,
            role_name,
            builtin: builtin.as_deref().and_then(BuiltinRole::parse),
            scope,
        });
    }
    for list in out.values_mut() {
        list.sort_by_key(Assignment::rank);
    }
    Ok(out)
}

/// Gives each user the role (bulk creation). Call inside a transaction.
pub async fn assign_many(
    db: &mut Db<'_>,
    user_ids: &[Uuid],
    role_id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    #[derive(Insertable)]
    #[diesel(table_name = user_roles)]
    struct Row {
        user_id: Uid,
        role_id: Uid,
        assigned_at: Ts,
    }
    let rows: Vec<Row> = user_ids
        .iter()
        .map(|u| Row {
            user_id: Uid(*u),
            role_id: Uid(role_id),
            assigned_at: Ts(now),
        })
        .collect();
    for chunk in rows.chunks(5000) {
        insert_all!(db, user_roles::table, chunk)?;
    }
    Ok(())
}

/// Takes a role from a user; false if they did not have it.
pub async fn unassign(db: &mut Db<'_>, user_id: Uuid, role_id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        user_roles::table
            .filter(user_roles::user_id.eq(Uid(user_id)))
            .filter(user_roles::role_id.eq(Uid(role_id)))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

/// How many active users other than `except` hold the role.
pub async fn active_holders_except(db: &mut Db<'_>, role_id: Uuid, except: Uuid) -> Result<i64> {
    Ok(with_conn!(db, |c| user_roles::table
        .inner_join(users::table)
        .filter(user_roles::role_id.eq(Uid(role_id)))
        .filter(user_roles::scope.eq(TENANT_SCOPE))
        .filter(user_roles::user_id.ne(Uid(except)))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .count()
        .get_result(c)
        .await)?)
}

pub async fn grants_for_user(db: &mut Db<'_>, user_id: Uuid) -> Result<Grants> {
    let rows: Vec<(String, Option<String>, Option<String>)> =
        with_conn!(db, |c| user_roles::table
            .inner_join(roles::table)
            .left_join(role_permissions::table.on(role_permissions::role_id.eq(roles::id)))
            .filter(user_roles::user_id.eq(Uid(user_id)))
            // A role held on part of the tenant grants nothing tenant-wide.
            .filter(user_roles::scope.eq(TENANT_SCOPE))
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
        everything |= builtin
            .as_deref()
            .and_then(BuiltinRole::parse)
            .is_some_and(BuiltinRole::is_fixed);
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

/// Role names of many users at once (for lists).
pub async fn names_for_users(
    db: &mut Db<'_>,
    user_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<String>>> {
    let ids: Vec<Uid> = user_ids.iter().copied().map(Uid).collect();
    let rows: Vec<(Uid, String)> = with_conn!(db, |c| user_roles::table
        .inner_join(roles::table)
        .filter(user_roles::user_id.eq_any(ids))
        .filter(user_roles::scope.eq(TENANT_SCOPE))
        .select((user_roles::user_id, roles::name))
        .order(roles::name.asc())
        .load(c)
        .await)?;
    let mut names: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (user, name) in rows {
        names.entry(user.0).or_default().push(name);
    }
    Ok(names)
}
