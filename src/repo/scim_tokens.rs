//! SCIM tokens: stored as SHA-256 hashes, looked up by hash.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema::{scim_tokens as st, tenants};
use crate::db::{Db, Ts, Uid};
use crate::domain::scim_token::ScimToken;
use crate::domain::Result;
use crate::with_conn;

#[derive(Queryable, Selectable)]
#[diesel(table_name = st)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct TokenRow {
    id: Uid,
    tenant_id: Uid,
    name: String,
    provider: Option<String>,
    provider_display_name: Option<String>,
    token_hint: String,
    created_by: Option<Uid>,
    created_at: Ts,
    last_used_at: Option<Ts>,
    minted_by: Option<String>,
}

impl From<TokenRow> for ScimToken {
    fn from(r: TokenRow) -> ScimToken {
        ScimToken {
            id: r.id.0,
            tenant_id: r.tenant_id.0,
            name: r.name,
            provider: r.provider,
            provider_display_name: r.provider_display_name,
            token_hint: r.token_hint,
            created_by: r.created_by.map(|u| u.0),
            created_at: r.created_at.0,
            last_used_at: r.last_used_at.map(|t| t.0),
            minted_by: r.minted_by,
        }
    }
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

pub async fn list(db: &mut Db<'_>, tenant_id: Uuid) -> Result<Vec<ScimToken>> {
    let rows: Vec<TokenRow> = with_conn!(db, |c| st::table
        .filter(st::tenant_id.eq(Uid(tenant_id)))
        .order((st::created_at.asc(), st::id.asc()))
        .select(TokenRow::as_select())
        .load(c)
        .await)?;
    Ok(rows.into_iter().map(ScimToken::from).collect())
}

pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<Option<ScimToken>> {
    let row: Option<TokenRow> = with_conn!(db, |c| st::table
        .filter(st::id.eq(Uid(id)))
        .filter(st::tenant_id.eq(Uid(tenant_id)))
        .select(TokenRow::as_select())
        .first(c)
        .await
        .optional())?;
    Ok(row.map(ScimToken::from))
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
pub async fn find_by_hash(db: &mut Db<'_>, hash: &str) -> Result<Option<(ScimToken, String)>> {
    let row: Option<(TokenRow, String)> = with_conn!(db, |c| st::table
        .inner_join(tenants::table)
        .filter(st::token_hash.eq(hash))
        .select((TokenRow::as_select(), tenants::status))
        .first(c)
        .await
        .optional())?;
    Ok(row.map(|(t, status)| (t.into(), status)))
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
