//! Aritma actions (docs/api/iam.md, Actions, policies and groups): the
//! catalogue policies name actions from, listed by `GET /v1/actions`;
//! registering and removing a tenant's own actions are ithbat's additions.

use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::json;

use crate::api::extract::JsonBody;
use crate::api::iam::views;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::domain::access::ActionInfo;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::{access, Gate};

fn action(a: &ActionInfo) -> serde_json::Value {
    json!({ "name": a.name, "description": a.description, "builtin": a.builtin })
}

/// `GET /v1/actions`: `[{"name", "description", "builtin"}]` by name
/// [iam.policy.read].
#[utoipa::path(get, path = "/core/iam/v1/actions", tag = IAM,
    responses((status = 200, description = "`[{name, description, builtin}]` by name", body = Vec<AnyObject>)))]
pub async fn index(gate: Data<Gate>, caller: Caller) -> Result<HttpResponse, Error> {
    let list = gate
        .run(move |app| async move { access::catalogue(&app, &caller).await })
        .await?;
    Ok(views::ok(list.iter().map(action).collect::<Vec<_>>()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = iam::actions::CreateBody)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST /v1/actions {"name", "description"}` [iam.policy.write]: 200
/// with the action; 409 if registered already.
#[utoipa::path(post, path = "/core/iam/v1/actions", tag = IAM, request_body = CreateBody,
    responses((status = 200, description = "The action `{name, description, builtin}`", body = AnyObject)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let created = gate
        .run(move |app| async move {
            access::register_action(&app, &caller, b.name, b.description, &origin).await
        })
        .await?;
    Ok(views::ok(action(&created)))
}

/// `DELETE /v1/actions/{name}` [iam.policy.write]: 200, no content.
#[utoipa::path(delete, path = "/core/iam/v1/actions/{name}", tag = IAM,
    responses((status = 200, description = "Unregistered")))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    name: Path<String>,
) -> Result<HttpResponse, Error> {
    let name = name.into_inner();
    gate.run(move |app| async move { access::remove_action(&app, &caller, &name, &origin).await })
        .await?;
    Ok(views::done())
}
