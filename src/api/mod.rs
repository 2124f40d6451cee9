//! HTTP only: parse the request, call a service, shape the response. The
//! route table for every dialect is here, in one readable place.

pub mod error;
pub mod extract;
pub mod iam;
pub mod input;
pub mod ithbat;
pub mod jsonapi;
pub mod limits;
pub mod multipart;
pub mod oauth;
pub mod observe;
pub mod openapi;
pub mod pages;
pub mod query;
pub mod scim;
pub mod system;

use actix_web::web::{self, delete, get, patch, post, put};

use ithbat::{audit, auth, groups, identities, mfa, roles, scim_tokens, settings, tenants, users};

/// A resource whose unmatched methods answer 405 in the native envelope.
pub(crate) fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(error::method_not_allowed))
}

/// Every route of the server. Order matters where a fixed path and a
/// parameter share a prefix (`/users/me` before `/users/{id}`), so each
/// part registers its resources in the order they are tried.
pub fn routes(cfg: &mut web::ServiceConfig) {
    probes_and_discovery(cfg);
    cfg.service(scim::scope("/scim/v2"))
        .service(scim::scope("/{tenant}/api/scim/v2"))
        // the Aritma IAM dialect (docs/api/iam.md) and OAuth 2.0 for machines
        .configure(iam::routes)
        .configure(oauth::routes)
        // the pages mailed links open
        .configure(pages::account::routes)
        .service(
            web::scope("/api/v1")
                // JSON:API dialect (docs/api/jsonapi.md)
                .configure(jsonapi::routes)
                .configure(sign_in)
                .configure(registration_and_passwords)
                .configure(second_factor_and_sso)
                .configure(self_service)
                .configure(user_administration)
                .configure(roles_and_groups)
                .configure(scim_token_management)
                .configure(audit_and_settings)
                .configure(tenant_administration),
        );
}

/// Health, readiness, metrics, the OpenAPI document, and what OpenID
/// Connect clients discover.
fn probes_and_discovery(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(get().to(system::healthz)))
        .service(resource("/readyz").route(get().to(system::readyz)))
        .service(resource("/metrics").route(get().to(system::metrics)))
        .service(resource("/openapi.json").route(get().to(openapi::serve)))
        .service(resource("/.well-known/jwks.json").route(get().to(system::jwks)))
        .service(
            resource("/.well-known/openid-configuration")
                .route(get().to(system::openid_configuration)),
        );
}

/// `/api/v1/auth`: sign-in, refresh, sign-out, sessions (docs/api/ithbat.md).
fn sign_in(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/login").route(post().to(auth::login)))
        .service(resource("/auth/refresh").route(post().to(auth::refresh)))
        .service(resource("/auth/logout").route(post().to(auth::logout)))
        .service(
            resource("/auth/sessions")
                .route(get().to(auth::list_sessions))
                .route(delete().to(auth::revoke_other_sessions)),
        )
        .service(resource("/auth/sessions/{id}").route(delete().to(auth::revoke_session)));
}

/// Registration, email verification, password reset and change
/// (docs/api/ithbat.md).
fn registration_and_passwords(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/register").route(post().to(auth::register)))
        .service(resource("/auth/verify-email").route(post().to(auth::verify_email)))
        .service(resource("/auth/resend-verification").route(post().to(auth::resend_verification)))
        .service(
            resource("/auth/password-reset/initiate")
                .route(post().to(auth::initiate_password_reset)),
        )
        .service(
            resource("/auth/password-reset/complete")
                .route(post().to(auth::complete_password_reset)),
        )
        .service(resource("/auth/change-password").route(post().to(auth::change_password)));
}

/// MFA (docs/api/ithbat.md): the second sign-in step, then enrolment; and
/// sign-in through the tenant's SSO providers (docs/api/oauth.md).
fn second_factor_and_sso(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/mfa/verify").route(post().to(mfa::verify)))
        .service(resource("/auth/mfa/verify-backup").route(post().to(mfa::verify_backup)))
        .service(resource("/auth/mfa/setup").route(post().to(mfa::setup)))
        .service(resource("/auth/mfa/verify-setup").route(post().to(mfa::verify_setup)))
        .service(resource("/auth/mfa/disable").route(post().to(mfa::disable)))
        .service(resource("/auth/mfa/backup-codes").route(post().to(mfa::backup_codes)))
        .service(resource("/auth/social/{provider}/login").route(get().to(pages::sso::api_login)))
        .service(
            resource("/auth/social/{provider}/callback").route(get().to(pages::sso::callback)),
        );
}

/// The caller's own profile and linked identities; registered before
/// `/users/{id}`, which would take `me` for an id.
fn self_service(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/users/me")
            .route(get().to(users::me))
            .route(put().to(users::update_me)),
    )
    .service(resource("/users/me/identities").route(get().to(identities::index)))
    .service(
        resource("/users/me/identities/{provider}")
            .route(post().to(identities::link))
            .route(delete().to(identities::unlink)),
    );
}

/// User administration (docs/api/ithbat.md, Users); `/users/bulk` before
/// `/users/{id}`.
fn user_administration(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/users")
            .route(get().to(users::index))
            .route(post().to(users::create)),
    )
    .service(resource("/users/bulk").route(post().to(users::bulk)))
    .service(
        resource("/users/{id}")
            .route(get().to(users::show))
            .route(put().to(users::update))
            .route(patch().to(users::update))
            .route(delete().to(users::delete)),
    )
    .service(resource("/users/{id}/suspend").route(post().to(users::suspend)))
    .service(resource("/users/{id}/reactivate").route(post().to(users::reactivate)))
    .service(resource("/users/{id}/unlock").route(post().to(users::unlock)))
    .service(
        resource("/users/{id}/sessions")
            .route(get().to(users::sessions))
            .route(delete().to(users::revoke_sessions)),
    )
    .service(resource("/users/{id}/roles").route(post().to(users::assign_role)))
    .service(resource("/users/{id}/roles/{role_id}").route(delete().to(users::remove_role)))
    .service(resource("/users/{id}/permissions").route(get().to(users::permissions)))
    .service(resource("/users/{id}/metadata").route(patch().to(users::metadata)));
}

/// Roles and the permission catalogue (`/roles/permissions` before
/// `/roles/{id}`), and groups with their members.
fn roles_and_groups(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/roles")
            .route(get().to(roles::index))
            .route(post().to(roles::create)),
    )
    .service(resource("/roles/permissions").route(get().to(roles::catalogue_of_permissions)))
    .service(
        resource("/roles/{id}")
            .route(get().to(roles::show))
            .route(put().to(roles::update))
            .route(delete().to(roles::delete)),
    )
    .service(
        resource("/groups")
            .route(get().to(groups::index))
            .route(post().to(groups::create)),
    )
    .service(
        resource("/groups/{id}")
            .route(get().to(groups::show))
            .route(put().to(groups::update))
            .route(delete().to(groups::delete)),
    )
    .service(
        resource("/groups/{id}/members")
            .route(get().to(groups::members))
            .route(post().to(groups::add_member)),
    )
    .service(resource("/groups/{id}/members/{user_id}").route(delete().to(groups::remove_member)));
}

/// SCIM tokens, under both spellings of the path (docs/api/scim.md; the
/// Aritma form is /core/iam/v1/scim).
fn scim_token_management(cfg: &mut web::ServiceConfig) {
    for path in ["/scim/tokens", "/scim-tokens"] {
        cfg.service(
            resource(path)
                .route(get().to(scim_tokens::index))
                .route(post().to(scim_tokens::create)),
        )
        .service(resource(&format!("{path}/{{id}}")).route(delete().to(scim_tokens::delete)));
    }
}

/// The audit log (read only) and tenant settings.
fn audit_and_settings(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/audit-logs").route(get().to(audit::index)))
        .service(resource("/audit-logs/{id}").route(get().to(audit::show)))
        .service(
            resource("/settings")
                .route(get().to(settings::show))
                .route(put().to(settings::update)),
        );
}

/// Tenants: platform administration, and a tenant's own (`/tenants/current`
/// before `/tenants/{id}`).
fn tenant_administration(cfg: &mut web::ServiceConfig) {
    cfg.service(
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
    .service(resource("/tenants/{id}/reactivate").route(post().to(tenants::reactivate)));
}
