//! Organizations (docs/api/jsonapi.md): teams inside a tenant.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::filter::{self, Dialect};
use super::list::{self, Narrow, SortKey, Sorts, Total};
use crate::db::schema::{organizations, users};
use crate::db::{is_unique_violation, Db, Ts, Uid};
use crate::domain::account::{Organization, OrganizationQuery, OrganizationSort};
use crate::domain::list::{Listing, SortOrder};
use crate::domain::user::fold;
use crate::domain::{Error, Result};
use crate::with_conn;

#[derive(Queryable, Selectable)]
#[diesel(table_name = organizations)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct OrganizationRow {
    id: Uid,
    tenant_id: Uid,
    name: String,
    created_at: Ts,
    updated_at: Ts,
}

impl From<OrganizationRow> for Organization {
    fn from(r: OrganizationRow) -> Self {
        Organization {
            id: r.id.0,
            tenant_id: r.tenant_id.0,
            name: r.name,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        }
    }
}

fn duplicate_name(e: diesel::result::Error) -> Error {
    if is_unique_violation(&e, "organizations_tenant_name_key") {
        Error::conflict("name", "An organization with this name already exists")
    } else {
        e.into()
    }
}

pub async fn insert(db: &mut Db<'_>, o: &Organization) -> Result<()> {
    let values = (
        organizations::id.eq(Uid(o.id)),
        organizations::tenant_id.eq(Uid(o.tenant_id)),
        organizations::name.eq(&o.name),
        organizations::name_key.eq(fold(&o.name)),
        organizations::created_at.eq(Ts(o.created_at)),
        organizations::updated_at.eq(Ts(o.updated_at)),
    );
    with_conn!(db, |c| diesel::insert_into(organizations::table)
        .values(values)
        .execute(c)
        .await)
    .map_err(duplicate_name)?;
    Ok(())
}

pub async fn update(db: &mut Db<'_>, o: &Organization) -> Result<()> {
    with_conn!(db, |c| diesel::update(organizations::table.find(Uid(o.id)))
        .set((
            organizations::name.eq(&o.name),
            organizations::name_key.eq(fold(&o.name)),
            organizations::updated_at.eq(Ts(o.updated_at)),
        ))
        .execute(c)
        .await)
    .map_err(duplicate_name)?;
    Ok(())
}

pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<Option<Organization>> {
    let row = with_conn!(db, |c| organizations::table
        .filter(organizations::id.eq(Uid(id)))
        .filter(organizations::tenant_id.eq(Uid(tenant_id)))
        .select(OrganizationRow::as_select())
        .first(c)
        .await
        .optional())?;
    Ok(row.map(Organization::from))
}

/// Many organizations of a tenant by id (for compound documents).
pub async fn find_many(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Organization>> {
    let ids: Vec<Uid> = ids.iter().copied().map(Uid).collect();
    let rows: Vec<OrganizationRow> = with_conn!(db, |c| organizations::table
        .filter(organizations::tenant_id.eq(Uid(tenant_id)))
        .filter(organizations::id.eq_any(ids))
        .select(OrganizationRow::as_select())
        .load(c)
        .await)?;
    Ok(rows.into_iter().map(Organization::from).collect())
}

/// How many accounts belong to the organization.
pub async fn member_count(db: &mut Db<'_>, id: Uuid) -> Result<i64> {
    Ok(with_conn!(db, |c| users::table
        .filter(users::organization_id.eq(Uid(id)))
        .count()
        .get_result(c)
        .await)?)
}

pub async fn delete(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        organizations::table
            .filter(organizations::id.eq(Uid(id)))
            .filter(organizations::tenant_id.eq(Uid(tenant_id)))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

impl SortKey for OrganizationSort {
    type Table = organizations::table;

    fn order<DB: Dialect>(self, s: Sorts<Self::Table, DB>, o: SortOrder) -> Sorts<Self::Table, DB> {
        match self {
            OrganizationSort::Name => s.by(organizations::name_key, o),
            OrganizationSort::CreatedAt => s.by(organizations::created_at, o),
            OrganizationSort::UpdatedAt => s.by(organizations::updated_at, o),
        }
    }
}

pub async fn list(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    q: &OrganizationQuery<'_>,
) -> Result<Listing<Organization>> {
    let listing: Listing<OrganizationRow> = with_conn!(db, |c| {
        let filtered = || -> Result<_> {
            Ok(organizations::table
                .filter(organizations::tenant_id.eq(Uid(tenant_id)))
                .into_boxed()
                .narrow(filter::optional::<organizations::table, _>(q.filter)?))
        };
        let sorts = Sorts::default().keys(&q.sort, (OrganizationSort::CreatedAt, SortOrder::Asc));
        let rows = list::by_id(organizations::id, OrganizationRow::as_select());
        list::page(
            c,
            filtered,
            sorts,
            rows,
            q.page,
            Total::unless(q.skip_count),
        )
        .await
    })?;
    Ok(listing.map(Organization::from))
}
