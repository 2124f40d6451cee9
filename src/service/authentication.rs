//! Sign-in, token refresh, sign-out, and turning an access token back into
//! a caller on every request.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::callers::CallerKey;
use super::passwords::Password;
use super::tokens::{random_token, AccessClaims, ClientBinding, TokenSubject};
use super::{audit, App};
use crate::db::Db;
use crate::domain::access::{Access, SubjectRef};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::permission::Permissions;
use crate::domain::principal::{Caller, Principal, Subject};
use crate::domain::role::Grants;
use crate::domain::scope::{ScopeSet, Scopes};
use crate::domain::secret::hash_secret;
use crate::domain::session::{Device, Origin, Session};
use crate::domain::tenant::{Tenant, TenantRef, TenantStatus, DEFAULT_TENANT_SLUG};
use crate::domain::user::{email_key, unknown_sign_in_key, User, UserStatus};
use crate::domain::{Error, Result};
use crate::repo;
use crate::repo::throttle::Refusal;
use crate::transaction;

pub struct LoginInput {
    /// What the person typed: their email or their userName, either in any
    /// case (docs/api/ithbat.md, Sign in).
    pub identifier: String,
    pub password: Password,
    pub remember_me: bool,
}

/// How a correct password ends: a session, or for a user with MFA the
/// challenge of the second step (docs/design/sign-in.md, Multi-factor sign-in).
pub enum SignIn {
    Complete(Box<TokenSet>),
    MfaRequired { mfa_token: String },
}

/// Tokens for a session, and who they are for.
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: String,
    pub id_token: String,
    pub expires_in: i64,
    pub user: User,
    pub grants: Grants,
    pub session_id: Uuid,
    /// The scope granted, for tokens issued to an OAuth client.
    pub scope: Option<ScopeSet>,
}

/// The tenant a public auth request addresses: X-Tenant-ID (an id or a
/// slug), else `default`. One that does not exist is TENANT_NOT_FOUND
/// however it was named.
pub async fn public_tenant(db: &mut Db<'_>, requested: Option<&TenantRef>) -> Result<Tenant> {
    let tenant = match requested {
        Some(named) => super::tenants::find_named(db, named).await?,
        None => repo::tenants::find_by_slug(db, DEFAULT_TENANT_SLUG).await?,
    };
    active(tenant.ok_or(Error::TenantNotFound)?)
}

/// The tenant, unless it is suspended (TENANT_SUSPENDED).
pub fn active(tenant: Tenant) -> Result<Tenant> {
    if tenant.status == TenantStatus::Suspended {
        return Err(Error::TenantSuspended);
    }
    Ok(tenant)
}

/// Password sign-in. The order of checks keeps three promises: a guess is
/// counted before it is checked (lockout holds under concurrency), an
/// unknown identifier costs one argon2 verification like a known one, and
/// account state is revealed only to someone who knows the password.
///
/// The identifier is an email or a userName (the same key, `email_key`, is
/// looked up in both); whichever names the account, its guesses count on
/// one throttle, the account's (`User::sign_in_key`).
pub async fn login(
    app: &App,
    tenant: Option<&TenantRef>,
    input: LoginInput,
    origin: &Origin,
) -> Result<SignIn> {
    let now = Utc::now();
    let typed = email_key(&input.identifier);

    let tenant = {
        let mut conn = app.db.get().await?;
        public_tenant(&mut conn.db(), tenant).await?
    };
    limit_sign_in(app, origin, None).await?;
    // The account is found before its guess is admitted, so that the guess
    // counts on the account whatever names it. The hash is checked only
    // once the guess is admitted.
    let found = {
        let mut conn = app.db.get().await?;
        repo::users::find_for_sign_in(&mut conn.db(), tenant.id, &typed).await?
    };
    let key = match &found {
        Some((user, _)) => user.sign_in_key(),
        None => unknown_sign_in_key(&input.identifier),
    };
    limit_account(app, tenant.id, &key).await?;
    if let Err(e) = admit_guess(app, &tenant, &key).await {
        if let Error::AccountLocked { .. } = e {
            let mut conn = app.db.get().await?;
            audit(
                &mut conn.db(),
                failed_login(&tenant, &input.identifier, origin, "locked"),
            )
            .await?;
        }
        return Err(e);
    }
    // No connection is held while hashing: a burst of logins waits for a
    // hashing slot without starving other requests of connections.
    let hash = found.as_ref().and_then(|(_, h)| h.as_deref());
    let verified = match app.passwords.verify(&input.password, hash).await {
        Ok(v) => v,
        Err(e) => {
            // The guess was never judged: give its slot back.
            if let Ok(mut conn) = app.db.get().await {
                let _ = repo::throttle::release(&mut conn.db(), tenant.id, &key).await;
            }
            return Err(e);
        }
    };

    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = match found {
        Some((user, _)) if verified => user,
        _ => {
            let event = failed_login(&tenant, &input.identifier, origin, "invalid_credentials");
            settle_failed_guess(db, &tenant, &key, &input.identifier, origin, event).await?;
            return Err(Error::InvalidCredentials);
        }
    };
    // With a second factor a correct password is half a sign-in: its guess
    // is given back, but the failures counted so far (wrong codes too) are
    // forgiven only when the code is right.
    if user.mfa_enabled {
        repo::throttle::release(db, tenant.id, &key).await?;
    } else {
        repo::throttle::settle_success(db, tenant.id, &key).await?;
    }

    if let Some((error, reason)) = account_refusal(&tenant, &user) {
        audit(
            db,
            failed_login(&tenant, &input.identifier, origin, reason).target("user", user.id),
        )
        .await?;
        return Err(error);
    }
    if user.mfa_enabled {
        let mfa_token =
            super::mfa::challenge(db, &tenant, &user, input.remember_me, origin, now).await?;
        return Ok(SignIn::MfaRequired { mfa_token });
    }
    start_session(app, db, &tenant, user, input.remember_me, origin, None)
        .await
        .map(|tokens| SignIn::Complete(Box::new(tokens)))
}

/// Why a user who proved who they are may still not sign in, and the
/// reason the audit log records.
pub(crate) fn account_refusal(tenant: &Tenant, user: &User) -> Option<(Error, &'static str)> {
    match user.status {
        UserStatus::Suspended => Some((Error::AccountSuspended, "suspended")),
        UserStatus::Pending => Some((Error::AccountNotVerified, "pending")),
        // A user without email has no address to verify (RFC 7643 4.1
        // requires only userName): the identity provider vouches for them.
        UserStatus::Active
            if user.email.is_some()
                && !user.email_verified
                && tenant.settings.require_email_verification =>
        {
            Some((Error::AccountNotVerified, "email_not_verified"))
        }
        UserStatus::Active => None,
    }
}

/// Opens a session for a user who has signed in (password, and the
/// second factor named by `second_factor` if any) and issues its tokens.
pub(crate) async fn start_session(
    app: &App,
    db: &mut Db<'_>,
    tenant: &Tenant,
    user: User,
    remember_me: bool,
    origin: &Origin,
    second_factor: Option<&str>,
) -> Result<TokenSet> {
    let now = Utc::now();
    let policy = &tenant.settings.sessions;
    let expires_at = if remember_me {
        now + Duration::days(i64::from(policy.remember_me_days))
    } else {
        now + Duration::minutes(i64::from(policy.lifetime_minutes))
    };
    let device = Device::from_user_agent(&origin.user_agent);
    let session = Session {
        id: Uuid::now_v7(),
        tenant_id: tenant.id,
        user_id: user.id,
        user_agent: origin.user_agent.clone(),
        ip_address: origin.ip.clone(),
        device,
        location: None,
        remember_me,
        refresh_seq: 0,
        created_at: now,
        last_activity_at: now,
        expires_at,
        revoked_at: None,
        nonce: random_token(16),
    };
    let mut details = json!({ "rememberMe": remember_me });
    if let Some(factor) = second_factor {
        details["mfa"] = json!(factor);
    }
    let refresh_token = new_refresh_token();
    let refresh_expiry = refresh_expiry(app, now, expires_at);
    let (user, grants) = transaction!(db, |tx| {
        repo::sessions::insert(tx, &session).await?;
        repo::sessions::insert_refresh_token(
            tx,
            &hash_secret(&refresh_token),
            session.id,
            now,
            refresh_expiry,
            None,
        )
        .await?;
        repo::users::record_login(tx, user.id, now).await?;
        let actor = Actor::User {
            id: user.id,
            label: user.label().to_string(),
        };
        let event = AuditEvent::new(tenant.id, actor, "auth.login", origin)
            .target("session", session.id)
            .details(details);
        audit(tx, event).await?;
        let grants = repo::roles::grants_for_user(tx, user.id).await?;
        Ok((
            User {
                last_login_at: Some(now),
                ..user
            },
            grants,
        ))
    })?;
    issue(app, user, grants, session.id, now, now, refresh_token, None)
}

/// Public sign-in endpoints are limited per client address and, when the
/// account is known from the request, per account (docs/design/sign-in.md,
/// Rate limits).
pub(crate) async fn limit_sign_in(
    app: &App,
    origin: &Origin,
    account: Option<(Uuid, &str)>,
) -> Result<()> {
    let config = &app.config;
    let ip = origin.ip.as_deref().unwrap_or("unknown");
    app.limits
        .hit(&format!("auth-ip:{ip}"), config.auth_rate_limit_per_ip)
        .await
        .check()?;
    if let Some((tenant, key)) = account {
        limit_account(app, tenant, key).await?;
    }
    Ok(())
}

/// The per-account part of `limit_sign_in`, for a throttle key.
async fn limit_account(app: &App, tenant: Uuid, key: &str) -> Result<()> {
    app.limits
        .hit(
            &format!("auth-account:{tenant}:{key}"),
            app.config.auth_rate_limit_per_account,
        )
        .await
        .check()
        .map(|_| ())
}

/// How long a guess waits for earlier guesses at the same account to be
/// checked before it is turned away with 429.
const ADMISSION_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Admits one guess (a password, or a second-factor code) for (tenant,
/// email), waiting while the window's budget is taken by guesses still
/// being checked (many correct sign-ins at once, e.g. a script's parallel
/// workers), refusing when the email is locked.
pub(crate) async fn admit_guess(app: &App, tenant: &Tenant, key: &str) -> Result<()> {
    let lockout = &tenant.settings.lockout;
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        let now = Utc::now();
        let mut conn = app.db.get().await?;
        let db = &mut conn.db();
        if repo::throttle::admit(db, tenant.id, key, lockout, now).await? {
            return Ok(());
        }
        match repo::throttle::refusal(db, tenant.id, key, lockout, now).await? {
            Refusal::Locked(until) => {
                let until =
                    until.unwrap_or(now + Duration::minutes(i64::from(lockout.lock_minutes)));
                return Err(Error::AccountLocked { until });
            }
            Refusal::Busy if started.elapsed() >= ADMISSION_WAIT => {
                return Err(Error::RateLimited {
                    retry_after_secs: 1,
                });
            }
            Refusal::Busy => {}
        }
        drop(conn);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_millis(100));
    }
}

/// Settles an admitted guess on the throttle `key` (an account's, or an
/// unknown identifier's) as failed and records `event`; the failure that
/// locks it also records `auth.account_locked`, naming what was typed.
pub(crate) async fn settle_failed_guess(
    db: &mut Db<'_>,
    tenant: &Tenant,
    key: &str,
    identifier: &str,
    origin: &Origin,
    event: AuditEvent,
) -> Result<()> {
    let lockout = &tenant.settings.lockout;
    let until = Utc::now() + Duration::minutes(i64::from(lockout.lock_minutes));
    let locked = repo::throttle::settle_failure(db, tenant.id, key, lockout, until).await?;
    audit(db, event).await?;
    if locked {
        let event = AuditEvent::new(tenant.id, Actor::Anonymous, "auth.account_locked", origin)
            .details(json!({ "identifier": identifier, "lockedUntil": until.to_rfc3339() }));
        audit(db, event).await?;
    }
    Ok(())
}

/// A signed-in user confirms a sensitive change with their password. The
/// guess counts toward the lockout like a sign-in, so a stolen access
/// token cannot be used to guess the password.
pub(crate) async fn confirm_password(
    app: &App,
    tenant: &Tenant,
    user: &User,
    password: &Password,
    origin: &Origin,
) -> Result<()> {
    let key = user.sign_in_key();
    admit_guess(app, tenant, &key).await?;
    let checked = async {
        let hash = {
            let mut conn = app.db.get().await?;
            repo::users::password_hash(&mut conn.db(), tenant.id, user.id).await?
        };
        app.passwords.verify(password, hash.as_deref()).await
    }
    .await;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    match checked {
        Ok(true) => repo::throttle::settle_success(db, tenant.id, &key).await,
        Ok(false) => {
            let event = AuditEvent::new(
                tenant.id,
                Actor::User {
                    id: user.id,
                    label: user.label().to_string(),
                },
                "auth.password_check_failed",
                origin,
            )
            .failed()
            .target("user", user.id);
            settle_failed_guess(db, tenant, &key, user.label(), origin, event).await?;
            Err(Error::invalid("password", "is incorrect"))
        }
        Err(e) => {
            repo::throttle::release(db, tenant.id, &key).await?;
            Err(e)
        }
    }
}

/// A refused sign-in, naming what was typed (an email or a userName).
pub(crate) fn failed_login(
    tenant: &Tenant,
    identifier: &str,
    origin: &Origin,
    reason: &str,
) -> AuditEvent {
    AuditEvent::new(tenant.id, Actor::Anonymous, "auth.login_failed", origin)
        .failed()
        .details(json!({ "identifier": identifier, "reason": reason }))
}

/// A person's refresh tokens start so (a client's own start `crt_`).
pub const REFRESH_PREFIX: &str = "rt_";

/// Opaque refresh tokens: 256 random bits with a recognisable prefix (for
/// secret scanners).
fn new_refresh_token() -> String {
    format!("{REFRESH_PREFIX}{}", random_token(32))
}

/// A refresh token never outlives its session.
fn refresh_expiry(app: &App, now: DateTime<Utc>, session_expires: DateTime<Utc>) -> DateTime<Utc> {
    (now + Duration::seconds(app.config.refresh_token_ttl_secs)).min(session_expires)
}

/// Signs a session's tokens: for the first-party sign-in, or (`client`)
/// for an OAuth client, with its scope and nonce.
#[allow(clippy::too_many_arguments)]
pub(crate) fn issue(
    app: &App,
    user: User,
    grants: Grants,
    session_id: Uuid,
    auth_time: DateTime<Utc>,
    now: DateTime<Utc>,
    refresh_token: String,
    client: Option<ClientBinding<'_>>,
) -> Result<TokenSet> {
    let permissions = effective_permissions(&user, &grants.permissions).to_vec();
    let subject = TokenSubject {
        user: &user,
        session_id,
        roles: &grants.role_names,
        permissions: &permissions,
        client,
        auth_time,
    };
    Ok(TokenSet {
        access_token: app.tokens.access_token(&subject, now)?,
        id_token: app.tokens.id_token(&subject, now)?,
        refresh_token,
        expires_in: app.tokens.access_ttl(),
        user,
        grants: Grants {
            role_names: grants.role_names,
            permissions: permissions.into_iter().collect(),
        },
        session_id,
        scope: client.map(|c| c.scope.clone()),
    })
}

/// A new first-party refresh token for a session.
pub(crate) fn fresh_refresh_token() -> String {
    new_refresh_token()
}

/// How long a refresh token issued now for a session may live.
pub(crate) fn refresh_token_expiry(
    app: &App,
    now: DateTime<Utc>,
    session_expires: DateTime<Utc>,
) -> DateTime<Utc> {
    refresh_expiry(app, now, session_expires)
}

/// Platform administrators hold every permission.
fn effective_permissions(user: &User, granted: &Permissions) -> Permissions {
    if user.is_platform_admin {
        Permissions::all()
    } else {
        granted.clone()
    }
}

/// Exchanges a refresh token for new tokens. Each refresh token works once;
/// presenting one that was already used revokes its whole session (it has
/// leaked, or is being replayed). A token issued to an OAuth client works
/// only for that client (`client`), and one of the first-party sign-in
/// only there (None): neither can be turned into the other's.
pub async fn refresh(
    app: &App,
    refresh_token: &str,
    client: Option<Uuid>,
    scope: Option<&ScopeSet>,
    origin: &Origin,
) -> Result<TokenSet> {
    limit_sign_in(app, origin, None).await?;
    let now = Utc::now();
    let hash = hash_secret(refresh_token);
    let rotated = new_refresh_token();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let outcome = transaction!(db, |tx| {
        let Some((session_id, binding)) =
            repo::sessions::claim_refresh_token(tx, &hash, now).await?
        else {
            return Ok(None);
        };
        if binding.as_ref().map(|b| b.client_id) != client {
            // Rolled back: the token stays as it was for its own holder.
            return Err(invalid_refresh_token());
        }
        // RFC 6749 6: a refresh may not add scopes the grant did not have.
        if let (Some(asked), Some(b)) = (scope, &binding) {
            if !asked.is_subset(&ScopeSet::parse(&b.scope).unwrap_or_default()) {
                return Err(Error::oauth(
                    crate::domain::OAuthError::InvalidScope,
                    "A refresh cannot add scopes the grant did not have",
                ));
            }
        }
        let state = live_session(tx, session_id, now).await?;
        let session = &state.session;
        let user = repo::users::find(tx, session.tenant_id, session.user_id)
            .await?
            .ok_or_else(session_ended)?;
        let expiry = refresh_expiry(app, now, session.expires_at);
        repo::sessions::insert_refresh_token(
            tx,
            &hash_secret(&rotated),
            session.id,
            now,
            expiry,
            binding.as_ref(),
        )
        .await?;
        repo::sessions::record_refresh(tx, session.id, now).await?;
        let actor = Actor::User {
            id: user.id,
            label: user.label().to_string(),
        };
        let event = AuditEvent::new(session.tenant_id, actor, "auth.token_refreshed", origin)
            .target("session", session.id);
        audit(tx, event).await?;
        let grants = repo::roles::grants_for_user(tx, user.id).await?;
        Ok(Some((
            user,
            grants,
            session.id,
            session.created_at,
            binding,
        )))
    })?;
    match outcome {
        Some((user, grants, session_id, auth_time, binding)) => {
            let scope = binding.map(|b| ScopeSet::parse(&b.scope).unwrap_or_default());
            let client = client
                .zip(scope.as_ref())
                .map(|(client_id, scope)| ClientBinding {
                    client_id,
                    scope,
                    nonce: None,
                });
            issue(
                app, user, grants, session_id, auth_time, now, rotated, client,
            )
        }
        None => {
            if let Some(session_id) = repo::sessions::used_refresh_token_session(db, &hash).await? {
                if let Some(session) = repo::sessions::find(db, session_id).await? {
                    repo::sessions::revoke_by_id(db, session_id, now).await?;
                    let event = AuditEvent::new(
                        session.tenant_id,
                        Actor::Anonymous,
                        "auth.refresh_token_reused",
                        origin,
                    )
                    .failed()
                    .target("session", session_id)
                    .details(json!({ "userId": session.user_id }));
                    audit(db, event).await?;
                }
                return Err(Error::Unauthenticated(
                    "This refresh token was already used; its session has been revoked".into(),
                ));
            }
            Err(invalid_refresh_token())
        }
    }
}

fn invalid_refresh_token() -> Error {
    Error::Unauthenticated("The refresh token is invalid or expired".into())
}

fn session_ended() -> Error {
    Error::Unauthenticated("The session has ended; sign in again".into())
}

/// The session if it is still usable: not revoked, not expired, its user
/// active and its tenant not suspended.
pub(crate) async fn live_session(
    db: &mut Db<'_>,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<repo::sessions::SessionState> {
    let state = repo::sessions::find_state(db, session_id)
        .await?
        .ok_or_else(session_ended)?;
    if state.session.revoked_at.is_some()
        || state.session.expires_at <= now
        || state.user_status != UserStatus::Active
    {
        return Err(session_ended());
    }
    if state.tenant_status == TenantStatus::Suspended {
        return Err(Error::TenantSuspended);
    }
    Ok(state)
}

/// Resolves a verified access token to the caller acting on `requested_tenant`
/// (X-Tenant-ID) or their own tenant. Checks the token's session (a
/// user's) or grant (a client's) on every request, so that a revoked
/// session, a suspended user or a disabled client fails at once, and
/// resolves permissions from current roles.
pub async fn authenticate(
    app: &App,
    claims: AccessClaims,
    requested_tenant: Option<&TenantRef>,
) -> Result<Caller> {
    let now = Utc::now();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let principal = principal(app, db, &claims, now).await?;
    let tenant_id = acting_tenant(db, &principal, requested_tenant).await?;
    Ok(Caller {
        principal,
        tenant_id,
    })
}

/// The principal of a verified access token: the one this instance
/// resolved before if its tenant's access version has not moved since
/// (`callers.rs`), else resolved now and kept.
async fn principal(
    app: &App,
    db: &mut Db<'_>,
    claims: &AccessClaims,
    now: DateTime<Utc>,
) -> Result<Principal> {
    let key = CallerKey::Token {
        sid: claims.sid.parse().map_err(|_| invalid_access_token())?,
        sub: claims.sub.parse().map_err(|_| invalid_access_token())?,
        scope: claims.scope.clone(),
    };
    let tenant: Uuid = claims
        .tenant_id
        .parse()
        .map_err(|_| invalid_access_token())?;
    // Read before resolving: a change that commits in between moves the
    // version past this one, and the next request resolves again.
    let version = repo::tenants::access_version(db, tenant)
        .await?
        .ok_or_else(invalid_access_token)?;
    if let Some(hit) = app.callers.get(&key, tenant, version, now) {
        if !claims.is_client_token() && hit.touched_at < now - Duration::seconds(60) {
            if let CallerKey::Token { sid, .. } = &key {
                repo::sessions::touch(db, *sid, now).await?;
            }
            app.callers.touched(&key, now);
        }
        return Ok(hit.principal);
    }
    let (principal, expires_at) = if claims.is_client_token() {
        super::oauth::client_principal(db, claims, now).await?
    } else {
        user_principal(db, claims, now).await?
    };
    if principal.home_tenant == tenant {
        app.callers
            .put(key, version, principal.clone(), expires_at, now);
    }
    Ok(principal)
}

/// The user a user's access token was issued to, with the caller it
/// makes (OpenID Connect UserInfo).
pub async fn signed_in_user(app: &App, claims: AccessClaims) -> Result<(Caller, User)> {
    let caller = authenticate(app, claims, None).await?;
    let (user_id, _) = caller.session()?;
    let mut conn = app.db.get().await?;
    let user = repo::users::find(&mut conn.db(), caller.principal.home_tenant, user_id)
        .await?
        .ok_or_else(invalid_access_token)?;
    Ok((caller, user))
}

/// `authenticate` for the management APIs (native, JSON:API, SCIM, Aritma):
/// a token an OAuth client holds for a user reaches them only with the
/// `services.iam` scope; one with only `openid profile email` serves
/// `/oauth/userinfo` and nothing more.
pub async fn authenticate_api(
    app: &App,
    claims: AccessClaims,
    requested_tenant: Option<&TenantRef>,
) -> Result<Caller> {
    let caller = authenticate(app, claims, requested_tenant).await?;
    caller.require_scope(crate::domain::scope::SERVICES_IAM)?;
    Ok(caller)
}

/// The signed-in user behind a session token. A first-party sign-in acts
/// in person: every scope, limited by the user's permissions.
/// Returns it with its session's expiry.
async fn user_principal(
    db: &mut Db<'_>,
    claims: &AccessClaims,
    now: DateTime<Utc>,
) -> Result<(Principal, DateTime<Utc>)> {
    let session_id: Uuid = claims.sid.parse().map_err(|_| invalid_access_token())?;
    let user_id: Uuid = claims.sub.parse().map_err(|_| invalid_access_token())?;
    let state = live_session(db, session_id, now).await?;
    if state.session.user_id != user_id {
        return Err(invalid_access_token());
    }
    if state.session.last_activity_at < now - Duration::seconds(60) {
        repo::sessions::touch(db, session_id, now).await?;
    }
    let access = if state.platform_admin {
        Access::everything()
    } else {
        super::access::load(db, state.session.tenant_id, SubjectRef::User(user_id)).await?
    };
    let principal = Principal {
        subject: Subject::User {
            id: user_id,
            session: session_id,
        },
        label: state.user_label,
        home_tenant: state.session.tenant_id,
        platform_admin: state.platform_admin,
        permissions: access.permissions(),
        access,
        // A token issued to an OAuth client carries what it was granted; a
        // first-party sign-in acts in person.
        scopes: match &claims.scope {
            Some(scope) => Scopes::Granted(ScopeSet::parse(scope).unwrap_or_default()),
            None => Scopes::All,
        },
    };
    Ok((principal, state.session.expires_at))
}

pub(crate) fn invalid_access_token() -> Error {
    Error::Unauthenticated("The access token is invalid or expired".into())
}

/// The tenant a principal acts on: its own, or for a platform
/// administrator the existing one X-Tenant-ID names. Anyone else naming
/// another tenant learns nothing about it.
async fn acting_tenant(
    db: &mut Db<'_>,
    principal: &Principal,
    requested: Option<&TenantRef>,
) -> Result<Uuid> {
    let home = principal.home_tenant;
    match requested {
        None => Ok(home),
        Some(TenantRef::Id(t)) if *t == home => Ok(home),
        Some(TenantRef::Id(_)) if !principal.platform_admin => Err(Error::TenantNotFound),
        // A slug is looked up for anyone: their own tenant's slug names it.
        Some(named) => super::tenants::find_named(db, named)
            .await?
            .filter(|t| principal.platform_admin || t.id == home)
            .map(|t| t.id)
            .ok_or(Error::TenantNotFound),
    }
}

/// Ends the caller's current session.
pub async fn logout(app: &App, caller: &Caller, origin: &Origin) -> Result<()> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let (_, session_id) = caller.session()?;
    transaction!(db, |tx| {
        repo::sessions::revoke_by_id(tx, session_id, Utc::now()).await?;
        let event = AuditEvent::new(
            caller.principal.home_tenant,
            Actor::from(caller),
            "auth.logout",
            origin,
        )
        .target("session", session_id);
        audit(tx, event).await
    })
}
