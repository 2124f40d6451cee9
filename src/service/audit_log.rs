//! Reading the audit log (`audit:read`). Nothing changes or deletes events.

use uuid::Uuid;

use super::App;
use crate::domain::audit::AuditRecord;
use crate::domain::list::Listing;
use crate::domain::principal::Caller;
use crate::domain::{Error, Result};
use crate::repo;
use crate::repo::audit::AuditQuery;

pub async fn list(app: &App, caller: &Caller, query: AuditQuery) -> Result<Listing<AuditRecord>> {
    caller.require("audit:read")?;
    let mut conn = app.db.get().await?;
    let query = AuditQuery {
        tenant_id: caller.tenant_id,
        ..query
    };
    repo::audit::list(&mut conn.db(), &query).await
}

pub async fn get(app: &App, caller: &Caller, id: Uuid) -> Result<AuditRecord> {
    caller.require("audit:read")?;
    let mut conn = app.db.get().await?;
    repo::audit::find(&mut conn.db(), caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("Audit event"))
}
