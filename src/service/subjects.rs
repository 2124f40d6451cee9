//! IAM subjects (docs/api/iam.md): the tenant's users, clients and
//! groups seen as one kind of thing, and groups holding users and
//! clients. The rows are the ones every dialect shows: a subject group is
//! a group (SCIM's, `/api/v1/groups`'), a user subject a user.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::{audit, App};
use crate::db::Db;
use crate::domain::access::{SubjectKind, SubjectRef};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::client::Client;
use crate::domain::group::{Group, GroupQuery};
use crate::domain::list::PageRequest;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::user::{User, UserQuery};
use crate::domain::{Error, Result};
use crate::repo;
use crate::transaction;

/// One subject, with the row it is.
pub enum Entry {
    User(Box<User>),
    Client(Client),
    Group(Group),
}

/// A window of subjects and how many there are in all.
pub struct Window {
    pub items: Vec<Entry>,
    pub total: i64,
}

/// Where a list starts and how much it takes.
#[derive(Debug, Clone, Copy)]
pub struct Slice {
    pub offset: u64,
    pub limit: u32,
}

fn read_permission(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::User => "user:read",
        SubjectKind::Client => "client:read",
        SubjectKind::Group => "group:read",
    }
}

/// Subjects of these kinds (in this order: users, then clients, then
/// groups, each oldest first) whose name contains `search`.
pub async fn list(
    app: &App,
    caller: &Caller,
    kinds: &[SubjectKind],
    search: Option<String>,
    slice: Slice,
) -> Result<Window> {
    for kind in kinds {
        caller.require(read_permission(*kind))?;
    }
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let (mut skip, mut want) = (slice.offset, slice.limit);
    let mut window = Window {
        items: Vec::new(),
        total: 0,
    };
    for kind in kinds {
        let page = PageRequest::window(skip, want);
        let (total, items) = list_kind(db, caller.tenant_id, *kind, search.clone(), page).await?;
        want = want.saturating_sub(u32::try_from(items.len()).unwrap_or(u32::MAX));
        skip = skip.saturating_sub(u64::try_from(total).unwrap_or(0));
        window.total += total;
        window.items.extend(items);
    }
    Ok(window)
}

async fn list_kind(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    kind: SubjectKind,
    search: Option<String>,
    page: PageRequest,
) -> Result<(i64, Vec<Entry>)> {
    Ok(match kind {
        SubjectKind::User => {
            let query = UserQuery {
                search,
                page,
                ..Default::default()
            };
            let l = repo::users::list(db, tenant_id, &query).await?;
            (
                l.total,
                l.items
                    .into_iter()
                    .map(|u| Entry::User(Box::new(u)))
                    .collect(),
            )
        }
        SubjectKind::Client => {
            let l = repo::clients::list(db, tenant_id, search.as_deref(), page).await?;
            (l.total, l.items.into_iter().map(Entry::Client).collect())
        }
        SubjectKind::Group => {
            let query = GroupQuery {
                search,
                page,
                ..Default::default()
            };
            let l = repo::groups::list(db, tenant_id, &query).await?;
            (l.total, l.items.into_iter().map(Entry::Group).collect())
        }
    })
}

/// The groups a user or client of the tenant belongs to.
pub async fn memberships(app: &App, caller: &Caller, subject: SubjectRef) -> Result<Vec<Group>> {
    caller.require(read_permission(subject.kind()))?;
    caller.require("group:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    super::access::find_subject(db, caller.tenant_id, subject).await?;
    let mut groups = Vec::new();
    for id in repo::access::groups_of(db, subject).await? {
        groups.extend(repo::groups::find(db, caller.tenant_id, id).await?);
    }
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(groups)
}

/// A group's members: its users, then its clients.
pub async fn members(app: &App, caller: &Caller, group_id: Uuid, slice: Slice) -> Result<Window> {
    caller.require("group:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let group = repo::groups::find(db, caller.tenant_id, group_id)
        .await?
        .ok_or(Error::NotFound("Group"))?;
    let users =
        repo::groups::members(db, group.id, PageRequest::window(slice.offset, slice.limit)).await?;
    let ids: Vec<Uuid> = users.items.iter().map(|m| m.user_id).collect();
    let mut found = repo::users::find_many(db, caller.tenant_id, &ids).await?;
    // In membership order.
    found.sort_by_key(|u| ids.iter().position(|id| *id == u.id));
    let mut items: Vec<Entry> = found
        .into_iter()
        .map(|u| Entry::User(Box::new(u)))
        .collect();
    let clients = repo::access::client_members(db, group.id).await?;
    let skip = slice
        .offset
        .saturating_sub(u64::try_from(users.total).unwrap_or(0));
    let want = (slice.limit as usize).saturating_sub(items.len());
    for id in clients
        .iter()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .take(want)
    {
        items.extend(
            repo::clients::find(db, caller.tenant_id, *id)
                .await?
                .map(Entry::Client),
        );
    }
    Ok(Window {
        items,
        total: users.total + i64::try_from(clients.len()).unwrap_or(i64::MAX),
    })
}

/// Adds users and clients of the tenant to a group, all or none; current
/// members are skipped. Groups do not hold groups.
pub async fn add_members(
    app: &App,
    caller: &Caller,
    group_id: Uuid,
    subject_ids: Vec<String>,
    origin: &Origin,
) -> Result<()> {
    caller.require("group:write")?;
    let mut problems = crate::domain::Problems::default();
    if subject_ids.is_empty() {
        problems.add("subjectIds", "must name at least one subject");
    }
    if subject_ids.len() > 1000 {
        problems.add("subjectIds", "must name at most 1000 subjects");
    }
    let mut users = Vec::new();
    let mut clients = Vec::new();
    for (i, text) in subject_ids.iter().enumerate() {
        let field = format!("subjectIds[{i}]");
        match SubjectRef::parse(text.trim()) {
            Ok(SubjectRef::User(id)) => users.push(id),
            Ok(SubjectRef::Client(id)) => clients.push(id),
            Ok(SubjectRef::Group(_)) => {
                problems.add(field, "groups hold users and clients, not groups")
            }
            Err(e) => problems.add(field, e),
        }
    }
    problems.into_result()?;
    users.sort();
    users.dedup();
    clients.sort();
    clients.dedup();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let group = repo::groups::find(tx, caller.tenant_id, group_id)
            .await?
            .ok_or(Error::NotFound("Group"))?;
        let existing = repo::groups::existing_users(tx, caller.tenant_id, &users).await?;
        if existing.len() != users.len() {
            return Err(Error::NotFound("Subject"));
        }
        for id in &clients {
            if repo::clients::find(tx, caller.tenant_id, *id)
                .await?
                .is_none()
            {
                return Err(Error::NotFound("Subject"));
            }
        }
        let members: Vec<SubjectRef> = users
            .iter()
            .map(|u| SubjectRef::User(*u))
            .chain(clients.iter().map(|c| SubjectRef::Client(*c)))
            .collect();
        super::access::require_membership_change(tx, caller, group.id, &members).await?;
        let now = Utc::now();
        let added_users =
            repo::groups::add_members(tx, caller.tenant_id, group.id, &users, now).await?;
        let added_clients = repo::access::add_client_members(tx, group.id, &clients, now).await?;
        if added_users > 0 {
            // SCIM sees user members: a new version (ETag).
            repo::groups::touch(tx, group.id, now).await?;
        }
        if added_users + added_clients > 0 {
            let event = AuditEvent::new(
                caller.tenant_id,
                Actor::from(caller),
                "group.member_added",
                origin,
            )
            .target("group", group.id)
            .details(json!({ "subjectIds": subject_ids }));
            audit(tx, event).await?;
        }
        Ok(())
    })
}

/// Removes a user or client from a group; 404 unless a member. Users
/// leave as `/api/v1/groups/{id}/members/{userId}` removes them.
pub async fn remove_member(
    app: &App,
    caller: &Caller,
    group_id: Uuid,
    member: SubjectRef,
    origin: &Origin,
) -> Result<()> {
    let client_id = match member {
        SubjectRef::User(id) => {
            return super::groups::remove_member(app, caller, group_id, id, origin).await
        }
        SubjectRef::Client(id) => id,
        SubjectRef::Group(_) => return Err(Error::NotFound("Group member")),
    };
    caller.require("group:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let group = repo::groups::find(tx, caller.tenant_id, group_id)
            .await?
            .ok_or(Error::NotFound("Group"))?;
        let member = SubjectRef::Client(client_id);
        super::access::require_membership_change(tx, caller, group.id, &[member]).await?;
        if !repo::access::remove_client_member(tx, group.id, client_id).await? {
            return Err(Error::NotFound("Group member"));
        }
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "group.member_removed",
            origin,
        )
        .target("group", group.id)
        .details(json!({ "clientId": client_id }));
        audit(tx, event).await
    })
}
