use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::filter::Dialect;
use super::list::{self, Narrow, SortKey, Sorts, Total};
use super::{corrupt, like_contains};
use crate::db::schema::tenants;
use crate::db::{is_unique_violation, Db, Json, Ts, Uid};
use crate::domain::list::{Listing, SortOrder};
use crate::domain::tenant::{Plan, Tenant, TenantQuery, TenantSort, TenantStatus};
use crate::domain::user::fold;
use crate::domain::{Error, Result};
use crate::with_conn;

#[derive(Queryable, Selectable)]
#[diesel(table_name = tenants)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct TenantRow {
    id: Uid,
    name: String,
    slug: String,
    plan: String,
    status: String,
    rate_limit_per_minute: Option<i32>,
    settings: Json,
    created_at: Ts,
    updated_at: Ts,
}

impl TenantRow {
    fn into_domain(self) -> Result<Tenant> {
        Ok(Tenant {
            id: self.id.0,
            name: self.name,
            slug: self.slug,
            plan: Plan::parse(&self.plan).map_err(|e| corrupt("plan", e))?,
            status: TenantStatus::parse(&self.status).map_err(|e| corrupt("status", e))?,
            rate_limit_per_minute: self.rate_limit_per_minute,
            settings: serde_json::from_value(self.settings.0)
                .map_err(|e| corrupt("settings", e))?,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }
}

fn settings_json(t: &Tenant) -> Result<Json> {
    serde_json::to_value(&t.settings)
        .map(Json)
        .map_err(Error::internal)
}

fn map_slug_conflict(e: diesel::result::Error) -> Error {
    if is_unique_violation(&e, "tenants_slug_key") {
        Error::conflict("slug", "A tenant with this slug already exists")
    } else {
        e.into()
    }
}

pub async fn insert(db: &mut Db<'_>, t: &Tenant) -> Result<()> {
    let settings = settings_json(t)?;
    let values = (
        tenants::id.eq(Uid(t.id)),
        tenants::name.eq(&t.name),
        tenants::name_key.eq(fold(&t.name)),
        tenants::slug.eq(&t.slug),
        tenants::plan.eq(t.plan.as_str()),
        tenants::status.eq(t.status.as_str()),
        tenants::rate_limit_per_minute.eq(t.rate_limit_per_minute),
        tenants::settings.eq(settings),
        tenants::created_at.eq(Ts(t.created_at)),
        tenants::updated_at.eq(Ts(t.updated_at)),
    );
    with_conn!(db, |c| diesel::insert_into(tenants::table)
        .values(values)
        .execute(c)
        .await)
    .map_err(map_slug_conflict)?;
    Ok(())
}

/// Writes every mutable field of `t`.
pub async fn update(db: &mut Db<'_>, t: &Tenant) -> Result<bool> {
    let settings = settings_json(t)?;
    let changes = (
        tenants::name.eq(&t.name),
        tenants::name_key.eq(fold(&t.name)),
        tenants::slug.eq(&t.slug),
        tenants::plan.eq(t.plan.as_str()),
        tenants::status.eq(t.status.as_str()),
        tenants::rate_limit_per_minute.eq(t.rate_limit_per_minute),
        tenants::settings.eq(settings),
        tenants::updated_at.eq(Ts(t.updated_at)),
    );
    let n = with_conn!(db, |c| diesel::update(tenants::table.find(Uid(t.id)))
        .set(changes)
        .execute(c)
        .await)
    .map_err(map_slug_conflict)?;
    Ok(n == 1)
}

pub async fn find(db: &mut Db<'_>, id: Uuid) -> Result<Option<Tenant>> {
    let row = with_conn!(db, |c| tenants::table
        .find(Uid(id))
        .select(TenantRow::as_select())
        .first(c)
        .await
        .optional())?;
    row.map(TenantRow::into_domain).transpose()
}

/// The tenant's access version: moved by the database's triggers, in the
/// transaction of every change to what its callers may do (see the
/// migration `access_version`). None: no such tenant.
pub async fn access_version(db: &mut Db<'_>, id: Uuid) -> Result<Option<i64>> {
    Ok(with_conn!(db, |c| tenants::table
        .find(Uid(id))
        .select(tenants::access_version)
        .first::<i64>(c)
        .await
        .optional())?)
}

pub async fn find_by_slug(db: &mut Db<'_>, slug: &str) -> Result<Option<Tenant>> {
    let row = with_conn!(db, |c| tenants::table
        .filter(tenants::slug.eq(slug))
        .select(TenantRow::as_select())
        .first(c)
        .await
        .optional())?;
    row.map(TenantRow::into_domain).transpose()
}

pub async fn count(db: &mut Db<'_>) -> Result<i64> {
    Ok(with_conn!(db, |c| tenants::table
        .count()
        .get_result(c)
        .await)?)
}

pub async fn delete(db: &mut Db<'_>, id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(tenants::table.find(Uid(id)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

impl SortKey for TenantSort {
    type Table = tenants::table;

    fn order<DB: Dialect>(self, s: Sorts<Self::Table, DB>, o: SortOrder) -> Sorts<Self::Table, DB> {
        match self {
            TenantSort::Name => s.by(tenants::name_key, o),
            TenantSort::Slug => s.by(tenants::slug, o),
            TenantSort::Plan => s.by(tenants::plan, o),
            TenantSort::Status => s.by(tenants::status, o),
            TenantSort::CreatedAt => s.by(tenants::created_at, o),
            TenantSort::UpdatedAt => s.by(tenants::updated_at, o),
        }
    }
}

pub async fn list(db: &mut Db<'_>, q: &TenantQuery) -> Result<Listing<Tenant>> {
    let pattern = q
        .search
        .as_deref()
        .map(|s| like_contains(&s.to_lowercase()));
    let listing = with_conn!(db, |c| {
        let filtered = || {
            let search = |p: String| {
                let slug = tenants::slug.like(p.clone()).escape('\\');
                tenants::name_key.like(p).escape('\\').or(slug)
            };
            Ok(tenants::table
                .into_boxed()
                .narrow(pattern.clone().map(search))
                .narrow(q.plan.map(|plan| tenants::plan.eq(plan.as_str())))
                .narrow(q.status.map(|status| tenants::status.eq(status.as_str()))))
        };
        let sorts =
            Sorts::default().keys(q.sort.as_slice(), (TenantSort::CreatedAt, SortOrder::Asc));
        let rows = list::by_id(tenants::id, TenantRow::as_select());
        list::page(c, filtered, sorts, rows, q.page, Total::Count).await
    })?;
    listing.try_map(TenantRow::into_domain)
}
