//! Authorization requests in progress, authorization codes and browser
//! sign-ins for the hosted pages. Codes and cookies are stored as SHA-256.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema::{authorization_codes, authorization_requests, browser_sessions};
use crate::db::{Db, Ts, Uid};
use crate::domain::code_flow::{AuthorizationRequest, IssuedCode};
use crate::domain::scope::ScopeSet;
use crate::domain::Result;
use crate::with_conn;

fn scope(text: String) -> ScopeSet {
    // Stored by us, from a parsed set.
    ScopeSet::parse(&text).unwrap_or_default()
}

pub async fn insert_request(
    db: &mut Db<'_>,
    r: &AuthorizationRequest,
    csrf_hash: &str,
) -> Result<()> {
    let values = (
        authorization_requests::id.eq(Uid(r.id)),
        authorization_requests::tenant_id.eq(Uid(r.tenant_id)),
        authorization_requests::client_id.eq(Uid(r.client_id)),
        authorization_requests::redirect_uri.eq(&r.redirect_uri),
        authorization_requests::scope.eq(r.scope.to_string()),
        authorization_requests::state.eq(&r.state),
        authorization_requests::nonce.eq(&r.nonce),
        authorization_requests::code_challenge.eq(&r.code_challenge),
        authorization_requests::csrf_hash.eq(csrf_hash),
        authorization_requests::created_at.eq(Ts(r.created_at)),
        authorization_requests::expires_at.eq(Ts(r.expires_at)),
    );
    with_conn!(db, |c| diesel::insert_into(authorization_requests::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

type RequestRow = (
    Uid,
    Uid,
    Uid,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Ts,
    Ts,
);

/// An unexpired request and the hash of its CSRF token.
pub async fn find_request(
    db: &mut Db<'_>,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<(AuthorizationRequest, String)>> {
    let row: Option<RequestRow> = with_conn!(db, |c| authorization_requests::table
        .filter(authorization_requests::id.eq(Uid(id)))
        .filter(authorization_requests::expires_at.gt(Ts(now)))
        .select((
            authorization_requests::id,
            authorization_requests::tenant_id,
            authorization_requests::client_id,
            authorization_requests::redirect_uri,
            authorization_requests::scope,
            authorization_requests::state,
            authorization_requests::nonce,
            authorization_requests::code_challenge,
            authorization_requests::csrf_hash,
            authorization_requests::created_at,
            authorization_requests::expires_at,
        ))
        .first(c)
        .await
        .optional())?;
    Ok(row.map(
        |(id, tenant, client, redirect, sc, state, nonce, challenge, csrf, created, expires)| {
            (
                AuthorizationRequest {
                    id: id.0,
                    tenant_id: tenant.0,
                    client_id: client.0,
                    redirect_uri: redirect,
                    scope: scope(sc),
                    state,
                    nonce,
                    code_challenge: challenge,
                    created_at: created.0,
                    expires_at: expires.0,
                },
                csrf,
            )
        },
    ))
}

/// Gives a request a new CSRF token (its page is shown again after a
/// round trip elsewhere, which the SameSite=Strict cookie did not survive).
pub async fn set_csrf(db: &mut Db<'_>, id: Uuid, csrf_hash: &str) -> Result<()> {
    with_conn!(db, |c| diesel::update(
        authorization_requests::table.filter(authorization_requests::id.eq(Uid(id)))
    )
    .set(authorization_requests::csrf_hash.eq(csrf_hash))
    .execute(c)
    .await)?;
    Ok(())
}

/// Deletes a request (done) and any that have expired.
pub async fn finish_request(db: &mut Db<'_>, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        authorization_requests::table.filter(
            authorization_requests::id
                .eq(Uid(id))
                .or(authorization_requests::expires_at.le(Ts(now)))
        )
    )
    .execute(c)
    .await)?;
    Ok(())
}

pub async fn insert_code(
    db: &mut Db<'_>,
    hash: &str,
    code: &IssuedCode,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    let values = (
        authorization_codes::code_hash.eq(hash),
        authorization_codes::tenant_id.eq(Uid(code.tenant_id)),
        authorization_codes::client_id.eq(Uid(code.client_id)),
        authorization_codes::session_id.eq(Uid(code.session_id)),
        authorization_codes::redirect_uri.eq(&code.redirect_uri),
        authorization_codes::scope.eq(code.scope.to_string()),
        authorization_codes::nonce.eq(&code.nonce),
        authorization_codes::code_challenge.eq(&code.code_challenge),
        authorization_codes::created_at.eq(Ts(now)),
        authorization_codes::expires_at.eq(Ts(expires_at)),
    );
    with_conn!(db, |c| diesel::insert_into(authorization_codes::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

/// What presenting a code found.
pub enum CodeClaim {
    /// Unused and unexpired: now used.
    Fresh(IssuedCode),
    /// Used before: the session it started should end (RFC 6749 4.1.2).
    Replayed {
        session_id: Uuid,
    },
    Invalid,
}

pub async fn claim_code(db: &mut Db<'_>, hash: &str, now: DateTime<Utc>) -> Result<CodeClaim> {
    type Row = (Uid, Uid, Uid, String, String, Option<String>, String);
    let claimed: Option<Row> = with_conn!(db, |c| diesel::update(
        authorization_codes::table
            .filter(authorization_codes::code_hash.eq(hash))
            .filter(authorization_codes::used_at.is_null())
            .filter(authorization_codes::expires_at.gt(Ts(now)))
    )
    .set(authorization_codes::used_at.eq(Ts(now)))
    .returning((
        authorization_codes::tenant_id,
        authorization_codes::client_id,
        authorization_codes::session_id,
        authorization_codes::redirect_uri,
        authorization_codes::scope,
        authorization_codes::nonce,
        authorization_codes::code_challenge,
    ))
    .get_result(c)
    .await
    .optional())?;
    if let Some((tenant, client, session, redirect, sc, nonce, challenge)) = claimed {
        return Ok(CodeClaim::Fresh(IssuedCode {
            tenant_id: tenant.0,
            client_id: client.0,
            session_id: session.0,
            redirect_uri: redirect,
            scope: scope(sc),
            nonce,
            code_challenge: challenge,
        }));
    }
    let used: Option<Uid> = with_conn!(db, |c| authorization_codes::table
        .filter(authorization_codes::code_hash.eq(hash))
        .filter(authorization_codes::used_at.is_not_null())
        .select(authorization_codes::session_id)
        .first(c)
        .await
        .optional())?;
    Ok(match used {
        Some(s) => CodeClaim::Replayed { session_id: s.0 },
        None => CodeClaim::Invalid,
    })
}

pub async fn insert_browser_session(
    db: &mut Db<'_>,
    hash: &str,
    tenant_id: Uuid,
    session_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    let values = (
        browser_sessions::token_hash.eq(hash),
        browser_sessions::tenant_id.eq(Uid(tenant_id)),
        browser_sessions::session_id.eq(Uid(session_id)),
        browser_sessions::created_at.eq(Ts(now)),
        browser_sessions::expires_at.eq(Ts(expires_at)),
    );
    with_conn!(db, |c| diesel::insert_into(browser_sessions::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

/// The tenant and session of an unexpired browser sign-in.
pub async fn find_browser_session(
    db: &mut Db<'_>,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, Uuid)>> {
    let row: Option<(Uid, Uid)> = with_conn!(db, |c| browser_sessions::table
        .filter(browser_sessions::token_hash.eq(hash))
        .filter(browser_sessions::expires_at.gt(Ts(now)))
        .select((browser_sessions::tenant_id, browser_sessions::session_id))
        .first(c)
        .await
        .optional())?;
    Ok(row.map(|(t, s)| (t.0, s.0)))
}

pub async fn delete_browser_session(db: &mut Db<'_>, hash: &str) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        browser_sessions::table.filter(browser_sessions::token_hash.eq(hash))
    )
    .execute(c)
    .await)?;
    Ok(())
}
