//! OAuth error responses (RFC 6749 5.2): `{"error", "error_description"}`,
//! rendered from the same domain errors as every dialect, with their
//! status and headers (401 and `WWW-Authenticate: Basic` for
//! invalid_client), never cached.

use actix_web::http::header;
use actix_web::HttpResponse;
use serde_json::json;

use crate::domain::Error;

/// The RFC 6749 error code for a domain error. Errors no OAuth code names
/// (a body too large, a wrong method) are the client's malformed request;
/// overload and failure use the codes RFC 6749 4.1.2.1 defines for them.
fn code(e: &Error) -> &'static str {
    match e {
        Error::OAuth { error, .. } => error.code(),
        Error::InvalidCredentials | Error::Unauthenticated(_) => "invalid_client",
        Error::RateLimited { .. } | Error::Unavailable(_) => "temporarily_unavailable",
        Error::Internal(_) => "server_error",
        _ => "invalid_request",
    }
}

/// error_description is limited to printable ASCII without `"` and `\`.
fn description(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

pub fn body(e: &Error) -> serde_json::Value {
    json!({ "error": code(e), "error_description": description(&e.public_message()) })
}

pub fn response(e: &Error) -> HttpResponse {
    let mut response = HttpResponse::build(e.status())
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body(e));
    e.decorate(&mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OAuthError;

    #[test]
    fn bodies_follow_rfc_6749() {
        let e = Error::oauth(OAuthError::InvalidGrant, "bad \"grant\" …");
        assert_eq!(
            body(&e),
            json!({ "error": "invalid_grant", "error_description": "bad 'grant' ?" })
        );
        assert_eq!(
            body(&Error::invalid("body", "x"))["error"],
            "invalid_request"
        );
        assert_eq!(body(&Error::internal("db down"))["error"], "server_error");
        assert_eq!(
            body(&Error::internal("db down"))["error_description"],
            "An internal error occurred"
        );
    }
}
