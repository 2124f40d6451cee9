use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::list::{self, Narrow, Sorts, Total};
use crate::db::schema::audit_events;
use crate::db::{Db, Json, Ts, Uid};
use crate::domain::audit::{AuditEvent, AuditQuery, AuditRecord};
use crate::domain::list::Listing;
use crate::domain::Result;
use crate::{insert_all, with_conn};

/// Appends an event. There is no update or delete: the log is append-only.
pub async fn append(db: &mut Db<'_>, e: &AuditEvent, at: DateTime<Utc>) -> Result<()> {
    append_many(db, std::slice::from_ref(e), at).await
}

/// Appends events in batched statements (call inside a transaction).
pub async fn append_many(db: &mut Db<'_>, events: &[AuditEvent], at: DateTime<Utc>) -> Result<()> {
    let rows: Vec<AuditRow> = events.iter().map(|e| AuditRow::new(e, at)).collect();
    for chunk in rows.chunks(4000) {
        insert_all!(db, audit_events::table, chunk)?;
    }
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct AuditRow<'a> {
    id: Uid,
    tenant_id: Uid,
    actor_type: &'a str,
    actor_id: Option<Uid>,
    actor_label: Option<&'a str>,
    action: &'a str,
    target_type: Option<&'a str>,
    target_id: Option<&'a str>,
    status: &'a str,
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    details: Json,
    created_at: Ts,
}

impl<'a> AuditRow<'a> {
    fn new(e: &'a AuditEvent, at: DateTime<Utc>) -> Self {
        let (target_type, target_id) = match &e.target {
            Some((kind, id)) => (Some(*kind), Some(id.as_str())),
            None => (None, None),
        };
        AuditRow {
            id: Uid(Uuid::now_v7()),
            tenant_id: Uid(e.tenant_id),
            actor_type: e.actor.kind(),
            actor_id: e.actor.id().map(Uid),
            actor_label: e.actor.label(),
            action: e.action,
            target_type,
            target_id,
            status: if e.success { "success" } else { "failure" },
            ip_address: e.origin.ip.as_deref(),
            user_agent: (!e.origin.user_agent.is_empty()).then_some(e.origin.user_agent.as_str()),
            details: Json(e.details.clone()),
            created_at: Ts(at),
        }
    }
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct RecordRow {
    id: Uid,
    tenant_id: Uid,
    actor_type: String,
    actor_id: Option<Uid>,
    actor_label: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    status: String,
    ip_address: Option<String>,
    user_agent: Option<String>,
    details: Json,
    created_at: Ts,
}

impl From<RecordRow> for AuditRecord {
    fn from(r: RecordRow) -> Self {
        AuditRecord {
            id: r.id.0,
            tenant_id: r.tenant_id.0,
            actor_type: r.actor_type,
            actor_id: r.actor_id.map(|u| u.0),
            actor_label: r.actor_label,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            success: r.status == "success",
            ip_address: r.ip_address,
            user_agent: r.user_agent,
            details: r.details.0,
            created_at: r.created_at.0,
        }
    }
}

/// A tenant's events, filtered in the database; newest first unless asked.
pub async fn list(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    q: &AuditQuery,
) -> Result<Listing<AuditRecord>> {
    let listing: Listing<RecordRow> = with_conn!(db, |c| {
        let filtered = || {
            let status = |ok| if ok { "success" } else { "failure" };
            Ok(audit_events::table
                .filter(audit_events::tenant_id.eq(Uid(tenant_id)))
                .into_boxed()
                .narrow(q.actor_id.map(|a| audit_events::actor_id.eq(Uid(a))))
                .narrow(q.action.clone().map(|a| audit_events::action.eq(a)))
                .narrow(
                    q.target_type
                        .clone()
                        .map(|t| audit_events::target_type.eq(t)),
                )
                .narrow(q.target_id.clone().map(|t| audit_events::target_id.eq(t)))
                .narrow(q.success.map(|ok| audit_events::status.eq(status(ok))))
                .narrow(q.from.map(|from| audit_events::created_at.ge(Ts(from))))
                .narrow(q.to.map(|to| audit_events::created_at.le(Ts(to)))))
        };
        // Events of one instant by id the same way.
        let sorts = Sorts::default()
            .by(audit_events::created_at, q.order)
            .by(audit_events::id, q.order);
        let rows = list::by_id(audit_events::id, RecordRow::as_select());
        list::page(c, filtered, sorts, rows, q.page, Total::Count).await
    })?;
    Ok(listing.map(AuditRecord::from))
}

pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<Option<AuditRecord>> {
    let row: Option<RecordRow> = with_conn!(db, |c| audit_events::table
        .filter(audit_events::id.eq(Uid(id)))
        .filter(audit_events::tenant_id.eq(Uid(tenant_id)))
        .select(RecordRow::as_select())
        .first(c)
        .await
        .optional())?;
    Ok(row.map(AuditRecord::from))
}
