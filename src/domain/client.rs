//! OAuth clients (docs/api/iam.md, OAuth clients and secrets): applications and
//! services that authenticate as themselves, with secrets they present at the
//! token endpoint. A client belongs to one tenant and is a subject there.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::scope::ScopeSet;

/// The grant types a client may be allowed. `authorization_code` is stored
/// now and served by the token endpoint with hosted sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
}

impl GrantType {
    pub const ALL: [GrantType; 3] = [
        GrantType::ClientCredentials,
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
        }
    }

    pub fn parse(s: &str) -> Option<GrantType> {
        GrantType::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    /// The OAuth `client_id`: unique across tenants, so that the token
    /// endpoint needs no tenant.
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub description: String,
    pub grant_types: Vec<GrantType>,
    pub redirect_uris: Vec<String>,
    /// Scopes from the catalogue, in the order given.
    pub scopes: Vec<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Client {
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn allowed_scopes(&self) -> ScopeSet {
        self.scopes.iter().cloned().collect()
    }
}

/// A client secret as listed: never its value, which is shown once.
#[derive(Debug, Clone)]
pub struct ClientSecret {
    pub id: Uuid,
    pub client_id: Uuid,
    pub description: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Live secrets a client may hold at once: enough to rotate without
/// downtime, few enough that authenticating checks a handful of hashes.
pub const MAX_LIVE_SECRETS: usize = 5;

/// Client names and descriptions follow the rules of role names and
/// descriptions.
pub use super::role::{validate_description, validate_name};

/// Grant types: known ones, at least one, duplicates dropped. A refresh
/// token is only ever issued alongside another grant.
pub fn validate_grant_types(given: &[String]) -> Result<Vec<GrantType>, String> {
    let mut out = Vec::new();
    for g in given {
        let grant = GrantType::parse(g).ok_or_else(|| {
            let names: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
            format!(
                "{g:?} is not a supported grant type (one of {})",
                names.join(", ")
            )
        })?;
        if !out.contains(&grant) {
            out.push(grant);
        }
    }
    if !out.iter().any(|g| {
        matches!(
            g,
            GrantType::ClientCredentials | GrantType::AuthorizationCode
        )
    }) {
        return Err("must include client_credentials or authorization_code".into());
    }
    Ok(out)
}

/// Most redirect URIs a client keeps, and their longest.
const MAX_REDIRECT_URIS: usize = 20;
const MAX_URI_CHARS: usize = 2000;

/// Redirect URIs (RFC 6749 3.1.2): absolute, without a fragment; https,
/// or http on a loopback address for native apps (RFC 8252 7.3).
pub fn validate_redirect_uris(given: &[String]) -> Result<Vec<String>, String> {
    if given.len() > MAX_REDIRECT_URIS {
        return Err(format!("must hold at most {MAX_REDIRECT_URIS} URIs"));
    }
    let mut out: Vec<String> = Vec::new();
    for raw in given {
        if raw.chars().count() > MAX_URI_CHARS {
            return Err(format!("{raw:?} is longer than {MAX_URI_CHARS} characters"));
        }
        let url = url::Url::parse(raw).map_err(|_| format!("{raw:?} is not an absolute URI"))?;
        if url.fragment().is_some() {
            return Err(format!("{raw:?} must not have a fragment"));
        }
        let loopback = matches!(
            url.host(),
            Some(url::Host::Ipv4(ip)) if ip.is_loopback()
        ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
            || url.host_str() == Some("localhost");
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(format!(
                    "{raw:?} must use https (http only on a loopback address)"
                ))
            }
        }
        if !out.contains(raw) {
            out.push(raw.clone());
        }
    }
    Ok(out)
}

/// The whole client: a code flow needs somewhere to return to.
pub fn check_consistency(grants: &[GrantType], redirect_uris: &[String]) -> Result<(), String> {
    if grants.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        return Err("must hold at least one URI when authorization_code is allowed".into());
    }
    Ok(())
}

/// Secret values are the caller's (8 to 32 characters, docs/api/iam.md).
pub fn validate_secret_value(value: &str) -> Result<(), String> {
    let n = value.chars().count();
    if !(8..=32).contains(&n) {
        return Err(format!("must be 8 to 32 characters long (got {n})"));
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// A secret's expiration lies in the future.
pub fn validate_expiration(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if at <= now {
        return Err("must be in the future".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn grant_types() {
        assert_eq!(
            validate_grant_types(&strings(&[
                "client_credentials",
                "refresh_token",
                "client_credentials"
            ]))
            .unwrap(),
            [GrantType::ClientCredentials, GrantType::RefreshToken]
        );
        assert!(validate_grant_types(&strings(&["password"])).is_err());
        assert!(validate_grant_types(&strings(&["refresh_token"])).is_err());
        assert!(validate_grant_types(&[]).is_err());
    }

    #[test]
    fn redirect_uris() {
        assert!(validate_redirect_uris(&strings(&["https://app.example/cb"])).is_ok());
        assert!(validate_redirect_uris(&strings(&["http://127.0.0.1:8000/cb"])).is_ok());
        assert!(validate_redirect_uris(&strings(&["http://localhost/cb"])).is_ok());
        assert!(validate_redirect_uris(&strings(&["http://app.example/cb"])).is_err());
        assert!(validate_redirect_uris(&strings(&["https://app.example/cb#x"])).is_err());
        assert!(validate_redirect_uris(&strings(&["/relative"])).is_err());
        assert!(check_consistency(&[GrantType::AuthorizationCode], &[]).is_err());
        assert!(check_consistency(&[GrantType::ClientCredentials], &[]).is_ok());
    }

    #[test]
    fn secret_values() {
        assert!(validate_secret_value("s3cr3tV@lue!").is_ok());
        assert!(validate_secret_value("1234567").is_err());
        assert!(validate_secret_value(&"x".repeat(33)).is_err());
        assert!(validate_secret_value(&"é".repeat(32)).is_ok());
        assert!(validate_secret_value("abc\u{0}defgh").is_err());
    }
}
