//! The running server against its own OpenAPI document (`GET
//! /openapi.json`), checked by schemathesis: every documented operation is
//! called with generated requests, valid and invalid, as the platform
//! administrator (bearer token) and, on /oauth/*, as an OAuth client (HTTP
//! Basic, RFC 6749 2.3.1). A 5xx, a status the operation does not
//! document, or a body or media type the document does not describe fails
//! the test, on both backends.
//!
//! First the served document must validate as OpenAPI 3.1
//! (openapi-spec-validator). schemathesis and openapi-spec-validator (PyPI)
//! are looked for in the virtualenv `target/schemathesis` (where `.ci/run`
//! installs them), or in the directory of the `st` that
//! `ITHBAT_SCHEMATHESIS` names.
//! `ITHBAT_TEST_SKIP_SCHEMATHESIS=1` skips this test locally; CI never does.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{spawn, Backend, ADMIN_EMAIL, ADMIN_PASSWORD};

on_both_backends!(the_server_keeps_to_its_openapi_document);

/// Test cases per operation and phase: enough to reach each operation's
/// validation and its success, few enough that both backends take a few
/// minutes on two cores.
const EXAMPLES_PER_OPERATION: u32 = 10;
/// The same cases every run, so a failure reproduces.
const SEED: u32 = 20_261_203;

/// Operations that may take the administrator's tenant, account or the
/// tenant's limits away (suspend or delete the tenant, change its rate
/// limit, lockout or session lifetime, disable the account): run after
/// the rest, so the rest are called by an administrator who can act.
/// Sessions the fuzzer ends (it reuses ids from earlier answers, the
/// administrator's own session among them) are signed in again by the
/// hook.
const LAST: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/logout"),
    ("PUT", "/api/v1/settings"),
    ("PUT", "/api/v1/tenants/{id}"),
    ("POST", "/api/v1/tenants/{id}/suspend"),
    ("DELETE", "/api/v1/tenants/{id}"),
    ("POST", "/api/v1/users/{id}/suspend"),
    ("DELETE", "/api/v1/users/{id}"),
    ("PATCH", "/api/v1/accounts/{id}"),
    ("DELETE", "/api/v1/accounts/{id}"),
];

/// The credentials schemathesis sends (a hook: its auth settings are
/// static): the administrator's access token, signed in again every
/// two seconds so a session the fuzzer ended does not sign out the rest
/// of the run; HTTP Basic with the OAuth client's id and secret where the
/// document names the `clientCredentials` scheme (RFC 6749 2.3.1).
const HOOKS: &str = r#"
import base64, os
import requests
import schemathesis

BASE = os.environ["ITHBAT_BASE"]
BASIC = "Basic " + base64.b64encode(
    (os.environ["ITHBAT_CLIENT_ID"] + ":" + os.environ["ITHBAT_CLIENT_SECRET"]).encode()
).decode()


@schemathesis.auth(refresh_interval=2)
class Credentials:
    def get(self, case, ctx):
        r = requests.post(
            BASE + "/api/v1/auth/login",
            json={"email": os.environ["ITHBAT_EMAIL"], "password": os.environ["ITHBAT_PASSWORD"]},
            timeout=20,
        )
        return (r.json().get("data") or {}).get("accessToken")

    def set(self, case, token, ctx):
        security = case.operation.definition.raw.get("security") or []
        if any("clientCredentials" in requirement for requirement in security):
            case.headers = {**(case.headers or {}), "Authorization": BASIC}
        elif token:
            case.headers = {**(case.headers or {}), "Authorization": "Bearer " + token}
"#;

fn skip() -> bool {
    let skip = std::env::var("ITHBAT_TEST_SKIP_SCHEMATHESIS").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("skipping the schemathesis run: ITHBAT_TEST_SKIP_SCHEMATHESIS=1");
    }
    skip
}

fn schemathesis() -> PathBuf {
    if let Some(path) = std::env::var_os("ITHBAT_SCHEMATHESIS") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let st = target.join("schemathesis/bin/st");
    assert!(
        st.exists(),
        "schemathesis is not installed at {}: run `python3 -m venv target/schemathesis && \
         target/schemathesis/bin/pip install schemathesis openapi-spec-validator` (as .ci/run \
         does), point \
         ITHBAT_SCHEMATHESIS at an `st` executable, or set ITHBAT_TEST_SKIP_SCHEMATHESIS=1 \
         to skip this test locally",
        st.display()
    );
    st
}

/// One schemathesis run over the operations `filter` selects; panics
/// with its report unless every check passed on every selected operation.
async fn run(st: &std::path::Path, base: &str, client: (&str, &str), filter: &[String]) {
    let dir = std::env::temp_dir().join(format!(
        "ithbat-schemathesis-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ithbat_hooks.py"), HOOKS).unwrap();
    let mut command = tokio::process::Command::new(st);
    command
        .current_dir(&dir)
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            &EXAMPLES_PER_OPERATION.to_string(),
            "--seed",
            &SEED.to_string(),
            "--workers",
            "2",
            "--request-timeout",
            "20",
            "--suppress-health-check",
            "all",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .args(filter)
        .env("NO_COLOR", "1")
        .env("PYTHONPATH", &dir)
        .env("SCHEMATHESIS_HOOKS", "ithbat_hooks")
        .env("ITHBAT_BASE", base)
        .env("ITHBAT_EMAIL", ADMIN_EMAIL)
        .env("ITHBAT_PASSWORD", ADMIN_PASSWORD)
        .env("ITHBAT_CLIENT_ID", client.0)
        .env("ITHBAT_CLIENT_SECRET", client.1)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = std::time::Instant::now();
    let output = tokio::time::timeout(Duration::from_secs(600), command.output())
        .await
        .expect("schemathesis finishes within 10 minutes")
        .expect("schemathesis runs");
    let _ = std::fs::remove_dir_all(&dir);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "schemathesis ({filter:?}) took {:.0?}:\n{}",
        started.elapsed(),
        report
            .lines()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        output.status.success(),
        "schemathesis found the server and its document apart:\n{report}"
    );
}

/// The served document is valid OpenAPI 3.1 (openapi-spec-validator,
/// installed beside `st`).
async fn validate(st: &std::path::Path, document: &Value) {
    let path = std::env::temp_dir().join(format!(
        "ithbat-openapi-{}-{}.json",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, document.to_string()).unwrap();
    let validator = st.with_file_name("openapi-spec-validator");
    let output = tokio::process::Command::new(&validator)
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("{} runs: {e}", validator.display()));
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "/openapi.json is not valid OpenAPI 3.1:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn the_server_keeps_to_its_openapi_document(backend: Backend) {
    if skip() {
        return;
    }
    let st = schemathesis();
    let app = spawn(backend, |_| {}).await;
    let admin = app.admin().await;
    // The fuzzer signs in with the administrator's email (it reads it in
    // answers) and wrong passwords; a lockout would stop the hook's
    // sign-ins. The most failures a minute the settings allow.
    let r = admin
        .put(
            "/api/v1/settings",
            json!({ "lockout": { "maxFailedAttempts": 100, "windowMinutes": 1 } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // An OAuth client of the administrator's tenant, for /oauth/*.
    let client = admin
        .post(
            "/core/iam/v1/clients",
            json!({
                "name": "schemathesis",
                "description": "checks the OpenAPI document",
                "allowedGrantTypes": ["client_credentials", "refresh_token"],
                "redirectUris": [],
                "allowedScopes": ["services.iam"],
            }),
        )
        .await;
    assert_eq!(client.status, 200, "{}", client.text);
    let client_id = client.body["clientId"].as_str().unwrap().to_string();
    let secret = "schemathesis-secret-1";
    let r = admin
        .post(
            &format!("/core/iam/v1/clients/{client_id}/secrets"),
            json!({ "value": secret, "description": "schemathesis" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let document: Value = app.api().get("/openapi.json").await.body;
    validate(&st, &document).await;
    // Every operation of the document is called by one of the two runs.
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert!(
        operations > 150,
        "the document lists the operations: {operations}"
    );

    let last_only: Vec<String> = LAST
        .iter()
        .flat_map(|(method, path)| {
            // `--include-by` takes one expression; two runs of one filter
            // each would cost a schema load more, so name them by id.
            let id = document["paths"][path][method.to_ascii_lowercase()]["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} is documented"))
                .to_string();
            ["--include-operation-id".to_string(), id]
        })
        .collect();
    let all_but_last: Vec<String> = last_only
        .iter()
        .map(|a| a.replace("--include-", "--exclude-"))
        .collect();
    run(&st, &app.base, (&client_id, secret), &all_but_last).await;
    run(&st, &app.base, (&client_id, secret), &last_only).await;
}
