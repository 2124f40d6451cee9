//! The SCIM 2.0 dialect (RFC 7643, RFC 7644), served at `/scim/v2` (the
//! tenant is the token's) and at `/{tenant}/api/scim/v2` (Aritma's form,
//! where the path must name the token's tenant).

pub mod bulk;
pub mod context;
pub mod cursor;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod handlers;
pub mod list;
pub mod ops;
pub mod patch;
pub mod resources;
pub mod schema;

use actix_web::web::{self, delete, get, patch as patch_, post, put};

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(handlers::method_not_allowed))
}

/// The SCIM service under `prefix`; every answer, errors included, is SCIM.
pub fn scope(prefix: &str) -> actix_web::Scope {
    web::scope(prefix)
        .service(
            resource("/ServiceProviderConfig").route(get().to(discovery::service_provider_config)),
        )
        .service(resource("/ResourceTypes").route(get().to(discovery::resource_types_index)))
        .service(resource("/ResourceTypes/{id}").route(get().to(discovery::resource_type)))
        .service(resource("/Schemas").route(get().to(discovery::schemas_index)))
        .service(resource("/Schemas/{id}").route(get().to(discovery::schema)))
        .service(resource("/Bulk").route(post().to(bulk::bulk)))
        .service(
            resource("/Me")
                .route(get().to(handlers::me_show))
                .route(put().to(handlers::me_replace))
                .route(patch_().to(handlers::me_patch))
                .route(post().to(handlers::me_create))
                .route(delete().to(handlers::me_delete)),
        )
        // Queries across resource types (RFC 7644 3.4.3).
        .service(resource("/").route(get().to(handlers::root_index)))
        .service(resource("").route(get().to(handlers::root_index)))
        .service(resource("/.search").route(post().to(handlers::root_search)))
        .service(
            resource("/{resource:Users|Groups}")
                .route(get().to(handlers::index))
                .route(post().to(handlers::create)),
        )
        .service(resource("/{resource:Users|Groups}/.search").route(post().to(handlers::search)))
        .service(
            resource("/{resource:Users|Groups}/{id}")
                .route(get().to(handlers::show))
                .route(put().to(handlers::replace))
                .route(patch_().to(handlers::patch))
                .route(delete().to(handlers::delete)),
        )
        .default_service(web::to(handlers::not_found))
}
