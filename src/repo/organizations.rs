//! Organizations (docs/api/jsonapi.md): teams inside a tenant.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::filter;
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

pub async fn list(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    q: &OrganizationQuery<'_>,
) -> Result<Listing<Organization>> {
    let fetch = q.page.fetch(!q.skip_count);
    let (rows, total) = with_conn!(db, |c| {
        let mut predicates = Vec::new();
        for _ in 0..2 {
            predicates.push(
                q.filter
                    .map(filter::predicate::<organizations::table, _>)
                    .transpose()?,
            );
        }
        let filtered = |extra| {
            let mut query = organizations::table
                .filter(organizations::tenant_id.eq(Uid(tenant_id)))
                .into_boxed();
            if let Some(extra) = extra {
                query = query.filter(extra);
            }
            query
        };
        let counted = predicates.pop().flatten();
        let total: Option<i64> = if q.skip_count {
            None
        } else {
            Some(filtered(counted).count().get_result(c).await?)
        };
        let mut query = filtered(predicates.pop().flatten());
        for (key, order) in &q.sort {
            query = match (key, order) {
                (OrganizationSort::Name, SortOrder::Asc) => {
                    query.then_order_by(organizations::name_key.asc())
                }
                (OrganizationSort::Name, SortOrder::Desc) => {
                    query.then_order_by(organizations::name_key.desc())
                }
                (OrganizationSort::CreatedAt, SortOrder::Asc) => {
                    query.then_order_by(organizations::created_at.asc())
                }
                (OrganizationSort::CreatedAt, SortOrder::Desc) => {
                    query.then_order_by(organizations::created_at.desc())
                }
                (OrganizationSort::UpdatedAt, SortOrder::Asc) => {
                    query.then_order_by(organizations::updated_at.asc())
                }
                (OrganizationSort::UpdatedAt, SortOrder::Desc) => {
                    query.then_order_by(organizations::updated_at.desc())
                }
            };
        }
        if q.sort.is_empty() {
            query = query.then_order_by(organizations::created_at.asc());
        }
        let rows: Vec<OrganizationRow> = query
            .then_order_by(organizations::id.asc())
            .select(OrganizationRow::as_select())
            .limit(fetch)
            .offset(q.page.offset())
            .load(c)
            .await?;
        Ok::<_, Error>((rows, total))
    })?;
    let rows = rows.into_iter().map(Organization::from).collect();
    Ok(Listing::of(rows, total, q.page))
}
