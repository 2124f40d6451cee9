//! A user's own sessions (`/api/v1/auth/sessions`, docs/api/ithbat.md).

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::{audit, App};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::list::{Listing, PageRequest};
use crate::domain::principal::Caller;
use crate::domain::session::{Origin, Session, SessionQuery};
use crate::domain::{Error, Result};
use crate::repo;
use crate::transaction;

pub async fn list_own(app: &App, caller: &Caller, page: PageRequest) -> Result<Listing<Session>> {
    let mut conn = app.db.get().await?;
    let (user, _) = caller.session()?;
    repo::sessions::list_active(&mut conn.db(), user, Utc::now(), page).await
}

/// Revokes one of the caller's sessions (the current one too, if named).
pub async fn revoke_own(
    app: &App,
    caller: &Caller,
    session_id: Uuid,
    origin: &Origin,
) -> Result<()> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, _) = caller.session()?;
        if !repo::sessions::revoke(tx, user, session_id, Utc::now()).await? {
            return Err(Error::NotFound("Session"));
        }
        let event = AuditEvent::new(
            caller.principal.home_tenant,
            Actor::from(caller),
            "auth.session_revoked",
            origin,
        )
        .target("session", session_id);
        audit(tx, event).await
    })
}

/// Revokes every session of the caller but the current one; returns how many.
pub async fn revoke_others(app: &App, caller: &Caller, origin: &Origin) -> Result<usize> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, session) = caller.session()?;
        let n = repo::sessions::revoke_all(tx, user, Some(session), Utc::now()).await?;
        let event = AuditEvent::new(
            caller.principal.home_tenant,
            Actor::from(caller),
            "auth.session_revoked",
            origin,
        )
        .target("user", user)
        .details(json!({ "scope": "all_other_sessions", "revoked": n }));
        audit(tx, event).await?;
        Ok(n)
    })
}

/// The tenant's active sessions (JSON:API `account_sessions`): all of them
/// with user:read, otherwise the caller's own.
pub async fn list_tenant(
    app: &App,
    caller: &Caller,
    query: SessionQuery<'_>,
) -> Result<Listing<Session>> {
    let own = match caller.require("user:read") {
        Ok(()) => query.user_id,
        Err(e) => Some(caller.session().map_err(|_| e)?.0),
    };
    let query = SessionQuery {
        user_id: own,
        ..query
    };
    let mut conn = app.db.get().await?;
    repo::sessions::list(&mut conn.db(), caller.tenant_id, &query, Utc::now()).await
}

/// Revokes an active session of the tenant: the caller's own, or with
/// user:write anyone's (whom they may manage).
pub async fn revoke_in_tenant(app: &App, caller: &Caller, id: Uuid, origin: &Origin) -> Result<()> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let now = Utc::now();
        let session = repo::sessions::find_active_in_tenant(tx, caller.tenant_id, id, now)
            .await?
            .ok_or(Error::NotFound("Session"))?;
        if !caller.is_user(session.user_id) {
            // Without user:read the session might as well not exist.
            caller
                .require("user:read")
                .map_err(|_| Error::NotFound("Session"))?;
            caller.require("user:write")?;
            super::users::managed(tx, caller, session.user_id).await?;
        }
        repo::sessions::revoke_by_id(tx, session.id, now).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "auth.session_revoked",
            origin,
        )
        .target("session", session.id)
        .details(json!({ "userId": session.user_id }));
        audit(tx, event).await
    })
}
