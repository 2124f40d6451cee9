//! Probes, metrics, discovery, errors for unknown routes, request ids, logs,
//! and the two migration sets staying in step.

use std::time::Duration;

use serde_json::json;

use crate::support::jsonapi::doc;
use crate::support::totp::enrol;
use crate::support::{shared, Backend, TestDb};

on_both_backends!(
    health_ready_and_metrics,
    unknown_routes_and_methods_answer_in_the_envelope,
    request_ids_are_kept_or_made,
);

async fn health_ready_and_metrics(b: Backend) {
    let app = shared(b).await;
    let api = app.api();
    assert_eq!(api.get("/healthz").await.status, 200);
    let ready = api.get("/readyz").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "ready");
    api.me().await;
    let metrics = api.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert!(
        metrics.text.contains(
            "ithbat_http_requests_total{method=\"GET\",route=\"/api/v1/users/me\",status=\"401\"}"
        ),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("ithbat_http_request_duration_seconds_bucket{method=\"GET\",route=\"/readyz\",status=\"200\",le=\"+Inf\"}"));
}

async fn unknown_routes_and_methods_answer_in_the_envelope(b: Backend) {
    let app = shared(b).await;
    let r = app.api().get("/api/v1/nothing-here").await;
    r.expect(404, "RESOURCE_NOT_FOUND");
    assert_eq!(r.body["success"], false);
    let r = app.api().delete("/api/v1/auth/login").await;
    r.expect(405, "METHOD_NOT_ALLOWED");
    let r = app.api().me().await;
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

async fn request_ids_are_kept_or_made(b: Backend) {
    let app = shared(b).await;
    let r = crate::support::Api::send(
        app.api()
            .request(reqwest::Method::GET, "/healthz")
            .header("X-Request-Id", "abc-123"),
    )
    .await;
    assert_eq!(r.header("x-request-id"), Some("abc-123"));
    let r = crate::support::Api::send(
        app.api()
            .request(reqwest::Method::GET, "/healthz")
            .header("X-Request-Id", "bad id\"<>"),
    )
    .await;
    let made = r.header("x-request-id").unwrap();
    assert_eq!(made.len(), 32);
}

/// /readyz answers 503 while PostgreSQL is down (connections closed and
/// refused) and 200 again once it is back, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_the_database() {
    if crate::support::skip_postgres() {
        return;
    }
    let (db, proxy, via_proxy) = crate::support::proxy::proxied_db().await;
    let app = crate::support::spawn_on(db, |c| {
        c.database_url = via_proxy;
        c.db_pool_size = 2;
    })
    .await;
    assert_eq!(app.api().get("/readyz").await.status, 200);
    proxy.stop();
    let down = app.api().get("/readyz").await;
    assert_eq!(down.status, 503, "{}", down.text);
    assert_eq!(down.body["status"], "unavailable");
    proxy.heal();
    let mut status = 0;
    for _ in 0..50 {
        status = app.api().get("/readyz").await.status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "ready again once the database is back");
}

/// migrations/postgres and migrations/sqlite describe the same schema:
/// tables, columns (name, kind, nullability), primary keys and indexes
/// (columns, unique, partial).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_produce_the_same_schema_on_both_backends() {
    if crate::support::skip_postgres() {
        return;
    }
    let pg = TestDb::create(Backend::Postgres).await;
    let lite = TestDb::create(Backend::Sqlite).await;
    ithbat::db::run_migrations(&pg.url).await.unwrap();
    ithbat::db::run_migrations(&lite.url).await.unwrap();
    let pg_schema = schema::postgres(&pg.url).await;
    let lite_schema = schema::sqlite(&lite.url).await;
    assert!(pg_schema.len() > 20, "{pg_schema:?}");
    // The access version's triggers (docs/design/authorization.md).
    for table in [
        "users",
        "sessions",
        "user_roles",
        "group_members",
        "policies",
        "oauth_grants",
    ] {
        assert!(
            pg_schema.contains(&format!("triggers on {table}")),
            "{table}"
        );
        // A table rebuilt on SQLite loses its triggers.
        assert!(
            lite_schema.contains(&format!("triggers on {table}")),
            "{table}"
        );
    }
    let only_pg: Vec<_> = pg_schema.difference(&lite_schema).collect();
    let only_lite: Vec<_> = lite_schema.difference(&pg_schema).collect();
    assert!(
        only_pg.is_empty() && only_lite.is_empty(),
        "only in PostgreSQL: {only_pg:#?}\nonly in SQLite: {only_lite:#?}"
    );
}

mod schema {
    use std::collections::BTreeSet;

    use diesel::sql_types::{Bool, Text};
    use diesel::QueryableByName;
    use diesel_async::{AsyncConnection, AsyncPgConnection};
    use ithbat::db::DatabaseUrl;

    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = Text)]
        data_type: String,
        #[diesel(sql_type = Bool)]
        nullable: bool,
    }

    #[derive(QueryableByName)]
    struct Index {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        def: String,
    }

    fn kind(t: &str) -> &'static str {
        match t.to_ascii_lowercase().as_str() {
            "integer" | "bigint" | "int4" | "int8" => "integer",
            "boolean" => "boolean",
            _ => "text",
        }
    }

    /// Each fact as a line: `column t.c kind null`, `index name (cols) unique`.
    pub async fn postgres(url: &DatabaseUrl) -> BTreeSet<String> {
        let DatabaseUrl::Postgres(url) = url else {
            unreachable!()
        };
        use diesel_async::RunQueryDsl;
        let mut conn = AsyncPgConnection::establish(url).await.unwrap();
        let columns: Vec<Column> = diesel::sql_query(
            "SELECT table_name::text, column_name::text, data_type::text, (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_diesel%'",
        )
        .load(&mut conn)
        .await
        .unwrap();
        let indexes: Vec<Index> = diesel::sql_query(
            "SELECT indexname::text AS name, indexdef::text AS def FROM pg_indexes \
             WHERE schemaname = 'public' AND tablename NOT LIKE '\\_\\_diesel%'",
        )
        .load(&mut conn)
        .await
        .unwrap();
        let mut facts: BTreeSet<String> = columns
            .iter()
            .map(|c| {
                format!(
                    "column {}.{} {} {}",
                    c.table_name,
                    c.column_name,
                    kind(&c.data_type),
                    c.nullable
                )
            })
            .collect();
        // Indexes only PostgreSQL can have (trigram search).
        const POSTGRES_ONLY: [&str; 4] = [
            "users_search_trgm",
            "users_email_trgm",
            "users_name_trgm",
            "organizations_name_trgm",
        ];
        for i in indexes
            .into_iter()
            .filter(|i| !POSTGRES_ONLY.contains(&i.name.as_str()))
        {
            // "CREATE UNIQUE INDEX x ON public.t USING btree (a, b) [WHERE (p)]"
            let (def, predicate) = match i.def.split_once(" WHERE ") {
                Some((def, p)) => (def.to_string(), Some(p.to_string())),
                None => (i.def.clone(), None),
            };
            let unique = def.contains("UNIQUE");
            let table = def
                .split(" ON ")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .trim_start_matches("public.");
            let cols = def
                .rsplit_once('(')
                .unwrap()
                .1
                .trim_end_matches(')')
                .replace([' ', '"'], "");
            if i.name.ends_with("_pkey") {
                facts.insert(format!("primary key {table} ({cols})"));
            } else {
                facts.insert(format!(
                    "index {} on {table} ({cols}) unique={unique} partial={}",
                    i.name,
                    predicate.is_some()
                ));
            }
        }
        // Tables with triggers (the access version's: a table rebuilt on
        // one backend must recreate them).
        let triggered: Vec<Name> = diesel::sql_query(
            "SELECT DISTINCT c.relname::text AS name FROM pg_trigger t \
             JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal",
        )
        .load(&mut conn)
        .await
        .unwrap();
        facts.extend(
            triggered
                .into_iter()
                .map(|t| format!("triggers on {}", t.name)),
        );
        facts
    }

    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }

    #[derive(QueryableByName)]
    struct TableInfo {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        r#type: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        notnull: i32,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pk: i32,
    }

    #[derive(QueryableByName)]
    struct IndexList {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        unique: i32,
        #[diesel(sql_type = Text)]
        origin: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        partial: i32,
    }

    pub async fn sqlite(url: &DatabaseUrl) -> BTreeSet<String> {
        let DatabaseUrl::Sqlite(path) = url.clone() else {
            unreachable!()
        };
        tokio::task::spawn_blocking(move || {
            use diesel::{Connection, RunQueryDsl, SqliteConnection};
            let mut conn = SqliteConnection::establish(&path).unwrap();
            let tables: Vec<Name> = diesel::sql_query(
                // Not the FTS5 trigram table and its shadow tables, SQLite's
                // counterpart of PostgreSQL's trigram indexes.
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE '\\_\\_diesel%' ESCAPE '\\' AND name NOT LIKE 'users\\_trigram%' ESCAPE '\\'",
            )
            .load(&mut conn)
            .unwrap();
            let mut facts = BTreeSet::new();
            for t in tables {
                let cols: Vec<TableInfo> = diesel::sql_query(format!("PRAGMA table_info(\"{}\")", t.name)).load(&mut conn).unwrap();
                let mut pk: Vec<(i32, String)> = Vec::new();
                for c in &cols {
                    facts.insert(format!("column {}.{} {} {}", t.name, c.name, kind(&c.r#type), c.notnull == 0 && c.pk == 0));
                    if c.pk > 0 {
                        pk.push((c.pk, c.name.clone()));
                    }
                }
                pk.sort();
                let pk: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
                facts.insert(format!("primary key {} ({})", t.name, pk.join(",")));
                let indexes: Vec<IndexList> = diesel::sql_query(format!("PRAGMA index_list(\"{}\")", t.name)).load(&mut conn).unwrap();
                for i in indexes.iter().filter(|i| i.origin == "c") {
                    let cols: Vec<Name> =
                        diesel::sql_query(format!("SELECT name FROM pragma_index_info('{}') ORDER BY seqno", i.name)).load(&mut conn).unwrap();
                    let cols: Vec<String> = cols.into_iter().map(|c| c.name).collect();
                    facts.insert(format!("index {} on {} ({}) unique={} partial={}", i.name, t.name, cols.join(","), i.unique == 1, i.partial == 1));
                }
            }
            let triggered: Vec<Name> =
                diesel::sql_query("SELECT DISTINCT tbl_name AS name FROM sqlite_master WHERE type = 'trigger'").load(&mut conn).unwrap();
            facts.extend(triggered.into_iter().map(|t| format!("triggers on {}", t.name)));
            facts
        })
        .await
        .unwrap()
    }
}

/// The real binary, configured from the environment as a user would run
/// it: it bootstraps, prints the generated admin password once, serves,
/// and its log never contains a password or a token that went over the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_runs_from_the_environment_and_keeps_secrets_out_of_logs() {
    let dir = std::env::temp_dir().join(format!("ithbat-bin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let env = [
        ("ITHBAT_LISTEN", "127.0.0.1:0".to_string()),
        ("ITHBAT_ARGON2_MEMORY_KIB", "256".into()),
        ("ITHBAT_ARGON2_ITERATIONS", "1".into()),
        ("RUST_LOG", "debug".into()),
        ("ITHBAT_SMTP_URL", crate::support::smtp::shared_sink().url()),
    ];
    let server = crate::support::instance::Instance::start(&dir, &env)
        .await
        .unwrap_or_else(|log| panic!("the server did not start: {log:#?}"));
    let password = server.log.iter().find_map(|line| {
        let rest = line
            .split("generated password for admin@localhost: ")
            .nth(1)?;
        rest.split_whitespace().next().map(String::from)
    });
    let password = password.expect("the generated password is printed");
    let api = crate::support::Api::new(&server.base);
    let admin = api.login("admin@localhost", &password).await;
    let r = admin.me().await;
    assert_eq!(r.status, 200);
    let wrong = api.try_login("admin@localhost", "Secret!Guess9").await;
    assert_eq!(wrong.status, 401);
    let refresh = admin.refresh_token.clone().unwrap();
    api.try_refresh(&refresh).await;
    // A log line written by a use case carries the id of its request.
    let created = admin
        .post(
            "/api/v1/tenants",
            json!({ "name": "Gone", "slug": "gone-soon" }),
        )
        .await;
    let tenant = created.body["data"]["id"].as_str().unwrap().to_string();
    let deleted = admin.delete(&format!("/api/v1/tenants/{tenant}")).await;
    assert_eq!(deleted.status, 200);
    let request_id = deleted.header("x-request-id").unwrap().to_string();
    // Mailed tokens travel in paths and query strings; they stay out too.
    let invited = format!("invited-{}@log.example", uuid::Uuid::new_v4().simple());
    let r = admin
        .post(
            "/api/v1/accounts",
            doc("accounts", json!({ "name": "Log Test", "email": invited })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let invitation = crate::support::smtp::shared_sink()
        .mail_to(&invited)
        .await
        .token();
    let joined = api
        .patch(
            &format!("/api/v1/accounts/{invitation}/join"),
            json!({ "password": "J0in!Secret" }),
        )
        .await;
    assert_eq!(joined.status, 204, "{}", joined.text);
    api.request_reset(&invited).await;
    let reset = crate::support::smtp::shared_sink()
        .mail_to(&invited)
        .await
        .token();
    api.get(&format!(
        "/api/v1/account/passwords/token_valid?token={reset}"
    ))
    .await;
    // MFA: the secret, the backup codes and the mfaToken
    // go over the wire and nowhere else.
    let (phone, backup_codes) = enrol(&admin).await;
    let backup_code = backup_codes[0].clone();
    let challenge = api.try_login("admin@localhost", &password).await;
    let mfa_token = challenge.body["mfaToken"].as_str().unwrap().to_string();
    let second = api
        .post(
            "/api/v1/auth/mfa/verify-backup",
            json!({ "mfaToken": mfa_token, "code": backup_code }),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert!(
        dir.join("ithbat.db").exists(),
        "the default database is ithbat.db in the working directory"
    );
    let log = server.stop().await;
    let after_bootstrap: Vec<&String> = log
        .iter()
        .filter(|l| !l.contains("generated password"))
        .collect();
    let text = after_bootstrap
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("POST /api/v1/auth/login 200"),
        "access log: {text}"
    );
    let deletion = log
        .iter()
        .find(|l| l.contains(&format!("tenant {tenant}")))
        .expect("deletion logged");
    assert!(deletion.contains(&format!("[{request_id}]")), "{deletion}");
    for secret in [
        password.as_str(),
        "Secret!Guess9",
        admin.token.as_deref().unwrap(),
        refresh.as_str(),
        invitation.as_str(),
        "J0in!Secret",
        reset.as_str(),
        phone.secret.as_str(),
        backup_code.as_str(),
        mfa_token.as_str(),
        second.body["data"]["accessToken"].as_str().unwrap(),
    ] {
        assert!(!text.contains(secret), "a secret is in the log");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
