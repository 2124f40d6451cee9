//! `/api/v1/roles` (docs/api/ithbat.md, Roles and permissions).

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::views::RolePage;
use super::views::RoleView;
use super::{created, list, message, ok};
use crate::api::extract::{path_id, present, JsonBody};
use crate::api::openapi::schemas::{AnyObject, Listing, Message, NativeList, Success};
use crate::api::openapi::NATIVE;
use crate::api::query::Query;
use crate::domain::permission::catalogue;
use crate::domain::principal::Caller;
use crate::domain::role::{RoleQuery, RoleSort};
use crate::domain::session::Origin;
use crate::domain::{Error, Problems};
use crate::service::roles::{NewRole, RoleChanges};
use crate::service::{roles, Gate};

fn role_id(raw: &str) -> Result<uuid::Uuid, Error> {
    path_id(raw, "Role")
}

#[utoipa::path(get, path = "/api/v1/roles", tag = NATIVE, params(NativeList),
    responses((status = 200, description = "The tenant's roles", body = Listing<RolePage>)))]
pub async fn index(
    req: HttpRequest,
    gate: Data<Gate>,
    caller: Caller,
) -> Result<HttpResponse, Error> {
    let q = Query::parse(req.query_string())?;
    let mut problems = Problems::default();
    let query = RoleQuery {
        search: q.search(&mut problems),
        sort: q.sort(
            &mut problems,
            &[
                ("name", RoleSort::Name),
                ("createdAt", RoleSort::CreatedAt),
                ("updatedAt", RoleSort::UpdatedAt),
            ],
        ),
        page: q.page(&mut problems),
    };
    problems.into_result()?;
    let listing = gate
        .run(move |app| async move { roles::list(&app, &caller, query).await })
        .await?;
    Ok(list("roles", listing.map(RoleView::from)))
}

/// The assignable permissions: `resource:read` and `resource:write`.
#[utoipa::path(get, path = "/api/v1/roles/permissions", tag = NATIVE,
    responses((status = 200, description = "`{total, permissions: [{name, resource, action, description}]}`: the permissions a role may bundle", body = Success<AnyObject>)))]
pub async fn catalogue_of_permissions(caller: Caller) -> Result<HttpResponse, Error> {
    caller.require("role:read")?;
    let permissions: Vec<_> = catalogue()
        .into_iter()
        .map(|p| {
            let (resource, action) = p.split_once(':').unwrap_or((&p, ""));
            let description = match action {
                "read" => format!("List and view {resource} resources"),
                _ => format!("Create, update and delete {resource} resources"),
            };
            json!({ "name": p, "resource": resource, "action": action, "description": description })
        })
        .collect();
    Ok(ok(
        json!({ "total": permissions.len(), "permissions": permissions }),
    ))
}

#[utoipa::path(get, path = "/api/v1/roles/{id}", tag = NATIVE,
    responses((status = 200, description = "OK", body = Success<RoleView>)))]
pub async fn show(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = role_id(&id)?;
    let role = gate
        .run(move |app| async move { roles::get(&app, &caller, id).await })
        .await?;
    Ok(ok(RoleView::from(role)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::roles::CreateBody)]
pub struct CreateBody {
    name: String,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    permissions: Option<Vec<String>>,
}

#[utoipa::path(post, path = "/api/v1/roles", tag = NATIVE, request_body = CreateBody,
    responses((status = 201, description = "Created", body = Success<RoleView>)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let input = NewRole {
        name: b.name,
        description: b.description,
        permissions: b.permissions.unwrap_or_default(),
    };
    let role = gate
        .run(move |app| async move { roles::create(&app, &caller, input, &origin).await })
        .await?;
    Ok(created(RoleView::from(role)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::roles::UpdateBody)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    permissions: Option<Vec<String>>,
}

#[utoipa::path(put, path = "/api/v1/roles/{id}", tag = NATIVE, request_body = UpdateBody,
    responses((status = 200, description = "OK", body = Success<RoleView>)))]
pub async fn update(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<UpdateBody>,
) -> Result<HttpResponse, Error> {
    let id = role_id(&id)?;
    let b = body.0;
    let changes = RoleChanges {
        name: b.name,
        description: b.description,
        permissions: b.permissions,
    };
    let role = gate
        .run(move |app| async move { roles::update(&app, &caller, id, changes, &origin).await })
        .await?;
    Ok(ok(RoleView::from(role)))
}

#[utoipa::path(delete, path = "/api/v1/roles/{id}", tag = NATIVE,
    responses((status = 200, description = "Deleted", body = Message)))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = role_id(&id)?;
    gate.run(move |app| async move { roles::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(message("Role deleted", json!({})))
}
