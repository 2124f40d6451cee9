//! HTTP only: parse the request, call a service, shape the response. The
//! route table for every dialect is here, in one readable place.

pub mod error;
pub mod extract;
pub mod native;
pub mod observe;
pub mod query;
pub mod system;

use actix_web::web::{self, delete, get, post, put};

use native::{auth, tenants, users};

/// A resource whose unmatched methods answer 405 in the native envelope.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(error::method_not_allowed))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(get().to(system::healthz)))
        .service(resource("/readyz").route(get().to(system::readyz)))
        .service(resource("/metrics").route(get().to(system::metrics)))
        .service(resource("/.well-known/jwks.json").route(get().to(system::jwks)))
        .service(
            resource("/.well-known/openid-configuration")
                .route(get().to(system::openid_configuration)),
        )
        .service(
            web::scope("/api/v1")
                // auth (reference 2.1, 2.4, 2.8; seed 001)
                .service(resource("/auth/login").route(post().to(auth::login)))
                .service(resource("/auth/refresh").route(post().to(auth::refresh)))
                .service(resource("/auth/logout").route(post().to(auth::logout)))
                .service(
                    resource("/auth/sessions")
                        .route(get().to(auth::list_sessions))
                        .route(delete().to(auth::revoke_other_sessions)),
                )
                .service(resource("/auth/sessions/{id}").route(delete().to(auth::revoke_session)))
                // self-service (seed 001)
                .service(
                    resource("/users/me")
                        .route(get().to(users::me))
                        .route(put().to(users::update_me)),
                )
                // tenants (reference 6)
                .service(
                    resource("/tenants")
                        .route(post().to(tenants::create))
                        .route(get().to(tenants::index)),
                )
                .service(resource("/tenants/current").route(get().to(tenants::current)))
                .service(
                    resource("/tenants/{id}")
                        .route(get().to(tenants::show))
                        .route(put().to(tenants::update))
                        .route(delete().to(tenants::delete)),
                )
                .service(resource("/tenants/{id}/suspend").route(post().to(tenants::suspend)))
                .service(
                    resource("/tenants/{id}/reactivate").route(post().to(tenants::reactivate)),
                ),
        );
}
