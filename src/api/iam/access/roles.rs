//! Seed 003 "Roles": RoleDto `{id, name}`, the same rows as
//! `/api/v1/roles`, each a bundle of IAM actions (`actions`, added to the
//! reference's two fields), assigned to users by seed 003's user role
//! operations (`api/iam/users.rs`).
//! Only the list is named by the reference; get, create, update and
//! delete are ours, in the same shape.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::views::{envelope, list_params};
use crate::api::extract::{path_id, present, JsonBody};
use crate::api::iam::views;
use crate::domain::access::{permissions_of_actions, role_actions};
use crate::domain::list::PageRequest;
use crate::domain::permission::BuiltinRole;
use crate::domain::principal::Caller;
use crate::domain::role::{Role, RoleQuery};
use crate::domain::session::Origin;
use crate::domain::{Error, Problems};
use crate::service::roles::{NewRole, RoleChanges};
use crate::service::{roles, App};

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

/// `GET /v1/roles?searchQuery=&page=&pageSize=` [role:read]: envelope 2.
pub async fn index(
    app: Data<App>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (search, slice, page) = list_params(req.query_string())?;
    let query = RoleQuery {
        search,
        page: PageRequest::window(slice.offset, slice.limit),
        ..Default::default()
    };
    let listing = app
        .run(move |app| async move { roles::list(&app, &caller, query).await })
        .await?;
    let data = listing.items.iter().map(role).collect();
    Ok(envelope(data, listing.total, slice, page))
}

pub async fn show(app: Data<App>, caller: Caller, id: Path<String>) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Role")?;
    let r = app
        .run(move |app| async move { roles::get(&app, &caller, id).await })
        .await?;
    Ok(views::ok(role(&r)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    actions: Vec<String>,
}

/// `POST /v1/roles {"name", "description", "actions"}` [role:write]: the
/// actions are IAM actions (`iam.user` bundles `iam.user.read` and
/// `iam.user.write`); no one creates a role holding what they lack.
pub async fn create(
    app: Data<App>,
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
    let r = app
        .run(move |app| async move { roles::create(&app, &caller, input, &origin).await })
        .await?;
    Ok(views::ok(role(&r)))
}

/// Any of the create fields; absent ones are kept.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    actions: Option<Vec<String>>,
}

/// `PUT /v1/roles/{id}` [role:write]: 200 with the role; built-in roles
/// keep their names, owner keeps `*`.
pub async fn update(
    app: Data<App>,
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
    let r = app
        .run(move |app| async move { roles::update(&app, &caller, id, changes, &origin).await })
        .await?;
    Ok(views::ok(role(&r)))
}

pub async fn delete(
    app: Data<App>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "Role")?;
    app.run(move |app| async move { roles::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(views::done())
}
