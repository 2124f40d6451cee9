//! Load benchmark on loopback: password login, an authenticated
//! `GET /api/v1/users/me`, and OAuth 2.0 for machines (client_credentials
//! token issuance and RFC 7662 introspection), on SQLite and on PostgreSQL, with the shipped
//! (OWASP) argon2 cost. The server runs in this process; requests go over
//! real HTTP with a bounded count and concurrency.
//!
//!     cargo bench --bench load
//!     cargo bench --bench load -- --backend postgres --requests 2000 --concurrency 16
//!
//! PostgreSQL: ITHBAT_BENCH_PG_URL (default postgres://root@127.0.0.1:5432/postgres)
//! names a server where a scratch database is created and dropped.

use std::time::{Duration, Instant};

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::StreamExt;
use ithbat::config::Config;
use ithbat::config::HashCost;
use ithbat::db::DatabaseUrl;
use ithbat::startup::Server;
use serde_json::{json, Value};

const ADMIN_PASSWORD: &str = "Bench!Passw0rd";

struct Args {
    backends: Vec<&'static str>,
    login_requests: usize,
    me_requests: usize,
    oauth_requests: usize,
    concurrency: usize,
}

fn args() -> Args {
    let mut a = Args {
        backends: vec!["sqlite", "postgres"],
        login_requests: 300,
        me_requests: 20_000,
        oauth_requests: 300,
        concurrency: 16,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--backend" => {
                a.backends = vec![if value == "postgres" {
                    "postgres"
                } else {
                    "sqlite"
                }]
            }
            "--requests" => a.me_requests = value.parse().expect("--requests N"),
            "--login-requests" => a.login_requests = value.parse().expect("--login-requests N"),
            "--oauth-requests" => a.oauth_requests = value.parse().expect("--oauth-requests N"),
            "--concurrency" => a.concurrency = value.parse().expect("--concurrency N"),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn pg_admin_url() -> String {
    std::env::var("ITHBAT_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".into())
}

/// Median time of one argon2id hash at the shipped cost.
fn argon2_hash_time() -> Duration {
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        HashCost::OWASP.params().unwrap(),
    );
    let mut times: Vec<Duration> = (0..15)
        .map(|_| {
            let salt = SaltString::generate(&mut OsRng);
            let started = Instant::now();
            argon.hash_password(b"Bench!Passw0rd", &salt).unwrap();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

struct Stats {
    name: String,
    requests: usize,
    wall: Duration,
    latencies: Vec<Duration>,
}

impl Stats {
    fn row(&self, backend: &str, concurrency: usize) -> String {
        let mut l = self.latencies.clone();
        l.sort();
        let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
        if std::env::var_os("BENCH_DEBUG").is_some() {
            eprintln!(
                "{} slowest: {:?}",
                self.name,
                &l[l.len().saturating_sub(8)..]
            );
        }
        format!(
            "| {backend} | {} | {} | {concurrency} | {:.0} | {:.1} | {:.1} |",
            self.name,
            self.requests,
            self.requests as f64 / self.wall.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1000.0,
            pct(0.99).as_secs_f64() * 1000.0,
        )
    }
}

async fn run<F, Fut>(name: &str, requests: usize, concurrency: usize, make: F) -> Stats
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let started = Instant::now();
    let latencies: Vec<Duration> = futures_util::stream::iter(0..requests)
        .map(|i| {
            let fut = make(i);
            async move {
                let t = Instant::now();
                let status = fut.await;
                assert_eq!(status, 200, "{name} request failed");
                t.elapsed()
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    Stats {
        name: name.to_string(),
        requests,
        wall: started.elapsed(),
        latencies,
    }
}

async fn bench_backend(backend: &str, args: &Args) -> Vec<String> {
    let scratch = format!("ithbat_bench_{}", std::process::id());
    let url = match backend {
        "postgres" => {
            let admin = pg_admin_url();
            let mut c = AsyncPgConnection::establish(&admin)
                .await
                .expect("PostgreSQL reachable");
            c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)"
            ))
            .await
            .unwrap();
            c.batch_execute(&format!("CREATE DATABASE \"{scratch}\""))
                .await
                .unwrap();
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
            DatabaseUrl::Postgres(format!("{base}/{scratch}"))
        }
        _ => {
            let path = std::env::temp_dir().join(format!("{scratch}.db"));
            let _ = std::fs::remove_file(&path);
            DatabaseUrl::Sqlite(path.to_string_lossy().into_owned())
        }
    };
    let mut config = Config::new(url.clone());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.admin_email = Some("bench@ithbat.test".into());
    config.admin_password = Some(ADMIN_PASSWORD.into());
    // The load comes from one address.
    config.anonymous_rate_limit = u32::MAX;
    config.auth_rate_limit_per_ip = u32::MAX;
    let server = Server::build(config).await.expect("server starts");
    let base = format!("http://{}", server.addr);
    let handle = server.handle();
    tokio::spawn(server.run());

    let client = reqwest::Client::new();
    let login = |client: reqwest::Client, base: String, tenant: Option<String>, email: String| async move {
        let mut rb = client.post(format!("{base}/api/v1/auth/login"));
        if let Some(t) = tenant {
            rb = rb.header("X-Tenant-ID", t);
        }
        let r = rb
            .json(&json!({ "email": email, "password": ADMIN_PASSWORD }))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap())
    };
    let (_, body) = login(
        client.clone(),
        base.clone(),
        None,
        "bench@ithbat.test".into(),
    )
    .await;
    let token = body["data"]["accessToken"].as_str().unwrap().to_string();
    // This measures the server, not its rate limits: lift the platform
    // tenant's limit.
    let current: Value = client
        .get(format!("{base}/api/v1/tenants/current"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tenant = current["data"]["id"].as_str().unwrap();
    client
        .put(format!("{base}/api/v1/tenants/{tenant}"))
        .bearer_auth(&token)
        .json(&json!({ "rateLimitPerMinute": 1_000_000 }))
        .send()
        .await
        .unwrap();

    // One account per concurrent client: an account admits at most five
    // guesses under check at once (the lockout), so one shared account
    // would measure that queue rather than the server.
    let mut accounts = Vec::new();
    for i in 0..args.concurrency {
        let email = format!("owner{i}@bench.example");
        let r = client
            .post(format!("{base}/api/v1/tenants"))
            .bearer_auth(&token)
            .json(&json!({
                "name": format!("Bench {i}"), "slug": format!("bench-{i}"),
                "adminEmail": email, "adminPassword": ADMIN_PASSWORD
            }))
            .send()
            .await
            .unwrap();
        let id = r.json::<Value>().await.unwrap()["data"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        accounts.push((id, email));
    }

    let logins = run(
        "POST /auth/login",
        args.login_requests,
        args.concurrency,
        |i| {
            let (client, base) = (client.clone(), base.clone());
            let (tenant, email) = accounts[i % accounts.len()].clone();
            async move { login(client, base, Some(tenant), email).await.0 }
        },
    )
    .await;
    let me = run("GET /users/me", args.me_requests, args.concurrency, |_| {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        async move {
            let r = client
                .get(format!("{base}/api/v1/users/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let _ = r.bytes().await;
            status
        }
    })
    .await;
    let (tokens, introspections) = oauth(&client, &base, &token, args).await;
    handle.stop(true).await;
    match url {
        DatabaseUrl::Postgres(_) => {
            let mut c = AsyncPgConnection::establish(&pg_admin_url()).await.unwrap();
            c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)"
            ))
            .await
            .unwrap();
        }
        DatabaseUrl::Sqlite(path) => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
    }
    vec![
        logins.row(backend, args.concurrency),
        me.row(backend, args.concurrency),
        tokens.row(backend, args.concurrency),
        introspections.row(backend, args.concurrency),
    ]
}

/// OAuth 2.0 for machines: a client_credentials client with one secret
/// (argon2id, as every client secret is stored), then token requests and
/// introspections of one of its tokens, each authenticated with the secret.
async fn oauth(client: &reqwest::Client, base: &str, admin: &str, args: &Args) -> (Stats, Stats) {
    let r: Value = client
        .post(format!("{base}/core/iam/v1/clients"))
        .bearer_auth(admin)
        .json(&json!({
            "name": "Bench machine", "description": "load",
            "allowedGrantTypes": ["client_credentials"], "redirectUris": [],
            "allowedScopes": ["services.iam"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["clientId"].as_str().expect("client created").to_string();
    let secret = "Bench!s3cret-1";
    let r = client
        .post(format!("{base}/core/iam/v1/clients/{id}/secrets"))
        .bearer_auth(admin)
        .json(&json!({ "value": secret, "description": "bench" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token_request = |client: reqwest::Client, base: String, id: String| async move {
        let r = client
            .post(format!("{base}/oauth/token"))
            .basic_auth(&id, Some(secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "services.iam"),
            ])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap())
    };
    let (_, first) = token_request(client.clone(), base.to_string(), id.clone()).await;
    let access = first["access_token"].as_str().unwrap().to_string();
    let tokens = run(
        "POST /oauth/token (client_credentials)",
        args.oauth_requests,
        args.concurrency,
        |_| {
            let (client, base, id) = (client.clone(), base.to_string(), id.clone());
            async move { token_request(client, base, id).await.0 }
        },
    )
    .await;
    let introspections = run(
        "POST /oauth/introspect",
        args.oauth_requests,
        args.concurrency,
        |_| {
            let (client, base, id, access) =
                (client.clone(), base.to_string(), id.clone(), access.clone());
            async move {
                let r = client
                    .post(format!("{base}/oauth/introspect"))
                    .basic_auth(&id, Some(secret))
                    .form(&[("token", access.as_str())])
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["active"], true);
                status
            }
        },
    )
    .await;
    (tokens, introspections)
}

fn main() {
    let args = args();
    if std::env::var_os("RUST_LOG").is_some() {
        ithbat::logging::init();
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let hash = argon2_hash_time();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for backend in &args.backends {
        rows.extend(runtime.block_on(bench_backend(backend, &args)));
    }
    println!("| backend | request | count | concurrency | req/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    println!();
    println!(
        "argon2id (19 MiB, t=2, p=1): {:.1} ms per hash on this machine; login ceiling = {cores} cores / {:.1} ms = {:.0} logins/s",
        hash.as_secs_f64() * 1000.0,
        hash.as_secs_f64() * 1000.0,
        cores as f64 / hash.as_secs_f64()
    );
}
