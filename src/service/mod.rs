//! Use cases: transactions, authorization, password hashing, tokens and
//! audit. The dialects in `api` call these and only these.

pub mod access;
pub mod account_links;
pub mod accounts;
pub mod audit_log;
pub mod authentication;
pub mod bootstrap;
pub mod callers;
pub mod clients;
pub mod code_flow;
pub mod dns;
pub mod domains;
pub mod groups;
pub mod invitations;
pub mod jws;
pub mod mail;
pub mod mfa;
pub mod oauth;
pub mod oidc_rp;
pub mod onboarding;
pub mod operator;
pub mod organizations;
pub mod passwords;
pub mod provisioning;
pub mod ratelimit;
pub mod recovery;
pub mod roles;
pub mod scim_tokens;
pub mod sealing;
pub mod sessions;
pub mod settings;
pub mod sso;
pub mod sso_providers;
pub mod subjects;
pub mod tenants;
pub mod tokens;
pub mod users;

use std::sync::Arc;

use crate::config::Config;
use crate::db::{Db, Pool};
use crate::domain::audit::AuditEvent;
use crate::domain::denial::DenialLog;
use crate::domain::Result;
use passwords::Passwords;
use tokens::Tokens;

/// Everything a use case needs, shared by all workers. The HTTP layer
/// holds it inside a `Gate`.
#[derive(Clone)]
pub struct App {
    pub db: Pool,
    pub config: Arc<Config>,
    pub tokens: Tokens,
    pub passwords: Passwords,
    pub limits: ratelimit::RateLimiter,
    pub mail: mail::Mailer,
    /// Seals secrets the server reads back (TOTP secrets).
    pub sealer: sealing::Sealer,
    /// The HTTP side of SSO: external providers' discovery, tokens, keys.
    pub rp: oidc_rp::RelyingParty,
    /// Callers resolved by this instance, checked against their tenant's
    /// access version on every request (`callers.rs`).
    pub callers: Arc<callers::CallerCache>,
    /// The multi-thread runtime the server was built on; see `Gate::run`.
    pub runtime: tokio::runtime::Handle,
}

/// The application as the HTTP layer holds it: the one way in is `run`.
///
/// actix-web workers are single-threaded and drop a request's future when
/// its client goes away or another extractor fails; a database operation
/// dropped halfway would leave a SQLite connection blocked (diesel-async
/// then needs `block_in_place`, which a single-threaded runtime cannot do)
/// or a PostgreSQL protocol exchange cut short. So the `App` inside, and
/// with it the pool and every use case (they all take `&App`), is reached
/// only in work handed to `run`, which finishes once started. What a
/// request may read without it touches no database: the configuration,
/// the token keys (which run their own reads) and the rate limiter.
#[derive(Clone)]
pub struct Gate {
    app: App,
}

impl Gate {
    pub fn new(app: App) -> Gate {
        Gate { app }
    }

    pub fn config(&self) -> &Config {
        &self.app.config
    }

    /// Signing and verification; an unknown key is read on the server's
    /// runtime (`tokens.rs`).
    pub fn tokens(&self) -> &Tokens {
        &self.app.tokens
    }

    /// The request counters (in process or Redis): no database.
    pub fn limits(&self) -> &ratelimit::RateLimiter {
        &self.app.limits
    }

    /// Runs a use case on the server's multi-thread runtime, detached from
    /// the request that asked for it: work started here always finishes,
    /// whatever becomes of the request.
    pub async fn run<T, E, F, Fut>(&self, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(App) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<crate::domain::Error> + Send + 'static,
    {
        // The task carries the request's id (for logs) and its log of
        // authorization refusals (for the audit log).
        let work = work(self.app.clone());
        let denials = DenialLog::current().unwrap_or_default();
        let work = denials.scope(work);
        let runtime = &self.app.runtime;
        let task = match crate::logging::request_id() {
            Some(id) => runtime.spawn(crate::logging::REQUEST_ID.scope(id, work)),
            None => runtime.spawn(work),
        };
        task.await
            .map_err(|e| E::from(crate::domain::Error::internal(format!("task failed: {e}"))))?
    }
}

/// Appends an audit event now; inside the caller's transaction when it has one.
pub async fn audit(db: &mut Db<'_>, event: AuditEvent) -> Result<()> {
    crate::repo::audit::append(db, &event, chrono::Utc::now()).await
}
