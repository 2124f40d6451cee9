//! Failed sign-in counting per (tenant, email key). Rows exist for unknown
//! emails too, so that a lockout answer never tells whether an account exists.
//!
//! A guess is admitted before its password is checked, and counted as
//! pending until it is settled as a success or a failure. Admission needs
//! `failed + pending < max`, in one atomic statement: however many guesses
//! arrive at once, no more than `max` can be under check, and the one
//! failure that reaches `max` sets the lock.

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::Integer;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema::login_throttles as lt;
use crate::db::types::DbTimestamptz;
use crate::db::{Db, Ts, Uid};
use crate::domain::settings::LockoutPolicy;
use crate::domain::Result;
use crate::with_conn;

fn max_attempts(policy: &LockoutPolicy) -> i32 {
    i32::try_from(policy.max_failed_attempts).unwrap_or(i32::MAX)
}

/// Admits one guess if the email is not locked and fewer than `max`
/// guesses are failed or pending in the current window. Returns whether it
/// was admitted; if not, `state` tells why.
pub async fn admit(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    email_key: &str,
    policy: &LockoutPolicy,
    now: DateTime<Utc>,
) -> Result<bool> {
    let cutoff = Ts(now - Duration::minutes(i64::from(policy.window_minutes)));
    let max = max_attempts(policy);
    let now = Ts(now);
    // A window is fresh when it has expired or ended in a lock that has since
    // run out: counting starts again.
    let fresh = || {
        lt::window_started_at
            .le(cutoff)
            .or(lt::locked_until.is_not_null())
    };
    let insert = (
        lt::tenant_id.eq(Uid(tenant_id)),
        lt::email_key.eq(email_key),
        lt::failed_count.eq(0),
        lt::pending_count.eq(1),
        lt::window_started_at.eq(now),
        lt::locked_until.eq(None::<Ts>),
    );
    let admitted: Option<i32> = with_conn!(db, |c| {
        let stmt = diesel::insert_into(lt::table)
            .values(insert)
            .on_conflict((lt::tenant_id, lt::email_key))
            .do_update()
            .set((
                lt::failed_count
                    .eq(case_when::<_, _, Integer>(fresh(), 0).otherwise(lt::failed_count)),
                lt::pending_count
                    .eq(case_when::<_, _, Integer>(fresh(), 1).otherwise(lt::pending_count + 1)),
                lt::window_started_at
                    .eq(case_when::<_, _, DbTimestamptz>(fresh(), now)
                        .otherwise(lt::window_started_at)),
                lt::locked_until.eq(None::<Ts>),
            ));
        diesel::query_dsl::methods::FilterDsl::filter(
            stmt,
            lt::locked_until
                .is_null()
                .or(lt::locked_until.le(now))
                .and(fresh().or((lt::failed_count + lt::pending_count).lt(max))),
        )
        .returning(lt::pending_count)
        .get_result(c)
        .await
        .optional()
    })?;
    Ok(admitted.is_some())
}

/// Why a guess was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Locked, or `max` failures in the window: refuse.
    Locked(Option<DateTime<Utc>>),
    /// Guesses still under check fill the window's budget: wait for them.
    Busy,
}

pub async fn refusal(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    email_key: &str,
    policy: &LockoutPolicy,
    now: DateTime<Utc>,
) -> Result<Refusal> {
    let row: Option<(i32, Option<Ts>)> = with_conn!(db, |c| lt::table
        .find((Uid(tenant_id), email_key))
        .select((lt::failed_count, lt::locked_until))
        .first(c)
        .await
        .optional())?;
    Ok(match row {
        Some((_, Some(until))) if until.0 > now => Refusal::Locked(Some(until.0)),
        Some((failed, _)) if failed >= max_attempts(policy) => Refusal::Locked(None),
        _ => Refusal::Busy,
    })
}

/// Settles an admitted guess as failed. The failure that reaches `max`
/// locks the email until `lock_until`, in the same statement; returns
/// whether this one did.
pub async fn settle_failure(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    email_key: &str,
    policy: &LockoutPolicy,
    lock_until: DateTime<Utc>,
) -> Result<bool> {
    let max = max_attempts(policy);
    let failed: Option<i32> = with_conn!(db, |c| diesel::update(
        lt::table.find((Uid(tenant_id), email_key))
    )
    .set((
        lt::failed_count.eq(lt::failed_count + 1),
        lt::pending_count.eq(case_when::<_, _, Integer>(
            lt::pending_count.gt(0),
            lt::pending_count - 1
        )
        .otherwise(0)),
        lt::locked_until.eq(
            case_when::<_, _, diesel::sql_types::Nullable<DbTimestamptz>>(
                (lt::failed_count + 1).ge(max),
                Some(Ts(lock_until)),
            )
            .otherwise(lt::locked_until)
        ),
    ))
    .returning(lt::failed_count)
    .get_result(c)
    .await
    .optional())?;
    Ok(failed == Some(max))
}

/// Settles an admitted guess as successful: failures are forgiven.
pub async fn settle_success(db: &mut Db<'_>, tenant_id: Uuid, email_key: &str) -> Result<()> {
    with_conn!(db, |c| diesel::update(
        lt::table.find((Uid(tenant_id), email_key))
    )
    .set((
        lt::failed_count.eq(0),
        lt::pending_count.eq(case_when::<_, _, Integer>(
            lt::pending_count.gt(0),
            lt::pending_count - 1
        )
        .otherwise(0)),
    ))
    .execute(c)
    .await)?;
    Ok(())
}

/// Gives back an admitted guess that was never judged (an internal error
/// while checking it).
pub async fn release(db: &mut Db<'_>, tenant_id: Uuid, email_key: &str) -> Result<()> {
    with_conn!(db, |c| diesel::update(
        lt::table.find((Uid(tenant_id), email_key))
    )
    .set(lt::pending_count.eq(
        case_when::<_, _, Integer>(lt::pending_count.gt(0), lt::pending_count - 1).otherwise(0)
    ))
    .execute(c)
    .await)?;
    Ok(())
}

/// Forgets everything about the email (an administrator's unlock, a reset).
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

/// The locks in force among `email_keys` of a tenant (for lists of users).
pub async fn locks(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    email_keys: &[String],
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<String, DateTime<Utc>>> {
    let rows: Vec<(String, Option<Ts>)> = with_conn!(db, |c| lt::table
        .filter(lt::tenant_id.eq(Uid(tenant_id)))
        .filter(lt::email_key.eq_any(email_keys))
        .filter(lt::locked_until.gt(Ts(now)))
        .select((lt::email_key, lt::locked_until))
        .load(c)
        .await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(k, until)| until.map(|u| (k, u.0)))
        .collect())
}
