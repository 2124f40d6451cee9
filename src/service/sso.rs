//! Signing in through a tenant's external OpenID Connect providers, and
//! linking their accounts to users (docs/api/oauth.md, SSO providers).
//!
//! A round trip starts here: the person's browser is sent to the
//! provider's authorization endpoint with a fresh `state`, `nonce` and PKCE
//! challenge, and a cookie that binds the round trip to that browser (so a
//! callback URL someone else started cannot sign this browser in). The
//! callback claims the round trip once, redeems the code, checks the ID
//! token, and finds the account: the linked identity, else the user with
//! the same email if the provider vouches for it (`email_verified`), else
//! a new user when the provider may provision them.

use chrono::Utc;
use serde_json::{json, Map, Value};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::authentication::{self, SignIn};
use super::oidc_rp::{challenge_of, ClientAuth, ProviderError};
use super::tokens::random_token;
use super::users::{validate_new, NewUser};
use super::{audit, App};
use crate::db::Db;
use crate::domain::access::{Access, SubjectRef};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::permission::BuiltinRole;
use crate::domain::principal::Caller;
use crate::domain::secret::hash_secret;
use crate::domain::session::Origin;
use crate::domain::sso::{Identity, Purpose, SsoLogin, SsoProvider, LOGIN_LIFETIME};
use crate::domain::tenant::{Tenant, TenantRef};
use crate::domain::user::{email_key, User};
use crate::domain::{Error, Result};
use crate::repo;
use crate::transaction;

/// The sealing context of a round trip's PKCE verifier.
const VERIFIER_CONTEXT: &str = "sso-code-verifier";

/// The callback a provider sends the browser back to; register it at the
/// provider as the redirect URI of ithbat's client.
pub fn callback_url(app: &App, scheme: &str) -> String {
    format!(
        "{}/api/v1/auth/social/{scheme}/callback",
        app.tokens.issuer().trim_end_matches('/')
    )
}

/// Where the browser goes, and the cookie that binds the round trip to it.
pub struct Departure {
    pub location: String,
    pub browser: String,
}

/// What the round trip is for, as its starter knows it.
pub enum Start {
    Authorize { request_id: Uuid },
    Link { caller: Caller },
    Api,
}

/// The tenant's providers offered on its sign-in page.
pub async fn shown(db: &mut Db<'_>, tenant_id: Uuid) -> Result<Vec<SsoProvider>> {
    Ok(repo::sso::list(db, tenant_id)
        .await?
        .into_iter()
        .filter(SsoProvider::shown)
        .collect())
}

/// Starts an API sign-in through provider `scheme` of the tenant a public
/// request addresses (`requested`, else `default`).
pub async fn start_api(app: &App, requested: Option<TenantRef>, scheme: &str) -> Result<Departure> {
    let tenant = {
        let mut conn = app.db.get().await?;
        authentication::public_tenant(&mut conn.db(), requested.as_ref()).await?
    };
    start(app, tenant.id, scheme, Start::Api).await
}

/// Starts a round trip to the tenant's provider `scheme`.
pub async fn start(app: &App, tenant_id: Uuid, scheme: &str, start: Start) -> Result<Departure> {
    let provider = {
        let mut conn = app.db.get().await?;
        repo::sso::find_by_scheme(&mut conn.db(), tenant_id, scheme)
            .await?
            .filter(SsoProvider::signs_in)
            .ok_or(Error::NotFound("SSO provider"))?
    };
    let discovery = app.rp.discover(&provider.properties.authority).await?;
    let (state, nonce, verifier, browser) = (
        random_token(32),
        random_token(16),
        random_token(32),
        random_token(32),
    );
    let now = Utc::now();
    let (purpose, request_id, user_id) = match &start {
        Start::Authorize { request_id } => (Purpose::Authorize, Some(*request_id), None),
        Start::Link { caller } => (Purpose::Link, None, Some(caller.session()?.0)),
        Start::Api => (Purpose::Api, None, None),
    };
    let redirect_uri = callback_url(app, &provider.scheme);
    let login = SsoLogin {
        tenant_id,
        provider_id: provider.id,
        purpose,
        authorization_request_id: request_id,
        user_id,
        nonce: nonce.clone(),
        code_verifier_sealed: app.sealer.seal(verifier.as_bytes(), VERIFIER_CONTEXT)?,
        browser_hash: hash_secret(&browser),
        redirect_uri: redirect_uri.clone(),
        created_at: now,
        expires_at: now + LOGIN_LIFETIME,
    };
    {
        let mut conn = app.db.get().await?;
        let db = &mut conn.db();
        repo::sso::purge_logins(db, now).await?;
        repo::sso::insert_login(db, &hash_secret(&state), &login).await?;
    }
    let challenge = challenge_of(&verifier);
    let p = &provider.properties;
    // PKCE is always sent: a provider that does not know it ignores
    // unknown parameters (RFC 6749 3.1), and one that does is protected.
    let params = [
        ("response_type", "code"),
        ("client_id", p.client_id.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("scope", p.scope.as_str()),
        ("state", state.as_str()),
        ("nonce", nonce.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let query = serde_urlencoded::to_string(params).map_err(Error::internal)?;
    let endpoint = &discovery.authorization_endpoint;
    let separator = if endpoint.contains('?') { '&' } else { '?' };
    Ok(Departure {
        location: format!("{endpoint}{separator}{query}"),
        browser,
    })
}

/// The callback's query (OIDC Core 3.1.2.5 and 3.1.2.6).
#[derive(Debug, Default)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// How a round trip ended.
pub enum Arrival {
    /// A sign-in for the hosted page's request `request_id`.
    SignedIn {
        request_id: Option<Uuid>,
        tenant: Box<Tenant>,
        outcome: Box<SignIn>,
    },
    /// An account linked to the user who started the round trip.
    Linked(Identity),
}

/// Why a round trip failed: what the person may read, and the round trip
/// it belonged to (to go back to the sign-in page), if it was genuine.
pub struct Failure {
    pub message: String,
    pub request_id: Option<Uuid>,
    pub purpose: Option<Purpose>,
}

impl Failure {
    fn plain(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            request_id: None,
            purpose: None,
        }
    }
}

/// What the person reads about an error of ours.
fn words(e: &Error) -> String {
    match e {
        Error::Unavailable(m) => m.clone(),
        Error::AccountSuspended => "This account cannot sign in. Ask your administrator.".into(),
        Error::AccountNotVerified => {
            "This account is not active yet: accept your invitation or verify your email first."
                .into()
        }
        Error::Conflict { message, .. } => message.clone(),
        Error::Validation(_) => {
            "The provider's account details could not be used to create an account.".into()
        }
        Error::TenantSuspended => "This organization cannot sign anyone in now.".into(),
        Error::Forbidden(m) => m.clone(),
        _ => "Something went wrong; try again.".into(),
    }
}

/// Completes a round trip.
pub async fn finish(
    app: &App,
    callback: Callback,
    browser: Option<&str>,
    origin: &Origin,
) -> std::result::Result<Arrival, Failure> {
    let expired = || Failure::plain("This sign-in has expired or was already used. Start again.");
    let state = callback.state.as_deref().ok_or_else(expired)?;
    let now = Utc::now();
    let login = {
        let mut conn = app.db.get().await.map_err(|e| Failure::plain(words(&e)))?;
        repo::sso::claim_login(&mut conn.db(), &hash_secret(state), now)
            .await
            .map_err(|e| Failure::plain(words(&e)))?
            .ok_or_else(expired)?
    };
    let ours = browser.is_some_and(|b| {
        bool::from(
            hash_secret(b)
                .as_bytes()
                .ct_eq(login.browser_hash.as_bytes()),
        )
    });
    if !ours {
        return Err(Failure::plain(
            "This sign-in was started in another browser. Start again here.",
        ));
    }
    let fail = |message: String| Failure {
        message,
        request_id: login.authorization_request_id,
        purpose: Some(login.purpose),
    };
    match arrive(app, &login, callback, origin).await {
        Ok(arrival) => Ok(arrival),
        Err(e) => {
            let message = words(&e);
            if let Ok(mut conn) = app.db.get().await {
                let event =
                    AuditEvent::new(login.tenant_id, Actor::Anonymous, "auth.sso_failed", origin)
                        .failed()
                        .target("sso_provider", login.provider_id)
                        .details(json!({
                            "purpose": login.purpose.as_str(),
                            "reason": e.to_string(),
                        }));
                let _ = audit(&mut conn.db(), event).await;
            }
            Err(fail(message))
        }
    }
}

/// The claims of the provider's account that ithbat uses.
struct ExternalAccount {
    subject: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
    phone: Option<String>,
}

/// A claim as text; one holding a control character counts as absent, so
/// that a provider's odd value never reaches a lookup (`domain::text`).
fn claim_text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name) {
        Some(Value::String(s))
            if !s.trim().is_empty() && !crate::domain::text::has_refused_control(s) =>
        {
            Some(s.trim().to_string())
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

async fn arrive(
    app: &App,
    login: &SsoLogin,
    callback: Callback,
    origin: &Origin,
) -> Result<Arrival> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let tenant = authentication::public_tenant(db, Some(&TenantRef::Id(login.tenant_id))).await?;
    let provider = repo::sso::find(db, login.tenant_id, login.provider_id)
        .await?
        .filter(SsoProvider::signs_in)
        .ok_or_else(|| Error::Unavailable("This provider is no longer enabled".into()))?;
    drop(conn);
    if let Some(error) = &callback.error {
        let error: String = error
            .chars()
            .filter(char::is_ascii_graphic)
            .take(64)
            .collect();
        return Err(Error::Unavailable(match error.as_str() {
            "access_denied" => "The sign-in was cancelled at the provider.".into(),
            _ => format!("The provider could not sign you in ({error})."),
        }));
    }
    let code = callback
        .code
        .as_deref()
        .ok_or_else(|| Error::Unavailable("The provider sent no authorization code".into()))?;
    let account = external_account(app, &provider, login, code).await?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    match login.purpose {
        Purpose::Link => {
            let user_id = login
                .user_id
                .ok_or_else(|| Error::internal("link without a user"))?;
            let now = Utc::now();
            let identity = transaction!(db, |tx| {
                repo::sso::link(
                    tx,
                    tenant.id,
                    user_id,
                    provider.id,
                    &account.subject,
                    account.email.as_deref(),
                    now,
                )
                .await?;
                let user = repo::users::find(tx, tenant.id, user_id)
                    .await?
                    .ok_or(Error::NotFound("User"))?;
                let event = AuditEvent::new(
                    tenant.id,
                    Actor::User {
                        id: user.id,
                        label: user.label().to_string(),
                    },
                    "user.identity_linked",
                    origin,
                )
                .target("user", user.id)
                .details(json!({ "provider": provider.scheme, "subject": account.subject }));
                audit(tx, event).await?;
                repo::sso::identities(tx, tenant.id, user_id)
                    .await?
                    .into_iter()
                    .find(|i| i.provider_id == provider.id)
                    .ok_or_else(|| Error::internal("identity just linked"))
            })?;
            Ok(Arrival::Linked(identity))
        }
        Purpose::Authorize | Purpose::Api => {
            let user = account_of(db, &tenant, &provider, &account, origin).await?;
            if let Some((error, reason)) = authentication::account_refusal(&tenant, &user) {
                audit(
                    db,
                    authentication::failed_login(&tenant, user.label(), origin, reason)
                        .target("user", user.id),
                )
                .await?;
                return Err(error);
            }
            let outcome = if user.mfa_enabled {
                let now = Utc::now();
                let token = super::mfa::challenge(db, &tenant, &user, false, origin, now).await?;
                SignIn::MfaRequired { mfa_token: token }
            } else {
                let tokens = authentication::start_session(
                    app,
                    db,
                    &tenant,
                    user,
                    false,
                    origin,
                    Some(&format!("sso:{}", provider.scheme)),
                )
                .await?;
                SignIn::Complete(Box::new(tokens))
            };
            Ok(Arrival::SignedIn {
                request_id: login.authorization_request_id,
                tenant: Box::new(tenant),
                outcome: Box::new(outcome),
            })
        }
    }
}

/// Redeems the code and checks what the provider says about the account.
async fn external_account(
    app: &App,
    provider: &SsoProvider,
    login: &SsoLogin,
    code: &str,
) -> Result<ExternalAccount> {
    let p = &provider.properties;
    let discovery = app.rp.discover(&p.authority).await?;
    let secret = match &provider.client_secret_sealed {
        Some(sealed) => Some(
            String::from_utf8(
                app.sealer
                    .open(sealed, &SsoProvider::secret_context(provider.tenant_id))?
                    .to_vec(),
            )
            .map_err(Error::internal)?,
        ),
        None => None,
    };
    let verifier = String::from_utf8(
        app.sealer
            .open(&login.code_verifier_sealed, VERIFIER_CONTEXT)?
            .to_vec(),
    )
    .map_err(Error::internal)?;
    let client = ClientAuth {
        client_id: &p.client_id,
        client_secret: secret.as_deref(),
    };
    let answer = app
        .rp
        .redeem(&discovery, &client, code, &login.redirect_uri, &verifier)
        .await?;
    let id_token = answer
        .id_token
        .ok_or(ProviderError("The provider sent no ID token".into()))?;
    let mut claims = app
        .rp
        .verify_id_token(&discovery, &id_token, &p.client_id, &login.nonce)
        .await?;
    let sub = claim_text(&claims, "sub").ok_or(ProviderError(
        "The provider's ID token has no subject".into(),
    ))?;
    if p.get_claims_from_user_info_endpoint {
        if let Some(access) = &answer.access_token {
            let more = app.rp.userinfo(&discovery, access, &sub).await?;
            for (k, v) in more {
                claims.entry(k).or_insert(v);
            }
        }
    }
    let subject = claim_text(&claims, &p.subject_claim_type).unwrap_or(sub);
    let email_verified = match claims.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    Ok(ExternalAccount {
        subject,
        email: claim_text(&claims, &p.email_claim_type),
        email_verified,
        name: claim_text(&claims, &p.name_claim_type),
        phone: claim_text(&claims, &p.phone_number_claim_type),
    })
}

/// The user an external account signs in as: linked, matched by a
/// verified email (and linked from now on), or provisioned.
async fn account_of(
    db: &mut Db<'_>,
    tenant: &Tenant,
    provider: &SsoProvider,
    account: &ExternalAccount,
    origin: &Origin,
) -> Result<User> {
    let now = Utc::now();
    if let Some(user_id) = repo::sso::linked_user(db, provider.id, &account.subject).await? {
        repo::sso::touch_identity(
            db,
            provider.id,
            &account.subject,
            account.email.as_deref(),
            now,
        )
        .await?;
        within_reach(db, tenant.id, provider.id, user_id).await?;
        return repo::users::find(db, tenant.id, user_id)
            .await?
            .ok_or(Error::NotFound("User"));
    }
    let verified_email = account.email.as_deref().filter(|_| account.email_verified);
    let Some(email) = verified_email else {
        return Err(Error::Forbidden(
            "The provider did not vouch for an email address, and no account here is linked to yours."
                .into(),
        ));
    };
    let existing = repo::users::find_for_login(db, tenant.id, &email_key(email)).await?;
    if let Some((user, _)) = &existing {
        within_reach(db, tenant.id, provider.id, user.id).await?;
    }
    let details = json!({ "provider": provider.scheme, "subject": account.subject });
    transaction!(db, |tx| {
        let (user, action) = match &existing {
            Some((user, _)) => (user.clone(), "user.identity_linked"),
            None if provider.properties.auto_provisioning_enabled => {
                (provision(tx, tenant, provider, account, email, origin).await?, "user.provisioned")
            }
            None => {
                return Err(Error::Forbidden(
                    "There is no account here for your provider account. Ask your administrator for an invitation."
                        .into(),
                ))
            }
        };
        repo::sso::link(
            tx,
            tenant.id,
            user.id,
            provider.id,
            &account.subject,
            Some(email),
            now,
        )
        .await?;
        let event = AuditEvent::new(
            tenant.id,
            Actor::User {
                id: user.id,
                label: user.label().to_string(),
            },
            action,
            origin,
        )
        .target("user", user.id)
        .details(details.clone());
        audit(tx, event).await?;
        Ok(user)
    })
}

/// A provider is a credential its configurer handed out: it signs in only
/// accounts whose every grant the configurer still holds (the rule of
/// `access::require_manages`). Without a live configurer it signs in only
/// accounts that hold nothing.
async fn within_reach(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    provider_id: i64,
    user_id: Uuid,
) -> Result<()> {
    let configurer = repo::sso::configured_by(db, provider_id)
        .await?
        .and_then(|s| SubjectRef::parse(&s).ok());
    let reach = match configurer {
        Some(maker) => super::access::held_by_maker(db, tenant_id, maker)
            .await?
            .unwrap_or_default(),
        None => Access::default(),
    };
    let held = super::access::held_by_many(db, tenant_id, &[SubjectRef::User(user_id)]).await?;
    if held
        .iter()
        .all(|(_, access)| reach.lacks(access).is_empty())
    {
        return Ok(());
    }
    Err(Error::Forbidden(
        "This provider may not sign in this account: it holds more than whoever configured the provider. Sign in another way, or ask an administrator who holds as much to save the provider again."
            .into(),
    ))
}

/// Creates the user an external account stands for: active, its email
/// verified by the provider, no password, the `member` role.
async fn provision(
    db: &mut Db<'_>,
    tenant: &Tenant,
    provider: &SsoProvider,
    account: &ExternalAccount,
    email: &str,
    origin: &Origin,
) -> Result<User> {
    let now = Utc::now();
    let local = email.split('@').next().unwrap_or(email).to_string();
    let mut input = NewUser {
        email: Some(email.to_string()),
        name: Some(account.name.clone().unwrap_or(local.clone())),
        phone_number: account.phone.clone(),
        skip_email_verification: true,
        sso_channel: Some(provider.scheme.clone()),
        ..NewUser::default()
    };
    let user = match validate_new(tenant, &input, now) {
        Ok((user, _)) => user,
        // A provider's name or phone may not fit our rules: fall back to
        // what the email gives.
        Err(_) => {
            input.name = Some(local);
            input.phone_number = None;
            validate_new(tenant, &input, now)
                .map_err(Error::Validation)?
                .0
        }
    };
    repo::users::insert(db, &user, None).await?;
    let member = repo::roles::find_builtin(db, tenant.id, BuiltinRole::Member).await?;
    repo::roles::assign(db, user.id, member, now).await?;
    let event = AuditEvent::new(tenant.id, Actor::Anonymous, "user.created", origin)
        .target("user", user.id)
        .details(json!({ "email": user.email, "emailVerified": true, "via": provider.scheme }));
    audit(db, event).await?;
    Ok(user)
}

/// `GET /users/me/identities`.
pub async fn identities(app: &App, caller: &Caller) -> Result<Vec<Identity>> {
    let (user_id, _) = caller.session()?;
    let mut conn = app.db.get().await?;
    repo::sso::identities(&mut conn.db(), caller.tenant_id, user_id).await
}

/// `DELETE /users/me/identities/{provider}`: refused when it would leave
/// the user no way to sign in (no password and no other linked account).
pub async fn unlink(app: &App, caller: &Caller, scheme: &str, origin: &Origin) -> Result<()> {
    let (user_id, _) = caller.session()?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let user = repo::users::find(tx, caller.tenant_id, user_id)
            .await?
            .ok_or(Error::NotFound("User"))?;
        let all = repo::sso::identities(tx, caller.tenant_id, user_id).await?;
        let identity = all
            .iter()
            .find(|i| i.provider == scheme)
            .ok_or(Error::NotFound("Linked identity"))?;
        let has_password = repo::users::password_hash(tx, caller.tenant_id, user.id)
            .await?
            .is_some();
        if !has_password && all.len() < 2 {
            return Err(Error::conflict(
                "provider",
                "This is your only way to sign in: set a password or link another provider first",
            ));
        }
        repo::sso::unlink(tx, user_id, identity.id).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "user.identity_unlinked",
            origin,
        )
        .target("user", user_id)
        .details(json!({ "provider": scheme, "subject": identity.subject }));
        audit(tx, event).await?;
        Ok(())
    })
}
