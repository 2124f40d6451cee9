//! How domain objects look in the native dialect (camelCase,
//! docs/api/ithbat.md).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::domain::session::Session;
use crate::domain::tenant::Tenant;
use crate::domain::user::Preferences;
use crate::service::users::UserDetails;

/// RFC 3339 in UTC with seconds (`2026-02-24T09:15:00Z`).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A user: the four name parts and the single `name`, `phoneNumber`,
/// `emailVerified`, and `locked`/`lockedUntil` for a lockout.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    id: String,
    tenant_id: String,
    /// null for a user provisioned without one (SCIM, JSON:API).
    email: Option<String>,
    /// The login name (the email unless provisioned otherwise).
    user_name: String,
    first_name: String,
    father_name: String,
    grandfather_name: String,
    family_name: String,
    display_name: String,
    name: String,
    phone_number: Option<String>,
    status: &'static str,
    email_verified: bool,
    roles: Vec<String>,
    #[schema(value_type = Object)]
    preferences: Preferences,
    mfa_enabled: bool,
    #[schema(value_type = Object)]
    metadata: serde_json::Map<String, serde_json::Value>,
    #[schema(value_type = Object)]
    external_ids: serde_json::Map<String, serde_json::Value>,
    locked: bool,
    locked_until: Option<String>,
    last_login_at: Option<String>,
    password_changed_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<UserDetails> for UserView {
    fn from(d: UserDetails) -> Self {
        let u = d.user;
        UserView {
            id: u.id.to_string(),
            tenant_id: u.tenant_id.to_string(),
            display_name: u.name.display(),
            name: u.name.full(),
            email: u.email,
            user_name: u.user_name,
            first_name: u.name.first,
            father_name: u.name.father,
            grandfather_name: u.name.grandfather,
            family_name: u.name.family,
            phone_number: u.phone_number,
            status: u.status.as_str(),
            email_verified: u.email_verified,
            roles: d.roles,
            preferences: u.preferences,
            mfa_enabled: u.mfa_enabled,
            metadata: u.metadata,
            external_ids: u.external_ids,
            locked: d.locked_until.is_some(),
            locked_until: d.locked_until.map(timestamp),
            last_login_at: u.last_login_at.map(timestamp),
            password_changed_at: u.password_changed_at.map(timestamp),
            created_at: timestamp(u.created_at),
            updated_at: timestamp(u.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    id: String,
    name: String,
    slug: String,
    plan: &'static str,
    status: &'static str,
    rate_limit_per_minute: Option<i32>,
    created_at: String,
    updated_at: String,
}

impl From<Tenant> for TenantView {
    fn from(t: Tenant) -> Self {
        TenantView {
            id: t.id.to_string(),
            name: t.name,
            slug: t.slug,
            plan: t.plan.as_str(),
            status: t.status.as_str(),
            rate_limit_per_minute: t.rate_limit_per_minute,
            created_at: timestamp(t.created_at),
            updated_at: timestamp(t.updated_at),
        }
    }
}

/// A sign-in session, with the time it ends (`expiresAt`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    id: String,
    device_type: String,
    device_name: String,
    ip_address: Option<String>,
    user_agent: String,
    #[schema(value_type = Option<Object>)]
    location: Option<serde_json::Value>,
    created_at: String,
    last_activity: String,
    expires_at: String,
    is_current: bool,
}

impl SessionView {
    pub fn new(s: Session, current: uuid::Uuid) -> Self {
        SessionView {
            is_current: s.id == current,
            id: s.id.to_string(),
            device_type: s.device.kind,
            device_name: s.device.name,
            ip_address: s.ip_address,
            user_agent: s.user_agent,
            location: s.location,
            created_at: timestamp(s.created_at),
            last_activity: timestamp(s.last_activity_at),
            expires_at: timestamp(s.expires_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    id: String,
    tenant_id: String,
    name: String,
    description: String,
    permissions: Vec<String>,
    is_system: bool,
    user_count: i64,
    created_at: String,
    updated_at: String,
}

impl From<crate::domain::role::Role> for RoleView {
    fn from(r: crate::domain::role::Role) -> Self {
        RoleView {
            id: r.id.to_string(),
            tenant_id: r.tenant_id.to_string(),
            permissions: r.effective_permissions().to_vec(),
            is_system: r.builtin.is_some(),
            name: r.name,
            description: r.description,
            user_count: r.user_count,
            created_at: timestamp(r.created_at),
            updated_at: timestamp(r.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    id: String,
    tenant_id: String,
    name: String,
    description: String,
    member_count: i64,
    created_at: String,
    updated_at: String,
}

impl From<crate::domain::group::Group> for GroupView {
    fn from(g: crate::domain::group::Group) -> Self {
        GroupView {
            id: g.id.to_string(),
            tenant_id: g.tenant_id.to_string(),
            name: g.name,
            description: g.description,
            member_count: g.member_count,
            created_at: timestamp(g.created_at),
            updated_at: timestamp(g.updated_at),
        }
    }
}

/// A member of a group.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberView {
    user_id: String,
    email: Option<String>,
    first_name: String,
    family_name: String,
    added_at: String,
}

impl From<crate::domain::group::GroupMember> for GroupMemberView {
    fn from(m: crate::domain::group::GroupMember) -> Self {
        GroupMemberView {
            user_id: m.user_id.to_string(),
            email: m.email,
            first_name: m.first_name,
            family_name: m.family_name,
            added_at: timestamp(m.added_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActorView {
    r#type: String,
    id: Option<String>,
    label: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetView {
    r#type: String,
    id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditView {
    id: String,
    tenant_id: String,
    actor: ActorView,
    action: String,
    target: Option<TargetView>,
    status: &'static str,
    ip_address: Option<String>,
    user_agent: Option<String>,
    #[schema(value_type = Object)]
    details: serde_json::Value,
    created_at: String,
}

impl From<crate::domain::audit::AuditRecord> for AuditView {
    fn from(r: crate::domain::audit::AuditRecord) -> Self {
        AuditView {
            id: r.id.to_string(),
            tenant_id: r.tenant_id.to_string(),
            actor: ActorView {
                r#type: r.actor_type,
                id: r.actor_id.map(|u| u.to_string()),
                label: r.actor_label,
            },
            action: r.action,
            target: r.target_type.map(|t| TargetView {
                r#type: t,
                id: r.target_id,
            }),
            status: if r.success { "success" } else { "failure" },
            ip_address: r.ip_address,
            user_agent: r.user_agent,
            details: r.details,
            // Audit times keep milliseconds: events of one second stay ordered.
            created_at: r.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    /// The tenant's settings (password policy, lockout, sessions, ...).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    settings: crate::domain::settings::TenantSettings,
    plan: &'static str,
    /// The limit in force: the plan's, or the custom one.
    rate_limit_per_minute: u32,
    custom_rate_limit_per_minute: Option<i32>,
}

impl From<Tenant> for SettingsView {
    fn from(t: Tenant) -> Self {
        SettingsView {
            plan: t.plan.as_str(),
            rate_limit_per_minute: t.effective_rate_limit(),
            custom_rate_limit_per_minute: t.rate_limit_per_minute,
            settings: t.settings,
        }
    }
}

/// The `data` of a native list (`ithbat::list`): the items under the
/// list's key, and how many there are in all.
macro_rules! page {
    ($name:ident, $key:ident, $item:ty) => {
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            $key: Vec<$item>,
            total: u64,
        }
    };
}

page!(UserPage, users, UserView);
page!(TenantPage, tenants, TenantView);
page!(SessionPage, sessions, SessionView);
page!(RolePage, roles, RoleView);
page!(GroupPage, groups, GroupView);
page!(MemberPage, members, GroupMemberView);
page!(AuditPage, events, AuditView);
