//! Who is calling, and on which tenant they act.

use uuid::Uuid;

use super::error::{Error, Result};
use super::permission::Permissions;

/// An authenticated user, resolved from an access token on every request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub home_tenant: Uuid,
    pub session_id: Uuid,
    pub email: String,
    pub platform_admin: bool,
    /// Resolved from the user's roles at request time, so a role change
    /// applies to the next request.
    pub permissions: Permissions,
}

/// A principal acting on one tenant: its own, or for a platform
/// administrator the one named by X-Tenant-ID.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub tenant_id: Uuid,
}

impl Caller {
    pub fn require(&self, permission: &str) -> Result<()> {
        if self.principal.platform_admin || self.principal.permissions.has(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "This action requires the {permission} permission"
            )))
        }
    }

    pub fn require_platform_admin(&self) -> Result<()> {
        if self.principal.platform_admin {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "This action is reserved to platform administrators".into(),
            ))
        }
    }

    /// No one grants what they do not hold: a role holding permissions the
    /// caller lacks can be neither written nor assigned by them, and a user
    /// holding such permissions cannot be managed by them. Platform
    /// administrators hold everything.
    pub fn require_superset(&self, permissions: &Permissions, what: &str) -> Result<()> {
        if self.principal.platform_admin || self.principal.permissions.contains_all(permissions) {
            return Ok(());
        }
        let missing = self.principal.permissions.missing(permissions);
        Err(Error::Forbidden(format!(
            "You cannot {what}: it involves permissions you do not hold ({})",
            missing.join(", ")
        )))
    }

    pub fn user_id(&self) -> Uuid {
        self.principal.user_id
    }
}
