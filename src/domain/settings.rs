//! Per-tenant settings with documented defaults. Stored as JSON on the tenant
//! row; keys missing from storage take the defaults, so new settings need no
//! data migration.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TenantSettings {
    pub password_policy: PasswordPolicy,
    pub lockout: LockoutPolicy,
    pub sessions: SessionPolicy,
    /// Refuse sign-in (ACCOUNT_NOT_VERIFIED) until the email is verified.
    pub require_email_verification: bool,
    /// Let anyone create an account with `POST /auth/register`.
    pub allow_registration: bool,
    /// Where invitations may lead once accepted (`domain::redirect`).
    pub redirect_urls: Vec<String>,
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            password_policy: PasswordPolicy::default(),
            lockout: LockoutPolicy::default(),
            sessions: SessionPolicy::default(),
            require_email_verification: true,
            allow_registration: true,
            redirect_urls: Vec::new(),
        }
    }
}

/// A tenant's password policy. The default (docs/api/ithbat.md, Audit log
/// and settings): at least 8 characters with an uppercase letter, a
/// lowercase letter, a digit and a special character.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_digit: bool,
    pub require_special: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_digit: true,
            require_special: true,
        }
    }
}

/// Longest password accepted, whatever the policy: argon2 takes any length,
/// but a bound keeps request handling predictable.
pub const MAX_PASSWORD_CHARS: usize = 256;

impl PasswordPolicy {
    /// The length rules alone, for passwords an identity provider sets
    /// over SCIM: its own policy chose them (Okta generates eight lower-case
    /// letters and digits), and refusing them would stop provisioning.
    pub fn check_length(&self, password: &str) -> Result<(), String> {
        PasswordPolicy {
            require_uppercase: false,
            require_lowercase: false,
            require_digit: false,
            require_special: false,
            ..self.clone()
        }
        .check(password)
    }

    /// Every rule the password breaks, as one message, or Ok.
    pub fn check(&self, password: &str) -> Result<(), String> {
        let mut unmet = Vec::new();
        let len = password.chars().count();
        if len < self.min_length as usize {
            unmet.push(format!("at least {} characters", self.min_length));
        }
        if len > MAX_PASSWORD_CHARS {
            unmet.push(format!("at most {MAX_PASSWORD_CHARS} characters"));
        }
        if self.require_uppercase && !password.chars().any(char::is_uppercase) {
            unmet.push("an uppercase letter".to_string());
        }
        if self.require_lowercase && !password.chars().any(char::is_lowercase) {
            unmet.push("a lowercase letter".to_string());
        }
        if self.require_digit && !password.chars().any(|c| c.is_ascii_digit()) {
            unmet.push("a digit".to_string());
        }
        if self.require_special
            && !password
                .chars()
                .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
        {
            unmet.push("a special character".to_string());
        }
        if unmet.is_empty() {
            Ok(())
        } else {
            Err(format!("must contain {}", unmet.join(", ")))
        }
    }
}

/// After `max_failed_attempts` failures within `window_minutes` the account
/// is locked for `lock_minutes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LockoutPolicy {
    pub max_failed_attempts: u32,
    pub window_minutes: u32,
    pub lock_minutes: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failed_attempts: 5,
            window_minutes: 15,
            lock_minutes: 15,
        }
    }
}

/// How long a sign-in lasts before the user must sign in again, whatever
/// refreshes happen: `lifetime_minutes` normally, `remember_me_days` when the
/// login asked for rememberMe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionPolicy {
    pub lifetime_minutes: u32,
    pub remember_me_days: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            lifetime_minutes: 24 * 60,
            remember_me_days: 30,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_seed_002() {
        let p = PasswordPolicy::default();
        assert!(p.check("Str0ng!pass").is_ok());
        assert!(p.check("short1!").is_err());
        assert!(p.check("alllowercase1!").is_err());
        assert!(p.check("ALLUPPERCASE1!").is_err());
        assert!(p.check("NoDigits!here").is_err());
        assert!(p.check("NoSpecial1here").is_err());
        let msg = p.check("abc").unwrap_err();
        assert!(
            msg.contains("8 characters") && msg.contains("uppercase"),
            "{msg}"
        );
    }

    #[test]
    fn missing_keys_take_defaults() {
        let s: TenantSettings =
            serde_json::from_str(r#"{"lockout":{"maxFailedAttempts":3}}"#).unwrap();
        assert_eq!(s.lockout.max_failed_attempts, 3);
        assert_eq!(s.lockout.lock_minutes, 15);
        assert!(s.require_email_verification);
    }
}
