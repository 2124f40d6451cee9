//! The Aritma IAM dialect (docs/api/iam.md) under
//! `/core/iam`: a client whose base URL was `https://api.aritma.io/core/iam`
//! works unchanged against `https://HOST/core/iam`. It is a view of the same
//! services as `/api/v1`; what it adds is its own shapes and two rules that
//! hold for every route here, enforced by `guard` rather than per handler:
//!
//! - every operation requires the OAuth scope `services.iam`:
//!   a token without it gets 403 with `WWW-Authenticate: Bearer
//!   error="insufficient_scope", scope="services.iam"`;
//! - every error, whatever produced it, is RFC 7807 problem details.

pub mod access;
pub mod clients;
pub mod domains;
pub mod error;
pub mod scim_tokens;
pub mod scopes;
pub mod sso;
pub mod users;
pub mod views;

/// The operations of this dialect, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    scopes::index,
    clients::index,
    clients::create,
    clients::show,
    clients::update,
    clients::delete,
    clients::secrets,
    clients::create_secret,
    clients::delete_secret,
    scim_tokens::create,
    scim_tokens::index,
    scim_tokens::delete,
    domains::index,
    domains::register,
    domains::status,
    domains::delete,
    users::index,
    users::show,
    users::add_role,
    users::remove_role,
    users::invite,
    users::create,
    sso::index,
    sso::index_or_show,
    sso::create,
    sso::show,
    sso::update,
    sso::delete,
    sso::delete_any,
    sso::update_icon,
    sso::icon,
    access::actions::index,
    access::actions::create,
    access::actions::delete,
    access::policies::create,
    access::policies::index,
    access::policies::delete,
    access::roles::index,
    access::roles::show,
    access::roles::create,
    access::roles::update,
    access::roles::delete,
    access::me::show,
    access::me::claims,
    access::me::permissions,
    access::subjects::index,
    access::subjects::users,
    access::subjects::clients,
    access::subjects::groups,
    access::subjects::permissions,
    access::subjects::user_permissions,
    access::subjects::client_permissions,
    access::subjects::group_permissions,
    access::subjects::memberships,
    access::subjects::create_group,
    access::subjects::delete_group,
    access::subjects::members,
    access::subjects::add_members,
    access::subjects::remove_member,
))]
pub struct Doc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::web::{self, delete, get, post, put};
use actix_web::{FromRequest, HttpMessage};

use super::resource;
use crate::domain::principal::Caller;
use crate::domain::scope::SERVICES_IAM;

/// Is `path` served by this dialect (for errors raised before routing)?
pub fn is_path(path: &str) -> bool {
    path == "/core/iam" || path.starts_with("/core/iam/")
}

/// The dialect's routes, under `/core/iam`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/core/iam")
            .wrap(from_fn(guard))
            // scopes
            .service(resource("/v1/scopes").route(get().to(scopes::index)))
            // clients and their secrets
            .service(
                resource("/v1/clients")
                    .route(get().to(clients::index))
                    .route(post().to(clients::create)),
            )
            .service(
                resource("/v1/clients/{client_id}")
                    .route(get().to(clients::show))
                    .route(put().to(clients::update))
                    .route(delete().to(clients::delete)),
            )
            .service(
                resource("/v1/clients/{client_id}/secrets")
                    .route(get().to(clients::secrets))
                    .route(post().to(clients::create_secret)),
            )
            .service(
                resource("/v1/clients/{client_id}/secrets/{secret_id}")
                    .route(delete().to(clients::delete_secret)),
            )
            // SCIM tokens: the tokens of /api/v1/scim/tokens
            .service(
                resource("/v1/scim")
                    .route(get().to(scim_tokens::index))
                    .route(post().to(scim_tokens::create)),
            )
            .service(resource("/v1/scim/{id}").route(delete().to(scim_tokens::delete)))
            // domains
            .service(
                resource("/v1/domains")
                    .route(get().to(domains::index))
                    .route(post().to(domains::register))
                    .route(delete().to(domains::delete)),
            )
            .service(resource("/v1/domains/status").route(get().to(domains::status)))
            // users; the fixed paths before {userId}
            .service(resource("/v1/users").route(get().to(users::index)))
            .service(resource("/v1/users/invite").route(post().to(users::invite)))
            .service(resource("/v1/users/users").route(post().to(users::create)))
            .service(resource("/v1/users/{user_id}").route(get().to(users::show)))
            .service(
                resource("/v1/users/{user_id}/roles/{role_id}")
                    .route(post().to(users::add_role))
                    .route(delete().to(users::remove_role)),
            )
            // SSO providers (all kinds, and one path per kind)
            .service(resource("/v1/sso").route(get().to(sso::index)))
            .service(
                resource("/v1/sso/{segment}")
                    .route(get().to(sso::index_or_show))
                    .route(post().to(sso::create))
                    .route(delete().to(sso::delete_any)),
            )
            .service(
                resource("/v1/sso/{kind}/{id}")
                    .route(get().to(sso::show))
                    .route(put().to(sso::update))
                    .route(delete().to(sso::delete)),
            )
            .service(
                resource("/v1/sso/{kind}/{id}/icon")
                    .route(get().to(sso::icon))
                    .route(put().to(sso::update_icon)),
            )
            // actions, policies, roles, subjects, me
            .configure(access::routes)
            .default_service(web::to(super::error::not_found)),
    );
}

/// Authenticates every request of the dialect once, requires
/// `services.iam`, and leaves the caller for the handlers' `Caller`
/// extractor; renders every error as problem details.
async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let caller = Caller::from_request(req.request(), &mut Payload::None)
        .await
        .and_then(|caller| caller.require_scope(SERVICES_IAM).map(|()| caller));
    match caller {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
        }
        Err(e) => {
            let response = error::response(&e, req.path());
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    let res = next.call(req).await?;
    Ok(super::error::rerender(res, |e, req| {
        error::response(e, req.path())
    }))
}
