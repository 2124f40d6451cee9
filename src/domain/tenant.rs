//! Tenants: the isolation boundary. Everything else belongs to one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::list::{PageRequest, SortOrder};
use super::settings::TenantSettings;

/// The slug of the tenant created on first start.
pub const DEFAULT_TENANT_SLUG: &str = "default";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Pro,
    Enterprise,
}

impl Plan {
    pub const ALL: [Plan; 3] = [Plan::Free, Plan::Pro, Plan::Enterprise];

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        }
    }

    pub fn parse(s: &str) -> Result<Plan, String> {
        Plan::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| "must be one of free, pro, enterprise".to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Result<TenantStatus, String> {
        match s {
            "active" => Ok(TenantStatus::Active),
            "suspended" => Ok(TenantStatus::Suspended),
            _ => Err("must be one of active, suspended".to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub plan: Plan,
    pub status: TenantStatus,
    pub rate_limit_per_minute: Option<i32>,
    pub settings: TenantSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Tenant {
    /// Requests a minute this tenant may make (docs/api/ithbat.md, Rate limits
    /// and probes): free 100, pro 1,000, enterprise as set for the tenant
    /// (10,000 until set). A custom limit set by a platform administrator wins
    /// on any plan.
    pub fn effective_rate_limit(&self) -> u32 {
        if let Some(custom) = self.rate_limit_per_minute {
            return custom.max(1) as u32;
        }
        match self.plan {
            Plan::Free => 100,
            Plan::Pro => 1_000,
            Plan::Enterprise => 10_000,
        }
    }
}

/// Tenant names: 1 to 200 characters, no control characters.
pub fn validate_name(name: &str) -> Result<String, String> {
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

/// Slugs: 2 to 63 lowercase letters, digits and hyphens, starting and ending
/// with a letter or digit (a DNS label, since a slug may become a subdomain).
/// A slug never reads as a UUID, so that `TenantRef` cannot mistake one
/// for a tenant id.
pub fn validate_slug(slug: &str) -> Result<String, String> {
    let ok_len = (2..=63).contains(&slug.len());
    let ok_chars = slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_ends = !slug.starts_with('-') && !slug.ends_with('-');
    if !(ok_len && ok_chars && ok_ends) {
        return Err("must be 2 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen".into());
    }
    if Uuid::parse_str(slug).is_ok() {
        return Err("must not have the form of a UUID (tenant ids have it)".into());
    }
    Ok(slug.to_string())
}

/// How a request names a tenant (`X-Tenant-ID`, the command line's
/// `--tenant`): by its id or by its slug. Text that reads as a UUID is an
/// id; slugs never do (`validate_slug`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantRef {
    Id(Uuid),
    Slug(String),
}

impl TenantRef {
    pub fn parse(text: &str) -> Result<TenantRef, String> {
        let text = text.trim();
        if let Ok(id) = Uuid::parse_str(text) {
            return Ok(TenantRef::Id(id));
        }
        validate_slug(text)
            .map(TenantRef::Slug)
            .map_err(|_| "must be a tenant id (UUID) or slug".to_string())
    }

    /// Does it name `tenant`?
    pub fn names(&self, tenant: &Tenant) -> bool {
        match self {
            TenantRef::Id(id) => *id == tenant.id,
            TenantRef::Slug(slug) => *slug == tenant.slug,
        }
    }
}

impl std::fmt::Display for TenantRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TenantRef::Id(id) => write!(f, "{id}"),
            TenantRef::Slug(slug) => f.write_str(slug),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantSort {
    Name,
    Slug,
    Plan,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct TenantQuery {
    pub search: Option<String>,
    pub plan: Option<Plan>,
    pub status: Option<TenantStatus>,
    pub sort: Option<(TenantSort, SortOrder)>,
    pub page: PageRequest,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(validate_slug("default").is_ok());
        assert!(validate_slug("acme-2").is_ok());
        assert!(validate_slug("a").is_err());
        assert!(validate_slug("-acme").is_err());
        assert!(validate_slug("Acme").is_err());
        assert!(validate_slug("acme_corp").is_err());
        assert!(validate_slug(&"a".repeat(64)).is_err());
        // Both forms a UUID parses from, which X-Tenant-ID reads as ids.
        assert!(validate_slug("0190d4c2-7b1e-7c3a-9f00-1234567890ab").is_err());
        assert!(validate_slug("0190d4c27b1e7c3a9f001234567890ab").is_err());
    }

    /// X-Tenant-ID and `--tenant` take an id or a slug; anything else is
    /// refused whatever tenants exist.
    #[test]
    fn tenant_refs() {
        let id = Uuid::now_v7();
        assert_eq!(TenantRef::parse(&id.to_string()), Ok(TenantRef::Id(id)));
        assert_eq!(
            TenantRef::parse(&format!(" {} ", id.simple())),
            Ok(TenantRef::Id(id))
        );
        assert_eq!(
            TenantRef::parse("acme-2"),
            Ok(TenantRef::Slug("acme-2".into()))
        );
        for bad in ["", "a", "Acme", "acme_corp", "-acme", "acme corp", "ac/me"] {
            assert!(TenantRef::parse(bad).is_err(), "{bad:?}");
        }
        let tenant = Tenant {
            id,
            name: "Acme".into(),
            slug: "acme".into(),
            plan: Plan::Free,
            status: TenantStatus::Active,
            rate_limit_per_minute: None,
            settings: TenantSettings::default(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert!(TenantRef::Id(id).names(&tenant));
        assert!(TenantRef::Slug("acme".into()).names(&tenant));
        assert!(!TenantRef::Slug("acme-2".into()).names(&tenant));
        assert!(!TenantRef::Id(Uuid::now_v7()).names(&tenant));
    }

    #[test]
    fn plans_round_trip() {
        for p in Plan::ALL {
            assert_eq!(Plan::parse(p.as_str()), Ok(p));
        }
        assert!(Plan::parse("growth").is_err());
    }
}
