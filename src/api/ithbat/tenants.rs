//! `/api/v1/tenants`: platform administration of tenants.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::views::TenantPage;
use super::views::{timestamp, TenantView};
use super::{created, list, message, ok};
use crate::api::extract::{nullable, path_id, present, JsonBody, OptionalJsonBody};
use crate::api::openapi::schemas::{AnyObject, Listing, Message, NativeList, Success};
use crate::api::openapi::NATIVE;
use crate::api::query::Query;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::tenant::{Plan, TenantQuery, TenantSort, TenantStatus};
use crate::domain::{Error, Problems};
use crate::service::passwords::Password;
use crate::service::tenants::{NewOwner, NewTenant, TenantChanges};
use crate::service::{tenants, Gate};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::tenants::CreateBody)]
pub struct CreateBody {
    name: String,
    slug: String,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    plan: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    admin_email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    #[schema(value_type = Option<String>)]
    admin_password: Option<Password>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    admin_first_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    admin_last_name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/tenants", tag = NATIVE, request_body = CreateBody,
    responses((status = 201, description = "The tenant (as GET shows it) and `adminUserId`", body = Success<AnyObject>)))]
pub async fn create(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    if b.admin_email.is_none()
        && (b.admin_password.is_some()
            || b.admin_first_name.is_some()
            || b.admin_last_name.is_some())
    {
        return Err(Error::invalid(
            "adminEmail",
            "is required when other admin fields are given",
        ));
    }
    let owner = b.admin_email.map(|email| NewOwner {
        email,
        password: b.admin_password,
        first_name: b.admin_first_name,
        family_name: b.admin_last_name,
    });
    let input = NewTenant {
        name: b.name,
        slug: b.slug,
        plan: b.plan,
        owner,
    };
    let (tenant, admin) = gate
        .run(move |app| async move { tenants::create(&app, &caller, input, &origin).await })
        .await?;
    let mut data = json!(TenantView::from(tenant));
    data["adminUserId"] = json!(admin);
    Ok(created(data))
}

#[utoipa::path(get, path = "/api/v1/tenants", tag = NATIVE, params(NativeList,
        ("status" = Option<String>, Query, description = "`active` or `suspended`"),
        ("plan" = Option<String>, Query, description = "A plan name")),
    responses((status = 200, description = "Tenants (platform administrators)", body = Listing<TenantPage>)))]
pub async fn index(
    req: HttpRequest,
    gate: Data<Gate>,
    caller: Caller,
) -> Result<HttpResponse, Error> {
    let q = Query::parse(req.query_string())?;
    let mut problems = Problems::default();
    let query = TenantQuery {
        search: q.text(&mut problems, "search", 200),
        plan: q.parsed(&mut problems, "plan", Plan::parse),
        status: q.parsed(&mut problems, "status", TenantStatus::parse),
        sort: q.sort(
            &mut problems,
            &[
                ("name", TenantSort::Name),
                ("slug", TenantSort::Slug),
                ("plan", TenantSort::Plan),
                ("status", TenantSort::Status),
                ("createdAt", TenantSort::CreatedAt),
                ("updatedAt", TenantSort::UpdatedAt),
            ],
        ),
        page: q.page(&mut problems),
    };
    problems.into_result()?;
    let listing = gate
        .run(move |app| async move { tenants::list(&app, &caller, &query).await })
        .await?;
    Ok(list("tenants", listing.map(TenantView::from)))
}

#[utoipa::path(get, path = "/api/v1/tenants/current", tag = NATIVE,
    responses((status = 200, description = "The caller's tenant", body = Success<TenantView>)))]
pub async fn current(gate: Data<Gate>, caller: Caller) -> Result<HttpResponse, Error> {
    let tenant = gate
        .run(move |app| async move { tenants::current(&app, &caller).await })
        .await?;
    Ok(ok(TenantView::from(tenant)))
}

fn tenant_id(raw: &str) -> Result<uuid::Uuid, Error> {
    path_id(raw, "Tenant").map_err(|_| Error::TenantNotFound)
}

#[utoipa::path(get, path = "/api/v1/tenants/{id}", tag = NATIVE,
    responses((status = 200, description = "OK", body = Success<TenantView>)))]
pub async fn show(
    gate: Data<Gate>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = tenant_id(&id)?;
    let tenant = gate
        .run(move |app| async move { tenants::get(&app, &caller, id).await })
        .await?;
    Ok(ok(TenantView::from(tenant)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::tenants::UpdateBody)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    slug: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    plan: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    rate_limit_per_minute: Option<Option<i64>>,
}

#[utoipa::path(put, path = "/api/v1/tenants/{id}", tag = NATIVE, request_body = UpdateBody,
    responses((status = 200, description = "OK", body = Success<TenantView>)))]
pub async fn update(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: JsonBody<UpdateBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let changes = TenantChanges {
        name: b.name,
        slug: b.slug,
        plan: b.plan,
        rate_limit_per_minute: b.rate_limit_per_minute,
    };
    let id = tenant_id(&id)?;
    let tenant = gate
        .run(move |app| async move { tenants::update(&app, &caller, id, changes, &origin).await })
        .await?;
    Ok(ok(TenantView::from(tenant)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{id}", tag = NATIVE,
    responses((status = 200, description = "Deleted", body = Message)))]
pub async fn delete(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = tenant_id(&id)?;
    let deleted_at = gate
        .run(move |app| async move { tenants::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(message(
        "Tenant deleted",
        json!({ "deletedAt": timestamp(deleted_at) }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::tenants::SuspendBody)]
pub struct SuspendBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    reason: Option<String>,
}

/// The body of suspend is optional (`{"reason"?}`).
#[utoipa::path(post, path = "/api/v1/tenants/{id}/suspend", tag = NATIVE, request_body = Option<SuspendBody>,
    responses((status = 200, description = "Suspended", body = Success<TenantView>)))]
pub async fn suspend(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
    body: OptionalJsonBody<SuspendBody>,
) -> Result<HttpResponse, Error> {
    let reason = body.0.and_then(|b| b.reason);
    let id = tenant_id(&id)?;
    let tenant = gate
        .run(move |app| async move {
            tenants::set_status(&app, &caller, id, TenantStatus::Suspended, reason, &origin).await
        })
        .await?;
    Ok(ok(TenantView::from(tenant)))
}

#[utoipa::path(post, path = "/api/v1/tenants/{id}/reactivate", tag = NATIVE,
    responses((status = 200, description = "Active again", body = Success<TenantView>)))]
pub async fn reactivate(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    id: Path<String>,
) -> Result<HttpResponse, Error> {
    let id = tenant_id(&id)?;
    let tenant = gate
        .run(move |app| async move {
            tenants::set_status(&app, &caller, id, TenantStatus::Active, None, &origin).await
        })
        .await?;
    Ok(ok(TenantView::from(tenant)))
}
