//! OAuth 2.0 endpoints for machines under `/oauth`: token (RFC 6749),
//! introspection (RFC 7662) and revocation (RFC 7009). Every error under
//! the scope is an RFC 6749 5.2 error body.

pub mod error;
pub mod form;
pub mod handlers;

/// The operations of this dialect, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::token,
    handlers::introspect,
    handlers::revoke,
    handlers::userinfo,
    signin::authorize,
    signin::password,
    signin::second_factor,
    signin::logout,
    super::pages::sso::from_sign_in,
))]
pub struct Doc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::web::{self, get, post};

use super::pages::signin;
use super::resource;

/// Is `path` served by the OAuth endpoints (for errors raised before routing)?
pub fn is_path(path: &str) -> bool {
    path.starts_with("/oauth/")
}

/// The endpoints, under `/oauth`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/oauth")
            .wrap(from_fn(render_errors))
            .service(resource("/token").route(post().to(handlers::token)))
            .service(resource("/introspect").route(post().to(handlers::introspect)))
            .service(resource("/revoke").route(post().to(handlers::revoke)))
            .service(
                resource("/userinfo")
                    .route(get().to(handlers::userinfo))
                    .route(post().to(handlers::userinfo)),
            )
            // the hosted sign-in (pages render their own errors as HTML)
            .service(resource("/authorize").route(get().to(signin::authorize)))
            .service(resource("/authorize/password").route(post().to(signin::password)))
            .service(resource("/authorize/mfa").route(post().to(signin::second_factor)))
            .service(resource("/authorize/sso").route(get().to(super::pages::sso::from_sign_in)))
            .service(
                resource("/logout")
                    .route(get().to(signin::logout))
                    .route(post().to(signin::logout)),
            )
            .default_service(web::to(super::error::not_found)),
    );
}

async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    Ok(super::error::rerender(res, |e, _| error::response(e)))
}
