//! The one mapping from domain errors to HTTP: status, code and headers are
//! decided here for every dialect; each dialect only shapes the body. The
//! native envelope (docs/api/ithbat.md) is the default rendering.

use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use crate::domain::{Error, FieldError, OAuthError};

/// Retry-After of a 503: about the acquire timeout, long enough for a
/// database that restarts or a network that heals.
const UNAVAILABLE_RETRY_SECS: u64 = 5;

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Validation(_) | Error::InvalidFilter(_) => StatusCode::BAD_REQUEST,
            Error::InvalidCredentials | Error::InvalidMfaCode | Error::Unauthenticated(_) => {
                StatusCode::UNAUTHORIZED
            }
            Error::AccountSuspended
            | Error::AccountLocked { .. }
            | Error::AccountNotVerified
            | Error::Forbidden(_)
            | Error::InsufficientScope(_)
            | Error::TenantSuspended => StatusCode::FORBIDDEN,
            Error::OAuth {
                error: OAuthError::InvalidClient,
                ..
            } => StatusCode::UNAUTHORIZED,
            Error::OAuth { .. } => StatusCode::BAD_REQUEST,
            Error::TenantNotFound | Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::DuplicateEmail | Error::NoEmailAddress | Error::Conflict { .. } => {
                StatusCode::CONFLICT
            }
            Error::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code (listed in docs/api/ithbat.md).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation(_) | Error::InvalidFilter(_) => "VALIDATION_ERROR",
            Error::InvalidCredentials => "INVALID_CREDENTIALS",
            Error::InvalidMfaCode => "INVALID_MFA_CODE",
            Error::Unauthenticated(_) => "UNAUTHORIZED",
            Error::AccountSuspended => "ACCOUNT_SUSPENDED",
            Error::AccountLocked { .. } => "ACCOUNT_LOCKED",
            Error::AccountNotVerified => "ACCOUNT_NOT_VERIFIED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::InsufficientScope(_) => "INSUFFICIENT_SCOPE",
            Error::OAuth { error, .. } => match error {
                OAuthError::InvalidRequest => "INVALID_REQUEST",
                OAuthError::InvalidClient => "INVALID_CLIENT",
                OAuthError::InvalidGrant => "INVALID_GRANT",
                OAuthError::UnauthorizedClient => "UNAUTHORIZED_CLIENT",
                OAuthError::UnsupportedGrantType => "UNSUPPORTED_GRANT_TYPE",
                OAuthError::InvalidScope => "INVALID_SCOPE",
            },
            Error::TenantNotFound => "TENANT_NOT_FOUND",
            Error::TenantSuspended => "TENANT_SUSPENDED",
            Error::NotFound(_) => "RESOURCE_NOT_FOUND",
            Error::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Error::DuplicateEmail => "DUPLICATE_EMAIL",
            Error::NoEmailAddress => "NO_EMAIL_ADDRESS",
            Error::Conflict { .. } => "CONFLICT",
            Error::PreconditionFailed(_) => "PRECONDITION_FAILED",
            Error::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Error::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Error::NotAcceptable(_) => "NOT_ACCEPTABLE",
            Error::RateLimited { .. } => "RATE_LIMIT_EXCEEDED",
            Error::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Error::Internal(_) => "INTERNAL_ERROR",
        }
    }

    /// Field-level details, when the error is about fields.
    pub fn details(&self) -> Vec<FieldError> {
        match self {
            Error::Validation(fields) => fields.clone(),
            Error::InvalidFilter(message) => vec![FieldError::new("filter", message.clone())],
            Error::DuplicateEmail => vec![FieldError::new("email", "is already in use")],
            Error::NoEmailAddress => vec![FieldError::new("email", "is not set")],
            Error::Conflict {
                field: Some(f),
                message,
            } => vec![FieldError::new(f.clone(), message.clone())],
            _ => Vec::new(),
        }
    }

    /// The message shown to clients. Internal and availability errors are
    /// logged in full and answered in general terms.
    pub fn public_message(&self) -> String {
        match self {
            Error::Internal(_) => "An internal error occurred".into(),
            Error::Unavailable(_) => "The service is temporarily unavailable".into(),
            other => other.to_string(),
        }
    }

    /// Headers every dialect sends with this error.
    pub fn decorate(&self, response: &mut HttpResponse) {
        let headers = response.headers_mut();
        match self {
            Error::InvalidCredentials | Error::InvalidMfaCode | Error::Unauthenticated(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"ithbat\""),
                );
            }
            // RFC 6750 3.1: name the scope the token lacks.
            Error::InsufficientScope(scope) => {
                let value = format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"");
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            // RFC 6749 5.2: a 401 names the scheme clients authenticate with.
            Error::OAuth {
                error: OAuthError::InvalidClient,
                ..
            } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"ithbat\""),
                );
            }
            Error::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            Error::Unavailable(_) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(UNAVAILABLE_RETRY_SECS),
                );
            }
            Error::AccountLocked { until } => {
                let secs = (*until - chrono::Utc::now()).num_seconds().max(1);
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            _ => {}
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }

    fn log(&self) {
        match self {
            Error::Internal(detail) => log::error!("internal error: {detail}"),
            Error::Unavailable(detail) => log::warn!("unavailable: {detail}"),
            _ => {}
        }
    }
}

/// The native envelope: `{"success":false,"error":{"code","message","details"}}`.
pub fn native_body(e: &Error) -> serde_json::Value {
    let mut error = json!({ "code": e.code(), "message": e.public_message() });
    let details = e.details();
    if !details.is_empty() {
        error["details"] = details
            .into_iter()
            .map(|d| json!({ "field": d.field, "message": d.message }))
            .collect();
    }
    json!({ "success": false, "error": error })
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status()).json(native_body(self));
        self.decorate(&mut response);
        response
    }
}

/// For a dialect's scope (Aritma, OAuth): a response that carries a domain
/// error (from a handler, an extractor, or the scope's default service)
/// is rendered again by `render`, so that every error under the scope is
/// in its dialect while status and headers stay those decided above.
pub fn rerender<B>(
    res: ServiceResponse<B>,
    render: impl Fn(&Error, &HttpRequest) -> HttpResponse,
) -> ServiceResponse<EitherBody<B>> {
    let rendered = res
        .response()
        .error()
        .and_then(|e| e.as_error::<Error>())
        .map(|e| render(e, res.request()));
    match rendered {
        Some(response) => res.into_response(response).map_into_right_body(),
        None => res.map_into_left_body(),
    }
}

/// actix's form extractor (`web::Form`, the sign-in pages) refuses a body
/// as plain text of its own; as a domain error it answers in the path's
/// dialect like every other refusal: 415 for another media type, 413 for a
/// body too large, 400 for fields that do not parse.
pub fn form_error(e: actix_web::error::UrlencodedError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::UrlencodedError as U;
    let error = match e {
        U::ContentType => Error::UnsupportedMediaType(
            "Content-Type must be application/x-www-form-urlencoded".into(),
        ),
        U::Overflow { limit, .. } => Error::PayloadTooLarge { limit },
        other => Error::invalid("body", other.to_string()),
    };
    error.into()
}

/// Unknown paths answer in the native envelope.
pub async fn not_found() -> Result<HttpResponse, Error> {
    Err(Error::NotFound("Resource"))
}

/// Known paths called with another method.
pub async fn method_not_allowed() -> Result<HttpResponse, Error> {
    Err(Error::MethodNotAllowed)
}
