//! OAuth clients (docs/api/iam.md, OAuth clients and secrets): managed by the
//! tenant's administrators (`client:read`, `client:write`), authenticated by
//! secret at the OAuth endpoints.
//!
//! Secret values are chosen by the caller (8 to 32 characters),
//! so they may be guessable: they are hashed with argon2id, like
//! passwords, on the bounded blocking pool, never with a fast hash.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::passwords::Password;
use super::{audit, App};
use crate::db::Db;
use crate::domain::access::SubjectRef;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::client::{
    check_consistency, validate_description, validate_expiration, validate_grant_types,
    validate_name, validate_redirect_uris, validate_secret_value, Client, ClientSecret,
    MAX_LIVE_SECRETS,
};
use crate::domain::list::{Listing, PageRequest};
use crate::domain::principal::Caller;
use crate::domain::scope::validate_scopes;
use crate::domain::session::Origin;
use crate::domain::tenant::TenantStatus;
use crate::domain::{Error, OAuthError, Problems, Result};
use crate::repo::{self, Locked};
use crate::transaction;

pub async fn list(
    app: &App,
    caller: &Caller,
    search: Option<String>,
    page: PageRequest,
) -> Result<Listing<Client>> {
    caller.require("client:read")?;
    let mut conn = app.db.get().await?;
    repo::clients::list(&mut conn.db(), caller.tenant_id, search.as_deref(), page).await
}

pub async fn get(app: &App, caller: &Caller, id: Uuid) -> Result<Client> {
    caller.require("client:read")?;
    let mut conn = app.db.get().await?;
    found(repo::clients::find(&mut conn.db(), caller.tenant_id, id).await?)
}

fn found(client: Option<Client>) -> Result<Client> {
    client.ok_or(Error::NotFound("Client"))
}

pub struct NewClient {
    pub name: String,
    pub description: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
}

/// A new client has no secrets and is enabled.
pub async fn create(
    app: &App,
    caller: &Caller,
    input: NewClient,
    origin: &Origin,
) -> Result<Client> {
    caller.require("client:write")?;
    let mut problems = Problems::default();
    let name = problems.check("name", validate_name(&input.name));
    let description = problems.check("description", validate_description(&input.description));
    let grant_types = problems.check(
        "allowedGrantTypes",
        validate_grant_types(&input.grant_types),
    );
    let redirect_uris =
        problems.check("redirectUris", validate_redirect_uris(&input.redirect_uris));
    let scopes = problems.check("allowedScopes", validate_scopes(&input.scopes));
    if let (Some(g), Some(r)) = (&grant_types, &redirect_uris) {
        problems.check("redirectUris", check_consistency(g, r));
    }
    problems.into_result()?;
    let now = Utc::now();
    let client = Client {
        id: Uuid::now_v7(),
        tenant_id: caller.tenant_id,
        name: name.unwrap_or_default(),
        description: description.unwrap_or_default(),
        grant_types: grant_types.unwrap_or_default(),
        redirect_uris: redirect_uris.unwrap_or_default(),
        scopes: scopes.unwrap_or_default(),
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::clients::insert(tx, &client, caller.principal.subject.id()).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "client.created",
            origin,
        )
        .target("client", client.id)
        .details(json!({
            "name": client.name,
            "allowedGrantTypes": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
            "allowedScopes": client.scopes,
        }));
        audit(tx, event).await
    })?;
    Ok(client)
}

/// Fields to change; None leaves a field as it is.
#[derive(Debug, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// Changes a client. Disabling it revokes every grant it holds, so that
/// its tokens stop working at once and stay dead if it is enabled again.
pub async fn update(
    app: &App,
    caller: &Caller,
    id: Uuid,
    changes: ClientChanges,
    origin: &Origin,
) -> Result<Client> {
    caller.require("client:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let row = Locked::Client {
            tenant: caller.tenant_id,
            id,
        };
        repo::lock_for_update(tx, row).await?;
        let mut client = managed(tx, caller, id).await?;
        let mut problems = Problems::default();
        let name = changes
            .name
            .and_then(|v| problems.check("name", validate_name(&v)));
        let description = changes
            .description
            .and_then(|v| problems.check("description", validate_description(&v)));
        let grant_types = changes
            .grant_types
            .and_then(|v| problems.check("allowedGrantTypes", validate_grant_types(&v)));
        let redirect_uris = changes
            .redirect_uris
            .and_then(|v| problems.check("redirectUris", validate_redirect_uris(&v)));
        let scopes = changes
            .scopes
            .and_then(|v| problems.check("allowedScopes", validate_scopes(&v)));
        let mut changed = Changed::default();
        changed.set(&mut client.name, name, "name");
        changed.set(&mut client.description, description, "description");
        changed.set(&mut client.grant_types, grant_types, "allowedGrantTypes");
        changed.set(&mut client.redirect_uris, redirect_uris, "redirectUris");
        changed.set(&mut client.scopes, scopes, "allowedScopes");
        problems.check(
            "redirectUris",
            check_consistency(&client.grant_types, &client.redirect_uris),
        );
        problems.into_result()?;
        let disabled = changes.enabled == Some(false) && client.enabled;
        changed.set(&mut client.enabled, changes.enabled, "enabled");
        if changed.0.is_empty() {
            return Ok(client);
        }
        let now = Utc::now();
        client.updated_at = now;
        repo::clients::update(tx, &client).await?;
        let revoked = if disabled {
            repo::grants::revoke_for_client(tx, client.id, now).await?
        } else {
            0
        };
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            if disabled {
                "client.disabled"
            } else {
                "client.updated"
            },
            origin,
        )
        .target("client", client.id)
        .details(
            json!({ "changed": changed.0, "enabled": client.enabled, "grantsRevoked": revoked }),
        );
        audit(tx, event).await?;
        Ok(client)
    })
}

/// A client of the caller's tenant the caller may manage: its
/// configuration and secrets are credentials for what it holds, so the
/// caller must hold all of that (`access::require_manages`).
async fn managed(db: &mut Db<'_>, caller: &Caller, id: Uuid) -> Result<Client> {
    let client = found(repo::clients::find(db, caller.tenant_id, id).await?)?;
    let subject = SubjectRef::Client(client.id);
    super::access::require_manages(db, caller, &[subject], "manage this client").await?;
    Ok(client)
}

/// The fields an update changed.
#[derive(Default)]
struct Changed(Vec<&'static str>);

impl Changed {
    /// Writes `value`, when given, into `slot`, noting `field` if it differs.
    fn set<T: PartialEq>(&mut self, slot: &mut T, value: Option<T>, field: &'static str) {
        if let Some(v) = value {
            if *slot != v {
                self.0.push(field);
                *slot = v;
            }
        }
    }
}

/// Deletes a client with its secrets and grants: its tokens stop working
/// on their next use.
pub async fn delete(app: &App, caller: &Caller, id: Uuid, origin: &Origin) -> Result<()> {
    caller.require("client:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let client = managed(tx, caller, id).await?;
        repo::clients::delete(tx, caller.tenant_id, id).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "client.deleted",
            origin,
        )
        .target("client", id)
        .details(json!({ "name": client.name }));
        audit(tx, event).await
    })
}

pub async fn secrets(app: &App, caller: &Caller, client_id: Uuid) -> Result<Vec<ClientSecret>> {
    caller.require("client:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    found(repo::clients::find(db, caller.tenant_id, client_id).await?)?;
    repo::clients::secrets(db, client_id).await
}

pub struct NewSecret {
    pub value: String,
    pub description: String,
    pub expiration: Option<DateTime<Utc>>,
}

/// Adds a secret; its value is returned this once and stored as argon2id.
pub async fn create_secret(
    app: &App,
    caller: &Caller,
    client_id: Uuid,
    input: NewSecret,
    origin: &Origin,
) -> Result<(ClientSecret, String)> {
    caller.require("client:write")?;
    let now = Utc::now();
    let mut problems = Problems::default();
    problems.check("value", validate_secret_value(&input.value));
    let description = problems.check("description", validate_description(&input.description));
    if let Some(at) = input.expiration {
        problems.check("expiration", validate_expiration(at, now));
    }
    {
        // Unknown clients are 404 before any hashing is spent on them.
        let mut conn = app.db.get().await?;
        managed(&mut conn.db(), caller, client_id).await?;
    }
    problems.into_result()?;
    // No connection is held while hashing.
    let hash = app
        .passwords
        .hash(&Password::new(input.value.clone()))
        .await?;
    let secret = ClientSecret {
        id: Uuid::now_v7(),
        client_id,
        description: description.unwrap_or_default(),
        expires_at: input.expiration,
        created_at: now,
        last_used_at: None,
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        // The client stands for its set of secrets: counted one at a time.
        let row = Locked::Client {
            tenant: caller.tenant_id,
            id: client_id,
        };
        repo::lock_for_update(tx, row).await?;
        managed(tx, caller, client_id).await?;
        if repo::clients::live_secret_hashes(tx, client_id, now)
            .await?
            .len()
            >= MAX_LIVE_SECRETS
        {
            return Err(Error::Conflict {
                field: None,
                message: format!(
                    "A client holds at most {MAX_LIVE_SECRETS} secrets that have not expired; delete one first"
                ),
            });
        }
        repo::clients::insert_secret(tx, &secret, &hash, caller.principal.subject.id()).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "client.secret_created",
            origin,
        )
        .target("client", client_id)
        .details(json!({
            "secretId": secret.id,
            "description": secret.description,
            "expiration": secret.expires_at.map(|t| t.to_rfc3339()),
        }));
        audit(tx, event).await
    })?;
    Ok((secret, input.value))
}

/// Deletes a secret: it no longer authenticates. Tokens already issued
/// with it live out their lifetime, as after any rotation.
pub async fn delete_secret(
    app: &App,
    caller: &Caller,
    client_id: Uuid,
    secret_id: Uuid,
    origin: &Origin,
) -> Result<()> {
    caller.require("client:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        managed(tx, caller, client_id).await?;
        if !repo::clients::delete_secret(tx, client_id, secret_id).await? {
            return Err(Error::NotFound("Client secret"));
        }
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "client.secret_deleted",
            origin,
        )
        .target("client", client_id)
        .details(json!({ "secretId": secret_id }));
        audit(tx, event).await
    })
}

/// What a client presented at an OAuth endpoint (RFC 6749 2.3.1). Not
/// `Debug`: the secret is never printed.
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    pub secret: Option<String>,
}

const AUTH_FAILED: &str = "Client authentication failed";

fn invalid_client(description: &str) -> Error {
    Error::oauth(OAuthError::InvalidClient, description)
}

/// The failure counters of a client authentication: per address and per
/// client id, with the sign-in limits (ITHBAT_AUTH_RATE_LIMIT_PER_IP and
/// _PER_ACCOUNT).
fn failure_limits(app: &App, creds: &Credentials, origin: &Origin) -> [(String, u32); 2] {
    let ip = origin.ip.as_deref().unwrap_or("unknown");
    [
        (
            format!("oauth-fail-ip:{ip}"),
            app.config.auth_rate_limit_per_ip,
        ),
        (
            format!("oauth-fail-client:{}", creds.client_id),
            app.config.auth_rate_limit_per_account,
        ),
    ]
}

/// Authenticates a client by secret. An unknown client costs one argon2
/// verification like a known one; a failure for a known client is
/// audited; whether a client is disabled is told only to someone who
/// knows its secret. Failures are limited per address and per client
/// (guessing is what needs stopping; a service asking for tokens, or a
/// resource server introspecting them, is not slowed).
pub async fn authenticate(app: &App, creds: &Credentials, origin: &Origin) -> Result<Client> {
    let limits = failure_limits(app, creds, origin);
    for (key, limit) in &limits {
        app.limits.peek(key, *limit).await.check()?;
    }
    let outcome = verify(app, creds, origin).await;
    if let Err(Error::OAuth {
        error: OAuthError::InvalidClient,
        ..
    }) = &outcome
    {
        for (key, limit) in &limits {
            app.limits.hit(key, *limit).await;
        }
    }
    outcome
}

async fn verify(app: &App, creds: &Credentials, origin: &Origin) -> Result<Client> {
    let Some(secret) = &creds.secret else {
        return Err(invalid_client(
            "Client authentication is required (client_secret_basic or client_secret_post)",
        ));
    };
    let now = Utc::now();
    let found = match Uuid::parse_str(&creds.client_id) {
        Err(_) => None,
        Ok(id) => {
            let mut conn = app.db.get().await?;
            repo::clients::find_for_authentication(&mut conn.db(), id, now).await?
        }
    };
    let password = Password::new(secret.clone());
    let Some((client, tenant_status, secrets)) = found else {
        app.passwords.verify(&password, None).await?;
        return Err(invalid_client(AUTH_FAILED));
    };
    if secrets.is_empty() {
        app.passwords.verify(&password, None).await?;
    }
    let mut matched = secrets
        .iter()
        .find(|s| verified::recalls(s.id, &s.hash, secret));
    if matched.is_none() {
        for s in &secrets {
            if app.passwords.verify(&password, Some(&s.hash)).await? {
                verified::remember(s.id, &s.hash, secret);
                matched = Some(s);
                break;
            }
        }
    }
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let Some(matched) = matched else {
        let event = AuditEvent::new(
            client.tenant_id,
            Actor::Anonymous,
            "oauth.client_auth_failed",
            origin,
        )
        .failed()
        .target("client", client.id);
        audit(db, event).await?;
        return Err(invalid_client(AUTH_FAILED));
    };
    // Last use is recorded at most once a minute: a service asking for a
    // token per request writes nothing (SQLite would take its write lock
    // for an UPDATE that changes no row).
    if matched
        .last_used_at
        .is_none_or(|t| t < now - chrono::Duration::seconds(60))
    {
        repo::clients::touch_secret(db, matched.id, now).await?;
    }
    if !client.enabled {
        return Err(invalid_client("This client is disabled"));
    }
    if tenant_status == TenantStatus::Suspended {
        return Err(invalid_client("The tenant of this client is suspended"));
    }
    Ok(client)
}

/// A public client (RFC 6749 2.1: one that cannot keep a secret, such as a
/// single-page or native app) presenting only its `client_id`. A client is
/// public while it has no secrets at all; one that ever had a secret must
/// authenticate with a live one. Public clients are held to PKCE, which
/// the authorization code grant requires of everyone.
pub async fn authenticate_public(app: &App, client_id: &str, origin: &Origin) -> Result<Client> {
    let refused = || invalid_client("Client authentication is required for this client");
    let id = Uuid::parse_str(client_id).map_err(|_| invalid_client(AUTH_FAILED))?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let (client, tenant_status) = repo::clients::find_any(db, id)
        .await?
        .ok_or_else(|| invalid_client(AUTH_FAILED))?;
    if !repo::clients::secrets(db, client.id).await?.is_empty() {
        let event = AuditEvent::new(
            client.tenant_id,
            Actor::Anonymous,
            "oauth.client_auth_failed",
            origin,
        )
        .failed()
        .target("client", client.id)
        .details(json!({ "reason": "secret required" }));
        audit(db, event).await?;
        return Err(refused());
    }
    if !client.enabled {
        return Err(invalid_client("This client is disabled"));
    }
    if tenant_status == TenantStatus::Suspended {
        return Err(invalid_client("The tenant of this client is suspended"));
    }
    Ok(client)
}

/// Secrets that verified recently, so that a client presenting the same
/// secret again costs one SHA-256 instead of one argon2id (a machine asks
/// for tokens and introspects far more often than a person signs in).
/// Only a success is remembered, for ten minutes, as a digest keyed with a
/// random per-process key and bound to the stored hash: a wrong secret
/// still costs argon2 and counts toward the failure limits, and a secret
/// deleted, expired or replaced is no longer among the live hashes looked
/// up on every request, so its memory is never consulted.
mod verified {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    use uuid::Uuid;

    const TTL: Duration = Duration::from_secs(600);
    const MAX_ENTRIES: usize = 10_000;

    struct Memory {
        key: [u8; 32],
        entries: HashMap<Uuid, ([u8; 32], Instant)>,
    }

    fn memory() -> &'static Mutex<Memory> {
        static MEMORY: OnceLock<Mutex<Memory>> = OnceLock::new();
        MEMORY.get_or_init(|| {
            Mutex::new(Memory {
                key: rand::random(),
                entries: HashMap::new(),
            })
        })
    }

    fn digest(key: &[u8; 32], hash: &str, secret: &str) -> [u8; 32] {
        let mut d = Sha256::new();
        d.update(key);
        d.update((hash.len() as u64).to_be_bytes());
        d.update(hash.as_bytes());
        d.update(secret.as_bytes());
        d.finalize().into()
    }

    /// Did `secret` verify against the stored `hash` of secret `id` lately?
    pub(super) fn recalls(id: Uuid, hash: &str, secret: &str) -> bool {
        let m = memory().lock().expect("verified secrets");
        match m.entries.get(&id) {
            Some((d, at)) if at.elapsed() < TTL => {
                bool::from(digest(&m.key, hash, secret).ct_eq(d))
            }
            _ => false,
        }
    }

    pub(super) fn remember(id: Uuid, hash: &str, secret: &str) {
        let mut m = memory().lock().expect("verified secrets");
        if m.entries.len() >= MAX_ENTRIES {
            m.entries.retain(|_, (_, at)| at.elapsed() < TTL);
            if m.entries.len() >= MAX_ENTRIES {
                m.entries.clear();
            }
        }
        let d = digest(&m.key, hash, secret);
        m.entries.insert(id, (d, Instant::now()));
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn only_the_same_secret_against_the_same_hash() {
            let id = Uuid::now_v7();
            assert!(!recalls(id, "$argon2id$a", "s3cret!"));
            remember(id, "$argon2id$a", "s3cret!");
            assert!(recalls(id, "$argon2id$a", "s3cret!"));
            assert!(!recalls(id, "$argon2id$a", "s3cret?"), "another secret");
            assert!(!recalls(id, "$argon2id$b", "s3cret!"), "a replaced hash");
            assert!(
                !recalls(Uuid::now_v7(), "$argon2id$a", "s3cret!"),
                "another secret id"
            );
        }
    }
}
