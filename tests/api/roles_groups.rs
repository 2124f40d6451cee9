//! Roles and permissions (POST/DELETE /users/{id}/roles, GET
//! /users/{id}/permissions, /roles) and groups (docs/api/ithbat.md).

use serde_json::{json, Value};

use crate::support::{pluck, shared, tenant, Backend};

on_both_backends!(
    builtin_roles_and_the_permission_catalogue,
    custom_roles_are_created_changed_and_deleted,
    roles_reject_bad_input,
    assigned_roles_resolve_into_permissions_on_the_next_request,
    no_one_grants_what_they_do_not_hold,
    groups_and_their_members,
    groups_reject_bad_input_and_other_tenants,
);

/// Built-in roles owner (everything), admin (everything but tenant
/// changes), member (self-service); they cannot be deleted or renamed.
async fn builtin_roles_and_the_permission_catalogue(b: Backend) {
    let t = tenant(b).await;
    let r = t.owner.get("/api/v1/roles?sortBy=name").await;
    let roles = r.ok()["roles"].as_array().unwrap().clone();
    let names: Vec<&str> = roles.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "member", "owner"]);
    let by = |n: &str| roles.iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(by("owner")["isSystem"], true);
    assert_eq!(by("owner")["userCount"], 1);
    assert_eq!(by("member")["permissions"], json!([]));
    let admin_perms = by("admin")["permissions"].as_array().unwrap().clone();
    assert!(
        admin_perms.contains(&json!("user:write")) && !admin_perms.contains(&json!("tenant:write"))
    );
    assert!(by("owner")["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("tenant:write")));

    let catalogue = t.owner.get("/api/v1/roles/permissions").await;
    let names: Vec<&str> = pluck(&catalogue.ok()["permissions"], "/name");
    for p in [
        "user:read",
        "user:write",
        "role:read",
        "role:write",
        "group:read",
        "group:write",
        "audit:read",
        "settings:read",
        "settings:write",
    ] {
        assert!(names.contains(&p), "{p} missing from {names:?}");
    }
    assert_eq!(catalogue.ok()["total"], names.len());

    let owner = by("owner")["id"].as_str().unwrap().to_string();
    let member = by("member")["id"].as_str().unwrap().to_string();
    t.owner
        .delete(&format!("/api/v1/roles/{owner}"))
        .await
        .expect(409, "CONFLICT");
    t.owner
        .delete(&format!("/api/v1/roles/{member}"))
        .await
        .expect(409, "CONFLICT");
    let r = t
        .owner
        .put(
            &format!("/api/v1/roles/{member}"),
            json!({ "name": "staff" }),
        )
        .await;
    r.expect(409, "CONFLICT");
    t.owner
        .put(
            &format!("/api/v1/roles/{owner}"),
            json!({ "permissions": ["user:read"] }),
        )
        .await
        .expect(409, "CONFLICT");
    // Built-in roles' descriptions and (but for owner) permissions may change.
    let r = t
        .owner
        .put(
            &format!("/api/v1/roles/{member}"),
            json!({ "description": "Everyone", "permissions": ["group:read"] }),
        )
        .await;
    assert_eq!(r.ok()["permissions"], json!(["group:read"]));
    assert_eq!(r.ok()["name"], "member");
}

/// Roles: POST (201, name unique in the tenant), GET, PUT, DELETE.
async fn custom_roles_are_created_changed_and_deleted(b: Backend) {
    let t = tenant(b).await;
    let r = t
        .owner
        .post("/api/v1/roles", json!({ "name": "Auditor", "description": "Reads the log", "permissions": ["audit:read", "user:read", "user:read"] }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let role = r.ok().clone();
    assert_eq!(role["permissions"], json!(["audit:read", "user:read"]));
    assert_eq!(role["isSystem"], false);
    assert_eq!(role["tenantId"], t.id.as_str());
    let id = role["id"].as_str().unwrap();
    t.owner
        .post("/api/v1/roles", json!({ "name": "AUDITOR" }))
        .await
        .expect(409, "CONFLICT");

    let r = t
        .owner
        .put(
            &format!("/api/v1/roles/{id}"),
            json!({ "name": "Log reader", "permissions": ["audit:read"] }),
        )
        .await;
    assert_eq!(r.ok()["name"], "Log reader");
    assert_eq!(r.ok()["permissions"], json!(["audit:read"]));
    assert_eq!(
        t.owner.get(&format!("/api/v1/roles/{id}")).await.ok()["name"],
        "Log reader"
    );
    let found = t.owner.get("/api/v1/roles?search=log%20READ").await;
    assert_eq!(found.ok()["total"], 1);

    let u = t.user("holder").await;
    t.give_role(&u.id, id).await;
    assert_eq!(
        t.owner.get(&format!("/api/v1/roles/{id}")).await.ok()["userCount"],
        1
    );
    let r = t.owner.delete(&format!("/api/v1/roles/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    t.owner
        .get(&format!("/api/v1/roles/{id}"))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    assert_eq!(
        t.owner.get(&format!("/api/v1/users/{}", u.id)).await.ok()["roles"],
        json!(["member"])
    );
}

async fn roles_reject_bad_input(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    for (body, field) in [
        (json!({ "permissions": ["user:read"] }), "name"),
        (json!({ "name": "" }), "name"),
        (
            json!({ "name": "X", "permissions": ["user:fly"] }),
            "permissions",
        ),
        (
            json!({ "name": "X", "permissions": "user:read" }),
            "permissions",
        ),
        (json!({ "name": "X", "scope": "all" }), "scope"),
        (
            json!({ "name": "X", "description": "d".repeat(1001) }),
            "description",
        ),
    ] {
        let r = t.owner.post("/api/v1/roles", body.clone()).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{body}");
    }
    assert_eq!(t.owner.get("/api/v1/roles").await.ok()["total"], 3);
    t.owner
        .get("/api/v1/roles/not-a-uuid")
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    let other = app.new_tenant().await;
    let theirs = other.role_id("admin").await;
    t.owner
        .get(&format!("/api/v1/roles/{theirs}"))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    let u = t.user("u").await;
    let r = t
        .owner
        .post(
            &format!("/api/v1/users/{}/roles", u.id),
            json!({ "roleId": theirs }),
        )
        .await;
    r.invalid(&["roleId"]);
    let r = t
        .owner
        .post(
            &format!("/api/v1/users/{}/roles", u.id),
            json!({ "roleId": "nope" }),
        )
        .await;
    assert_eq!(r.fields(), ["roleId"]);
    let member = t.role_id("member").await;
    u.api.get("/api/v1/roles").await.expect(403, "FORBIDDEN");
    u.api
        .post("/api/v1/roles", json!({ "name": "Mine" }))
        .await
        .expect(403, "FORBIDDEN");
    u.api
        .delete(&format!("/api/v1/roles/{member}"))
        .await
        .expect(403, "FORBIDDEN");
}

/// "Role assigned" / "Role removed"; GET /users/{id}/permissions
/// returns the union of the roles' permissions. A role change applies to
/// the user's very next request (docs/security.md).
async fn assigned_roles_resolve_into_permissions_on_the_next_request(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("grow").await;
    u.api.get("/api/v1/users").await.expect(403, "FORBIDDEN");
    let readers = t.role_with("Readers", &["user:read", "group:read"]).await;
    let auditors = t.role_with("Auditors", &["audit:read", "user:read"]).await;
    for role in [&readers, &auditors] {
        let r = t
            .owner
            .post(
                &format!("/api/v1/users/{}/roles", u.id),
                json!({ "roleId": role }),
            )
            .await;
        assert_eq!(
            r.body,
            json!({ "success": true, "message": "Role assigned" })
        );
    }
    let r = t
        .owner
        .get(&format!("/api/v1/users/{}/permissions", u.id))
        .await;
    assert_eq!(
        r.ok(),
        &json!({ "userId": u.id, "permissions": ["audit:read", "group:read", "user:read"] })
    );
    // The same token, the next request: the new permission applies.
    assert_eq!(u.api.get("/api/v1/users").await.status, 200);
    assert_eq!(
        u.api.me().await.ok()["roles"],
        json!(["Auditors", "Readers", "member"])
    );

    let r = t
        .owner
        .delete(&format!("/api/v1/users/{}/roles/{readers}", u.id))
        .await;
    assert_eq!(
        r.body,
        json!({ "success": true, "message": "Role removed" })
    );
    t.owner
        .delete(&format!("/api/v1/users/{}/roles/{readers}", u.id))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    assert_eq!(u.api.get("/api/v1/groups").await.code(), "FORBIDDEN");
    // Changing a role's permissions applies at once too.
    t.owner
        .put(
            &format!("/api/v1/roles/{auditors}"),
            json!({ "permissions": ["audit:read"] }),
        )
        .await;
    u.api.get("/api/v1/users").await.expect(403, "FORBIDDEN");
}

/// No privilege escalation: an admin (everything but tenant:write) can
/// neither create nor assign a role holding tenant:write, nor manage an owner.
async fn no_one_grants_what_they_do_not_hold(b: Backend) {
    let t = tenant(b).await;
    let a = t.user("admin").await;
    t.give_role(&a.id, &t.role_id("admin").await).await;
    let owner_role = t.role_id("owner").await;

    a.api
        .post(
            "/api/v1/roles",
            json!({ "name": "Sneaky", "permissions": ["tenant:write"] }),
        )
        .await
        .expect(403, "FORBIDDEN");
    a.api
        .post(
            &format!("/api/v1/users/{}/roles", a.id),
            json!({ "roleId": owner_role }),
        )
        .await
        .expect(403, "FORBIDDEN");
    a.api
        .post(&format!("/api/v1/users/{}/suspend", t.owner_id), json!({}))
        .await
        .expect(403, "FORBIDDEN");
    a.api
        .put(
            &format!("/api/v1/users/{}", t.owner_id),
            json!({ "firstName": "Evil" }),
        )
        .await
        .expect(403, "FORBIDDEN");
    // Within their own permissions they manage freely.
    let r = a
        .api
        .post(
            "/api/v1/roles",
            json!({ "name": "Helpdesk", "permissions": ["user:read", "user:write"] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let m = t.user("managed").await;
    let r = a
        .api
        .post(&format!("/api/v1/users/{}/suspend", m.id), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(t.owner.me().await.ok()["firstName"], "Olivia");
}

/// Groups CRUD and members (`group:read`/`group:write`).
async fn groups_and_their_members(b: Backend) {
    let t = tenant(b).await;
    let r = t
        .owner
        .post(
            "/api/v1/groups",
            json!({ "name": "Engineering", "description": "Builders" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let g = r.ok().clone();
    assert_eq!(
        (g["name"].as_str(), g["memberCount"].as_i64()),
        (Some("Engineering"), Some(0))
    );
    let id = g["id"].as_str().unwrap().to_string();
    t.owner
        .post("/api/v1/groups", json!({ "name": "engineering" }))
        .await
        .expect(409, "CONFLICT");

    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    for u in [&alice, &bob, &alice] {
        let r = t
            .owner
            .post(
                &format!("/api/v1/groups/{id}/members"),
                json!({ "userId": u.id }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let members = t.owner.get(&format!("/api/v1/groups/{id}/members")).await;
    assert_eq!(members.ok()["total"], 2);
    let first = &members.ok()["members"][0];
    assert_eq!(first["userId"], alice.id.as_str());
    assert_eq!(first["email"], alice.email.as_str());
    assert_eq!(first["firstName"], "alice");
    assert!(first["addedAt"].is_string());
    assert_eq!(
        t.owner.get(&format!("/api/v1/groups/{id}")).await.ok()["memberCount"],
        2
    );

    let r = t
        .owner
        .put(&format!("/api/v1/groups/{id}"), json!({ "name": "R&D" }))
        .await;
    assert_eq!(r.ok()["name"], "R&D");
    assert_eq!(r.ok()["description"], "Builders");
    let r = t.owner.get("/api/v1/groups?search=r%26d").await;
    assert_eq!(r.ok()["total"], 1);

    let r = t
        .owner
        .delete(&format!("/api/v1/groups/{id}/members/{}", bob.id))
        .await;
    assert_eq!(r.status, 200);
    t.owner
        .delete(&format!("/api/v1/groups/{id}/members/{}", bob.id))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    // Deleting a user removes their memberships.
    t.owner.delete(&format!("/api/v1/users/{}", alice.id)).await;
    assert_eq!(
        t.owner.get(&format!("/api/v1/groups/{id}")).await.ok()["memberCount"],
        0
    );

    let r = t.owner.delete(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(r.status, 200);
    t.owner
        .get(&format!("/api/v1/groups/{id}"))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
}

async fn groups_reject_bad_input_and_other_tenants(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let id = t.group("Ops").await;
    for (body, field) in [
        (json!({}), "name"),
        (json!({ "name": "" }), "name"),
        (json!({ "name": 3 }), "name"),
        (json!({ "name": "X", "members": [] }), "members"),
    ] {
        let r = t.owner.post("/api/v1/groups", body.clone()).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{body}");
    }
    let foreigner = other.user("foreigner").await;
    let r = t
        .owner
        .post(
            &format!("/api/v1/groups/{id}/members"),
            json!({ "userId": foreigner.id }),
        )
        .await;
    r.invalid(&["userId"]);
    let r = t
        .owner
        .post(
            &format!("/api/v1/groups/{id}/members"),
            json!({ "userId": "x" }),
        )
        .await;
    assert_eq!(r.fields(), ["userId"]);
    for path in [
        format!("/api/v1/groups/{id}"),
        format!("/api/v1/groups/{id}/members"),
    ] {
        other
            .owner
            .get(&path)
            .await
            .expect(404, "RESOURCE_NOT_FOUND");
    }
    other
        .owner
        .put(&format!("/api/v1/groups/{id}"), json!({ "name": "Mine" }))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    let member = t.user("m").await;
    member
        .api
        .get("/api/v1/groups")
        .await
        .expect(403, "FORBIDDEN");
    member
        .api
        .post("/api/v1/groups", json!({ "name": "Mine" }))
        .await
        .expect(403, "FORBIDDEN");
    let all: Value = t.owner.get("/api/v1/groups").await.body;
    assert_eq!(all["data"]["total"], 1);
}
