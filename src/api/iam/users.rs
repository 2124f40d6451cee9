//! Aritma users (docs/api/iam.md, Roles and users): `/v1/users` (list, get), a
//! user's roles, invitations (`/v1/users/invite?email=&redirectUrl=`) and
//! direct creation on a verified domain
//! (`/v1/users/users?email=&fullName=&phoneNumber=`). Every input is a query or
//! path parameter, as in the Aritma API.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::views;
use crate::api::extract::path_id;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::api::query::Query;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::user::UserQuery;
use crate::domain::Error;
use crate::service::onboarding::{self, DirectUser};
use crate::service::users::{self, UserDetails};
use crate::service::Gate;

/// UserDto: every member is required, so a phone number never registered
/// is `""`, and so is the email of a user provisioned without one. `roles` are the roles held, each once, as RoleDto `{id, name}`.
fn dto(d: &UserDetails) -> Value {
    let mut roles: Vec<Value> = Vec::new();
    for a in &d.assignments {
        let role = json!({ "id": a.role_id, "name": a.role_name });
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    json!({
        "id": d.user.id,
        "userName": d.user.user_name,
        "email": d.user.email.as_deref().unwrap_or(""),
        "phoneNumber": d.user.phone_number.as_deref().unwrap_or(""),
        "twoFactorEnabled": d.user.mfa_enabled,
        "roles": roles,
    })
}

/// `GET /v1/users?searchText=&page=&pageSize=`: UserDto items in the
/// Aritma ID envelope; searchText matches names and email.
#[utoipa::path(get, path = "/core/iam/v1/users", tag = IAM,
    params(
        ("page" = Option<u32>, Query, description = "From 1"),
        ("pageSize" = Option<u32>, Query, description = "1 to 100"),
        ("searchText" = Option<String>, Query)),
    responses((status = 200, description = "UserDto items in the Aritma ID envelope: `{items, metadata: {page, pageSize, totalCount}, links: {first, previous, next, last}}`", body = AnyObject)))]
pub async fn index(
    gate: Data<Gate>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (page, search) = views::list_params(&req)?;
    let query = UserQuery {
        search: search.clone(),
        page,
        ..Default::default()
    };
    let listing = gate
        .run(move |app| async move { users::list(&app, &caller, query).await })
        .await?;
    Ok(views::page(
        listing.map(|d| dto(&d)),
        &views::url(&gate, &req),
        search.as_deref(),
    ))
}

/// `GET /v1/users/{userId}`: UserDto.
#[utoipa::path(get, path = "/core/iam/v1/users/{user_id}", tag = IAM,
    responses((status = 200, description = "UserDto `{id, userName, email, phoneNumber, twoFactorEnabled, roles: [{id, name}]}`", body = AnyObject)))]
pub async fn show(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = path_id(&id, "User")?;
    let user = gate
        .run(move |app| async move { users::get(&app, &caller, id).await })
        .await?;
    Ok(views::ok(dto(&user)))
}

fn user_and_role(ids: Path<(String, String)>) -> Result<(uuid::Uuid, uuid::Uuid), Error> {
    let (user, role) = ids.into_inner();
    Ok((path_id(&user, "User")?, path_id(&role, "Role")?))
}

/// The role named by a path: another tenant's, or none, is 404 (the native
/// API names an unknown `roleId` in its body as invalid input instead).
fn role_path_error(e: Error) -> Error {
    match e {
        Error::Validation(fields) if fields.iter().any(|f| f.field == "roleId") => {
            Error::NotFound("Role")
        }
        e => e,
    }
}

/// `POST /v1/users/{userId}/roles/{roleId}` (role:write): 200, no content;
/// holding the role already changes nothing.
#[utoipa::path(post, path = "/core/iam/v1/users/{user_id}/roles/{role_id}", tag = IAM,
    responses((status = 200, description = "Held (holding it already changes nothing)")))]
pub async fn add_role(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    ids: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (user, role) = user_and_role(ids)?;
    gate.run(move |app| async move {
        users::assign_role(&app, &caller, user, role, &origin)
            .await
            .map_err(role_path_error)
    })
    .await?;
    Ok(views::done())
}

/// `DELETE /v1/users/{userId}/roles/{roleId}` (role:write): 200, no content.
#[utoipa::path(delete, path = "/core/iam/v1/users/{user_id}/roles/{role_id}", tag = IAM,
    responses((status = 200, description = "No longer held")))]
pub async fn remove_role(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    ids: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (user, role) = user_and_role(ids)?;
    gate.run(
        move |app| async move { users::remove_role(&app, &caller, user, role, &origin).await },
    )
    .await?;
    Ok(views::done())
}

/// `POST /v1/users/invite?email=&redirectUrl=` (user:write): 204.
#[utoipa::path(post, path = "/core/iam/v1/users/invite", tag = IAM,
    params(("email" = String, Query), ("redirectUrl" = Option<String>, Query, description = "One of the tenant's allowed redirect URLs")),
    responses((status = 204, description = "Invited by email")))]
pub async fn invite(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let q = Query::parse(req.query_string())?;
    let email = q.get("email").unwrap_or("").to_string();
    let redirect = q.get("redirectUrl").map(str::to_string);
    gate.run(move |app| async move {
        onboarding::invite(&app, &caller, &email, redirect, &origin).await
    })
    .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// A query string decodes `+` as a space, so `phoneNumber=+4712345678`
/// (as Aritma clients send it, unencoded) arrives as " 4712345678": a leading
/// space before digits can only have been the international prefix.
fn plus_restored(raw: &str) -> String {
    match raw.strip_prefix(' ') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => format!("+{rest}"),
        _ => raw.to_string(),
    }
}

/// `POST /v1/users/users?email=&fullName=&phoneNumber=` (user:write): 200
/// `{userId, email, phoneNumber, fullName}`; only on a verified domain.
#[utoipa::path(post, path = "/core/iam/v1/users/users", tag = IAM,
    params(("email" = String, Query), ("fullName" = Option<String>, Query), ("phoneNumber" = Option<String>, Query)),
    responses((status = 200, description = "`{userId, email, phoneNumber, fullName}`; only on a verified domain of the tenant", body = AnyObject)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let q = Query::parse(req.query_string())?;
    let input = DirectUser {
        email: q.get("email").unwrap_or("").to_string(),
        full_name: q.get("fullName").map(str::to_string),
        phone_number: q.get("phoneNumber").map(plus_restored),
    };
    let created = gate
        .run(move |app| async move {
            onboarding::create_on_verified_domain(&app, &caller, input, &origin).await
        })
        .await?;
    let u = &created.user;
    Ok(views::ok(json!({
        "userId": u.id,
        "email": u.email,
        "phoneNumber": u.phone_number.as_deref().unwrap_or(""),
        "fullName": u.name.full(),
    })))
}
