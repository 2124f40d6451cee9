//! Aritma roles (docs/api/iam.md, Roles and users): RoleDto `{id, name}`,
//! the same rows as `/api/v1/roles`, each a bundle of IAM actions
//! (`actions`, an ithbat addition to the two fields), assigned to users by
//! the Aritma user role operations (`api/iam/users.rs`).
//! Aritma lists roles; get, create, update and delete are ithbat's
//! additions, in the same shape.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::views::{envelope, list_params};
use crate::api::extract::{path_id, present, JsonBody};
use crate::api::iam::views;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::domain::access::{permissions_of_actions, role_actions};
use crate::domain::list::PageRequest;
use crate::domain::permission::BuiltinRole;
use crate::domain::principal::Caller;
use crate::domain::role::{Role, RoleQuery};
use crate::domain::session::Origin;
use crate::domain::{Error, Problems};
use crate::service::roles::{NewRole, RoleChanges};
use crate::service::{roles, Gate};

/// RoleDto, with the actions the role bundles.
fn role(r: &Role) -> Value {
    let fixed = r.builtin.is_some_and(BuiltinRole::is_fixed);
    json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "builtin": r.builtin.is_some(),
        "actions": role_actions(fixed, &r.permissions),
    })
}

/// `GET /v1/roles?searchQuery=&page=&pageSize=` [role:read]: the page envelope.
#[utoipa::path(get, path = "/core/iam/v1/roles", tag = IAM,
    params(
        ("searchQuery" = Option<String>, Query),
        ("page" = Option<u32>, Query, description = "From 1"),
        ("pageSize" = Option<u32>, Query, description = "10 to 200 (default 100)")),
    responses((status = 200, description = "RoleDto `{id, name, description, actions}` in the page envelope: `{page, pageSize, count, total, totalPages, data}`", body = AnyObject)))]
pub async fn index(
    gate: Data<Gate>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (search, slice, page) = list_params(req.query_string())?;
    let query = RoleQuery {
        search,
        page: PageRequest::window(slice.offset, slice.limit),
        ..Default::default()
    };
    let listing = gate
        .run(move |app| async move { roles::list(&app, &caller, query).await })
        .await?;
    let data = listing.items.iter().map(role).collect();
    Ok(envelope(data, listing.total, slice, page))
}

#[utoipa::path(get, path = "/core/iam/v1/roles/{role_id}", tag = IAM,
    responses((status = 200, description = "RoleDto", body = AnyObject)))]
pub async fn show(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Role")?;
    let r = gate
        .run(move |app| async move { roles::get(&app, &caller, id).await })
        .await?;
    Ok(views::ok(role(&r)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = iam::roles::CreateBody)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    actions: Vec<String>,
}

/// `POST /v1/roles {"name", "description", "actions"}` [role:write]: the
/// actions are IAM actions (`iam.user` bundles `iam.user.read` and
/// `iam.user.write`); no one creates a role holding what they lack.
#[utoipa::path(post, path = "/core/iam/v1/roles", tag = IAM, request_body = CreateBody,
    responses((status = 200, description = "RoleDto", body = AnyObject)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let mut problems = Problems::default();
    let permissions = problems.check("actions", permissions_of_actions(&b.actions));
    problems.into_result()?;
    let input = NewRole {
        name: b.name,
        description: b.description,
        permissions: permissions.unwrap_or_default(),
    };
    let r = gate
        .run(move |app| async move { roles::create(&app, &caller, input, &origin).await })
        .await?;
    Ok(views::ok(role(&r)))
}

/// Any of the create fields; absent ones are kept.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = iam::roles::UpdateBody)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    actions: Option<Vec<String>>,
}

/// `PUT /v1/roles/{id}` [role:write]: 200 with the role; built-in roles
/// keep their names, owner keeps `*`.
#[utoipa::path(put, path = "/core/iam/v1/roles/{role_id}", tag = IAM, request_body = UpdateBody,
    responses((status = 200, description = "RoleDto", body = AnyObject)))]
pub async fn update(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<UpdateBody>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Role")?;
    let b = body.0;
    let mut problems = Problems::default();
    let permissions = b
        .actions
        .map(|a| problems.check("actions", permissions_of_actions(&a)))
        .map(Option::unwrap_or_default);
    problems.into_result()?;
    let changes = RoleChanges {
        name: b.name,
        description: b.description,
        permissions,
    };
    let r = gate
        .run(move |app| async move { roles::update(&app, &caller, id, changes, &origin).await })
        .await?;
    Ok(views::ok(role(&r)))
}

#[utoipa::path(delete, path = "/core/iam/v1/roles/{role_id}", tag = IAM,
    responses((status = 200, description = "Deleted")))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Role")?;
    gate.run(move |app| async move { roles::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(views::done())
}
