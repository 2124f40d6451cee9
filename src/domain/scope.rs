//! OAuth scopes (RFC 6749 3.3; docs/api/iam.md): the catalogue a
//! client may be granted scopes from, scope sets as OAuth spells them, and
//! what a caller's credential lets it reach.

use std::collections::BTreeSet;

/// What every operation of the Aritma IAM API requires (docs/api/iam.md).
pub const SERVICES_IAM: &str = "services.iam";

/// A scope of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeInfo {
    pub name: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    /// OpenID Connect scopes are about a user: a client acting as itself
    /// (client_credentials) cannot request them.
    pub identity: bool,
}

pub const CATALOGUE: &[ScopeInfo] = &[
    ScopeInfo {
        name: SERVICES_IAM,
        display_name: "IAM API",
        description: "Call the IAM API (/core/iam/v1) with the caller's permissions",
        identity: false,
    },
    ScopeInfo {
        name: "openid",
        display_name: "OpenID",
        description: "Sign the user in and issue an ID token",
        identity: true,
    },
    ScopeInfo {
        name: "profile",
        display_name: "Profile",
        description: "The user's name",
        identity: true,
    },
    ScopeInfo {
        name: "email",
        display_name: "Email",
        description: "The user's email address and whether it is verified",
        identity: true,
    },
    ScopeInfo {
        name: "phone",
        display_name: "Phone",
        description: "The user's phone number",
        identity: true,
    },
    ScopeInfo {
        name: "offline_access",
        display_name: "Offline access",
        description: "A refresh token, to act while the user is away",
        identity: true,
    },
];

pub fn find(name: &str) -> Option<&'static ScopeInfo> {
    CATALOGUE.iter().find(|s| s.name == name)
}

/// A set of scope names. Written as OAuth does: space-separated,
/// case-sensitive, order and repetition meaningless (RFC 6749 3.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// Parses a `scope` parameter. Only the syntax is checked here; whether
    /// the scopes exist or are allowed is the caller's question.
    pub fn parse(text: &str) -> Result<ScopeSet, String> {
        let mut set = BTreeSet::new();
        for token in text.split(' ').filter(|t| !t.is_empty()) {
            // scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
            if !token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
            {
                return Err(format!("{token:?} is not a valid scope"));
            }
            set.insert(token.to_string());
        }
        Ok(ScopeSet(set))
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes of this set that `other` lacks.
    pub fn missing_from(&self, other: &ScopeSet) -> Vec<String> {
        self.0.difference(&other.0).cloned().collect()
    }

    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.intersection(&other.0).cloned().collect())
    }

    /// The scopes a client can hold without a user (not OpenID ones).
    pub fn without_identity(&self) -> ScopeSet {
        ScopeSet(
            self.0
                .iter()
                .filter(|s| find(s).is_some_and(|info| !info.identity))
                .cloned()
                .collect(),
        )
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let joined: Vec<&str> = self.iter().collect();
        f.write_str(&joined.join(" "))
    }
}

impl FromIterator<String> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().collect())
    }
}

/// Scopes from the catalogue, duplicates dropped, in the order given.
pub fn validate_scopes(scopes: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for s in scopes {
        if find(s).is_none() {
            let names: Vec<&str> = CATALOGUE.iter().map(|s| s.name).collect();
            return Err(format!(
                "{s:?} is not a known scope (one of {})",
                names.join(", ")
            ));
        }
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    Ok(out)
}

/// What a caller's credential reaches. A first-party sign-in (the session
/// token of `/api/v1/auth/login`) is the user acting in person: it carries
/// every scope, and the user's permissions alone limit it. A token issued
/// through OAuth carries the scopes granted to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scopes {
    All,
    Granted(ScopeSet),
}

impl Scopes {
    pub fn none() -> Scopes {
        Scopes::Granted(ScopeSet::default())
    }

    pub fn allows(&self, scope: &str) -> bool {
        match self {
            Scopes::All => true,
            Scopes::Granted(set) => set.contains(scope),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc_6749_scope_syntax() {
        let s = ScopeSet::parse("services.iam  openid services.iam").unwrap();
        assert_eq!(s.to_string(), "openid services.iam");
        assert!(ScopeSet::parse("").unwrap().is_empty());
        assert!(ScopeSet::parse("a\"b").is_err());
        assert!(ScopeSet::parse("a\\b").is_err());
        assert!(ScopeSet::parse("é").is_err());
        assert!(ScopeSet::parse("a\tb").is_err());
        assert_eq!(
            s.without_identity().to_string(),
            "services.iam",
            "openid needs a user"
        );
    }

    #[test]
    fn catalogue_checks() {
        assert_eq!(
            validate_scopes(&["openid".into(), "services.iam".into(), "openid".into()]).unwrap(),
            ["openid", "services.iam"]
        );
        assert!(validate_scopes(&["admin".into()]).is_err());
        assert!(Scopes::All.allows(SERVICES_IAM));
        assert!(!Scopes::none().allows(SERVICES_IAM));
    }
}
