//! `/api/v1/groups` (docs/api/ithbat.md, Groups).

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::views::{GroupMemberView, GroupView};
use super::views::{GroupPage, MemberPage};
use super::{created, list, message, ok};
use crate::api::extract::{body_id, path_id, present, JsonBody};
use crate::api::openapi::schemas::{Listing, Message, NativeList, Success};
use crate::api::openapi::NATIVE;
use crate::api::query::Query;
use crate::domain::group::{GroupQuery, GroupSort};
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::{Error, Problems};
use crate::service::{groups, Gate};

fn group_id(raw: &str) -> Result<uuid::Uuid, Error> {
    path_id(raw, "Group")
}

#[utoipa::path(get, path = "/api/v1/groups", tag = NATIVE, params(NativeList),
    responses((status = 200, description = "The tenant's groups", body = Listing<GroupPage>)))]
pub async fn index(
    req: HttpRequest,
    gate: Data<Gate>,
    caller: Caller,
) -> Result<HttpResponse, Error> {
    let q = Query::parse(req.query_string())?;
    let mut problems = Problems::default();
    let query = GroupQuery {
        search: q.search(&mut problems),
        filter: None,
        sort: q.sort(
            &mut problems,
            &[
                ("name", GroupSort::Name),
                ("createdAt", GroupSort::CreatedAt),
                ("updatedAt", GroupSort::UpdatedAt),
            ],
        ),
        page: q.page(&mut problems),
    };
    problems.into_result()?;
    let listing = gate
        .run(move |app| async move { groups::list(&app, &caller, query).await })
        .await?;
    Ok(list("groups", listing.map(GroupView::from)))
}

#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = NATIVE,
    responses((status = 200, description = "OK", body = Success<GroupView>)))]
pub async fn show(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = group_id(&id)?;
    let group = gate
        .run(move |app| async move { groups::get(&app, &caller, id).await })
        .await?;
    Ok(ok(GroupView::from(group)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::groups::CreateBody)]
pub struct CreateBody {
    name: String,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    description: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/groups", tag = NATIVE, request_body = CreateBody,
    responses((status = 201, description = "Created", body = Success<GroupView>)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    let CreateBody { name, description } = body.0;
    let group =
        gate.run(move |app| async move {
            groups::create(&app, &caller, name, description, &origin).await
        })
        .await?;
    Ok(created(GroupView::from(group)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::groups::UpdateBody)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    description: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/groups/{id}", tag = NATIVE, request_body = UpdateBody,
    responses((status = 200, description = "OK", body = Success<GroupView>)))]
pub async fn update(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<UpdateBody>,
) -> Result<HttpResponse, Error> {
    let id = group_id(&id)?;
    let UpdateBody { name, description } = body.0;
    let group = gate
        .run(move |app| async move {
            groups::update(&app, &caller, id, name, description, &origin).await
        })
        .await?;
    Ok(ok(GroupView::from(group)))
}

#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = NATIVE,
    responses((status = 200, description = "Deleted", body = Message)))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = group_id(&id)?;
    gate.run(move |app| async move { groups::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(message("Group deleted", json!({})))
}

#[utoipa::path(get, path = "/api/v1/groups/{id}/members", tag = NATIVE, params(NativeList),
    responses((status = 200, description = "The group's members", body = Listing<MemberPage>)))]
pub async fn members(
    req: HttpRequest,
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = group_id(&id)?;
    let page = Query::paging(req.query_string())?;
    let listing = gate
        .run(move |app| async move { groups::members(&app, &caller, id, page).await })
        .await?;
    Ok(list("members", listing.map(GroupMemberView::from)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::groups::MemberBody)]
pub struct MemberBody {
    user_id: String,
}

#[utoipa::path(post, path = "/api/v1/groups/{id}/members", tag = NATIVE, request_body = MemberBody,
    responses((status = 200, description = "Added (or already a member)", body = Message)))]
pub async fn add_member(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<MemberBody>,
) -> Result<HttpResponse, Error> {
    let id = group_id(&id)?;
    let user = body_id("userId", &body.0.user_id)?;
    let added = gate
        .run(move |app| async move { groups::add_member(&app, &caller, id, user, &origin).await })
        .await?;
    let text = if added {
        "Member added"
    } else {
        "Already a member"
    };
    Ok(message(text, json!({})))
}

#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{user_id}", tag = NATIVE,
    responses((status = 200, description = "Removed", body = Message)))]
pub async fn remove_member(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (id, user) = path.into_inner();
    let id = group_id(&id)?;
    let user = path_id(&user, "Group member")?;
    gate.run(
        move |app| async move { groups::remove_member(&app, &caller, id, user, &origin).await },
    )
    .await?;
    Ok(message("Member removed", json!({})))
}
