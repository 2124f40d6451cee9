//! The native dialect (`/api/v1`, docs/api/ithbat.md): the
//! `{"success": true, "data": ...}` envelope and its list shape.

pub mod audit;
pub mod auth;
pub mod groups;
pub mod identities;
pub mod mfa;
pub mod roles;
pub mod scim_tokens;
pub mod settings;
pub mod tenants;
pub mod users;
pub mod views;

/// The operations of this dialect, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    roles::index,
    roles::catalogue_of_permissions,
    roles::show,
    roles::create,
    roles::update,
    roles::delete,
    groups::index,
    groups::show,
    groups::create,
    groups::update,
    groups::delete,
    groups::members,
    groups::add_member,
    groups::remove_member,
    audit::index,
    audit::show,
    settings::show,
    settings::update,
    scim_tokens::create,
    scim_tokens::index,
    scim_tokens::delete,
    identities::index,
    identities::link,
    identities::unlink,
    tenants::create,
    tenants::index,
    tenants::current,
    tenants::show,
    tenants::update,
    tenants::delete,
    tenants::suspend,
    tenants::reactivate,
    users::me,
    users::update_me,
    users::index,
    users::show,
    users::create,
    users::bulk,
    users::update,
    users::delete,
    users::suspend,
    users::reactivate,
    users::unlock,
    users::sessions,
    users::revoke_sessions,
    users::permissions,
    users::assign_role,
    users::remove_role,
    users::metadata,
    auth::login,
    auth::refresh,
    auth::logout,
    auth::list_sessions,
    auth::revoke_other_sessions,
    auth::revoke_session,
    auth::register,
    auth::verify_email,
    auth::resend_verification,
    auth::initiate_password_reset,
    auth::complete_password_reset,
    auth::change_password,
    mfa::setup,
    mfa::verify_setup,
    mfa::disable,
    mfa::backup_codes,
    mfa::verify,
    mfa::verify_backup,
    crate::api::pages::sso::api_login,
    crate::api::pages::sso::callback,
))]
pub struct Doc;

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::json;

use crate::domain::list::Listing;

/// 200 `{"success": true, "data": data}`
pub fn ok<T: Serialize>(data: T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "success": true, "data": data }))
}

/// 201 `{"success": true, "data": data}`
pub fn created<T: Serialize>(data: T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "success": true, "data": data }))
}

/// 200 `{"success": true, "message": message}` plus any extra fields.
pub fn message(message: &str, extra: serde_json::Value) -> HttpResponse {
    let mut body = json!({ "success": true, "message": message });
    if let (Some(body), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// The native list envelope (docs/api/ithbat.md, Envelope, errors, lists):
/// `data.{key, total}` and a `pagination` object, so clients reading
/// either find what they read.
pub fn list<T: Serialize>(key: &str, listing: Listing<T>) -> HttpResponse {
    let total_pages = listing.total_pages();
    let mut data = serde_json::Map::new();
    data.insert(key.to_string(), json!(listing.items));
    data.insert("total".into(), json!(listing.total));
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "success": true,
            "data": data,
            "pagination": {
                "page": listing.page.page,
                "limit": listing.page.limit,
                "total": listing.total,
                "totalPages": total_pages,
            }
        }))
}
