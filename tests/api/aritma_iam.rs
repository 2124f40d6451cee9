//! The Aritma IAM resources under /core/iam (docs/api/iam.md: the policy
//! model, actions, me, policies, roles, subjects, the user role
//! operations): policies really decide what users and clients may do.

use serde_json::{json, Value};

use crate::support::oauth::{Machine, IAM};
use crate::support::sso::azure_ad_body;
use crate::support::{pluck, shared, tenant, Api, Backend, Resp, TestTenant};

on_both_backends!(
    aritma_iam_operations_require_services_iam,
    aritma_actions_catalogue_and_registration,
    aritma_policies_create_list_delete,
    aritma_policies_refuse_bad_input_and_other_tenants,
    aritma_policies_decide_for_users_clients_and_groups,
    aritma_policy_writers_grant_only_what_they_hold,
    aritma_roles_and_user_role_operations,
    aritma_subject_lists,
    aritma_subject_groups_and_members,
    aritma_subject_permissions_and_memberships,
    aritma_me_claims_and_permissions,
);

const V1: &str = "/core/iam/v1";

fn path(p: &str) -> String {
    format!("{V1}{p}")
}

async fn grant(t: &TestTenant, subject: &str, action: &str, scope: &str) -> Resp {
    t.owner
        .post(
            &path("/policies"),
            json!({ "subject": subject, "scope": scope, "action": action }),
        )
        .await
}

async fn revoke(api: &Api, subject: &str, action: &str, scope: &str) -> Resp {
    let q =
        serde_urlencoded::to_string([("subject", subject), ("scope", scope), ("action", action)])
            .unwrap();
    api.delete(&path(&format!("/policies?{q}"))).await
}

async fn policies_of(t: &TestTenant, subject: &str) -> Value {
    let r = t
        .owner
        .get(&path(&format!("/policies?subject={subject}")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body.clone()
}

async fn new_group(t: &TestTenant, name: &str) -> String {
    let r = t
        .owner
        .post(
            &path("/subjects/groups"),
            json!({ "displayName": name, "description": "test group" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["subjectId"].as_str().unwrap().to_string()
}

#[track_caller]
fn problem(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(r.problem().is_some(), "not problem details: {}", r.text);
    assert_eq!(r.code(), code, "{}", r.text);
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

/// Every operation requires services.iam (docs/api/iam.md).
async fn aritma_iam_operations_require_services_iam(b: Backend) {
    let t = tenant(b).await;
    let unscoped = t
        .machine_with(&["client_credentials"], &["profile"])
        .await
        .bearer()
        .await;
    let id = uuid::Uuid::now_v7();
    let g = format!("group-{id}");
    use reqwest::Method as M;
    let routes = [
        (M::GET, path("/actions")),
        (M::POST, path("/actions")),
        (M::DELETE, path("/actions/banking")),
        (M::GET, path("/policies")),
        (M::POST, path("/policies")),
        (M::DELETE, path("/policies")),
        (M::GET, path("/roles")),
        (M::POST, path("/roles")),
        (M::GET, path(&format!("/roles/{id}"))),
        (M::PUT, path(&format!("/roles/{id}"))),
        (M::DELETE, path(&format!("/roles/{id}"))),
        (M::POST, path(&format!("/users/{id}/roles/{id}"))),
        (M::DELETE, path(&format!("/users/{id}/roles/{id}"))),
        (M::GET, path("/me")),
        (M::GET, path("/me/claims")),
        (M::GET, path("/me/permissions")),
        (M::GET, path("/subjects")),
        (M::GET, path(&format!("/subjects/{g}/memberships"))),
        (M::GET, path(&format!("/subjects/{g}/permissions"))),
        (M::GET, path("/subjects/clients")),
        (M::GET, path(&format!("/subjects/clients/{id}/permissions"))),
        (M::POST, path("/subjects/groups")),
        (M::DELETE, path(&format!("/subjects/groups/{g}"))),
        (M::GET, path(&format!("/subjects/groups/{g}/permissions"))),
        (M::GET, path(&format!("/subjects/groups/{g}/members"))),
        (M::POST, path(&format!("/subjects/groups/{g}/members"))),
        (
            M::DELETE,
            path(&format!("/subjects/groups/{g}/members/user-{id}")),
        ),
        (M::GET, path("/subjects/users")),
        (M::GET, path(&format!("/subjects/users/{id}/permissions"))),
        (M::GET, path("/subjects/groups")),
    ];
    for (method, p) in routes {
        let r = Api::send(unscoped.request(method.clone(), &p).json(&json!({}))).await;
        problem(&r, 403, "INSUFFICIENT_SCOPE");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer error=\"insufficient_scope\", scope=\"services.iam\""),
            "{method} {p}"
        );
    }
}

/// A policy's action must be one of the catalogue's (`GET /v1/actions`);
/// actions are dotted names in a hierarchy (docs/api/iam.md, Actions,
/// policies and groups). The IAM's own actions are built in; the
/// banking examples are a tenant's to register (docs/api/iam.md).
async fn aritma_actions_catalogue_and_registration(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let r = t.owner.get(&path("/actions")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let builtin = names(&r.body);
    for a in [
        "iam",
        "iam.policy",
        "iam.policy.read",
        "iam.policy.write",
        "iam.user.read",
        "iam.client.write",
        "iam.audit.read",
    ] {
        assert!(builtin.contains(&a.to_string()), "{a}: {builtin:?}");
    }
    assert!(!builtin.iter().any(|a| a.starts_with("banking")));
    assert!(!builtin.contains(&"iam.audit.write".to_string()));
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["builtin"] == true));

    // A member holds no iam.policy.read.
    let member = t.user("member").await;
    problem(&member.api.get(&path("/actions")).await, 403, "FORBIDDEN");
    let r = member
        .api
        .post(&path("/actions"), json!({ "name": "banking.pis.read" }))
        .await;
    problem(&r, 403, "FORBIDDEN");

    // Registering an action makes it and its parents grantable.
    let r = t
        .owner
        .post(
            &path("/actions"),
            json!({ "name": "banking.pis.read", "description": "Read payments" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({ "name": "banking.pis.read", "description": "Read payments", "builtin": false })
    );
    let all = t.owner.get(&path("/actions")).await.body;
    let listed = names(&all);
    for a in ["banking", "banking.pis", "banking.pis.read"] {
        assert!(listed.contains(&a.to_string()), "{a}");
    }
    problem(
        &t.owner
            .post(&path("/actions"), json!({ "name": "banking.pis.read" }))
            .await,
        409,
        "CONFLICT",
    );
    for bad in ["Banking", "banking..x", "iam.things", "iam", ""] {
        let r = t
            .owner
            .post(&path("/actions"), json!({ "name": bad }))
            .await;
        problem(&r, 400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), ["name"], "{bad}: {}", r.text);
    }
    let r = t.owner.post(&path("/actions"), json!({ "name": 7 })).await;
    problem(&r, 400, "VALIDATION_ERROR");
    assert_eq!(t.owner.get(&path("/actions")).await.body, all);

    // Another tenant's catalogue does not have it.
    let other = app.new_tenant().await;
    let theirs = names(&other.owner.get(&path("/actions")).await.body);
    assert!(!theirs.iter().any(|a| a.starts_with("banking")));
    problem(
        &other.owner.delete(&path("/actions/banking.pis.read")).await,
        404,
        "RESOURCE_NOT_FOUND",
    );

    // A registered action in use cannot go; unused, it can.
    let subject = format!("user-{}", member.id);
    let r = grant(&t, &subject, "banking", "/subscriptions/1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    problem(
        &t.owner.delete(&path("/actions/banking.pis.read")).await,
        409,
        "CONFLICT",
    );
    assert_eq!(
        revoke(&t.owner, &subject, "banking", "/subscriptions/1")
            .await
            .status,
        200
    );
    let r = t.owner.delete(&path("/actions/banking.pis.read")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    problem(
        &t.owner.delete(&path("/actions/banking.pis.read")).await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    let listed = names(&t.owner.get(&path("/actions")).await.body);
    assert!(!listed.iter().any(|a| a.starts_with("banking")));
    problem(
        &grant(&t, &subject, "banking", "/").await,
        400,
        "VALIDATION_ERROR",
    );
}

/// Creating a policy answers 200 `{"subject","scope","action","tenant"}`;
/// the list shows it and delete (the same triple) removes it.
async fn aritma_policies_create_list_delete(b: Backend) {
    let t = tenant(b).await;
    let member = t.user("member").await;
    let subject = format!("user-{}", member.id);
    let r = grant(&t, &subject, "iam.policy.read", "/subscriptions/123").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let expected = json!({
        "subject": subject, "scope": "/subscriptions/123", "action": "iam.policy.read", "tenant": t.id,
    });
    assert_eq!(r.body, expected);
    // Idempotent: the same answer, still one policy.
    let again = grant(&t, &subject, "iam.policy.read", "/subscriptions/123").await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body, expected);
    assert_eq!(
        grant(&t, &subject, "iam.client.read", "/").await.status,
        200
    );

    let list = policies_of(&t, &subject).await;
    assert_eq!(list["total"], 2);
    assert_eq!(list["count"], 2);
    assert_eq!(list["page"], 1);
    assert_eq!(list["totalPages"], 1);
    let items = list["data"].as_array().unwrap();
    assert_eq!(items[0]["action"], "iam.client.read");
    assert_eq!(items[1]["scope"], "/subscriptions/123");
    assert_eq!(items[1]["tenant"], t.id);
    let r = t.owner.get(&path("/policies?action=iam.client.read")).await;
    assert_eq!(r.body["total"], 1, "{}", r.text);
    let r = t
        .owner
        .get(&path("/policies?scope=/subscriptions/123"))
        .await;
    assert_eq!(r.body["total"], 1, "{}", r.text);
    let r = t.owner.get(&path("/policies?subject=nobody")).await;
    problem(&r, 400, "VALIDATION_ERROR");
    assert_eq!(r.fields(), ["subject"]);

    // Delete the triple.
    let r = revoke(&t.owner, &subject, "iam.policy.read", "/subscriptions/123").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");
    problem(
        &revoke(&t.owner, &subject, "iam.policy.read", "/subscriptions/123").await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    let r = t.owner.delete(&path("/policies?subject=x")).await;
    problem(&r, 400, "VALIDATION_ERROR");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, ["action", "scope"]);
    assert_eq!(policies_of(&t, &subject).await["total"], 1);
    // Every change is audited once (the idempotent repeat is not a change).
    for (action, n) in [("policy.created", 2), ("policy.deleted", 1)] {
        let audit = t.audit(&format!("action={action}")).await;
        assert_eq!(audit.ok()["total"], n, "{action}: {}", audit.text);
        assert_eq!(
            audit.ok()["events"][0]["target"],
            json!({ "type": "subject", "id": subject }),
            "{}",
            audit.text
        );
    }

    // Members read no policies and write none.
    problem(&member.api.get(&path("/policies")).await, 403, "FORBIDDEN");
    problem(
        &revoke(&member.api, &subject, "iam.client.read", "/").await,
        403,
        "FORBIDDEN",
    );
    assert_eq!(policies_of(&t, &subject).await["total"], 1);
}

/// Bad input changes nothing; another tenant's subjects are 404.
async fn aritma_policies_refuse_bad_input_and_other_tenants(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let member = t.user("member").await;
    let subject = format!("user-{}", member.id);
    let cases = [
        (json!({ "scope": "/", "action": "iam" }), vec!["subject"]),
        (
            json!({ "subject": "bob", "scope": "/", "action": "iam" }),
            vec!["subject"],
        ),
        (
            json!({ "subject": subject, "scope": "subscriptions/1", "action": "iam" }),
            vec!["scope"],
        ),
        (
            json!({ "subject": subject, "scope": "/a//b", "action": "iam" }),
            vec!["scope"],
        ),
        (
            json!({ "subject": subject, "scope": "/", "action": "banking.read" }),
            vec!["action"],
        ),
        (
            json!({ "subject": "x-1", "scope": "", "action": "Not An Action" }),
            vec!["action", "scope", "subject"],
        ),
        (
            json!({ "subject": subject, "scope": "/", "action": "iam", "extra": 1 }),
            vec!["extra"],
        ),
        (
            json!({ "subject": subject, "scope": 5, "action": "iam" }),
            vec!["scope"],
        ),
    ];
    for (body, expected) in cases {
        let r = t.owner.post(&path("/policies"), body.clone()).await;
        problem(&r, 400, "VALIDATION_ERROR");
        let mut fields = r.fields();
        fields.sort();
        assert_eq!(fields, expected, "{body}: {}", r.text);
    }
    let r = t
        .owner
        .post_raw(&path("/policies"), "application/json", "{not json")
        .await;
    problem(&r, 400, "VALIDATION_ERROR");

    // Subjects that are not this tenant's: 404, whatever the kind.
    let other = app.new_tenant().await;
    let stranger = other.user("stranger").await;
    let their_client = other.new_client(&["client_credentials"], &[IAM]).await;
    let their_group = new_group(&other, "Theirs").await;
    for s in [
        format!("user-{}", stranger.id),
        format!("client-{their_client}"),
        their_group.clone(),
        format!("user-{}", uuid::Uuid::now_v7()),
    ] {
        problem(&grant(&t, &s, "iam", "/").await, 404, "RESOURCE_NOT_FOUND");
    }
    // Their policies are not listed here, nor deletable from here.
    assert_eq!(
        grant(&other, &their_group, "iam.user.read", "/")
            .await
            .status,
        200
    );
    let r = t
        .owner
        .get(&path(&format!("/policies?subject={their_group}")))
        .await;
    assert_eq!(r.body["total"], 0, "{}", r.text);
    problem(
        &revoke(&t.owner, &their_group, "iam.user.read", "/").await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    assert_eq!(policies_of(&other, &their_group).await["total"], 1);
    // Nothing was written here.
    assert_eq!(t.owner.get(&path("/policies")).await.body["total"], 0);
}

/// The policy model (docs/api/iam.md): a policy grants one action to one
/// subject on one scope, inherited by subscopes; parents grant children;
/// a group's members hold its policies at once. Every operation asks.
async fn aritma_policies_decide_for_users_clients_and_groups(b: Backend) {
    let t = tenant(b).await;
    let member = t.user("member").await;
    let me = format!("user-{}", member.id);
    problem(&member.api.get(&path("/clients")).await, 403, "FORBIDDEN");
    // A narrower scope does not cover the whole tenant.
    assert_eq!(
        grant(&t, &me, "iam.client.read", "/subscriptions/1")
            .await
            .status,
        200
    );
    problem(&member.api.get(&path("/clients")).await, 403, "FORBIDDEN");
    assert_eq!(grant(&t, &me, "iam.client.read", "/").await.status, 200);
    assert_eq!(member.api.get(&path("/clients")).await.status, 200);
    // Writing needs write: iam.client covers both.
    let body = json!({
        "name": "By a member", "description": "", "allowedGrantTypes": ["client_credentials"],
        "redirectUris": [], "allowedScopes": [IAM],
    });
    problem(
        &member.api.post(&path("/clients"), body.clone()).await,
        403,
        "FORBIDDEN",
    );
    assert_eq!(grant(&t, &me, "iam.client", "/").await.status, 200);
    let r = member.api.post(&path("/clients"), body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The same permission in the native API: one model.
    problem(
        &member.api.get(&path("/subjects/users")).await,
        403,
        "FORBIDDEN",
    );
    assert_eq!(member.api.get("/api/v1/users").await.status, 403);
    assert_eq!(grant(&t, &me, "iam.user.read", "/").await.status, 200);
    assert_eq!(member.api.get("/api/v1/users").await.status, 200);
    let native = t
        .owner
        .get(&format!("/api/v1/users/{}/permissions", member.id))
        .await;
    assert_eq!(
        native.ok()["permissions"],
        json!(["client:read", "client:write", "user:read"])
    );
    assert_eq!(member.api.get(&path("/subjects/users")).await.status, 200);
    // Taking a policy away applies to the next request.
    assert_eq!(revoke(&t.owner, &me, "iam.client", "/").await.status, 200);
    assert_eq!(
        revoke(&t.owner, &me, "iam.client.read", "/").await.status,
        200
    );
    problem(&member.api.get(&path("/clients")).await, 403, "FORBIDDEN");

    // Clients: nothing until a policy, directly or through a group.
    let machine: Machine = t.machine().await;
    let bot = machine.bearer().await;
    let bot_id = format!("client-{}", machine.id);
    let scim = json!({ "provider": "azure-ad", "providerDisplayName": "Entra" });
    // A SCIM token belongs to one of the tenant's SSO providers.
    t.create_provider("azuread", azure_ad_body("Entra")).await;
    problem(&bot.get(&path("/clients")).await, 403, "FORBIDDEN");
    assert_eq!(grant(&t, &bot_id, "iam.client.read", "/").await.status, 200);
    assert_eq!(bot.get(&path("/clients")).await.status, 200);
    problem(
        &bot.post(&path("/scim"), scim.clone()).await,
        403,
        "FORBIDDEN",
    );
    problem(
        &member.api.post(&path("/scim"), scim.clone()).await,
        403,
        "FORBIDDEN",
    );
    let group = new_group(&t, "Provisioners").await;
    assert_eq!(grant(&t, &group, "iam.scim.write", "/").await.status, 200);
    let r = t
        .owner
        .post(
            &path(&format!("/subjects/groups/{group}/members")),
            json!({ "subjectIds": [bot_id, me] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Members hold the group's policies at once.
    assert_eq!(bot.post(&path("/scim"), scim.clone()).await.status, 200);
    assert_eq!(
        member.api.post(&path("/scim"), scim.clone()).await.status,
        200
    );
    // Out of the group, they no longer do.
    let r = t
        .owner
        .delete(&path(&format!("/subjects/groups/{group}/members/{bot_id}")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    problem(
        &bot.post(&path("/scim"), scim.clone()).await,
        403,
        "FORBIDDEN",
    );
    assert_eq!(
        member.api.post(&path("/scim"), scim.clone()).await.status,
        200
    );
    // Deleting the group takes its policies with it.
    assert_eq!(
        t.owner
            .delete(&path(&format!("/subjects/groups/{group}")))
            .await
            .status,
        200
    );
    problem(
        &member.api.post(&path("/scim"), scim.clone()).await,
        403,
        "FORBIDDEN",
    );
    assert_eq!(policies_of(&t, &group).await["total"], 0);
}

/// No one grants what they do not hold (docs/api/iam.md): writing a
/// policy on R needs iam.policy.write on R and the action on R.
async fn aritma_policy_writers_grant_only_what_they_hold(b: Backend) {
    let t = tenant(b).await;
    let admin = t.user("delegate").await;
    let other = t.user("other").await;
    let (me, them) = (format!("user-{}", admin.id), format!("user-{}", other.id));
    t.owner
        .post(&path("/actions"), json!({ "name": "banking.pis.read" }))
        .await;
    assert_eq!(
        grant(&t, &me, "iam.policy.write", "/subscriptions/1")
            .await
            .status,
        200
    );
    assert_eq!(
        grant(&t, &me, "banking", "/subscriptions/1").await.status,
        200
    );
    let policies = path("/policies");
    let as_delegate = |subject: &str, action: &str, scope: &str| {
        admin.api.post(
            &policies,
            json!({ "subject": subject, "action": action, "scope": scope }),
        )
    };
    // Beneath the delegated scope, what the delegate holds: allowed.
    let r = as_delegate(&them, "banking.pis.read", "/subscriptions/1/accounts/9").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Elsewhere, or what the delegate lacks: refused, and nothing written.
    for (action, scope) in [
        ("banking.pis.read", "/subscriptions/2"),
        ("banking.pis.read", "/"),
        ("iam.user.read", "/subscriptions/1"),
    ] {
        problem(&as_delegate(&them, action, scope).await, 403, "FORBIDDEN");
    }
    assert_eq!(policies_of(&t, &them).await["total"], 1);
    // Deleting is scoped the same way.
    problem(
        &revoke(&admin.api, &me, "banking", "/").await,
        403,
        "FORBIDDEN",
    );
    // Reading is scoped too: a delegate reads within what it may read.
    problem(&admin.api.get(&policies).await, 403, "FORBIDDEN");
    let within = format!("{policies}?within=/subscriptions/1");
    problem(&admin.api.get(&within).await, 403, "FORBIDDEN");
    assert_eq!(
        grant(&t, &me, "iam.policy.read", "/subscriptions/1")
            .await
            .status,
        200
    );
    // Beneath /subscriptions/1, not /subscriptions/10: the delegate's own
    // three and the one it granted.
    assert_eq!(
        grant(&t, &them, "banking", "/subscriptions/10")
            .await
            .status,
        200
    );
    let r = admin.api.get(&within).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let scopes: Vec<&str> = pluck(&r.body["data"], "/scope");
    assert_eq!(r.body["total"], 4, "{}", r.text);
    assert!(scopes
        .iter()
        .all(|s| *s == "/subscriptions/1" || s.starts_with("/subscriptions/1/")));
    problem(
        &admin
            .api
            .get(&format!("{policies}?within=/subscriptions"))
            .await,
        403,
        "FORBIDDEN",
    );
    let r = revoke(
        &admin.api,
        &them,
        "banking.pis.read",
        "/subscriptions/1/accounts/9",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Aritma roles: RoleDto {id, name}, the same rows as /api/v1/roles; a
/// user's roles are added and removed under /v1/users/{userId}/roles; tenant
/// roles travel as claims.
async fn aritma_roles_and_user_role_operations(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let r = t.owner.get(&path("/roles")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.body["data"].as_array().unwrap().clone();
    let owner = data.iter().find(|r| r["name"] == "owner").unwrap();
    assert_eq!(owner["id"], t.role_id("owner").await.as_str());
    assert_eq!(owner["actions"], json!(["*"]));
    let admin = data.iter().find(|r| r["name"] == "admin").unwrap();
    assert!(admin["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("iam.user.write")));
    assert!(!admin["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("iam.tenant.write")));
    assert_eq!(r.body["total"], 3);

    let r = t
        .owner
        .post(
            &path("/roles"),
            json!({ "name": "Client keeper", "actions": ["iam.client", "iam.policy.read"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let role_id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.body["actions"],
        json!(["iam.client.read", "iam.client.write", "iam.policy.read"])
    );
    let native = t.owner.get(&format!("/api/v1/roles/{role_id}")).await;
    assert_eq!(
        native.ok()["permissions"],
        json!(["client:read", "client:write", "policy:read"])
    );
    assert_eq!(
        t.owner.get(&path(&format!("/roles/{role_id}"))).await.body["name"],
        "Client keeper"
    );
    for body in [
        json!({ "name": "Bankers", "actions": ["banking"] }),
        json!({ "name": "Bad", "actions": ["iam.nothing"] }),
        json!({ "name": "", "actions": [] }),
        json!({ "name": "No actions" }),
    ] {
        let r = t.owner.post(&path("/roles"), body.clone()).await;
        problem(&r, 400, "VALIDATION_ERROR");
    }
    assert_eq!(t.owner.get(&path("/roles")).await.body["total"], 4);

    // Assigning the role grants its actions on the next request.
    let member = t.user("member").await;
    problem(&member.api.get(&path("/clients")).await, 403, "FORBIDDEN");
    let assign = path(&format!("/users/{}/roles/{role_id}", member.id));
    let r = t.owner.post(&assign, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(t.owner.post(&assign, json!({})).await.status, 200);
    assert_eq!(member.api.get(&path("/clients")).await.status, 200);
    let me = member.api.get(&path("/me")).await;
    let roles: Vec<&str> = pluck(&me.body["roles"], "/name");
    assert!(roles.contains(&"Client keeper"), "{}", me.text);
    // The role is a claim in the user's next tokens (docs/security.md, Tokens).
    let fresh = member
        .api
        .anonymous()
        .login(&member.email, crate::support::PASSWORD)
        .await;
    let claims = jwt_claims(fresh.token.as_deref().unwrap());
    assert!(claims["roles"]
        .as_array()
        .unwrap()
        .contains(&json!("Client keeper")));

    let r = t.owner.delete(&assign).await;
    assert_eq!(r.status, 200, "{}", r.text);
    problem(&t.owner.delete(&assign).await, 404, "RESOURCE_NOT_FOUND");
    problem(&member.api.get(&path("/clients")).await, 403, "FORBIDDEN");
    // Unknown and other tenants' ids are 404.
    let other = app.new_tenant().await;
    let stranger = other.user("stranger").await;
    let their_role = other.role_id("admin").await;
    for p in [
        format!("/users/{}/roles/{role_id}", stranger.id),
        format!("/users/{}/roles/{their_role}", member.id),
        format!("/users/{}/roles/not-a-role", member.id),
    ] {
        problem(
            &t.owner.post(&path(&p), json!({})).await,
            404,
            "RESOURCE_NOT_FOUND",
        );
    }
    problem(
        &t.owner.get(&path(&format!("/roles/{their_role}"))).await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    // Members may not hand out roles.
    problem(&member.api.post(&assign, json!({})).await, 403, "FORBIDDEN");
    // Update: any field; bad actions change nothing.
    let role_path = path(&format!("/roles/{role_id}"));
    let r = t
        .owner
        .put(
            &role_path,
            json!({ "name": "Client reader", "actions": ["iam.client.read"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Client reader");
    assert_eq!(r.body["actions"], json!(["iam.client.read"]));
    let r = t
        .owner
        .put(&role_path, json!({ "name": "X", "actions": ["banking"] }))
        .await;
    problem(&r, 400, "VALIDATION_ERROR");
    assert_eq!(r.fields(), ["actions"]);
    assert_eq!(t.owner.get(&role_path).await.body["name"], "Client reader");
    let owner_path = path(&format!("/roles/{}", t.role_id("owner").await));
    problem(
        &t.owner.put(&owner_path, json!({ "name": "boss" })).await,
        409,
        "CONFLICT",
    );
    let r = t.owner.delete(&path(&format!("/roles/{role_id}"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    problem(
        &t.owner.get(&path(&format!("/roles/{role_id}"))).await,
        404,
        "RESOURCE_NOT_FOUND",
    );
}

fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Subject lists in their envelope (docs/api/iam.md):
/// `{page,pageSize,count,total,totalPages,data}`, `searchQuery`, page
/// size clamped to 10..200.
async fn aritma_subject_lists(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let client = t.new_client(&["client_credentials"], &[IAM]).await;
    t.new_client(&["client_credentials"], &[IAM]).await;
    for i in 0..6 {
        new_group(&t, &format!("Team {i}")).await;
    }
    // 3 users (the owner too), 2 clients, 6 groups.
    let r = t
        .owner
        .get(&path("/subjects/users?searchQuery=ALICE"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["page", "pageSize", "count", "total", "totalPages", "data"]
    );
    assert_eq!(r.body["total"], 1);
    let a = &r.body["data"][0];
    assert_eq!(a["subjectId"], format!("user-{}", alice.id));
    assert_eq!(a["id"], alice.id.as_str());
    assert_eq!(a["type"], "User");
    assert_eq!(a["tenant"], t.id.as_str());
    assert_eq!(a["displayName"], "alice Tester");
    assert_eq!(a["properties"]["email"], alice.email.as_str());
    assert_eq!(a["properties"]["username"], alice.email.as_str());
    assert_eq!(t.owner.get(&path("/subjects/users")).await.body["total"], 3);

    let r = t.owner.get(&path("/subjects/clients")).await;
    assert_eq!(r.body["total"], 2, "{}", r.text);
    assert_eq!(r.body["data"][0]["subjectId"], format!("client-{client}"));
    assert_eq!(r.body["data"][0]["type"], "Client");
    let r = t
        .owner
        .get(&path("/subjects/groups?searchQuery=team 3"))
        .await;
    assert_eq!(r.body["total"], 1, "{}", r.text);
    assert_eq!(r.body["data"][0]["displayName"], "Team 3");
    assert_eq!(r.body["data"][0]["type"], "Group");

    // All kinds, paged across them: users, clients, then groups.
    let r = t.owner.get(&path("/subjects?pageSize=1&page=2")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // pageSize is clamped to 10..200.
    assert_eq!(r.body["pageSize"], 10);
    assert_eq!(r.body["total"], 11);
    assert_eq!(r.body["totalPages"], 2);
    assert_eq!(r.body["count"], 1);
    assert_eq!(r.body["data"][0]["displayName"], "Team 5");
    let first = t.owner.get(&path("/subjects?pageSize=500")).await;
    assert_eq!(first.body["pageSize"], 200);
    let types: Vec<&str> = pluck(&first.body["data"], "/type");
    assert_eq!(
        types,
        [
            "User", "User", "User", "Client", "Client", "Group", "Group", "Group", "Group",
            "Group", "Group"
        ]
    );

    for q in ["page=0", "page=x", "pageSize=ten"] {
        let r = t.owner.get(&path(&format!("/subjects?{q}"))).await;
        problem(&r, 400, "VALIDATION_ERROR");
    }
    // Another tenant sees none of these; a member may list none.
    let other = app.new_tenant().await;
    assert_eq!(other.owner.get(&path("/subjects")).await.body["total"], 1);
    let member = t.user("member").await;
    for p in [
        "/subjects",
        "/subjects/users",
        "/subjects/clients",
        "/subjects/groups",
    ] {
        problem(&member.api.get(&path(p)).await, 403, "FORBIDDEN");
    }
}

/// Subject groups are groups; members are users and clients, several added at
/// once.
async fn aritma_subject_groups_and_members(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let r = t
        .owner
        .post(
            &path("/subjects/groups"),
            json!({ "displayName": "Finance Team", "description": "Money" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let group = format!("group-{id}");
    assert_eq!(
        r.body,
        json!({ "id": id, "displayName": "Finance Team", "subjectId": group, "type": "Group" })
    );
    // The same group in the native API.
    let native = t.owner.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(native.ok()["name"], "Finance Team");
    let r = t
        .owner
        .post(
            &path("/subjects/groups"),
            json!({ "displayName": "Finance Team" }),
        )
        .await;
    problem(&r, 409, "CONFLICT");
    let r = t
        .owner
        .post(&path("/subjects/groups"), json!({ "description": "x" }))
        .await;
    problem(&r, 400, "VALIDATION_ERROR");
    assert_eq!(r.fields(), ["displayName"]);
    let r = t
        .owner
        .post(&path("/subjects/groups"), json!({ "displayName": "  " }))
        .await;
    assert_eq!(r.fields(), ["displayName"], "{}", r.text);

    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let client = t.new_client(&["client_credentials"], &[IAM]).await;
    let members = path(&format!("/subjects/groups/{group}/members"));
    let (a, b_, c) = (
        format!("user-{}", alice.id),
        format!("user-{}", bob.id),
        format!("client-{client}"),
    );
    let r = t
        .owner
        .post(&members, json!({ "subjectIds": [a, c] }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The bare id works as well as the subjectId.
    let r = t
        .owner
        .get(&path(&format!("/subjects/groups/{id}/members")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 2);
    let ids: Vec<&str> = pluck(&r.body["data"], "/subjectId");
    assert_eq!(ids, [a.as_str(), c.as_str()]);
    // SCIM and /api/v1 see the user member.
    let native = t.owner.get(&format!("/api/v1/groups/{id}/members")).await;
    assert_eq!(native.status, 200, "{}", native.text);
    assert!(native.text.contains(&alice.id));

    // All or nothing: one bad id, and bob is not added either.
    let other = app.new_tenant().await;
    let stranger = other.user("stranger").await;
    for (ids, status) in [
        (json!([b_, format!("user-{}", stranger.id)]), 404),
        (json!([b_, format!("client-{}", uuid::Uuid::now_v7())]), 404),
        (json!([b_, group]), 400),
        (json!([b_, "robot"]), 400),
        (json!([]), 400),
    ] {
        let r = t.owner.post(&members, json!({ "subjectIds": ids })).await;
        assert_eq!(r.status, status, "{ids}: {}", r.text);
        assert!(r.problem().is_some());
    }
    let r = t.owner.post(&members, json!({ "subjectId": b_ })).await;
    problem(&r, 400, "VALIDATION_ERROR");
    assert_eq!(t.owner.get(&members).await.body["total"], 2);
    // Adding a member again changes nothing.
    assert_eq!(
        t.owner
            .post(&members, json!({ "subjectIds": [a] }))
            .await
            .status,
        200
    );
    assert_eq!(t.owner.get(&members).await.body["total"], 2);

    // Remove.
    let r = t.owner.delete(&format!("{members}/{c}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    problem(
        &t.owner.delete(&format!("{members}/{c}")).await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    problem(
        &t.owner.delete(&format!("{members}/{b_}")).await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    assert_eq!(t.owner.get(&members).await.body["total"], 1);

    // Members may not manage groups; another tenant sees none of this.
    problem(
        &alice
            .api
            .post(&members, json!({ "subjectIds": [b_] }))
            .await,
        403,
        "FORBIDDEN",
    );
    let theirs = &other.owner;
    problem(&theirs.get(&members).await, 404, "RESOURCE_NOT_FOUND");
    problem(
        &theirs
            .post(
                &members,
                json!({ "subjectIds": [format!("user-{}", stranger.id)] }),
            )
            .await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    problem(
        &theirs.delete(&format!("{members}/{a}")).await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    problem(
        &theirs
            .delete(&path(&format!("/subjects/groups/{group}")))
            .await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    assert_eq!(t.owner.get(&members).await.body["total"], 1);

    // Delete the group.
    let r = t
        .owner
        .delete(&path(&format!("/subjects/groups/{group}")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    problem(&t.owner.get(&members).await, 404, "RESOURCE_NOT_FOUND");
    problem(
        &t.owner
            .delete(&path(&format!("/subjects/groups/{group}")))
            .await,
        404,
        "RESOURCE_NOT_FOUND",
    );
}

/// A subject's groups, and its permissions (through its policies, its groups'
/// and its roles).
async fn aritma_subject_permissions_and_memberships(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let alice = t.user("alice").await;
    let a = format!("user-{}", alice.id);
    let machine = t.new_client(&["client_credentials"], &[IAM]).await;
    let c = format!("client-{machine}");
    let g = new_group(&t, "Readers").await;
    let g_id = g.trim_start_matches("group-").to_string();
    t.owner
        .post(
            &path(&format!("/subjects/groups/{g}/members")),
            json!({ "subjectIds": [a, c] }),
        )
        .await;
    assert_eq!(grant(&t, &g, "iam.user.read", "/").await.status, 200);
    assert_eq!(
        grant(&t, &a, "iam.client.read", "/subscriptions/7")
            .await
            .status,
        200
    );

    let r = t
        .owner
        .get(&path(&format!("/subjects/{a}/memberships")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["data"][0]["subjectId"], g);
    let r = t
        .owner
        .get(&path(&format!("/subjects/{c}/memberships")))
        .await;
    assert_eq!(r.body["data"][0]["displayName"], "Readers", "{}", r.text);

    let expected_alice = json!([
        { "action": "iam.client.read", "scope": "/subscriptions/7", "tenant": t.id, "source": "policy", "via": null },
        { "action": "iam.user.read", "scope": "/", "tenant": t.id, "source": "group", "via": g },
    ]);
    for p in [
        format!("/subjects/{a}/permissions"),
        format!("/subjects/users/{}/permissions", alice.id),
        format!("/subjects/users/{a}/permissions"),
    ] {
        let r = t.owner.get(&path(&p)).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text);
        // The member role bundles nothing.
        assert_eq!(r.body, expected_alice, "{p}");
    }
    let r = t
        .owner
        .get(&path(&format!("/subjects/clients/{machine}/permissions")))
        .await;
    assert_eq!(
        r.body,
        json!([{ "action": "iam.user.read", "scope": "/", "tenant": t.id, "source": "group", "via": g }]),
        "{}",
        r.text
    );
    let r = t
        .owner
        .get(&path(&format!("/subjects/groups/{g_id}/permissions")))
        .await;
    assert_eq!(
        r.body,
        json!([{ "action": "iam.user.read", "scope": "/", "tenant": t.id, "source": "policy", "via": null }]),
        "{}",
        r.text
    );
    // The owner's role holds everything.
    let r = t
        .owner
        .get(&path(&format!("/subjects/user-{}/permissions", t.owner_id)))
        .await;
    assert_eq!(
        r.body,
        json!([{ "action": "*", "scope": "/", "tenant": t.id, "source": "role", "via": "owner" }])
    );

    // Unknown subjects, other tenants', malformed ids, kinds that do not
    // match the path: 404.
    let other = app.new_tenant().await;
    let stranger = other.user("stranger").await;
    for p in [
        format!("/subjects/user-{}/permissions", stranger.id),
        format!("/subjects/user-{}/memberships", stranger.id),
        format!("/subjects/users/{}/permissions", stranger.id),
        format!("/subjects/clients/{}/permissions", uuid::Uuid::now_v7()),
        format!("/subjects/groups/{}/permissions", alice.id),
        format!("/subjects/users/{g}/permissions"),
        "/subjects/nobody/permissions".to_string(),
    ] {
        problem(&t.owner.get(&path(&p)).await, 404, "RESOURCE_NOT_FOUND");
    }
    // Reading permissions needs iam.policy.read.
    problem(
        &alice
            .api
            .get(&path(&format!("/subjects/{a}/permissions")))
            .await,
        403,
        "FORBIDDEN",
    );
}

/// `/v1/me`: UserDto with roles as RoleDto, and the
/// caller's claims; plus the caller's resolved permissions.
async fn aritma_me_claims_and_permissions(b: Backend) {
    let t = tenant(b).await;
    let r = t.owner.get(&path("/me")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], t.owner_id.as_str());
    assert_eq!(r.body["userName"], t.owner_email.as_str());
    assert_eq!(r.body["email"], t.owner_email.as_str());
    assert_eq!(r.body["twoFactorEnabled"], false);
    assert_eq!(
        r.body["roles"],
        json!([{ "id": t.role_id("owner").await, "name": "owner" }])
    );
    assert_eq!(
        r.body["permissions"],
        json!([{ "action": "*", "scope": "/", "tenant": t.id, "source": "role", "via": "owner" }])
    );

    let member = t.user("member").await;
    let m = format!("user-{}", member.id);
    grant(&t, &m, "iam.group.read", "/teams/blue").await;
    let r = member.api.get(&path("/me")).await;
    assert_eq!(r.body["subjectId"], m, "{}", r.text);
    assert_eq!(r.body["roles"][0]["name"], "member");
    let expected = json!([
        { "action": "iam.group.read", "scope": "/teams/blue", "tenant": t.id, "source": "policy", "via": null },
    ]);
    assert_eq!(r.body["permissions"], expected);
    let r = member.api.get(&path("/me/permissions")).await;
    assert_eq!(r.body, expected, "{}", r.text);

    let r = member.api.get(&path("/me/claims")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let claims = r.body.as_array().unwrap();
    let find = |kind: &str| -> Vec<&Value> {
        claims
            .iter()
            .filter(|c| c["claimType"] == kind)
            .map(|c| &c["claimValue"])
            .collect()
    };
    assert_eq!(find("sub"), [&json!(member.id)]);
    assert_eq!(find("email"), [&json!(member.email)]);
    assert_eq!(find("role"), [&json!("member")]);
    assert_eq!(find("tenant_id"), [&json!(t.id)]);
    for (i, c) in claims.iter().enumerate() {
        assert_eq!(c["claimId"], i + 1);
        assert_eq!(c["userId"], member.id.as_str());
    }
    // The claims agree with the access token's.
    let token = jwt_claims(member.api.token.as_deref().unwrap());
    assert_eq!(token["roles"], json!(["member"]));
    assert_eq!(token["sub"], member.id.as_str());

    // A client acting as itself: its subject and permissions.
    let machine = t.machine().await;
    let c = format!("client-{}", machine.id);
    grant(&t, &c, "iam.policy.read", "/").await;
    let bot = machine.bearer().await;
    let r = bot.get(&path("/me")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["subjectId"], c);
    assert_eq!(r.body["type"], "Client");
    assert_eq!(r.body["roles"], json!([]));
    assert_eq!(r.body["permissions"][0]["action"], "iam.policy.read");
    let r = bot.get(&path("/me/claims")).await;
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["claimType"] == "client_id" && c["claimValue"] == machine.id.as_str()));
}
