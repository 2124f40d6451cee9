//! Who is calling, and on which tenant they act.

use uuid::Uuid;

use super::access::{permission_action, Access, ROOT_SCOPE};
use super::error::{Error, Result};
use super::permission::Permissions;
use super::scope::Scopes;

/// What authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A person, signed in: their user and session.
    User { id: Uuid, session: Uuid },
    /// A SCIM token: an identity provider's provisioning job.
    ScimToken { id: Uuid },
    /// An OAuth client acting as itself (client_credentials): the client
    /// and the grant its token belongs to (a client's "session").
    Client { id: Uuid, grant: Uuid },
}

impl Subject {
    /// The id of the user or token, for logs (not the email: logs keep no
    /// personal data they do not need).
    pub fn id(&self) -> Uuid {
        match *self {
            Subject::User { id, .. } | Subject::ScimToken { id } | Subject::Client { id, .. } => id,
        }
    }
}

/// An authenticated caller, resolved on every request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: Subject,
    /// An email for users, a name for tokens: what the audit log shows.
    pub label: String,
    pub home_tenant: Uuid,
    pub platform_admin: bool,
    /// What the caller may do where (`domain::access`), resolved at
    /// request time from policies, groups and roles, so that a change
    /// applies to the next request.
    pub access: Access,
    /// The native permissions `access` holds on the whole tenant.
    pub permissions: Permissions,
    /// The OAuth scopes the credential carries (see `Scopes`).
    pub scopes: Scopes,
}

/// A principal acting on one tenant: its own, or for a platform
/// administrator the one named by X-Tenant-ID.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub tenant_id: Uuid,
}

impl Caller {
    /// A native permission is the IAM action of the same name on the
    /// whole tenant (`user:read` is `iam.user.read` on `/`): the same
    /// question as `may`.
    pub fn require(&self, permission: &str) -> Result<()> {
        if self.may(&permission_action(permission), ROOT_SCOPE) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "This action requires the {permission} permission"
            )))
        }
    }

    /// May the caller do `action` on `scope`? The one authorization
    /// question (`domain::access`).
    pub fn may(&self, action: &str, scope: &str) -> bool {
        self.principal.platform_admin || self.principal.access.may(action, scope)
    }

    /// `may`, or 403 naming what is missing.
    pub fn require_action(&self, action: &str, scope: &str) -> Result<()> {
        if self.may(action, scope) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "This action requires {action} on {scope}"
            )))
        }
    }

    /// The credential must carry `scope` (RFC 6750 insufficient_scope).
    pub fn require_scope(&self, scope: &str) -> Result<()> {
        if self.principal.scopes.allows(scope) {
            Ok(())
        } else {
            Err(Error::InsufficientScope(scope.to_string()))
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

    /// The signed-in user and their session, for what only a person has
    /// (their profile, their sessions).
    pub fn session(&self) -> Result<(Uuid, Uuid)> {
        match self.principal.subject {
            Subject::User { id, session } => Ok((id, session)),
            Subject::ScimToken { .. } | Subject::Client { .. } => Err(Error::Forbidden(
                "This endpoint is for signed-in users".into(),
            )),
        }
    }

    /// Is the caller this user?
    pub fn is_user(&self, user_id: Uuid) -> bool {
        matches!(self.principal.subject, Subject::User { id, .. } if id == user_id)
    }

    /// Provisioning clients (SCIM tokens) manage every user of their
    /// tenant but platform administrators: the identity provider is the
    /// source of truth for who exists and who is active.
    pub fn is_provisioner(&self) -> bool {
        matches!(self.principal.subject, Subject::ScimToken { .. })
    }
}
