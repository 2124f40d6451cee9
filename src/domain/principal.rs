//! Who is calling, and on which tenant they act.

use uuid::Uuid;

use super::access::{permission_action, Access, Grant, ROOT_SCOPE};
use super::audit::Actor;
use super::denial::{Denial, DenialLog};
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
    /// The operator at the command line (`ithbat tenants ...`): whoever
    /// holds the database's credentials, and with them everything. Never
    /// the subject of an HTTP request.
    Operator,
}

impl Subject {
    /// The id of the user, token or client, for logs and `created_by`
    /// columns (not the email: logs keep no personal data they do not
    /// need); the operator has none.
    pub fn id(&self) -> Option<Uuid> {
        match *self {
            Subject::User { id, .. } | Subject::ScimToken { id } | Subject::Client { id, .. } => {
                Some(id)
            }
            Subject::Operator => None,
        }
    }
}

/// For logs: the kind and id, never a name or an email.
impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::User { id, .. } => write!(f, "user {id}"),
            Subject::ScimToken { id } => write!(f, "SCIM token {id}"),
            Subject::Client { id, .. } => write!(f, "client {id}"),
            Subject::Operator => f.write_str("the operator (command line)"),
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

impl Principal {
    /// The operator at the command line, at home in `platform_tenant` (the
    /// tenant of the platform administrators, whose log records what is
    /// done to tenants): a platform administrator holding everything.
    pub fn operator(platform_tenant: Uuid) -> Principal {
        let access = Access::everything();
        Principal {
            subject: Subject::Operator,
            label: OPERATOR_LABEL.into(),
            home_tenant: platform_tenant,
            platform_admin: true,
            permissions: access.permissions(),
            access,
            scopes: Scopes::All,
        }
    }
}

/// How audit events and logs name the operator at the command line.
pub const OPERATOR_LABEL: &str = "cli";

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
        if self.has(permission) {
            Ok(())
        } else {
            Err(self.deny(
                None,
                vec![permission.to_string()],
                format!("This action requires the {permission} permission"),
            ))
        }
    }

    /// Does the caller hold a native permission? For what a response
    /// shows, not for refusing (that is `require`, which audits).
    pub fn has(&self, permission: &str) -> bool {
        self.may(&permission_action(permission), ROOT_SCOPE)
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
            let grant = Grant::new(action, scope);
            Err(self.deny(
                None,
                vec![grant.to_string()],
                format!("This action requires {grant}"),
            ))
        }
    }

    /// The rule against escalation: no one hands out, changes or uses
    /// what they do not hold. `needed` is what the operation would put in
    /// someone's hands (a role's grants where it is assigned, a policy, a
    /// group's grants for its new member) or what the subject being
    /// managed holds (every grant, through roles on any scope, policies
    /// and groups). The caller must hold each of them (`Access::lacks`);
    /// platform administrators hold everything.
    pub fn require_holds(
        &self,
        needed: &Access,
        target: (&'static str, String),
        what: &str,
    ) -> Result<()> {
        if self.principal.platform_admin {
            return Ok(());
        }
        let missing: Vec<String> = self
            .principal
            .access
            .lacks(needed)
            .iter()
            .map(ToString::to_string)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let message = format!(
            "You cannot {what}: it involves permissions you do not hold ({})",
            missing.join(", ")
        );
        Err(self.deny(Some(target), missing, message))
    }

    /// A refusal: 403, noted for the audit log (`authz.denied`).
    fn deny(
        &self,
        target: Option<(&'static str, String)>,
        missing: Vec<String>,
        reason: String,
    ) -> Error {
        DenialLog::note(Denial {
            tenant_id: self.tenant_id,
            actor: Actor::from(self),
            target,
            missing,
            reason: reason.clone(),
        });
        Error::Forbidden(reason)
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
            Err(self.deny(
                None,
                vec!["platform administrator".into()],
                "This action is reserved to platform administrators".into(),
            ))
        }
    }

    /// The signed-in user and their session, for what only a person has
    /// (their profile, their sessions).
    pub fn session(&self) -> Result<(Uuid, Uuid)> {
        match self.principal.subject {
            Subject::User { id, session } => Ok((id, session)),
            Subject::ScimToken { .. } | Subject::Client { .. } | Subject::Operator => Err(
                Error::Forbidden("This endpoint is for signed-in users".into()),
            ),
        }
    }

    /// Is the caller this user?
    pub fn is_user(&self, user_id: Uuid) -> bool {
        matches!(self.principal.subject, Subject::User { id, .. } if id == user_id)
    }

    /// Is this a provisioning job (a SCIM token)?
    pub fn is_provisioner(&self) -> bool {
        matches!(self.principal.subject, Subject::ScimToken { .. })
    }
}
