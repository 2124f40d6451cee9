//! `organizations` (docs/api/jsonapi.md): teams inside a tenant.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use serde::Deserialize;

use super::document::shapes::{Collection, Input, Single};
use super::document::{self, drop_read_only, Fields, Resource};
use super::error::JsonApiResult;
use super::query::{self, FieldKind, FieldNames, FilterField, Spec};
use super::{attributes, path_id, timestamp, Body, Request};
use crate::api::extract::present;
use crate::api::openapi::schemas::JsonApiList;
use crate::api::openapi::JSONAPI;
use crate::domain::account::{Organization, OrganizationQuery, OrganizationSort};
use crate::domain::Error;
use crate::service::{organizations, Gate};

pub const KIND: &str = "organizations";

pub const FIELDS: &[&str] = &["name", "created_at", "updated_at"];

const READ_ONLY: &[&str] = &["created_at", "updated_at"];

/// The filter fields of organizations (docs/api/jsonapi.md, The query
/// language).
pub static SPEC: Spec = Spec {
    kind: KIND,
    filters: &[
        FilterField::new("id", FieldKind::Id),
        FilterField::new("name", FieldKind::Text { ci: true }),
        FilterField::new("created_at", FieldKind::Time),
        FilterField::new("updated_at", FieldKind::Time),
    ],
    role_scope_filter: false,
    sorts: &["name", "created_at", "updated_at"],
    fields: FIELDS,
    includes: &[],
};

const TYPES: FieldNames = &[(KIND, FIELDS)];

pub fn resource(o: &Organization) -> Resource {
    Resource::new(KIND, o.id)
        .attr("name", o.name.clone())
        .attr("created_at", timestamp(o.created_at))
        .attr("updated_at", timestamp(o.updated_at))
}

fn sort_key(name: &str) -> OrganizationSort {
    match name {
        "name" => OrganizationSort::Name,
        "updated_at" => OrganizationSort::UpdatedAt,
        _ => OrganizationSort::CreatedAt,
    }
}

#[utoipa::path(get, path = "/api/v1/organizations", tag = JSONAPI,
    description = "Filters are `filter[<field>__<op>]=value` (ops: eq, ne, match, in, lt, lte, gt, gte, null); sparse fieldsets `fields[<type>]=a,b`.",
    params(JsonApiList,
        ("include" = Option<String>, Query, description = "Related resources to include (`included=` is accepted too)")),
    responses((status = 200, description = "The tenant's organizations", content_type = "application/vnd.api+json", body = Collection)))]
pub async fn index(gate: Data<Gate>, r: Request) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    let q = query::parse_list(&r.query, &SPEC, TYPES)?;
    let (fields, counted) = (q.fields.clone(), q.count);
    let listing = gate
        .run(move |app| async move {
            let query = OrganizationQuery {
                filter: q.filter_spec(&SPEC),
                sort: q.sort.iter().map(|(n, o)| (sort_key(n), *o)).collect(),
                page: q.page,
                skip_count: !q.count,
            };
            organizations::list(&app, &caller, query)
                .await
                .map(|l| l.map(|o| resource(&o)))
        })
        .await?;
    Ok(document::collection(
        KIND,
        &listing,
        counted,
        &[],
        &fields,
        &r.query,
    ))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = JSONAPI,
    params(("include" = Option<String>, Query, description = "Related resources to include")),
    responses((status = 200, description = "The organization", content_type = "application/vnd.api+json", body = Single)))]
pub async fn show(gate: Data<Gate>, r: Request, id: Path<String>) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    let id = path_id(&id, "Organization")?;
    let q = query::parse_show(&r.query, &SPEC, TYPES)?;
    let org = gate
        .run(move |app| async move { organizations::get(&app, &caller, id).await })
        .await?;
    Ok(document::single(
        StatusCode::OK,
        &resource(&org),
        &[],
        &q.fields,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateAttributes {
    name: String,
}

#[utoipa::path(post, path = "/api/v1/organizations", tag = JSONAPI,
    request_body(content = Input, content_type = "application/vnd.api+json"),
    responses((status = 201, description = "Created", content_type = "application/vnd.api+json", body = Single)))]
pub async fn create(gate: Data<Gate>, r: Request, body: Body) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    query::no_parameters(&r.query)?;
    let mut incoming = document::read(body.0, KIND, None, &[])?;
    drop_read_only(&mut incoming.attributes, READ_ONLY);
    let a: CreateAttributes = attributes(incoming.attributes)?;
    let origin = r.origin;
    let org = gate
        .run(move |app| async move { organizations::create(&app, &caller, &a.name, &origin).await })
        .await?;
    Ok(document::created(&resource(&org)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateAttributes {
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = JSONAPI,
    request_body(content = Input, content_type = "application/vnd.api+json"),
    responses((status = 200, description = "Updated", content_type = "application/vnd.api+json", body = Single)))]
pub async fn update(
    gate: Data<Gate>,
    r: Request,
    id: Path<String>,
    body: Body,
) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    query::no_parameters(&r.query)?;
    let id_text = id.into_inner();
    let id = path_id(&id_text, "Organization")?;
    let mut incoming = document::read(body.0, KIND, Some(&id_text), &[])?;
    drop_read_only(&mut incoming.attributes, READ_ONLY);
    let a: UpdateAttributes = attributes(incoming.attributes)?;
    let origin = r.origin;
    let org = gate
        .run(move |app| async move {
            organizations::rename(&app, &caller, id, a.name.as_deref(), &origin).await
        })
        .await?;
    Ok(document::single(
        StatusCode::OK,
        &resource(&org),
        &[],
        &Fields::new(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/organizations/{id}", tag = JSONAPI,
    responses((status = 204, description = "Deleted")))]
pub async fn delete(gate: Data<Gate>, r: Request, id: Path<String>) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    query::no_parameters(&r.query)?;
    let id = path_id(&id, "Organization")?;
    let origin = r.origin;
    gate.run(move |app| async move {
        organizations::delete(&app, &caller, id, &origin).await?;
        Ok::<_, Error>(())
    })
    .await?;
    Ok(document::no_content())
}
