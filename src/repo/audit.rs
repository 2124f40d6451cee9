use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema::audit_events;
use crate::db::{Db, Json, Ts, Uid};
use crate::domain::audit::AuditEvent;
use crate::domain::Result;
use crate::with_conn;

/// Appends an event. There is no update or delete: the log is append-only.
pub async fn append(db: &mut Db<'_>, e: &AuditEvent, at: DateTime<Utc>) -> Result<()> {
    let (target_type, target_id) = match &e.target {
        Some((kind, id)) => (Some(*kind), Some(id.as_str())),
        None => (None, None),
    };
    let user_agent = (!e.origin.user_agent.is_empty()).then_some(e.origin.user_agent.as_str());
    let values = (
        audit_events::id.eq(Uid(Uuid::now_v7())),
        audit_events::tenant_id.eq(Uid(e.tenant_id)),
        audit_events::actor_type.eq(e.actor.kind()),
        audit_events::actor_id.eq(e.actor.id().map(Uid)),
        audit_events::actor_label.eq(e.actor.label()),
        audit_events::action.eq(e.action),
        audit_events::target_type.eq(target_type),
        audit_events::target_id.eq(target_id),
        audit_events::status.eq(if e.success { "success" } else { "failure" }),
        audit_events::ip_address.eq(e.origin.ip.as_deref()),
        audit_events::user_agent.eq(user_agent),
        audit_events::details.eq(Json(e.details.clone())),
        audit_events::created_at.eq(Ts(at)),
    );
    with_conn!(db, |c| diesel::insert_into(audit_events::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

/// How many events of one action a tenant has.
pub async fn count_actions(db: &mut Db<'_>, tenant_id: Uuid, action: &str) -> Result<i64> {
    Ok(with_conn!(db, |c| audit_events::table
        .filter(audit_events::tenant_id.eq(Uid(tenant_id)))
        .filter(audit_events::action.eq(action))
        .count()
        .get_result(c)
        .await)?)
}
