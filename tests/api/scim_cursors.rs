//! SCIM lists at scale: cursor pagination (RFC 9865) beside index
//! pagination, where a sync job walks a whole tenant page by page with
//! `cursor`, each page after the last one's anchor, and bad cursors and
//! counts are refused; and the unfiltered totals, read from maintained
//! counters, which stay exact through every kind of write.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::scim::Scim;
use crate::support::{tenant, Backend, TestTenant};

on_both_backends!(
    a_cursor_walk_reads_every_resource_once,
    sorted_and_root_queries_page_by_cursor_too,
    bad_cursors_and_counts_are_refused,
    unfiltered_totals_stay_exact,
);

const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// `n` users named `{prefix}{i}`, made through the native bulk import
/// (one transaction: many share a creation time, so the walk's order
/// falls back on the id).
async fn users(t: &TestTenant, prefix: &str, n: usize) {
    let rows: Vec<Value> = (0..n)
        .map(|i| json!({ "email": t.email(&format!("{prefix}{i}")), "firstName": prefix, "familyName": format!("{i:04}") }))
        .collect();
    let r = t.bulk_users(rows).await;
    assert_eq!(r.ok()["failed"], 0, "{}", r.text);
}

fn ids(page: &Value) -> Vec<String> {
    page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every page of `path` with `params`, by cursor from an empty one; each
/// page checked against RFC 9865 2's ListResponse.
async fn walk(scim: &Scim, path: &str, params: &[(&str, &str)], count: usize) -> Vec<String> {
    let count_text = count.to_string();
    let mut cursor = String::new();
    let mut all = Vec::new();
    let mut total = None;
    loop {
        let mut query = params.to_vec();
        query.extend([("cursor", cursor.as_str()), ("count", &count_text)]);
        let r = scim.query(path, &query).await;
        let page = r.scim(200).clone();
        // The same exact total on every page; no startIndex, which
        // cursor pages do not use.
        let n = page["totalResults"].as_u64().unwrap();
        assert_eq!(*total.get_or_insert(n), n, "{page}");
        assert!(page.get("startIndex").is_none(), "{page}");
        let got = ids(&page);
        assert_eq!(page["itemsPerPage"], got.len(), "{page}");
        assert!(got.len() <= count);
        all.extend(got);
        // "nextCursor is omitted from a response only to indicate that
        // there are no more result pages."
        match page.get("nextCursor").and_then(Value::as_str) {
            None => break,
            Some(next) => {
                assert!(
                    next.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
                    "RFC 9865 2: unreserved characters only: {next}"
                );
                cursor = next.to_string();
            }
        }
        assert!(all.len() <= 10_000, "the walk does not end");
    }
    assert_eq!(all.len() as u64, total.unwrap_or(0), "{path} {params:?}");
    all
}

/// Every page of `path` by startIndex.
async fn by_index(scim: &Scim, path: &str, params: &[(&str, &str)]) -> Vec<String> {
    let mut all = Vec::new();
    loop {
        let start = (all.len() + 1).to_string();
        let mut query = params.to_vec();
        query.extend([("startIndex", start.as_str()), ("count", "1000")]);
        let page = scim.query(path, &query).await.scim(200).clone();
        let got = ids(&page);
        if got.is_empty() {
            return all;
        }
        all.extend(got);
    }
}

/// RFC 9865 2: the first request sends an empty cursor, each next one the
/// `nextCursor` it was given, with the query otherwise unchanged; the
/// last page has no `nextCursor`. Here the walk meets every user once, in
/// the order index pages give, and a user deleted or created between pages
/// shifts nothing: the next page starts after the last row's anchor, not
/// at an offset. The same by `POST /.search` (RFC 9865 3) and for Groups.
async fn a_cursor_walk_reads_every_resource_once(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    users(&t, "walk", 230).await;
    let filter = [("filter", "name.givenName eq \"walk\"")];
    let walked = walk(&scim, "/Users", &filter, 100).await;
    assert_eq!(walked.len(), 230);
    assert_eq!(walked.iter().collect::<HashSet<_>>().len(), 230);
    assert_eq!(walked, by_index(&scim, "/Users", &filter).await);
    // The whole tenant, owner included.
    let everyone = walk(&scim, "/Users", &[], 1000).await;
    assert_eq!(everyone.len(), 231);

    // Between two pages: the first page's last user is deleted and a
    // user is created. The second page starts where the first ended.
    let r = scim
        .query("/Users", &[filter[0], ("cursor", ""), ("count", "100")])
        .await;
    let first = r.scim(200).clone();
    let next = first["nextCursor"].as_str().unwrap();
    let last = ids(&first).pop().unwrap();
    assert_eq!(scim.delete(&format!("/Users/{last}")).await.status, 204);
    scim.create_user(&t.email("late"), json!({ "name": { "givenName": "walk" } }))
        .await;
    let r = scim
        .query("/Users", &[filter[0], ("cursor", next), ("count", "100")])
        .await;
    let second = r.scim(200);
    assert_eq!(ids(second), walked[100..200].to_vec());
    assert_eq!(second["totalResults"], 230);

    // POST .search takes the cursor in its body.
    let mut cursor = json!("");
    let mut searched = Vec::new();
    loop {
        let body = json!({ "schemas": [SEARCH], "filter": "name.givenName eq \"walk\"",
                           "attributes": ["userName"], "cursor": cursor, "count": 70 });
        let page = scim.post("/Users/.search", body).await.scim(200).clone();
        searched.extend(ids(&page));
        match page.get("nextCursor") {
            Some(next) => cursor = next.clone(),
            None => break,
        }
    }
    assert_eq!(searched.len(), 230);
    assert_eq!(searched[..99], walked[..99]);
    assert_eq!(searched[99..229], walked[100..230]);

    for i in 0..5 {
        scim.create_group(&format!("Walkers {i}"), &[]).await;
    }
    let groups = walk(&scim, "/Groups", &[("excludedAttributes", "members")], 2).await;
    assert_eq!(groups, by_index(&scim, "/Groups", &[]).await);
    assert_eq!(groups.len(), 5);
}

/// RFC 9865 2.2: "If sorting is implemented ..., then cursor-paged
/// results SHOULD be sorted": a sorted walk gives the sorted order, as
/// index pages do. The service root (RFC 7644 3.4.3) pages by cursor too.
async fn sorted_and_root_queries_page_by_cursor_too(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    users(&t, "sorted", 40).await;
    for i in 0..3 {
        scim.create_group(&format!("Sorters {i}"), &[]).await;
    }
    for order in ["ascending", "descending"] {
        let params = [
            ("filter", "name.givenName eq \"sorted\""),
            ("sortBy", "name.familyName"),
            ("sortOrder", order),
        ];
        let walked = walk(&scim, "/Users", &params, 15).await;
        assert_eq!(walked.len(), 40);
        assert_eq!(walked, by_index(&scim, "/Users", &params).await, "{order}");
    }
    let root = walk(&scim, "/", &[], 7).await;
    assert_eq!(root.len(), 41 + 3);
    assert_eq!(root, by_index(&scim, "/", &[]).await);
}

/// RFC 9865 2.1: a cursor that is not a `nextCursor` of this query is
/// `invalidCursor` (altered, from another query, resource type or
/// tenant), and a cursor page's count outside 1..maxPageSize is
/// `invalidCount`; startIndex and cursor together ask for two methods.
/// RFC 9865 4: the ServiceProviderConfig advertises both methods.
async fn bad_cursors_and_counts_are_refused(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    users(&t, "bad", 3).await;
    let page = scim
        .query("/Users", &[("cursor", ""), ("count", "1")])
        .await
        .scim(200)
        .clone();
    let cursor = page["nextCursor"].as_str().unwrap().to_string();
    let mut altered = cursor.clone().into_bytes();
    let at = altered.len() - 3;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for (path, params) in [
        ("/Users", vec![("cursor", altered.as_str())]),
        ("/Users", vec![("cursor", "not-a-cursor")]),
        (
            "/Users",
            vec![("cursor", &cursor), ("filter", "active eq true")],
        ),
        ("/Users", vec![("cursor", &cursor), ("sortBy", "userName")]),
        ("/Groups", vec![("cursor", &cursor)]),
        ("/", vec![("cursor", &cursor)]),
    ] {
        scim.query(path, &params)
            .await
            .scim_error(400, Some("invalidCursor"));
    }
    let other = tenant(b).await;
    other
        .scim()
        .await
        .query("/Users", &[("cursor", &cursor)])
        .await
        .scim_error(400, Some("invalidCursor"));
    let r = scim
        .post(
            "/Users/.search",
            json!({ "schemas": [SEARCH], "cursor": "garbage" }),
        )
        .await;
    r.scim_error(400, Some("invalidCursor"));
    for count in ["0", "1001", "-1", "ten"] {
        scim.query("/Users", &[("cursor", ""), ("count", count)])
            .await
            .scim_error(400, Some("invalidCount"));
    }
    scim.query("/Users", &[("cursor", ""), ("startIndex", "1")])
        .await
        .scim_error(400, Some("invalidValue"));
    // The refusals changed nothing, and the cursor still works.
    let r = scim
        .query("/Users", &[("cursor", &cursor), ("count", "1")])
        .await;
    assert_eq!(r.scim(200)["Resources"].as_array().unwrap().len(), 1);

    let r = scim
        .send(Method::GET, "/ServiceProviderConfig", None, &[])
        .await;
    let pagination = &r.scim(200)["pagination"];
    assert_eq!(pagination["cursor"], true);
    assert_eq!(pagination["index"], true);
    assert_eq!(pagination["defaultPaginationMethod"], "index");
    assert_eq!(pagination["maxPageSize"], r.body["filter"]["maxResults"]);
    assert!(pagination["cursorTimeout"].as_u64().unwrap() > 0);
    // Without a cursor, pages stay index-based (RFC 9865 2.4): startIndex,
    // no nextCursor.
    let r = scim.query("/Users", &[("count", "1")]).await;
    assert_eq!(r.scim(200)["startIndex"], 1);
    assert!(r.body.get("nextCursor").is_none());
}

/// The totals of `path` (`/Users`, `/Groups`): unfiltered (a maintained
/// counter) and with a filter every resource matches (a count).
async fn totals(scim: &Scim, path: &str) -> (u64, u64) {
    let total = |params: Vec<(&'static str, &'static str)>| async move {
        let r = scim.query(path, &params).await;
        r.scim(200)["totalResults"].as_u64().unwrap()
    };
    (
        total(vec![("count", "0")]).await,
        total(vec![("count", "0"), ("filter", "id pr")]).await,
    )
}

/// RFC 7644 3.4.2: "totalResults: The total number of results returned by
/// the list or query operation." The unfiltered total comes from a counter
/// the writing transaction keeps; it equals the count through creations
/// and deletions by each API, bulk imports, concurrent writers, and stays
/// within its tenant.
async fn unfiltered_totals_stay_exact(b: Backend) {
    let t = tenant(b).await;
    let other = tenant(b).await;
    let scim = t.scim().await;
    assert_eq!(totals(&scim, "/Users").await, (1, 1));
    assert_eq!(totals(&scim, "/Groups").await, (0, 0));
    users(&t, "counted", 25).await;
    users(&other, "elsewhere", 7).await;
    let made = scim.create_user(&t.email("scim"), json!({})).await;
    let native = t.create_user(&t.email("native"), "Native", "User").await;
    let created = futures_util::future::join_all((0..8).map(|i| {
        let scim = &scim;
        let name = t.email(&format!("racer{i}"));
        async move { scim.create_user(&name, json!({})).await }
    }))
    .await;
    assert_eq!(totals(&scim, "/Users").await, (36, 36));
    assert_eq!(scim.delete(&format!("/Users/{made}")).await.status, 204);
    assert_eq!(
        t.owner
            .delete(&format!("/api/v1/users/{native}"))
            .await
            .status,
        200
    );
    for id in &created[..3] {
        assert_eq!(scim.delete(&format!("/Users/{id}")).await.status, 204);
    }
    // A refused creation (a duplicate userName) counts nothing.
    let r = scim
        .post(
            "/Users",
            json!({ "schemas": [crate::support::scim::USER], "userName": t.email("racer5") }),
        )
        .await;
    r.scim_error(409, Some("uniqueness"));
    assert_eq!(totals(&scim, "/Users").await, (31, 31));
    let group = scim.create_group("Counted", &[]).await;
    scim.create_group("Counted too", &[]).await;
    assert_eq!(totals(&scim, "/Groups").await, (2, 2));
    assert_eq!(scim.delete(&format!("/Groups/{group}")).await.status, 204);
    assert_eq!(totals(&scim, "/Groups").await, (1, 1));
    let elsewhere = other.scim().await;
    assert_eq!(totals(&elsewhere, "/Users").await, (8, 8));
    assert_eq!(totals(&elsewhere, "/Groups").await, (0, 0));
    // The native list and JSON:API read the same counter.
    assert_eq!(t.owner.get("/api/v1/users").await.ok()["total"], 31);
}
