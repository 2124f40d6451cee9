//! `/api/v1/audit-logs` (`audit:read`): read-only, there is no endpoint that
//! changes or deletes an event.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};

use super::views::AuditPage;
use super::views::AuditView;
use super::{list, ok};
use crate::api::extract::path_id;
use crate::api::openapi::schemas::{Listing, NativeList, Success};
use crate::api::openapi::NATIVE;
use crate::api::query::Query;
use crate::domain::audit::AuditQuery;
use crate::domain::list::SortOrder;
use crate::domain::principal::Caller;
use crate::domain::{Error, Problems};
use crate::service::{audit_log, Gate};

/// Filters: actorId (or userId), action, targetType/targetId (or
/// resourceType/resourceId), status (success|failure), from/to (or
/// startDate/endDate), sortOrder (default desc: newest first).
#[utoipa::path(get, path = "/api/v1/audit-logs", tag = NATIVE, params(NativeList,
        ("actorId" = Option<String>, Query, description = "Events by this user or client (UUID); `userId` is accepted too"),
        ("action" = Option<String>, Query, description = "An action such as `user.created`"),
        ("targetType" = Option<String>, Query, description = "`resourceType` is accepted too"),
        ("targetId" = Option<String>, Query, description = "`resourceId` is accepted too"),
        ("status" = Option<String>, Query, description = "`success` or `failure`"),
        ("from" = Option<String>, Query, description = "RFC 3339 time; `startDate` is accepted too"),
        ("to" = Option<String>, Query, description = "RFC 3339 time; `endDate` is accepted too"),
        ("sortOrder" = Option<String>, Query, description = "`asc` or `desc` (the default: newest first)")),
    responses((status = 200, description = "Audit events, newest first", body = Listing<AuditPage>)))]
pub async fn index(
    req: HttpRequest,
    gate: Data<Gate>,
    caller: Caller,
) -> Result<HttpResponse, Error> {
    let q = Query::parse(req.query_string())?;
    let mut p = Problems::default();
    let either = |a: &'static str, b: &'static str| if q.get(a).is_some() { a } else { b };
    let query = AuditQuery {
        actor_id: q.uuid(&mut p, either("actorId", "userId")),
        action: q.text(&mut p, "action", 100),
        target_type: q.text(&mut p, either("targetType", "resourceType"), 100),
        target_id: q.text(&mut p, either("targetId", "resourceId"), 200),
        success: q.parsed(&mut p, "status", |v| match v {
            "success" => Ok(true),
            "failure" => Ok(false),
            _ => Err("must be success or failure".into()),
        }),
        from: q.timestamp(&mut p, either("from", "startDate")),
        to: q.timestamp(&mut p, either("to", "endDate")),
        order: q
            .parsed(&mut p, "sortOrder", SortOrder::parse)
            .unwrap_or(SortOrder::Desc),
        page: q.page(&mut p),
    };
    p.into_result()?;
    let listing = gate
        .run(move |app| async move { audit_log::list(&app, &caller, query).await })
        .await?;
    Ok(list("events", listing.map(AuditView::from)))
}

#[utoipa::path(get, path = "/api/v1/audit-logs/{id}", tag = NATIVE,
    responses((status = 200, description = "OK", body = Success<AuditView>)))]
pub async fn show(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Audit event")?;
    let event = gate
        .run(move |app| async move { audit_log::get(&app, &caller, id).await })
        .await?;
    Ok(ok(AuditView::from(event)))
}
