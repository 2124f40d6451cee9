//! Test support: real servers on random ports over real databases.
//!
//! `shared(backend)` is one server per backend for the whole test binary;
//! tests isolate themselves by creating their own tenant (`tenant(b)`, or
//! `new_tenant` on a server they hold). `spawn(backend, tweak)` starts a
//! private server on a fresh database for tests that change configuration
//! or break the database on purpose.
//!
//! A scenario's set-up is a line each, from the module that owns it: a
//! tenant's users, roles, groups and policies (`TestTenant`, `iam`),
//! machine clients (`oauth`), a person signing in to an application
//! (`oidc`), SSO providers (`sso`), accounts and JSON:API documents
//! (`jsonapi`), mailed links and tokens (`mail`, `smtp`), SCIM (`scim`),
//! the administration commands of the binary (`cli`),
//! MFA (`totp::enrol`), the hosted pages (`web`) and seeded random runs
//! (`property`). Add a set-up there, not in a test file.
//!
//! PostgreSQL: `ITHBAT_TEST_PG_URL` (default
//! postgres://root@127.0.0.1:5432/postgres) names a server where the tests
//! create and drop their own databases. `ITHBAT_TEST_SKIP_POSTGRES=1` skips
//! the PostgreSQL half locally; CI never sets it.

#![allow(dead_code)]

pub mod browser;
pub mod cli;
pub mod client;
pub mod dns;
pub mod iam;
pub mod instance;
pub mod jsonapi;
pub mod mail;
pub mod oauth;
pub mod oidc;
pub mod property;
pub mod proxy;
pub mod scim;
pub mod smtp;
pub mod sso;
pub mod totp;
pub mod web;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use ithbat::config::Config;
use ithbat::config::HashCost;
use ithbat::db::DatabaseUrl;
use ithbat::startup::Server;
use serde_json::json;

pub use client::{Api, Resp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const ADMIN_EMAIL: &str = "admin@ithbat.test";
pub const ADMIN_PASSWORD: &str = "Adm1n!Passw0rd";
/// Meets the default password policy.
pub const PASSWORD: &str = "Corr3ct!Horse";

pub fn pg_admin_url() -> String {
    std::env::var("ITHBAT_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".into())
}

/// True only when the developer opted out of the PostgreSQL half.
pub fn skip_postgres() -> bool {
    let skip = std::env::var("ITHBAT_TEST_SKIP_POSTGRES").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("skipping the PostgreSQL variant: ITHBAT_TEST_SKIP_POSTGRES=1");
    }
    skip
}

/// One RSA key for every server of this test process: generating one per
/// database would cost more than the tests themselves. Tests that need a
/// token the server would sign (an expired one) sign with it too.
pub fn signing_key() -> String {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| ithbat::service::tokens::generate_rsa_pem().expect("rsa key"))
        .clone()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_name() -> String {
    format!(
        "ithbat_t_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A database made for one server, removed when dropped.
pub struct TestDb {
    pub url: DatabaseUrl,
    name: String,
}

impl TestDb {
    pub async fn create(backend: Backend) -> TestDb {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("ithbat-tests");
                std::fs::create_dir_all(&dir).unwrap();
                remove_stale_files(&dir);
                let path = dir.join(format!("{name}.db"));
                TestDb {
                    url: DatabaseUrl::Sqlite(path.to_string_lossy().into_owned()),
                    name,
                }
            }
            Backend::Postgres => {
                let admin = pg_admin_url();
                let mut conn = AsyncPgConnection::establish(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is unreachable at {admin} ({e}). Point ITHBAT_TEST_PG_URL at a server \
                         where the tests may create databases, or set ITHBAT_TEST_SKIP_POSTGRES=1 to skip \
                         the PostgreSQL half locally."
                    )
                });
                drop_stale_databases(&mut conn).await;
                conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                TestDb {
                    url: DatabaseUrl::Postgres(format!("{base}/{name}")),
                    name,
                }
            }
        }
    }

    /// Runs SQL on the database behind a server, for tests that must put
    /// it in a state no request can (an expired token, say).
    pub async fn execute(&self, sql: &str) {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = AsyncPgConnection::establish(url).await.unwrap();
                conn.batch_execute(sql).await.unwrap();
            }
            DatabaseUrl::Sqlite(path) => {
                use diesel::connection::SimpleConnection;
                use diesel::Connection;
                let (path, sql) = (path.clone(), sql.to_string());
                tokio::task::spawn_blocking(move || {
                    let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
                    conn.batch_execute("PRAGMA busy_timeout = 15000;").unwrap();
                    conn.batch_execute(&sql).unwrap();
                })
                .await
                .unwrap();
            }
        }
    }

    /// Runs a query whose one column is text named `v`; its values.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let sql = sql.to_string();
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                use diesel_async::RunQueryDsl;
                let mut conn = AsyncPgConnection::establish(url).await.unwrap();
                let rows: Vec<Row> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
                rows.into_iter().map(|r| r.v).collect()
            }
            DatabaseUrl::Sqlite(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
                    use diesel::{Connection, RunQueryDsl, SqliteConnection};
                    let mut conn = SqliteConnection::establish(&path).unwrap();
                    let rows: Vec<Row> = diesel::sql_query(sql).load(&mut conn).unwrap();
                    rows.into_iter().map(|r| r.v).collect()
                })
                .await
                .unwrap()
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self.url {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            DatabaseUrl::Postgres(_) => {
                let name = self.name.clone();
                // Drop runs outside async context: use a thread of its own.
                let _ = on_own_thread(async move {
                    if let Ok(mut conn) = AsyncPgConnection::establish(&pg_admin_url()).await {
                        let _ = conn
                            .batch_execute(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                    }
                })
                .join();
            }
        }
    }
}

/// Runs `work` on a thread of its own, in a current-thread runtime: for
/// servers that outlive the test that starts them, and for async clean-up
/// in `Drop`, which runs outside any runtime.
pub fn on_own_thread<F>(work: F) -> std::thread::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work)
    })
}

/// SQLite files left by test processes that are gone.
fn remove_stale_files(dir: &std::path::Path) {
    static ONCE: OnceLock<()> = OnceLock::new();
    if ONCE.set(()).is_err() {
        return;
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid: Option<u32> = name
            .strip_prefix("ithbat_t_")
            .and_then(|r| r.split('_').next())
            .and_then(|p| p.parse().ok());
        if pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Databases left by test processes that are gone (killed, or the shared
/// servers, which live until the process exits).
async fn drop_stale_databases(conn: &mut AsyncPgConnection) {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    static ONCE: OnceLock<()> = OnceLock::new();
    if ONCE.set(()).is_err() {
        return;
    }
    let rows: Vec<Row> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'ithbat\\_t\\_%'")
            .load(conn)
            .await
            .unwrap_or_default();
    for row in rows {
        let pid: Option<u32> = row.datname.split('_').nth(2).and_then(|p| p.parse().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = conn
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    row.datname
                ))
                .await;
        }
    }
}

/// Test configuration: a random port, cheap argon2 (the shipped default is
/// OWASP's; see Config::warnings), the shared signing key, known admin.
pub fn test_config(url: DatabaseUrl) -> Config {
    if std::env::var_os("RUST_LOG").is_some() {
        ithbat::logging::init();
    }
    let mut c = Config::new(url);
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.admin_email = Some(ADMIN_EMAIL.into());
    c.admin_password = Some(ADMIN_PASSWORD.into());
    c.hash_cost = HashCost {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    };
    c.workers = 2;
    c.db_pool_size = 8;
    c.signing_key_pem = Some(signing_key());
    // Mail goes to a real SMTP server on loopback; tests read it there.
    c.smtp_url = Some(smtp::shared_sink().url());
    // DNS (domain verification) asks a real server on loopback.
    c.dns_resolver = Some(dns::shared_dns().addr);
    // Every test client is 127.0.0.1; tests of the limits lower them.
    c.anonymous_rate_limit = 1_000_000;
    c.auth_rate_limit_per_ip = 1_000_000;
    c.auth_rate_limit_per_account = 1_000;
    c
}

/// A private server on its own database. Stopped and its database dropped
/// when dropped.
pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    pub generated_admin_password: Option<String>,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub fn api(&self) -> Api {
        Api::new(&self.base)
    }

    pub async fn admin(&self) -> Api {
        self.api().login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Stops the server (it stops accepting and finishes what is in flight).
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        let _ = on_own_thread(async move { handle.stop(false).await }).join();
    }
}

/// Starts a private server on a fresh database; `tweak` adjusts its configuration.
pub async fn spawn(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_on(TestDb::create(backend).await, tweak).await
}

/// Starts a private server on `db` (which may already hold data).
pub async fn spawn_on(db: TestDb, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(db.url.clone());
    tweak(&mut config);
    let server = Server::build(config).await.expect("server starts");
    let base = format!("http://{}", server.addr);
    let handle = server.handle();
    let generated_admin_password = server.generated_admin_password.clone();
    tokio::spawn(server.run());
    TestApp {
        base,
        db,
        generated_admin_password,
        handle,
    }
}

/// The server shared by every test of this binary on `backend`, started on
/// first use in a runtime of its own that lives as long as the process.
pub async fn shared(backend: Backend) -> Shared {
    static SQLITE: OnceLock<String> = OnceLock::new();
    static POSTGRES: OnceLock<String> = OnceLock::new();
    let cell = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    let base = cell.get_or_init(move || {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let db = TestDb::create(backend).await;
                let server = Server::build(test_config(db.url.clone()))
                    .await
                    .expect("shared server starts");
                tx.send(format!("http://{}", server.addr)).unwrap();
                // The database outlives this runtime; stale-database
                // clean-up removes it after the process exits.
                std::mem::forget(db);
                let _ = server.run().await;
            });
        });
        rx.recv().expect("shared server started")
    });
    Shared { base: base.clone() }
}

pub struct Shared {
    pub base: String,
}

/// A fresh tenant on the shared server of `backend`, its owner signed in:
/// where most tests start.
pub async fn tenant(backend: Backend) -> TestTenant {
    shared(backend).await.new_tenant().await
}

/// A tenant made for one test, with its owner signed in.
pub struct TestTenant {
    pub id: String,
    pub slug: String,
    pub owner_email: String,
    pub owner_id: String,
    /// Signed in as the owner, with X-Tenant-ID set.
    pub owner: Api,
}

impl Shared {
    pub fn api(&self) -> Api {
        Api::new(&self.base)
    }

    pub async fn admin(&self) -> Api {
        self.api().login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Creates a tenant with an owner (password `PASSWORD`) and signs in as it.
    pub async fn new_tenant(&self) -> TestTenant {
        new_tenant(&self.api(), &self.admin().await).await
    }
}

pub async fn new_tenant(anonymous: &Api, admin: &Api) -> TestTenant {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let slug = format!("t{}-{n}", std::process::id());
    let owner_email = format!("owner@{slug}.example");
    let r = admin
        .post(
            "/api/v1/tenants",
            json!({
                "name": format!("Tenant {slug}"),
                "slug": slug,
                "plan": "pro",
                "adminEmail": owner_email,
                "adminPassword": PASSWORD,
                "adminFirstName": "Olivia",
                "adminLastName": "Owner",
            }),
        )
        .await;
    assert_eq!(r.status, 201, "create tenant: {}", r.body);
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    let owner_id = r.body["data"]["adminUserId"].as_str().unwrap().to_string();
    let owner = anonymous
        .with_tenant(&id)
        .login(&owner_email, PASSWORD)
        .await;
    TestTenant {
        id,
        slug,
        owner_email,
        owner_id,
        owner,
    }
}

/// A user made for one test, signed in.
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub api: Api,
}

impl TestTenant {
    /// A client of this tenant with no one signed in.
    pub fn anonymous(&self) -> Api {
        self.owner.anonymous()
    }

    /// An address in this tenant's test domain.
    pub fn email(&self, local: &str) -> String {
        format!("{local}@{}.example", self.slug)
    }

    /// Creates an active, verified user (role `member`, password `PASSWORD`)
    /// through the API as the owner, and signs in as them.
    pub async fn user(&self, local: &str) -> TestUser {
        let email = self.email(local);
        let id = self.create_user(&email, local, "Tester").await;
        let api = self.owner.anonymous().login(&email, PASSWORD).await;
        TestUser { id, email, api }
    }

    /// Creates an active, verified user (role `member`, password
    /// `PASSWORD`) as the owner; its id.
    pub async fn create_user(&self, email: &str, first_name: &str, family_name: &str) -> String {
        let r = self
            .owner
            .post(
                "/api/v1/users",
                json!({
                    "email": email, "firstName": first_name, "familyName": family_name,
                    "password": PASSWORD, "skipEmailVerification": true
                }),
            )
            .await;
        assert_eq!(r.status, 201, "create user: {}", r.text);
        r.body["data"]["id"].as_str().unwrap().to_string()
    }

    /// `POST /api/v1/users/bulk` as the owner with these rows.
    pub async fn bulk_users(&self, rows: impl serde::Serialize) -> Resp {
        self.owner
            .post("/api/v1/users/bulk", json!({ "users": rows }))
            .await
    }

    /// The tenant's audit log as its owner reads it, with `query`
    /// (`action=...`, `targetId=...`, `limit=...`).
    pub async fn audit(&self, query: &str) -> Resp {
        self.owner.get(&format!("/api/v1/audit-logs?{query}")).await
    }

    /// The id of one of the tenant's roles, by name.
    pub async fn role_id(&self, name: &str) -> String {
        let r = self.owner.get("/api/v1/roles?limit=100").await;
        r.ok()["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|role| role["name"] == name)
            .unwrap_or_else(|| panic!("no role {name}: {}", r.text))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// The string at `pointer` (RFC 6901) in each element of the JSON array
/// `list`, in order, collected as the caller asks.
pub fn pluck<'a, C: FromIterator<&'a str>>(list: &'a serde_json::Value, pointer: &str) -> C {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|item| {
            item.pointer(pointer)
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| panic!("no string at {pointer} in {item}"))
        })
        .collect()
}
