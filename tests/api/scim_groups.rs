//! SCIM Groups (RFC 7643 4.2, RFC 7644 3.5.2): the same groups as
//! /api/v1/groups; membership changed in sets, ten thousand at a time.

use std::time::Instant;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::scim::{group, replace, Scim, GROUP, USER};
use crate::support::{pluck, shared, tenant, Backend, TestTenant};

on_both_backends!(
    entra_id_group_cycle,
    okta_group_cycle,
    display_name_is_unique_and_members_stay_in_their_tenant,
    put_replaces_members_and_preconditions_guard_writes,
    ten_thousand_members_in_one_patch,
    bad_group_input_changes_nothing,
);

/// Entra ID's group requests (Microsoft's SCIM validator): create with
/// externalId and meta, read without members, filter by displayName, add
/// and remove members by value arrays, rename, delete.
async fn entra_id_group_cycle(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let alice = scim
        .create_user(
            &t.email("alice"),
            json!({ "name": { "givenName": "Alice", "familyName": "A" } }),
        )
        .await;
    let bob = scim.create_user(&t.email("bob"), json!({})).await;
    // Entra lists a Microsoft schema URI with no attributes under it
    // (Microsoft documents it as "an invalid schema URI"); it is ignored.
    let r = scim
        .post(
            "/Groups",
            json!({ "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Engineering", "meta": { "resourceType": "Group" },
                    "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"] }),
        )
        .await;
    let created = r.scim(201).clone();
    assert_eq!(created["schemas"], json!([GROUP]));
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location"), created["meta"]["location"].as_str());
    assert_eq!(created["displayName"], "Engineering");
    assert_eq!(
        created["externalId"],
        "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    );
    assert_eq!(created["members"], json!([]));
    assert_eq!(created["meta"]["resourceType"], "Group");

    let r = scim
        .query(
            &format!("/Groups/{id}"),
            &[("excludedAttributes", "members")],
        )
        .await;
    assert!(r.scim(200).get("members").is_none());
    let r = scim
        .query(
            "/Groups",
            &[
                ("excludedAttributes", "members"),
                ("filter", "displayName eq \"engineering\""),
            ],
        )
        .await;
    assert_eq!(r.scim(200)["totalResults"], 1);
    assert!(r.body["Resources"][0].get("members").is_none());

    let r = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "Add", "path": "members", "value": [{ "$ref": null, "value": alice }, { "$ref": null, "value": bob }] }]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    let r = scim.get(&format!("/Groups/{id}")).await;
    let members = r.scim(200)["members"].as_array().unwrap().clone();
    assert_eq!(members.len(), 2);
    let a = members
        .iter()
        .find(|m| m["value"] == alice.as_str())
        .unwrap();
    assert_eq!(a["display"], "Alice A");
    assert_eq!(a["type"], "User");
    assert!(a["$ref"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/Users/{alice}")));

    // Adding a member twice is no error and no duplicate.
    let r = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "Add", "path": "members", "value": [{ "value": alice }] }]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = scim
        .patch(&format!("/Groups/{id}"), json!([{ "op": "Remove", "path": "members", "value": [{ "$ref": null, "value": bob }] }]))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "Replace", "path": "displayName", "value": "Platform Engineering" }]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = scim.get(&format!("/Groups/{id}")).await;
    assert_eq!(r.scim(200)["displayName"], "Platform Engineering");
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["members"][0]["value"], alice.as_str());
    assert_eq!(r.body["meta"]["version"], "W/\"5\"");

    // The same group in the native API, and the member's groups in SCIM.
    let native = t.owner.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(native.ok()["name"], "Platform Engineering");
    assert_eq!(native.ok()["memberCount"], 1);
    let r = scim.get(&format!("/Users/{alice}")).await;
    assert_eq!(r.scim(200)["groups"][0]["value"], id.as_str());
    // Filters over membership.
    let r = scim
        .query(
            "/Groups",
            &[("filter", &format!("members.value eq \"{alice}\""))],
        )
        .await;
    assert_eq!(r.scim(200)["totalResults"], 1);
    let r = scim
        .query("/Groups", &[("filter", &format!("members eq \"{bob}\""))])
        .await;
    assert_eq!(r.scim(200)["totalResults"], 0);
    let r = scim
        .query("/Groups", &[("filter", &format!("members[value eq \"{alice}\" and type eq \"User\"] and meta.resourceType eq \"Group\""))])
        .await;
    assert_eq!(r.scim(200)["totalResults"], 1);
    let r = scim
        .query("/Groups", &[("filter", r#"meta.version eq "W/\"5\"""#)])
        .await;
    assert_eq!(r.scim(200)["totalResults"], 1, "{}", r.text);
    let r = scim
        .query(
            "/Groups",
            &[(
                "filter",
                r#"meta.version eq "W/\"4\"" or members[type eq "Group"]"#,
            )],
        )
        .await;
    assert_eq!(r.scim(200)["totalResults"], 0, "{}", r.text);

    let r = scim.delete(&format!("/Groups/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    scim.get(&format!("/Groups/{id}"))
        .await
        .scim_error(404, None);
    let r = scim.get(&format!("/Users/{alice}")).await;
    assert!(r.scim(200).get("groups").is_none());
    let audit = t.audit("targetType=group").await;
    let actions: Vec<&str> = pluck(&audit.ok()["events"], "/action");
    assert!(
        actions.contains(&"group.created")
            && actions.contains(&"group.updated")
            && actions.contains(&"group.deleted"),
        "{actions:?}"
    );
}

/// Okta's group push: create with an empty member list, list with
/// startIndex/count, rename with a value-only replace that repeats the id,
/// add members, remove one by `members[value eq "..."]`.
async fn okta_group_cycle(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let u1 = scim.create_user(&t.email("u1"), json!({})).await;
    let u2 = scim.create_user(&t.email("u2"), json!({})).await;
    let r = scim
        .post(
            "/Groups",
            json!({ "schemas": [GROUP], "displayName": "Test SCIMv2", "members": [] }),
        )
        .await;
    let id = r.scim(201)["id"].as_str().unwrap().to_string();
    let r = scim
        .query("/Groups", &[("startIndex", "1"), ("count", "100")])
        .await;
    assert_eq!(r.scim(200)["totalResults"], 1);

    let r = scim
        .patch(&format!("/Groups/{id}"), json!([{ "op": "replace", "value": { "id": id, "displayName": "Test SCIMv2 renamed" } }]))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "add", "path": "members", "value": [{ "value": u1, "display": "u1" }, { "value": u2, "display": "u2" }] }]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "remove", "path": format!("members[value eq \"{u1}\"]") }]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = scim.get(&format!("/Groups/{id}")).await;
    assert_eq!(r.scim(200)["displayName"], "Test SCIMv2 renamed");
    assert_eq!(
        r.body["members"],
        json!([{ "value": u2, "$ref": r.body["members"][0]["$ref"], "display": t.email("u2"), "type": "User" }])
    );

    // With `attributes`, PATCH answers 200 with the resource (RFC 7644 3.5.2).
    let r = scim
        .send(
            Method::PATCH,
            &format!("/Groups/{id}?attributes=members"),
            Some(json!({ "schemas": [crate::support::scim::PATCH_OP], "Operations": [{ "op": "remove", "path": "members" }] })),
            &[],
        )
        .await;
    assert_eq!(r.scim(200)["members"], json!([]));
}

/// displayName is unique per tenant (409 uniqueness); members refer to
/// users of the same tenant only.
async fn display_name_is_unique_and_members_stay_in_their_tenant(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let scim = t.scim().await;
    let theirs = other
        .scim()
        .await
        .create_user(&other.email("x"), json!({}))
        .await;
    let mine = scim.create_user(&t.email("mine"), json!({})).await;
    let id = scim.create_group("Sales", &[&mine]).await;
    scim.post("/Groups", group("sales", &[]))
        .await
        .scim_error(409, Some("uniqueness"));
    // The same name in another tenant is fine.
    other
        .scim()
        .await
        .post("/Groups", group("Sales", &[]))
        .await
        .scim(201);

    let r = scim
        .post("/Groups", group("Mixed", &[&mine, &theirs]))
        .await;
    r.scim_error(400, Some("invalidValue"));
    assert!(r.body["detail"].as_str().unwrap().contains(&theirs));
    let r = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "add", "path": "members", "value": [{ "value": theirs }] }]),
        )
        .await;
    r.scim_error(400, Some("invalidValue"));
    let r = scim.get(&format!("/Groups/{id}")).await;
    assert_eq!(r.scim(200)["members"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["meta"]["version"], "W/\"1\"");
    assert_eq!(
        scim.query("/Groups", &[("filter", "displayName eq \"Mixed\"")])
            .await
            .body["totalResults"],
        0
    );
    // Another tenant's group is unknown here.
    let their_group = other.scim().await.create_group("Theirs", &[]).await;
    scim.get(&format!("/Groups/{their_group}"))
        .await
        .scim_error(404, None);
    scim.patch(
        &format!("/Groups/{their_group}"),
        json!([{ "op": "add", "path": "members", "value": [{ "value": mine }] }]),
    )
    .await
    .scim_error(404, None);
}

/// PUT replaces the whole group, members included; If-Match guards it.
async fn put_replaces_members_and_preconditions_guard_writes(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let a = scim.create_user(&t.email("a"), json!({})).await;
    let b2 = scim.create_user(&t.email("b"), json!({})).await;
    let c = scim.create_user(&t.email("c"), json!({})).await;
    let id = scim.create_group("Team", &[&a, &b2]).await;
    let path = format!("/Groups/{id}");
    let r = scim
        .send(
            Method::PUT,
            &path,
            Some(group("Team B", &[&b2, &c])),
            &[("If-Match", "W/\"9\"")],
        )
        .await;
    r.scim_error(412, None);
    let r = scim
        .send(
            Method::PUT,
            &path,
            Some(group("Team B", &[&b2, &c])),
            &[("If-Match", "W/\"1\"")],
        )
        .await;
    let body = r.scim(200).clone();
    assert_eq!(body["displayName"], "Team B");
    let mut ids: Vec<&str> = pluck(&body["members"], "/value");
    ids.sort();
    let mut want = vec![b2.as_str(), c.as_str()];
    want.sort();
    assert_eq!(ids, want);
    assert!(body.get("externalId").is_none());
    let r = scim
        .send(Method::DELETE, &path, None, &[("If-Match", "W/\"1\"")])
        .await;
    r.scim_error(412, None);
    let r = scim
        .send(Method::GET, &path, None, &[("If-None-Match", "W/\"2\"")])
        .await;
    assert_eq!(r.status, 304);
}

/// Members of a tenant's users, `n` of them, made through the native bulk
/// import; their ids read back through SCIM.
async fn many_users(t: &TestTenant, scim: &Scim, n: usize) -> Vec<String> {
    for batch in 0..n.div_ceil(1000) {
        let rows: Vec<Value> = (batch * 1000..((batch + 1) * 1000).min(n))
            .map(|i| json!({ "email": t.email(&format!("bulk{i}")), "firstName": "Bulk", "familyName": format!("User {i}") }))
            .collect();
        let r = t.bulk_users(rows).await;
        assert_eq!(r.ok()["failed"], 0, "{}", r.text);
    }
    let mut ids = Vec::new();
    let filter = ("filter", "name.givenName eq \"Bulk\"");
    loop {
        let start = (ids.len() + 1).to_string();
        let r = scim
            .query(
                "/Users",
                &[
                    filter,
                    ("attributes", "id"),
                    ("count", "1000"),
                    ("startIndex", &start),
                ],
            )
            .await;
        let page = r.scim(200)["Resources"].as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        ids.extend(page.iter().map(|u| u["id"].as_str().unwrap().to_string()));
    }
    assert_eq!(ids.len(), n);
    ids
}

/// Adding or removing 10,000 members in one PATCH works and stays
/// fast (set-based SQL). The time is printed, not asserted.
async fn ten_thousand_members_in_one_patch(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let ids = many_users(&t, &scim, 10_000).await;
    let id = scim.create_group("Everyone", &[]).await;
    let members: Vec<Value> = ids.iter().map(|i| json!({ "value": i })).collect();

    let started = Instant::now();
    let r = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "add", "path": "members", "value": members }]),
        )
        .await;
    let added = started.elapsed();
    assert_eq!(r.status, 204, "{}", r.text);
    let native = t.owner.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(native.ok()["memberCount"], 10_000);
    let r = scim.get(&format!("/Groups/{id}")).await;
    assert_eq!(r.scim(200)["members"].as_array().unwrap().len(), 10_000);

    // Remove half by value array, then a few by filter, then the rest.
    let half: Vec<Value> = ids[..5000].iter().map(|i| json!({ "value": i })).collect();
    let started = Instant::now();
    let r = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "remove", "path": "members", "value": half }]),
        )
        .await;
    let removed = started.elapsed();
    assert_eq!(r.status, 204, "{}", r.text);
    let by_filter = format!(
        "members[value eq \"{}\" or value eq \"{}\"]",
        ids[5000], ids[5001]
    );
    let r = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "remove", "path": by_filter }]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let native = t.owner.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(native.ok()["memberCount"], 4998);
    let r = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "replace", "path": "members", "value": [] }]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let native = t.owner.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(native.ok()["memberCount"], 0);
    eprintln!("{b:?}: PATCH add 10,000 members {added:?}, remove 5,000 {removed:?}");
}

/// Bad input: a SCIM error and no change.
async fn bad_group_input_changes_nothing(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let u = scim.create_user(&t.email("u"), json!({})).await;
    let id = scim.create_group("Stable", &[&u]).await;
    let path = format!("/Groups/{id}");
    for (body, detail) in [
        (json!({ "schemas": [GROUP] }), "displayName"),
        (
            json!({ "schemas": [GROUP], "displayName": 7 }),
            "displayName",
        ),
        (json!({ "schemas": [USER], "displayName": "x" }), "schemas"),
        (
            json!({ "schemas": [GROUP], "displayName": "x", "members": "all" }),
            "members",
        ),
        (
            json!({ "schemas": [GROUP], "displayName": "x", "members": [{ "value": "not-a-uuid" }] }),
            "members",
        ),
        (
            json!({ "schemas": [GROUP], "displayName": "x", "members": [{ "display": "no value" }] }),
            "members",
        ),
        (
            json!({ "schemas": [GROUP], "displayName": "x", "members": [{ "value": u, "type": "Group" }] }),
            "members",
        ),
        (
            json!({ "schemas": [GROUP], "displayName": "   " }),
            "displayName",
        ),
    ] {
        let r = scim.post("/Groups", body.clone()).await;
        r.scim_error(400, Some("invalidValue"));
        assert!(
            r.body["detail"].as_str().unwrap().contains(detail),
            "{body}: {}",
            r.text
        );
    }
    for (ops, scim_type) in [
        (
            json!([{ "op": "remove", "path": "displayName" }]),
            "mutability",
        ),
        (replace("id", "x"), "mutability"),
        (
            json!([{ "op": "add", "path": "owner", "value": "x" }]),
            "invalidPath",
        ),
        (
            json!([{ "op": "remove", "path": "members[display eq \"x\"]" }]),
            "invalidFilter",
        ),
        (
            json!([{ "op": "add", "path": "members[value eq \"x\"]", "value": [] }]),
            "invalidPath",
        ),
        (
            json!([{ "op": "replace", "path": "displayName", "value": ["a"] }]),
            "invalidValue",
        ),
        // The first operation is valid; the second fails; neither applies.
        (
            json!([{ "op": "replace", "path": "displayName", "value": "Changed" }, { "op": "add", "path": "members", "value": [{ "value": uuid::Uuid::new_v4().to_string() }] }]),
            "invalidValue",
        ),
    ] {
        let r = scim.patch(&path, ops.clone()).await;
        r.scim_error(400, Some(scim_type));
    }
    let r = scim.get(&path).await;
    assert_eq!(r.scim(200)["displayName"], "Stable");
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["meta"]["version"], "W/\"1\"");
    assert_eq!(
        scim.query("/Groups", &[("count", "0")]).await.body["totalResults"],
        1
    );
    scim.query("/Groups", &[("filter", "members[value eq \"x\"")])
        .await
        .scim_error(400, Some("invalidFilter"));
    scim.query("/Groups", &[("sortBy", "members")])
        .await
        .scim_error(400, Some("invalidValue"));
}
