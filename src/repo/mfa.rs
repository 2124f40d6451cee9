//! MFA enrolments (a sealed TOTP secret per user), backup codes (SHA-256)
//! and the challenges of the two-step sign-in (mfaTokens, SHA-256). Every
//! claim of something single-use is one conditional UPDATE, so that of two
//! concurrent presentations exactly one wins.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema::{mfa_backup_codes as bc, mfa_challenges as ch, user_mfa as um, users};
use crate::db::{Db, Ts, Uid};
use crate::domain::Result;
use crate::{insert_all, with_conn};

/// A user's enrolment.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub sealed_secret: String,
    pub enabled_at: Option<DateTime<Utc>>,
    pub last_used_step: Option<u64>,
}

pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, user_id: Uuid) -> Result<Option<Enrolment>> {
    let row: Option<(String, Option<Ts>, Option<i64>)> = with_conn!(db, |c| um::table
        .filter(um::user_id.eq(Uid(user_id)))
        .filter(um::tenant_id.eq(Uid(tenant_id)))
        .select((um::totp_secret, um::enabled_at, um::last_used_step))
        .first(c)
        .await
        .optional())?;
    Ok(row.map(|(sealed_secret, enabled_at, step)| Enrolment {
        sealed_secret,
        enabled_at: enabled_at.map(|t| t.0),
        last_used_step: step.and_then(|s| u64::try_from(s).ok()),
    }))
}

/// Stores a new, not yet enabled secret, replacing an unfinished
/// enrolment. Returns false when MFA is already on (nothing changes).
pub async fn begin(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    user_id: Uuid,
    sealed_secret: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let now = Ts(now);
    let row = (
        um::user_id.eq(Uid(user_id)),
        um::tenant_id.eq(Uid(tenant_id)),
        um::totp_secret.eq(sealed_secret),
        um::enabled_at.eq(None::<Ts>),
        um::last_used_step.eq(None::<i64>),
        um::created_at.eq(now),
        um::updated_at.eq(now),
    );
    let written = with_conn!(db, |c| {
        let stmt = diesel::insert_into(um::table)
            .values(row)
            .on_conflict(um::user_id)
            .do_update()
            .set((
                um::totp_secret.eq(sealed_secret),
                um::last_used_step.eq(None::<i64>),
                um::created_at.eq(now),
                um::updated_at.eq(now),
            ));
        diesel::query_dsl::methods::FilterDsl::filter(stmt, um::enabled_at.is_null())
            .execute(c)
            .await
    })?;
    Ok(written == 1)
}

/// Turns an unfinished enrolment on, recording the step of the code that
/// proved it. False if there is none (or another request enabled it).
pub async fn enable(db: &mut Db<'_>, user_id: Uuid, step: u64, now: DateTime<Utc>) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::update(
        um::table
            .filter(um::user_id.eq(Uid(user_id)))
            .filter(um::enabled_at.is_null())
    )
    .set((
        um::enabled_at.eq(Some(Ts(now))),
        um::last_used_step.eq(Some(step_value(step))),
        um::updated_at.eq(Ts(now)),
    ))
    .execute(c)
    .await)?;
    Ok(n == 1)
}

fn step_value(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

/// Accepts a code's time step if it is later than the last one accepted
/// (RFC 6238 5.2). False: this step or a later one was already used.
pub async fn record_step(db: &mut Db<'_>, user_id: Uuid, step: u64) -> Result<bool> {
    let step = step_value(step);
    let n = with_conn!(db, |c| diesel::update(
        um::table
            .filter(um::user_id.eq(Uid(user_id)))
            .filter(um::enabled_at.is_not_null())
            .filter(um::last_used_step.is_null().or(um::last_used_step.lt(step)))
    )
    .set(um::last_used_step.eq(Some(step)))
    .execute(c)
    .await)?;
    Ok(n == 1)
}

/// Removes the enrolment, its backup codes (by cascade) and the user's
/// open challenges. Returns whether there was one and whether it was on.
pub async fn remove(db: &mut Db<'_>, tenant_id: Uuid, user_id: Uuid) -> Result<Option<bool>> {
    let removed: Option<Option<Ts>> = with_conn!(db, |c| diesel::delete(
        um::table
            .filter(um::user_id.eq(Uid(user_id)))
            .filter(um::tenant_id.eq(Uid(tenant_id)))
    )
    .returning(um::enabled_at)
    .get_result(c)
    .await
    .optional())?;
    with_conn!(db, |c| diesel::delete(
        ch::table.filter(ch::user_id.eq(Uid(user_id)))
    )
    .execute(c)
    .await)?;
    Ok(removed.map(|enabled_at| enabled_at.is_some()))
}

/// Replaces all of the user's backup codes by these (SHA-256 hashes).
pub async fn replace_backup_codes(
    db: &mut Db<'_>,
    user_id: Uuid,
    hashes: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        bc::table.filter(bc::user_id.eq(Uid(user_id)))
    )
    .execute(c)
    .await)?;
    let rows: Vec<_> = hashes
        .iter()
        .map(|h| {
            (
                bc::user_id.eq(Uid(user_id)),
                bc::code_hash.eq(h.clone()),
                bc::used_at.eq(None::<Ts>),
                bc::created_at.eq(Ts(now)),
            )
        })
        .collect();
    insert_all!(db, bc::table, rows)?;
    Ok(())
}

/// Uses a backup code, once. False: no such unused code.
pub async fn use_backup_code(
    db: &mut Db<'_>,
    user_id: Uuid,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::update(
        bc::table
            .filter(bc::user_id.eq(Uid(user_id)))
            .filter(bc::code_hash.eq(hash))
            .filter(bc::used_at.is_null())
    )
    .set(bc::used_at.eq(Some(Ts(now))))
    .execute(c)
    .await)?;
    Ok(n == 1)
}

/// `users.mfa_enabled`, which the user views show, follows the enrolment;
/// like every change to a user it bumps the version.
pub async fn set_user_flag(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    user_id: Uuid,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    with_conn!(db, |c| diesel::update(
        users::table
            .filter(users::id.eq(Uid(user_id)))
            .filter(users::tenant_id.eq(Uid(tenant_id)))
    )
    .set((
        users::mfa_enabled.eq(enabled),
        users::version.eq(users::version + 1),
        users::updated_at.eq(Ts(now)),
    ))
    .execute(c)
    .await)?;
    Ok(())
}

/// Who an mfaToken was issued to.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub remember_me: bool,
}

/// Stores a challenge, and forgets the user's expired ones.
pub async fn insert_challenge(
    db: &mut Db<'_>,
    token_hash: &str,
    challenge: &Challenge,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        ch::table
            .filter(ch::user_id.eq(Uid(challenge.user_id)))
            .filter(ch::expires_at.le(Ts(now)))
    )
    .execute(c)
    .await)?;
    let row = (
        ch::token_hash.eq(token_hash),
        ch::tenant_id.eq(Uid(challenge.tenant_id)),
        ch::user_id.eq(Uid(challenge.user_id)),
        ch::remember_me.eq(challenge.remember_me),
        ch::attempts.eq(0),
        ch::created_at.eq(Ts(now)),
        ch::expires_at.eq(Ts(expires_at)),
        ch::used_at.eq(None::<Ts>),
    );
    with_conn!(db, |c| diesel::insert_into(ch::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

/// Counts one code attempt against a live challenge (unused, unexpired,
/// fewer than `max` attempts) before the code is checked, so that however
/// many requests race, no more than `max` codes are ever checked.
pub async fn claim_attempt(
    db: &mut Db<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
    max: i32,
) -> Result<Option<Challenge>> {
    let row: Option<(Uid, Uid, bool)> = with_conn!(db, |c| diesel::update(
        ch::table
            .filter(ch::token_hash.eq(token_hash))
            .filter(ch::used_at.is_null())
            .filter(ch::expires_at.gt(Ts(now)))
            .filter(ch::attempts.lt(max))
    )
    .set(ch::attempts.eq(ch::attempts + 1))
    .returning((ch::tenant_id, ch::user_id, ch::remember_me))
    .get_result(c)
    .await
    .optional())?;
    Ok(row.map(|(tenant_id, user_id, remember_me)| Challenge {
        tenant_id: tenant_id.0,
        user_id: user_id.0,
        remember_me,
    }))
}

/// Uses a challenge up, once. False: another request used it first.
pub async fn consume_challenge(
    db: &mut Db<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::update(
        ch::table
            .filter(ch::token_hash.eq(token_hash))
            .filter(ch::used_at.is_null())
            .filter(ch::expires_at.gt(Ts(now)))
    )
    .set(ch::used_at.eq(Some(Ts(now))))
    .execute(c)
    .await)?;
    Ok(n == 1)
}
