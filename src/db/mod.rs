//! The only module that knows there are two backends.
//!
//! Repository code is written once against `Db`; `with_conn!` compiles the
//! query body once per backend, so diesel queries need no trait bounds.

mod errors;
mod pg;
pub mod schema;
pub mod types;
mod unique;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool as DeadPool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{
    AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection, TransactionManager,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use futures_util::FutureExt;

use crate::domain::{Error, Result};

pub use types::{Json, Ts, Uid};
pub use unique::is_unique_violation;

pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// How long the database may keep a request waiting (ARCHITECTURE.md
/// "Database timeouts").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// For a pooled connection (waiting for a free one, or opening one).
    pub acquire: Duration,
    /// For one statement: PostgreSQL's `statement_timeout`, SQLite's
    /// `busy_timeout`; a PostgreSQL connection silent `pg::GRACE` longer
    /// while it owes an answer is given up.
    pub statement: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            acquire: Duration::from_secs(5),
            statement: Duration::from_secs(10),
        }
    }
}

/// Pragmas for every SQLite connection after its `busy_timeout` (which
/// comes first, so that these wait for locks too): enforce foreign keys,
/// and let readers run beside the writer (WAL). LIKE is made
/// case-sensitive, as on PostgreSQL: case-insensitive matching is done on
/// folded text, and case-exact attributes compare exactly.
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA case_sensitive_like = ON;";

/// Every pragma of an SQLite connection, locks waited for up to `busy`.
fn sqlite_pragmas(busy: Duration) -> String {
    format!(
        "PRAGMA busy_timeout = {}; {SQLITE_PRAGMAS}",
        busy.as_millis()
    )
}

diesel::define_sql_function! {
    /// NFC then lowercase: `domain::user::fold` in SQL. PostgreSQL defines it
    /// in a migration; SQLite connections get it from Rust.
    #[sql_name = "ithbat_fold"]
    fn fold(text: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// Gives an SQLite connection `ithbat_fold`, as PostgreSQL's migrations
/// define it.
fn register_fold(c: &mut SqliteConnection) -> diesel::QueryResult<()> {
    fold_utils::register_impl(c, |text: Option<String>| {
        text.map(|t| crate::domain::user::fold(&t))
    })
}

/// Which backend, parsed from DATABASE_URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    /// A file path.
    Sqlite(String),
}

impl DatabaseUrl {
    /// `postgres://...` / `postgresql://...`, or `sqlite://PATH` / `sqlite:PATH`.
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_string()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path.contains(":memory:") {
                Err("an SQLite URL needs a file path, e.g. sqlite://ithbat.db".into())
            } else {
                Ok(DatabaseUrl::Sqlite(path.to_string()))
            }
        } else {
            Err("must start with postgres://, postgresql:// or sqlite://".into())
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            DatabaseUrl::Postgres(_) => "postgres",
            DatabaseUrl::Sqlite(_) => "sqlite",
        }
    }
}

#[derive(Clone)]
pub struct Pool {
    backend: Backend,
    acquire: Duration,
}

#[derive(Clone)]
enum Backend {
    Pg(DeadPool<AsyncPgConnection>),
    Sqlite(DeadPool<SqliteConn>, WriteGate),
}

/// The turn of this process's SQLite write transactions, one at a time in
/// arrival order. SQLite lets one writer in; the others used to poll the
/// lock in its busy handler, sleeping 1 to 100 ms between tries, which
/// left cores idle and put the unlucky writer hundreds of milliseconds
/// behind (docs/performance.md). Waiting here instead hands the lock on as
/// soon as it is released. Other processes on the same file still meet
/// the busy handler.
#[derive(Clone)]
pub struct WriteGate {
    turn: Arc<tokio::sync::Mutex<()>>,
    /// As long as a request waits for a pooled connection: a turn is the
    /// same kind of wait, in a fair queue, unlike the busy handler's polls.
    wait: Duration,
}

/// A write transaction's turn, held until it commits or rolls back.
#[must_use]
pub struct WriteTurn {
    /// The gate's guard (SQLite's outermost transaction); kept only to be
    /// dropped with the turn.
    _held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTurn {
    /// A turn that holds nothing: PostgreSQL, or a nested transaction.
    fn free() -> WriteTurn {
        WriteTurn { _held: None }
    }
}

impl WriteGate {
    fn new(wait: Duration) -> WriteGate {
        WriteGate {
            turn: Arc::new(tokio::sync::Mutex::new(())),
            wait,
        }
    }

    async fn enter(&self) -> Result<WriteTurn> {
        match tokio::time::timeout(self.wait, self.turn.clone().lock_owned()).await {
            Ok(guard) => Ok(WriteTurn { _held: Some(guard) }),
            Err(_) => Err(Error::Unavailable(
                "database is busy: no write turn within the acquire timeout".into(),
            )),
        }
    }
}

/// A pooled connection of either backend, returned to the pool on drop.
// Held briefly on the stack of one request; boxing would cost an
// allocation per checkout.
#[allow(clippy::large_enum_variant)]
pub enum Conn {
    Pg(Object<AsyncPgConnection>),
    Sqlite(Object<SqliteConn>, WriteGate),
}

/// A borrowed connection of either backend (SQLite's with its database's
/// write gate).
pub enum Db<'a> {
    Pg(&'a mut AsyncPgConnection),
    Sqlite(&'a mut SqliteConn, &'a WriteGate),
}

/// Runs `$body` with `$c` bound to the concrete connection of `$db`
/// (a `&mut Db`). The body is compiled once per backend.
#[macro_export]
macro_rules! with_conn {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Pg(conn) => {
                let $c: &mut diesel_async::AsyncPgConnection = &mut **conn;
                $body
            }
            $crate::db::Db::Sqlite(conn, _) => {
                let $c: &mut $crate::db::SqliteConn = &mut **conn;
                $body
            }
        }
    };
}

/// Inserts many rows: one statement on PostgreSQL; one statement per row
/// on SQLite, whose async wrapper has no multi-row insert (call it inside a
/// transaction there). Evaluates to a `QueryResult<usize>`.
#[macro_export]
macro_rules! insert_all {
    ($db:expr, $table:expr, $rows:expr) => {
        match $db {
            $crate::db::Db::Pg(conn) => {
                diesel::insert_into($table)
                    .values($rows)
                    .execute(&mut **conn)
                    .await
            }
            $crate::db::Db::Sqlite(conn, _) => {
                let mut inserted = 0;
                let mut result = Ok(0);
                for row in $rows {
                    match diesel::insert_into($table)
                        .values(row)
                        .execute(&mut **conn)
                        .await
                    {
                        Ok(n) => inserted += n,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                result.map(|_: usize| inserted)
            }
        }
    };
}

impl Pool {
    /// Connects, runs pending migrations and returns a pool of `size`.
    /// Connections are recycled without a test query (a round trip per
    /// request saved): a PostgreSQL connection that has closed (the
    /// watchdog in `pg` closes one the network silenced), or any
    /// connection left inside a transaction, is discarded on return anyway.
    pub async fn connect(url: &DatabaseUrl, size: usize, timeouts: Timeouts) -> Result<Pool> {
        run_migrations(url).await?;
        let backend = match url {
            DatabaseUrl::Postgres(u) => {
                let mut config = ManagerConfig::default();
                config.recycling_method = RecyclingMethod::Fast;
                config.custom_setup = Box::new(move |url| pg::connect(url, timeouts).boxed());
                let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
                    u.clone(),
                    config,
                );
                Backend::Pg(
                    with_limits(DeadPool::builder(manager), size, timeouts)
                        .build()
                        .map_err(Error::internal)?,
                )
            }
            DatabaseUrl::Sqlite(path) => {
                let pragmas = sqlite_pragmas(timeouts.statement);
                let mut config = ManagerConfig::default();
                config.recycling_method = RecyclingMethod::Fast;
                config.custom_setup = Box::new(move |path| {
                    let pragmas = pragmas.clone();
                    async move {
                        let mut conn = SqliteConn::establish(path).await?;
                        conn.batch_execute(&pragmas)
                            .await
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        conn.spawn_blocking(register_fold)
                            .await
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        Ok(conn)
                    }
                    .boxed()
                });
                let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(
                    path.clone(),
                    config,
                );
                Backend::Sqlite(
                    with_limits(DeadPool::builder(manager), size, timeouts)
                        .build()
                        .map_err(Error::internal)?,
                    WriteGate::new(timeouts.acquire),
                )
            }
        };
        Ok(Pool {
            backend,
            acquire: timeouts.acquire,
        })
    }

    /// A connection within the acquire timeout, or `Error::Unavailable`.
    pub async fn get(&self) -> Result<Conn> {
        let get = async {
            match &self.backend {
                Backend::Pg(p) => p.get().await.map(Conn::Pg).map_err(unavailable),
                Backend::Sqlite(p, gate) => p
                    .get()
                    .await
                    .map(|c| Conn::Sqlite(c, gate.clone()))
                    .map_err(unavailable),
            }
        };
        tokio::time::timeout(self.acquire, get)
            .await
            .unwrap_or_else(|_| Err(unavailable("no connection within the acquire timeout")))
    }

    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Pg(_) => "postgres",
            Backend::Sqlite(..) => "sqlite",
        }
    }

    /// (connections open, connections idle)
    pub fn status(&self) -> (usize, usize) {
        let s = match &self.backend {
            Backend::Pg(p) => p.status(),
            Backend::Sqlite(p, _) => p.status(),
        };
        (s.size, s.available)
    }

    /// Does the database answer within `limit`? Used by /readyz. A
    /// connection that did not answer in time is discarded.
    pub async fn ping(&self, limit: Duration) -> Result<()> {
        let late = || Error::Unavailable(format!("database: no answer within {limit:?}"));
        let mut conn = tokio::time::timeout(limit, self.get())
            .await
            .map_err(|_| late())??;
        let mut db = conn.db();
        let ping = tokio::time::timeout(limit, async {
            with_conn!(&mut db, |c| diesel::sql_query("SELECT 1").execute(c).await)
        })
        .await;
        match ping {
            Ok(answer) => answer.map(|_| ()).map_err(Error::from),
            Err(_) => {
                conn.discard();
                Err(late())
            }
        }
    }
}

/// Pool size and timeouts: deadpool's own, for waiting for a free
/// connection, opening one and recycling one, are the acquire timeout.
fn with_limits<M: deadpool::managed::Manager>(
    b: deadpool::managed::PoolBuilder<M>,
    size: usize,
    timeouts: Timeouts,
) -> deadpool::managed::PoolBuilder<M> {
    b.max_size(size)
        .wait_timeout(Some(timeouts.acquire))
        .create_timeout(Some(timeouts.acquire))
        .recycle_timeout(Some(timeouts.acquire))
        .runtime(deadpool::Runtime::Tokio1)
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("database unavailable: {e}"))
}

impl Conn {
    pub fn db(&mut self) -> Db<'_> {
        match self {
            Conn::Pg(c) => Db::Pg(c),
            Conn::Sqlite(c, gate) => Db::Sqlite(c, gate),
        }
    }

    /// Closes the connection instead of returning it to the pool: its
    /// state is unknown (a statement may still be running).
    pub fn discard(self) {
        match self {
            Conn::Pg(c) => drop(Object::take(c)),
            Conn::Sqlite(c, _) => drop(Object::take(c)),
        }
    }
}

/// Runs `$body` (an expression producing a `domain::Result`) in a
/// transaction on `$db` (a `&mut Db`), bound to `$tx` inside: committed if
/// the body returns Ok, rolled back otherwise. A macro rather than a method
/// taking a closure, so that the body is a plain async block: the compiler
/// can prove such futures `Send`, which it cannot for higher-ranked async
/// closures.
#[macro_export]
macro_rules! transaction {
    ($db:expr, |$tx:ident| $body:expr) => {{
        let $tx: &mut $crate::db::Db<'_> = $db;
        match $tx.begin().await {
            Err(e) => Err(e),
            Ok(turn) => {
                let result: $crate::domain::Result<_> = async { $body }.await;
                let result = $tx.finish(result).await;
                drop(turn);
                result
            }
        }
    }};
}

impl Db<'_> {
    /// Starts a transaction; use `transaction!`, which holds the returned
    /// turn until the transaction ends. On SQLite an outermost transaction
    /// waits for its turn at the write gate, then takes the write lock up
    /// front (`BEGIN IMMEDIATE`): a deferred one fails with "database is
    /// locked" when two of them upgrade at once. A nested one is a
    /// savepoint inside the turn its outer transaction holds.
    pub async fn begin(&mut self) -> Result<WriteTurn> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager as _};
        let outermost = !self.in_transaction().await?;
        match self {
            Db::Pg(c) => begin_plain(&mut **c).await.map(|()| WriteTurn::free()),
            Db::Sqlite(c, gate) => {
                let turn = match outermost {
                    true => gate.enter().await?,
                    false => WriteTurn::free(),
                };
                c.spawn_blocking(move |c| match outermost {
                    true => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
                    false => AnsiTransactionManager::begin_transaction(c),
                })
                .await?;
                Ok(turn)
            }
        }
    }

    /// Is a transaction open on this connection?
    pub async fn in_transaction(&mut self) -> Result<bool> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager as _};
        let depth = match self {
            Db::Pg(c) => {
                diesel_async::AnsiTransactionManager::transaction_manager_status_mut(&mut **c)
                    .transaction_depth()?
            }
            Db::Sqlite(c, _) => {
                c.spawn_blocking(|c| {
                    AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
                })
                .await?
            }
        };
        Ok(depth.is_some())
    }

    /// Ends a transaction begun by `begin`: commits after Ok, rolls back
    /// after Err; use `transaction!`.
    pub async fn finish<R>(&mut self, result: Result<R>) -> Result<R> {
        match result {
            Ok(value) => {
                with_conn!(self, |c| commit(c).await)?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback_error) = with_conn!(self, |c| rollback(c).await) {
                    log::error!("rollback failed: {rollback_error}");
                }
                Err(e)
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Pg(_) => "postgres",
            Db::Sqlite(..) => "sqlite",
        }
    }
}

async fn begin_plain<C: AsyncConnection>(c: &mut C) -> Result<()> {
    C::TransactionManager::begin_transaction(c).await?;
    Ok(())
}

async fn commit<C: AsyncConnection>(c: &mut C) -> Result<()> {
    C::TransactionManager::commit_transaction(c).await?;
    Ok(())
}

async fn rollback<C: AsyncConnection>(c: &mut C) -> Result<()> {
    C::TransactionManager::rollback_transaction(c).await?;
    Ok(())
}

/// PostgreSQL advisory lock keys: one for migrations (also `ithbat
/// migrate`), one for the whole first-start work of an instance.
const MIGRATION_LOCK: i64 = 7419253301;
const STARTUP_LOCK: i64 = 7419253302;

/// Serializes what instances starting together on one PostgreSQL database
/// do first (migrations, the first signing key, the default tenant and its
/// administrator): a session advisory lock held on a connection of its
/// own, given back by `release` or, should the process die, when the
/// connection closes. SQLite needs none: its write transactions exclude
/// each other already.
pub struct StartupLock(Option<tokio_postgres::Client>);

impl StartupLock {
    /// Waits until no other instance is starting.
    pub async fn acquire(url: &DatabaseUrl) -> Result<StartupLock> {
        match url {
            DatabaseUrl::Postgres(u) => {
                let conn = pg::lock_session(u).await.map_err(unavailable)?;
                conn.batch_execute(&format!("SELECT pg_advisory_lock({STARTUP_LOCK})"))
                    .await
                    .map_err(unavailable)?;
                Ok(StartupLock(Some(conn)))
            }
            DatabaseUrl::Sqlite(_) => Ok(StartupLock(None)),
        }
    }

    pub async fn release(self) {
        if let Some(conn) = self.0 {
            let unlock = format!("SELECT pg_advisory_unlock({STARTUP_LOCK})");
            if let Err(e) = conn.batch_execute(&unlock).await {
                log::warn!("startup lock: {e} (it ends with the connection)");
            }
        }
    }
}

/// Runs pending migrations on a plain connection in a blocking task: the
/// migration harness is synchronous. On PostgreSQL an advisory lock keeps
/// two instances (or `ithbat migrate`) from migrating at once.
pub async fn run_migrations(url: &DatabaseUrl) -> Result<usize> {
    let url = url.clone();
    tokio::task::spawn_blocking(move || -> Result<usize> {
        match &url {
            DatabaseUrl::Postgres(u) => {
                let mut conn =
                    <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(u)
                        .map_err(unavailable)?;
                let lock = format!("SELECT pg_advisory_lock({MIGRATION_LOCK})");
                SimpleConnection::batch_execute(&mut conn, &lock).map_err(Error::from)?;
                let result = conn.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len());
                let unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})");
                SimpleConnection::batch_execute(&mut conn, &unlock).map_err(Error::from)?;
                result.map_err(migrations_failed)
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path).map_err(unavailable)?;
                migrate_sqlite(&mut conn)
            }
        }
    })
    .await
    .map_err(Error::internal)?
}

/// Migrates an SQLite database, then reads what its unique indexes are
/// called in violations (`unique.rs`).
fn migrate_sqlite(conn: &mut SqliteConnection) -> Result<usize> {
    let pragmas = sqlite_pragmas(Timeouts::default().statement);
    SimpleConnection::batch_execute(conn, &pragmas).map_err(Error::from)?;
    // Migrations may fold text as PostgreSQL's do.
    register_fold(conn).map_err(Error::from)?;
    let applied = conn
        .run_pending_migrations(SQLITE_MIGRATIONS)
        .map_err(migrations_failed)?
        .len();
    // Planner statistics, where tables have grown or were never measured
    // (https://www.sqlite.org/lang_analyze.html, "Recommended usage
    // pattern"): without them SQLite cannot tell that a tenant's index
    // range is larger than a full-text match, and scans the range.
    SimpleConnection::batch_execute(
        conn,
        "PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;",
    )
    .map_err(Error::from)?;
    check_users_trigram(conn)?;
    unique::read_sqlite_schema(conn)?;
    Ok(applied)
}

/// The FTS5 table `users_trigram` answers searches with users' rowids
/// (`repo/filter/trigram.rs`), which SQLite may renumber (VACUUM, a table
/// rebuild). A sample of users whose entry there holds another id (or
/// none) means they moved: the table is filled again from `users`.
fn check_users_trigram(conn: &mut SqliteConnection) -> Result<()> {
    #[derive(diesel::QueryableByName)]
    struct Moved {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        moved: i64,
    }
    // 256 rowids drawn between the first and the last (min and max in two
    // subqueries, each one lookup): the check reads a few hundred rows,
    // where `ORDER BY random()` read the whole table at every start.
    let sample = "WITH RECURSIVE picks (n, r, lo, hi) AS ( \
           SELECT 0, NULL, (SELECT min(rowid) FROM users), (SELECT max(rowid) FROM users) \
           UNION ALL SELECT n + 1, lo + abs(random() % (hi - lo + 1)), lo, hi FROM picks \
           WHERE n < 256 AND lo IS NOT NULL) \
         SELECT count(*) AS moved FROM users u JOIN picks p ON u.rowid = p.r \
         WHERE NOT EXISTS (SELECT 1 FROM users_trigram f WHERE f.rowid = u.rowid AND f.id = u.id)";
    let moved = diesel::RunQueryDsl::get_result::<Moved>(diesel::sql_query(sample), conn)?.moved;
    if moved > 0 {
        log::warn!(
            "users_trigram is out of step with users ({moved} of a sample): filling it again"
        );
        SimpleConnection::batch_execute(
            conn,
            "BEGIN IMMEDIATE; DELETE FROM users_trigram; \
             INSERT INTO users_trigram (rowid, id, search_key, name_key, email_key, user_name_key) \
             SELECT rowid, id, search_key, name_key, email_key, user_name_key FROM users; COMMIT;",
        )?;
    }
    Ok(())
}

fn migrations_failed(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("migrations failed: {e}"))
}

#[cfg(test)]
mod write_gate_tests {
    use std::sync::{Arc, Mutex};

    use super::{DatabaseUrl, Pool, Timeouts};
    use crate::domain::Result;

    /// Concurrent SQLite write transactions take turns at the gate: each
    /// runs alone, in arrival order, and none fails with "database is
    /// locked" however long the one before it holds the lock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_write_transactions_take_turns() {
        let path = std::env::temp_dir().join(format!("ithbat-gate-{}.db", uuid::Uuid::new_v4()));
        let url = DatabaseUrl::Sqlite(path.to_string_lossy().into_owned());
        let timeouts = Timeouts {
            acquire: std::time::Duration::from_secs(5),
            // Shorter than the queue below: SQLite's busy handler alone
            // would have given up on the last writers.
            statement: std::time::Duration::from_millis(200),
        };
        let pool = Pool::connect(&url, 8, timeouts).await.unwrap();
        let inside = Arc::new(Mutex::new((0usize, 0usize, Vec::new())));
        let writers = (0..8).map(|i| {
            let (pool, inside) = (pool.clone(), inside.clone());
            tokio::spawn(async move {
                let mut conn = pool.get().await?;
                let db = &mut conn.db();
                crate::transaction!(db, |tx| {
                    {
                        let mut s = inside.lock().unwrap();
                        s.0 += 1;
                        s.1 = s.1.max(s.0);
                        s.2.push(i);
                    }
                    // A nested transaction is a savepoint in the same turn.
                    crate::transaction!(tx, |inner| {
                        crate::with_conn!(inner, |c| {
                            use diesel_async::RunQueryDsl;
                            diesel::sql_query("SELECT 1").execute(c).await
                        })?;
                        Ok(())
                    })?;
                    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
                    inside.lock().unwrap().0 -= 1;
                    Result::Ok(())
                })
            })
        });
        for w in futures_util::future::join_all(writers).await {
            w.unwrap().unwrap();
        }
        let (now, most, order) = inside.lock().unwrap().clone();
        assert_eq!((now, most, order.len()), (0, 1, 8), "{order:?}");
        let _ = std::fs::remove_file(&path);
    }
}

#[cfg(test)]
mod users_trigram_tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    /// Users whose rowids moved under the FTS5 table (as a VACUUM may move
    /// them) are found at start and the table is filled again; a table in
    /// step is left as it is.
    #[test]
    fn moved_rowids_are_found_and_the_table_filled_again() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute(
            "CREATE TABLE users (id TEXT PRIMARY KEY, search_key TEXT, name_key TEXT, email_key TEXT, user_name_key TEXT);
             CREATE VIRTUAL TABLE users_trigram USING fts5 (id UNINDEXED, search_key, name_key, email_key, user_name_key, tokenize = 'trigram case_sensitive 1');
             INSERT INTO users (rowid, id, search_key, name_key, email_key, user_name_key) VALUES
                 (1, 'a', 'alice', 'alice', 'a@x', 'a@x'), (2, 'b', 'bob', 'bob', 'b@x', 'b@x');
             INSERT INTO users_trigram (rowid, id, search_key, name_key, email_key, user_name_key)
                 SELECT rowid, id, search_key, name_key, email_key, user_name_key FROM users;",
        )
        .unwrap();
        super::check_users_trigram(&mut c).unwrap();
        // The rowids move: alice is renumbered onto bob's old slot's next.
        c.batch_execute(
            "UPDATE users SET rowid = 10 WHERE id = 'a'; UPDATE users SET rowid = 1 WHERE id = 'b';
             INSERT INTO users (rowid, id, search_key, name_key, email_key, user_name_key) VALUES (2, 'c', 'carol', 'carol', 'c@x', 'c@x');",
        )
        .unwrap();
        super::check_users_trigram(&mut c).unwrap();
        #[derive(diesel::QueryableByName, Debug, PartialEq)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: String,
        }
        let found = |term: &str, c: &mut SqliteConnection| -> Vec<String> {
            let q = format!(
                "SELECT u.id FROM users u WHERE u.rowid IN (SELECT rowid FROM users_trigram WHERE users_trigram MATCH '{{name_key}} : \"{term}\"') ORDER BY u.id"
            );
            diesel::RunQueryDsl::load::<Id>(diesel::sql_query(q), c)
                .unwrap()
                .into_iter()
                .map(|i| i.id)
                .collect()
        };
        assert_eq!(found("ali", &mut c), vec!["a"]);
        assert_eq!(found("bob", &mut c), vec!["b"]);
        assert_eq!(found("aro", &mut c), vec!["c"]);
    }
}
