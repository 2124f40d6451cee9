//! The HTTP face of the SCIM operations on `/Users` and `/Groups`: read the
//! request, run the operation on the server runtime, answer in SCIM.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use uuid::Uuid;

use super::context::{if_match, if_none_match, Scim, ScimJson};
use super::error::{ScimError, ScimResult};
use super::list;
use super::ops::{self, resource_id, Reply};
use super::schema::Resource;
use crate::service::Gate;

/// The resource type a route names: `/Users/...` or `/Groups/...`.
fn resource(req: &HttpRequest) -> ScimResult<Resource> {
    Resource::from_endpoint(req.match_info().get("resource").unwrap_or(""))
        .ok_or_else(|| ScimError::plain(404, format!("No endpoint {}", req.path())))
}

fn target(req: &HttpRequest) -> ScimResult<(Resource, Uuid)> {
    let r = resource(req)?;
    Ok((r, resource_id(r, req.match_info().get("id").unwrap_or(""))?))
}

pub async fn index(gate: Data<Gate>, scim: Scim, req: HttpRequest) -> ScimResult<HttpResponse> {
    let r = resource(&req)?;
    let params = list::from_query(req.query_string())?;
    let reply: Reply = gate
        .run(move |app| async move { ops::list(&app, &scim, r, &params).await })
        .await?;
    Ok(reply.into_response())
}

/// `POST /Users/.search` (RFC 7644 3.4.3): a list whose query is the body.
pub async fn search(
    gate: Data<Gate>,
    scim: Scim,
    req: HttpRequest,
    body: ScimJson,
) -> ScimResult<HttpResponse> {
    let r = resource(&req)?;
    let params = list::from_search(&body.0)?;
    let reply: Reply = gate
        .run(move |app| async move { ops::list(&app, &scim, r, &params).await })
        .await?;
    Ok(reply.into_response())
}

pub async fn create(
    gate: Data<Gate>,
    scim: Scim,
    req: HttpRequest,
    body: ScimJson,
) -> ScimResult<HttpResponse> {
    let r = resource(&req)?;
    let projection = list::projection(req.query_string());
    let reply: Reply = gate
        .run(move |app| async move { ops::create(&app, &scim, r, &body.0, &projection).await })
        .await?;
    Ok(reply.into_response())
}

pub async fn show(gate: Data<Gate>, scim: Scim, req: HttpRequest) -> ScimResult<HttpResponse> {
    let (r, id) = target(&req)?;
    let projection = list::projection(req.query_string());
    let fresh = if_none_match(&req);
    let reply: Reply = gate
        .run(move |app| async move { ops::read(&app, &scim, r, id, &projection, fresh).await })
        .await?;
    Ok(reply.into_response())
}

pub async fn replace(
    gate: Data<Gate>,
    scim: Scim,
    req: HttpRequest,
    body: ScimJson,
) -> ScimResult<HttpResponse> {
    let (r, id) = target(&req)?;
    let projection = list::projection(req.query_string());
    let pre = if_match(&req);
    let reply: Reply =
        gate.run(move |app| async move {
            ops::replace(&app, &scim, r, id, &body.0, pre, &projection).await
        })
        .await?;
    Ok(reply.into_response())
}

pub async fn patch(
    gate: Data<Gate>,
    scim: Scim,
    req: HttpRequest,
    body: ScimJson,
) -> ScimResult<HttpResponse> {
    let (r, id) = target(&req)?;
    let projection = list::projection(req.query_string());
    let pre = if_match(&req);
    let reply: Reply =
        gate.run(move |app| async move {
            ops::patch(&app, &scim, r, id, &body.0, pre, &projection).await
        })
        .await?;
    Ok(reply.into_response())
}

pub async fn delete(gate: Data<Gate>, scim: Scim, req: HttpRequest) -> ScimResult<HttpResponse> {
    let (r, id) = target(&req)?;
    let pre = if_match(&req);
    let reply: Reply = gate
        .run(move |app| async move { ops::delete(&app, &scim, r, id, pre).await })
        .await?;
    Ok(reply.into_response())
}

/// A `/Me` caller: the person their access token stands for. A SCIM token
/// or a client's own token stands for no one: 501, as RFC 7644 3.11 says
/// of a server without the alias.
fn person(scim: &Scim) -> ScimResult<()> {
    match scim.caller.session() {
        Ok(_) => Ok(()),
        Err(_) => Err(ScimError::plain(
            501,
            "/Me is the resource of a signed-in person; this credential stands for no one",
        )),
    }
}

/// `GET /Me` (RFC 7644 3.11): the caller's own User resource.
pub async fn me_show(gate: Data<Gate>, scim: Scim, req: HttpRequest) -> ScimResult<HttpResponse> {
    person(&scim)?;
    let projection = list::projection(req.query_string());
    let fresh = if_none_match(&req);
    let reply: Reply = gate
        .run(move |app| async move { ops::me_read(&app, &scim, &projection, fresh).await })
        .await?;
    Ok(reply.into_response())
}

/// `PUT /Me`: within self-service (docs/api/scim.md, "/Me").
pub async fn me_replace(
    gate: Data<Gate>,
    scim: Scim,
    req: HttpRequest,
    body: ScimJson,
) -> ScimResult<HttpResponse> {
    person(&scim)?;
    let projection = list::projection(req.query_string());
    let pre = if_match(&req);
    let reply: Reply = gate
        .run(
            move |app| async move { ops::me_replace(&app, &scim, &body.0, pre, &projection).await },
        )
        .await?;
    Ok(reply.into_response())
}

/// `PATCH /Me`: within self-service, as PUT.
pub async fn me_patch(
    gate: Data<Gate>,
    scim: Scim,
    req: HttpRequest,
    body: ScimJson,
) -> ScimResult<HttpResponse> {
    person(&scim)?;
    let projection = list::projection(req.query_string());
    let pre = if_match(&req);
    let reply: Reply = gate
        .run(move |app| async move { ops::me_patch(&app, &scim, &body.0, pre, &projection).await })
        .await?;
    Ok(reply.into_response())
}

/// `POST /Me`: a signed-in person already has their resource, and this
/// server does not create one through the alias (RFC 7644 3.11 leaves it
/// to the server): 501. People register at `/api/v1/auth/register`.
pub async fn me_create(scim: Scim) -> ScimResult<HttpResponse> {
    person(&scim)?;
    Err(ScimError::plain(
        501,
        "Creating a resource through /Me is not supported",
    ))
}

/// `DELETE /Me`: self-service does not delete an account (an administrator
/// does): 403.
pub async fn me_delete(scim: Scim) -> ScimResult<HttpResponse> {
    person(&scim)?;
    Err(ScimError::plain(
        403,
        "An account is deleted by an administrator, not through /Me",
    ))
}

/// `GET /?filter=...` at the service root (RFC 7644 3.4.3): Users and
/// Groups in one list.
pub async fn root_index(
    gate: Data<Gate>,
    scim: Scim,
    req: HttpRequest,
) -> ScimResult<HttpResponse> {
    let params = list::from_query(req.query_string())?;
    let reply: Reply = gate
        .run(move |app| async move { ops::list_all(&app, &scim, &params).await })
        .await?;
    Ok(reply.into_response())
}

/// `POST /.search` at the service root (RFC 7644 3.4.3).
pub async fn root_search(gate: Data<Gate>, scim: Scim, body: ScimJson) -> ScimResult<HttpResponse> {
    let params = list::from_search(&body.0)?;
    let reply: Reply = gate
        .run(move |app| async move { ops::list_all(&app, &scim, &params).await })
        .await?;
    Ok(reply.into_response())
}

pub async fn not_found(req: HttpRequest) -> ScimResult<HttpResponse> {
    Err(ScimError::plain(404, format!("No endpoint {}", req.path())))
}

pub async fn method_not_allowed(req: HttpRequest) -> ScimResult<HttpResponse> {
    Err(ScimError::plain(
        405,
        format!("{} is not supported on {}", req.method(), req.path()),
    ))
}
