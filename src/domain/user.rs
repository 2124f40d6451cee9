//! Users: one row whichever dialect (native, JSON:API, SCIM) shows it.

use super::filter::FilterSpec;
use super::list::{PageRequest, SortOrder};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Suspended,
    /// Invited, not yet joined.
    Pending,
}

impl UserStatus {
    pub const ALL: [UserStatus; 3] = [
        UserStatus::Active,
        UserStatus::Suspended,
        UserStatus::Pending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Suspended => "suspended",
            UserStatus::Pending => "pending",
        }
    }

    pub fn parse(s: &str) -> Result<UserStatus, String> {
        UserStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| "must be one of active, suspended, pending".to_string())
    }
}

/// A user's preferences (the `preferences` of `/api/v1/users/me`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Preferences {
    pub theme: String,
    pub language: String,
    pub timezone: String,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            theme: "light".into(),
            language: "en".into(),
            timezone: "UTC".into(),
        }
    }
}

/// The four name parts of the native API (MENA naming: first, father,
/// grandfather, family).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonName {
    pub first: String,
    pub father: String,
    pub grandfather: String,
    pub family: String,
}

impl PersonName {
    /// "First Family" (`Alice Smith`).
    pub fn display(&self) -> String {
        [self.first.as_str(), self.family.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A single `name`: first name, then the rest, split on the last
    /// space ("Jane van Smith" -> "Jane van" / "Smith"; one word -> first only).
    pub fn split_full(full: &str) -> (String, String) {
        let full = full.trim();
        match full.rsplit_once(' ') {
            Some((first, family)) => (first.trim().to_string(), family.trim().to_string()),
            None => (full.to_string(), String::new()),
        }
    }

    /// The single `name` as returned: all the parts that are set.
    pub fn full(&self) -> String {
        [&self.first, &self.father, &self.grandfather, &self.family]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The login name (SCIM userName); the email unless set otherwise.
    /// Signs in as the email does (docs/api/ithbat.md, Sign in).
    pub user_name: String,
    /// The provisioning client's id for this user (SCIM externalId).
    pub external_id: Option<String>,
    /// Bumped by every change (the SCIM ETag).
    pub version: i32,
    /// None for users provisioned without one (RFC 7643 4.1 requires only
    /// userName): they sign in by userName and get no mail.
    pub email: Option<String>,
    pub name: PersonName,
    pub phone_number: Option<String>,
    pub status: UserStatus,
    pub email_verified: bool,
    pub mfa_enabled: bool,
    pub is_platform_admin: bool,
    pub preferences: Preferences,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub external_ids: serde_json::Map<String, serde_json::Value>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the JSON:API dialect calls an account adds to a user.
    pub account: AccountFields,
}

impl User {
    /// How the audit log and messages name the user: the email, else the
    /// userName.
    pub fn label(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.user_name)
    }

    /// The address mail for this user goes to; NO_EMAIL_ADDRESS for a user
    /// without one.
    pub fn mail_address(&self) -> Result<&str, super::Error> {
        self.email.as_deref().ok_or(super::Error::NoEmailAddress)
    }

    /// The key of this account's sign-in throttle and lockout: one counter
    /// per account whichever identifier (email or userName) is typed.
    pub fn sign_in_key(&self) -> String {
        account_sign_in_key(self.id)
    }
}

/// The throttle key of the account `id` (`User::sign_in_key`).
pub fn account_sign_in_key(id: Uuid) -> String {
    format!("user:{id}")
}

/// The throttle key of a typed identifier that names no account, so that
/// unknown identifiers are counted (and locked) as accounts are.
pub fn unknown_sign_in_key(identifier: &str) -> String {
    format!("unknown:{}", email_key(identifier))
}

/// The JSON:API account attributes that other dialects do not show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFields {
    /// The organization (team inside the tenant) the account belongs to.
    pub organization_id: Option<Uuid>,
    pub picture_url: Option<String>,
    /// The SSO provider scheme the account signs in through, if any.
    pub sso_channel: Option<String>,
    /// When the account became usable by its owner: at creation with a
    /// password (or by provisioning), or on accepting the invitation.
    pub joined_at: Option<DateTime<Utc>>,
    /// While invited: when the invitation lapses.
    pub invitation_expires_at: Option<DateTime<Utc>>,
}

impl AccountFields {
    /// An account its owner can use from `at` on.
    pub fn joined(at: DateTime<Utc>) -> AccountFields {
        AccountFields {
            joined_at: Some(at),
            ..Default::default()
        }
    }
}

/// A parsed email address: `address` as given (trimmed), `key` normalised
/// for uniqueness and lookup (NFC, Unicode lowercase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub address: String,
    pub key: String,
}

/// Case- and normal-form-insensitive text: NFC, then Unicode lowercase.
/// Computed in Rust for every stored key and every search term, because
/// SQLite's lower() folds ASCII only.
pub fn fold(text: &str) -> String {
    text.nfc().collect::<String>().to_lowercase()
}

/// The lookup key of an email address. Used for login too, so that an
/// address typed in another case or normal form finds the same account.
pub fn email_key(address: &str) -> String {
    fold(address.trim())
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, String> {
        let address: String = input.trim().nfc().collect();
        crate::domain::text::check_identifier(&address)?;
        let bad = || Err("must be a valid email address".to_string());
        if address.is_empty() || address.chars().count() > 254 {
            return bad();
        }
        let Some((local, domain)) = address.rsplit_once('@') else {
            return bad();
        };
        let local_ok = !local.is_empty()
            && local.chars().count() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
        let domain_ok = !domain.is_empty()
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.chars().count() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return bad();
        }
        Ok(Email {
            key: email_key(&address),
            address,
        })
    }
}

/// What case-insensitive search matches a user on: the name parts and the
/// email, lowercased (Unicode) in Rust so that both backends agree.
pub fn search_key(name: &PersonName, email: Option<&str>) -> String {
    let joined = [&name.first, &name.father, &name.grandfather, &name.family]
        .iter()
        .map(|s| s.as_str())
        .chain(email)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    fold(&joined)
}

/// Largest serialized size of a user's metadata (docs/api/ithbat.md, Users).
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// The metadata merge of `PATCH /api/v1/users/{id}/metadata`: objects merge key
/// by key, recursively; a null value removes its key; anything else replaces
/// what was there.
pub fn merge_metadata(
    target: &mut serde_json::Map<String, serde_json::Value>,
    patch: serde_json::Map<String, serde_json::Value>,
) {
    use serde_json::Value;
    for (key, value) in patch {
        match value {
            Value::Null => {
                target.remove(&key);
            }
            Value::Object(inner) => match target.get_mut(&key) {
                Some(Value::Object(existing)) => merge_metadata(existing, inner),
                _ => {
                    let mut fresh = serde_json::Map::new();
                    merge_metadata(&mut fresh, inner);
                    target.insert(key, Value::Object(fresh));
                }
            },
            other => {
                target.insert(key, other);
            }
        }
    }
}

/// A user name (SCIM userName): 1 to 256 characters in the identifier
/// profile (`domain::text::check_identifier`).
pub fn validate_user_name(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > 256 {
        return Err("must be at most 256 characters".into());
    }
    crate::domain::text::check_identifier(value)?;
    Ok(value.to_string())
}

/// One value of a multi-valued attribute (SCIM emails, phoneNumbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiValue {
    pub value: String,
    pub kind: Option<String>,
    pub primary: bool,
    pub display: Option<String>,
}

/// SCIM's User attributes that have no native counterpart, and the
/// enterprise extension (RFC 7643 4.3).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub display_name: Option<String>,
    pub nick_name: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub preferred_language: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub profile_url: Option<String>,
    pub employee_number: Option<String>,
    pub cost_center: Option<String>,
    pub organization: Option<String>,
    pub division: Option<String>,
    pub department: Option<String>,
    pub manager_id: Option<Uuid>,
    /// SCIM addresses, kept as given.
    pub addresses: Option<serde_json::Value>,
    /// The SCIM attributes stored as sent without being interpreted: an
    /// object of `ims`, `photos`, `entitlements`, `roles`,
    /// `x509Certificates` (arrays of values) and `name` (the name parts
    /// not kept in the users row). SCIM `roles` and `entitlements` grant
    /// nothing here.
    pub other: Option<serde_json::Value>,
    pub emails: Vec<MultiValue>,
    pub phone_numbers: Vec<MultiValue>,
}

/// A name part: at most 100 characters, no control characters; `required`
/// parts must not be blank.
pub fn validate_name_part(value: &str, required: bool) -> Result<String, String> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(value.to_string())
}

/// E.164-ish phone numbers: an optional +, then 4 to 20 digits, spaces or dashes.
pub fn validate_phone(value: &str) -> Result<String, String> {
    let value = value.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let body = value.strip_prefix('+').unwrap_or(value);
    if (4..=20).contains(&digits)
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        Ok(value.to_string())
    } else {
        Err("must be a phone number such as +966501234567".into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
    Email,
    UserName,
    ExternalId,
    FirstName,
    FamilyName,
    Status,
    /// The full name, without regard to case (JSON:API `name`).
    Name,
    /// Suspended last (JSON:API `enabled`, descending: enabled first).
    Enabled,
    SsoChannel,
    JoinedAt,
    InvitationExpiresAt,
}

#[derive(Clone, Default)]
pub struct UserQuery<'a> {
    /// Case-insensitive substring of the names or the email.
    pub search: Option<String>,
    pub status: Option<UserStatus>,
    pub role_id: Option<Uuid>,
    pub filter: Option<FilterSpec<'a>>,
    /// Sort keys in order; `id` breaks ties. Empty: by creation.
    pub sort: Vec<(UserSort, SortOrder)>,
    pub page: PageRequest,
    /// Leave the total uncounted (see `Listing::total`).
    pub skip_count: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_parsing() {
        assert_eq!(
            Email::parse(" Alice@Example.com ").unwrap().key,
            "alice@example.com"
        );
        assert_eq!(
            Email::parse("admin@localhost").unwrap().address,
            "admin@localhost"
        );
        let arabic = Email::parse("مستخدم@مثال.السعودية").unwrap();
        assert_eq!(arabic.key, "مستخدم@مثال.السعودية");
        assert_eq!(
            Email::parse("ÄLICE@Bücher.DE").unwrap().key,
            "älice@bücher.de"
        );
        // NFC: a decomposed "é" and a precomposed one are the same key.
        assert_eq!(
            Email::parse("e\u{301}@x.io").unwrap().key,
            Email::parse("\u{e9}@x.io").unwrap().key
        );
        for bad in [
            "",
            "plain",
            "@x.io",
            "a@",
            "a b@x.io",
            "a@x..io",
            "a@-x.io",
            ".a@x.io",
            "a\u{7}@x.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Email::parse(&format!("{}@x.io", "a".repeat(65))).is_err());
    }

    #[test]
    fn names() {
        let n = PersonName {
            first: "Alice".into(),
            family: "Smith".into(),
            ..Default::default()
        };
        assert_eq!(n.display(), "Alice Smith");
        assert_eq!(
            PersonName::split_full("John Updated Doe"),
            ("John Updated".into(), "Doe".into())
        );
        assert_eq!(PersonName::split_full("Cher"), ("Cher".into(), "".into()));
        assert!(validate_name_part("  ", true).is_err());
        assert!(validate_name_part("", false).is_ok());
        assert!(validate_name_part(&"x".repeat(101), false).is_err());
    }

    #[test]
    fn metadata_merges_deeply_and_null_removes() {
        let mut m = serde_json::json!({ "a": 1, "b": { "c": 2, "d": 3 }, "e": [1] })
            .as_object()
            .unwrap()
            .clone();
        let patch = serde_json::json!({ "a": null, "b": { "c": null, "x": { "y": null, "z": 1 } }, "e": { "f": 1 }, "g": "new" });
        merge_metadata(&mut m, patch.as_object().unwrap().clone());
        assert_eq!(
            serde_json::Value::Object(m),
            serde_json::json!({ "b": { "d": 3, "x": { "z": 1 } }, "e": { "f": 1 }, "g": "new" })
        );
    }

    #[test]
    fn phones() {
        assert!(validate_phone("+1234567890").is_ok());
        assert!(validate_phone("+966 50 123 4567").is_ok());
        assert!(validate_phone("call me").is_err());
        assert!(validate_phone("+12").is_err());
    }
}
