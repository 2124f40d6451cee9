//! Faults between the server and its database (ARCHITECTURE.md "Database
//! timeouts"): a lock held too long, and, on PostgreSQL, a network the
//! test partitions silently, cuts and heals through a proxy.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;

use crate::support::{
    new_tenant, spawn, spawn_on, Api, Backend, Resp, TestDb, TestTenant, PASSWORD,
};

on_both_backends!(a_lock_held_past_the_statement_timeout_answers_503);

/// The statement and acquire timeouts of the server under test.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Longer than any bound the server keeps (acquire, then statement plus
/// its grace): a request still unanswered after this hangs.
const HANG: Duration = Duration::from_secs(20);

/// A client that gives up after `HANG`, so that a hang fails the test.
fn impatient(api: &Api) -> Api {
    Api {
        client: reqwest::Client::builder().timeout(HANG).build().unwrap(),
        ..api.clone()
    }
}

async fn add_user(t: &TestTenant, local: &str) -> Resp {
    t.owner
        .post(
            "/api/v1/users",
            json!({ "email": t.email(local), "firstName": local, "familyName": "Tester",
                    "password": PASSWORD, "skipEmailVerification": true }),
        )
        .await
}

/// 503 with Retry-After and the envelope's code, never 500.
#[track_caller]
fn unavailable(r: &Resp) {
    r.expect(503, "SERVICE_UNAVAILABLE");
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
}

/// Opens several pooled connections, so that the next requests find
/// established ones.
async fn warm_up(t: &TestTenant) {
    for r in join_all((0..6).map(|_| t.owner.get("/api/v1/users"))).await {
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

async fn wait_until_ready(api: &Api) {
    let deadline = Instant::now() + HANG;
    while api.get("/readyz").await.status != 200 {
        assert!(
            Instant::now() < deadline,
            "not ready again after the partition"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A silent partition (no packets either way, nothing closed) answers 503
/// with Retry-After within the timeouts instead of hanging, /readyz says
/// 503 within its own bound, a connection lost mid-request is a 503 too,
/// and once the network is back the same process serves again with every
/// write it acknowledged before and after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_from_postgres_answers_503_and_heals() {
    if crate::support::skip_postgres() {
        return;
    }
    let (db, proxy, via_proxy) = crate::support::proxy::proxied_db().await;
    let app = spawn_on(db, |c| {
        c.database_url = via_proxy;
        c.db_timeouts.acquire = TIMEOUT;
        c.db_timeouts.statement = TIMEOUT;
    })
    .await;
    let api = impatient(&app.api());
    let mut t = new_tenant(&api, &impatient(&app.admin().await)).await;
    t.owner = impatient(&t.owner);
    let mut acknowledged = Vec::new();
    for i in 0..3 {
        let r = add_user(&t, &format!("before{i}")).await;
        assert_eq!(r.status, 201, "{}", r.text);
        acknowledged.push(t.email(&format!("before{i}")));
    }

    // A connection is closed while a request waits on it.
    warm_up(&t).await;
    proxy.partition();
    let waiting = tokio::spawn({
        let owner = t.owner.clone();
        async move { owner.get("/api/v1/roles").await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.cut();
    unavailable(&waiting.await.unwrap());
    proxy.heal();
    wait_until_ready(&api).await;

    // Silence on open connections and on new ones alike.
    warm_up(&t).await;
    proxy.partition();
    let started = Instant::now();
    let (ready, reads, write) = tokio::join!(
        api.get("/readyz"),
        join_all([
            t.owner.get("/api/v1/users"),
            t.owner.get("/api/v1/settings"),
            t.owner.get("/api/v1/users/me"),
        ]),
        add_user(&t, "during"),
    );
    assert_eq!(ready.status, 503, "{}", ready.text);
    for r in reads.iter().chain([&write]) {
        unavailable(r);
    }
    eprintln!(
        "partitioned: /readyz, three reads and a write answered 503 within {:?}",
        started.elapsed()
    );
    proxy.heal();
    wait_until_ready(&api).await;
    for i in 0..3 {
        let r = add_user(&t, &format!("after{i}")).await;
        assert_eq!(r.status, 201, "{}", r.text);
        acknowledged.push(t.email(&format!("after{i}")));
    }
    let r = t.owner.get("/api/v1/users?limit=100").await;
    let stored: Vec<&str> = r.ok()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    for email in &acknowledged {
        assert!(stored.contains(&email.as_str()), "{email} lost: {stored:?}");
    }
}

/// A statement that waits for a lock longer than the statement timeout
/// (PostgreSQL's statement_timeout, SQLite's busy_timeout) fails as 503
/// with Retry-After, and changes nothing; once the lock is gone the same
/// request succeeds.
async fn a_lock_held_past_the_statement_timeout_answers_503(b: Backend) {
    let app = spawn(b, |c| c.db_timeouts.statement = Duration::from_secs(1)).await;
    let admin = app.admin().await;
    let t = new_tenant(&app.api(), &admin).await;
    let u = t.user("locked").await;
    let path = format!("/api/v1/users/{}/metadata", u.id);
    let body = json!({ "metadata": { "k": 1 } });
    let lock = hold_write_lock(&app.db).await;
    unavailable(&t.owner.patch(&path, body.clone()).await);
    lock.send(()).unwrap();
    let r = t.owner.patch(&path, body).await;
    assert_eq!(r.ok()["metadata"], json!({ "k": 1 }));
}

/// Takes the write lock on the users table (SQLite: on the database)
/// from a connection of the test's own, until told to let go.
async fn hold_write_lock(db: &TestDb) -> tokio::sync::oneshot::Sender<()> {
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (held, holding) = tokio::sync::oneshot::channel();
    match db.url.clone() {
        ithbat::db::DatabaseUrl::Postgres(url) => {
            use diesel_async::{AsyncConnection, SimpleAsyncConnection};
            tokio::spawn(async move {
                let mut conn = diesel_async::AsyncPgConnection::establish(&url)
                    .await
                    .unwrap();
                conn.batch_execute("BEGIN; LOCK TABLE users IN EXCLUSIVE MODE")
                    .await
                    .unwrap();
                held.send(()).unwrap();
                let _ = released.await;
                conn.batch_execute("ROLLBACK").await.unwrap();
            });
        }
        ithbat::db::DatabaseUrl::Sqlite(path) => {
            std::thread::spawn(move || {
                use diesel::connection::SimpleConnection;
                use diesel::Connection;
                let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
                conn.batch_execute("BEGIN IMMEDIATE").unwrap();
                held.send(()).unwrap();
                let _ = released.blocking_recv();
                conn.batch_execute("ROLLBACK").unwrap();
            });
        }
    }
    holding.await.unwrap();
    release
}
