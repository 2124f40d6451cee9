use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::filter::{self, Dialect};
use super::like_contains;
use super::list::{self, Narrow, SortKey, Sorts, Total};
use crate::db::schema::{group_members, groups, list_totals, users};
use crate::db::types::{DbTimestamptz, DbUuid};
use crate::db::{is_unique_violation, Db, Ts, Uid};
use crate::domain::group::{Group, GroupMember, GroupQuery, GroupSort};
use crate::domain::list::{Listing, PageRequest, SortOrder};
use crate::domain::user::fold;
use crate::domain::{Error, Result};
use crate::with_conn;

#[derive(Queryable, Selectable)]
#[diesel(table_name = groups)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct GroupRow {
    id: Uid,
    tenant_id: Uid,
    name: String,
    description: String,
    external_id: Option<String>,
    version: i32,
    created_at: Ts,
    updated_at: Ts,
}

fn duplicate_name(e: diesel::result::Error) -> Error {
    if is_unique_violation(&e, "groups_tenant_name_key") {
        Error::conflict("name", "A group with this name already exists")
    } else {
        e.into()
    }
}

/// Attaches member counts to rows in one query.
async fn complete(db: &mut Db<'_>, rows: Vec<GroupRow>) -> Result<Vec<Group>> {
    let ids: Vec<Uid> = rows.iter().map(|r| r.id).collect();
    let counts: Vec<(Uid, i64)> = with_conn!(db, |c| group_members::table
        .filter(group_members::group_id.eq_any(ids))
        .group_by(group_members::group_id)
        .select((group_members::group_id, diesel::dsl::count_star()))
        .load(c)
        .await)?;
    let counts: HashMap<Uuid, i64> = counts.into_iter().map(|(g, n)| (g.0, n)).collect();
    Ok(rows
        .into_iter()
        .map(|r| Group {
            member_count: counts.get(&r.id.0).copied().unwrap_or(0),
            id: r.id.0,
            tenant_id: r.tenant_id.0,
            name: r.name,
            description: r.description,
            external_id: r.external_id,
            version: r.version,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
        .collect())
}

pub async fn insert(db: &mut Db<'_>, g: &Group) -> Result<()> {
    let values = (
        groups::id.eq(Uid(g.id)),
        groups::tenant_id.eq(Uid(g.tenant_id)),
        groups::name.eq(&g.name),
        groups::name_key.eq(fold(&g.name)),
        groups::description.eq(&g.description),
        groups::external_id.eq(&g.external_id),
        groups::version.eq(g.version),
        groups::created_at.eq(Ts(g.created_at)),
        groups::updated_at.eq(Ts(g.updated_at)),
    );
    with_conn!(db, |c| diesel::insert_into(groups::table)
        .values(values)
        .execute(c)
        .await)
    .map_err(duplicate_name)?;
    Ok(())
}

/// Writes name, description and external id, and bumps the version;
/// returns the new version.
pub async fn update(db: &mut Db<'_>, g: &Group) -> Result<i32> {
    let version = with_conn!(db, |c| diesel::update(groups::table.find(Uid(g.id)))
        .set((
            groups::name.eq(&g.name),
            groups::name_key.eq(fold(&g.name)),
            groups::description.eq(&g.description),
            groups::external_id.eq(&g.external_id),
            groups::version.eq(groups::version + 1),
            groups::updated_at.eq(Ts(g.updated_at)),
        ))
        .returning(groups::version)
        .get_result(c)
        .await)
    .map_err(duplicate_name)?;
    Ok(version)
}

/// Records a change of membership: a new version and modification time.
pub async fn touch(db: &mut Db<'_>, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    with_conn!(db, |c| diesel::update(groups::table.find(Uid(id)))
        .set((
            groups::version.eq(groups::version + 1),
            groups::updated_at.eq(Ts(now))
        ))
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn delete(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        groups::table
            .filter(groups::id.eq(Uid(id)))
            .filter(groups::tenant_id.eq(Uid(tenant_id)))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<Option<Group>> {
    let row: Option<GroupRow> = with_conn!(db, |c| groups::table
        .filter(groups::id.eq(Uid(id)))
        .filter(groups::tenant_id.eq(Uid(tenant_id)))
        .select(GroupRow::as_select())
        .first(c)
        .await
        .optional())?;
    match row {
        Some(r) => Ok(complete(db, vec![r]).await?.pop()),
        None => Ok(None),
    }
}

impl SortKey for GroupSort {
    type Table = groups::table;

    fn order<DB: Dialect>(self, s: Sorts<Self::Table, DB>, o: SortOrder) -> Sorts<Self::Table, DB> {
        match self {
            GroupSort::Name => s.by(groups::name_key, o),
            GroupSort::CreatedAt => s.by(groups::created_at, o),
            GroupSort::UpdatedAt => s.by(groups::updated_at, o),
            GroupSort::ExternalId => s.by(groups::external_id, o),
        }
    }
}

pub async fn list(db: &mut Db<'_>, tenant_id: Uuid, q: &GroupQuery<'_>) -> Result<Listing<Group>> {
    let pattern = q.search.as_deref().map(|s| like_contains(&fold(s)));
    let mut listing = with_conn!(db, |c| {
        let filtered = || -> Result<_> {
            Ok(groups::table
                .filter(groups::tenant_id.eq(Uid(tenant_id)))
                .into_boxed()
                .narrow(list::like(groups::name_key, &pattern))
                .narrow(filter::optional::<groups::table, _>(q.filter)?))
        };
        let sorts = match q.page.seek {
            Some(seek) => Sorts::seek(groups::created_at, groups::id, seek),
            None => {
                Sorts::default().keys(q.sort.as_slice(), (GroupSort::CreatedAt, SortOrder::Asc))
            }
        };
        let total = match pattern.is_none() && q.filter.is_none() {
            true => Total::maintained(
                list_totals::table
                    .find(Uid(tenant_id))
                    .select(list_totals::groups)
                    .first(c)
                    .await
                    .optional()?,
            ),
            false => Total::Count,
        };
        let rows = list::by_id(groups::id, GroupRow::as_select());
        list::page(c, filtered, sorts, rows, q.page, total).await
    })?;
    let items = complete(db, std::mem::take(&mut listing.items)).await?;
    Ok(listing.with_items(items))
}

/// Adds a member; false if already a member.
pub async fn add_member(
    db: &mut Db<'_>,
    group_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::insert_into(group_members::table)
        .values((
            group_members::group_id.eq(Uid(group_id)),
            group_members::user_id.eq(Uid(user_id)),
            group_members::added_at.eq(Ts(now)),
        ))
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Removes a member; false if not a member.
pub async fn remove_member(db: &mut Db<'_>, group_id: Uuid, user_id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        group_members::table
            .filter(group_members::group_id.eq(Uid(group_id)))
            .filter(group_members::user_id.eq(Uid(user_id)))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

/// Largest id list bound into one statement (SQLite allows 32766
/// parameters; PostgreSQL 65535).
const CHUNK: usize = 10_000;

/// Of `user_ids`, the users of `tenant_id` that exist.
pub async fn existing_users(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    user_ids: &[Uuid],
) -> Result<HashSet<Uuid>> {
    let mut found = HashSet::new();
    for chunk in user_ids.chunks(CHUNK) {
        let ids: Vec<Uid> = chunk.iter().copied().map(Uid).collect();
        let rows: Vec<Uid> = with_conn!(db, |c| users::table
            .filter(users::tenant_id.eq(Uid(tenant_id)))
            .filter(users::id.eq_any(ids))
            .select(users::id)
            .load(c)
            .await)?;
        found.extend(rows.into_iter().map(|u| u.0));
    }
    Ok(found)
}

/// Adds users of the group's tenant as members in set-based statements
/// (`INSERT ... SELECT` from users), skipping current members. Returns
/// how many were added.
pub async fn add_members(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    group_id: Uuid,
    user_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut added = 0;
    for chunk in user_ids.chunks(CHUNK) {
        let ids: Vec<Uid> = chunk.iter().copied().map(Uid).collect();
        let rows = users::table
            .filter(users::tenant_id.eq(Uid(tenant_id)))
            .filter(users::id.eq_any(ids))
            .select((
                Uid(group_id).into_sql::<DbUuid>(),
                users::id,
                Ts(now).into_sql::<DbTimestamptz>(),
            ));
        added += with_conn!(db, |c| diesel::insert_into(group_members::table)
            .values(rows.clone())
            .into_columns((
                group_members::group_id,
                group_members::user_id,
                group_members::added_at
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await)?;
    }
    Ok(added)
}

/// Removes members in set-based statements; returns how many were removed.
pub async fn remove_members(db: &mut Db<'_>, group_id: Uuid, user_ids: &[Uuid]) -> Result<usize> {
    let mut removed = 0;
    for chunk in user_ids.chunks(CHUNK) {
        let ids: Vec<Uid> = chunk.iter().copied().map(Uid).collect();
        removed += with_conn!(db, |c| diesel::delete(
            group_members::table
                .filter(group_members::group_id.eq(Uid(group_id)))
                .filter(group_members::user_id.eq_any(ids))
        )
        .execute(c)
        .await)?;
    }
    Ok(removed)
}

/// Removes every member; returns how many.
pub async fn clear_members(db: &mut Db<'_>, group_id: Uuid) -> Result<usize> {
    Ok(with_conn!(db, |c| diesel::delete(
        group_members::table.filter(group_members::group_id.eq(Uid(group_id)))
    )
    .execute(c)
    .await)?)
}

/// A group's members, oldest membership first.
pub async fn members(
    db: &mut Db<'_>,
    group_id: Uuid,
    page: PageRequest,
) -> Result<Listing<GroupMember>> {
    let listing: Listing<(Uid, Option<String>, String, String, Ts)> = with_conn!(db, |c| {
        let of_group = || group_members::table.filter(group_members::group_id.eq(Uid(group_id)));
        let filtered = || Ok(of_group().into_boxed());
        let sorts = Sorts::default().by(group_members::added_at, SortOrder::Asc);
        let query = |ids: Vec<Uid>| {
            of_group()
                .inner_join(users::table)
                .filter(users::id.eq_any(ids))
                .select((
                    users::id,
                    (
                        users::id,
                        users::email,
                        users::first_name,
                        users::family_name,
                        group_members::added_at,
                    ),
                ))
        };
        let rows = list::Rows {
            id: group_members::user_id,
            query,
        };
        list::page(c, filtered, sorts, rows, page, Total::Count).await
    })?;
    Ok(
        listing.map(|(id, email, first_name, family_name, added)| GroupMember {
            user_id: id.0,
            email,
            first_name,
            family_name,
            added_at: added.0,
        }),
    )
}

/// Every member of each group, with a display name: (user id, display).
pub async fn members_of(
    db: &mut Db<'_>,
    group_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<(Uuid, String)>>> {
    let ids: Vec<Uid> = group_ids.iter().copied().map(Uid).collect();
    let rows: Vec<(Uid, Uid, String, String, String)> = with_conn!(db, |c| group_members::table
        .inner_join(users::table)
        .filter(group_members::group_id.eq_any(ids))
        .select((
            group_members::group_id,
            users::id,
            users::first_name,
            users::family_name,
            users::user_name
        ))
        .order((
            group_members::group_id,
            group_members::added_at.asc(),
            users::id.asc()
        ))
        .load(c)
        .await)?;
    let mut out: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
    for (group, user, first, family, user_name) in rows {
        let display = crate::domain::user::PersonName {
            first,
            family,
            ..Default::default()
        }
        .display();
        let display = if display.is_empty() {
            user_name
        } else {
            display
        };
        out.entry(group.0).or_default().push((user.0, display));
    }
    Ok(out)
}

/// The groups each user belongs to: (group id, group name).
pub async fn groups_of(
    db: &mut Db<'_>,
    user_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<(Uuid, String)>>> {
    let ids: Vec<Uid> = user_ids.iter().copied().map(Uid).collect();
    let rows: Vec<(Uid, Uid, String)> = with_conn!(db, |c| group_members::table
        .inner_join(groups::table)
        .filter(group_members::user_id.eq_any(ids))
        .select((group_members::user_id, groups::id, groups::name))
        .order((group_members::user_id, groups::name_key.asc()))
        .load(c)
        .await)?;
    let mut out: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
    for (user, group, name) in rows {
        out.entry(user.0).or_default().push((group.0, name));
    }
    Ok(out)
}
