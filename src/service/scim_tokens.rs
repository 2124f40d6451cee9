//! SCIM tokens: the bearer secrets identity providers provision with.
//! Shown once at creation, stored as SHA-256, revoked by deletion.
//!
//! A token is a credential its maker hands out, so it never holds more
//! than its maker: at every use it holds what it is made for (provisioning
//! users and groups) *met* with what its maker holds at that moment
//! (`Access::meet`). A maker who loses a permission takes it from their
//! tokens; a maker who is deleted, suspended or disabled takes everything:
//! the token is refused (401) until someone mints a new one.
//!
//! A token minted at the command line is made by the operator, who holds
//! everything and is no account that can lose it: it holds what it is
//! made for, no more, until it is revoked. Only the database's
//! credentials mint one; no HTTP caller is the operator.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::callers::CallerKey;
use super::tokens::random_token;
use super::{audit, App, Gate};
use crate::db::Db;
use crate::domain::access::{Access, Maker, Source, SubjectRef};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::permission::Permissions;
use crate::domain::principal::{Caller, Principal, Subject};
use crate::domain::scim_token::ScimToken;
use crate::domain::scope::Scopes;
use crate::domain::secret::hash_secret;
use crate::domain::session::Origin;
use crate::domain::tenant::TenantStatus;
use crate::domain::{Error, Problems, Result};
use crate::repo;
use crate::transaction;

/// Every SCIM token starts so, for secret scanners and for routing.
pub const PREFIX: &str = "scim_live_";

/// What a SCIM token may do: provision users and groups.
fn provisioning_permissions() -> Permissions {
    [
        "user:read",
        "user:write",
        "group:read",
        "group:write",
        "scim:read",
        "scim:write",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

pub struct NewToken {
    pub name: Option<String>,
    /// The scheme of the SSO provider the token belongs to (Aritma form).
    pub provider: Option<String>,
    pub provider_display_name: Option<String>,
}

fn text(problems: &mut Problems, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    let value = value?.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        problems.add(field, format!("must be 1 to {max} printable characters"));
        return None;
    }
    Some(value.to_string())
}

/// Creates a token; returns it with its secret, which is never shown again.
pub async fn create(
    app: &App,
    caller: &Caller,
    input: NewToken,
    origin: &Origin,
) -> Result<(ScimToken, String)> {
    caller.require("scim:write")?;
    let mut problems = Problems::default();
    let name = text(&mut problems, "name", input.name.as_deref(), 200);
    let provider = text(&mut problems, "provider", input.provider.as_deref(), 200);
    let display = text(
        &mut problems,
        "providerDisplayName",
        input.provider_display_name.as_deref(),
        200,
    );
    problems.into_result()?;
    let name = name
        .or_else(|| display.clone())
        .unwrap_or_else(|| "SCIM token".into());
    let secret = format!("{PREFIX}{}", random_token(32));
    let hint: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let id = Uuid::now_v7();
    let now = Utc::now();
    let creator = caller.session().ok().map(|(user, _)| user);
    let maker = match caller.principal.subject {
        Subject::User { id, .. } => Maker::Subject(SubjectRef::User(id)),
        Subject::Client { id, .. } => Maker::Subject(SubjectRef::Client(id)),
        Subject::Operator => Maker::Operator,
        Subject::ScimToken { .. } => {
            return Err(Error::Forbidden(
                "A SCIM token cannot make SCIM tokens".into(),
            ))
        }
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        // An Aritma token names one of the tenant's SSO providers
        // (docs/api/iam.md, SCIM tokens and SSO providers).
        if let Some(scheme) = &provider {
            if repo::sso::find_by_scheme(tx, caller.tenant_id, scheme)
                .await?
                .is_none()
            {
                return Err(Error::invalid(
                    "provider",
                    "must be the scheme of one of this tenant's SSO providers",
                ));
            }
        }
        repo::scim_tokens::insert(
            tx,
            id,
            caller.tenant_id,
            &name,
            provider.as_deref(),
            display.as_deref(),
            &hash_secret(&secret),
            &hint,
            creator,
            &maker.to_string(),
            now,
        )
        .await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "scim.token_created",
            origin,
        )
        .target("scim_token", id)
        .details(json!({ "name": name, "provider": provider }));
        audit(tx, event).await?;
        let row = repo::scim_tokens::find(tx, caller.tenant_id, id)
            .await?
            .ok_or_else(|| Error::internal("token vanished"))?;
        Ok((row, secret))
    })
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<ScimToken>> {
    caller.require("scim:read")?;
    let mut conn = app.db.get().await?;
    repo::scim_tokens::list(&mut conn.db(), caller.tenant_id).await
}

/// Deletes a token: it stops working on its next request.
pub async fn delete(app: &App, caller: &Caller, id: Uuid, origin: &Origin) -> Result<()> {
    caller.require("scim:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let row = repo::scim_tokens::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("SCIM token"))?;
        // Revoking a credential is managing it: the caller holds what it holds.
        if let Some(held) = token_access(tx, &row).await? {
            caller.require_holds(&held, ("scim_token", id.to_string()), "revoke this token")?;
        }
        repo::scim_tokens::delete(tx, caller.tenant_id, id).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "scim.token_revoked",
            origin,
        )
        .target("scim_token", id);
        audit(tx, event).await
    })
}

/// What a token holds now: its provisioning permissions met with what its
/// maker holds (the operator holds everything); None when the maker can no
/// longer act (deleted, suspended, disabled, or unknown for a token older
/// than makers being recorded).
async fn token_access(db: &mut Db<'_>, row: &ScimToken) -> Result<Option<Access>> {
    let tenant_id = row.tenant_id;
    let made_for = Access::from_permissions(
        &provisioning_permissions(),
        Source::Role("SCIM provisioning".into()),
    );
    let maker = row.minted_by.as_deref().and_then(|m| Maker::parse(m).ok());
    let maker = match maker {
        None => return Ok(None),
        Some(Maker::Operator) => return Ok(Some(made_for)),
        Some(Maker::Subject(subject)) => subject,
    };
    let Some(held) = super::access::held_by_maker(db, tenant_id, maker).await? else {
        return Ok(None);
    };
    Ok(Some(made_for.meet(&held)))
}

/// The principal of a SCIM token, or None if it names no token. A token
/// of a suspended tenant is refused, and so is one whose maker can no
/// longer act.
///
/// The principal is kept per instance (`callers.rs`) while the tenant's
/// access version stays the one read before resolving it, as a bearer
/// token's is: revoking the token, or a change to its maker, reaches the
/// next request. A token made by a platform administrator of another
/// tenant is resolved on every request (changes to that user move the
/// other tenant's version).
pub async fn authenticate(app: &App, secret: &str) -> Result<Option<Principal>> {
    let now = Utc::now();
    let hash = hash_secret(secret);
    let key = CallerKey::Scim(hash.clone());
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let tenant = match app.callers.tenant_of(&key) {
        Some(t) => t,
        None => match repo::scim_tokens::find_by_hash(db, &hash).await? {
            Some((row, _)) => row.tenant_id,
            None => return Ok(None),
        },
    };
    let Some(version) = repo::tenants::access_version(db, tenant).await? else {
        return Ok(None);
    };
    if let Some(hit) = app.callers.get(&key, tenant, version, now) {
        if hit.touched_at < now - chrono::Duration::seconds(60) {
            if let Subject::ScimToken { id } = hit.principal.subject {
                repo::scim_tokens::touch(db, id, now).await?;
            }
            app.callers.touched(&key, now);
        }
        return Ok(Some(hit.principal));
    }
    // Everything below is read after the version.
    let Some((row, tenant_status)) = repo::scim_tokens::find_by_hash(db, &hash).await? else {
        return Ok(None);
    };
    if tenant_status == TenantStatus::Suspended.as_str() {
        return Err(Error::TenantSuspended);
    }
    let Some(access) = token_access(db, &row).await? else {
        return Err(Error::Unauthenticated(
            "The maker of this SCIM token can no longer act (deleted, suspended or disabled); create a new token"
                .into(),
        ));
    };
    repo::scim_tokens::touch(db, row.id, now).await?;
    let cacheable = row.tenant_id == tenant
        && match row.minted_by.as_deref().and_then(|m| Maker::parse(m).ok()) {
            Some(Maker::Subject(SubjectRef::User(id))) => {
                repo::users::find(db, tenant, id).await?.is_some()
            }
            _ => true,
        };
    let principal = Principal {
        subject: Subject::ScimToken { id: row.id },
        label: row.name,
        home_tenant: row.tenant_id,
        platform_admin: false,
        permissions: access.permissions(),
        access,
        // Not an OAuth credential: it reaches the SCIM service only.
        scopes: Scopes::none(),
    };
    if cacheable {
        app.callers.put(
            key,
            version,
            principal.clone(),
            now + chrono::Duration::days(1),
            now,
        );
    }
    Ok(Some(principal))
}

/// The tenant of a SCIM token, remembered briefly so that a sync job's
/// requests cost the rate limiter no query each; None for a token that
/// names nothing. Called before any use case (the rate limiter), it runs
/// its own query through the gate.
pub async fn tenant_of(gate: &Gate, secret: &str) -> Result<Option<Uuid>> {
    let hash = hash_secret(secret);
    if let Some(tenant) = gate.limits().cached_token_tenant(&hash) {
        return Ok(tenant);
    }
    let key = hash.clone();
    let tenant = gate
        .run(move |app| async move {
            let mut conn = app.db.get().await?;
            let found = repo::scim_tokens::find_by_hash(&mut conn.db(), &key).await?;
            Ok::<_, Error>(found.map(|(token, _)| token.tenant_id))
        })
        .await?;
    gate.limits().remember_token_tenant(hash, tenant);
    Ok(tenant)
}
