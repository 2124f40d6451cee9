//! Failed sign-in counting per (tenant, email key). Rows exist for unknown
//! emails too, so that a lockout answer never tells whether an account exists.

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::query_dsl::methods::FilterDsl;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema::login_throttles as lt;
use crate::db::types::DbTimestamptz;
use crate::db::{Db, Ts, Uid};
use crate::domain::settings::LockoutPolicy;
use crate::domain::Result;
use crate::with_conn;
use diesel::sql_types::Integer;

/// Reserves one password guess before the password is checked, so that
/// concurrent guesses are counted as they start, not as they finish: of any
/// number of parallel attempts, at most `max_failed_attempts` are admitted
/// per window. Returns the attempt's number in the window, or None when the
/// email is locked (or its guesses are used up).
pub async fn reserve_attempt(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    email_key: &str,
    policy: &LockoutPolicy,
    now: DateTime<Utc>,
) -> Result<Option<i32>> {
    let cutoff = Ts(now - Duration::minutes(i64::from(policy.window_minutes)));
    let max = i32::try_from(policy.max_failed_attempts).unwrap_or(i32::MAX);
    let now = Ts(now);
    // A window is fresh when it has expired or ended in a lock that has since
    // run out: the count starts again at 1.
    let fresh = || {
        lt::window_started_at
            .le(cutoff)
            .or(lt::locked_until.is_not_null())
    };
    let insert = (
        lt::tenant_id.eq(Uid(tenant_id)),
        lt::email_key.eq(email_key),
        lt::failed_count.eq(1),
        lt::window_started_at.eq(now),
        lt::locked_until.eq(None::<Ts>),
    );
    let count: Option<i32> = with_conn!(db, |c| {
        let stmt = diesel::insert_into(lt::table)
            .values(insert)
            .on_conflict((lt::tenant_id, lt::email_key))
            .do_update()
            .set((
                lt::failed_count
                    .eq(case_when::<_, _, Integer>(fresh(), 1).otherwise(lt::failed_count + 1)),
                lt::window_started_at
                    .eq(case_when::<_, _, DbTimestamptz>(fresh(), now)
                        .otherwise(lt::window_started_at)),
                lt::locked_until.eq(None::<Ts>),
            ));
        FilterDsl::filter(
            stmt,
            lt::locked_until
                .is_null()
                .or(lt::locked_until.le(now))
                .and(fresh().or(lt::failed_count.lt(max))),
        )
        .returning(lt::failed_count)
        .get_result(c)
        .await
        .optional()
    })?;
    Ok(count)
}

/// Locks the email until `until`.
pub async fn lock(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    email_key: &str,
    until: DateTime<Utc>,
) -> Result<()> {
    with_conn!(db, |c| diesel::update(
        lt::table.find((Uid(tenant_id), email_key))
    )
    .set(lt::locked_until.eq(Some(Ts(until))))
    .execute(c)
    .await)?;
    Ok(())
}

/// Forgets failures (after a successful sign-in or an unlock).
pub async fn clear(db: &mut Db<'_>, tenant_id: Uuid, email_key: &str) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        lt::table.find((Uid(tenant_id), email_key))
    )
    .execute(c)
    .await)?;
    Ok(())
}

/// When the email is locked, until when.
pub async fn locked_until(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    email_key: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let until: Option<Option<Ts>> = with_conn!(db, |c| lt::table
        .find((Uid(tenant_id), email_key))
        .select(lt::locked_until)
        .first(c)
        .await
        .optional())?;
    Ok(until.flatten().map(|t| t.0).filter(|t| *t > now))
}
