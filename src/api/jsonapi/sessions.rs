//! `account_sessions` (docs/api/jsonapi.md): the sign-in sessions
//! `/auth/sessions` lists, as JSON:API resources.

use actix_web::web::{Data, Path};
use actix_web::HttpResponse;

use super::document::shapes::Collection;
use super::document::{self, Resource};
use super::error::JsonApiResult;
use super::query::{self, FieldKind, FieldNames, FilterField, Spec};
use super::{path_id, timestamp, Request};
use crate::api::openapi::schemas::JsonApiList;
use crate::api::openapi::JSONAPI;
use crate::domain::session::{Session, SessionQuery, SessionSort};
use crate::domain::Error;
use crate::service::{sessions, users, Gate};

pub const KIND: &str = "account_sessions";

pub const FIELDS: &[&str] = &[
    "account_id",
    "refresh_seq",
    "nonce",
    "user_agent",
    "ip",
    "created_at",
    "account",
];

/// The filter fields of account sessions (docs/api/jsonapi.md, The query
/// language).
pub static SPEC: Spec = Spec {
    kind: KIND,
    filters: &[
        FilterField::new("id", FieldKind::Id),
        FilterField::new("account_id", FieldKind::Id),
        FilterField::new("refresh_seq", FieldKind::Integer),
        FilterField::new("nonce", FieldKind::Text { ci: false }),
        FilterField::new("user_agent", FieldKind::Text { ci: true }),
        FilterField::nullable("ip", FieldKind::Text { ci: false }),
        FilterField::new("created_at", FieldKind::Time),
    ],
    role_scope_filter: false,
    sorts: &["created_at", "refresh_seq", "last_activity_at"],
    fields: FIELDS,
    includes: &["account"],
};

const TYPES: FieldNames = &[
    (KIND, FIELDS),
    (super::accounts::KIND, super::accounts::FIELDS),
];

pub fn resource(s: &Session) -> Resource {
    Resource::new(KIND, s.id)
        .attr("account_id", s.user_id.to_string())
        .attr("refresh_seq", s.refresh_seq)
        .attr("nonce", s.nonce.clone())
        .attr("user_agent", s.user_agent.clone())
        .attr("ip", s.ip_address.clone())
        .attr("created_at", timestamp(s.created_at))
        .to_one(
            "account",
            super::accounts::KIND,
            Some(s.user_id.to_string()),
        )
}

fn sort_key(name: &str) -> SessionSort {
    match name {
        "refresh_seq" => SessionSort::RefreshSeq,
        "last_activity_at" => SessionSort::LastActivity,
        _ => SessionSort::CreatedAt,
    }
}

#[utoipa::path(get, path = "/api/v1/account_sessions", tag = JSONAPI,
    description = "Filters are `filter[<field>__<op>]=value` (ops: eq, ne, match, in, lt, lte, gt, gte, null); sparse fieldsets `fields[<type>]=a,b`.",
    params(JsonApiList,
        ("include" = Option<String>, Query, description = "Related resources to include (`included=` is accepted too)")),
    responses((status = 200, description = "The caller's sessions", content_type = "application/vnd.api+json", body = Collection)))]
pub async fn index(gate: Data<Gate>, r: Request) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    let q = query::parse_list(&r.query, &SPEC, TYPES)?;
    let (fields, counted) = (q.fields.clone(), q.count);
    let (listing, included) = gate
        .run(move |app| async move {
            let query = SessionQuery {
                filter: q.filter_spec(&SPEC),
                sort: q.sort.iter().map(|(n, o)| (sort_key(n), *o)).collect(),
                page: q.page,
                skip_count: !q.count,
                ..Default::default()
            };
            let listing = sessions::list_tenant(&app, &caller, query).await?;
            let mut included = Vec::new();
            if q.include.contains(&"account") {
                let mut ids: Vec<uuid::Uuid> = listing.items.iter().map(|s| s.user_id).collect();
                ids.sort();
                ids.dedup();
                for details in users::get_many(&app, &caller, &ids).await? {
                    included.push(super::accounts::resource(&details));
                }
            }
            Ok::<_, Error>((listing.map(|s| resource(&s)), included))
        })
        .await?;
    Ok(document::collection(
        KIND, &listing, counted, &included, &fields, &r.query,
    ))
}

#[utoipa::path(delete, path = "/api/v1/account_sessions/{id}", tag = JSONAPI,
    responses((status = 204, description = "Revoked")))]
pub async fn delete(gate: Data<Gate>, r: Request, id: Path<String>) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    query::no_parameters(&r.query)?;
    let id = path_id(&id, "Session")?;
    let origin = r.origin;
    gate.run(
        move |app| async move { sessions::revoke_in_tenant(&app, &caller, id, &origin).await },
    )
    .await?;
    Ok(document::no_content())
}
