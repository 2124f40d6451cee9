//! What every operation of a dialect shares, added once: its error
//! responses (the statuses `api::error` maps domain errors to, each with
//! the dialect's error body), its default credentials, a unique
//! operationId, and the security schemes themselves.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

pub const SYSTEM: &str = "system";
pub const NATIVE: &str = "ithbat";
pub const JSONAPI: &str = "jsonapi";
pub const IAM: &str = "iam";
pub const OAUTH: &str = "oauth";
pub const SCIM: &str = "scim";

/// A person's or a client's access token (a JWT from
/// `/api/v1/auth/login` or `/oauth/token`).
pub const BEARER: &str = "bearer";
/// An OAuth client's id and secret (RFC 6749 2.3.1).
pub const CLIENT: &str = "clientCredentials";
/// A SCIM token (`/api/v1/scim/tokens`), for /scim/v2.
pub const SCIM_TOKEN: &str = "scimToken";

/// Paths served by the same handlers as another path: (alias, original).
/// `/api/v1/scim-tokens` is the spelling of the Aritma documents.
const ALIASES: &[(&str, &str)] = &[
    ("/api/v1/scim-tokens", "/api/v1/scim/tokens"),
    ("/api/v1/scim-tokens/{id}", "/api/v1/scim/tokens/{id}"),
];

struct Dialect {
    /// The error body's schema and media type.
    error: (&'static str, &'static str),
    /// The statuses any operation of the dialect may answer with an error:
    /// bad input, credentials, permission, an unknown object or tenant, a
    /// conflict, a stale If-Match, a body too large or of the wrong type,
    /// the rate limit, the database unavailable.
    statuses: &'static [u16],
    /// Credentials an operation needs unless it says otherwise.
    security: Option<&'static str>,
}

const API_ERRORS: &[u16] = &[400, 401, 403, 404, 409, 412, 413, 415, 429, 503];

fn dialect(tag: &str) -> Dialect {
    match tag {
        NATIVE => Dialect {
            error: ("NativeError", "application/json"),
            statuses: API_ERRORS,
            security: Some(BEARER),
        },
        JSONAPI => Dialect {
            error: ("JsonApiErrors", crate::api::jsonapi::MEDIA_TYPE),
            statuses: &[400, 401, 403, 404, 406, 409, 412, 413, 415, 429, 503],
            security: Some(BEARER),
        },
        IAM => Dialect {
            error: ("Problem", "application/problem+json"),
            statuses: API_ERRORS,
            security: Some(BEARER),
        },
        OAUTH => Dialect {
            error: ("OAuthError", "application/json"),
            statuses: &[400, 401, 413, 415, 429, 503],
            security: Some(CLIENT),
        },
        _ => Dialect {
            error: ("NativeError", "application/json"),
            statuses: &[429, 503],
            security: None,
        },
    }
}

fn reason(status: u16) -> &'static str {
    actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// `get /api/v1/users/{id}` -> `get_api_v1_users_id`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_string();
    for part in path.split(['/', '.', '{', '}']).filter(|p| !p.is_empty()) {
        id.push('_');
        id.push_str(part);
    }
    id
}

pub fn finish(doc: &mut OpenApi) {
    for (alias, original) in ALIASES {
        if let Some(item) = doc.paths.paths.get(*original).cloned() {
            doc.paths.paths.insert(alias.to_string(), item);
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            op.operation_id = Some(operation_id(method, path));
            let tag = op
                .tags
                .as_ref()
                .and_then(|t| t.first())
                .cloned()
                .unwrap_or_default();
            let d = dialect(&tag);
            if op.security.is_none() {
                if let Some(scheme) = d.security {
                    op.security =
                        Some(vec![SecurityRequirement::new(scheme, Vec::<String>::new())]);
                }
            }
            for status in d.statuses {
                let key = status.to_string();
                if op.responses.responses.contains_key(&key) {
                    continue;
                }
                let response = ResponseBuilder::new()
                    .description(reason(*status))
                    .content(
                        d.error.1,
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(d.error.0)))
                            .build(),
                    )
                    .build();
                op.responses.responses.insert(key, RefOr::T(response));
            }
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    let bearer = Http::builder()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("JWT")
        .description(Some(
            "An access token: a person's from POST /api/v1/auth/login (or the OAuth code \
             flow), a client's from POST /oauth/token. Send X-Tenant-ID to act in another \
             tenant where the caller may.",
        ))
        .build();
    let client = Http::builder()
        .scheme(HttpAuthScheme::Basic)
        .description(Some(
            "An OAuth client's client_id and client_secret (RFC 6749 2.3.1); the form \
             parameters client_id and client_secret are accepted instead.",
        ))
        .build();
    let scim = Http::builder()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some(
            "A SCIM token from POST /api/v1/scim/tokens or POST /core/iam/v1/scim, for \
             /scim/v2 (described by its own discovery endpoints).",
        ))
        .build();
    for (name, scheme) in [(BEARER, bearer), (CLIENT, client), (SCIM_TOKEN, scim)] {
        components
            .security_schemes
            .insert(name.to_string(), SecurityScheme::Http(scheme));
    }
    for name in ["NativeError", "JsonApiErrors", "Problem", "OAuthError"] {
        debug_assert!(
            components.schemas.contains_key(name),
            "{name} is registered"
        );
    }
}
