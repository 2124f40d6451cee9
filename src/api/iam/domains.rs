//! Aritma domains (docs/api/iam.md, Domains): `/v1/domains` (list with
//! `filter`, register with `?domain=`, unregister with `?domain=`) and
//! `/v1/domains/status?domain=`, which verifies a pending domain against its
//! DNS TXT record.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::views;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::api::query::Query;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::tenant_domain::{DomainStatus, TenantDomain};
use crate::domain::{Error, Problems};
use crate::service::{domains, Gate};

/// `{domain, status, verificationToken}`; the token is left out once the
/// domain is confirmed.
fn dto(name: &str, domain: Option<&TenantDomain>) -> Value {
    let status = domain.map_or(DomainStatus::NotRegistered, |d| d.status());
    let mut v = json!({ "domain": name, "status": status.as_str() });
    if let Some(d) = domain.filter(|d| d.status() == DomainStatus::Pending) {
        v["verificationToken"] = json!(d.verification_token);
    }
    v
}

/// The `domain` query parameter, as typed (the service normalizes it).
fn domain_param(req: &HttpRequest) -> Result<String, Error> {
    let q = Query::parse(req.query_string())?;
    Ok(q.get("domain").unwrap_or("").to_string())
}

/// `GET /v1/domains?filter=`: the tenant's domains by name.
#[utoipa::path(get, path = "/core/iam/v1/domains", tag = IAM,
    params(("filter" = Option<String>, Query, description = "Text the domain names contain")),
    responses((status = 200, description = "`[{domain, status, verificationToken?}]`", body = Vec<AnyObject>)))]
pub async fn index(
    gate: Data<Gate>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let q = Query::parse(req.query_string())?;
    let mut problems = Problems::default();
    let filter = q.text(&mut problems, "filter", 253);
    problems.into_result()?;
    let list = gate
        .run(move |app| async move { domains::list(&app, &caller, filter).await })
        .await?;
    Ok(views::ok(
        list.iter()
            .map(|d| dto(&d.name, Some(d)))
            .collect::<Vec<_>>(),
    ))
}

/// `POST /v1/domains?domain=`: 200 `{domain, status: "Pending",
/// verificationToken}`, to publish as a TXT record at the domain.
#[utoipa::path(post, path = "/core/iam/v1/domains", tag = IAM,
    params(("domain" = String, Query, description = "A domain name (IDNA accepted)")),
    responses((status = 200, description = "`{domain, status: \"Pending\", verificationToken}`: publish the token as a TXT record of the domain", body = AnyObject)))]
pub async fn register(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let name = domain_param(&req)?;
    let domain = gate
        .run(move |app| async move { domains::register(&app, &caller, &name, &origin).await })
        .await?;
    Ok(views::ok(dto(&domain.name, Some(&domain))))
}

/// `GET /v1/domains/status?domain=`: Pending, Confirmed or NotRegistered,
/// after looking up the TXT record of a pending domain.
#[utoipa::path(get, path = "/core/iam/v1/domains/status", tag = IAM,
    params(("domain" = String, Query, description = "A domain name (IDNA accepted)")),
    responses((status = 200, description = "`{domain, status}`: Pending, Confirmed or NotRegistered, after looking up the TXT record of a pending domain", body = AnyObject)))]
pub async fn status(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let name = domain_param(&req)?;
    let (name, domain) = gate
        .run(move |app| async move { domains::status(&app, &caller, &name, &origin).await })
        .await?;
    Ok(views::ok(dto(&name, domain.as_ref())))
}

/// `DELETE /v1/domains?domain=`: 200, no content.
#[utoipa::path(delete, path = "/core/iam/v1/domains", tag = IAM,
    params(("domain" = String, Query, description = "A domain name (IDNA accepted)")),
    responses((status = 200, description = "Unregistered")))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let name = domain_param(&req)?;
    gate.run(move |app| async move { domains::delete(&app, &caller, &name, &origin).await })
        .await?;
    Ok(views::done())
}
