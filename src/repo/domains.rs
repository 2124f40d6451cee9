//! A tenant's email domains. Names arrive normalized (`domain::tenant_domain`),
//! so equality here is DNS equality. Two unique indexes hold the rules: a
//! tenant registers a name once, and a verified name has one owner.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::like_contains;
use crate::db::schema::tenant_domains as domains;
use crate::db::{is_unique_violation, Db, Ts, Uid};
use crate::domain::tenant_domain::TenantDomain;
use crate::domain::{Error, Result};
use crate::with_conn;

#[derive(Queryable, Selectable)]
#[diesel(table_name = domains)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct DomainRow {
    id: Uid,
    tenant_id: Uid,
    name: String,
    verification_token: String,
    verified_at: Option<Ts>,
    created_at: Ts,
    updated_at: Ts,
}

impl From<DomainRow> for TenantDomain {
    fn from(r: DomainRow) -> Self {
        TenantDomain {
            id: r.id.0,
            tenant_id: r.tenant_id.0,
            name: r.name,
            verification_token: r.verification_token,
            verified_at: r.verified_at.map(|t| t.0),
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        }
    }
}

/// The error a verified name of another tenant gets.
pub fn owned_elsewhere() -> Error {
    Error::conflict(
        "domain",
        "This domain is already verified by another tenant",
    )
}

pub async fn insert(db: &mut Db<'_>, d: &TenantDomain, created_by: Option<Uuid>) -> Result<()> {
    let values = (
        domains::id.eq(Uid(d.id)),
        domains::tenant_id.eq(Uid(d.tenant_id)),
        domains::name.eq(&d.name),
        domains::verification_token.eq(&d.verification_token),
        domains::verified_at.eq(d.verified_at.map(Ts)),
        domains::created_by.eq(created_by.map(Uid)),
        domains::created_at.eq(Ts(d.created_at)),
        domains::updated_at.eq(Ts(d.updated_at)),
    );
    let inserted = with_conn!(db, |c| diesel::insert_into(domains::table)
        .values(values)
        .execute(c)
        .await);
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e, "tenant_domains_tenant_name_key") => Err(
            Error::conflict("domain", "This domain is already registered"),
        ),
        Err(e) => Err(e.into()),
    }
}

/// The tenant's registration of `name`.
pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, name: &str) -> Result<Option<TenantDomain>> {
    let row = with_conn!(db, |c| domains::table
        .filter(domains::tenant_id.eq(Uid(tenant_id)))
        .filter(domains::name.eq(name))
        .select(DomainRow::as_select())
        .first(c)
        .await
        .optional())?;
    Ok(row.map(TenantDomain::from))
}

/// The tenant's domains by name, those containing `filter` if given.
pub async fn list(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    filter: Option<&str>,
) -> Result<Vec<TenantDomain>> {
    let pattern = filter.map(like_contains);
    let rows: Vec<DomainRow> = with_conn!(db, |c| {
        let mut query = domains::table
            .filter(domains::tenant_id.eq(Uid(tenant_id)))
            .into_boxed();
        if let Some(p) = &pattern {
            query = query.filter(domains::name.like(p.clone()).escape('\\'));
        }
        query
            .order(domains::name.asc())
            .select(DomainRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows.into_iter().map(TenantDomain::from).collect())
}

pub async fn count(db: &mut Db<'_>, tenant_id: Uuid) -> Result<i64> {
    Ok(with_conn!(db, |c| domains::table
        .filter(domains::tenant_id.eq(Uid(tenant_id)))
        .count()
        .get_result(c)
        .await)?)
}

/// Does another tenant hold `name` verified?
pub async fn verified_elsewhere(db: &mut Db<'_>, tenant_id: Uuid, name: &str) -> Result<bool> {
    let n: i64 = with_conn!(db, |c| domains::table
        .filter(domains::name.eq(name))
        .filter(domains::tenant_id.ne(Uid(tenant_id)))
        .filter(domains::verified_at.is_not_null())
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}

/// Marks a registration verified; the unique index on verified names
/// refuses it when another tenant got there first (a race the caller's
/// check could not see).
pub async fn mark_verified(db: &mut Db<'_>, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    let updated = with_conn!(db, |c| diesel::update(domains::table.find(Uid(id)))
        .filter(domains::verified_at.is_null())
        .set((
            domains::verified_at.eq(Some(Ts(now))),
            domains::updated_at.eq(Ts(now)),
        ))
        .execute(c)
        .await);
    match updated {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e, "tenant_domains_verified_name_key") => {
            Err(owned_elsewhere())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(db: &mut Db<'_>, tenant_id: Uuid, name: &str) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        domains::table
            .filter(domains::tenant_id.eq(Uid(tenant_id)))
            .filter(domains::name.eq(name))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}
