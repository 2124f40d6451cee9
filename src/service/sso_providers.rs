//! SSO provider configuration (docs/api/iam.md, SCIM tokens and SSO providers):
//! a tenant's administrators (`settings:read`, `settings:write`: a provider is
//! part of the tenant's configuration) store, change, list and delete the
//! OpenID Connect providers people may sign in with. The client secret is
//! sealed, since it must be sent to the provider; reads show a mask in its
//! place.

use chrono::Utc;
use serde_json::json;

use super::{audit, App};
use crate::domain::access::SubjectRef;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::principal::{Caller, Subject};
use crate::domain::session::Origin;
use crate::domain::sso::{check_scheme, PropertiesInput, ProviderKind, SecretChange, SsoProvider};
use crate::domain::{Error, Problems, Result};
use crate::repo::{self, Locked};
use crate::transaction;

/// A provider as a client writes it (create, and update with `id`).
pub struct ProviderInput {
    pub scheme: Option<String>,
    pub display_name: Option<String>,
    pub enabled: Option<bool>,
    pub protocol: Option<String>,
    pub properties: Option<PropertiesInput>,
}

/// The largest icon accepted, and the image types it may be.
pub const MAX_ICON_BYTES: usize = 128 * 1024;
pub const ICON_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/svg+xml", "image/webp"];

/// Checks every field, reporting each fault by name; `existing` keeps the
/// stored secret unless the input changes it.
fn validated(
    app: &App,
    caller: &Caller,
    kind: ProviderKind,
    input: ProviderInput,
    existing: Option<&SsoProvider>,
) -> Result<SsoProvider> {
    let mut problems = Problems::default();
    let scheme = input.scheme.unwrap_or_default();
    if scheme.is_empty() {
        problems.add("scheme", "is required");
    } else {
        problems.check("scheme", check_scheme(&scheme));
    }
    let display_name = input.display_name.unwrap_or_default();
    if display_name.trim().is_empty() || display_name.chars().count() > 100 {
        problems.add("displayName", "is required (1 to 100 characters)");
    }
    if input.enabled.is_none() {
        problems.add("enabled", "is required (true or false)");
    }
    match input.protocol.as_deref() {
        Some("oidc") => {}
        Some("saml2p") => problems.add("type", "SAML providers are not supported; use \"oidc\""),
        Some(_) => problems.add("type", "must be \"oidc\""),
        None => problems.add("type", "is required (\"oidc\")"),
    }
    let Some(props) = input.properties else {
        problems.add("properties", "is required");
        problems.into_result()?;
        unreachable!("a missing field is an error");
    };
    let properties = props.validate(kind, &mut problems);
    problems.into_result()?;
    let context = SsoProvider::secret_context(caller.tenant_id);
    let client_secret_sealed = match props.secret_change() {
        SecretChange::Keep => existing.and_then(|p| p.client_secret_sealed.clone()),
        SecretChange::Clear => None,
        SecretChange::Set(secret) => Some(app.sealer.seal(secret.as_bytes(), &context)?),
    };
    let now = Utc::now();
    Ok(SsoProvider {
        id: existing.map_or(0, |p| p.id),
        tenant_id: caller.tenant_id,
        kind,
        scheme,
        display_name: display_name.trim().to_string(),
        enabled: input.enabled.unwrap_or(false),
        protocol: "oidc".into(),
        properties,
        client_secret_sealed,
        has_icon: existing.is_some_and(|p| p.has_icon),
        created_at: existing.map_or(now, |p| p.created_at),
        updated_at: now,
    })
}

fn event(caller: &Caller, action: &'static str, p: &SsoProvider, origin: &Origin) -> AuditEvent {
    AuditEvent::new(caller.tenant_id, Actor::from(caller), action, origin)
        .target("sso_provider", p.id)
        .details(json!({ "scheme": p.scheme, "kind": p.kind.as_str(), "enabled": p.enabled }))
}

/// A provider is a way into accounts: it signs in only the accounts that
/// whoever configured it last could manage (`sso::within_reach`), so the
/// configurer is recorded on every change.
async fn configured_by(db: &mut crate::db::Db<'_>, caller: &Caller, id: i64) -> Result<()> {
    let maker = match caller.principal.subject {
        Subject::User { id, .. } => SubjectRef::User(id),
        Subject::Client { id, .. } => SubjectRef::Client(id),
        Subject::ScimToken { .. } | Subject::Operator => {
            return Err(Error::Forbidden(
                "Sign-in is configured by a user or a client, whose reach bounds it".into(),
            ))
        }
    };
    repo::sso::set_configured_by(db, id, &maker.to_string()).await
}

pub async fn create(
    app: &App,
    caller: &Caller,
    kind: ProviderKind,
    input: ProviderInput,
    origin: &Origin,
) -> Result<SsoProvider> {
    caller.require("settings:write")?;
    let mut provider = validated(app, caller, kind, input, None)?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        provider.id = repo::sso::insert(tx, &provider).await?;
        configured_by(tx, caller, provider.id).await?;
        audit(tx, event(caller, "sso_provider.created", &provider, origin)).await?;
        Ok(provider)
    })
}

/// A provider of the caller's tenant and of `kind` (a Google provider is
/// not found under /sso/custom).
async fn of_kind(
    db: &mut crate::db::Db<'_>,
    caller: &Caller,
    kind: Option<ProviderKind>,
    id: i64,
) -> Result<SsoProvider> {
    repo::sso::find(db, caller.tenant_id, id)
        .await?
        .filter(|p| kind.is_none_or(|k| p.kind == k))
        .ok_or(Error::NotFound("SSO provider"))
}

pub async fn get(
    app: &App,
    caller: &Caller,
    kind: Option<ProviderKind>,
    id: i64,
) -> Result<SsoProvider> {
    caller.require("settings:read")?;
    let mut conn = app.db.get().await?;
    of_kind(&mut conn.db(), caller, kind, id).await
}

/// A provider's icon as stored: its bytes and content type.
pub async fn icon(
    app: &App,
    caller: &Caller,
    kind: ProviderKind,
    id: i64,
) -> Result<(Vec<u8>, String)> {
    caller.require("settings:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    of_kind(db, caller, Some(kind), id).await?;
    repo::sso::icon(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("SSO provider icon"))
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<SsoProvider>> {
    caller.require("settings:read")?;
    let mut conn = app.db.get().await?;
    repo::sso::list(&mut conn.db(), caller.tenant_id).await
}

pub async fn update(
    app: &App,
    caller: &Caller,
    kind: ProviderKind,
    id: i64,
    input: ProviderInput,
    origin: &Origin,
) -> Result<SsoProvider> {
    caller.require("settings:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let row = Locked::SsoProvider {
            tenant: caller.tenant_id,
            id,
        };
        repo::lock_for_update(tx, row).await?;
        let existing = of_kind(tx, caller, Some(kind), id).await?;
        let provider = validated(app, caller, kind, input, Some(&existing))?;
        repo::sso::update(tx, &provider).await?;
        configured_by(tx, caller, provider.id).await?;
        audit(tx, event(caller, "sso_provider.updated", &provider, origin)).await?;
        Ok(provider)
    })
}

/// Deleting a provider unlinks every account linked through it and ends
/// sign-ins in progress with it; users and their sessions stay.
pub async fn delete(
    app: &App,
    caller: &Caller,
    kind: Option<ProviderKind>,
    id: i64,
    origin: &Origin,
) -> Result<()> {
    caller.require("settings:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let existing = of_kind(tx, caller, kind, id).await?;
        repo::sso::delete(tx, caller.tenant_id, id).await?;
        audit(tx, event(caller, "sso_provider.deleted", &existing, origin)).await?;
        Ok(())
    })
}

/// Sets the icon shown on the provider's sign-in button.
pub async fn set_icon(
    app: &App,
    caller: &Caller,
    id: i64,
    content_type: &str,
    icon: Vec<u8>,
    origin: &Origin,
) -> Result<()> {
    caller.require("settings:write")?;
    if icon.is_empty() {
        return Err(Error::invalid("icon", "is empty"));
    }
    if icon.len() > MAX_ICON_BYTES {
        return Err(Error::invalid(
            "icon",
            format!("must be at most {} KiB", MAX_ICON_BYTES / 1024),
        ));
    }
    if !ICON_TYPES.contains(&content_type) {
        return Err(Error::invalid(
            "icon",
            "must be a PNG, JPEG, SVG or WebP image",
        ));
    }
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let existing = of_kind(tx, caller, None, id).await?;
        repo::sso::set_icon(tx, caller.tenant_id, id, &icon, content_type, Utc::now()).await?;
        let e = event(caller, "sso_provider.icon_updated", &existing, origin);
        audit(tx, e).await?;
        Ok(())
    })
}
