//! Hostile input (docs/design/hostile-input.md): filters and
//! PATCH paths nested beyond the limit, long IN-lists, control characters
//! in every kind of string a client sends, and identifiers with invisible
//! characters get a clear 400 in the dialect's form, identically on both
//! backends, and change nothing; the server keeps serving.

use reqwest::Method;
use serde_json::{json, Value};

use std::time::Duration;

use ithbat::db::DatabaseUrl;

use crate::support::scim::{Scim, SEARCH, USER};
use crate::support::{
    new_tenant, shared, tenant, Api, Backend, TestDb, TestTenant, ADMIN_EMAIL, ADMIN_PASSWORD,
    PASSWORD,
};

on_both_backends!(
    deep_filters_and_paths_are_refused_and_the_server_keeps_serving,
    filters_within_the_limits_are_answered,
    long_in_lists_are_answered_up_to_the_limit_and_refused_beyond,
    control_characters_in_query_parameters_are_refused_naming_them,
    control_characters_in_bodies_are_refused_naming_the_field,
    sign_in_refuses_control_characters_without_telling_who_exists,
    emails_and_user_names_refuse_invisible_characters,
    a_stored_user_agent_holds_no_control_characters,
    the_real_binary_keeps_serving_after_hostile_input,
);

/// Deep inputs: parentheses, `not(`, and a value filter
/// nested 400 levels, each as a SCIM filter.
pub fn deep_filters() -> Vec<String> {
    vec![
        format!("{}userName pr{}", "(".repeat(400), ")".repeat(400)),
        format!("{}userName pr{}", "not(".repeat(400), ")".repeat(400)),
        format!(
            "emails[{}type eq \"work\"{}]",
            "(".repeat(400),
            ")".repeat(400)
        ),
    ]
}

/// A PATCH path whose value filter nests 1,000 levels.
pub fn deep_path() -> String {
    format!(
        "emails[{}type eq \"work\"{}].value",
        "(".repeat(1000),
        ")".repeat(1000)
    )
}

/// Sends every deep input to `/Users` and `/Groups` (GET and POST
/// .search) and a PATCH with a deep path; each must be refused.
pub async fn send_deep_inputs(scim: &Scim, user_id: &str) {
    for filter in deep_filters() {
        for resource in ["/Users", "/Groups"] {
            scim.query(resource, &[("filter", &filter)])
                .await
                .scim_error(400, Some("invalidFilter"));
            scim.post(
                &format!("{resource}/.search"),
                json!({ "schemas": [SEARCH], "filter": filter }),
            )
            .await
            .scim_error(400, Some("invalidFilter"));
        }
    }
    scim.patch(
        &format!("/Users/{user_id}"),
        json!([{ "op": "replace", "path": deep_path(), "value": "x@a.example" }]),
    )
    .await
    .scim_error(400, Some("invalidPath"));
}

/// A filter or PATCH path nested beyond 32 levels is an
/// invalidFilter or invalidPath (RFC 7644 3.12), not a crashed process;
/// the user is unchanged and the server still answers.
async fn deep_filters_and_paths_are_refused_and_the_server_keeps_serving(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let scim = t.scim().await;
    let id = scim
        .create_user(
            "deep",
            json!({ "emails": [{ "value": t.email("deep"), "type": "work" }] }),
        )
        .await;
    send_deep_inputs(&scim, &id).await;
    let user = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(user.scim(200)["emails"][0]["value"], t.email("deep"));
    assert_eq!(app.api().get("/healthz").await.status, 200);
}

/// Within the limits everything is answered: 32 levels of parentheses and
/// of `not(`, a value filter nested 31 levels inside its brackets, and a
/// chain of `or` as long as a filter may be (4,096 characters), on both
/// backends' SQL.
async fn filters_within_the_limits_are_answered(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    scim.create_user(
        "edge",
        json!({ "emails": [{ "value": t.email("edge"), "type": "work" }] }),
    )
    .await;
    let leaf = "userName eq \"edge\"";
    let work = "type eq \"work\"";
    let ors: Vec<String> = (0..150).map(|i| format!("userName eq \"u{i}\"")).collect();
    let long = format!("{} or {leaf}", ors.join(" or "));
    assert!(long.len() <= 4096);
    for filter in [
        format!("{}{leaf}{}", "(".repeat(32), ")".repeat(32)),
        format!("{}{leaf}{}", "not(".repeat(32), ")".repeat(32)),
        format!(
            "emails[{}{work}{}] and {leaf}",
            "(".repeat(31),
            ")".repeat(31)
        ),
        long,
    ] {
        let r = scim.query("/Users", &[("filter", &filter)]).await;
        assert_eq!(r.scim(200)["totalResults"], 1, "{filter}: {}", r.text);
    }
    let r = scim
        .query(
            "/Users",
            &[(
                "filter",
                &format!("{}{leaf}{}", "(".repeat(33), ")".repeat(33)),
            )],
        )
        .await;
    r.scim_error(400, Some("invalidFilter"));
    assert!(
        r.body["detail"].as_str().unwrap().contains("32"),
        "{}",
        r.text
    );
}

/// `filter[email__in]` with 1,000 values (the JSON:API dialect's
/// largest page) is answered on both backends (it used to be a 500 on
/// SQLite, "Recursion limit"); 1,001 values, in one list or across
/// parameters, are a 400 naming the parameter.
async fn long_in_lists_are_answered_up_to_the_limit_and_refused_beyond(b: Backend) {
    let t = tenant(b).await;
    let many = |n: usize| -> Vec<String> { (0..n).map(|i| format!("u{i}@x.example")).collect() };
    let mut emails = many(999);
    emails.push(t.owner_email.clone());
    let r = t
        .owner
        .jsonapi_get(&format!(
            "/api/v1/accounts?filter[email__in]={}",
            emails.join(",")
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1, "{}", r.text);
    let ids: Vec<String> = (0..999)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .chain([t.owner_id.clone()])
        .collect();
    let r = t
        .owner
        .jsonapi_get(&format!(
            "/api/v1/accounts?filter[id__in]={}",
            ids.join(",")
        ))
        .await;
    assert_eq!(
        r.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
    let r = t
        .owner
        .jsonapi_get(&format!(
            "/api/v1/accounts?filter[email__in]={}",
            many(1001).join(",")
        ))
        .await;
    r.jsonapi_error(400, Some(json!({ "parameter": "filter[email__in]" })));
    let r = t
        .owner
        .jsonapi_get(&format!(
            "/api/v1/accounts?filter[email__in]={}&filter[name__match]=x",
            many(1000).join(",")
        ))
        .await;
    r.jsonapi_error(400, Some(json!({ "parameter": "filter[name__match]" })));
}

/// NUL (and every other control but TAB, LF and CR) in
/// a query parameter is a 400 naming it, in each dialect's form, before
/// any database sees it (PostgreSQL answered 500; SQLite cut the value at
/// the NUL).
async fn control_characters_in_query_parameters_are_refused_naming_them(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    for (path, field) in [
        ("/api/v1/users?search=a%00b", "search"),
        ("/api/v1/groups?search=a%00b", "search"),
        ("/api/v1/audit-logs?action=a%00b", "action"),
        ("/api/v1/users?search=a%1Bb", "search"),
        ("/api/v1/users?search=a%C2%85b", "search"),
    ] {
        let r = t.owner.get(path).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{path}: {}", r.text);
    }
    for (path, field) in [
        ("/core/iam/v1/users?searchText=a%00b", "searchText"),
        ("/core/iam/v1/subjects?searchQuery=a%00b", "searchQuery"),
        ("/core/iam/v1/roles?searchQuery=a%00b", "searchQuery"),
    ] {
        let r = t.owner.get(path).await;
        r.expect(400, "VALIDATION_ERROR");
        assert!(r.problem().is_some(), "{}", r.text);
        assert_eq!(r.fields(), [field], "{path}: {}", r.text);
    }
    for (path, parameter) in [
        (
            "/api/v1/accounts?filter[name__match]=a%00b",
            "filter[name__match]",
        ),
        (
            "/api/v1/account_sessions?filter[user_agent__match]=a%00b",
            "filter[user_agent__match]",
        ),
        (
            "/api/v1/accounts?filter[email]=a%00b@x.example",
            "filter[email]",
        ),
    ] {
        t.owner
            .jsonapi_get(path)
            .await
            .jsonapi_error(400, Some(json!({ "parameter": parameter })));
    }
    let scim = t.scim().await;
    for filter in ["userName eq \"a\u{0}b\"", r#"userName eq "a\u0000b""#] {
        scim.query("/Users", &[("filter", filter)])
            .await
            .scim_error(400, Some("invalidFilter"));
    }
    scim.post(
        "/Users/.search",
        json!({ "schemas": [SEARCH], "filter": r#"userName eq "a\u0000b""# }),
    )
    .await
    .scim_error(400, Some("invalidFilter"));
    scim.get("/Users?attributes=userName%00")
        .await
        .scim_error(400, Some("invalidValue"));
    // A path segment: the tenant slug of a SCIM base URL.
    let r = Scim::new(&t.owner, "scim_x")
        .at_tenant("a%00b")
        .get("/Users")
        .await;
    r.scim_error(400, Some("invalidValue"));
    // A form body (OAuth): RFC 6749's invalid_request.
    let r = app
        .api()
        .post_raw(
            "/oauth/token",
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials&client_id=a%00b&client_secret=x",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"], "invalid_request", "{}", r.text);
    // Tab, newline and carriage return are text, not refused.
    let r = t.owner.get("/api/v1/users?search=a%09b%0A").await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// A control character anywhere in a JSON body (a
/// value, nested, or a member name) is a 400 naming the member, in every
/// dialect, and nothing is created or changed.
async fn control_characters_in_bodies_are_refused_naming_the_field(b: Backend) {
    let t = tenant(b).await;
    let nul_email = t.email("a\u{0}b");
    let r = t
        .owner
        .post(
            "/api/v1/users",
            json!({ "email": nul_email, "firstName": "A", "familyName": "B", "password": PASSWORD }),
        )
        .await;
    r.invalid(&["email"]);
    let r = t
        .owner
        .put("/api/v1/users/me", json!({ "firstName": "Ann\u{1}" }))
        .await;
    r.invalid(&["firstName"]);
    let r = t
        .owner
        .patch(
            &format!("/api/v1/users/{}/metadata", t.owner_id),
            json!({ "metadata": { "a": { "b": ["ok", "bad\u{0}"] } } }),
        )
        .await;
    r.expect(400, "VALIDATION_ERROR");
    assert_eq!(r.fields(), ["metadata.a.b[1]"]);
    let r = t
        .owner
        .patch(
            &format!("/api/v1/users/{}/metadata", t.owner_id),
            json!({ "metadata": { "k\u{0}": 1 } }),
        )
        .await;
    r.invalid(&["metadata"]);
    let me = t.owner.me().await;
    assert_eq!(me.ok()["firstName"], "Olivia");
    // JSON:API: the member's pointer.
    let r = t
        .owner
        .jsonapi(
            Method::POST,
            "/api/v1/accounts",
            Some(json!({ "data": { "type": "accounts", "attributes": {
                "name": "Nul\u{0}Name", "email": t.email("nulname") } } })),
        )
        .await;
    r.jsonapi_error(400, Some(json!({ "pointer": "/data/attributes/name" })));
    // SCIM: an invalidValue naming the attribute.
    let scim = t.scim().await;
    let r = scim
        .post(
            "/Users",
            json!({ "schemas": [USER], "userName": "nul", "name": { "givenName": "a\u{0}" } }),
        )
        .await;
    r.scim_error(400, Some("invalidValue"));
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("name.givenName"));
    // Aritma: problem details naming the field.
    let r = t
        .owner
        .post(
            "/core/iam/v1/subjects/groups",
            json!({ "displayName": "Nul", "description": "x\u{0}" }),
        )
        .await;
    r.expect(400, "VALIDATION_ERROR");
    assert!(r.problem().is_some(), "{}", r.text);
    assert_eq!(r.fields(), ["description"], "{}", r.text);
    // Nothing was created.
    let users = t.owner.get("/api/v1/users?limit=100").await;
    assert_eq!(users.ok()["total"], 1, "{}", users.text);
    // A description keeps its newlines (free text).
    let r = t
        .owner
        .post(
            "/api/v1/roles",
            json!({ "name": "Lines", "description": "one\ntwo", "permissions": ["user:read"] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Sign-in with a control character in the email is the
/// same 400 whether or not an account would match (no enumeration), on
/// the API and on the sign-in page; an email with an invisible character
/// matches no account: the usual 401.
async fn sign_in_refuses_control_characters_without_telling_who_exists(b: Backend) {
    let t = tenant(b).await;
    let anonymous = t.anonymous();
    let login = |email: String| {
        let api = anonymous.clone();
        async move { api.try_login(&email, PASSWORD).await }
    };
    let known = login(format!("{}\u{0}", t.owner_email)).await;
    let unknown = login("a\u{0}b@a.example".to_string()).await;
    known.invalid(&["email"]);
    assert_eq!(known.text, unknown.text);
    for lookalike in [
        t.owner_email.replacen('@', "\u{202e}@", 1),
        t.owner_email.replacen('@', "\u{200b}@", 1),
    ] {
        login(lookalike).await.expect(401, "INVALID_CREDENTIALS");
    }
    let r = anonymous
        .post_raw(
            "/api/v1/auth/login",
            "application/json",
            format!(r#"{{"email":"a\u0000b@a.example","password":"{PASSWORD}"}}"#),
        )
        .await;
    assert_eq!(r.text, unknown.text);
}

/// Email addresses and user names follow the identifier profile
/// (docs/design/hostile-input.md): bidi controls and invisible characters are a
/// 400 naming the field in every dialect that accepts one.
async fn emails_and_user_names_refuse_invisible_characters(b: Backend) {
    let t = tenant(b).await;
    let rlo = t.email("w\u{202e}evil");
    let zw = t.email("w\u{200b}");
    for email in [&rlo, &zw] {
        let r = t
            .owner
            .post(
                "/api/v1/users",
                json!({ "email": email, "firstName": "W", "familyName": "E", "password": PASSWORD }),
            )
            .await;
        r.invalid(&["email"]);
        // JSON:API: an invitation (no password) and a direct creation.
        for attributes in [
            json!({ "name": "W", "email": email }),
            json!({ "name": "W", "email": email, "password": PASSWORD }),
        ] {
            t.owner
                .post_account(attributes)
                .await
                .jsonapi_error(400, Some(json!({ "pointer": "/data/attributes/email" })));
        }
        // Aritma: an invitation by email.
        let r = t
            .owner
            .post(
                &format!(
                    "/core/iam/v1/users/invite?{}",
                    serde_urlencoded::to_string([("email", email.as_str())]).unwrap()
                ),
                Value::Null,
            )
            .await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), ["email"], "{}", r.text);
    }
    let scim = t.scim().await;
    for body in [
        json!({ "schemas": [USER], "userName": "w\u{200b}" }),
        json!({ "schemas": [USER], "userName": "w\u{2066}x\u{2069}" }),
        json!({ "schemas": [USER], "userName": "fine", "emails": [{ "value": rlo, "primary": true }] }),
    ] {
        let r = scim.post("/Users", body).await;
        r.scim_error(400, Some("invalidValue"));
    }
    let users = t.owner.get("/api/v1/users?limit=100").await;
    assert_eq!(users.ok()["total"], 1, "{}", users.text);
    // An ordinary non-ASCII address is an identifier like any other.
    let r = t
        .owner
        .post(
            "/api/v1/users",
            json!({ "email": t.email("müller"), "firstName": "M", "familyName": "Ü", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// The User-Agent is stored on the session (`/api/v1/auth/sessions`) with any
/// control character replaced: informational, so never a reason to
/// refuse a sign-in.
async fn a_stored_user_agent_holds_no_control_characters(b: Backend) {
    let app = shared(b).await;
    let t: TestTenant = app.new_tenant().await;
    let api: Api = t
        .anonymous()
        .with_user_agent("Agent\t1.0")
        .login(&t.owner_email, PASSWORD)
        .await;
    let session = api.current_session().await;
    assert_eq!(session["userAgent"], "Agent 1.0", "{session}");
}

/// The real server binary, run as an operator runs it,
/// gets every deep input above (which used to overflow a worker's
/// stack and abort the whole process) and keeps serving: the process is
/// still running and answers a request that needs the database.
async fn the_real_binary_keeps_serving_after_hostile_input(b: Backend) {
    let db = TestDb::create(b).await;
    let url = match &db.url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    let dir =
        std::env::temp_dir().join(format!("ithbat-hostile-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ithbat"))
        .current_dir(&dir)
        .env_clear()
        .env("DATABASE_URL", url)
        .env("ITHBAT_LISTEN", "127.0.0.1:0")
        .env("ITHBAT_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ITHBAT_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ITHBAT_ARGON2_MEMORY_KIB", "256")
        .env("ITHBAT_ARGON2_ITERATIONS", "1")
        .env("ITHBAT_WORKERS", "2")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = listening_address(&mut child).await;
    let api = Api::new(&base);
    let admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let t = new_tenant(&api, &admin).await;
    let scim = t.scim().await;
    let id = scim.create_user(&t.email("target"), json!({})).await;
    send_deep_inputs(&scim, &id).await;
    // Every deep input again, without waiting for the answers in turn.
    let many = (0..8).map(|_| send_deep_inputs(&scim, &id));
    futures_util::future::join_all(many).await;
    assert!(child.try_wait().unwrap().is_none(), "the server exited");
    assert_eq!(api.get("/healthz").await.status, 200);
    let me = t.owner.me().await;
    assert_eq!(me.ok()["email"], t.owner_email);
    let _ = child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reads the server's log until it says where it listens.
async fn listening_address(child: &mut tokio::process::Child) -> String {
    use tokio::io::AsyncBufReadExt;
    let stderr = child.stderr.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server starts");
    // Keep draining the log so the server never blocks writing to it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    base
}
