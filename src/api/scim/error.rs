//! SCIM error responses (RFC 7644 3.12): the same domain errors as every
//! dialect, with SCIM's body, `scimType` and media type.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use super::schema::ERROR;
use crate::domain::Error;

pub const MEDIA_TYPE: &str = "application/scim+json";

#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
    /// The domain error, when there is one: it decides extra headers.
    source: Option<Error>,
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl ScimError {
    /// An error only SCIM has: invalidPath, noTarget, mutability, tooMany...
    pub fn new(status: u16, scim_type: &'static str, detail: impl Into<String>) -> ScimError {
        ScimError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            scim_type: Some(scim_type),
            detail: detail.into(),
            source: None,
        }
    }

    /// An error with no `scimType` (RFC 7644 3.12 defines them for 400s).
    pub fn plain(status: u16, detail: impl Into<String>) -> ScimError {
        ScimError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            scim_type: None,
            detail: detail.into(),
            source: None,
        }
    }

    pub fn invalid_value(detail: impl Into<String>) -> ScimError {
        ScimError::new(400, "invalidValue", detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> ScimError {
        ScimError::new(400, "invalidSyntax", detail)
    }
}

impl From<Error> for ScimError {
    fn from(e: Error) -> ScimError {
        let scim_type = match &e {
            Error::InvalidFilter(_) => Some("invalidFilter"),
            Error::Validation(fields) if fields.iter().any(|f| f.field == "body") => {
                Some("invalidSyntax")
            }
            Error::Validation(_) => Some("invalidValue"),
            Error::DuplicateEmail | Error::Conflict { field: Some(_), .. } => Some("uniqueness"),
            _ => None,
        };
        let detail = match &e {
            Error::Validation(fields) => fields
                .iter()
                .map(|f| {
                    if f.field.is_empty() {
                        f.message.clone()
                    } else {
                        format!("{}: {}", f.field, f.message)
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
            other => other.public_message(),
        };
        ScimError {
            status: e.status(),
            scim_type,
            detail,
            source: Some(e),
        }
    }
}

/// The SCIM error body.
pub fn body(status: StatusCode, scim_type: Option<&str>, detail: &str) -> serde_json::Value {
    let mut body =
        json!({ "schemas": [ERROR], "status": status.as_u16().to_string(), "detail": detail });
    if let Some(t) = scim_type {
        body["scimType"] = json!(t);
    }
    body
}

impl ScimError {
    /// The status and SCIM error body, e.g. for a failed bulk operation.
    pub fn status_and_body(&self) -> (StatusCode, serde_json::Value) {
        (self.status, body(self.status, self.scim_type, &self.detail))
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(Error::Internal(detail)) = &self.source {
            log::error!("internal error: {detail}");
        }
        let mut response = HttpResponse::build(self.status)
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE)))
            .body(body(self.status, self.scim_type, &self.detail).to_string());
        if let Some(e) = &self.source {
            e.decorate(&mut response);
        }
        response
    }
}

pub type ScimResult<T> = Result<T, ScimError>;
