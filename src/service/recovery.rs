//! Self-service passwords and addresses (docs/api/ithbat.md, Registration,
//! email verification, passwords; JSON:API `account/passwords`,
//! docs/api/jsonapi.md): reset by mailed token, change, registration
//! and email verification.
//!
//! Public requests that name an email never tell whether an account has
//! it: the answer is the same and takes the same time, and the lookup and
//! the mail happen after the response, in the background.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::authentication::public_tenant;
use super::invitations::{link, new_password, store_token, token_error, NewPassword};
use super::mail::Action;
use super::passwords::Password;
use super::users::{create_in, Creator, NewUser};
use super::{audit, App};
use crate::domain::account::TokenPurpose;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::principal::Caller;
use crate::domain::secret::hash_secret;
use crate::domain::session::Origin;
use crate::domain::tenant::{Tenant, TenantRef};
use crate::domain::user::{email_key, Email, User, UserStatus};
use crate::domain::{Error, Result};
use crate::repo::{self, Locked};
use crate::transaction;

/// Public requests that send mail count against the sign-in limits (per
/// address and per account), so they cannot be used to flood an inbox.
async fn limit(app: &App, origin: &Origin, tenant: Uuid, email: &str) -> Result<()> {
    let config = &app.config;
    let ip = origin.ip.as_deref().unwrap_or("unknown");
    app.limits
        .hit(&format!("mail-ip:{ip}"), config.auth_rate_limit_per_ip)
        .await
        .check()?;
    app.limits
        .hit(
            &format!("mail-account:{tenant}:{}", email_key(email)),
            config.auth_rate_limit_per_account,
        )
        .await
        .check()?;
    Ok(())
}

fn parse_email(email: &str) -> Result<Email> {
    Email::parse(email).map_err(|e| Error::invalid("email", e))
}

async fn tenant_for(app: &App, requested: Option<&TenantRef>) -> Result<Tenant> {
    let mut conn = app.db.get().await?;
    public_tenant(&mut conn.db(), requested).await
}

/// Runs `work` after the response; a failure is logged, never reported to
/// the requester (who must not learn what happened).
fn in_background<F>(what: &'static str, work: F)
where
    F: std::future::Future<Output = Result<()>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = work.await {
            log::error!("{what}: {e}");
        }
    });
}

// ---- password reset (request, token check, reset) ----

/// Mails a reset link if an active account has this email; answers the
/// same either way.
pub async fn request_reset(
    app: &App,
    tenant: Option<&TenantRef>,
    email: &str,
    origin: &Origin,
) -> Result<()> {
    let email = parse_email(email)?;
    let tenant = tenant_for(app, tenant).await?;
    limit(app, origin, tenant.id, &email.address).await?;
    let (app, origin) = (app.clone(), origin.clone());
    in_background("password reset request", async move {
        let mut conn = app.db.get().await?;
        let db = &mut conn.db();
        let Some((user, _)) = repo::users::find_for_login(db, tenant.id, &email.key).await? else {
            return Ok(());
        };
        if user.status != UserStatus::Active {
            return Ok(());
        }
        let token = transaction!(db, |tx| {
            let token = store_token(tx, &user, TokenPurpose::PasswordReset, None).await?;
            let event = AuditEvent::new(
                tenant.id,
                Actor::Anonymous,
                "auth.password_reset_requested",
                &origin,
            )
            .target("user", user.id);
            audit(tx, event).await?;
            Ok(token)
        })?;
        let link = link(&app, "reset-password", &token);
        let mail = Action {
            to: user.mail_address()?,
            subject: format!("Reset your {} password", tenant.name),
            lines: vec![
                format!("Hello {},", user.name.display()),
                "Someone asked to reset the password of your account. Choose a new one with the link below.".into(),
            ],
            button: "Choose a new password",
            link: &link,
            footer: "This link works once and expires in one hour. If you did not ask for it, ignore this message: your password stays as it is.".into(),
        }
        .compose();
        app.mail.send(mail);
        Ok(())
    });
    Ok(())
}

/// Is this reset token usable now? (JSON:API `token_valid`)
pub async fn reset_token_valid(app: &App, token: &str) -> Result<bool> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let claim = repo::account_tokens::check(
        db,
        &hash_secret(token),
        TokenPurpose::PasswordReset,
        Utc::now(),
    )
    .await?;
    let Ok(claim) = claim else {
        return Ok(false);
    };
    let user = repo::users::find(db, claim.tenant_id, claim.user_id).await?;
    Ok(user.is_some_and(|u| u.status == UserStatus::Active))
}

/// Sets a new password with a reset token: the tenant's policy applies,
/// every session ends and a lockout is cleared.
pub async fn reset(app: &App, token: &str, password: Password, origin: &Origin) -> Result<()> {
    let now = Utc::now();
    let NewPassword {
        token_hash: hash,
        claim,
        password_hash,
    } = new_password(app, token, TokenPurpose::PasswordReset, &password, now).await?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let claimed = repo::account_tokens::claim(tx, &hash, TokenPurpose::PasswordReset, now)
            .await?
            .map_err(token_error)?;
        let user = repo::users::find(tx, claim.tenant_id, claimed.user_id)
            .await?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or_else(|| token_error(crate::domain::account::TokenProblem::Invalid))?;
        repo::users::set_password_hash(tx, user.id, &password_hash, now).await?;
        repo::throttle::clear(tx, user.tenant_id, &user.sign_in_key()).await?;
        let revoked = repo::sessions::revoke_all(tx, user.id, None, now).await?;
        let actor = Actor::User {
            id: user.id,
            label: user.label().to_string(),
        };
        let event = AuditEvent::new(user.tenant_id, actor, "auth.password_reset", origin)
            .target("user", user.id)
            .details(json!({ "sessionsRevoked": revoked }));
        audit(tx, event).await
    })
}

// ---- password change ----

/// Changes the caller's password after checking the current one; every
/// other session of theirs ends.
pub async fn change(
    app: &App,
    caller: &Caller,
    current: Password,
    new: Password,
    origin: &Origin,
) -> Result<()> {
    let (user_id, session_id) = caller.session()?;
    let tenant_id = caller.principal.home_tenant;
    // Guessing the current password with a stolen token is throttled like
    // signing in.
    app.limits
        .hit(
            &format!("password-change:{user_id}"),
            app.config.auth_rate_limit_per_account,
        )
        .await
        .check()?;
    let (user, stored, tenant) = {
        let mut conn = app.db.get().await?;
        let db = &mut conn.db();
        let user = repo::users::find(db, tenant_id, user_id)
            .await?
            .ok_or(Error::NotFound("User"))?;
        let stored = repo::users::password_hash(db, tenant_id, user.id).await?;
        let tenant = repo::tenants::find(db, tenant_id)
            .await?
            .ok_or(Error::TenantNotFound)?;
        (user, stored, tenant)
    };
    if !app.passwords.verify(&current, stored.as_deref()).await? {
        let mut conn = app.db.get().await?;
        let event = AuditEvent::new(
            tenant_id,
            Actor::from(caller),
            "user.password_change_failed",
            origin,
        )
        .failed()
        .target("user", user_id);
        audit(&mut conn.db(), event).await?;
        return Err(Error::invalid(
            "current_password",
            "is not your current password",
        ));
    }
    tenant
        .settings
        .password_policy
        .check(new.expose())
        .map_err(|e| Error::invalid("new_password", e))?;
    if current.expose() == new.expose() {
        return Err(Error::invalid(
            "new_password",
            "must differ from the current password",
        ));
    }
    let hash = app.passwords.hash(&new).await?;
    let now = Utc::now();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::users::set_password_hash(tx, user.id, &hash, now).await?;
        repo::account_tokens::discard(tx, user.id, TokenPurpose::PasswordReset).await?;
        let revoked = repo::sessions::revoke_all(tx, user.id, Some(session_id), now).await?;
        let event = AuditEvent::new(
            tenant_id,
            Actor::from(caller),
            "user.password_changed",
            origin,
        )
        .target("user", user.id)
        .details(json!({ "otherSessionsRevoked": revoked }));
        audit(tx, event).await
    })
}

// ---- registration and email verification ----

/// What registration answers, whether or not the email was free.
pub struct Registered {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub tenant_id: Uuid,
}

/// Self-service sign-up. A new account gets the `member` role and must
/// verify its email (unless the tenant does not require it); without a
/// password it is invited instead. An email already in use gets the same
/// answer (with an id that names nothing) and its owner a warning mail,
/// so sign-up cannot be used to find out who has an account.
/// The tenant is named by X-Tenant-ID (`header`), the body's `tenantId`,
/// or both, which must then agree.
pub async fn register(
    app: &App,
    header: Option<&TenantRef>,
    body_tenant: Option<Uuid>,
    input: NewUser,
    origin: &Origin,
) -> Result<Registered> {
    let disagree = || Error::invalid("tenantId", "names another tenant than X-Tenant-ID");
    if let (Some(TenantRef::Id(h)), Some(b)) = (header, body_tenant) {
        if *h != b {
            return Err(disagree());
        }
    }
    let named = header.cloned().or(body_tenant.map(TenantRef::Id));
    let tenant = tenant_for(app, named.as_ref()).await?;
    if body_tenant.is_some_and(|b| b != tenant.id) {
        return Err(disagree());
    }
    if !tenant.settings.allow_registration {
        return Err(Error::Forbidden(
            "This tenant does not allow self-service registration".into(),
        ));
    }
    let email = parse_email(input.email.as_deref().unwrap_or(""))?;
    limit(app, origin, tenant.id, &email.address).await?;
    let input = NewUser {
        email: Some(email.address.clone()),
        user_name: None,
        invite: true,
        skip_email_verification: false,
        role: None,
        organization_id: None,
        sso_channel: None,
        redirect_url: None,
        ..input
    };
    let display_name = crate::domain::user::PersonName {
        first: input.first_name.clone().unwrap_or_default(),
        family: input.family_name.clone().unwrap_or_default(),
        ..Default::default()
    }
    .display();
    let taken = {
        let mut conn = app.db.get().await?;
        repo::users::find_for_login(&mut conn.db(), tenant.id, &email.key)
            .await?
            .map(|(u, _)| u)
    };
    let registered = |user_id| Registered {
        user_id,
        email: email.address.clone(),
        display_name: display_name.clone(),
        tenant_id: tenant.id,
    };
    if let Some(existing) = taken {
        // Same work as a new account: validate and hash, then discard.
        super::users::validate_new(&tenant, &input, Utc::now()).map_err(Error::Validation)?;
        if let Some(p) = &input.password {
            app.passwords.hash(p).await?;
        }
        warn_existing(app, &tenant, &existing);
        return Ok(registered(Uuid::now_v7()));
    }
    let created = match create_in(app, &tenant, input, Creator::SelfService, origin).await {
        // Taken by a concurrent registration: answer as above.
        Err(Error::DuplicateEmail) => return Ok(registered(Uuid::now_v7())),
        other => other?,
    };
    Ok(registered(created.user.id))
}

fn warn_existing(app: &App, tenant: &Tenant, user: &User) {
    // Found by its email, so it has one.
    let Some(to) = user.email.as_deref() else {
        return;
    };
    let link = format!("{}/account/forgot-password", app.tokens.issuer());
    let mail = Action {
        to,
        subject: format!("Someone tried to register with your address at {}", tenant.name),
        lines: vec![
            format!("Hello {},", user.name.display()),
            "Someone tried to create an account with your email address, which already has one. No account was created.".into(),
        ],
        button: "Forgot your password?",
        link: &link,
        footer: "If this was you, sign in or reset your password. Otherwise you can ignore this message.".into(),
    }
    .compose();
    app.mail.send(mail);
}

/// Stores a verification token and mails its link.
async fn send_verification(app: &App, tenant: &Tenant, user: &User) -> Result<()> {
    user.mail_address()?;
    let token = {
        let mut conn = app.db.get().await?;
        let db = &mut conn.db();
        transaction!(db, |tx| store_token(
            tx,
            user,
            TokenPurpose::EmailVerification,
            None
        )
        .await)?
    };
    mail_verification(app, tenant, user, &token);
    Ok(())
}

/// Queues the mail with a verification link (nothing for a user without
/// email: callers refuse those first, with NO_EMAIL_ADDRESS).
pub(crate) fn mail_verification(app: &App, tenant: &Tenant, user: &User, token: &str) {
    let Some(to) = user.email.as_deref() else {
        return;
    };
    let link = link(app, "verify-email", token);
    let mail = Action {
        to,
        subject: format!("Verify your email for {}", tenant.name),
        lines: vec![
            format!("Hello {},", user.name.display()),
            format!(
                "Confirm that this address is yours to finish setting up your {} account.",
                tenant.name
            ),
        ],
        button: "Verify my email",
        link: &link,
        footer: "This link works once and expires in 24 hours.".into(),
    }
    .compose();
    app.mail.send(mail);
}

/// Marks an email verified with the mailed token.
pub async fn verify_email(app: &App, token: &str, origin: &Origin) -> Result<()> {
    let hash = hash_secret(token);
    let now = Utc::now();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let claim = repo::account_tokens::claim(tx, &hash, TokenPurpose::EmailVerification, now)
            .await?
            .map_err(token_error)?;
        let row = Locked::User {
            tenant: claim.tenant_id,
            id: claim.user_id,
        };
        repo::lock_for_update(tx, row).await?;
        let mut user = repo::users::find(tx, claim.tenant_id, claim.user_id)
            .await?
            .ok_or_else(|| token_error(crate::domain::account::TokenProblem::Invalid))?;
        if !user.email_verified {
            user.email_verified = true;
            user.updated_at = now;
            repo::users::update(tx, &user).await?;
        }
        let actor = Actor::User {
            id: user.id,
            label: user.label().to_string(),
        };
        let event = AuditEvent::new(user.tenant_id, actor, "auth.email_verified", origin)
            .target("user", user.id);
        audit(tx, event).await
    })
}

/// Mails a new verification link to an unverified account with this email;
/// answers the same either way.
pub async fn resend_verification(
    app: &App,
    tenant: Option<&TenantRef>,
    email: &str,
    origin: &Origin,
) -> Result<()> {
    let email = parse_email(email)?;
    let tenant = tenant_for(app, tenant).await?;
    limit(app, origin, tenant.id, &email.address).await?;
    let app = app.clone();
    in_background("verification resend", async move {
        let found = {
            let mut conn = app.db.get().await?;
            repo::users::find_for_login(&mut conn.db(), tenant.id, &email.key).await?
        };
        match found {
            Some((user, _)) if user.status == UserStatus::Active && !user.email_verified => {
                send_verification(&app, &tenant, &user).await
            }
            _ => Ok(()),
        }
    });
    Ok(())
}
