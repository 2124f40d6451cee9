use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::corrupt;
use super::filter;
use crate::db::schema::{refresh_tokens, sessions, tenants, users};
use crate::db::{Db, Json, Ts, Uid};
use crate::domain::list::{Listing, PageRequest, SortOrder};
use crate::domain::session::{Device, Session, SessionQuery, SessionSort};
use crate::domain::tenant::TenantStatus;
use crate::domain::user::UserStatus;
use crate::domain::{Error, Result};
use crate::with_conn;

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct SessionRow {
    id: Uid,
    tenant_id: Uid,
    user_id: Uid,
    user_agent: String,
    ip_address: Option<String>,
    device_type: String,
    device_name: String,
    location: Option<Json>,
    remember_me: bool,
    refresh_seq: i32,
    created_at: Ts,
    last_activity_at: Ts,
    expires_at: Ts,
    revoked_at: Option<Ts>,
    nonce: String,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: r.id.0,
            tenant_id: r.tenant_id.0,
            user_id: r.user_id.0,
            user_agent: r.user_agent,
            ip_address: r.ip_address,
            device: Device {
                kind: r.device_type,
                name: r.device_name,
            },
            location: r.location.map(|j| j.0),
            remember_me: r.remember_me,
            refresh_seq: r.refresh_seq,
            created_at: r.created_at.0,
            last_activity_at: r.last_activity_at.0,
            expires_at: r.expires_at.0,
            revoked_at: r.revoked_at.map(|t| t.0),
            nonce: r.nonce,
        }
    }
}

pub async fn insert(db: &mut Db<'_>, s: &Session) -> Result<()> {
    let values = (
        sessions::id.eq(Uid(s.id)),
        sessions::tenant_id.eq(Uid(s.tenant_id)),
        sessions::user_id.eq(Uid(s.user_id)),
        sessions::user_agent.eq(&s.user_agent),
        sessions::ip_address.eq(&s.ip_address),
        sessions::device_type.eq(&s.device.kind),
        sessions::device_name.eq(&s.device.name),
        sessions::location.eq(s.location.clone().map(Json)),
        sessions::remember_me.eq(s.remember_me),
        sessions::refresh_seq.eq(s.refresh_seq),
        sessions::created_at.eq(Ts(s.created_at)),
        sessions::last_activity_at.eq(Ts(s.last_activity_at)),
        sessions::expires_at.eq(Ts(s.expires_at)),
        sessions::revoked_at.eq(s.revoked_at.map(Ts)),
        sessions::nonce.eq(&s.nonce),
    );
    with_conn!(db, |c| diesel::insert_into(sessions::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn find(db: &mut Db<'_>, id: Uuid) -> Result<Option<Session>> {
    let row = with_conn!(db, |c| sessions::table
        .find(Uid(id))
        .select(SessionRow::as_select())
        .first(c)
        .await
        .optional())?;
    Ok(row.map(Session::from))
}

/// What a request needs to know to trust an access token's session: the
/// session and the current state of its user and tenant, in one query.
#[derive(Debug, Clone)]
pub struct SessionState {
    pub session: Session,
    pub user_status: UserStatus,
    /// The user's email, else their userName (`User::label`).
    pub user_label: String,
    pub platform_admin: bool,
    pub tenant_status: TenantStatus,
}

pub async fn find_state(db: &mut Db<'_>, id: Uuid) -> Result<Option<SessionState>> {
    let row = with_conn!(db, |c| sessions::table
        .inner_join(users::table)
        .inner_join(tenants::table)
        .filter(sessions::id.eq(Uid(id)))
        .select((
            SessionRow::as_select(),
            users::status,
            users::email,
            users::user_name,
            users::is_platform_admin,
            tenants::status,
        ))
        .first::<(SessionRow, String, Option<String>, String, bool, String)>(c)
        .await
        .optional())?;
    row.map(
        |(s, user_status, email, user_name, platform_admin, tenant_status)| {
            Ok(SessionState {
                session: s.into(),
                user_status: UserStatus::parse(&user_status)
                    .map_err(|e| corrupt("user status", e))?,
                user_label: email.unwrap_or(user_name),
                platform_admin,
                tenant_status: TenantStatus::parse(&tenant_status)
                    .map_err(|e| corrupt("tenant status", e))?,
            })
        },
    )
    .transpose()
}

/// Records activity, at most once a minute per session so that reads do
/// not turn into a write per request.
pub async fn touch(db: &mut Db<'_>, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    let stale = Ts(now - chrono::Duration::seconds(60));
    with_conn!(db, |c| diesel::update(sessions::table.find(Uid(id)))
        .filter(sessions::last_activity_at.lt(stale))
        .set(sessions::last_activity_at.eq(Ts(now)))
        .execute(c)
        .await)?;
    Ok(())
}

/// A user's sessions that are neither revoked nor expired, newest first.
pub async fn list_active(
    db: &mut Db<'_>,
    user_id: Uuid,
    now: DateTime<Utc>,
    page: PageRequest,
) -> Result<Listing<Session>> {
    let (rows, total) = with_conn!(db, |c| {
        let active = || {
            sessions::table
                .filter(sessions::user_id.eq(Uid(user_id)))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(Ts(now)))
                .into_boxed()
        };
        let total: i64 = active().count().get_result(c).await?;
        let rows: Vec<SessionRow> = active()
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .select(SessionRow::as_select())
            .limit(i64::from(page.limit))
            .offset(page.offset())
            .load(c)
            .await?;
        Ok::<_, diesel::result::Error>((rows, total))
    })?;
    Ok(Listing {
        items: rows.into_iter().map(Session::from).collect(),
        total,
        page,
    })
}

pub async fn list(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    q: &SessionQuery<'_>,
    now: DateTime<Utc>,
) -> Result<Listing<Session>> {
    let fetch = q.page.fetch(!q.skip_count);
    let (rows, total) = with_conn!(db, |c| {
        let mut predicates = Vec::new();
        for _ in 0..2 {
            predicates.push(
                q.filter
                    .map(filter::predicate::<sessions::table, _>)
                    .transpose()?,
            );
        }
        let filtered = |extra| {
            let mut query = sessions::table
                .filter(sessions::tenant_id.eq(Uid(tenant_id)))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(Ts(now)))
                .into_boxed();
            if let Some(user) = q.user_id {
                query = query.filter(sessions::user_id.eq(Uid(user)));
            }
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
                (SessionSort::CreatedAt, SortOrder::Asc) => {
                    query.then_order_by(sessions::created_at.asc())
                }
                (SessionSort::CreatedAt, SortOrder::Desc) => {
                    query.then_order_by(sessions::created_at.desc())
                }
                (SessionSort::RefreshSeq, SortOrder::Asc) => {
                    query.then_order_by(sessions::refresh_seq.asc())
                }
                (SessionSort::RefreshSeq, SortOrder::Desc) => {
                    query.then_order_by(sessions::refresh_seq.desc())
                }
                (SessionSort::LastActivity, SortOrder::Asc) => {
                    query.then_order_by(sessions::last_activity_at.asc())
                }
                (SessionSort::LastActivity, SortOrder::Desc) => {
                    query.then_order_by(sessions::last_activity_at.desc())
                }
            };
        }
        if q.sort.is_empty() {
            query = query.then_order_by(sessions::created_at.desc());
        }
        let rows: Vec<SessionRow> = query
            .then_order_by(sessions::id.asc())
            .select(SessionRow::as_select())
            .limit(fetch)
            .offset(q.page.offset())
            .load(c)
            .await?;
        Ok::<_, Error>((rows, total))
    })?;
    let rows = rows.into_iter().map(Session::from).collect();
    Ok(Listing::of(rows, total, q.page))
}

/// An active session of the tenant.
pub async fn find_active_in_tenant(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Session>> {
    let row = with_conn!(db, |c| sessions::table
        .filter(sessions::id.eq(Uid(id)))
        .filter(sessions::tenant_id.eq(Uid(tenant_id)))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(Ts(now)))
        .select(SessionRow::as_select())
        .first(c)
        .await
        .optional())?;
    Ok(row.map(Session::from))
}

/// Revokes one active session of a user; false when there is none.
pub async fn revoke(db: &mut Db<'_>, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::update(sessions::table.find(Uid(id)))
        .filter(sessions::user_id.eq(Uid(user_id)))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::revoked_at.eq(Ts(now)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Revokes every active session of a user except `keep`; returns how many.
pub async fn revoke_all(
    db: &mut Db<'_>,
    user_id: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<usize> {
    let keep = Uid(keep.unwrap_or(Uuid::nil()));
    let n = with_conn!(db, |c| diesel::update(sessions::table)
        .filter(sessions::user_id.eq(Uid(user_id)))
        .filter(sessions::id.ne(keep))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::revoked_at.eq(Ts(now)))
        .execute(c)
        .await)?;
    Ok(n)
}

/// Counts a refresh (rotation) on the session.
pub async fn record_refresh(db: &mut Db<'_>, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    with_conn!(db, |c| diesel::update(sessions::table.find(Uid(id)))
        .set((
            sessions::refresh_seq.eq(sessions::refresh_seq + 1),
            sessions::last_activity_at.eq(Ts(now)),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

// ---- refresh tokens (stored as SHA-256 hashes) ----

/// Who a user's refresh token was issued to: an OAuth client and the
/// scope it was granted, or (None) the first-party sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshBinding {
    pub client_id: Uuid,
    pub scope: String,
}

pub async fn insert_refresh_token(
    db: &mut Db<'_>,
    hash: &str,
    session_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    binding: Option<&RefreshBinding>,
) -> Result<()> {
    let values = (
        refresh_tokens::token_hash.eq(hash),
        refresh_tokens::session_id.eq(Uid(session_id)),
        refresh_tokens::created_at.eq(Ts(now)),
        refresh_tokens::expires_at.eq(Ts(expires_at)),
        refresh_tokens::client_id.eq(binding.map(|b| Uid(b.client_id))),
        refresh_tokens::scope.eq(binding.map(|b| b.scope.clone())),
    );
    with_conn!(db, |c| diesel::insert_into(refresh_tokens::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

/// Marks an unused, unexpired refresh token as used and returns its
/// session and binding. Atomic: of two concurrent presentations, one
/// claims it.
pub async fn claim_refresh_token(
    db: &mut Db<'_>,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, Option<RefreshBinding>)>> {
    type Row = (Uid, Option<Uid>, Option<String>);
    let row: Option<Row> = with_conn!(db, |c| diesel::update(refresh_tokens::table.find(hash))
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::expires_at.gt(Ts(now)))
        .set(refresh_tokens::used_at.eq(Ts(now)))
        .returning((
            refresh_tokens::session_id,
            refresh_tokens::client_id,
            refresh_tokens::scope
        ))
        .get_result(c)
        .await
        .optional())?;
    Ok(row.map(|(sid, client, scope)| {
        let binding = client.map(|c| RefreshBinding {
            client_id: c.0,
            scope: scope.unwrap_or_default(),
        });
        (sid.0, binding)
    }))
}

/// A person's refresh token as stored, read without using it
/// (introspection, revocation).
#[derive(Debug, Clone)]
pub struct StoredRefreshToken {
    pub session_id: Uuid,
    pub binding: Option<RefreshBinding>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

pub async fn find_refresh_token(db: &mut Db<'_>, hash: &str) -> Result<Option<StoredRefreshToken>> {
    type Row = (Uid, Option<Uid>, Option<String>, Ts, Ts, Option<Ts>);
    let row: Option<Row> = with_conn!(db, |c| refresh_tokens::table
        .find(hash)
        .select((
            refresh_tokens::session_id,
            refresh_tokens::client_id,
            refresh_tokens::scope,
            refresh_tokens::created_at,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
        ))
        .first(c)
        .await
        .optional())?;
    Ok(row.map(
        |(sid, client, scope, created, expires, used)| StoredRefreshToken {
            session_id: sid.0,
            binding: client.map(|c| RefreshBinding {
                client_id: c.0,
                scope: scope.unwrap_or_default(),
            }),
            created_at: created.0,
            expires_at: expires.0,
            used: used.is_some(),
        },
    ))
}

/// The session of a refresh token that was already used, if it was.
pub async fn used_refresh_token_session(db: &mut Db<'_>, hash: &str) -> Result<Option<Uuid>> {
    let sid: Option<Uid> = with_conn!(db, |c| refresh_tokens::table
        .find(hash)
        .filter(refresh_tokens::used_at.is_not_null())
        .select(refresh_tokens::session_id)
        .first(c)
        .await
        .optional())?;
    Ok(sid.map(|u| u.0))
}

/// Revokes a session whoever owns it (refresh-token reuse).
pub async fn revoke_by_id(db: &mut Db<'_>, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::update(sessions::table.find(Uid(id)))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::revoked_at.eq(Ts(now)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}
