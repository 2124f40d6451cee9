//! Multi-factor authentication (docs/design/sign-in.md): enrolment of a TOTP
//! authenticator (RFC 6238) with ten single-use backup codes, and the
//! second step of sign-in.
//!
//! A correct password of a user with MFA gets an mfaToken: 256 random bits
//! stored as SHA-256 with its user, tenant and expiry (5 minutes), not a
//! signed token, because it must be single use and count its failed codes,
//! which needs a row anyway; an opaque value also carries nothing a client
//! could read. Every code presented is a guess in the account's lockout
//! (`authentication::admit_guess`), limited per user and per mfaToken (5), and a TOTP
//! code is accepted once: its time step must be later than the last one.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::json;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::authentication::{self, TokenSet};
use super::passwords::Password;
use super::tokens::random_token;
use super::{audit, App};
use crate::db::Db;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::mfa::{
    check_totp, format_backup_code, otpauth_url, totp_secret_base32, TotpVerdict,
    BACKUP_CODE_ALPHABET, BACKUP_CODE_COUNT, BACKUP_CODE_LEN, MFA_TOKEN_MAX_ATTEMPTS,
    MFA_TOKEN_TTL_SECS, TOTP_SECRET_BYTES,
};
use crate::domain::principal::Caller;
use crate::domain::secret::hash_secret;
use crate::domain::session::Origin;
use crate::domain::tenant::{Tenant, TenantRef};
use crate::domain::user::User;
use crate::domain::{Error, Result};
use crate::repo;
use crate::repo::mfa::Challenge;
use crate::transaction;

/// A new, not yet enabled TOTP secret, shown once.
pub struct Enrolment {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    /// The otpauth:// URI, for a QR code.
    pub otpauth_url: String,
}

/// The second factor presented with an mfaToken.
pub enum Proof {
    /// A code from the authenticator app (parsed: six digits).
    Totp(String),
    /// A backup code (parsed: normalised).
    BackupCode(String),
}

impl Proof {
    fn method(&self) -> &'static str {
        match self {
            Proof::Totp(_) => "totp",
            Proof::BackupCode(_) => "backup_code",
        }
    }
}

/// The associated data a user's TOTP secret is sealed with.
fn secret_context(user_id: Uuid) -> String {
    format!("totp:{user_id}")
}

/// Backup codes are stored as SHA-256 of the user id and the code: 80
/// random bits each, so a hash needs no stretching.
fn backup_code_hash(user_id: Uuid, code: &str) -> String {
    hash_secret(&format!("{user_id}:{code}"))
}

fn unix_time(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0)
}

fn already_enabled() -> Error {
    Error::Conflict {
        field: None,
        message: "MFA is already enabled; disable it before enrolling again".into(),
    }
}

fn not_enabled() -> Error {
    Error::Conflict {
        field: None,
        message: "MFA is not enabled".into(),
    }
}

fn invalid_mfa_token() -> Error {
    Error::Unauthenticated("The MFA token is invalid or expired; sign in again".into())
}

/// The signed-in user's tenant and record. MFA is always about oneself,
/// in one's own tenant, whatever X-Tenant-ID a platform admin sends.
async fn own_account(db: &mut Db<'_>, caller: &Caller) -> Result<(Tenant, User)> {
    let (user_id, _) = caller.session()?;
    let tenant_id = caller.principal.home_tenant;
    let tenant = repo::tenants::find(db, tenant_id)
        .await?
        .ok_or(Error::TenantNotFound)?;
    let user = repo::users::find(db, tenant_id, user_id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    Ok((tenant, user))
}

fn user_event(caller: &Caller, action: &'static str, user: &User, origin: &Origin) -> AuditEvent {
    AuditEvent::new(user.tenant_id, Actor::from(caller), action, origin).target("user", user.id)
}

/// Codes of the authenticator app and of the sign-in step count against
/// one per-user budget a minute (ITHBAT_AUTH_RATE_LIMIT_PER_ACCOUNT).
async fn limit_codes(app: &App, user_id: Uuid) -> Result<()> {
    app.limits
        .hit(
            &format!("mfa-user:{user_id}"),
            app.config.auth_rate_limit_per_account,
        )
        .await
        .check()
        .map(|_| ())
}

/// POST /auth/mfa/setup: a new secret, not enabled until a code from it
/// is verified. Replaces an unfinished enrolment; refused while MFA is on.
pub async fn setup(
    app: &App,
    caller: &Caller,
    password: Option<Password>,
    origin: &Origin,
) -> Result<Enrolment> {
    let (tenant, user) = {
        let mut conn = app.db.get().await?;
        own_account(&mut conn.db(), caller).await?
    };
    if let Some(password) = password {
        authentication::confirm_password(app, &tenant, &user, &password, origin).await?;
    }
    let mut secret = Zeroizing::new(vec![0u8; TOTP_SECRET_BYTES]);
    rand::rngs::OsRng.fill(secret.as_mut_slice());
    let enrolment = Enrolment {
        secret: totp_secret_base32(&secret).map_err(Error::internal)?,
        otpauth_url: otpauth_url(&secret, &tenant.name, user.label()).map_err(Error::internal)?,
    };
    let sealed = app.sealer.seal(&secret, &secret_context(user.id))?;
    let now = Utc::now();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        if !repo::mfa::begin(tx, tenant.id, user.id, &sealed, now).await? {
            return Err(already_enabled());
        }
        audit(
            tx,
            user_event(caller, "user.mfa_setup_started", &user, origin),
        )
        .await
    })?;
    Ok(enrolment)
}

/// Ten new backup codes: shown once, stored as hashes.
fn new_backup_codes(user_id: Uuid) -> (Vec<String>, Vec<String>) {
    let mut rng = rand::rngs::OsRng;
    (0..BACKUP_CODE_COUNT)
        .map(|_| {
            let raw: String = (0..BACKUP_CODE_LEN)
                .map(|_| char::from(BACKUP_CODE_ALPHABET[rng.gen_range(0..32)]))
                .collect();
            (format_backup_code(&raw), backup_code_hash(user_id, &raw))
        })
        .unzip()
}

/// POST /auth/mfa/verify-setup: the first code from the authenticator app
/// turns MFA on and returns the ten backup codes.
pub async fn verify_setup(
    app: &App,
    caller: &Caller,
    code: &str,
    origin: &Origin,
) -> Result<Vec<String>> {
    let now = Utc::now();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let (tenant, user) = own_account(db, caller).await?;
    limit_codes(app, user.id).await?;
    let enrolment = match repo::mfa::find(db, tenant.id, user.id).await? {
        None => {
            return Err(Error::Conflict {
                field: None,
                message: "No MFA enrolment is in progress: call /auth/mfa/setup first".into(),
            })
        }
        Some(e) if e.enabled_at.is_some() => return Err(already_enabled()),
        Some(e) => e,
    };
    let secret = app
        .sealer
        .open(&enrolment.sealed_secret, &secret_context(user.id))?;
    let step = match check_totp(&secret, code, unix_time(now), enrolment.last_used_step)
        .map_err(Error::internal)?
    {
        TotpVerdict::Accepted(step) => step,
        _ => {
            let event = user_event(caller, "auth.mfa_failed", &user, origin)
                .failed()
                .details(json!({ "stage": "setup", "method": "totp" }));
            audit(db, event).await?;
            return Err(Error::invalid(
                "code",
                "is not the current code of the authenticator app",
            ));
        }
    };
    let (codes, hashes) = new_backup_codes(user.id);
    transaction!(db, |tx| {
        if !repo::mfa::enable(tx, user.id, step, now).await? {
            return Err(already_enabled());
        }
        repo::mfa::replace_backup_codes(tx, user.id, &hashes, now).await?;
        repo::mfa::set_user_flag(tx, tenant.id, user.id, true, now).await?;
        let event = user_event(caller, "user.mfa_enabled", &user, origin)
            .details(json!({ "method": "totp", "backupCodes": BACKUP_CODE_COUNT }));
        audit(tx, event).await
    })?;
    Ok(codes)
}

/// POST /auth/mfa/disable: with the password, removes the enrolment (or
/// an unfinished one), its backup codes and open challenges.
pub async fn disable(
    app: &App,
    caller: &Caller,
    password: &Password,
    origin: &Origin,
) -> Result<()> {
    let (tenant, user) = {
        let mut conn = app.db.get().await?;
        own_account(&mut conn.db(), caller).await?
    };
    authentication::confirm_password(app, &tenant, &user, password, origin).await?;
    let now = Utc::now();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let was_enabled = repo::mfa::remove(tx, tenant.id, user.id)
            .await?
            .ok_or_else(not_enabled)?;
        let action = if was_enabled {
            repo::mfa::set_user_flag(tx, tenant.id, user.id, false, now).await?;
            "user.mfa_disabled"
        } else {
            "user.mfa_setup_cancelled"
        };
        audit(tx, user_event(caller, action, &user, origin)).await
    })
}

/// POST /auth/mfa/backup-codes: with the password, ten new codes replace
/// all the old ones, used or not.
pub async fn regenerate_backup_codes(
    app: &App,
    caller: &Caller,
    password: &Password,
    origin: &Origin,
) -> Result<Vec<String>> {
    let (tenant, user) = {
        let mut conn = app.db.get().await?;
        own_account(&mut conn.db(), caller).await?
    };
    authentication::confirm_password(app, &tenant, &user, password, origin).await?;
    let now = Utc::now();
    let (codes, hashes) = new_backup_codes(user.id);
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let enrolment = repo::mfa::find(tx, tenant.id, user.id).await?;
        if enrolment.is_none_or(|e| e.enabled_at.is_none()) {
            return Err(not_enabled());
        }
        repo::mfa::replace_backup_codes(tx, user.id, &hashes, now).await?;
        let event = user_event(caller, "user.mfa_backup_codes_regenerated", &user, origin)
            .details(json!({ "backupCodes": BACKUP_CODE_COUNT }));
        audit(tx, event).await
    })?;
    Ok(codes)
}

/// The first step of sign-in succeeded for a user with MFA: a new
/// mfaToken for the second.
pub(crate) async fn challenge(
    db: &mut Db<'_>,
    tenant: &Tenant,
    user: &User,
    remember_me: bool,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<String> {
    let token = format!("mfa_{}", random_token(32));
    let challenge = Challenge {
        tenant_id: tenant.id,
        user_id: user.id,
        remember_me,
    };
    let expires_at = now + Duration::seconds(MFA_TOKEN_TTL_SECS);
    let actor = Actor::User {
        id: user.id,
        label: user.label().to_string(),
    };
    transaction!(db, |tx| {
        repo::mfa::insert_challenge(tx, &hash_secret(&token), &challenge, now, expires_at).await?;
        let event = AuditEvent::new(tenant.id, actor, "auth.mfa_required", origin)
            .target("user", user.id)
            .details(json!({ "expiresAt": expires_at.to_rfc3339() }));
        audit(tx, event).await
    })?;
    Ok(token)
}

/// POST /auth/mfa/verify and /auth/mfa/verify-backup: the second step of
/// sign-in. Issues the same tokens as a sign-in without MFA.
pub async fn verify(
    app: &App,
    requested_tenant: Option<&TenantRef>,
    mfa_token: &str,
    proof: Proof,
    origin: &Origin,
) -> Result<TokenSet> {
    authentication::limit_sign_in(app, origin, None).await?;
    let now = Utc::now();
    let token_hash = hash_secret(mfa_token);
    let (tenant, user, challenge) = {
        let mut conn = app.db.get().await?;
        let db = &mut conn.db();
        let challenge = repo::mfa::claim_attempt(db, &token_hash, now, MFA_TOKEN_MAX_ATTEMPTS)
            .await?
            .ok_or_else(invalid_mfa_token)?;
        // Bound to its tenant: naming another one finds nothing.
        let tenant = repo::tenants::find(db, challenge.tenant_id)
            .await?
            .ok_or(Error::TenantNotFound)?;
        if requested_tenant.is_some_and(|named| !named.names(&tenant)) {
            return Err(invalid_mfa_token());
        }
        let tenant = authentication::active(tenant)?;
        let user = repo::users::find(db, tenant.id, challenge.user_id)
            .await?
            .filter(|u| u.mfa_enabled)
            .ok_or_else(invalid_mfa_token)?;
        // Suspended or unverified since the password was checked.
        if let Some((error, reason)) = authentication::account_refusal(&tenant, &user) {
            let event = authentication::failed_login(&tenant, user.label(), origin, reason);
            audit(db, event.target("user", user.id)).await?;
            return Err(error);
        }
        (tenant, user, challenge)
    };
    let failed = |reason: &str| {
        AuditEvent::new(tenant.id, Actor::Anonymous, "auth.mfa_failed", origin)
            .failed()
            .target("user", user.id)
            .details(json!({ "email": user.email, "method": proof.method(), "reason": reason }))
    };
    limit_codes(app, user.id).await?;
    let key = user.sign_in_key();
    if let Err(e) = authentication::admit_guess(app, &tenant, &key).await {
        if let Error::AccountLocked { .. } = e {
            let mut conn = app.db.get().await?;
            audit(&mut conn.db(), failed("locked")).await?;
        }
        return Err(e);
    }
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let verdict = transaction!(db, |tx| {
        let verdict = check_proof(app, tx, &tenant, &user, &proof, now).await?;
        if verdict.is_none() && !repo::mfa::consume_challenge(tx, &token_hash, now).await? {
            // Another request with the same token got there first.
            return Err(invalid_mfa_token());
        }
        Ok(verdict)
    });
    match verdict {
        Ok(None) => {}
        Ok(Some(reason)) => {
            authentication::settle_failed_guess(
                db,
                &tenant,
                &key,
                user.label(),
                origin,
                failed(reason),
            )
            .await?;
            return Err(Error::InvalidMfaCode);
        }
        Err(e) => {
            repo::throttle::release(db, tenant.id, &key).await?;
            return Err(e);
        }
    }
    repo::throttle::settle_success(db, tenant.id, &key).await?;
    let actor = Actor::User {
        id: user.id,
        label: user.label().to_string(),
    };
    let event = AuditEvent::new(tenant.id, actor, "auth.mfa_verified", origin)
        .target("user", user.id)
        .details(json!({ "method": proof.method() }));
    audit(db, event).await?;
    let remember_me = challenge.remember_me;
    authentication::start_session(
        app,
        db,
        &tenant,
        user,
        remember_me,
        origin,
        Some(proof.method()),
    )
    .await
}

/// Checks and uses up the second factor. None: accepted; else why not.
async fn check_proof(
    app: &App,
    db: &mut Db<'_>,
    tenant: &Tenant,
    user: &User,
    proof: &Proof,
    now: DateTime<Utc>,
) -> Result<Option<&'static str>> {
    match proof {
        Proof::Totp(code) => {
            let enrolment = repo::mfa::find(db, tenant.id, user.id)
                .await?
                .filter(|e| e.enabled_at.is_some())
                .ok_or_else(invalid_mfa_token)?;
            let secret = app
                .sealer
                .open(&enrolment.sealed_secret, &secret_context(user.id))?;
            Ok(
                match check_totp(&secret, code, unix_time(now), enrolment.last_used_step)
                    .map_err(Error::internal)?
                {
                    TotpVerdict::Accepted(step)
                        if repo::mfa::record_step(db, user.id, step).await? =>
                    {
                        None
                    }
                    TotpVerdict::Accepted(_) | TotpVerdict::Reused => Some("code_reused"),
                    TotpVerdict::Wrong => Some("invalid_code"),
                },
            )
        }
        Proof::BackupCode(code) => {
            let hash = backup_code_hash(user.id, code);
            Ok(
                if repo::mfa::use_backup_code(db, user.id, &hash, now).await? {
                    None
                } else {
                    Some("invalid_code")
                },
            )
        }
    }
}
