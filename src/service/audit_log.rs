//! Reading the audit log (`audit:read`). Nothing changes or deletes events.

use uuid::Uuid;

use super::App;
use crate::domain::audit::{AuditEvent, AuditQuery, AuditRecord};
use crate::domain::denial::Denial;
use crate::domain::list::Listing;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::{Error, Result};
use crate::repo;

pub async fn list(app: &App, caller: &Caller, query: AuditQuery) -> Result<Listing<AuditRecord>> {
    caller.require("audit:read")?;
    let mut conn = app.db.get().await?;
    repo::audit::list(&mut conn.db(), caller.tenant_id, &query).await
}

pub async fn get(app: &App, caller: &Caller, id: Uuid) -> Result<AuditRecord> {
    caller.require("audit:read")?;
    let mut conn = app.db.get().await?;
    repo::audit::find(&mut conn.db(), caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("Audit event"))
}

/// Records refused attempts as `authz.denied` events: actor, target, what
/// was missing and what the caller was told.
pub async fn record_denials(app: &App, denials: Vec<Denial>, origin: &Origin) -> Result<()> {
    let events: Vec<AuditEvent> = denials
        .into_iter()
        .map(|d| {
            let mut event = AuditEvent::new(d.tenant_id, d.actor, "authz.denied", origin)
                .failed()
                .details(serde_json::json!({ "missing": d.missing, "reason": d.reason }));
            event.target = d.target;
            event
        })
        .collect();
    let mut conn = app.db.get().await?;
    repo::audit::append_many(&mut conn.db(), &events, chrono::Utc::now()).await
}
