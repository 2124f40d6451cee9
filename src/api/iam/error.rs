//! Aritma errors: RFC 7807 problem details (`type`, `title`, `status`,
//! `detail`, `instance`; `application/problem+json`), Aritma's
//! ProblemDetails body, rendered from the same domain errors and with the
//! same status and headers as every dialect. Extension members: `code`
//! (the native machine code) and, for invalid input, `errors` (field ->
//! messages, as ASP.NET Core's validation problems spell it).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use crate::domain::Error;

pub const MEDIA_TYPE: &str = "application/problem+json";

/// The problem type: the status's section of RFC 9110 (RFC 6585 for 429),
/// the URIs ASP.NET Core, which serves Aritma's API, uses.
fn type_uri(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        401 => "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        403 => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        405 => "https://tools.ietf.org/html/rfc9110#section-15.5.6",
        409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        412 => "https://tools.ietf.org/html/rfc9110#section-15.5.13",
        413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        429 => "https://tools.ietf.org/html/rfc6585#section-4",
        500 => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        _ => "about:blank",
    }
}

/// The problem details body of `e` for a request to `instance` (the path;
/// never the query string, which may hold personal data).
pub fn body(e: &Error, instance: &str) -> Value {
    let status = e.status();
    let mut body = json!({
        "type": type_uri(status),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": e.public_message(),
        "instance": instance,
        "code": e.code(),
    });
    let details = e.details();
    if !details.is_empty() {
        let mut errors = Map::new();
        for d in details {
            match errors.entry(d.field).or_insert_with(|| json!([])) {
                Value::Array(messages) => messages.push(json!(d.message)),
                _ => unreachable!("inserted as an array"),
            }
        }
        body["errors"] = Value::Object(errors);
    }
    body
}

pub fn response(e: &Error, instance: &str) -> HttpResponse {
    let mut response = HttpResponse::build(e.status())
        .content_type(MEDIA_TYPE)
        .body(body(e, instance).to_string());
    e.decorate(&mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FieldError;

    #[test]
    fn validation_problems_name_the_fields() {
        let e = Error::Validation(vec![
            FieldError::new("name", "must not be empty"),
            FieldError::new("name", "is too long"),
            FieldError::new("allowedScopes", "\"x\" is not a known scope"),
        ]);
        let b = body(&e, "/core/iam/v1/clients");
        assert_eq!(b["status"], 400);
        assert_eq!(b["title"], "Bad Request");
        assert_eq!(
            b["type"],
            "https://tools.ietf.org/html/rfc9110#section-15.5.1"
        );
        assert_eq!(b["instance"], "/core/iam/v1/clients");
        assert_eq!(b["code"], "VALIDATION_ERROR");
        assert_eq!(b["errors"]["name"].as_array().unwrap().len(), 2);
        assert!(body(&Error::NotFound("Client"), "/x")
            .get("errors")
            .is_none());
        assert_eq!(
            body(&Error::NotFound("Client"), "/x")["detail"],
            "Client not found"
        );
    }
}
