//! The OpenAPI 3.1 description of the HTTP API, served at `GET
//! /openapi.json`. It is generated from `#[utoipa::path]` annotations
//! next to each handler and from derives on the request and response
//! types, so it changes with the code; the test below compares its
//! operations with the route table, so a route without documentation
//! fails. Each dialect lists its operations in its own `Doc`; what every
//! operation of a dialect shares (its error body and statuses, its
//! default credentials) is added here, once, by `dialects::Finish`.
//!
//! SCIM is described by its own discovery endpoints (RFC 7644 4), which
//! the `scim` tag links instead of repeating.

mod dialects;
pub mod schemas;

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::HttpResponse;
use utoipa::OpenApi;

pub use dialects::{IAM, JSONAPI, NATIVE, OAUTH, SCIM, SYSTEM};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ithbat",
        description = "Identity and access management: tenants, users, roles, groups, \
                       policies, sessions, OAuth 2.0 and OpenID Connect, SCIM 2.0. One \
                       server speaks several dialects over the same objects; each is a tag. \
                       docs/api/ in the repository describes each with examples.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(
        schemas::NativeError, schemas::JsonApiErrors, schemas::Problem, schemas::OAuthError
    )),
    tags(
        (name = SYSTEM, description = "Probes, metrics, signing keys and this document."),
        (name = NATIVE, description = "ithbat's own API under /api/v1: \
            `{\"success\": true, \"data\": ...}` on success, \
            `{\"success\": false, \"error\": {code, message, details}}` on error \
            (docs/api/ithbat.md)."),
        (name = JSONAPI, description = "The JSON:API 1.1 dialect under /api/v1 (accounts, \
            organizations, account sessions, account passwords): documents of type \
            `application/vnd.api+json`, errors as `errors[]` (docs/api/jsonapi.md)."),
        (name = IAM, description = "The Aritma IAM API under /core/iam: a token needs the \
            `services.iam` scope; errors are RFC 7807 problem details (docs/api/iam.md)."),
        (name = OAUTH, description = "OAuth 2.0 (RFC 6749) and OpenID Connect: the token, \
            introspection (RFC 7662) and revocation (RFC 7009) endpoints, userinfo, the \
            hosted sign-in pages; errors are RFC 6749 5.2 bodies (docs/api/oauth.md)."),
        (name = SCIM, description = "SCIM 2.0 (RFC 7643, RFC 7644) under /scim/v2 and \
            /{tenant}/api/scim/v2, with a SCIM token (`scimToken`). SCIM describes itself: \
            [/scim/v2/ServiceProviderConfig](/scim/v2/ServiceProviderConfig), \
            [/scim/v2/ResourceTypes](/scim/v2/ResourceTypes) and \
            [/scim/v2/Schemas](/scim/v2/Schemas) (docs/api/scim.md).",
            external_docs(url = "/scim/v2/Schemas", description = "The SCIM schemas this server serves")),
    ),
)]
struct Root;

/// The whole document: every dialect's operations, finished.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Root::openapi();
    for part in [
        crate::api::system::Doc::openapi(),
        crate::api::ithbat::Doc::openapi(),
        crate::api::jsonapi::Doc::openapi(),
        crate::api::iam::Doc::openapi(),
        crate::api::oauth::Doc::openapi(),
    ] {
        doc.merge(part);
    }
    dialects::finish(&mut doc);
    doc
}

/// `GET /openapi.json`: built once, served to anyone (it describes, it
/// grants nothing).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = SYSTEM,
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json", body = Object)),
)]
pub async fn serve() -> HttpResponse {
    static JSON: OnceLock<String> = OnceLock::new();
    let body = JSON.get_or_init(|| document().to_json().expect("the document serializes"));
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body.clone())
}

#[cfg(test)]
mod tests;
