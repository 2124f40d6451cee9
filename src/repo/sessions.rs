use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::corrupt;
use super::filter::{self, Dialect};
use super::list::{self, Narrow, SortKey, Sorts, Total};
use crate::db::schema::{refresh_tokens, sessions, tenants, users};
use crate::db::{Db, Json, Ts, Uid};
use crate::domain::list::{Listing, PageRequest, SortOrder};
use crate::domain::session::{Device, Session, SessionQuery, SessionSort};
use crate::domain::tenant::TenantStatus;
use crate::domain::user::UserStatus;
use crate::domain::Result;
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
    let listing: Listing<SessionRow> = with_conn!(db, |c| {
        let filtered = || {
            Ok(sessions::table
                .filter(sessions::user_id.eq(Uid(user_id)))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(Ts(now)))
                .into_boxed())
        };
        let sorts = Sorts::default()
            .by(sessions::created_at, SortOrder::Desc)
            .by(sessions::id, SortOrder::Desc);
        let rows = list::by_id(sessions::id, SessionRow::as_select());
        list::page(c, filtered, sorts, rows, page, Total::Count).await
    })?;
    Ok(listing.map(Session::from))
}

impl SortKey for SessionSort {
    type Table = sessions::table;

    fn order<DB: Dialect>(self, s: Sorts<Self::Table, DB>, o: SortOrder) -> Sorts<Self::Table, DB> {
        match self {
            SessionSort::CreatedAt => s.by(sessions::created_at, o),
            SessionSort::RefreshSeq => s.by(sessions::refresh_seq, o),
            SessionSort::LastActivity => s.by(sessions::last_activity_at, o),
        }
    }
}

pub async fn list(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    q: &SessionQuery<'_>,
    now: DateTime<Utc>,
) -> Result<Listing<Session>> {
    let listing: Listing<SessionRow> = with_conn!(db, |c| {
        let filtered = || -> Result<_> {
            Ok(sessions::table
                .filter(sessions::tenant_id.eq(Uid(tenant_id)))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(Ts(now)))
                .into_boxed()
                .narrow(q.user_id.map(|user| sessions::user_id.eq(Uid(user))))
                .narrow(filter::optional::<sessions::table, _>(q.filter)?))
        };
        let sorts = Sorts::default().keys(&q.sort, (SessionSort::CreatedAt, SortOrder::Desc));
        let rows = list::by_id(sessions::id, SessionRow::as_select());
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
    Ok(listing.map(Session::from))
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
