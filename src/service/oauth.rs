//! OAuth 2.0 for machines: the token endpoint's grants (RFC 6749 4.4
//! client_credentials, 6 refresh_token), introspection (RFC 7662),
//! revocation (RFC 7009), and turning a client's access token back into a
//! caller on every request.
//!
//! Every token request creates a grant, a client's "session": its access
//! tokens carry the grant as `sid` and its refresh tokens point at it, so
//! revoking one token revokes them all. A new grant type (authorization
//! code) is one more `TokenRequest` variant and one more function here.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::tokens::{random_token, AccessClaims, ClientTokenSubject};
use super::{audit, authentication, App};
use crate::db::Db;
use crate::domain::access::SubjectRef;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::client::{Client, GrantType};
use crate::domain::principal::{Principal, Subject};
use crate::domain::scope::{self, ScopeSet, Scopes};
use crate::domain::secret::hash_secret;
use crate::domain::session::Origin;
use crate::domain::tenant::TenantStatus;
use crate::domain::{Error, OAuthError, Result};
use crate::repo;
use crate::repo::grants::Grant;
use crate::transaction;

/// Client refresh tokens start so (256 random bits follow).
pub const REFRESH_PREFIX: &str = "crt_";

/// A token request, after its grant type's parameters were read.
pub enum TokenRequest {
    ClientCredentials {
        scope: Option<ScopeSet>,
    },
    /// A user's sign-in, redeemed (served by `service::code_flow`).
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    RefreshToken {
        refresh_token: String,
        scope: Option<ScopeSet>,
    },
}

impl TokenRequest {
    fn grant_type(&self) -> GrantType {
        match self {
            TokenRequest::ClientCredentials { .. } => GrantType::ClientCredentials,
            TokenRequest::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            TokenRequest::RefreshToken { .. } => GrantType::RefreshToken,
        }
    }
}

/// A successful token response (RFC 6749 5.1).
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: ScopeSet,
    pub refresh_token: Option<String>,
}

fn oauth(error: OAuthError, description: impl Into<String>) -> Error {
    Error::oauth(error, description)
}

/// Issues tokens to an authenticated client.
pub async fn token(
    app: &App,
    client: &Client,
    request: TokenRequest,
    origin: &Origin,
) -> Result<IssuedToken> {
    let grant_type = request.grant_type();
    if !client.allows(grant_type) {
        return Err(oauth(
            OAuthError::UnauthorizedClient,
            format!("This client may not use the {} grant", grant_type.as_str()),
        ));
    }
    match request {
        TokenRequest::ClientCredentials { scope } => {
            client_credentials(app, client, scope, origin).await
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh(app, client, &refresh_token, scope, origin).await,
        TokenRequest::AuthorizationCode { .. } => Err(oauth(
            OAuthError::InvalidRequest,
            "An authorization code is redeemed for a user, not for the client",
        )),
    }
}

fn actor(client: &Client) -> Actor {
    Actor::Client {
        id: client.id,
        label: client.name.clone(),
    }
}

fn new_refresh_token() -> String {
    format!("{REFRESH_PREFIX}{}", random_token(32))
}

/// RFC 6749 4.4: the client acts as itself. Without `scope`, it gets every
/// scope it is allowed that needs no user (3.3: a documented default).
async fn client_credentials(
    app: &App,
    client: &Client,
    requested: Option<ScopeSet>,
    origin: &Origin,
) -> Result<IssuedToken> {
    let allowed = client.allowed_scopes().without_identity();
    let scope = match requested {
        None => allowed,
        Some(requested) => {
            if let Some(identity) = requested
                .iter()
                .find(|s| scope::find(s).is_some_and(|info| info.identity))
            {
                return Err(oauth(
                    OAuthError::InvalidScope,
                    format!("{identity} is about a user: client_credentials cannot request it"),
                ));
            }
            let refused = requested.missing_from(&allowed);
            if !refused.is_empty() {
                return Err(oauth(
                    OAuthError::InvalidScope,
                    format!("This client is not allowed the scope {}", refused.join(" ")),
                ));
            }
            requested
        }
    };
    let now = Utc::now();
    let refresh_token = client
        .allows(GrantType::RefreshToken)
        .then(new_refresh_token);
    let access_end = now + Duration::seconds(app.tokens.access_ttl());
    let refresh_end = now + Duration::seconds(app.config.refresh_token_ttl_secs);
    let grant = Grant {
        id: Uuid::now_v7(),
        client_id: client.id,
        grant_type: GrantType::ClientCredentials.as_str().into(),
        scope: scope.to_string(),
        created_at: now,
        expires_at: if refresh_token.is_some() {
            refresh_end.max(access_end)
        } else {
            access_end
        },
        revoked_at: None,
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::grants::insert(tx, &grant).await?;
        if let Some(t) = &refresh_token {
            repo::grants::insert_refresh_token(tx, &hash_secret(t), grant.id, now, refresh_end)
                .await?;
        }
        let event = AuditEvent::new(
            client.tenant_id,
            actor(client),
            "oauth.token_issued",
            origin,
        )
        .target("oauth_grant", grant.id)
        .details(json!({
            "grantType": grant.grant_type,
            "scope": grant.scope,
            "refreshToken": refresh_token.is_some(),
        }));
        audit(tx, event).await
    })?;
    issue(app, client, grant.id, scope, now, refresh_token)
}

fn issue(
    app: &App,
    client: &Client,
    grant_id: Uuid,
    scope: ScopeSet,
    now: DateTime<Utc>,
    refresh_token: Option<String>,
) -> Result<IssuedToken> {
    let subject = ClientTokenSubject {
        client_id: client.id,
        tenant_id: client.tenant_id,
        grant_id,
        scope: &scope,
    };
    Ok(IssuedToken {
        access_token: app.tokens.client_access_token(&subject, now)?,
        expires_in: app.tokens.access_ttl(),
        scope,
        refresh_token,
    })
}

fn stored_scope(grant: &Grant) -> Result<ScopeSet> {
    ScopeSet::parse(&grant.scope).map_err(|e| Error::internal(format!("stored grant scope: {e}")))
}

/// RFC 6749 6: a refresh token works once, for the client it was issued
/// to; a reused one revokes its grant (it leaked, or is being replayed).
/// `scope` may narrow, never widen, the grant; a scope the client has
/// since lost is not renewed.
async fn refresh(
    app: &App,
    client: &Client,
    refresh_token: &str,
    requested: Option<ScopeSet>,
    origin: &Origin,
) -> Result<IssuedToken> {
    let now = Utc::now();
    let hash = hash_secret(refresh_token);
    let rotated = new_refresh_token();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let outcome = transaction!(db, |tx| {
        let Some(grant_id) = repo::grants::claim_refresh_token(tx, &hash, client.id, now).await?
        else {
            return Ok(None);
        };
        let state = repo::grants::find_state(tx, grant_id)
            .await?
            .ok_or_else(|| Error::internal("refresh token without grant"))?;
        if !state.grant.is_live(now) {
            return Err(oauth(
                OAuthError::InvalidGrant,
                "The grant of this refresh token was revoked or has expired",
            ));
        }
        let granted = stored_scope(&state.grant)?;
        let scope = match requested {
            Some(r) if !r.is_subset(&granted) => {
                return Err(oauth(
                    OAuthError::InvalidScope,
                    format!(
                        "The scope {} was not granted with this refresh token",
                        r.missing_from(&granted).join(" ")
                    ),
                ))
            }
            Some(r) => r,
            None => granted,
        }
        .intersection(&client.allowed_scopes());
        let refresh_end = now + Duration::seconds(app.config.refresh_token_ttl_secs);
        let access_end = now + Duration::seconds(app.tokens.access_ttl());
        repo::grants::insert_refresh_token(tx, &hash_secret(&rotated), grant_id, now, refresh_end)
            .await?;
        repo::grants::extend(tx, grant_id, refresh_end.max(access_end)).await?;
        let event = AuditEvent::new(
            client.tenant_id,
            actor(client),
            "oauth.token_refreshed",
            origin,
        )
        .target("oauth_grant", grant_id)
        .details(json!({ "scope": scope.to_string() }));
        audit(tx, event).await?;
        Ok(Some((grant_id, scope)))
    })?;
    if let Some((grant_id, scope)) = outcome {
        return issue(app, client, grant_id, scope, now, Some(rotated));
    }
    let reused = repo::grants::find_refresh_token(db, &hash)
        .await?
        .filter(|t| t.used_at.is_some() && t.grant.client_id == client.id);
    if let Some(t) = reused {
        transaction!(db, |tx| {
            repo::grants::revoke(tx, t.grant.id, now).await?;
            let event = AuditEvent::new(
                client.tenant_id,
                actor(client),
                "oauth.refresh_token_reused",
                origin,
            )
            .failed()
            .target("oauth_grant", t.grant.id);
            audit(tx, event).await
        })?;
        return Err(oauth(
            OAuthError::InvalidGrant,
            "This refresh token was already used; its grant has been revoked",
        ));
    }
    Err(oauth(
        OAuthError::InvalidGrant,
        "The refresh token is invalid, expired or was not issued to this client",
    ))
}

/// The client behind a verified client access token: its grant must be
/// live, the client enabled and its tenant active. The token's scopes
/// count only while the client is still allowed them.
/// The client a client's access token acts for, and when its grant expires.
pub async fn client_principal(
    db: &mut Db<'_>,
    claims: &AccessClaims,
    now: DateTime<Utc>,
) -> Result<(Principal, DateTime<Utc>)> {
    let invalid = authentication::invalid_access_token;
    let grant_id: Uuid = claims.sid.parse().map_err(|_| invalid())?;
    let client_id: Uuid = claims.sub.parse().map_err(|_| invalid())?;
    let state = repo::grants::find_state(db, grant_id)
        .await?
        .ok_or_else(invalid)?;
    if state.grant.client_id != client_id
        || state.tenant_id.to_string() != claims.tenant_id
        || !state.grant.is_live(now)
    {
        return Err(invalid());
    }
    if !state.client_enabled {
        return Err(Error::Unauthenticated("This client is disabled".into()));
    }
    if state.tenant_status == TenantStatus::Suspended {
        return Err(Error::TenantSuspended);
    }
    let carried = ScopeSet::parse(claims.scope.as_deref().unwrap_or("")).map_err(|_| invalid())?;
    let allowed: ScopeSet = state.client_scopes.into_iter().collect();
    // Clients hold what policies grant them and their groups.
    let access = super::access::load(db, state.tenant_id, SubjectRef::Client(client_id)).await?;
    let principal = Principal {
        subject: Subject::Client {
            id: client_id,
            grant: grant_id,
        },
        label: state.client_name,
        home_tenant: state.tenant_id,
        platform_admin: false,
        permissions: access.permissions(),
        access,
        scopes: Scopes::Granted(carried.intersection(&allowed)),
    };
    Ok((principal, state.grant.expires_at))
}

/// What introspection found about an active token.
pub enum Introspection {
    /// A live access token, a user's or a client's. `scope` is None for a
    /// user's session token, which carries every scope (see `Scopes`).
    Access {
        claims: Box<AccessClaims>,
        scope: Option<ScopeSet>,
    },
    /// A live refresh token of the asking client: its own (`subject` is
    /// the client) or a person's that was issued to it (`subject` is the
    /// person).
    Refresh {
        client_id: Uuid,
        subject: Uuid,
        tenant_id: Uuid,
        scope: ScopeSet,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
}

/// Errors that say the token is not live, as opposed to the server failing.
fn is_refusal(e: &Error) -> bool {
    !matches!(e, Error::Internal(_) | Error::Unavailable(_))
}

/// RFC 7662: is `token` active? Any client of a tenant may introspect the
/// tenant's access tokens (it is how a resource server checks the tokens
/// it receives); refresh tokens only their own. Anything else — unknown,
/// expired, revoked, another tenant's — is inactive (None).
pub async fn introspect(app: &App, client: &Client, token: &str) -> Result<Option<Introspection>> {
    let now = Utc::now();
    if token.starts_with(REFRESH_PREFIX) {
        let mut conn = app.db.get().await?;
        let found = repo::grants::find_refresh_token(&mut conn.db(), &hash_secret(token)).await?;
        let Some(t) = found.filter(|t| {
            t.grant.client_id == client.id
                && t.used_at.is_none()
                && t.expires_at > now
                && t.grant.is_live(now)
        }) else {
            return Ok(None);
        };
        return Ok(Some(Introspection::Refresh {
            client_id: client.id,
            subject: client.id,
            tenant_id: client.tenant_id,
            scope: stored_scope(&t.grant)?.intersection(&client.allowed_scopes()),
            issued_at: t.created_at,
            expires_at: t.expires_at,
        }));
    }
    if token.starts_with(authentication::REFRESH_PREFIX) {
        let mut conn = app.db.get().await?;
        return person_refresh_token(&mut conn.db(), client, token, now).await;
    }
    let Ok(claims) = app.tokens.verify_access(token).await else {
        return Ok(None);
    };
    if claims.tenant_id != client.tenant_id.to_string() {
        return Ok(None);
    }
    match authentication::authenticate(app, claims.clone(), None).await {
        Ok(caller) => Ok(Some(Introspection::Access {
            claims: Box::new(claims),
            scope: match caller.principal.scopes {
                Scopes::All => None,
                Scopes::Granted(s) => Some(s),
            },
        })),
        Err(e) if is_refusal(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A person's refresh token issued to `client`, if it is live: unused,
/// unexpired, and its session live (not revoked or expired, the person
/// active, the tenant not suspended).
async fn person_refresh_token(
    db: &mut Db<'_>,
    client: &Client,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Introspection>> {
    let Some(t) = repo::sessions::find_refresh_token(db, &hash_secret(token)).await? else {
        return Ok(None);
    };
    let Some(binding) = t.binding.filter(|b| b.client_id == client.id) else {
        return Ok(None);
    };
    if t.used || t.expires_at <= now {
        return Ok(None);
    }
    let state = match authentication::live_session(db, t.session_id, now).await {
        Ok(state) => state,
        Err(e) if is_refusal(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    if state.session.tenant_id != client.tenant_id {
        return Ok(None);
    }
    Ok(Some(Introspection::Refresh {
        client_id: client.id,
        subject: state.session.user_id,
        tenant_id: state.session.tenant_id,
        scope: ScopeSet::parse(&binding.scope)
            .unwrap_or_default()
            .intersection(&client.allowed_scopes()),
        issued_at: t.created_at,
        expires_at: t.expires_at,
    }))
}

/// The session behind a person's token that was issued to `client` (a
/// refresh token bound to it, or an access token whose `client_id` is
/// it), if any.
async fn person_session_of(
    app: &App,
    db: &mut Db<'_>,
    client: &Client,
    token: &str,
) -> Result<Option<Uuid>> {
    if token.starts_with(authentication::REFRESH_PREFIX) {
        let found = repo::sessions::find_refresh_token(db, &hash_secret(token)).await?;
        return Ok(found
            .filter(|t| t.binding.as_ref().is_some_and(|b| b.client_id == client.id))
            .map(|t| t.session_id));
    }
    Ok(app
        .tokens
        .verify_access(token)
        .await
        .ok()
        .filter(|c| {
            !c.is_client_token()
                && c.client_id.as_deref() == Some(client.id.to_string().as_str())
                && c.tenant_id == client.tenant_id.to_string()
        })
        .and_then(|c| c.sid.parse::<Uuid>().ok()))
}

/// RFC 7009: revokes one of the tokens the server issued to the asking
/// client, and with it every token of the same grant: a client's own
/// token ends its grant, a person's token (from a sign-in at that client)
/// ends the person's session. Anything else (unknown, expired, another
/// client's) is left alone and the answer is the same, so that revocation
/// tells nothing about foreign tokens.
pub async fn revoke(app: &App, client: &Client, token: &str, origin: &Origin) -> Result<()> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let grant_id = if token.starts_with(REFRESH_PREFIX) {
        repo::grants::find_refresh_token(db, &hash_secret(token))
            .await?
            .filter(|t| t.grant.client_id == client.id)
            .map(|t| t.grant.id)
    } else {
        app.tokens
            .verify_access(token)
            .await
            .ok()
            .filter(|c| c.is_client_token() && c.sub == client.id.to_string())
            .and_then(|c| c.sid.parse::<Uuid>().ok())
    };
    let now = Utc::now();
    let Some(grant_id) = grant_id else {
        // A person's token issued to this client: its session ends, and
        // with it every token of that sign-in.
        if let Some(session_id) = person_session_of(app, db, client, token).await? {
            transaction!(db, |tx| {
                if repo::sessions::revoke_by_id(tx, session_id, now).await? {
                    let event = AuditEvent::new(
                        client.tenant_id,
                        actor(client),
                        "auth.session_revoked",
                        origin,
                    )
                    .target("session", session_id)
                    .details(json!({ "via": "oauth.revoke" }));
                    audit(tx, event).await?;
                }
                Ok(())
            })?;
        }
        return Ok(());
    };
    transaction!(db, |tx| {
        if repo::grants::revoke(tx, grant_id, now).await? {
            let event = AuditEvent::new(
                client.tenant_id,
                actor(client),
                "oauth.token_revoked",
                origin,
            )
            .target("oauth_grant", grant_id);
            audit(tx, event).await?;
        }
        Ok(())
    })
}
