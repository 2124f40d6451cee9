//! The one error type every layer returns. It says what went wrong in domain
//! terms; `api::error` decides the HTTP status and body, once per dialect.

use chrono::{DateTime, Utc};

/// One invalid input: the field (a JSON path such as `preferences.theme`, a
/// query parameter or a header name) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", validation_summary(.0))]
    Validation(Vec<FieldError>),
    #[error("Invalid email or password")]
    InvalidCredentials,
    /// A second-factor code (TOTP or backup code) that is wrong or used.
    #[error("The verification code is invalid")]
    InvalidMfaCode,
    #[error("{0}")]
    Unauthenticated(String),
    #[error("This account is suspended")]
    AccountSuspended,
    #[error("This account is locked after too many failed sign-in attempts")]
    AccountLocked { until: DateTime<Utc> },
    #[error("The email address of this account is not verified")]
    AccountNotVerified,
    #[error("{0}")]
    Forbidden(String),
    /// The credential lacks an OAuth scope the operation requires
    /// (RFC 6750 3.1 insufficient_scope).
    #[error("This operation requires the {0} scope")]
    InsufficientScope(String),
    /// An OAuth 2.0 endpoint's own refusal (RFC 6749 5.2).
    #[error("{description}")]
    OAuth {
        error: OAuthError,
        description: String,
    },
    #[error("Tenant not found")]
    TenantNotFound,
    #[error("This tenant is suspended")]
    TenantSuspended,
    /// The named resource (e.g. "User", "Session") does not exist in the
    /// caller's tenant. Another tenant's resource is reported the same way.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("This method is not allowed on this resource")]
    MethodNotAllowed,
    #[error("A user with this email already exists")]
    DuplicateEmail,
    /// A mail-dependent flow (invitation, password reset, email
    /// verification) for a user who has no email address (RFC 7643 4.1
    /// requires only userName).
    #[error("This user has no email address")]
    NoEmailAddress,
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// A filter that names an unknown attribute or cannot be evaluated.
    #[error("{0}")]
    InvalidFilter(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("Request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("Too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("Internal error")]
    Internal(String),
}

/// The error codes of RFC 6749 5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
}

impl OAuthError {
    pub fn code(self) -> &'static str {
        match self {
            OAuthError::InvalidRequest => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant => "invalid_grant",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidScope => "invalid_scope",
        }
    }
}

fn validation_summary(errors: &[FieldError]) -> String {
    match errors {
        [one] if one.field.is_empty() => one.message.clone(),
        [one] => format!("{}: {}", one.field, one.message),
        _ => "The request has invalid fields".to_string(),
    }
}

impl Error {
    /// A validation error about one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        Error::Conflict {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    pub fn oauth(error: OAuthError, description: impl Into<String>) -> Self {
        Error::OAuth {
            error,
            description: description.into(),
        }
    }

    pub fn internal(context: impl std::fmt::Display) -> Self {
        Error::Internal(context.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collects field errors so that a request reports all of them at once.
#[derive(Default, Debug)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Records the error of a field-level check, if any.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }
}
