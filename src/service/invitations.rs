//! Invitations (docs/api/jsonapi.md, Organizations and accounts): an account
//! created without a password is pending, and its owner is mailed a single-use
//! link, valid seven days, to choose one and join. Resending replaces the link.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::mail::Action;
use super::passwords::Password;
use super::tokens::random_token;
use super::users::{details, managed, UserDetails};
use super::{audit, App};
use crate::db::Db;
use crate::domain::account::{Claim, TokenProblem, TokenPurpose};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::principal::Caller;
use crate::domain::secret::hash_secret;
use crate::domain::session::Origin;
use crate::domain::tenant::Tenant;
use crate::domain::user::{User, UserStatus};
use crate::domain::{Error, Result};
use crate::repo::account_tokens::NewToken;
use crate::repo::{self, Locked};
use crate::transaction;

/// A fresh single-use token: a purpose prefix and 256 random bits.
pub(crate) fn new_token(purpose: TokenPurpose) -> String {
    format!("{}{}", purpose.prefix(), random_token(32))
}

/// Stores a new token of `purpose` for `user`, replacing any unused one;
/// returns the token, to be mailed (it is stored only as a hash).
pub(crate) async fn store_token(
    tx: &mut Db<'_>,
    user: &User,
    purpose: TokenPurpose,
    redirect_url: Option<&str>,
) -> Result<String> {
    let token = new_token(purpose);
    let now = Utc::now();
    repo::account_tokens::replace(
        tx,
        &NewToken {
            hash: &hash_secret(&token),
            tenant_id: user.tenant_id,
            user_id: user.id,
            purpose,
            redirect_url,
            now,
            expires_at: now + purpose.lifetime(),
        },
    )
    .await?;
    Ok(token)
}

/// Issues the invitation of a pending user inside the transaction that
/// created them.
pub(crate) async fn issue(
    tx: &mut Db<'_>,
    actor: Actor,
    user: &User,
    redirect_url: Option<&str>,
    origin: &Origin,
) -> Result<String> {
    let token = store_token(tx, user, TokenPurpose::Invitation, redirect_url).await?;
    let event = AuditEvent::new(user.tenant_id, actor, "invitation.created", origin)
        .target("user", user.id)
        .details(json!({ "email": user.email, "expiresAt": user.account.invitation_expires_at }));
    audit(tx, event).await?;
    Ok(token)
}

/// The link a mailed token opens: the server's own page for it.
pub(crate) fn link(app: &App, page: &str, token: &str) -> String {
    format!("{}/account/{page}?token={token}", app.tokens.issuer())
}

/// Queues the invitation mail (after the transaction committed).
/// Nothing for a user without email: callers refuse those first, with
/// NO_EMAIL_ADDRESS.
pub(crate) fn mail(app: &App, tenant: &Tenant, user: &User, token: &str) {
    let Some(to) = user.email.as_deref() else {
        return;
    };
    let link = link(app, "join", token);
    let expires = user
        .account
        .invitation_expires_at
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let mail = Action {
        to,
        subject: format!("You are invited to {}", tenant.name),
        lines: vec![
            format!("Hello {},", greeting(user)),
            format!(
                "You have been invited to join {} on ithbat. Choose a password to activate your account.",
                tenant.name
            ),
        ],
        button: "Accept the invitation",
        link: &link,
        footer: format!(
            "This link works once and expires on {expires}. If you did not expect this invitation, ignore this message."
        ),
    }
    .compose();
    app.mail.send(mail);
}

fn greeting(user: &User) -> String {
    let name = user.name.display();
    if name.is_empty() {
        user.label().to_string()
    } else {
        name
    }
}

/// Accepts an invitation: sets the password, activates the account and
/// proves its email (the invitation reached it). Returns where to go next.
/// The token is checked before the password is hashed and used only in the
/// transaction that activates the account, so a refused password leaves
/// the invitation usable.
pub async fn join(
    app: &App,
    token: &str,
    password: Password,
    origin: &Origin,
) -> Result<Option<String>> {
    let now = Utc::now();
    let NewPassword {
        token_hash: hash,
        claim,
        password_hash,
    } = new_password(app, token, TokenPurpose::Invitation, &password, now).await?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let Claim {
            user_id,
            redirect_url,
            ..
        } = repo::account_tokens::claim(tx, &hash, TokenPurpose::Invitation, now)
            .await?
            .map_err(token_error)?;
        let row = Locked::User {
            tenant: claim.tenant_id,
            id: user_id,
        };
        repo::lock_for_update(tx, row).await?;
        let mut user = repo::users::find(tx, claim.tenant_id, user_id)
            .await?
            .ok_or_else(|| token_error(TokenProblem::Invalid))?;
        if user.status != UserStatus::Pending {
            return Err(token_error(TokenProblem::Invalid));
        }
        user.status = UserStatus::Active;
        user.email_verified = true;
        user.account.joined_at = Some(now);
        user.account.invitation_expires_at = None;
        user.updated_at = now;
        repo::users::update(tx, &user).await?;
        repo::users::set_password_hash(tx, user.id, &password_hash, now).await?;
        let actor = Actor::User {
            id: user.id,
            label: user.label().to_string(),
        };
        let event = AuditEvent::new(user.tenant_id, actor, "invitation.accepted", origin)
            .target("user", user.id);
        audit(tx, event).await?;
        Ok(redirect_url)
    })
}

/// Issues a fresh invitation for a pending account and mails it; the old
/// link stops working.
pub async fn resend(app: &App, caller: &Caller, id: Uuid, origin: &Origin) -> Result<UserDetails> {
    reissue(app, caller, id, None, origin).await
}

/// `resend`, leading to `redirect` once accepted (None: where the previous
/// invitation led).
pub(crate) async fn reissue(
    app: &App,
    caller: &Caller,
    id: Uuid,
    redirect: Option<String>,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let (details, token, tenant) = transaction!(db, |tx| {
        let (mut user, _) = managed(tx, caller, id).await?;
        user.mail_address()?;
        if user.status != UserStatus::Pending {
            return Err(Error::Conflict {
                field: None,
                message: "This account has already joined or is suspended; only pending accounts are invited".into(),
            });
        }
        let tenant = repo::tenants::find(tx, caller.tenant_id)
            .await?
            .ok_or(Error::TenantNotFound)?;
        let now = Utc::now();
        user.account.invitation_expires_at = Some(now + TokenPurpose::Invitation.lifetime());
        user.updated_at = now;
        user.version = repo::users::update(tx, &user).await?;
        let redirect = match &redirect {
            Some(url) => Some(url.clone()),
            None => previous_redirect(tx, &user).await?,
        };
        let token = store_token(tx, &user, TokenPurpose::Invitation, redirect.as_deref()).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "invitation.resent",
            origin,
        )
        .target("user", user.id)
        .details(json!({ "email": user.email, "expiresAt": user.account.invitation_expires_at }));
        audit(tx, event).await?;
        Ok((details(tx, user).await?, token, tenant))
    })?;
    mail(app, &tenant, &details.user, &token);
    Ok(details)
}

/// A resent invitation leads where the first one did.
async fn previous_redirect(tx: &mut Db<'_>, user: &User) -> Result<Option<String>> {
    repo::account_tokens::latest_redirect(tx, user.id, TokenPurpose::Invitation).await
}

/// A mailed token about to set a password, checked (not yet used), and
/// the password checked against the tenant's policy and hashed.
pub(crate) struct NewPassword {
    pub token_hash: String,
    pub claim: Claim,
    pub password_hash: String,
}

/// Checks the token before the password is hashed (no hashing for a dead
/// link) and without using it, so that a refused password leaves the link
/// usable; the caller claims it in the transaction that writes.
pub(crate) async fn new_password(
    app: &App,
    token: &str,
    purpose: TokenPurpose,
    password: &Password,
    now: chrono::DateTime<Utc>,
) -> Result<NewPassword> {
    let token_hash = hash_secret(token);
    let (claim, tenant) = {
        let mut conn = app.db.get().await?;
        let db = &mut conn.db();
        let claim = repo::account_tokens::check(db, &token_hash, purpose, now)
            .await?
            .map_err(token_error)?;
        let tenant = repo::tenants::find(db, claim.tenant_id)
            .await?
            .ok_or(Error::TenantNotFound)?;
        (claim, tenant)
    };
    tenant
        .settings
        .password_policy
        .check(password.expose())
        .map_err(|e| Error::invalid("password", e))?;
    let password_hash = app.passwords.hash(password).await?;
    Ok(NewPassword {
        token_hash,
        claim,
        password_hash,
    })
}

/// A token that cannot be used, as a field error a client can show.
pub(crate) fn token_error(problem: TokenProblem) -> Error {
    Error::invalid("token", problem.message())
}
