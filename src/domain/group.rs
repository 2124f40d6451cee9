//! Groups of users: the same rows SCIM serves as Groups.

use super::filter::FilterSpec;
use super::list::{PageRequest, SortOrder};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Group {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub description: String,
    /// The provisioning client's id for this group (SCIM externalId).
    pub external_id: Option<String>,
    /// Bumped by every change, members included (the SCIM ETag).
    pub version: i32,
    pub member_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A member as a group lists it.
#[derive(Debug, Clone)]
pub struct GroupMember {
    pub user_id: Uuid,
    pub email: Option<String>,
    pub first_name: String,
    pub family_name: String,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSort {
    Name,
    CreatedAt,
    UpdatedAt,
    ExternalId,
}

#[derive(Clone, Default)]
pub struct GroupQuery<'a> {
    pub search: Option<String>,
    pub filter: Option<FilterSpec<'a>>,
    pub sort: Option<(GroupSort, SortOrder)>,
    pub page: PageRequest,
}
