//! JSON:API accounts and organizations (docs/api/jsonapi.md): the rules for the
//! attributes users have only there, role scopes, and the single-use tokens
//! mailed to an account's owner.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::filter::FilterSpec;
use super::list::{PageRequest, SortOrder};

/// An organization: a team inside a tenant, which accounts belong to.
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Organization names: 1 to 200 characters, no control characters.
pub fn validate_organization_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.chars().count() > 200 {
        return Err("must be at most 200 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(name.to_string())
}

/// A picture URL: http(s), at most 2048 characters.
pub fn validate_picture_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let host_ok = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .is_some_and(|host| !host.is_empty());
    if !scheme_ok || !host_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be an http:// or https:// URL".into());
    }
    if url.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    Ok(url.to_string())
}

/// An SSO channel: a provider scheme such as `google` or `azure-ad`
/// (letters, digits, `-`, `_`, `.`; 1 to 100 characters).
pub fn validate_sso_channel(channel: &str) -> Result<String, String> {
    let channel = channel.trim();
    let ok = !channel.is_empty()
        && channel.len() <= 100
        && channel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(channel.to_string())
    } else {
        Err("must be a provider scheme: 1 to 100 letters, digits, '-', '_' or '.'".into())
    }
}

/// The scope of the whole tenant.
pub const TENANT_SCOPE: &str = "/";

/// A role scope: `/` (the whole tenant) or a path of segments such as
/// `/organizations/{id}/projects/7`, at most 200 characters. A role held
/// on a scope applies to everything beneath it.
pub fn validate_role_scope(scope: &str) -> Result<String, String> {
    let scope = scope.trim();
    let bad = || {
        Err("must be / or a path such as /organizations/1 (segments of letters, digits, '-', '_', '.', ':', '@')".to_string())
    };
    if scope == TENANT_SCOPE {
        return Ok(scope.to_string());
    }
    if scope.len() > 200 || !scope.starts_with('/') || scope.ends_with('/') {
        return bad();
    }
    let segments_ok = scope[1..].split('/').all(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@'))
    });
    if segments_ok {
        Ok(scope.to_string())
    } else {
        bad()
    }
}

/// The scopes whose roles apply to `scope`: itself and every ancestor,
/// from `/` down (`/a/b` -> `/`, `/a`, `/a/b`).
pub fn covering_scopes(scope: &str) -> Vec<String> {
    let mut out = vec![TENANT_SCOPE.to_string()];
    let mut path = String::new();
    for segment in scope.split('/').filter(|s| !s.is_empty()) {
        path.push('/');
        path.push_str(segment);
        out.push(path.clone());
    }
    out
}

/// What a mailed token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Accept an invitation: choose a password and join.
    Invitation,
    PasswordReset,
    EmailVerification,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Invitation => "invitation",
            TokenPurpose::PasswordReset => "password_reset",
            TokenPurpose::EmailVerification => "email_verification",
        }
    }

    /// How long a token lasts: invitations 7 days, resets one hour,
    /// verification 24 hours (docs/api/ithbat.md, Registration, email
    /// verification, passwords).
    pub fn lifetime(self) -> Duration {
        match self {
            TokenPurpose::Invitation => Duration::days(7),
            TokenPurpose::PasswordReset => Duration::hours(1),
            TokenPurpose::EmailVerification => Duration::hours(24),
        }
    }

    /// A prefix that tells token kinds apart (and lets secret scanners
    /// recognise them).
    pub fn prefix(self) -> &'static str {
        match self {
            TokenPurpose::Invitation => "inv_",
            TokenPurpose::PasswordReset => "pwr_",
            TokenPurpose::EmailVerification => "evt_",
        }
    }
}

/// Why a token presented was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Unknown, for another purpose, or replaced by a newer one.
    Invalid,
    Expired,
    Used,
}

impl TokenProblem {
    pub fn message(self) -> &'static str {
        match self {
            TokenProblem::Invalid => "is invalid or has been replaced by a newer one",
            TokenProblem::Expired => "has expired",
            TokenProblem::Used => "has already been used",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationSort {
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(Clone, Default)]
pub struct OrganizationQuery<'a> {
    pub filter: Option<FilterSpec<'a>>,
    pub sort: Vec<(OrganizationSort, SortOrder)>,
    pub page: PageRequest,
    pub skip_count: bool,
}

/// A token accepted: whose it is, and where its holder goes next.
#[derive(Debug, Clone)]
pub struct Claim {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub redirect_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(validate_role_scope("/").unwrap(), "/");
        assert!(validate_role_scope("/organizations/123").is_ok());
        for bad in ["", "org", "/a/", "//a", "/a b", "/a//b"] {
            assert!(validate_role_scope(bad).is_err(), "{bad:?}");
        }
        assert_eq!(covering_scopes("/"), vec!["/"]);
        assert_eq!(covering_scopes("/a/b"), vec!["/", "/a", "/a/b"]);
    }

    #[test]
    fn urls_and_channels() {
        assert!(validate_picture_url("https://cdn.example/p.png").is_ok());
        assert!(validate_picture_url("javascript:alert(1)").is_err());
        assert!(validate_picture_url("https:///x").is_err());
        assert!(validate_sso_channel("azure-ad").is_ok());
        assert!(validate_sso_channel("a b").is_err());
    }
}
