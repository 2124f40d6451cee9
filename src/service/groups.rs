//! Groups of users (docs/api/ithbat.md, Groups): the rows SCIM serves as
//! Groups.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::{audit, App};
use crate::domain::access::SubjectRef;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::group::{Group, GroupMember, GroupQuery};
use crate::domain::list::{Listing, PageRequest};
use crate::domain::principal::Caller;
use crate::domain::role::{validate_description, validate_name};
use crate::domain::session::Origin;
use crate::domain::{Error, Problems, Result};
use crate::repo::{self, Locked};
use crate::transaction;

pub async fn list(app: &App, caller: &Caller, query: GroupQuery<'_>) -> Result<Listing<Group>> {
    caller.require("group:read")?;
    let mut conn = app.db.get().await?;
    repo::groups::list(&mut conn.db(), caller.tenant_id, &query).await
}

pub async fn get(app: &App, caller: &Caller, id: Uuid) -> Result<Group> {
    caller.require("group:read")?;
    let mut conn = app.db.get().await?;
    repo::groups::find(&mut conn.db(), caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("Group"))
}

pub async fn create(
    app: &App,
    caller: &Caller,
    name: String,
    description: Option<String>,
    origin: &Origin,
) -> Result<Group> {
    caller.require("group:write")?;
    let mut problems = Problems::default();
    let name = problems.check("name", validate_name(&name));
    let description = problems.check(
        "description",
        validate_description(description.as_deref().unwrap_or("")),
    );
    problems.into_result()?;
    let now = Utc::now();
    let group = Group {
        id: Uuid::now_v7(),
        tenant_id: caller.tenant_id,
        name: name.unwrap_or_default(),
        description: description.unwrap_or_default(),
        external_id: None,
        version: 1,
        member_count: 0,
        created_at: now,
        updated_at: now,
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::groups::insert(tx, &group).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "group.created",
            origin,
        )
        .target("group", group.id)
        .details(json!({ "name": group.name }));
        audit(tx, event).await
    })?;
    Ok(group)
}

pub async fn update(
    app: &App,
    caller: &Caller,
    id: Uuid,
    name: Option<String>,
    description: Option<String>,
    origin: &Origin,
) -> Result<Group> {
    caller.require("group:write")?;
    let mut problems = Problems::default();
    let name = problems
        .check("name", name.as_deref().map(validate_name).transpose())
        .flatten();
    let description = problems
        .check(
            "description",
            description.as_deref().map(validate_description).transpose(),
        )
        .flatten();
    problems.into_result()?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let row = Locked::Group {
            tenant: caller.tenant_id,
            id,
        };
        repo::lock_for_update(tx, row).await?;
        let mut group = repo::groups::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("Group"))?;
        let mut changed = Vec::new();
        if let Some(n) = name {
            group.name = n;
            changed.push("name");
        }
        if let Some(d) = description {
            group.description = d;
            changed.push("description");
        }
        group.updated_at = Utc::now();
        repo::groups::update(tx, &group).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "group.updated",
            origin,
        )
        .target("group", group.id)
        .details(json!({ "changed": changed }));
        audit(tx, event).await?;
        Ok(group)
    })
}

pub async fn delete(app: &App, caller: &Caller, id: Uuid, origin: &Origin) -> Result<()> {
    caller.require("group:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let group = repo::groups::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("Group"))?;
        // Its members lose what it holds.
        let subject = SubjectRef::Group(group.id);
        super::access::require_manages(tx, caller, &[subject], "delete this group").await?;
        repo::groups::delete(tx, caller.tenant_id, group.id).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "group.deleted",
            origin,
        )
        .target("group", group.id)
        .details(json!({ "name": group.name, "members": group.member_count }));
        audit(tx, event).await
    })
}

pub async fn members(
    app: &App,
    caller: &Caller,
    id: Uuid,
    page: PageRequest,
) -> Result<Listing<GroupMember>> {
    caller.require("group:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let group = repo::groups::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("Group"))?;
    repo::groups::members(db, group.id, page).await
}

/// Adds a user of the same tenant to a group; adding a member again is a
/// no-op. Returns whether they were added.
pub async fn add_member(
    app: &App,
    caller: &Caller,
    id: Uuid,
    user_id: Uuid,
    origin: &Origin,
) -> Result<bool> {
    caller.require("group:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let group = repo::groups::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("Group"))?;
        let user = repo::users::find(tx, caller.tenant_id, user_id)
            .await?
            .ok_or_else(|| Error::invalid("userId", "is not a user of this tenant"))?;
        let member = SubjectRef::User(user.id);
        super::access::require_membership_change(tx, caller, group.id, &[member]).await?;
        let added = repo::groups::add_member(tx, group.id, user.id, Utc::now()).await?;
        if added {
            let event = AuditEvent::new(
                caller.tenant_id,
                Actor::from(caller),
                "group.member_added",
                origin,
            )
            .target("group", group.id)
            .details(json!({ "userId": user.id }));
            audit(tx, event).await?;
        }
        Ok(added)
    })
}

pub async fn remove_member(
    app: &App,
    caller: &Caller,
    id: Uuid,
    user_id: Uuid,
    origin: &Origin,
) -> Result<()> {
    caller.require("group:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let group = repo::groups::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("Group"))?;
        let member = SubjectRef::User(user_id);
        super::access::require_membership_change(tx, caller, group.id, &[member]).await?;
        if !repo::groups::remove_member(tx, group.id, user_id).await? {
            return Err(Error::NotFound("Group member"));
        }
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "group.member_removed",
            origin,
        )
        .target("group", group.id)
        .details(json!({ "userId": user_id }));
        audit(tx, event).await
    })
}
