//! A tenant's email domains (docs/api/iam.md, Domains; `domain:read` /
//! `domain:write`): registered with a token, verified when the token is
//! found in a TXT record at the domain, owned (once verified) by one tenant.
//!
//! Verification is a check of public DNS, not a decision of the caller, so
//! reading a pending domain's status performs it, as Aritma's status
//! operation does: a tenant polls the status until it is Confirmed.

use chrono::Utc;
use serde_json::json;

use super::{audit, dns, App};
use crate::db::Db;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::tenant_domain::{self, new_token, record_matches, TenantDomain};
use crate::domain::{Error, Result};
use crate::repo;
use crate::transaction;

fn parse_name(raw: &str) -> Result<String> {
    tenant_domain::normalize(raw).map_err(|e| Error::invalid("domain", e))
}

/// The tenant's domains, by name; `filter` keeps those containing it
/// (compared as the stored form: `Bücher` finds `xn--bcher-kva.example`).
pub async fn list(app: &App, caller: &Caller, filter: Option<String>) -> Result<Vec<TenantDomain>> {
    caller.require("domain:read")?;
    let filter = filter
        .map(|f| {
            idna::domain_to_ascii(f.trim())
                .map_err(|_| Error::invalid("filter", "is not part of a domain name"))
        })
        .transpose()?;
    let mut conn = app.db.get().await?;
    repo::domains::list(&mut conn.db(), caller.tenant_id, filter.as_deref()).await
}

/// Registers a domain, pending until verified. Registering it again
/// answers the registration there is (the same token), changing nothing.
pub async fn register(
    app: &App,
    caller: &Caller,
    raw: &str,
    origin: &Origin,
) -> Result<TenantDomain> {
    caller.require("domain:write")?;
    let name = parse_name(raw)?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        if let Some(existing) = repo::domains::find(tx, caller.tenant_id, &name).await? {
            return Ok(existing);
        }
        if repo::domains::count(tx, caller.tenant_id).await? >= tenant_domain::MAX_PER_TENANT {
            return Err(Error::conflict(
                "domain",
                format!(
                    "A tenant registers at most {} domains; delete one first",
                    tenant_domain::MAX_PER_TENANT
                ),
            ));
        }
        let now = Utc::now();
        let domain = TenantDomain {
            id: uuid::Uuid::now_v7(),
            tenant_id: caller.tenant_id,
            name: name.clone(),
            verification_token: new_token(),
            verified_at: None,
            created_at: now,
            updated_at: now,
        };
        repo::domains::insert(tx, &domain, caller.principal.subject.id()).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "domain.registered",
            origin,
        )
        .target("domain", domain.id)
        .details(json!({ "domain": domain.name }));
        audit(tx, event).await?;
        Ok(domain)
    })
}

/// The tenant's registration of a domain, if any (None: NotRegistered),
/// verified first if it is pending and its TXT record now holds the token.
/// Another tenant's verified domain cannot be verified (409).
pub async fn status(
    app: &App,
    caller: &Caller,
    raw: &str,
    origin: &Origin,
) -> Result<(String, Option<TenantDomain>)> {
    caller.require("domain:read")?;
    let name = parse_name(raw)?;
    let found = {
        let mut conn = app.db.get().await?;
        repo::domains::find(&mut conn.db(), caller.tenant_id, &name).await?
    };
    let Some(domain) = found else {
        return Ok((name, None));
    };
    if domain.verified_at.is_some() {
        return Ok((name, Some(domain)));
    }
    {
        let mut conn = app.db.get().await?;
        if repo::domains::verified_elsewhere(&mut conn.db(), caller.tenant_id, &name).await? {
            return Err(repo::domains::owned_elsewhere());
        }
    }
    // No connection is held while DNS answers.
    let records = dns::txt_records(app.config.dns_resolver, &name).await?;
    if !records
        .iter()
        .any(|r| record_matches(r, &domain.verification_token))
    {
        return Ok((name, Some(domain)));
    }
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let verified = transaction!(db, |tx| {
        let Some(mut domain) = repo::domains::find(tx, caller.tenant_id, &name).await? else {
            // Deleted while DNS answered.
            return Ok(None);
        };
        if domain.verified_at.is_some() {
            return Ok(Some(domain));
        }
        let now = Utc::now();
        repo::domains::mark_verified(tx, domain.id, now).await?;
        domain.verified_at = Some(now);
        domain.updated_at = now;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "domain.verified",
            origin,
        )
        .target("domain", domain.id)
        .details(json!({ "domain": domain.name }));
        audit(tx, event).await?;
        Ok(Some(domain))
    })?;
    Ok((name, verified))
}

/// Unregisters a domain. Users on it stay; creating users on it directly
/// stops until it is registered and verified again.
pub async fn delete(app: &App, caller: &Caller, raw: &str, origin: &Origin) -> Result<()> {
    caller.require("domain:write")?;
    let name = parse_name(raw)?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let domain = repo::domains::find(tx, caller.tenant_id, &name)
            .await?
            .ok_or(Error::NotFound("Domain"))?;
        repo::domains::delete(tx, caller.tenant_id, &name).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "domain.deleted",
            origin,
        )
        .target("domain", domain.id)
        .details(json!({ "domain": domain.name, "wasVerified": domain.verified_at.is_some() }));
        audit(tx, event).await
    })
}

/// Has this tenant verified `name` (normalized)?
pub(crate) async fn verified_by(
    db: &mut Db<'_>,
    tenant_id: uuid::Uuid,
    name: &str,
) -> Result<bool> {
    Ok(repo::domains::find(db, tenant_id, name)
        .await?
        .is_some_and(|d| d.verified_at.is_some()))
}
