//! Audit events: who did what to whom, when, from where. Append-only.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::list::{PageRequest, SortOrder};
use super::principal::{Caller, Subject, OPERATOR_LABEL};
use super::session::Origin;

#[derive(Debug, Clone)]
pub enum Actor {
    User {
        id: Uuid,
        label: String,
    },
    ScimToken {
        id: Uuid,
        label: String,
    },
    /// An OAuth client acting as itself.
    Client {
        id: Uuid,
        label: String,
    },
    /// The server itself, labelled with what acted: `first start` (the
    /// bootstrap), or `cli` (an operator's `ithbat` command).
    System {
        label: &'static str,
    },
    /// Nobody authenticated yet (e.g. a failed login).
    Anonymous,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } => "user",
            Actor::ScimToken { .. } => "scim_token",
            Actor::Client { .. } => "client",
            Actor::System { .. } => "system",
            Actor::Anonymous => "anonymous",
        }
    }

    pub fn id(&self) -> Option<Uuid> {
        match self {
            Actor::User { id, .. } | Actor::ScimToken { id, .. } | Actor::Client { id, .. } => {
                Some(*id)
            }
            _ => None,
        }
    }

    pub fn label(&self) -> Option<&str> {
        match self {
            Actor::User { label, .. }
            | Actor::ScimToken { label, .. }
            | Actor::Client { label, .. } => Some(label),
            Actor::System { label } => Some(label),
            Actor::Anonymous => None,
        }
    }
}

impl From<&Caller> for Actor {
    fn from(c: &Caller) -> Self {
        let label = c.principal.label.clone();
        match c.principal.subject {
            Subject::User { id, .. } => Actor::User { id, label },
            Subject::ScimToken { id } => Actor::ScimToken { id, label },
            Subject::Client { id, .. } => Actor::Client { id, label },
            Subject::Operator => Actor::System {
                label: OPERATOR_LABEL,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub tenant_id: Uuid,
    pub actor: Actor,
    /// e.g. `user.updated`, `auth.login_failed`
    pub action: &'static str,
    pub target: Option<(&'static str, String)>,
    pub success: bool,
    pub origin: Origin,
    /// What changed, never secrets.
    pub details: serde_json::Value,
}

impl AuditEvent {
    pub fn new(tenant_id: Uuid, actor: Actor, action: &'static str, origin: &Origin) -> Self {
        AuditEvent {
            tenant_id,
            actor,
            action,
            target: None,
            success: true,
            origin: origin.clone(),
            details: serde_json::json!({}),
        }
    }

    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }

    pub fn failed(mut self) -> Self {
        self.success = false;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// An event as stored and listed.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    pub actor_label: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub success: bool,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub success: Option<bool>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub order: SortOrder,
    pub page: PageRequest,
}
