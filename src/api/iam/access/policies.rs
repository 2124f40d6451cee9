//! Aritma policies (docs/api/iam.md, Actions, policies and groups):
//! `POST /v1/policies`, `GET /v1/policies`, and `DELETE /v1/policies` with
//! the same triple as query parameters.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::views::{envelope, list_params, policy, stored_policy};
use crate::api::extract::JsonBody;
use crate::api::iam::views;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::api::query::Query;
use crate::domain::access::{validate_action, validate_scope, PolicyQuery, SubjectRef};
use crate::domain::list::PageRequest;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::{Error, Problems};
use crate::service::access::PolicyInput;
use crate::service::{access, Gate};

/// All three required.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = iam::policies::CreateBody)]
pub struct CreateBody {
    subject: String,
    scope: String,
    action: String,
}

/// `POST /v1/policies`: 200 `{"subject", "scope", "action", "tenant"}`.
/// Creating one the tenant has answers the same.
#[utoipa::path(post, path = "/core/iam/v1/policies", tag = IAM, request_body = CreateBody,
    responses((status = 200, description = "`{subject, scope, action, tenant}`; creating one the tenant has answers the same", body = AnyObject)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let tenant = caller.tenant_id;
    let input = PolicyInput {
        subject: b.subject,
        scope: b.scope,
        action: b.action,
    };
    let p = gate
        .run(move |app| async move { access::create_policy(&app, &caller, input, &origin).await })
        .await?;
    Ok(views::ok(policy(
        &p.subject.to_string(),
        &p.scope,
        &p.action,
        tenant,
    )))
}

/// `GET /v1/policies?subject=&action=&scope=&within=&page=&pageSize=`:
/// exact filters, and `within` for a scope and what lies beneath it;
/// the page envelope.
#[utoipa::path(get, path = "/core/iam/v1/policies", tag = IAM,
    params(
        ("subject" = Option<String>, Query), ("action" = Option<String>, Query), ("scope" = Option<String>, Query),
        ("within" = Option<String>, Query, description = "A scope: policies on it and beneath it"),
        ("page" = Option<u32>, Query), ("pageSize" = Option<u32>, Query)),
    responses((status = 200, description = "Policies in the page envelope: `{page, pageSize, count, total, totalPages, data}`", body = AnyObject)))]
pub async fn index(
    gate: Data<Gate>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (_, slice, page) = list_params(req.query_string())?;
    let q = Query::parse(req.query_string())?;
    let mut problems = Problems::default();
    let subject = q.parsed(&mut problems, "subject", SubjectRef::parse);
    let action = q.parsed(&mut problems, "action", validate_action);
    let scope = q.parsed(&mut problems, "scope", validate_scope);
    let within = q.parsed(&mut problems, "within", validate_scope);
    problems.into_result()?;
    let tenant = caller.tenant_id;
    let query = PolicyQuery {
        subject,
        action,
        scope,
        within,
        page: PageRequest::window(slice.offset, slice.limit),
    };
    let listing = gate
        .run(move |app| async move { access::list_policies(&app, &caller, query).await })
        .await?;
    let data = listing
        .items
        .iter()
        .map(|p| stored_policy(p, tenant))
        .collect();
    Ok(envelope(data, listing.total, slice, page))
}

/// `DELETE /v1/policies?subject=&scope=&action=`: 200, no content; 404
/// unless the tenant has that policy.
#[utoipa::path(delete, path = "/core/iam/v1/policies", tag = IAM,
    params(("subject" = String, Query), ("scope" = String, Query), ("action" = String, Query)),
    responses((status = 200, description = "Deleted")))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let q = Query::parse(req.query_string())?;
    let mut problems = Problems::default();
    let mut required = |name: &str| match q.get(name) {
        Some(v) => v.to_string(),
        None => {
            problems.add(name, "is required");
            String::new()
        }
    };
    let input = PolicyInput {
        subject: required("subject"),
        scope: required("scope"),
        action: required("action"),
    };
    problems.into_result()?;
    gate.run(move |app| async move { access::delete_policy(&app, &caller, input, &origin).await })
        .await?;
    Ok(views::done())
}
