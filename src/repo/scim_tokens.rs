//! SCIM tokens: stored as SHA-256 hashes, looked up by hash.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema::{scim_tokens as st, tenants};
use crate::db::{Db, Ts, Uid};
use crate::domain::Result;
use crate::with_conn;

/// A SCIM token as listed (never its secret).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = st)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TokenRow {
    pub id: Uid,
    pub tenant_id: Uid,
    pub name: String,
    pub provider: Option<String>,
    pub provider_display_name: Option<String>,
    pub token_hint: String,
    pub created_by: Option<Uid>,
    pub created_at: Ts,
    pub last_used_at: Option<Ts>,
    /// Who made it (`user-<uuid>`, `client-<uuid>`): it acts with at most
    /// what they hold.
    pub minted_by: Option<String>,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    db: &mut Db<'_>,
    id: Uuid,
    tenant_id: Uuid,
    name: &str,
    provider: Option<&str>,
    provider_display_name: Option<&str>,
    hash: &str,
    hint: &str,
    created_by: Option<Uuid>,
    minted_by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let values = (
        st::id.eq(Uid(id)),
        st::tenant_id.eq(Uid(tenant_id)),
        st::name.eq(name),
        st::provider.eq(provider),
        st::provider_display_name.eq(provider_display_name),
        st::token_hash.eq(hash),
        st::token_hint.eq(hint),
        st::created_by.eq(created_by.map(Uid)),
        st::created_at.eq(Ts(now)),
        st::minted_by.eq(minted_by),
    );
    with_conn!(db, |c| diesel::insert_into(st::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn list(db: &mut Db<'_>, tenant_id: Uuid) -> Result<Vec<TokenRow>> {
    Ok(with_conn!(db, |c| st::table
        .filter(st::tenant_id.eq(Uid(tenant_id)))
        .order((st::created_at.asc(), st::id.asc()))
        .select(TokenRow::as_select())
        .load(c)
        .await)?)
}

pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<Option<TokenRow>> {
    Ok(with_conn!(db, |c| st::table
        .filter(st::id.eq(Uid(id)))
        .filter(st::tenant_id.eq(Uid(tenant_id)))
        .select(TokenRow::as_select())
        .first(c)
        .await
        .optional())?)
}

pub async fn delete(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        st::table
            .filter(st::id.eq(Uid(id)))
            .filter(st::tenant_id.eq(Uid(tenant_id)))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

/// The token with this hash and whether its tenant is active.
pub async fn find_by_hash(db: &mut Db<'_>, hash: &str) -> Result<Option<(TokenRow, String)>> {
    Ok(with_conn!(db, |c| st::table
        .inner_join(tenants::table)
        .filter(st::token_hash.eq(hash))
        .select((TokenRow::as_select(), tenants::status))
        .first(c)
        .await
        .optional())?)
}

/// Records use, at most once a minute per token.
pub async fn touch(db: &mut Db<'_>, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    let stale = Ts(now - chrono::Duration::seconds(60));
    with_conn!(db, |c| diesel::update(st::table.find(Uid(id)))
        .filter(st::last_used_at.is_null().or(st::last_used_at.lt(stale)))
        .set(st::last_used_at.eq(Ts(now)))
        .execute(c)
        .await)?;
    Ok(())
}
