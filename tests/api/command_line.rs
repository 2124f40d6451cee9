//! The administration commands of the binary (README "Command line"):
//! `ithbat tenants|users|scim-tokens|clients` run against a fresh database
//! before any server has touched it, then a real server on the same
//! database honours what they made: the owner and a user sign in with the
//! passwords printed once, the SCIM token provisions (bounded as a token
//! made by the operator is), the client gets a client_credentials token
//! (RFC 6749 4.4), a revoked token and a suspended tenant are refused. The
//! audit log names the operator (`system`, `cli`); refusals exit non-zero
//! and change nothing.

use serde_json::{json, Value};

use crate::support::cli::Operator;
use crate::support::oauth::Machine;
use crate::support::scim::{replace, Scim};
use crate::support::{Api, Backend, ADMIN_EMAIL, ADMIN_PASSWORD};

on_both_backends!(
    the_command_line_administers_what_the_server_serves,
    refusals_exit_non_zero_and_change_nothing,
);

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {v}"))
}

/// The tenant's audit events of one action, read by `api`.
async fn events(api: &Api, action: &str) -> Vec<Value> {
    let r = api
        .get(&format!("/api/v1/audit-logs?action={action}&limit=100"))
        .await;
    r.ok()["events"].as_array().unwrap().clone()
}

async fn the_command_line_administers_what_the_server_serves(b: Backend) {
    let op = Operator::new(b).await;

    // The first command finds an empty database and makes it ready as a
    // first start would: the default tenant and its administrator.
    let acme = op
        .json(&[
            "tenants",
            "create",
            "--name",
            "Acme",
            "--slug",
            "acme",
            "--plan",
            "pro",
            "--owner-email",
            "olivia@acme.example",
            "--owner-first-name",
            "Olivia",
            "--owner-family-name",
            "Owner",
        ])
        .await;
    assert_eq!(
        (
            text(&acme, "slug"),
            text(&acme, "plan"),
            text(&acme, "status")
        ),
        ("acme", "pro", "active")
    );
    let acme_id = text(&acme, "id").to_string();
    let owner_password = text(&acme["owner"], "password").to_string();
    assert_eq!(acme["owner"]["email"], "olivia@acme.example");

    let list = op.json(&["tenants", "list"]).await;
    let slugs: Vec<&str> = crate::support::pluck(&list, "/slug");
    assert_eq!(slugs, ["default", "acme"]);
    // Without --json: the same fields, as a table for people.
    let people = op.run(&["tenants", "list"]).await;
    assert_eq!(people.code, 0, "{}", people.stderr);
    let header = people.stdout.lines().next().unwrap();
    assert!(
        header.starts_with("id ") && header.contains("slug"),
        "{}",
        people.stdout
    );
    assert!(
        people.stdout.lines().any(|l| l.contains(" acme ")),
        "{}",
        people.stdout
    );

    // A user, by the tenant's id; a second one with a password of our own.
    let bob = op
        .json(&[
            "users",
            "create",
            "--tenant",
            &acme_id,
            "--email",
            "bob@acme.example",
            "--first-name",
            "Bob",
            "--family-name",
            "Builder",
        ])
        .await;
    assert_eq!(bob["roles"], json!(["member"]));
    assert_eq!(bob["tenantId"], acme_id.as_str());
    let bob_password = text(&bob, "password").to_string();
    let carol = op
        .run_with_input(
            &[
                "--json",
                "users",
                "create",
                "--tenant",
                "acme",
                "--email",
                "carol@acme.example",
                "--first-name",
                "Carol",
                "--family-name",
                "Chosen",
                "--role",
                "admin",
                "--password-stdin",
            ],
            "Ch0sen!Passw0rd\n",
        )
        .await;
    assert_eq!(carol.code, 0, "{}", carol.stderr);
    let carol: Value = serde_json::from_str(&carol.stdout).unwrap();
    assert_eq!(
        carol["password"],
        Value::Null,
        "a given password is not echoed"
    );
    assert_eq!(carol["roles"], json!(["admin"]));

    let token = op
        .json(&[
            "scim-tokens",
            "create",
            "--tenant",
            "acme",
            "--name",
            "Entra ID",
        ])
        .await;
    assert_eq!(token["mintedBy"], "operator");
    let secret = text(&token, "token").to_string();
    assert!(secret.starts_with("scim_live_"));
    let client = op
        .json(&[
            "clients", "create", "--tenant", "acme", "--name", "ERP sync",
        ])
        .await;
    assert_eq!(client["grantTypes"], json!(["client_credentials"]));

    // A server on the same database honours all of it.
    let server = op.serve().await;
    let api = Api::new(&server.base).with_tenant("acme");
    let owner = api.login("olivia@acme.example", &owner_password).await;
    assert_eq!(
        owner.get("/api/v1/tenants/current").await.ok()["id"],
        acme_id.as_str()
    );
    let bob_api = api.login("bob@acme.example", &bob_password).await;
    api.login("carol@acme.example", "Ch0sen!Passw0rd").await;
    // The first command made the administrator, as a first start would.
    let admin = Api::new(&server.base)
        .login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;

    // The operator's token provisions users who hold no more than
    // provisioning needs, and no one above that (README "No escalation").
    let scim = Scim::new(&api, &secret);
    let users = scim.get("/Users").await;
    assert_eq!(users.scim(200)["totalResults"], 3);
    let bob_id = text(&bob, "id");
    let r = scim
        .patch(
            &format!("/Users/{bob_id}"),
            replace("name.givenName", "Robert"),
        )
        .await;
    r.scim(200);
    let owner_id = text(&acme["owner"], "id");
    let r = scim
        .patch(
            &format!("/Users/{owner_id}"),
            replace("name.givenName", "Mallory"),
        )
        .await;
    r.scim_error(403, None);
    scim.create_user("dave@acme.example", json!({})).await;

    let machine = Machine {
        id: text(&client, "clientId").to_string(),
        secret: text(&client, "secret").to_string(),
        api: Api::new(&server.base),
    };
    let r = machine.request_token(&[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "services.iam");

    // Every change is audited as the operator's, in the tenant it touched;
    // what is done to tenants, in the platform administrators' tenant.
    let cli_actor = json!({ "type": "system", "id": null, "label": "cli" });
    let created = events(&owner, "user.created").await;
    let by_cli: Vec<&Value> = created.iter().filter(|e| e["actor"] == cli_actor).collect();
    assert_eq!(by_cli.len(), 3, "{created:?}");
    for action in [
        "scim.token_created",
        "client.created",
        "client.secret_created",
    ] {
        let events = events(&owner, action).await;
        assert_eq!(events.len(), 1, "{action}");
        assert_eq!(events[0]["actor"], cli_actor, "{action}");
    }
    let tenant_created = events(&admin, "tenant.created").await;
    let actors: Vec<&Value> = tenant_created
        .iter()
        .map(|e| &e["actor"]["label"])
        .collect();
    assert!(actors.contains(&&json!("cli")), "{tenant_created:?}");

    // Listing shows the token's use; revoking ends it.
    let listed = op.json(&["scim-tokens", "list", "--tenant", "acme"]).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0]["lastUsedAt"].is_string(), "{listed}");
    let token_id = text(&token, "id");
    let revoked = op
        .json(&["scim-tokens", "revoke", "--tenant", "acme", token_id])
        .await;
    assert_eq!(revoked, json!({ "id": token_id, "revoked": true }));
    scim.get("/Users").await.scim_error(401, None);
    assert_eq!(
        op.json(&["scim-tokens", "list", "--tenant", "acme"]).await,
        json!([])
    );

    // A new password ends the user's sessions.
    let reset = op
        .json(&[
            "users",
            "reset-password",
            "--tenant",
            "acme",
            "--email",
            "bob@acme.example",
        ])
        .await;
    bob_api.me().await.expect(401, "UNAUTHORIZED");
    let bob_api = api
        .login("bob@acme.example", text(&reset, "password"))
        .await;

    // A suspended tenant's users cannot sign in, and its tokens stop.
    let suspended = op
        .json(&[
            "tenants", "suspend", "--tenant", "acme", "--reason", "unpaid",
        ])
        .await;
    assert_eq!(suspended["status"], "suspended");
    api.try_login("bob@acme.example", text(&reset, "password"))
        .await
        .expect(403, "TENANT_SUSPENDED");
    bob_api.me().await.expect(403, "TENANT_SUSPENDED");
    op.json(&["tenants", "reactivate", "--tenant", "acme"])
        .await;
    assert_eq!(bob_api.me().await.status, 200);

    // The former `ithbat reset-password` still works, on `default`.
    let out = op
        .run(&["--json", "reset-password", "--email", ADMIN_EMAIL])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reset: Value = serde_json::from_str(&out.stdout).unwrap();
    Api::new(&server.base)
        .login(ADMIN_EMAIL, text(&reset, "password"))
        .await;
    server.stop().await;
}

/// Bad input names the flag, an unknown tenant is refused, a refusal of
/// the service (a taken slug, the platform's own tenant) exits 1; a usage
/// error exits 2. None of them writes anything.
async fn refusals_exit_non_zero_and_change_nothing(b: Backend) {
    let op = Operator::new(b).await;
    op.json(&["tenants", "create", "--name", "Acme", "--slug", "acme"])
        .await;
    let before = op.json(&["tenants", "list"]).await;

    let cases: [(&[&str], i32, &str); 7] = [
        (
            &["tenants", "create", "--name", "Again", "--slug", "acme"],
            1,
            "slug",
        ),
        (
            &["tenants", "create", "--name", "X", "--slug", "Bad Slug"],
            1,
            "--slug:",
        ),
        (
            &["tenants", "suspend", "--tenant", "default"],
            1,
            "platform administrators",
        ),
        (
            &["scim-tokens", "list", "--tenant", "nope"],
            1,
            "--tenant: names no tenant (nope)",
        ),
        (
            &[
                "users",
                "create",
                "--tenant",
                "acme",
                "--email",
                "not-an-email",
                "--first-name",
                "A",
                "--family-name",
                "B",
            ],
            1,
            "--email:",
        ),
        (
            &[
                "clients",
                "create",
                "--tenant",
                "acme",
                "--name",
                "X",
                "--scope",
                "everything",
            ],
            1,
            "--scope:",
        ),
        (&["tenants", "list", "--status", "bogus"], 2, "--status"),
    ];
    for (args, code, says) in cases {
        let out = op.run(args).await;
        assert_eq!(out.code, code, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    assert_eq!(op.json(&["tenants", "list"]).await, before);
    assert_eq!(
        op.json(&["scim-tokens", "list", "--tenant", "acme"]).await,
        json!([])
    );
}
