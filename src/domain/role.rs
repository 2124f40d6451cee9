//! Roles: named bundles of permissions, assigned to users.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::access::{role_grants, Access};
use super::list::{PageRequest, SortOrder};
use super::permission::{catalogue, BuiltinRole, Permissions};

#[derive(Debug, Clone)]
pub struct Role {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub description: String,
    /// Set for the roles every tenant is created with.
    pub builtin: Option<BuiltinRole>,
    /// As stored; see `effective_permissions`.
    pub permissions: Vec<String>,
    pub user_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Role {
    /// What holding this role grants: the stored permissions, or every
    /// permission for a role whose permissions are fixed (owner).
    pub fn effective_permissions(&self) -> Permissions {
        if self.builtin.is_some_and(BuiltinRole::is_fixed) {
            Permissions::all()
        } else {
            self.permissions.iter().cloned().collect()
        }
    }
}

impl Role {
    /// What holding this role on `scope` grants.
    pub fn grants(&self, scope: &str) -> Access {
        role_grants(
            &self.name,
            self.builtin.is_some_and(BuiltinRole::is_fixed),
            &self.permissions,
            scope,
        )
    }
}

/// Role names: 1 to 100 characters, no control characters.
pub fn validate_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(name.to_string())
}

pub fn validate_description(description: &str) -> Result<String, String> {
    if description.chars().count() > 1000 {
        return Err("must be at most 1000 characters".into());
    }
    if description.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must not contain control characters".into());
    }
    Ok(description.trim().to_string())
}

/// Permissions must come from the catalogue; duplicates are dropped and the
/// list is sorted.
pub fn validate_permissions(permissions: &[String]) -> Result<Vec<String>, String> {
    let known = catalogue();
    let unknown: Vec<&str> = permissions
        .iter()
        .filter(|p| !known.contains(p))
        .map(|p| p.as_str())
        .collect();
    if !unknown.is_empty() {
        return Err(format!("unknown permission(s): {}", unknown.join(", ")));
    }
    let mut list = permissions.to_vec();
    list.sort();
    list.dedup();
    Ok(list)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleSort {
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct RoleQuery {
    pub search: Option<String>,
    pub sort: Option<(RoleSort, SortOrder)>,
    pub page: PageRequest,
}

/// One role a user holds, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub role_id: Uuid,
    pub role_name: String,
    pub builtin: Option<BuiltinRole>,
    pub scope: String,
}

impl Assignment {
    /// Which of several roles an account shows as its `role_name`: owner,
    /// admin, custom roles by name, then member; wider scopes first.
    pub fn rank(&self) -> (u8, String, usize) {
        let tier = match self.builtin {
            Some(BuiltinRole::Owner) => 0,
            Some(BuiltinRole::Admin) => 1,
            None => 2,
            Some(BuiltinRole::Member) => 3,
        };
        (tier, self.role_name.to_lowercase(), self.scope.len())
    }
}

/// A user's role names and the union of their roles' permissions.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    pub role_names: Vec<String>,
    pub permissions: Permissions,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_checked_against_the_catalogue() {
        let ok =
            validate_permissions(&["user:write".into(), "user:read".into(), "user:read".into()])
                .unwrap();
        assert_eq!(ok, ["user:read", "user:write"]);
        let err = validate_permissions(&["user:read".into(), "user:fly".into()]).unwrap_err();
        assert!(err.contains("user:fly"));
    }
}
