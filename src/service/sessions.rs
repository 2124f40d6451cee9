//! A user's own sessions (seed 001 /auth/sessions).

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::{audit, App};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::list::{Listing, PageRequest};
use crate::domain::principal::Caller;
use crate::domain::session::{Origin, Session};
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
