//! Single-use tokens mailed to an account's owner (invitations, password
//! resets, email verification). Only their SHA-256 is stored.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema::account_tokens;
use crate::db::{Db, Ts, Uid};
use crate::domain::account::{Claim, TokenProblem, TokenPurpose};
use crate::domain::Result;
use crate::with_conn;

pub struct NewToken<'a> {
    pub hash: &'a str,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub purpose: TokenPurpose,
    pub redirect_url: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Stores a token, dropping the user's unused tokens of the same purpose:
/// a new invitation or reset link replaces the old one. Call inside a
/// transaction.
pub async fn replace(db: &mut Db<'_>, t: &NewToken<'_>) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        account_tokens::table
            .filter(account_tokens::user_id.eq(Uid(t.user_id)))
            .filter(account_tokens::purpose.eq(t.purpose.as_str()))
            .filter(account_tokens::used_at.is_null())
    )
    .execute(c)
    .await)?;
    let values = (
        account_tokens::token_hash.eq(t.hash),
        account_tokens::tenant_id.eq(Uid(t.tenant_id)),
        account_tokens::user_id.eq(Uid(t.user_id)),
        account_tokens::purpose.eq(t.purpose.as_str()),
        account_tokens::redirect_url.eq(t.redirect_url),
        account_tokens::created_at.eq(Ts(t.now)),
        account_tokens::expires_at.eq(Ts(t.expires_at)),
    );
    with_conn!(db, |c| diesel::insert_into(account_tokens::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

/// Drops a user's unused tokens of a purpose (an invitation accepted
/// another way, a password changed).
pub async fn discard(db: &mut Db<'_>, user_id: Uuid, purpose: TokenPurpose) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        account_tokens::table
            .filter(account_tokens::user_id.eq(Uid(user_id)))
            .filter(account_tokens::purpose.eq(purpose.as_str()))
            .filter(account_tokens::used_at.is_null())
    )
    .execute(c)
    .await)?;
    Ok(())
}

/// Marks a token used, if it is unused and unexpired: of two concurrent
/// claims one wins. Otherwise says why not.
pub async fn claim(
    db: &mut Db<'_>,
    hash: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Claim, TokenProblem>> {
    let claimed: Option<(Uid, Uid, Option<String>)> = with_conn!(db, |c| diesel::update(
        account_tokens::table
            .filter(account_tokens::token_hash.eq(hash))
            .filter(account_tokens::purpose.eq(purpose.as_str()))
            .filter(account_tokens::used_at.is_null())
            .filter(account_tokens::expires_at.gt(Ts(now)))
    )
    .set(account_tokens::used_at.eq(Ts(now)))
    .returning((
        account_tokens::tenant_id,
        account_tokens::user_id,
        account_tokens::redirect_url
    ))
    .get_result(c)
    .await
    .optional())?;
    match claimed {
        Some((tenant, user, redirect_url)) => Ok(Ok(Claim {
            tenant_id: tenant.0,
            user_id: user.0,
            redirect_url,
        })),
        None => Ok(Err(check(db, hash, purpose, now)
            .await?
            .err()
            .unwrap_or(TokenProblem::Invalid))),
    }
}

/// Whether a token would be accepted now, without using it.
pub async fn check(
    db: &mut Db<'_>,
    hash: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Claim, TokenProblem>> {
    type Row = (Uid, Uid, Option<String>, Ts, Option<Ts>);
    let row: Option<Row> = with_conn!(db, |c| account_tokens::table
        .filter(account_tokens::token_hash.eq(hash))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .select((
            account_tokens::tenant_id,
            account_tokens::user_id,
            account_tokens::redirect_url,
            account_tokens::expires_at,
            account_tokens::used_at
        ))
        .first(c)
        .await
        .optional())?;
    Ok(match row {
        None => Err(TokenProblem::Invalid),
        Some((_, _, _, _, Some(_))) => Err(TokenProblem::Used),
        Some((_, _, _, expires, None)) if expires.0 <= now => Err(TokenProblem::Expired),
        Some((tenant, user, redirect_url, _, None)) => Ok(Claim {
            tenant_id: tenant.0,
            user_id: user.0,
            redirect_url,
        }),
    })
}

/// The redirect of the user's newest unused token of a purpose.
pub async fn latest_redirect(
    db: &mut Db<'_>,
    user_id: Uuid,
    purpose: TokenPurpose,
) -> Result<Option<String>> {
    let url: Option<Option<String>> = with_conn!(db, |c| account_tokens::table
        .filter(account_tokens::user_id.eq(Uid(user_id)))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .filter(account_tokens::used_at.is_null())
        .order(account_tokens::created_at.desc())
        .select(account_tokens::redirect_url)
        .first(c)
        .await
        .optional())?;
    Ok(url.flatten())
}
