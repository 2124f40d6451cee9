//! JSON:API error documents (JSON:API 1.1 "Errors"): the same domain errors
//! as every dialect, as `{"errors": [{status, code, title, detail,
//! source}]}`, one object per offending field, with `source.pointer` for
//! document members, `source.parameter` for query parameters and
//! `source.header` for headers.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};

use super::MEDIA_TYPE;
use crate::domain::Error;

/// Where the fields of a request body live: inside a resource document's
/// `/data/attributes`, or at the top of a plain JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Body {
    #[default]
    Document,
    Plain,
}

#[derive(Debug)]
pub struct JsonApiError {
    pub error: Error,
    pub body: Body,
}

impl From<Error> for JsonApiError {
    fn from(error: Error) -> Self {
        JsonApiError {
            error,
            body: Body::Document,
        }
    }
}

impl JsonApiError {
    /// An error about a plain JSON body (`{"email": ...}`).
    pub fn plain(error: Error) -> Self {
        JsonApiError {
            error,
            body: Body::Plain,
        }
    }
}

impl std::fmt::Display for JsonApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

pub type JsonApiResult<T> = Result<T, JsonApiError>;

/// Query parameters this dialect reads, or any name marked `?name` (a
/// parameter it does not know); an error about one points at it.
fn is_parameter(field: &str) -> bool {
    ["filter[", "page[", "fields[", "?"]
        .iter()
        .any(|p| field.starts_with(p))
        || matches!(field, "sort" | "count" | "included" | "include" | "query")
}

/// The parameter's name, without the `?` mark.
fn parameter(field: &str) -> &str {
    field.strip_prefix('?').unwrap_or(field)
}

/// The attribute a domain field is shown as.
fn attribute(field: &str) -> &str {
    match field {
        "firstName" | "familyName" | "fatherName" | "grandfatherName" => "name",
        "pictureUrl" => "picture_url",
        "ssoChannel" => "sso_channel",
        "roleName" => "role_name",
        "roleScope" => "role_scope",
        other => other,
    }
}

/// The `source` of an error about `field`, if it names one.
pub fn source(field: &str, body: Body) -> Option<Value> {
    if field.is_empty() {
        return None;
    }
    if is_parameter(field) {
        return Some(json!({ "parameter": parameter(field) }));
    }
    if field.eq_ignore_ascii_case("x-tenant-id") {
        return Some(json!({ "header": "X-Tenant-ID" }));
    }
    let pointer = match (field, body) {
        ("body", _) => String::new(),
        // Already a JSON pointer (document members).
        (f, _) if f.starts_with('/') => f.to_string(),
        ("organization" | "account", Body::Document) => format!("/data/relationships/{field}"),
        (f, Body::Document) => format!("/data/attributes/{}", attribute(f).replace('.', "/")),
        (f, Body::Plain) => format!("/{}", attribute(f).replace('.', "/")),
    };
    Some(json!({ "pointer": pointer }))
}

fn title(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_string()
}

/// The error objects of a domain error.
pub fn errors(e: &Error, body: Body) -> Vec<Value> {
    let status = e.status();
    let base = |detail: String, source: Option<Value>| {
        let mut object = json!({
            "status": status.as_u16().to_string(),
            "code": e.code(),
            "title": title(status),
            "detail": detail,
        });
        if let Some(source) = source {
            object["source"] = source;
        }
        object
    };
    let details = e.details();
    if details.is_empty() {
        return vec![base(e.public_message(), None)];
    }
    details
        .into_iter()
        .map(|d| {
            let shown = if d.field.is_empty() || d.field == "body" {
                d.message.clone()
            } else if let Some(member) = d.field.strip_prefix('/') {
                format!("{member} {}", d.message)
            } else if is_parameter(&d.field) {
                format!("{} {}", parameter(&d.field), d.message)
            } else {
                format!("{} {}", attribute(&d.field), d.message)
            };
            base(shown, source(&d.field, body))
        })
        .collect()
}

impl ResponseError for JsonApiError {
    fn status_code(&self) -> StatusCode {
        self.error.status()
    }

    fn error_response(&self) -> HttpResponse {
        response(&self.error, self.body)
    }
}

/// A domain error as a JSON:API error document, with the status and
/// headers `api::error` decided.
pub fn response(error: &Error, body: Body) -> HttpResponse {
    if let Error::Internal(detail) = error {
        log::error!("internal error: {detail}");
    }
    let document = json!({ "errors": errors(error, body), "jsonapi": { "version": "1.1" } });
    let mut response = HttpResponse::build(error.status())
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE)))
        .body(document.to_string());
    error.decorate(&mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            source("filter[email__match]", Body::Document),
            Some(json!({ "parameter": "filter[email__match]" }))
        );
        assert_eq!(
            source("firstName", Body::Document),
            Some(json!({ "pointer": "/data/attributes/name" }))
        );
        assert_eq!(
            source("organization", Body::Document),
            Some(json!({ "pointer": "/data/relationships/organization" }))
        );
        assert_eq!(
            source("email", Body::Plain),
            Some(json!({ "pointer": "/email" }))
        );
        assert_eq!(
            source("/data/type", Body::Document),
            Some(json!({ "pointer": "/data/type" }))
        );
        assert_eq!(source("body", Body::Plain), Some(json!({ "pointer": "" })));
    }
}
