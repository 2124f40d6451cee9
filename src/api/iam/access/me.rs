//! Aritma "Me": the caller, its tenant roles (the `roles` claim of its
//! tokens) and what it may do: `GET /v1/me`, `/v1/me/claims`, and
//! `/v1/me/permissions`, an ithbat addition (docs/api/iam.md, Actions,
//! policies and groups).

use actix_web::web::Data;
use actix_web::HttpResponse;
use serde_json::{json, Value};
use uuid::Uuid;

use super::views::grants;
use crate::api::iam::views;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::IAM;
use crate::domain::access::SubjectRef;
use crate::domain::account::TENANT_SCOPE;
use crate::domain::principal::{Caller, Subject};
use crate::domain::Error;
use crate::service::users::UserDetails;
use crate::service::{users, Gate};

/// Who "me" is: a signed-in user, or a client acting as itself.
enum Me {
    User(Box<UserDetails>),
    Client(Uuid),
}

async fn me(gate: &Gate, caller: &Caller) -> Result<Me, Error> {
    match caller.principal.subject {
        Subject::User { .. } => {
            let caller = caller.clone();
            let details = gate
                .run(move |app| async move { users::me(&app, &caller).await })
                .await?;
            Ok(Me::User(Box::new(details)))
        }
        Subject::Client { id, .. } => Ok(Me::Client(id)),
        Subject::ScimToken { .. } | Subject::Operator => Err(Error::Forbidden(
            "This endpoint is for users and clients".into(),
        )),
    }
}

/// UserDto `{id, userName, email, phoneNumber, twoFactorEnabled, roles}`
/// (roles as RoleDto, those held on the whole tenant), plus `subjectId`
/// and the resolved `permissions`. A client sees its subject and
/// permissions.
#[utoipa::path(get, path = "/core/iam/v1/me", tag = IAM,
    responses((status = 200, description = "UserDto `{id, userName, email, phoneNumber, twoFactorEnabled, roles}` plus `subjectId` and `permissions`; a client sees its subject and permissions", body = AnyObject)))]
pub async fn show(gate: Data<Gate>, caller: Caller) -> Result<HttpResponse, Error> {
    let permissions = grants(&caller.principal.access, caller.tenant_id);
    let body = match me(&gate, &caller).await? {
        Me::User(d) => {
            let roles: Vec<Value> = d
                .assignments
                .iter()
                .filter(|a| a.scope == TENANT_SCOPE)
                .map(|a| json!({ "id": a.role_id, "name": a.role_name }))
                .collect();
            json!({
                "id": d.user.id,
                "userName": d.user.user_name,
                "email": d.user.email.as_deref().unwrap_or(""),
                "phoneNumber": d.user.phone_number.clone().unwrap_or_default(),
                "twoFactorEnabled": d.user.mfa_enabled,
                "roles": roles,
                "subjectId": SubjectRef::User(d.user.id).to_string(),
                "permissions": permissions,
            })
        }
        Me::Client(id) => {
            json!({
                "id": id,
                "displayName": caller.principal.label,
                "subjectId": SubjectRef::Client(id).to_string(),
                "type": "Client",
                "roles": [],
                "permissions": permissions,
            })
        }
    };
    Ok(views::ok(body))
}

/// The claims the caller's access tokens carry about it, one per value:
/// `[{claimId, userId, claimType, claimValue}]`, tenant roles as `role`
/// claims (the `roles` array of the token).
#[utoipa::path(get, path = "/core/iam/v1/me/claims", tag = IAM,
    responses((status = 200, description = "`[{claimId, userId, claimType, claimValue}]`", body = Vec<AnyObject>)))]
pub async fn claims(gate: Data<Gate>, caller: Caller) -> Result<HttpResponse, Error> {
    let me = me(&gate, &caller).await?;
    let id = match &me {
        Me::User(d) => d.user.id,
        Me::Client(id) => *id,
    };
    let mut pairs: Vec<(&str, String)> = vec![
        ("sub", id.to_string()),
        ("tenant_id", caller.principal.home_tenant.to_string()),
    ];
    match me {
        Me::User(d) => {
            if let Some(email) = &d.user.email {
                pairs.push(("email", email.clone()));
            }
            pairs.push(("preferred_username", d.user.user_name.clone()));
            pairs.push(("name", d.user.name.display()));
            if let Some(phone) = &d.user.phone_number {
                pairs.push(("phone_number", phone.clone()));
            }
            pairs.extend(d.roles.iter().map(|r| ("role", r.clone())));
        }
        Me::Client(id) => pairs.push(("client_id", id.to_string())),
    }
    let claims: Vec<Value> = pairs
        .into_iter()
        .enumerate()
        .map(|(i, (kind, value))| {
            json!({ "claimId": i + 1, "userId": id, "claimType": kind, "claimValue": value })
        })
        .collect();
    Ok(views::ok(claims))
}

/// `GET /v1/me/permissions`: what the caller may do where, and why.
#[utoipa::path(get, path = "/core/iam/v1/me/permissions", tag = IAM,
    responses((status = 200, description = "`[{action, scope, tenant, source, via}]`: what the caller may do where, and why", body = Vec<AnyObject>)))]
pub async fn permissions(caller: Caller) -> HttpResponse {
    views::ok(grants(&caller.principal.access, caller.tenant_id))
}
