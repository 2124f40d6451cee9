//! OAuth grants (one per token request; what a client's access tokens and
//! refresh tokens belong to) and client refresh tokens (SHA-256 hashes).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::corrupt;
use crate::db::schema::{
    oauth_clients, oauth_grants as grants, oauth_refresh_tokens as rt, tenants,
};
use crate::db::{Db, Ts, Uid};
use crate::domain::tenant::TenantStatus;
use crate::domain::Result;
use crate::with_conn;

#[derive(Debug, Clone)]
pub struct Grant {
    pub id: Uuid,
    pub client_id: Uuid,
    pub grant_type: String,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Grant {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = grants)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct GrantRow {
    id: Uid,
    client_id: Uid,
    grant_type: String,
    scope: String,
    created_at: Ts,
    expires_at: Ts,
    revoked_at: Option<Ts>,
}

impl From<GrantRow> for Grant {
    fn from(r: GrantRow) -> Self {
        Grant {
            id: r.id.0,
            client_id: r.client_id.0,
            grant_type: r.grant_type,
            scope: r.scope,
            created_at: r.created_at.0,
            expires_at: r.expires_at.0,
            revoked_at: r.revoked_at.map(|t| t.0),
        }
    }
}

pub async fn insert(db: &mut Db<'_>, g: &Grant) -> Result<()> {
    let values = (
        grants::id.eq(Uid(g.id)),
        grants::client_id.eq(Uid(g.client_id)),
        grants::grant_type.eq(&g.grant_type),
        grants::scope.eq(&g.scope),
        grants::created_at.eq(Ts(g.created_at)),
        grants::expires_at.eq(Ts(g.expires_at)),
        grants::revoked_at.eq(g.revoked_at.map(Ts)),
    );
    with_conn!(db, |c| diesel::insert_into(grants::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

/// What a request needs to trust a client's access token, in one query:
/// the grant, and its client's current state and tenant.
#[derive(Debug, Clone)]
pub struct GrantState {
    pub grant: Grant,
    pub tenant_id: Uuid,
    pub client_name: String,
    pub client_enabled: bool,
    pub client_scopes: Vec<String>,
    pub tenant_status: TenantStatus,
}

pub async fn find_state(db: &mut Db<'_>, id: Uuid) -> Result<Option<GrantState>> {
    let row = with_conn!(db, |c| grants::table
        .inner_join(oauth_clients::table.inner_join(tenants::table))
        .filter(grants::id.eq(Uid(id)))
        .select((
            GrantRow::as_select(),
            oauth_clients::tenant_id,
            oauth_clients::name,
            oauth_clients::enabled,
            oauth_clients::scopes,
            tenants::status,
        ))
        .first::<(GrantRow, Uid, String, bool, crate::db::Json, String)>(c)
        .await
        .optional())?;
    row.map(|(g, tenant_id, name, enabled, scopes, status)| {
        Ok(GrantState {
            grant: g.into(),
            tenant_id: tenant_id.0,
            client_name: name,
            client_enabled: enabled,
            client_scopes: serde_json::from_value(scopes.0)
                .map_err(|e| corrupt("client scopes", e))?,
            tenant_status: TenantStatus::parse(&status).map_err(|e| corrupt("tenant status", e))?,
        })
    })
    .transpose()
}

/// Revokes a grant: every access and refresh token of it stops working.
pub async fn revoke(db: &mut Db<'_>, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::update(grants::table.find(Uid(id)))
        .filter(grants::revoked_at.is_null())
        .set(grants::revoked_at.eq(Ts(now)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Revokes every live grant of a client (it was disabled).
pub async fn revoke_for_client(
    db: &mut Db<'_>,
    client_id: Uuid,
    now: DateTime<Utc>,
) -> Result<usize> {
    Ok(with_conn!(db, |c| diesel::update(grants::table)
        .filter(grants::client_id.eq(Uid(client_id)))
        .filter(grants::revoked_at.is_null())
        .set(grants::revoked_at.eq(Ts(now)))
        .execute(c)
        .await)?)
}

/// Moves a grant's end (each refresh extends it to the new refresh token's).
pub async fn extend(db: &mut Db<'_>, id: Uuid, expires_at: DateTime<Utc>) -> Result<()> {
    with_conn!(db, |c| diesel::update(grants::table.find(Uid(id)))
        .set(grants::expires_at.eq(Ts(expires_at)))
        .execute(c)
        .await)?;
    Ok(())
}

// ---- refresh tokens ----

pub async fn insert_refresh_token(
    db: &mut Db<'_>,
    hash: &str,
    grant_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    let values = (
        rt::token_hash.eq(hash),
        rt::grant_id.eq(Uid(grant_id)),
        rt::created_at.eq(Ts(now)),
        rt::expires_at.eq(Ts(expires_at)),
    );
    with_conn!(db, |c| diesel::insert_into(rt::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

/// Marks an unused, unexpired refresh token of `client_id` as used and
/// returns its grant. Atomic: of two concurrent presentations, one claims
/// it; another client's token is never claimed.
pub async fn claim_refresh_token(
    db: &mut Db<'_>,
    hash: &str,
    client_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>> {
    let of_client = grants::table
        .filter(grants::client_id.eq(Uid(client_id)))
        .select(grants::id);
    let grant: Option<Uid> = with_conn!(db, |c| diesel::update(rt::table.find(hash))
        .filter(rt::used_at.is_null())
        .filter(rt::expires_at.gt(Ts(now)))
        .filter(rt::grant_id.eq_any(of_client))
        .set(rt::used_at.eq(Ts(now)))
        .returning(rt::grant_id)
        .get_result(c)
        .await
        .optional())?;
    Ok(grant.map(|u| u.0))
}

/// A refresh token as stored, with its grant.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub grant: Grant,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

pub async fn find_refresh_token(db: &mut Db<'_>, hash: &str) -> Result<Option<RefreshToken>> {
    let row = with_conn!(db, |c| rt::table
        .inner_join(grants::table)
        .filter(rt::token_hash.eq(hash))
        .select((
            GrantRow::as_select(),
            rt::created_at,
            rt::expires_at,
            rt::used_at
        ))
        .first::<(GrantRow, Ts, Ts, Option<Ts>)>(c)
        .await
        .optional())?;
    Ok(row.map(|(g, created, expires, used)| RefreshToken {
        grant: g.into(),
        created_at: created.0,
        expires_at: expires.0,
        used_at: used.map(|t| t.0),
    }))
}
