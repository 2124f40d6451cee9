//! The permission catalogue (docs/design/authorization.md: `resource:read` /
//! `resource:write`, where write includes delete) and the built-in roles.

use std::collections::BTreeSet;

/// Resources that carry a read and a write permission.
pub const RESOURCES: &[&str] = &[
    "user",
    "role",
    "group",
    "audit",
    "tenant",
    "settings",
    "client",
    "scim",
    "domain",
    "policy",
    "organization",
];

/// Every permission a role can hold. `audit` is read-only: the log cannot be
/// changed through any endpoint.
pub fn catalogue() -> Vec<String> {
    RESOURCES
        .iter()
        .flat_map(|r| {
            let write = (*r != "audit").then(|| format!("{r}:write"));
            std::iter::once(format!("{r}:read")).chain(write)
        })
        .collect()
}

pub fn is_known(permission: &str) -> bool {
    catalogue().iter().any(|p| p == permission)
}

/// A resolved set of permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions(BTreeSet<String>);

impl Permissions {
    pub fn all() -> Self {
        Permissions(catalogue().into_iter().collect())
    }

    pub fn has(&self, permission: &str) -> bool {
        self.0.contains(permission)
    }

    /// Does this set hold every permission of `other`?
    pub fn contains_all(&self, other: &Permissions) -> bool {
        other.0.is_subset(&self.0)
    }

    /// The permissions of `other` this set lacks.
    pub fn missing(&self, other: &Permissions) -> Vec<String> {
        other.0.difference(&self.0).cloned().collect()
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }
}

impl FromIterator<String> for Permissions {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        Permissions(iter.into_iter().collect())
    }
}

/// The roles every tenant is created with. They cannot be deleted or renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinRole {
    /// Everything, including deleting the tenant; fixed, so that a tenant
    /// can never lock its owners out.
    Owner,
    /// Everything but tenant changes and deletion.
    Admin,
    /// Self-service only.
    Member,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 3] = [BuiltinRole::Owner, BuiltinRole::Admin, BuiltinRole::Member];

    pub fn key(self) -> &'static str {
        match self {
            BuiltinRole::Owner => "owner",
            BuiltinRole::Admin => "admin",
            BuiltinRole::Member => "member",
        }
    }

    pub fn parse(key: &str) -> Option<BuiltinRole> {
        BuiltinRole::ALL.into_iter().find(|r| r.key() == key)
    }

    pub fn description(self) -> &'static str {
        match self {
            BuiltinRole::Owner => "Full control of the tenant, including its deletion",
            BuiltinRole::Admin => {
                "Manages users, roles, groups and settings; cannot change or delete the tenant"
            }
            BuiltinRole::Member => "Self-service: own profile and sessions",
        }
    }

    /// The permissions a tenant starts with for this role. Owner's are also
    /// its permanent ones (see `is_fixed`).
    pub fn initial_permissions(self) -> Vec<String> {
        match self {
            BuiltinRole::Owner => catalogue(),
            BuiltinRole::Admin => catalogue()
                .into_iter()
                .filter(|p| p != "tenant:write")
                .collect(),
            BuiltinRole::Member => Vec::new(),
        }
    }

    /// Owner always holds every permission, whatever is stored.
    pub fn is_fixed(self) -> bool {
        self == BuiltinRole::Owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_shape() {
        let c = catalogue();
        assert!(c.contains(&"user:read".to_string()));
        assert!(c.contains(&"audit:read".to_string()));
        assert!(!c.contains(&"audit:write".to_string()));
        assert_eq!(c.len(), RESOURCES.len() * 2 - 1);
        assert!(BuiltinRole::Admin
            .initial_permissions()
            .iter()
            .all(|p| p != "tenant:write"));
        assert!(BuiltinRole::Admin
            .initial_permissions()
            .contains(&"tenant:read".to_string()));
        assert!(BuiltinRole::Member.initial_permissions().is_empty());
    }
}
