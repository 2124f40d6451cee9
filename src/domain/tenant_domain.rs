//! A tenant's email domains (docs/api/iam.md, Domains): a
//! domain is registered, then verified by a DNS TXT record holding the
//! token the server issued. A verified domain lets the tenant create users
//! on it directly, and belongs to one tenant only.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The prefix of verification tokens (Aritma's are `aritma-verify-<uuid>`;
/// ours name this server).
pub const TOKEN_PREFIX: &str = "ithbat-verify-";

/// Most domains one tenant may register: enough for any organisation,
/// few enough that a tenant cannot hoard names.
pub const MAX_PER_TENANT: i64 = 100;

/// A domain registered by a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantDomain {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Lowercase ASCII (IDNA A-labels), without a trailing dot.
    pub name: String,
    pub verification_token: String,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TenantDomain {
    pub fn status(&self) -> DomainStatus {
        if self.verified_at.is_some() {
            DomainStatus::Confirmed
        } else {
            DomainStatus::Pending
        }
    }
}

/// A domain's status as the Aritma API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainStatus {
    Pending,
    Confirmed,
    NotRegistered,
}

impl DomainStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainStatus::Pending => "Pending",
            DomainStatus::Confirmed => "Confirmed",
            DomainStatus::NotRegistered => "NotRegistered",
        }
    }
}

/// A fresh verification token: the prefix and a random UUID.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", Uuid::new_v4())
}

/// Normalizes a domain name as DNS compares it: UTS 46 (IDNA) mapping, so
/// `Bücher.Example` and `xn--bcher-kva.example` are one name, lowercase,
/// without a trailing dot. Refuses what cannot be an email domain: a single
/// label, an IP address, a wildcard, labels that DNS hostnames do not allow.
pub fn normalize(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err("is required".into());
    }
    if trimmed.len() > 1024 {
        return Err("is not a domain name".into());
    }
    let ascii = idna::domain_to_ascii_strict(trimmed)
        .map_err(|_| "is not a valid domain name".to_string())?;
    if ascii.len() > 253 {
        return Err("must be at most 253 characters".into());
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err("must have at least two labels, such as example.com".into());
    }
    for label in &labels {
        let valid = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            return Err(format!("has an invalid label {label:?}"));
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a domain name, not an IP address".into());
    }
    Ok(ascii)
}

/// The domain of an email address (what follows the last `@`), normalized.
pub fn of_email(address: &str) -> Option<String> {
    let (_, domain) = address.rsplit_once('@')?;
    normalize(domain).ok()
}

/// Does a published TXT record (its strings joined, RFC 7208 3.3) carry
/// `token`? Surrounding spaces and quotes that DNS consoles add are ignored.
/// (The token is public once published, so a plain comparison will do.)
pub fn record_matches(record: &str, token: &str) -> bool {
    !token.is_empty() && record.trim().trim_matches('"').trim() == token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized() {
        assert_eq!(normalize("Example.COM").unwrap(), "example.com");
        assert_eq!(normalize(" example.com. ").unwrap(), "example.com");
        assert_eq!(
            normalize("Bücher.Example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            normalize("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(normalize("mail.eu.acme.io").unwrap(), "mail.eu.acme.io");
        // Fullwidth characters map to ASCII (UTS 46).
        assert_eq!(normalize("ｅｘａｍｐｌｅ.com").unwrap(), "example.com");
    }

    #[test]
    fn what_is_not_a_domain_is_refused() {
        for bad in [
            "",
            " ",
            "com",
            "localhost",
            "127.0.0.1",
            "*.example.com",
            "exa mple.com",
            "-example.com",
            "example-.com",
            "example..com",
            "user@example.com",
            "https://example.com",
            "example.com/path",
            "under_score.example",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(normalize(&long).is_err());
        let too_long = format!("{}com", "abcdefghi.".repeat(26));
        assert!(normalize(&too_long).is_err());
    }

    #[test]
    fn email_domains() {
        assert_eq!(of_email("Jane@Example.com").as_deref(), Some("example.com"));
        assert_eq!(
            of_email("a@b@bücher.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(of_email("nobody"), None);
    }

    #[test]
    fn tokens_and_records() {
        let t = new_token();
        assert!(t.starts_with(TOKEN_PREFIX));
        assert!(Uuid::parse_str(&t[TOKEN_PREFIX.len()..]).is_ok());
        assert_ne!(t, new_token());
        assert!(record_matches(&t, &t));
        assert!(record_matches(&format!(" \"{t}\" "), &t));
        assert!(!record_matches(&format!("{t}x"), &t));
        assert!(!record_matches("v=spf1 -all", &t));
        assert!(!record_matches("", ""));
    }
}
