//! POST /api/v1/users/bulk (docs/api/ithbat.md, Users): several users in
//! one request, at most 1000 per batch; partial failures return
//! `failed > 0` and `errors`.

use serde_json::{json, Value};

use crate::support::{new_tenant, pluck, spawn, tenant, Backend, PASSWORD};

on_both_backends!(
    bulk_creates_every_row_of_the_seed_example,
    bulk_reports_each_bad_row_and_commits_the_rest,
    bulk_refuses_empty_and_oversized_batches,
    bulk_creates_a_thousand_users,
    bulk_users_with_passwords_can_sign_in,
    a_failure_midway_leaves_no_user_half_made,
);

/// Two users: `{"successful": 2, "failed": 0, "users": [...]}`.
async fn bulk_creates_every_row_of_the_seed_example(b: Backend) {
    let t = tenant(b).await;
    let r = t
        .owner
        .post(
            "/api/v1/users/bulk",
            json!({ "users": [
                { "email": t.email("user1"), "firstName": "User", "familyName": "One" },
                { "email": t.email("user2"), "firstName": "User", "familyName": "Two" }
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["success"], true);
    let d = r.ok();
    assert_eq!(
        (d["successful"].as_i64(), d["failed"].as_i64()),
        (Some(2), Some(0))
    );
    assert!(d.get("errors").is_none());
    let users = d["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["roles"], json!(["member"]));
    assert_eq!(t.owner.get("/api/v1/users").await.ok()["total"], 3);
}

/// A partial failure: `{"index": 1, "email": ..., "error": "A user
/// with this email already exists", "code": "DUPLICATE_EMAIL"}`. Duplicates
/// within the batch and against existing users, and invalid rows, are
/// reported by index; every other row is created.
async fn bulk_reports_each_bad_row_and_commits_the_rest(b: Backend) {
    let t = tenant(b).await;
    let existing = t.user("existing").await;
    let rows = json!([
        { "email": t.email("ok1"), "firstName": "Ok", "familyName": "One" },
        { "email": existing.email.to_uppercase(), "firstName": "Dup", "familyName": "Existing" },
        { "email": "not-an-email", "firstName": "Bad", "familyName": "Email" },
        { "email": t.email("ok2"), "firstName": "Ok", "familyName": "Two" },
        { "email": t.email("OK2"), "firstName": "Dup", "familyName": "InBatch" },
        { "email": t.email("noname") },
        { "email": t.email("typed"), "firstName": 7, "familyName": "X" },
        { "email": t.email("extra"), "firstName": "E", "familyName": "X", "isAdmin": true },
        "not an object",
        { "email": t.email("weak"), "firstName": "W", "familyName": "P", "password": "weak" },
        { "email": t.email("ok3"), "firstName": "Ok", "familyName": "Three" }
    ]);
    let r = t.bulk_users(rows).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = r.ok();
    assert_eq!(
        (d["successful"].as_i64(), d["failed"].as_i64()),
        (Some(3), Some(8)),
        "{}",
        r.text
    );
    let errors = d["errors"].as_array().unwrap();
    let summary: Vec<(i64, &str)> = errors
        .iter()
        .map(|e| (e["index"].as_i64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "DUPLICATE_EMAIL"),
            (2, "VALIDATION_ERROR"),
            (4, "DUPLICATE_EMAIL"),
            (5, "VALIDATION_ERROR"),
            (6, "VALIDATION_ERROR"),
            (7, "VALIDATION_ERROR"),
            (8, "VALIDATION_ERROR"),
            (9, "VALIDATION_ERROR"),
        ]
    );
    assert_eq!(errors[0]["error"], "A user with this email already exists");
    assert_eq!(errors[0]["email"], existing.email.to_uppercase());
    let field = |i: usize| {
        errors[i]["details"][0]["field"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(field(1), "email");
    assert_eq!(field(3), "firstName");
    assert_eq!(field(4), "firstName");
    assert_eq!(field(5), "isAdmin");
    assert_eq!(field(7), "password");
    let created: Vec<&str> = pluck(&d["users"], "/familyName");
    assert_eq!(created, ["One", "Two", "Three"]);
    assert_eq!(t.owner.get("/api/v1/users").await.ok()["total"], 5);
}

async fn bulk_refuses_empty_and_oversized_batches(b: Backend) {
    let t = tenant(b).await;
    let r = t
        .owner
        .post("/api/v1/users/bulk", json!({ "users": [] }))
        .await;
    r.invalid(&["users"]);
    let rows: Vec<Value> = (0..1001)
        .map(|i| json!({ "email": t.email(&format!("u{i}")), "firstName": "A", "familyName": "B" }))
        .collect();
    let r = t.bulk_users(rows).await;
    r.invalid(&["users"]);
    let r = t
        .owner
        .post("/api/v1/users/bulk", json!({ "people": [] }))
        .await;
    r.expect(400, "VALIDATION_ERROR");
    let r = t
        .owner
        .post("/api/v1/users/bulk", json!({ "users": "many" }))
        .await;
    assert_eq!(r.fields(), ["users"]);
    assert_eq!(t.owner.get("/api/v1/users").await.ok()["total"], 1);
}

/// The maximum batch: 1000 users, one transaction, batched statements.
async fn bulk_creates_a_thousand_users(b: Backend) {
    let t = tenant(b).await;
    let rows: Vec<Value> = (0..1000)
        .map(|i| json!({ "email": t.email(&format!("bulk{i:04}")), "firstName": "Bulk", "familyName": format!("User{i:04}") }))
        .collect();
    let r = t.bulk_users(rows).await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(500)]);
    assert_eq!(r.ok()["successful"], 1000);
    assert_eq!(r.ok()["users"].as_array().unwrap().len(), 1000);
    let list = t.owner.get("/api/v1/users?search=bulk&limit=1").await;
    assert_eq!(list.ok()["total"], 1000);
    let member = t.role_id("member").await;
    assert_eq!(
        t.owner
            .get(&format!("/api/v1/users?roleId={member}&limit=1"))
            .await
            .ok()["total"],
        1000
    );
    // Every creation is audited (and the owner's, at the tenant's creation).
    let events = t.audit("action=user.created&limit=1").await;
    assert_eq!(events.ok()["total"], 1001);
}

/// Rows with passwords are hashed (in parallel) and can sign in.
async fn bulk_users_with_passwords_can_sign_in(b: Backend) {
    let t = tenant(b).await;
    let rows: Vec<Value> = (0..8)
        .map(|i| {
            json!({
                "email": t.email(&format!("pw{i}")), "firstName": "P", "familyName": "W",
                "password": PASSWORD, "skipEmailVerification": true
            })
        })
        .collect();
    let r = t.bulk_users(rows).await;
    assert_eq!(r.ok()["successful"], 8);
    for i in [0, 7] {
        t.anonymous()
            .login(&t.email(&format!("pw{i}")), PASSWORD)
            .await;
    }
}

/// A crash midway leaves no half-created user. The database is
/// made to fail on the sixth row of ten (a trigger); the request fails and
/// not one of the ten users exists.
async fn a_failure_midway_leaves_no_user_half_made(b: Backend) {
    let server = spawn(b, |_| {}).await;
    let t = new_tenant(&server.api(), &server.admin().await).await;
    let boom = match b {
        Backend::Postgres => {
            "CREATE FUNCTION ithbat_test_boom() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.email_key LIKE 'boom%' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
             CREATE TRIGGER boom BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION ithbat_test_boom();"
        }
        Backend::Sqlite => {
            "CREATE TRIGGER boom BEFORE INSERT ON users WHEN NEW.email_key LIKE 'boom%'
             BEGIN SELECT RAISE(ABORT, 'boom'); END;"
        }
    };
    server.db.execute(boom).await;
    let total = |r: crate::support::Resp| r.ok()["total"].as_i64().unwrap();
    let before = total(t.owner.get("/api/v1/users").await);
    let users: Vec<Value> = (0..10)
        .map(|n| {
            let local = if n == 5 { "boom".to_string() } else { format!("row{n}") };
            json!({ "email": t.email(&local), "firstName": "Row", "familyName": format!("N{n}"), "password": PASSWORD })
        })
        .collect();
    let r = t.bulk_users(users).await;
    r.expect(500, "INTERNAL_ERROR");
    assert_eq!(total(t.owner.get("/api/v1/users").await), before);
    let r = t.owner.get("/api/v1/users?search=row").await;
    assert_eq!(r.ok()["total"], 0, "no row of the batch was kept");
}
