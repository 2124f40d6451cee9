//! Organizations (docs/api/jsonapi.md): teams inside a tenant that accounts
//! belong to (`organization:read` / `organization:write`).

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::{audit, App};
use crate::domain::account::{validate_organization_name, Organization, OrganizationQuery};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::list::Listing;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::{Error, Result};
use crate::repo::{self, Locked};
use crate::transaction;

pub async fn list(
    app: &App,
    caller: &Caller,
    query: OrganizationQuery<'_>,
) -> Result<Listing<Organization>> {
    caller.require("organization:read")?;
    let mut conn = app.db.get().await?;
    repo::organizations::list(&mut conn.db(), caller.tenant_id, &query).await
}

pub async fn get(app: &App, caller: &Caller, id: Uuid) -> Result<Organization> {
    caller.require("organization:read")?;
    let mut conn = app.db.get().await?;
    repo::organizations::find(&mut conn.db(), caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("Organization"))
}

/// Organizations of the caller's tenant by id, for compound documents;
/// a caller without organization:read gets none.
pub async fn find_many(app: &App, caller: &Caller, ids: &[Uuid]) -> Result<Vec<Organization>> {
    if ids.is_empty() || !caller.has("organization:read") {
        return Ok(Vec::new());
    }
    let mut conn = app.db.get().await?;
    repo::organizations::find_many(&mut conn.db(), caller.tenant_id, ids).await
}

fn event(caller: &Caller, action: &'static str, o: &Organization, origin: &Origin) -> AuditEvent {
    AuditEvent::new(caller.tenant_id, Actor::from(caller), action, origin)
        .target("organization", o.id)
        .details(json!({ "name": o.name }))
}

pub async fn create(
    app: &App,
    caller: &Caller,
    name: &str,
    origin: &Origin,
) -> Result<Organization> {
    caller.require("organization:write")?;
    let name = validate_organization_name(name).map_err(|e| Error::invalid("name", e))?;
    let now = Utc::now();
    let org = Organization {
        id: Uuid::now_v7(),
        tenant_id: caller.tenant_id,
        name,
        created_at: now,
        updated_at: now,
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::organizations::insert(tx, &org).await?;
        audit(tx, event(caller, "organization.created", &org, origin)).await
    })?;
    Ok(org)
}

pub async fn rename(
    app: &App,
    caller: &Caller,
    id: Uuid,
    name: Option<&str>,
    origin: &Origin,
) -> Result<Organization> {
    caller.require("organization:write")?;
    let name = name
        .map(validate_organization_name)
        .transpose()
        .map_err(|e| Error::invalid("name", e))?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let row = Locked::Organization {
            tenant: caller.tenant_id,
            id,
        };
        repo::lock_for_update(tx, row).await?;
        let mut org = repo::organizations::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("Organization"))?;
        match name {
            Some(name) if name != org.name => {
                org.name = name;
                org.updated_at = Utc::now();
                repo::organizations::update(tx, &org).await?;
                audit(tx, event(caller, "organization.updated", &org, origin)).await?;
            }
            _ => {}
        }
        Ok(org)
    })
}

/// Deletes an organization that no account belongs to any more.
pub async fn delete(app: &App, caller: &Caller, id: Uuid, origin: &Origin) -> Result<()> {
    caller.require("organization:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let org = repo::organizations::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("Organization"))?;
        let members = repo::organizations::member_count(tx, org.id).await?;
        if members > 0 {
            return Err(Error::Conflict {
                field: None,
                message: format!(
                    "{members} account(s) belong to this organization; move or delete them first"
                ),
            });
        }
        repo::organizations::delete(tx, caller.tenant_id, org.id).await?;
        audit(tx, event(caller, "organization.deleted", &org, origin)).await
    })
}
