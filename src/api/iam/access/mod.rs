//! The Aritma IAM resources (docs/api/iam.md): actions, policies, roles,
//! subjects and me.
//! Every operation asks `domain::access` (through `Caller::may`,
//! `require_action` or `require`) whether the caller may.

pub mod actions;
pub mod me;
pub mod policies;
pub mod roles;
pub mod subjects;
pub mod views;

use actix_web::web::{self, delete, get, post, put};

use crate::api::resource;

/// The routes, inside the dialect's `/core/iam` scope (and its guard).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v1/actions")
            .route(get().to(actions::index))
            .route(post().to(actions::create)),
    )
    .service(resource("/v1/actions/{name}").route(delete().to(actions::delete)))
    .service(
        resource("/v1/policies")
            .route(get().to(policies::index))
            .route(post().to(policies::create))
            .route(delete().to(policies::delete)),
    )
    .service(
        resource("/v1/roles")
            .route(get().to(roles::index))
            .route(post().to(roles::create)),
    )
    .service(
        resource("/v1/roles/{role_id}")
            .route(get().to(roles::show))
            .route(put().to(roles::update))
            .route(delete().to(roles::delete)),
    )
    .service(resource("/v1/me").route(get().to(me::show)))
    .service(resource("/v1/me/claims").route(get().to(me::claims)))
    .service(resource("/v1/me/permissions").route(get().to(me::permissions)))
    .service(resource("/v1/subjects").route(get().to(subjects::index)))
    .service(resource("/v1/subjects/users").route(get().to(subjects::users)))
    .service(resource("/v1/subjects/clients").route(get().to(subjects::clients)))
    .service(
        resource("/v1/subjects/groups")
            .route(get().to(subjects::groups))
            .route(post().to(subjects::create_group)),
    )
    .service(
        resource("/v1/subjects/users/{id}/permissions").route(get().to(subjects::user_permissions)),
    )
    .service(
        resource("/v1/subjects/clients/{id}/permissions")
            .route(get().to(subjects::client_permissions)),
    )
    .service(
        resource("/v1/subjects/groups/{id}/permissions")
            .route(get().to(subjects::group_permissions)),
    )
    .service(
        resource("/v1/subjects/groups/{id}/members")
            .route(get().to(subjects::members))
            .route(post().to(subjects::add_members)),
    )
    .service(
        resource("/v1/subjects/groups/{id}/members/{member}")
            .route(delete().to(subjects::remove_member)),
    )
    .service(resource("/v1/subjects/groups/{id}").route(delete().to(subjects::delete_group)))
    .service(resource("/v1/subjects/{subject}/memberships").route(get().to(subjects::memberships)))
    .service(resource("/v1/subjects/{subject}/permissions").route(get().to(subjects::permissions)));
}
