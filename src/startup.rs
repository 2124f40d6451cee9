//! Build pools, run migrations, bootstrap, build the HTTP server, bind, serve.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::web::Data;
use actix_web::{web, HttpServer};

use crate::api::observe::{observe, Metrics};
use crate::api::{error, input, jsonapi, limits, routes};
use crate::config::Config;
use crate::db::{Pool, StartupLock};
use crate::service::passwords::Passwords;
use crate::service::ratelimit::RateLimiter;
use crate::service::sealing::Sealer;
use crate::service::tokens::Tokens;
use crate::service::{bootstrap, App, Gate};

/// A bound, ready-to-run server.
pub struct Server {
    pub addr: SocketAddr,
    pub app: App,
    /// The password made up for the first platform administrator, when
    /// this start created one without ITHBAT_ADMIN_PASSWORD.
    pub generated_admin_password: Option<String>,
    server: actix_web::dev::Server,
}

/// The shared state of a server or of one command line run, over a
/// database made ready as on a first start: migrated, under the startup
/// lock (ARCHITECTURE.md "Several instances"), with its signing and
/// sealing keys and, when empty, the default tenant and its administrator.
/// `issuer` is the token issuer. Also returns the administrator's password
/// when this run made one up.
pub async fn open(config: Config, issuer: &str) -> Result<(App, Option<String>), String> {
    for warning in config.warnings() {
        log::warn!("{warning}");
    }
    let describe_db = |e: &crate::domain::Error| {
        format!(
            "database {}: {}",
            config.database_url.backend(),
            describe(e)
        )
    };
    // Instances starting together take turns until the first start's
    // work is done.
    let startup = StartupLock::acquire(&config.database_url)
        .await
        .map_err(|e| describe_db(&e))?;
    let pool = Pool::connect(
        &config.database_url,
        config.db_pool_size,
        config.db_timeouts,
    )
    .await
    .map_err(|e| describe_db(&e))?;
    let tokens = Tokens::load_or_create(
        &pool,
        issuer,
        config.access_token_ttl_secs,
        config.signing_key_refresh,
        config.signing_alg,
        config.signing_key_pem.as_deref(),
    )
    .await
    .map_err(|e| format!("signing keys: {}", describe(&e)))?;
    let sealer = Sealer::load_or_create(&pool, config.secret_key.as_ref())
        .await
        .map_err(|e| format!("sealing key: {}", describe(&e)))?;
    let passwords = Passwords::new(config.hash_cost, config.hash_concurrency)?;
    let limits = match &config.redis_url {
        Some(url) => RateLimiter::redis(url).await?,
        None => RateLimiter::in_memory(),
    };
    let mail = crate::service::mail::Mailer::new(&config)?;
    let app = App {
        db: pool,
        config: Arc::new(config),
        tokens,
        passwords,
        limits,
        mail,
        sealer,
        rp: crate::service::oidc_rp::RelyingParty::new(),
        callers: Default::default(),
        runtime: tokio::runtime::Handle::current(),
    };
    let generated_admin_password = bootstrap::run(&app)
        .await
        .map_err(|e| format!("first start: {}", describe(&e)))?;
    startup.release().await;
    Ok((app, generated_admin_password))
}

impl Server {
    pub async fn build(config: Config) -> Result<Server, String> {
        let listener = TcpListener::bind(config.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let workers = config.workers;
        let (app, generated_admin_password) = open(config, &public_url).await?;
        app.tokens.refresh_every(app.config.signing_key_refresh);

        let metrics = Data::new(Metrics::default());
        let data = Data::new(Gate::new(app.clone()));
        let server = HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .app_data(metrics.clone())
                .app_data(web::FormConfig::default().error_handler(error::form_error))
                .configure(routes)
                .default_service(web::to(error::not_found))
                .wrap(from_fn(jsonapi::negotiation::negotiate_content))
                .wrap(from_fn(input::screen))
                .wrap(from_fn(limits::limit))
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "no-referrer")),
                )
                .wrap(from_fn(observe))
        })
        .workers(workers)
        .listen(listener)
        .map_err(|e| e.to_string())?
        .run();
        log::info!(
            "ithbat listening on http://{addr} ({} database, {} rate limits, issuer {public_url})",
            app.db.backend(),
            app.limits.backend()
        );
        Ok(Server {
            addr,
            app,
            generated_admin_password,
            server,
        })
    }

    /// Serves until the process is told to stop.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// An error as an operator reads it: the detail of an internal error,
/// every field of a validation error.
pub fn describe(e: &crate::domain::Error) -> String {
    match e {
        crate::domain::Error::Internal(detail) | crate::domain::Error::Unavailable(detail) => {
            detail.clone()
        }
        crate::domain::Error::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
