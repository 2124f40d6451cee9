//! Bulk (RFC 7644 3.7): operations in order, bulkId references resolved
//! (also forward ones), failOnErrors, and the advertised limits.

use serde_json::{json, Value};

use crate::support::scim::{BULK_REQUEST, GROUP, PATCH_OP, USER};
use crate::support::{tenant, Backend};

on_both_backends!(
    bulk_resolves_references_and_reports_each_operation,
    bulk_limits_and_fail_on_errors
);

const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// RFC 7644 3.7.2: a group may list, by bulkId, a user created later in
/// the same request; each operation reports its status, location, version.
async fn bulk_resolves_references_and_reports_each_operation(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let existing = scim.create_user(&t.email("existing"), json!({})).await;
    let r = scim
        .post(
            "/Bulk",
            json!({ "schemas": [BULK_REQUEST], "Operations": [
                { "method": "POST", "path": "/Groups", "bulkId": "grp",
                  "data": { "schemas": [GROUP], "displayName": "Bulk Team", "members": [{ "value": "bulkId:alice" }, { "value": existing }] } },
                { "method": "POST", "path": "/Users", "bulkId": "alice",
                  "data": { "schemas": [USER], "userName": t.email("alice") } },
                { "method": "PATCH", "path": "/Users/bulkId:alice", "version": "W/\"1\"",
                  "data": { "schemas": [PATCH_OP], "Operations": [{ "op": "add", "path": "title", "value": "Lead" }] } },
                { "method": "PUT", "path": format!("/Users/{existing}"),
                  "data": { "schemas": [USER], "userName": t.email("existing"), "title": "Replaced" } },
                { "method": "DELETE", "path": "/Users/00000000-0000-0000-0000-000000000000" },
                { "method": "POST", "path": "/Users", "bulkId": "dup",
                  "data": { "schemas": [USER], "userName": t.email("alice") } },
                { "method": "POST", "path": "/Groups", "bulkId": "needs-dup",
                  "data": { "schemas": [GROUP], "displayName": "Never", "members": [{ "value": "bulkId:dup" }] } }
            ]}),
        )
        .await;
    let body = r.scim(200).clone();
    assert_eq!(body["schemas"], json!([BULK_RESPONSE]));
    let ops = body["Operations"].as_array().unwrap().clone();
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["201", "201", "200", "200", "404", "409", "409"],
        "{body}"
    );
    assert_eq!(ops[0]["bulkId"], "grp");
    assert_eq!(ops[1]["version"], "W/\"1\"");
    assert_eq!(ops[2]["version"], "W/\"2\"");
    assert_eq!(ops[4]["response"]["status"], "404");
    assert_eq!(ops[5]["response"]["scimType"], "uniqueness");
    let alice_location = ops[1]["location"].as_str().unwrap();
    let alice = alice_location.rsplit('/').next().unwrap();
    let group_id = ops[0]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();

    let r = scim.get(&format!("/Groups/{group_id}")).await;
    let mut members: Vec<&str> = r.scim(200)["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    members.sort();
    let mut want = vec![alice, existing.as_str()];
    want.sort();
    assert_eq!(members, want);
    assert_eq!(
        scim.get(&format!("/Users/{alice}")).await.body["title"],
        "Lead"
    );
    assert_eq!(
        scim.get(&format!("/Users/{existing}")).await.body["title"],
        "Replaced"
    );
    assert_eq!(
        scim.query("/Groups", &[("filter", "displayName eq \"Never\"")])
            .await
            .body["totalResults"],
        0
    );
}

/// maxOperations (413), failOnErrors (processing stops), circular
/// references (409), malformed operations (400 for that operation only).
async fn bulk_limits_and_fail_on_errors(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({ "method": "DELETE", "path": format!("/Users/{i}") }))
        .collect();
    let r = scim
        .post(
            "/Bulk",
            json!({ "schemas": [BULK_REQUEST], "Operations": too_many }),
        )
        .await;
    r.scim_error(413, Some("tooMany"));
    scim.post("/Bulk", json!({ "Operations": [] }))
        .await
        .scim_error(400, Some("invalidValue"));
    let r = scim
        .post("/Bulk", json!({ "schemas": [BULK_REQUEST], "Operations": [{ "method": "GET", "path": "/Users" }] }))
        .await;
    r.scim_error(400, Some("invalidValue"));

    let r = scim
        .post(
            "/Bulk",
            json!({ "schemas": [BULK_REQUEST], "failOnErrors": 1, "Operations": [
                { "method": "POST", "path": "/Users", "bulkId": "a", "data": { "schemas": [USER], "userName": t.email("a") } },
                { "method": "POST", "path": "/Users", "bulkId": "bad", "data": { "schemas": [USER] } },
                { "method": "POST", "path": "/Users", "bulkId": "c", "data": { "schemas": [USER], "userName": t.email("c") } }
            ]}),
        )
        .await;
    let ops = r.scim(200)["Operations"].as_array().unwrap().clone();
    assert_eq!(ops.len(), 2, "{}", r.text);
    assert_eq!(ops[1]["status"], "400");
    assert_eq!(ops[1]["response"]["scimType"], "invalidValue");
    assert_eq!(
        scim.query(
            "/Users",
            &[("filter", &format!("userName eq \"{}\"", t.email("c")))]
        )
        .await
        .body["totalResults"],
        0
    );

    let r = scim
        .post(
            "/Bulk",
            json!({ "schemas": [BULK_REQUEST], "Operations": [
                { "method": "POST", "path": "/Groups", "bulkId": "g1", "data": { "schemas": [GROUP], "displayName": "G1", "members": [{ "value": "bulkId:g2" }] } },
                { "method": "POST", "path": "/Groups", "bulkId": "g2", "data": { "schemas": [GROUP], "displayName": "G2", "members": [{ "value": "bulkId:g1" }] } },
                { "method": "PATCH", "path": "/Users/bulkId:nowhere", "data": { "schemas": [PATCH_OP], "Operations": [{ "op": "add", "path": "title", "value": "x" }] } },
                { "method": "POST", "path": "/Roles", "data": {} },
                { "method": "PUT", "path": "/Users", "data": { "schemas": [USER], "userName": "x" } },
                { "method": "POST", "path": "/Users", "bulkId": "z", "data": "not an object" }
            ]}),
        )
        .await;
    let ops = r.scim(200)["Operations"].as_array().unwrap().clone();
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["409", "409", "409", "400", "400", "400"],
        "{}",
        r.text
    );
    assert_eq!(
        scim.query("/Groups", &[("count", "0")]).await.body["totalResults"],
        0
    );
}
