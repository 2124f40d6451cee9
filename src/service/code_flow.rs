//! The authorization code grant with PKCE and OpenID Connect sign-in
//! (RFC 6749 4.1, RFC 7636, OAuth 2.1, OpenID Connect Core 3.1): checking
//! what a client asks `/oauth/authorize` for, signing the person in on the
//! hosted page (password, then the second factor when they have one),
//! issuing the code, redeeming it at the token endpoint, and ending the
//! sign-in (RP-initiated logout).
//!
//! Until the redirect URI is known to be the client's, nothing is sent
//! back to it: errors about the client or the URI are shown on our page,
//! so that /oauth/authorize can never redirect anywhere else.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::authentication::{self, LoginInput, SignIn, TokenSet};
use super::mfa::{self, Proof};
use super::passwords::Password;
use super::tokens::{random_token, ClientBinding};
use super::{audit, App};
use crate::db::Db;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::client::{Client, GrantType};
use crate::domain::code_flow::{
    valid_challenge, valid_opaque, verifier_matches, AuthorizationRequest, IssuedCode,
    CODE_LIFETIME, REQUEST_LIFETIME,
};
use crate::domain::mfa::{parse_backup_code, parse_totp_code};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::hash_secret;
use crate::domain::session::Origin;
use crate::domain::tenant::{Tenant, TenantRef, TenantStatus};
use crate::domain::{Error, OAuthError, Result};
use crate::repo;
use crate::repo::code_flow::CodeClaim;
use crate::repo::sessions::RefreshBinding;
use crate::transaction;

/// The query of `GET /oauth/authorize`, as given.
#[derive(Debug, Default, Clone)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
}

/// A request that cannot go back to the client: shown on our page.
#[derive(Debug)]
pub struct PageError(pub String);

impl PageError {
    /// A failure of ours, in words that say nothing more.
    pub fn internal() -> PageError {
        PageError("Something went wrong; try again.".into())
    }
}

/// What the browser does next.
pub enum Next {
    /// Shows the sign-in page for a stored request.
    SignIn(Box<SignInPage>),
    /// Shows the second-factor page.
    Mfa(Box<SignInPage>, String),
    /// Goes back to the client (with a code, or an error it should see);
    /// `cookie` is a new browser sign-in to set.
    Redirect {
        location: String,
        cookie: Option<BrowserCookie>,
    },
}

/// What the sign-in page shows and carries.
pub struct SignInPage {
    pub request: AuthorizationRequest,
    /// The CSRF token of the form (also set as a cookie).
    pub csrf: String,
    pub client_name: String,
    pub tenant_name: String,
    pub login_hint: Option<String>,
    /// Why the last attempt failed, in words that reveal nothing about
    /// who has an account.
    pub problem: Option<String>,
    /// The tenant's SSO providers shown as buttons: (scheme, label).
    pub providers: Vec<(String, String)>,
}

async fn buttons(db: &mut Db<'_>, tenant_id: Uuid) -> Result<Vec<(String, String)>> {
    Ok(super::sso::shown(db, tenant_id)
        .await?
        .into_iter()
        .map(|p| (p.scheme, p.display_name))
        .collect())
}

/// A browser sign-in: the cookie's value and when it ends.
pub struct BrowserCookie {
    pub value: String,
    pub expires_at: DateTime<Utc>,
}

/// An authorization error for the client (RFC 6749 4.1.2.1): the redirect
/// URI with `error`, `error_description`, `state` and `iss` (RFC 9207).
fn error_redirect(
    app: &App,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> String {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", app.tokens.issuer()));
    with_query(redirect_uri, &params)
}

/// Appends query parameters to a URI that may already have a query.
fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let encoded = serde_urlencoded::to_string(params).unwrap_or_default();
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{encoded}")
}

/// The client a request names, if it may sign users in.
async fn client_of(
    db: &mut Db<'_>,
    client_id: Option<&str>,
) -> Result<(Client, Tenant), PageError> {
    let unknown = || PageError("This sign-in link names no known application.".into());
    let id = client_id
        .and_then(|c| Uuid::parse_str(c).ok())
        .ok_or_else(unknown)?;
    let (client, status) = repo::clients::find_any(db, id)
        .await
        .map_err(|_| unknown())?
        .ok_or_else(unknown)?;
    if !client.enabled || status == TenantStatus::Suspended {
        return Err(PageError(
            "This application cannot sign anyone in now.".into(),
        ));
    }
    let tenant = repo::tenants::find(db, client.tenant_id)
        .await
        .map_err(|_| unknown())?
        .ok_or_else(unknown)?;
    Ok((client, tenant))
}

/// `GET /oauth/authorize`: checks the request and either signs the person
/// in at once (a live browser sign-in for the same tenant), sends the
/// client an error, or shows the sign-in page.
pub async fn begin(
    app: &App,
    params: AuthorizeParams,
    browser: Option<&str>,
    origin: &Origin,
) -> Result<Next, PageError> {
    let internal = |_| PageError::internal();
    let mut conn = app.db.get().await.map_err(internal)?;
    let db = &mut conn.db();
    let (client, tenant) = client_of(db, params.client_id.as_deref()).await?;
    let redirect_uri = registered_redirect(&client, params.redirect_uri.as_ref())?;
    let request = match checked_request(&client, &tenant, &params, redirect_uri.clone()) {
        Ok(request) => request,
        Err((error, description)) => {
            let state = params.state.as_deref();
            return Ok(Next::Redirect {
                location: error_redirect(app, &redirect_uri, state, error, &description),
                cookie: None,
            });
        }
    };
    let prompts: Vec<&str> = params.prompt.as_deref().unwrap_or("").split(' ').collect();
    // A live browser sign-in for this tenant signs in at once, unless the
    // client asks to sign in again.
    let signed_in = match browser {
        Some(cookie) if !prompts.contains(&"login") => {
            live_browser_session(db, cookie, tenant.id, request.created_at)
                .await
                .map_err(internal)?
        }
        _ => None,
    };
    if let Some(session_id) = signed_in {
        let location = issue_code(app, db, &request, session_id, origin)
            .await
            .map_err(internal)?;
        return Ok(Next::Redirect {
            location,
            cookie: None,
        });
    }
    if prompts.contains(&"none") {
        let state = params.state.as_deref();
        let location = error_redirect(
            app,
            &redirect_uri,
            state,
            "login_required",
            "The user is not signed in",
        );
        return Ok(Next::Redirect {
            location,
            cookie: None,
        });
    }
    let csrf = random_token(32);
    repo::code_flow::insert_request(db, &request, &hash_secret(&csrf))
        .await
        .map_err(internal)?;
    let providers = buttons(db, tenant.id).await.map_err(internal)?;
    Ok(Next::SignIn(Box::new(SignInPage {
        request,
        csrf,
        client_name: client.name,
        tenant_name: tenant.name,
        login_hint: params.login_hint.filter(|h| h.len() <= 254),
        problem: None,
        providers,
    })))
}

/// The redirect URI the request names, if it is registered for the
/// client: OpenID Connect requires one; OAuth lets a client with one
/// registered URI leave it out. Anything else stays on our page.
fn registered_redirect(client: &Client, asked: Option<&String>) -> Result<String, PageError> {
    match (asked, client.redirect_uris.as_slice()) {
        (Some(uri), registered) if registered.iter().any(|r| r == uri) => Ok(uri.clone()),
        (None, [only]) => Ok(only.clone()),
        _ => Err(PageError(
            "The address this application asked to return to is not registered for it.".into(),
        )),
    }
}

/// The request as it will be stored, or the error (RFC 6749 4.1.2.1 code
/// and description) to send back to the client's redirect URI.
fn checked_request(
    client: &Client,
    tenant: &Tenant,
    params: &AuthorizeParams,
    redirect_uri: String,
) -> std::result::Result<AuthorizationRequest, (&'static str, String)> {
    let fail = |error: &'static str, description: &str| Err((error, description.to_string()));
    if params.response_type.as_deref() != Some("code") {
        return fail(
            "unsupported_response_type",
            "Only response_type=code is supported",
        );
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return fail(
            "unauthorized_client",
            "This client may not use the authorization code grant",
        );
    }
    let challenge = match (
        &params.code_challenge,
        params.code_challenge_method.as_deref(),
    ) {
        (None, _) => {
            return fail(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            )
        }
        (Some(challenge), Some("S256")) => challenge.clone(),
        (Some(_), _) => {
            return fail(
                "invalid_request",
                "code_challenge_method must be S256 (plain is not accepted)",
            )
        }
    };
    if !valid_challenge(&challenge) {
        return fail(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
        );
    }
    for (name, value) in [("state", &params.state), ("nonce", &params.nonce)] {
        if value.as_deref().is_some_and(|v| !valid_opaque(v)) {
            return fail(
                "invalid_request",
                &format!("{name} must be 1 to 512 printable characters"),
            );
        }
    }
    let scope = match ScopeSet::parse(params.scope.as_deref().unwrap_or("")) {
        Ok(s) if s.is_empty() => client.allowed_scopes(),
        Ok(s) => s,
        Err(e) => return fail("invalid_scope", &e),
    };
    let refused = scope.missing_from(&client.allowed_scopes());
    if !refused.is_empty() {
        return fail(
            "invalid_scope",
            &format!("This client is not allowed the scope {}", refused.join(" ")),
        );
    }
    let now = Utc::now();
    Ok(AuthorizationRequest {
        id: Uuid::now_v7(),
        tenant_id: tenant.id,
        client_id: client.id,
        redirect_uri,
        scope,
        state: params.state.clone(),
        nonce: params.nonce.clone(),
        code_challenge: challenge,
        created_at: now,
        expires_at: now + REQUEST_LIFETIME,
    })
}

async fn live_browser_session(
    db: &mut Db<'_>,
    cookie: &str,
    tenant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>> {
    let Some((tenant, session_id)) =
        repo::code_flow::find_browser_session(db, &hash_secret(cookie), now).await?
    else {
        return Ok(None);
    };
    if tenant != tenant_id {
        return Ok(None);
    }
    match authentication::live_session(db, session_id, now).await {
        Ok(_) => Ok(Some(session_id)),
        Err(_) => Ok(None),
    }
}

/// The stored request a form names, if its CSRF token is right: the
/// form's copy must match the cookie's and the stored hash.
async fn request_of_form(
    app: &App,
    request_id: &str,
    csrf_form: &str,
    csrf_cookie: Option<&str>,
) -> Result<(AuthorizationRequest, Client, Tenant, Vec<(String, String)>), PageError> {
    use subtle::ConstantTimeEq;
    let expired = || {
        PageError("This sign-in has expired or was already used. Go back to the application and start again.".into())
    };
    let id = Uuid::parse_str(request_id).map_err(|_| expired())?;
    let mut conn = app.db.get().await.map_err(|_| expired())?;
    let db = &mut conn.db();
    let (request, csrf_hash) = repo::code_flow::find_request(db, id, Utc::now())
        .await
        .map_err(|_| expired())?
        .ok_or_else(expired)?;
    let cookie_ok =
        csrf_cookie.is_some_and(|c| bool::from(c.as_bytes().ct_eq(csrf_form.as_bytes())));
    let stored_ok: bool = hash_secret(csrf_form)
        .as_bytes()
        .ct_eq(csrf_hash.as_bytes())
        .into();
    if !cookie_ok || !stored_ok {
        return Err(PageError(
            "This form could not be verified. Go back to the application and start again.".into(),
        ));
    }
    let (client, tenant) = client_of(db, Some(&request.client_id.to_string())).await?;
    let providers = buttons(db, tenant.id)
        .await
        .map_err(|_| PageError::internal())?;
    Ok((request, client, tenant, providers))
}

/// The page of a stored request shown again after a round trip to an SSO
/// provider: with a fresh CSRF token, and `next` deciding what it shows.
async fn resumed(
    app: &App,
    request_id: Uuid,
) -> Result<
    (
        AuthorizationRequest,
        Client,
        Tenant,
        String,
        Vec<(String, String)>,
    ),
    PageError,
> {
    let expired = || {
        PageError("This sign-in has expired or was already used. Go back to the application and start again.".into())
    };
    let mut conn = app.db.get().await.map_err(|_| expired())?;
    let db = &mut conn.db();
    let (request, _) = repo::code_flow::find_request(db, request_id, Utc::now())
        .await
        .map_err(|_| expired())?
        .ok_or_else(expired)?;
    let csrf = random_token(32);
    repo::code_flow::set_csrf(db, request.id, &hash_secret(&csrf))
        .await
        .map_err(|_| expired())?;
    let (client, tenant) = client_of(db, Some(&request.client_id.to_string())).await?;
    let providers = buttons(db, tenant.id).await.map_err(|_| expired())?;
    Ok((request, client, tenant, csrf, providers))
}

/// The tenant a stored request belongs to.
pub async fn tenant_of_request(app: &App, request_id: Uuid) -> Result<Uuid, PageError> {
    let expired = || {
        PageError("This sign-in has expired. Go back to the application and start again.".into())
    };
    let mut conn = app.db.get().await.map_err(|_| expired())?;
    repo::code_flow::find_request(&mut conn.db(), request_id, Utc::now())
        .await
        .map_err(|_| expired())?
        .map(|(r, _)| r.tenant_id)
        .ok_or_else(expired)
}

/// After an SSO provider signed the person in for a request: back to the
/// client with a code, or on to the second factor.
pub async fn after_sso(
    app: &App,
    request_id: Uuid,
    outcome: SignIn,
    origin: &Origin,
) -> Result<Next, PageError> {
    let (request, client, tenant, csrf, providers) = resumed(app, request_id).await?;
    match outcome {
        SignIn::Complete(tokens) => finish(app, &request, &tokens, origin).await,
        SignIn::MfaRequired { mfa_token } => {
            let page = again(request, &csrf, client, tenant, String::new()).with(providers);
            Ok(Next::Mfa(Box::new(page), mfa_token))
        }
    }
}

/// After an SSO round trip failed for a request: the sign-in page again,
/// saying why.
pub async fn sso_failed(app: &App, request_id: Uuid, problem: String) -> Result<Next, PageError> {
    let (request, client, tenant, csrf, providers) = resumed(app, request_id).await?;
    let page = again(request, &csrf, client, tenant, problem).with(providers);
    Ok(Next::SignIn(Box::new(page)))
}

/// What a person may be told about a failed attempt: nothing that tells
/// whether an account exists.
fn attempt_problem(e: &Error) -> Option<String> {
    Some(match e {
        Error::InvalidCredentials => "The email, user name or password is not right.".into(),
        Error::AccountLocked { .. } => {
            "Too many attempts. Wait a few minutes and try again.".into()
        }
        Error::RateLimited { .. } => "Too many attempts. Wait a minute and try again.".into(),
        Error::AccountSuspended => "This account cannot sign in. Ask your administrator.".into(),
        Error::AccountNotVerified => {
            "Verify your email address first: follow the link we mailed you.".into()
        }
        Error::InvalidMfaCode => "That code is not right, or was already used.".into(),
        Error::Validation(_) => "Enter your email or user name, and your password.".into(),
        _ => return None,
    })
}

impl SignInPage {
    fn with(mut self, providers: Vec<(String, String)>) -> SignInPage {
        self.providers = providers;
        self
    }
}

/// The page again, with a problem to show, for the same request.
fn again(
    request: AuthorizationRequest,
    csrf: &str,
    client: Client,
    tenant: Tenant,
    problem: String,
) -> SignInPage {
    SignInPage {
        request,
        csrf: csrf.to_string(),
        client_name: client.name,
        tenant_name: tenant.name,
        login_hint: None,
        problem: Some(problem),
        providers: Vec::new(),
    }
}

/// `POST /oauth/authorize/password`: the sign-in form.
#[allow(clippy::too_many_arguments)]
pub async fn password(
    app: &App,
    request_id: &str,
    csrf_form: &str,
    csrf_cookie: Option<&str>,
    identifier: String,
    password: Password,
    remember_me: bool,
    origin: &Origin,
) -> Result<Next, PageError> {
    let (request, client, tenant, providers) =
        request_of_form(app, request_id, csrf_form, csrf_cookie).await?;
    if identifier.trim().is_empty() || password.expose().is_empty() {
        let problem = "Enter your email or user name, and your password.".to_string();
        return Ok(Next::SignIn(Box::new(
            again(request, csrf_form, client, tenant, problem).with(providers),
        )));
    }
    let input = LoginInput {
        identifier,
        password,
        remember_me,
    };
    match authentication::login(app, Some(&TenantRef::Id(tenant.id)), input, origin).await {
        Ok(SignIn::Complete(tokens)) => finish(app, &request, &tokens, origin).await,
        Ok(SignIn::MfaRequired { mfa_token }) => Ok(Next::Mfa(
            Box::new(again(request, csrf_form, client, tenant, String::new()).with(providers)),
            mfa_token,
        )),
        Err(e) => match attempt_problem(&e) {
            Some(problem) => Ok(Next::SignIn(Box::new(
                again(request, csrf_form, client, tenant, problem).with(providers),
            ))),
            None => Err(PageError::internal()),
        },
    }
}

/// `POST /oauth/authorize/mfa`: the second factor (a TOTP or backup code).
#[allow(clippy::too_many_arguments)]
pub async fn second_factor(
    app: &App,
    request_id: &str,
    csrf_form: &str,
    csrf_cookie: Option<&str>,
    mfa_token: &str,
    code: &str,
    backup: bool,
    origin: &Origin,
) -> Result<Next, PageError> {
    let (request, client, tenant, providers) =
        request_of_form(app, request_id, csrf_form, csrf_cookie).await?;
    let proof = if backup {
        parse_backup_code(code).map(Proof::BackupCode)
    } else {
        parse_totp_code(code).map(Proof::Totp)
    };
    let verified = match proof {
        Ok(proof) => {
            mfa::verify(
                app,
                Some(&TenantRef::Id(tenant.id)),
                mfa_token,
                proof,
                origin,
            )
            .await
        }
        // Not even the shape of a code: no guess to count.
        Err(_) => Err(Error::InvalidMfaCode),
    };
    match verified {
        Ok(tokens) => finish(app, &request, &tokens, origin).await,
        Err(e @ Error::InvalidMfaCode) => {
            let problem = attempt_problem(&e).unwrap_or_default();
            Ok(Next::Mfa(
                Box::new(again(request, csrf_form, client, tenant, problem).with(providers)),
                mfa_token.to_string(),
            ))
        }
        Err(e) => match attempt_problem(&e) {
            Some(problem) => Ok(Next::SignIn(Box::new(
                again(request, csrf_form, client, tenant, problem).with(providers),
            ))),
            None => Err(PageError(
                "This sign-in step has expired. Go back to the application and start again.".into(),
            )),
        },
    }
}

/// A signed-in person goes back to the client with a code; the browser
/// keeps a sign-in for the next client of the tenant.
async fn finish(
    app: &App,
    request: &AuthorizationRequest,
    tokens: &TokenSet,
    origin: &Origin,
) -> Result<Next, PageError> {
    let internal = |_| PageError::internal();
    let mut conn = app.db.get().await.map_err(internal)?;
    let db = &mut conn.db();
    let now = Utc::now();
    let session = repo::sessions::find(db, tokens.session_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| PageError("The sign-in ended; try again.".into()))?;
    let cookie = BrowserCookie {
        value: random_token(32),
        expires_at: session.expires_at,
    };
    let location = transaction!(db, |tx| {
        repo::code_flow::insert_browser_session(
            tx,
            &hash_secret(&cookie.value),
            request.tenant_id,
            session.id,
            now,
            session.expires_at,
        )
        .await?;
        repo::code_flow::finish_request(tx, request.id, now).await?;
        issue_code(app, tx, request, session.id, origin).await
    })
    .map_err(internal)?;
    Ok(Next::Redirect {
        location,
        cookie: Some(cookie),
    })
}

/// Stores a code for `session` and returns the redirect that carries it.
async fn issue_code(
    app: &App,
    db: &mut Db<'_>,
    request: &AuthorizationRequest,
    session_id: Uuid,
    origin: &Origin,
) -> Result<String> {
    let code = random_token(32);
    let now = Utc::now();
    let issued = IssuedCode {
        tenant_id: request.tenant_id,
        client_id: request.client_id,
        session_id,
        redirect_uri: request.redirect_uri.clone(),
        scope: request.scope.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
    };
    repo::code_flow::insert_code(db, &hash_secret(&code), &issued, now, now + CODE_LIFETIME)
        .await?;
    let event = AuditEvent::new(
        request.tenant_id,
        Actor::Anonymous,
        "oauth.code_issued",
        origin,
    )
    .target("session", session_id)
    .details(json!({ "clientId": request.client_id, "scope": request.scope.to_string() }));
    audit(db, event).await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &request.state {
        params.push(("state", s));
    }
    params.push(("iss", app.tokens.issuer()));
    Ok(with_query(&request.redirect_uri, &params))
}

fn invalid_grant(description: &str) -> Error {
    Error::oauth(OAuthError::InvalidGrant, description)
}

/// `POST /oauth/token` with `grant_type=authorization_code`: the code once,
/// within 60 seconds, by the client it was issued to, with the same
/// redirect URI and the PKCE verifier. A code presented twice ends the
/// session it started (RFC 6749 4.1.2).
pub async fn exchange(
    app: &App,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    origin: &Origin,
) -> Result<TokenSet> {
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(Error::oauth(
            OAuthError::UnauthorizedClient,
            "This client may not use the authorization_code grant",
        ));
    }
    let verifier = verifier.ok_or_else(|| {
        Error::oauth(
            OAuthError::InvalidRequest,
            "code_verifier is required (PKCE)",
        )
    })?;
    let now = Utc::now();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let issued = redeem(db, client, code, redirect_uri, verifier, now, origin).await?;
    let state = authentication::live_session(db, issued.session_id, now)
        .await
        .map_err(|_| invalid_grant("The sign-in this code came from has ended"))?;
    tokens_for_code(app, db, client, &issued, state.session, now, origin).await
}

/// Claims a code for `client`: its redirect URI and the PKCE verifier must
/// be the ones it was issued with. A replayed code revokes the session it
/// started; every refusal is audited, and another client learns nothing
/// about the code.
async fn redeem(
    db: &mut Db<'_>,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: &str,
    now: DateTime<Utc>,
    origin: &Origin,
) -> Result<IssuedCode> {
    let issued = match repo::code_flow::claim_code(db, &hash_secret(code), now).await? {
        CodeClaim::Fresh(issued) => issued,
        CodeClaim::Replayed { session_id } => {
            if let Some(session) = repo::sessions::find(db, session_id).await? {
                repo::sessions::revoke_by_id(db, session_id, now).await?;
                let event = AuditEvent::new(
                    session.tenant_id,
                    Actor::Anonymous,
                    "oauth.code_replayed",
                    origin,
                )
                .failed()
                .target("session", session_id)
                .details(json!({ "clientId": client.id }));
                audit(db, event).await?;
            }
            return Err(invalid_grant(
                "This code was already used; its tokens are revoked",
            ));
        }
        CodeClaim::Invalid => return Err(invalid_grant("The code is invalid or expired")),
    };
    // (audit reason, what the client is told)
    let problem = if issued.client_id != client.id {
        Some(("another client", "The code is invalid or expired"))
    } else if redirect_uri != Some(issued.redirect_uri.as_str()) {
        Some((
            "redirect_uri",
            "redirect_uri is not the one the code was issued for",
        ))
    } else if !verifier_matches(verifier, &issued.code_challenge) {
        Some((
            "code_verifier",
            "The code_verifier does not match the code_challenge",
        ))
    } else {
        None
    };
    let Some((reason, description)) = problem else {
        return Ok(issued);
    };
    let event = AuditEvent::new(
        issued.tenant_id,
        Actor::Anonymous,
        "oauth.code_refused",
        origin,
    )
    .failed()
    .target("session", issued.session_id)
    .details(json!({ "clientId": client.id, "reason": reason }));
    audit(db, event).await?;
    Err(invalid_grant(description))
}

/// The tokens a redeemed code gives: an access and ID token for the
/// session's person, and a refresh token bound to the client when it may
/// refresh.
async fn tokens_for_code(
    app: &App,
    db: &mut Db<'_>,
    client: &Client,
    issued: &IssuedCode,
    session: crate::domain::session::Session,
    now: DateTime<Utc>,
    origin: &Origin,
) -> Result<TokenSet> {
    let user = repo::users::find(db, session.tenant_id, session.user_id)
        .await?
        .ok_or_else(|| invalid_grant("The sign-in this code came from has ended"))?;
    let binding = RefreshBinding {
        client_id: client.id,
        scope: issued.scope.to_string(),
    };
    let wants_refresh = client.allows(GrantType::RefreshToken);
    let refresh_token = if wants_refresh {
        authentication::fresh_refresh_token()
    } else {
        String::new()
    };
    let grants = transaction!(db, |tx| {
        if wants_refresh {
            let expiry = authentication::refresh_token_expiry(app, now, session.expires_at);
            repo::sessions::insert_refresh_token(
                tx,
                &hash_secret(&refresh_token),
                session.id,
                now,
                expiry,
                Some(&binding),
            )
            .await?;
        }
        let actor = Actor::User {
            id: user.id,
            label: user.label().to_string(),
        };
        let event = AuditEvent::new(session.tenant_id, actor, "oauth.token_issued", origin)
            .target("session", session.id)
            .details(json!({ "clientId": client.id, "grant": "authorization_code", "scope": issued.scope.to_string() }));
        audit(tx, event).await?;
        repo::roles::grants_for_user(tx, user.id).await
    })?;
    let client_binding = ClientBinding {
        client_id: client.id,
        scope: &issued.scope,
        nonce: issued.nonce.as_deref(),
    };
    authentication::issue(
        app,
        user,
        grants,
        session.id,
        session.created_at,
        now,
        refresh_token,
        Some(client_binding),
    )
}

/// RP-initiated logout: ends the browser's sign-in and the session an ID
/// token names (if it is the same person's), and says where to go next —
/// a post-logout URI only if it is registered for the client.
pub async fn end_session(
    app: &App,
    browser: Option<&str>,
    id_token_hint: Option<&str>,
    client_id: Option<&str>,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
    origin: &Origin,
) -> Result<Option<String>> {
    let now = Utc::now();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let hinted = id_token_hint.and_then(|t| app.tokens.read_id_token(t));
    let mut ended = Vec::new();
    if let Some(cookie) = browser {
        let hash = hash_secret(cookie);
        if let Some((_, session_id)) = repo::code_flow::find_browser_session(db, &hash, now).await?
        {
            ended.push(session_id);
        }
        repo::code_flow::delete_browser_session(db, &hash).await?;
    }
    if let Some(claims) = &hinted {
        if let Ok(sid) = claims.sid.parse::<Uuid>() {
            ended.push(sid);
        }
    }
    for session_id in ended {
        if let Some(session) = repo::sessions::find(db, session_id).await? {
            if repo::sessions::revoke_by_id(db, session_id, now).await? {
                let event =
                    AuditEvent::new(session.tenant_id, Actor::Anonymous, "auth.logout", origin)
                        .target("session", session_id)
                        .details(json!({ "via": "end_session" }));
                audit(db, event).await?;
            }
        }
    }
    let client = client_id
        .map(str::to_string)
        .or_else(|| hinted.as_ref().map(|c| c.aud.clone()))
        .and_then(|c| Uuid::parse_str(&c).ok());
    let (Some(uri), Some(client)) = (post_logout_redirect_uri, client) else {
        return Ok(None);
    };
    let registered = repo::clients::find_any(db, client)
        .await?
        .is_some_and(|(c, _)| c.redirect_uris.iter().any(|r| r == uri));
    if !registered {
        return Ok(None);
    }
    Ok(Some(match state {
        Some(s) => with_query(uri, &[("state", s)]),
        None => uri.to_string(),
    }))
}
