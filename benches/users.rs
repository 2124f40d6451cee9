//! User administration at scale, on loopback, on SQLite and PostgreSQL:
//! bulk import of 100,000 users (100 requests of 1000, no passwords), one
//! bulk request of 100 users with passwords (OWASP argon2 cost, hashed in
//! parallel), then `GET /api/v1/users` with exact totals over the 100,000,
//! the JSON:API accounts index with `filter[email__match]`, sort and
//! `count=true` over the same users, and SCIM over them:
//! `GET /scim/v2/Users?filter=userName eq` and group membership PATCHes
//! (one member, and 10,000 at once).
//!
//!     cargo bench --bench users
//!     cargo bench --bench users -- --backend sqlite --users 20000
//!
//! PostgreSQL: ITHBAT_BENCH_PG_URL (default postgres://root@127.0.0.1:5432/postgres).

use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::StreamExt;
use ithbat::config::Config;
use ithbat::db::DatabaseUrl;
use ithbat::startup::Server;
use serde_json::{json, Value};

const PASSWORD: &str = "Bench!Passw0rd";

fn pg_admin_url() -> String {
    std::env::var("ITHBAT_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".into())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// Times `count` GETs of `path` at `concurrency`.
async fn time_gets(
    c: &Client,
    path: &str,
    count: usize,
    concurrency: usize,
) -> (f64, Vec<Duration>, Value) {
    let started = Instant::now();
    let results: Vec<(Duration, Value)> = futures_util::stream::iter(0..count)
        .map(|_| async {
            let t = Instant::now();
            let (status, body) = c.send(reqwest::Method::GET, path, None).await;
            assert_eq!(status, 200, "{path}: {body}");
            (t.elapsed(), body)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let rate = count as f64 / started.elapsed().as_secs_f64();
    let sample = results[0].1.clone();
    let mut latencies: Vec<Duration> = results.into_iter().map(|(d, _)| d).collect();
    latencies.sort();
    (rate, latencies, sample)
}

async fn bench(backend: &str, users: usize) -> Vec<String> {
    let scratch = format!("ithbat_bench_users_{}", std::process::id());
    let url = if backend == "postgres" {
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
        DatabaseUrl::Postgres(format!("{}/{scratch}", admin.rsplit_once('/').unwrap().0))
    } else {
        let path = std::env::temp_dir().join(format!("{scratch}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        DatabaseUrl::Sqlite(path.to_string_lossy().into_owned())
    };
    let mut config = Config::new(url.clone());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.admin_email = Some("bench@ithbat.test".into());
    config.admin_password = Some(PASSWORD.into());
    config.anonymous_rate_limit = u32::MAX;
    let server = Server::build(config).await.expect("server starts");
    let base = format!("http://{}", server.addr);
    let handle = server.handle();
    tokio::spawn(server.run());

    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": "bench@ithbat.test", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["data"]["accessToken"].as_str().unwrap().to_string();
    let c = Client { http, base, token };
    // Lift the platform tenant's limit: this is a load test of one tenant.
    let current = c
        .send(reqwest::Method::GET, "/api/v1/tenants/current", None)
        .await
        .1;
    let tenant = current["data"]["id"].as_str().unwrap().to_string();
    c.send(
        reqwest::Method::PUT,
        &format!("/api/v1/tenants/{tenant}"),
        Some(&json!({ "rateLimitPerMinute": 1_000_000 })),
    )
    .await;

    let mut rows = Vec::new();
    let batches = users / 1000;
    let mut batch_times = Vec::new();
    let started = Instant::now();
    for b in 0..batches {
        let users: Vec<Value> = (0..1000)
            .map(|i| {
                let n = b * 1000 + i;
                let first = ["Alice", "Bob", "Carol", "Dana", "Eve"][n % 5];
                json!({
                    "email": format!("user{n:06}@bench.example"),
                    "firstName": first,
                    "familyName": format!("Family{:05}", n % 50_000),
                    "skipEmailVerification": true,
                })
            })
            .collect();
        let t = Instant::now();
        let (status, body) = c
            .send(
                reqwest::Method::POST,
                "/api/v1/users/bulk",
                Some(&json!({ "users": users })),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            body["data"]["successful"], 1000,
            "{}",
            body["data"]["errors"]
        );
        batch_times.push(t.elapsed());
    }
    let import = started.elapsed();
    batch_times.sort();
    rows.push(format!(
        "| {backend} | POST /users/bulk, 1000 users without passwords | {batches} | {:.0} | {:.0} | total {:.1} s for {} users |",
        percentile(&batch_times, 0.5),
        percentile(&batch_times, 0.99),
        import.as_secs_f64(),
        batches * 1000
    ));

    let with_passwords: Vec<Value> = (0..100)
        .map(|i| json!({ "email": format!("hashed{i:03}@bench.example"), "firstName": "Hashed", "familyName": "User", "password": PASSWORD }))
        .collect();
    let t = Instant::now();
    let (status, _) = c
        .send(
            reqwest::Method::POST,
            "/api/v1/users/bulk",
            Some(&json!({ "users": with_passwords })),
        )
        .await;
    assert_eq!(status, 200);
    rows.push(format!(
        "| {backend} | POST /users/bulk, 100 users with passwords | 1 | {:.0} | | argon2 on all cores |",
        t.elapsed().as_secs_f64() * 1000.0
    ));

    // Lists are measured in steady state: after the planner's statistics
    // have caught up with the import, as autovacuum does on PostgreSQL
    // within a minute of it (ANALYZE on SQLite).
    analyze(&url).await;

    for (label, path) in [
        (
            "GET /users (page 1, total)",
            "/api/v1/users?limit=25".to_string(),
        ),
        (
            "GET /users?search=family01234",
            "/api/v1/users?search=family01234".to_string(),
        ),
        (
            "GET /users?search=carol&status=active",
            "/api/v1/users?search=carol&status=active".to_string(),
        ),
        (
            "GET /users?sortBy=familyName&sortOrder=desc",
            "/api/v1/users?sortBy=familyName&sortOrder=desc".to_string(),
        ),
        (
            "GET /users?page=2000 (deep page)",
            "/api/v1/users?page=2000&limit=50".to_string(),
        ),
    ] {
        // Latency one request at a time; throughput with 8 in flight.
        let (_, latencies, sample) = time_gets(&c, &path, 200, 1).await;
        let (rate, _, _) = time_gets(&c, &path, 300, 8).await;
        rows.push(format!(
            "| {backend} | {label} | 200 | {:.1} | {:.1} | {rate:.0} req/s with 8 in flight; total={} |",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            sample["data"]["total"]
        ));
    }
    // The JSON:API query language over the same 100,000 users as accounts.
    let mut accounts_paths = Vec::new();
    for (label, path) in [
        (
            "GET /accounts?filter[email__match]=user01234&sort=-created_at&count=true",
            "/api/v1/accounts?filter%5Bemail__match%5D=user01234&sort=-created_at&count=true",
        ),
        (
            "GET /accounts?filter[name__match]=carol&sort=name,-created_at&count=true&page[size]=50",
            "/api/v1/accounts?filter%5Bname__match%5D=carol&sort=name,-created_at&count=true&page%5Bsize%5D=50",
        ),
        (
            "GET /accounts?filter[email__match]=bench&sort=email&count=true&page[size]=100",
            "/api/v1/accounts?filter%5Bemail__match%5D=bench&sort=email&count=true&page%5Bsize%5D=100",
        ),
        (
            "GET /accounts (default page: 1000 accounts, no count)",
            "/api/v1/accounts",
        ),
    ] {
        let (_, latencies, sample) = time_gets(&c, path, 100, 1).await;
        let (rate, _, _) = time_gets(&c, path, 200, 8).await;
        rows.push(format!(
            "| {backend} | {label} | 100 | {:.1} | {:.1} | {rate:.0} req/s with 8 in flight; count={} |",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            sample["meta"]["count"]
        ));
        accounts_paths.push(path);
    }
    if let DatabaseUrl::Postgres(_) = &url {
        rows.extend(plans(&scratch, &url, &c.base, &c.token, &accounts_paths).await);
    }
    rows.extend(scim(&c, backend, users).await);
    handle.stop(true).await;
    if std::env::var_os("BENCH_KEEP").is_some() {
        eprintln!("kept the database: {url:?}");
        return rows;
    }
    match url {
        DatabaseUrl::Postgres(_) => {
            let mut a = AsyncPgConnection::establish(&pg_admin_url()).await.unwrap();
            a.batch_execute(&format!(
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
    rows
}

/// SCIM over the imported users, with a SCIM token as Entra ID would use.
async fn scim(admin: &Client, backend: &str, users: usize) -> Vec<String> {
    let mut rows = Vec::new();
    let (_, token) = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/scim/tokens",
            Some(&json!({ "name": "bench" })),
        )
        .await;
    let c = Client {
        http: admin.http.clone(),
        base: admin.base.clone(),
        token: token["data"]["token"].as_str().unwrap().to_string(),
    };
    let wanted = format!("user{:06}@bench.example", users / 2);
    let query =
        serde_urlencoded::to_string([("filter", format!("userName eq \"{wanted}\""))]).unwrap();
    let path = format!("/scim/v2/Users?{query}");
    let (_, latencies, sample) = time_gets(&c, &path, 200, 1).await;
    assert_eq!(sample["totalResults"], 1, "{sample}");
    let (rate, _, _) = time_gets(&c, &path, 500, 8).await;
    rows.push(format!(
        "| {backend} | SCIM GET /Users?filter=userName eq \"...\" | 200 | {:.1} | {:.1} | {rate:.0} req/s with 8 in flight |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    ));

    // Ids of 10,000 users, read through SCIM pages of 1000.
    let mut ids = Vec::new();
    while ids.len() < 10_000.min(users) {
        let page = format!(
            "/scim/v2/Users?attributes=id&count=1000&startIndex={}",
            ids.len() + 1
        );
        let (status, body) = c.send(reqwest::Method::GET, &page, None).await;
        assert_eq!(status, 200, "{body}");
        ids.extend(
            body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_string()),
        );
    }
    let mut groups = Vec::new();
    for g in 0..8 {
        let body = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("bench-{g}") });
        let (status, created) = c
            .send(reqwest::Method::POST, "/scim/v2/Groups", Some(&body))
            .await;
        assert_eq!(status, 201, "{created}");
        groups.push(created["id"].as_str().unwrap().to_string());
    }
    let patch = |op: &str, members: &[String]| {
        let value: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
        json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{ "op": op, "path": "members", "value": value }] })
    };
    // One member added or removed per request, as Entra ID sends changes.
    let single = |n: usize| {
        let group = groups[n % groups.len()].clone();
        let op = if (n / groups.len()) % 2 == 0 {
            "add"
        } else {
            "remove"
        };
        (
            format!("/scim/v2/Groups/{group}"),
            patch(op, &ids[n % 100..n % 100 + 1]),
        )
    };
    let mut latencies = Vec::new();
    for n in 0..200 {
        let (path, body) = single(n * groups.len());
        let t = Instant::now();
        let (status, _) = c.send(reqwest::Method::PATCH, &path, Some(&body)).await;
        assert_eq!(status, 204);
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let started = Instant::now();
    let count = 400;
    futures_util::stream::iter(0..count)
        .map(|n| {
            let (path, body) = single(n);
            let c = &c;
            async move {
                let (status, _) = c.send(reqwest::Method::PATCH, &path, Some(&body)).await;
                assert_eq!(status, 204);
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let rate = count as f64 / started.elapsed().as_secs_f64();
    rows.push(format!(
        "| {backend} | SCIM PATCH /Groups/{{id}}, add or remove 1 member | 200 | {:.1} | {:.1} | {rate:.0} req/s with 8 in flight over 8 groups |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    ));

    // 10,000 members at once, added then removed, five times.
    let mut add = Vec::new();
    let mut remove = Vec::new();
    let path = format!("/scim/v2/Groups/{}", groups[0]);
    let (_, _) = c.send(reqwest::Method::PATCH, &path, Some(&json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{ "op": "remove", "path": "members" }] }))).await;
    for _ in 0..5 {
        let t = Instant::now();
        let (status, body) = c
            .send(reqwest::Method::PATCH, &path, Some(&patch("add", &ids)))
            .await;
        assert_eq!(status, 204, "{body}");
        add.push(t.elapsed());
        let t = Instant::now();
        let (status, body) = c
            .send(reqwest::Method::PATCH, &path, Some(&patch("remove", &ids)))
            .await;
        assert_eq!(status, 204, "{body}");
        remove.push(t.elapsed());
    }
    add.sort();
    remove.sort();
    rows.push(format!(
        "| {backend} | SCIM PATCH /Groups/{{id}}, add {} members | 5 | {:.0} | {:.0} | one request |",
        ids.len(),
        percentile(&add, 0.5),
        percentile(&add, 0.99),
    ));
    rows.push(format!(
        "| {backend} | SCIM PATCH /Groups/{{id}}, remove {} members | 5 | {:.0} | {:.0} | one request |",
        ids.len(),
        percentile(&remove, 0.5),
        percentile(&remove, 0.99),
    ));
    rows
}

/// The plans PostgreSQL chose for the accounts queries, as the server sends
/// them: a second server on the same database, whose new connections load
/// `auto_explain` (every statement's plan to the server log), answers each
/// query once; the plans of the statements that filter users are read
/// back from the log. Rows name every scan node, so a sequential scan of
/// `users` would show.
async fn plans(
    scratch: &str,
    url: &DatabaseUrl,
    issuer: &str,
    token: &str,
    paths: &[&str],
) -> Vec<String> {
    let Some(log) = std::fs::read_dir("/var/log/postgresql").ok().and_then(|d| {
        d.flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "log"))
    }) else {
        return vec!["| postgres | query plans | | | | server log not readable here |".into()];
    };
    let mut admin = AsyncPgConnection::establish(&pg_admin_url()).await.unwrap();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{scratch}\" SET session_preload_libraries = 'auto_explain'; \
             ALTER DATABASE \"{scratch}\" SET auto_explain.log_min_duration = 0"
        ))
        .await
        .unwrap();
    let start = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let mut config = Config::new(url.clone());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.anonymous_rate_limit = u32::MAX;
    // The same issuer, so that the first server's token is accepted.
    config.public_url = Some(issuer.to_string());
    let server = Server::build(config).await.expect("second server starts");
    let base = format!("http://{}", server.addr);
    let handle = server.handle();
    tokio::spawn(server.run());
    let http = reqwest::Client::new();
    for path in paths {
        let r = http
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    handle.stop(true).await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{scratch}\" RESET session_preload_libraries; \
             ALTER DATABASE \"{scratch}\" RESET auto_explain.log_min_duration"
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let text = std::fs::read(&log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text[(start as usize).min(text.len())..]).into_owned();
    let mut rows = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for block in text.split("plan:").skip(1) {
        let body: Vec<&str> = block
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with('\t') || l.starts_with("        "))
            .collect();
        let query = body
            .iter()
            .find_map(|l| l.trim().strip_prefix("Query Text:"))
            .unwrap_or("")
            .trim()
            .to_string();
        if !(query.contains("\"email_key\" LIKE") || query.contains("\"name_key\" LIKE")) {
            continue;
        }
        let scans: Vec<String> = body
            .iter()
            .filter(|l| l.contains("Scan"))
            .map(|l| {
                l.trim()
                    .trim_start_matches("->")
                    .trim()
                    .split("  (")
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        if !seen.insert(scans.join("; ") + &query[..query.len().min(60)]) {
            continue;
        }
        eprintln!("--- plan\n{}", body.join("\n"));
        let kind = if query.starts_with("SELECT COUNT") || query.contains("count(*)") {
            "count"
        } else {
            "page"
        };
        rows.push(format!(
            "| postgres | plan ({kind}): {} | | | | {} |",
            &query[..query.len().min(48)].replace('|', "/"),
            scans.join("; ")
        ));
    }
    rows
}

async fn analyze(url: &DatabaseUrl) {
    match url {
        DatabaseUrl::Postgres(u) => {
            let mut c = AsyncPgConnection::establish(u).await.unwrap();
            c.batch_execute("VACUUM ANALYZE").await.unwrap();
        }
        DatabaseUrl::Sqlite(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                use diesel::connection::SimpleConnection;
                use diesel::Connection;
                let mut c = diesel::SqliteConnection::establish(&path).unwrap();
                c.batch_execute("PRAGMA busy_timeout = 15000; ANALYZE;")
                    .unwrap();
            })
            .await
            .unwrap();
        }
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        argv.iter()
            .position(|a| a == name)
            .and_then(|i| argv.get(i + 1))
            .cloned()
    };
    let backends: Vec<String> = match arg("--backend") {
        Some(b) => vec![b],
        None => vec!["sqlite".into(), "postgres".into()],
    };
    let users: usize = arg("--users")
        .map(|u| u.parse().expect("--users N"))
        .unwrap_or(100_000);
    if std::env::var_os("RUST_LOG").is_some() {
        ithbat::logging::init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for backend in &backends {
        rows.extend(runtime.block_on(bench(backend, users)));
    }
    println!("| backend | request | count | p50 ms | p99 ms | notes |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
