//! `/api/v1/users`: the caller's own profile (`/users/me`) and user
//! administration (docs/api/ithbat.md, Users).

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::views::{timestamp, SessionView, UserView};
use super::views::{SessionPage, UserPage};
use super::{created, list, message, ok};
use crate::api::extract::{body_id, from_value, nullable, path_id, present, JsonBody};
use crate::api::openapi::schemas::{AnyObject, Listing, Message, NativeList, Success};
use crate::api::openapi::NATIVE;
use crate::api::query::Query;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::user::{UserQuery, UserSort, UserStatus};
use crate::domain::{Error, Problems};
use crate::service::passwords::Password;
use crate::service::users::{NewUser, ProfileChanges, MAX_BULK};
use crate::service::{users, Gate};

fn user_id(raw: &str) -> Result<uuid::Uuid, Error> {
    path_id(raw, "User")
}

// ---- /users/me ----

#[utoipa::path(get, path = "/api/v1/users/me", tag = NATIVE,
    responses((status = 200, description = "The caller", body = Success<UserView>)))]
pub async fn me(gate: Data<Gate>, caller: Caller) -> Result<HttpResponse, Error> {
    let me = gate
        .run(move |app| async move { users::me(&app, &caller).await })
        .await?;
    Ok(ok(UserView::from(me)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::users::PreferencesBody)]
pub struct PreferencesBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    theme: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    language: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    timezone: Option<String>,
}

/// The four name fields, or a single `name`, `phoneNumber`, and the
/// preferences the user view shows. Only the fields sent change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::users::UpdateMeBody)]
pub struct UpdateMeBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    father_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    grandfather_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    family_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    phone_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    preferences: Option<PreferencesBody>,
}

#[utoipa::path(put, path = "/api/v1/users/me", tag = NATIVE, request_body = UpdateMeBody,
    responses((status = 200, description = "The caller after the change", body = Success<UserView>)))]
pub async fn update_me(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<UpdateMeBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let prefs = b.preferences;
    let changes = ProfileChanges {
        email: None,
        name: b.name,
        first_name: b.first_name,
        father_name: b.father_name,
        grandfather_name: b.grandfather_name,
        family_name: b.family_name,
        phone_number: b.phone_number,
        theme: prefs.as_ref().and_then(|p| p.theme.clone()),
        language: prefs.as_ref().and_then(|p| p.language.clone()),
        timezone: prefs.and_then(|p| p.timezone),
        ..Default::default()
    };
    let me = gate
        .run(move |app| async move { users::update_me(&app, &caller, changes, &origin).await })
        .await?;
    Ok(ok(UserView::from(me)))
}

// ---- administration ----

/// Paged, filtered and sorted: page, limit, search, status, roleId, sortBy,
/// sortOrder (docs/api/ithbat.md, Users).
#[utoipa::path(get, path = "/api/v1/users", tag = NATIVE, params(NativeList,
        ("status" = Option<String>, Query, description = "`active`, `suspended`, `pending_verification`, ..."),
        ("role" = Option<String>, Query, description = "A role name")),
    responses((status = 200, description = "The tenant's users", body = Listing<UserPage>)))]
pub async fn index(
    req: HttpRequest,
    gate: Data<Gate>,
    caller: Caller,
) -> Result<HttpResponse, Error> {
    let q = Query::parse(req.query_string())?;
    let mut problems = Problems::default();
    let query = UserQuery {
        search: q.search(&mut problems),
        status: q.parsed(&mut problems, "status", UserStatus::parse),
        role_id: q.uuid(&mut problems, "roleId"),
        filter: None,
        sort: q
            .sort(
                &mut problems,
                &[
                    ("createdAt", UserSort::CreatedAt),
                    ("updatedAt", UserSort::UpdatedAt),
                    ("lastLoginAt", UserSort::LastLoginAt),
                    ("email", UserSort::Email),
                    ("firstName", UserSort::FirstName),
                    ("familyName", UserSort::FamilyName),
                    ("status", UserSort::Status),
                ],
            )
            .into_iter()
            .collect(),
        page: q.page(&mut problems),
        skip_count: false,
    };
    problems.into_result()?;
    let listing = gate
        .run(move |app| async move { users::list(&app, &caller, query).await })
        .await?;
    Ok(list("users", listing.map(UserView::from)))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = NATIVE,
    responses((status = 200, description = "OK", body = Success<UserView>)))]
pub async fn show(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = user_id(&id)?;
    let user = gate
        .run(move |app| async move { users::get(&app, &caller, id).await })
        .await?;
    Ok(ok(UserView::from(user)))
}

/// A user to create: email, the four name fields or a single `name`,
/// `phoneNumber`, and optionally a password.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::users::CreateBody)]
pub struct CreateBody {
    email: String,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    father_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    grandfather_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    family_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    phone_number: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    #[schema(value_type = Option<String>)]
    password: Option<Password>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    skip_email_verification: Option<bool>,
}

impl From<CreateBody> for NewUser {
    fn from(b: CreateBody) -> Self {
        NewUser {
            email: Some(b.email),
            first_name: b.first_name,
            father_name: b.father_name,
            grandfather_name: b.grandfather_name,
            family_name: b.family_name,
            name: b.name,
            phone_number: b.phone_number,
            password: b.password,
            skip_email_verification: b.skip_email_verification.unwrap_or(false),
            ..Default::default()
        }
    }
}

#[utoipa::path(post, path = "/api/v1/users", tag = NATIVE, request_body = CreateBody,
    responses((status = 201, description = "Created", body = Success<UserView>)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    let input = NewUser::from(body.0);
    let user = gate
        .run(move |app| async move { users::create(&app, &caller, input, &origin).await })
        .await?;
    Ok(created(UserView::from(user)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::users::BulkBody)]
pub struct BulkBody {
    #[schema(value_type = Vec<Object>)]
    users: Vec<Value>,
}

/// POST /api/v1/users/bulk (docs/api/ithbat.md, Users): each row is created or
/// reported in `errors` with its index, email, error and code; one bad row
/// spoils no other.
#[utoipa::path(post, path = "/api/v1/users/bulk", tag = NATIVE, request_body = BulkBody,
    responses((status = 200, description = "`{successful, failed, users: [...], errors?: [{index, email, error, code, details?}]}`: each row created or reported", body = Success<AnyObject>)))]
pub async fn bulk(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<BulkBody>,
) -> Result<HttpResponse, Error> {
    let rows = body.0.users;
    if rows.is_empty() || rows.len() > MAX_BULK {
        return Err(Error::invalid(
            "users",
            format!("must hold 1 to {MAX_BULK} users"),
        ));
    }
    // Rows that are not even the right shape are reported like any other
    // invalid row; the rest go on to validation and creation.
    let mut parse_errors = Vec::new();
    let mut parsed = Vec::new();
    let mut positions = Vec::new();
    for (index, row) in rows.into_iter().enumerate() {
        let email = row
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match from_value::<CreateBody>(row) {
            Ok(b) => {
                positions.push(index);
                parsed.push(NewUser::from(b));
            }
            Err(e) => parse_errors.push((index, email, e)),
        }
    }
    let outcome = gate
        .run(move |app| async move { users::bulk_create(&app, &caller, parsed, &origin).await })
        .await?;
    let mut errors: Vec<(usize, String, Error)> = outcome
        .errors
        .into_iter()
        .map(|(i, email, e)| (positions[i], email, e))
        .chain(parse_errors)
        .collect();
    errors.sort_by_key(|(i, _, _)| *i);
    let created: Vec<UserView> = outcome.created.into_iter().map(UserView::from).collect();
    let mut data = json!({
        "successful": created.len(),
        "failed": errors.len(),
        "users": created,
    });
    if !errors.is_empty() {
        data["errors"] = errors
            .into_iter()
            .map(|(index, email, e)| {
                let mut entry = json!({ "index": index, "email": email, "error": e.public_message(), "code": e.code() });
                let details = e.details();
                if !details.is_empty() {
                    entry["details"] = details.into_iter().map(|d| json!({ "field": d.field, "message": d.message })).collect();
                }
                entry
            })
            .collect();
    }
    Ok(ok(data))
}

/// Fields an administrator may change with PUT or PATCH (PATCH also takes
/// a single `name`); only the fields sent change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::users::UpdateBody)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    father_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    grandfather_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    family_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    phone_number: Option<Option<String>>,
}

#[utoipa::path(method(put, patch), path = "/api/v1/users/{id}", tag = NATIVE, request_body = UpdateBody,
    description = "PUT and PATCH both change only the fields sent.",
    responses((status = 200, description = "Updated", body = Success<UserView>)))]
pub async fn update(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<UpdateBody>,
) -> Result<HttpResponse, Error> {
    let id = user_id(&id)?;
    let b = body.0;
    let changes = ProfileChanges {
        email: b.email,
        name: b.name,
        first_name: b.first_name,
        father_name: b.father_name,
        grandfather_name: b.grandfather_name,
        family_name: b.family_name,
        phone_number: b.phone_number,
        ..Default::default()
    };
    let user = gate
        .run(move |app| async move { users::update(&app, &caller, id, changes, &origin).await })
        .await?;
    Ok(ok(UserView::from(user)))
}

/// Answers a `message` and the `deletedAt` time.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = NATIVE,
    responses((status = 200, description = "Deleted (`deletedAt`)", body = Message)))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = user_id(&id)?;
    let at = gate
        .run(move |app| async move { users::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(message(
        "User deleted",
        json!({ "deletedAt": timestamp(at) }),
    ))
}

async fn set_status(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    status: UserStatus,
) -> Result<HttpResponse, Error> {
    let id = user_id(&id)?;
    let user = gate
        .run(move |app| async move { users::set_status(&app, &caller, id, status, &origin).await })
        .await?;
    let text = match status {
        UserStatus::Suspended => "User suspended",
        _ => "User reactivated",
    };
    Ok(message(text, json!({ "data": UserView::from(user) })))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/suspend", tag = NATIVE,
    responses((status = 200, description = "Suspended (`data`: the user)", body = Message)))]
pub async fn suspend(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    set_status(gate, caller, origin, id, UserStatus::Suspended).await
}

#[utoipa::path(post, path = "/api/v1/users/{id}/reactivate", tag = NATIVE,
    responses((status = 200, description = "Active again (`data`: the user)", body = Message)))]
pub async fn reactivate(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    set_status(gate, caller, origin, id, UserStatus::Active).await
}

#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = NATIVE,
    responses((status = 200, description = "Unlocked", body = Message)))]
pub async fn unlock(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = user_id(&id)?;
    let user = gate
        .run(move |app| async move { users::unlock(&app, &caller, id, &origin).await })
        .await?;
    Ok(message(
        "User account unlocked",
        json!({ "data": UserView::from(user) }),
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{id}/sessions", tag = NATIVE, params(NativeList),
    responses((status = 200, description = "The user's sessions", body = Listing<SessionPage>)))]
pub async fn sessions(
    req: HttpRequest,
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = user_id(&id)?;
    let page = Query::paging(req.query_string())?;
    let current = caller.session().map(|(_, s)| s).unwrap_or_default();
    let listing = gate
        .run(move |app| async move { users::sessions(&app, &caller, id, page).await })
        .await?;
    Ok(list(
        "sessions",
        listing.map(|s| SessionView::new(s, current)),
    ))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = NATIVE,
    responses((status = 200, description = "Revoked (`data.revoked`: how many)", body = Message)))]
pub async fn revoke_sessions(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = user_id(&id)?;
    let revoked = gate
        .run(move |app| async move { users::revoke_sessions(&app, &caller, id, &origin).await })
        .await?;
    Ok(message(
        "All sessions revoked",
        json!({ "data": { "revoked": revoked } }),
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{id}/permissions", tag = NATIVE,
    responses((status = 200, description = "`{userId, permissions: [...]}`", body = Success<AnyObject>)))]
pub async fn permissions(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = user_id(&id)?;
    let perms = gate
        .run(move |app| async move { users::permissions(&app, &caller, id).await })
        .await?;
    Ok(ok(json!({ "userId": id, "permissions": perms.to_vec() })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::users::AssignBody)]
pub struct AssignBody {
    role_id: String,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/roles", tag = NATIVE, request_body = AssignBody,
    responses((status = 200, description = "Assigned", body = Message)))]
pub async fn assign_role(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<AssignBody>,
) -> Result<HttpResponse, Error> {
    let id = user_id(&id)?;
    let role = body_id("roleId", &body.0.role_id)?;
    gate.run(move |app| async move { users::assign_role(&app, &caller, id, role, &origin).await })
        .await?;
    Ok(message("Role assigned", json!({})))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/roles/{role_id}", tag = NATIVE,
    responses((status = 200, description = "Removed", body = Message)))]
pub async fn remove_role(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (id, role) = path.into_inner();
    let id = user_id(&id)?;
    let role = path_id(&role, "Role")?;
    gate.run(move |app| async move { users::remove_role(&app, &caller, id, role, &origin).await })
        .await?;
    Ok(message("Role removed", json!({})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::users::MetadataBody)]
pub struct MetadataBody {
    #[schema(value_type = Object)]
    metadata: serde_json::Map<String, Value>,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}/metadata", tag = NATIVE, request_body = MetadataBody,
    responses((status = 200, description = "The user with the merged metadata", body = Success<UserView>)))]
pub async fn metadata(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<MetadataBody>,
) -> Result<HttpResponse, Error> {
    let id = user_id(&id)?;
    let patch = body.0.metadata;
    let user = gate
        .run(move |app| async move {
            users::merge_user_metadata(&app, &caller, id, patch, &origin).await
        })
        .await?;
    Ok(ok(UserView::from(user)))
}
