//! Aritma subjects (docs/api/iam.md, Actions, policies and groups), all
//! fourteen operations. Lists take `searchQuery`, `page` and `pageSize` and
//! answer the page envelope. A subject in a path is its subjectId (`group-<uuid>`);
//! under `/subjects/{users,clients,groups}/` the bare id works too. Unknown
//! subjects, and other tenants', are 404.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::views::{envelope, grants, group, list_params, subjects};
use crate::api::extract::JsonBody;
use crate::api::iam::views;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::domain::access::{SubjectKind, SubjectRef};
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::subjects::Slice;
use crate::service::{access, groups as group_service, subjects as service, Gate};

async fn list(
    gate: Data<Gate>,
    caller: Caller,
    req: HttpRequest,
    kinds: &'static [SubjectKind],
) -> Result<HttpResponse, Error> {
    let (search, slice, page) = list_params(req.query_string())?;
    let window = gate
        .run(move |app| async move { service::list(&app, &caller, kinds, search, slice).await })
        .await?;
    Ok(subjects(window, slice, page))
}

/// `GET /v1/subjects`: users, then clients, then groups.
#[utoipa::path(get, path = "/core/iam/v1/subjects", tag = IAM,
    params(
        ("searchQuery" = Option<String>, Query),
        ("page" = Option<u32>, Query, description = "From 1"),
        ("pageSize" = Option<u32>, Query, description = "10 to 200 (default 100)")),
    responses((status = 200, description = "Users, then clients, then groups, in the page envelope: `{page, pageSize, count, total, totalPages, data}`", body = AnyObject)))]
pub async fn index(
    gate: Data<Gate>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    use SubjectKind::*;
    list(gate, caller, req, &[User, Client, Group]).await
}

/// `GET /v1/subjects/users`.
#[utoipa::path(get, path = "/core/iam/v1/subjects/users", tag = IAM,
    params(
        ("searchQuery" = Option<String>, Query),
        ("page" = Option<u32>, Query, description = "From 1"),
        ("pageSize" = Option<u32>, Query, description = "10 to 200 (default 100)")),
    responses((status = 200, description = "User subjects in the page envelope `{page, pageSize, count, total, totalPages, data}`", body = AnyObject)))]
pub async fn users(
    gate: Data<Gate>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    list(gate, caller, req, &[SubjectKind::User]).await
}

/// `GET /v1/subjects/clients`.
#[utoipa::path(get, path = "/core/iam/v1/subjects/clients", tag = IAM,
    params(
        ("searchQuery" = Option<String>, Query),
        ("page" = Option<u32>, Query, description = "From 1"),
        ("pageSize" = Option<u32>, Query, description = "10 to 200 (default 100)")),
    responses((status = 200, description = "Client subjects in the page envelope `{page, pageSize, count, total, totalPages, data}`", body = AnyObject)))]
pub async fn clients(
    gate: Data<Gate>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    list(gate, caller, req, &[SubjectKind::Client]).await
}

/// `GET /v1/subjects/groups`.
#[utoipa::path(get, path = "/core/iam/v1/subjects/groups", tag = IAM,
    params(
        ("searchQuery" = Option<String>, Query),
        ("page" = Option<u32>, Query, description = "From 1"),
        ("pageSize" = Option<u32>, Query, description = "10 to 200 (default 100)")),
    responses((status = 200, description = "Group subjects in the page envelope `{page, pageSize, count, total, totalPages, data}`", body = AnyObject)))]
pub async fn groups(
    gate: Data<Gate>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    list(gate, caller, req, &[SubjectKind::Group]).await
}

fn subject_id(raw: &str) -> Result<SubjectRef, Error> {
    SubjectRef::parse(raw).map_err(|_| Error::NotFound("Subject"))
}

fn kind_id(kind: SubjectKind, raw: &str) -> Result<SubjectRef, Error> {
    kind.parse_id(raw).ok_or(Error::NotFound("Subject"))
}

fn group_id(raw: &str) -> Result<uuid::Uuid, Error> {
    SubjectKind::Group
        .parse_id(raw)
        .map(SubjectRef::id)
        .ok_or(Error::NotFound("Group"))
}

async fn permissions_of(
    gate: Data<Gate>,
    caller: Caller,
    subject: SubjectRef,
) -> Result<HttpResponse, Error> {
    let tenant = caller.tenant_id;
    let held = gate
        .run(move |app| async move { access::subject_access(&app, &caller, subject).await })
        .await?;
    Ok(views::ok(grants(&held, tenant)))
}

/// `GET /v1/subjects/{subject}/permissions` [iam.policy.read]: what
/// the subject may do where, and why.
#[utoipa::path(get, path = "/core/iam/v1/subjects/{subject}/permissions", tag = IAM,
    responses((status = 200, description = "`[{action, scope, tenant, source, via}]`", body = Vec<AnyObject>)))]
pub async fn permissions(
    gate: Data<Gate>,
    caller: Caller,
    subject: Path<String>,
) -> Result<HttpResponse, Error> {
    let subject = subject_id(&subject)?;
    permissions_of(gate, caller, subject).await
}

/// `GET /v1/subjects/users/{id}/permissions`.
#[utoipa::path(get, path = "/core/iam/v1/subjects/users/{id}/permissions", tag = IAM,
    responses((status = 200, description = "`[{action, scope, tenant, source, via}]`", body = Vec<AnyObject>)))]
pub async fn user_permissions(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let subject = kind_id(SubjectKind::User, &id)?;
    permissions_of(gate, caller, subject).await
}

/// `GET /v1/subjects/clients/{id}/permissions`.
#[utoipa::path(get, path = "/core/iam/v1/subjects/clients/{id}/permissions", tag = IAM,
    responses((status = 200, description = "`[{action, scope, tenant, source, via}]`", body = Vec<AnyObject>)))]
pub async fn client_permissions(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let subject = kind_id(SubjectKind::Client, &id)?;
    permissions_of(gate, caller, subject).await
}

/// `GET /v1/subjects/groups/{groupSubjectId}/permissions`.
#[utoipa::path(get, path = "/core/iam/v1/subjects/groups/{id}/permissions", tag = IAM,
    responses((status = 200, description = "`[{action, scope, tenant, source, via}]`", body = Vec<AnyObject>)))]
pub async fn group_permissions(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let subject = kind_id(SubjectKind::Group, &id)?;
    permissions_of(gate, caller, subject).await
}

/// `GET /v1/subjects/{subject}/memberships`: the groups it is in,
/// in the page envelope (one page: a subject is in few groups).
#[utoipa::path(get, path = "/core/iam/v1/subjects/{subject}/memberships", tag = IAM,
    responses((status = 200, description = "The groups the subject is in, in the page envelope", body = AnyObject)))]
pub async fn memberships(
    gate: Data<Gate>,
    caller: Caller,
    subject: Path<String>,
) -> Result<HttpResponse, Error> {
    let subject = subject_id(&subject)?;
    let found = gate
        .run(move |app| async move { service::memberships(&app, &caller, subject).await })
        .await?;
    let total = i64::try_from(found.len()).unwrap_or(i64::MAX);
    let slice = Slice {
        offset: 0,
        limit: u32::try_from(found.len()).unwrap_or(u32::MAX).max(1),
    };
    Ok(envelope(found.iter().map(group).collect(), total, slice, 1))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = iam::subjects::CreateGroupBody)]
pub struct CreateGroupBody {
    display_name: String,
    #[serde(default)]
    description: Option<String>,
}

/// `POST /v1/subjects/groups {"displayName", "description"}`
/// [group:write]: `{"id", "displayName", "subjectId", "type": "Group"}`.
#[utoipa::path(post, path = "/core/iam/v1/subjects/groups", tag = IAM, request_body = CreateGroupBody,
    responses((status = 200, description = "`{id, displayName, subjectId, type: \"Group\"}`", body = AnyObject)))]
pub async fn create_group(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<CreateGroupBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let g = gate
        .run(move |app| async move {
            group_service::create(&app, &caller, b.display_name, b.description, &origin)
                .await
                .map_err(display_name_field)
        })
        .await?;
    Ok(views::ok(json!({
        "id": g.id,
        "displayName": g.name,
        "subjectId": SubjectRef::Group(g.id).to_string(),
        "type": "Group",
    })))
}

/// The group service names its field `name`; this body calls it
/// `displayName`.
fn display_name_field(e: Error) -> Error {
    match e {
        Error::Validation(fields) => Error::Validation(
            fields
                .into_iter()
                .map(|mut f| {
                    if f.field == "name" {
                        f.field = "displayName".into();
                    }
                    f
                })
                .collect(),
        ),
        Error::Conflict { field, message } if field.as_deref() == Some("name") => Error::Conflict {
            field: Some("displayName".into()),
            message,
        },
        e => e,
    }
}

/// `DELETE /v1/subjects/groups/{groupSubjectId}` [group:write]: 200,
/// no content; its policies and memberships go with it.
#[utoipa::path(delete, path = "/core/iam/v1/subjects/groups/{id}", tag = IAM,
    responses((status = 200, description = "Deleted, with its policies and memberships")))]
pub async fn delete_group(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = group_id(&id)?;
    gate.run(move |app| async move { group_service::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(views::done())
}

/// `GET /v1/subjects/groups/{groupSubjectId}/members`: its users, then
/// its clients, in the page envelope.
#[utoipa::path(get, path = "/core/iam/v1/subjects/groups/{id}/members", tag = IAM,
    params(
        ("searchQuery" = Option<String>, Query),
        ("page" = Option<u32>, Query, description = "From 1"),
        ("pageSize" = Option<u32>, Query, description = "10 to 200 (default 100)")),
    responses((status = 200, description = "Its users, then its clients, in the page envelope", body = AnyObject)))]
pub async fn members(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let id = group_id(&id)?;
    let (_, slice, page) = list_params(req.query_string())?;
    let window = gate
        .run(move |app| async move { service::members(&app, &caller, id, slice).await })
        .await?;
    Ok(subjects(window, slice, page))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = iam::subjects::AddMembersBody)]
pub struct AddMembersBody {
    subject_ids: Vec<String>,
}

/// `POST /v1/subjects/groups/{groupSubjectId}/members
/// {"subjectIds": [...]}` [group:write]: users and clients, all or none;
/// 200, no content.
#[utoipa::path(post, path = "/core/iam/v1/subjects/groups/{id}/members", tag = IAM, request_body = AddMembersBody,
    responses((status = 200, description = "Added, all or none")))]
pub async fn add_members(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<AddMembersBody>,
) -> Result<HttpResponse, Error> {
    let id = group_id(&id)?;
    let ids = body.0.subject_ids;
    gate.run(move |app| async move { service::add_members(&app, &caller, id, ids, &origin).await })
        .await?;
    Ok(views::done())
}

/// `DELETE /v1/subjects/groups/{groupSubjectId}/members/{subjectId}`
/// [group:write]: 200, no content; 404 unless a member.
#[utoipa::path(delete, path = "/core/iam/v1/subjects/groups/{id}/members/{member}", tag = IAM,
    responses((status = 200, description = "Removed")))]
pub async fn remove_member(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    ids: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let id = group_id(&ids.0)?;
    let member = SubjectRef::parse(&ids.1).map_err(|_| Error::NotFound("Group member"))?;
    gate.run(
        move |app| async move { service::remove_member(&app, &caller, id, member, &origin).await },
    )
    .await?;
    Ok(views::done())
}
