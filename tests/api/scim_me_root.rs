//! `/Me` (RFC 7644 3.11) for a person's own token, within self-service,
//! and queries at the service root across Users and Groups (RFC 7644
//! 3.4.3), on both backends (docs/api/scim.md).

use serde_json::{json, Value};

use crate::support::scim::{Scim, ERROR, GROUP, LIST, SEARCH, USER};
use crate::support::{tenant, Backend};

on_both_backends!(
    me_reads_and_changes_ones_own_resource_within_self_service,
    me_is_for_people_only,
    root_queries_list_users_and_groups_together,
);

/// A person's token on SCIM: GET, PUT and PATCH of their own resource;
/// an attribute beyond self-service is refused (403, naming it) and
/// nothing changes; POST is 501 and DELETE 403.
async fn me_reads_and_changes_ones_own_resource_within_self_service(b: Backend) {
    let t = tenant(b).await;
    let u = t.user("mia").await;
    let me = Scim::new(&t.owner, u.api.token.as_deref().unwrap());
    let r = me.get("/Me").await;
    let mine = r.scim(200).clone();
    assert_eq!(mine["id"], u.id.as_str());
    assert_eq!(mine["userName"], u.email.as_str());
    assert_eq!(mine["meta"]["resourceType"], "User");
    assert_eq!(mine["schemas"], json!([USER]));
    let etag = r.header("etag").unwrap().to_string();
    let r = me
        .send(
            reqwest::Method::GET,
            "/Me",
            None,
            &[("If-None-Match", &etag)],
        )
        .await;
    assert_eq!(r.status, 304);

    // PATCH: a name and a phone number are self-service.
    let r = me
        .patch(
            "/Me",
            json!([
                { "op": "replace", "path": "name.givenName", "value": "Mira" },
                { "op": "add", "path": "phoneNumbers", "value": [{ "value": "+4712345678", "type": "mobile" }] },
                { "op": "replace", "path": "locale", "value": "nb-NO" },
            ]),
        )
        .await;
    let patched = r.scim(200).clone();
    assert_eq!(patched["name"]["givenName"], "Mira");
    assert_eq!(patched["phoneNumbers"][0]["value"], "+4712345678");
    let native = u.api.me().await;
    assert_eq!(native.ok()["firstName"], "Mira");
    assert_eq!(native.ok()["phoneNumber"], "+4712345678");

    // Beyond self-service: 403 naming the attribute; nothing changes.
    for (ops, named) in [
        (
            json!([{ "op": "replace", "path": "title", "value": "CEO" }]),
            "title",
        ),
        (
            json!([{ "op": "replace", "path": "active", "value": false }]),
            "active",
        ),
        (
            json!([{ "op": "replace", "path": "userName", "value": "someone-else" }]),
            "userName",
        ),
        (json!([{ "op": "remove", "path": "emails" }]), "emails"),
        (
            json!([{ "op": "replace", "path": "name.familyName", "value": "Ok" },
                   { "op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales" }]),
            "department",
        ),
        (
            json!([{ "op": "replace", "path": "password", "value": "An0ther!Passw0rd" }]),
            "password",
        ),
        // SCIM roles and entitlements grant nothing, but are the identity
        // provider's to set, as every attribute not on the allow-list.
        (
            json!([{ "op": "add", "path": "roles", "value": [{ "value": "admin" }] }]),
            "roles",
        ),
        (
            json!([{ "op": "add", "path": "x509Certificates", "value": [{ "value": "AAEC" }] }]),
            "x509Certificates",
        ),
    ] {
        let r = me.patch("/Me", ops.clone()).await;
        r.scim_error(403, None);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains(named), "{ops}: {detail}");
    }
    assert_eq!(me.get("/Me").await.scim(200), &patched, "nothing changed");
    u.api.me().await.ok();

    // PUT: the whole resource as read, with a new family name.
    let mut whole = patched.clone();
    whole["name"]["familyName"] = json!("Tester-Smith");
    let r = me.put("/Me", whole.clone()).await;
    assert_eq!(r.scim(200)["name"]["familyName"], "Tester-Smith");
    // A PUT that leaves emails out would remove them: refused.
    let mut without = whole.clone();
    without.as_object_mut().unwrap().remove("emails");
    me.put("/Me", without).await.scim_error(403, None);
    // Stale versions are refused as on /Users.
    let r = me
        .send(
            reqwest::Method::PUT,
            "/Me",
            Some(whole),
            &[("If-Match", "W/\"1\"")],
        )
        .await;
    r.scim_error(412, None);

    me.post("/Me", json!({ "schemas": [USER], "userName": "x" }))
        .await
        .scim_error(501, None);
    me.delete("/Me").await.scim_error(403, None);
    assert_eq!(
        t.owner.get(&format!("/api/v1/users/{}", u.id)).await.status,
        200
    );
}

/// A SCIM token (an identity provider) or a client has no "me": 501; no
/// credential at all is 401.
async fn me_is_for_people_only(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = scim.send(method, "/Me", None, &[]).await;
        r.scim_error(501, None);
    }
    let user = json!({ "schemas": [USER], "userName": "x" });
    scim.put("/Me", user.clone()).await.scim_error(501, None);
    scim.patch(
        "/Me",
        json!([{ "op": "replace", "path": "title", "value": "x" }]),
    )
    .await
    .scim_error(501, None);
    let anonymous = Scim::new(&t.owner, "not-a-token");
    assert_eq!(anonymous.get("/Me").await.status, 401);
}

/// `GET /scim/v2/?filter=...` and `POST /scim/v2/.search`: users and groups
/// in one ListResponse; a term on an attribute only one type has does not
/// match the other; sortBy, startIndex and count apply to the union.
async fn root_queries_list_users_and_groups_together(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let u1 = scim
        .create_user(
            "root-u1",
            json!({ "externalId": "root-2", "displayName": "Root One" }),
        )
        .await;
    let u2 = scim
        .create_user("root-u2", json!({ "externalId": "root-3" }))
        .await;
    let r = scim
        .post(
            "/Groups",
            json!({ "schemas": [GROUP], "displayName": "Root Group", "externalId": "root-1",
                    "members": [{ "value": u1 }] }),
        )
        .await;
    let g = r.scim(201)["id"].as_str().unwrap().to_string();
    let root = |params: Vec<(&'static str, String)>| {
        let scim = scim.clone();
        async move {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            scim.query("/", &params).await
        }
    };
    let ids = |r: &Value| -> Vec<String> {
        r["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };

    // A filter both types answer, sorted by an attribute both have.
    let ours = r#"externalId sw "root-""#.to_string();
    let r = root(vec![
        ("filter", ours.clone()),
        ("sortBy", "externalId".into()),
    ])
    .await;
    let list = r.scim(200).clone();
    assert_eq!(list["schemas"], json!([LIST]));
    assert_eq!(list["totalResults"], 3);
    assert_eq!(ids(&list), vec![g.clone(), u1.clone(), u2.clone()]);
    assert_eq!(list["Resources"][0]["meta"]["resourceType"], "Group");
    assert_eq!(list["Resources"][0]["schemas"], json!([GROUP]));
    assert_eq!(list["Resources"][1]["meta"]["resourceType"], "User");
    let r = root(vec![
        ("filter", ours.clone()),
        ("sortBy", "externalId".into()),
        ("sortOrder", "descending".into()),
        ("startIndex", "2".into()),
        ("count", "1".into()),
    ])
    .await;
    assert_eq!(r.scim(200)["totalResults"], 3);
    assert_eq!(ids(r.scim(200)), vec![u1.clone()]);
    // Unsorted: users, then groups; the window spans both.
    let r = root(vec![
        ("filter", ours.clone()),
        ("startIndex", "2".into()),
        ("count", "5".into()),
    ])
    .await;
    assert_eq!(ids(r.scim(200)), vec![u2.clone(), g.clone()]);
    // userName is the User's only: no group matches it, `not` of it does.
    let r = root(vec![(
        "filter",
        r#"userName sw "root-" or displayName eq "Root Group""#.into(),
    )])
    .await;
    assert_eq!(ids(r.scim(200)), vec![u1.clone(), u2.clone(), g.clone()]);
    let r = root(vec![(
        "filter",
        format!(r#"{ours} and not (userName sw "root-")"#),
    )])
    .await;
    assert_eq!(ids(r.scim(200)), vec![g.clone()]);
    // A sort attribute only users have: groups have none and come last.
    let r = root(vec![
        ("filter", ours.clone()),
        ("sortBy", "userName".into()),
    ])
    .await;
    assert_eq!(ids(r.scim(200)), vec![u1.clone(), u2.clone(), g.clone()]);
    let r = root(vec![("filter", format!("{ours} and members pr"))]).await;
    assert_eq!(ids(r.scim(200)), vec![g.clone()]);

    // POST /.search: the same in a body.
    let r = scim
        .post(
            "/.search",
            json!({ "schemas": [SEARCH], "filter": ours, "sortBy": "externalId",
                    "attributes": ["externalId"], "count": 2 }),
        )
        .await;
    let list = r.scim(200).clone();
    assert_eq!(list["totalResults"], 3);
    assert_eq!(list["itemsPerPage"], 2);
    assert_eq!(list["Resources"][0]["externalId"], "root-1");
    assert!(list["Resources"][0].get("displayName").is_none());

    // An attribute neither type has: 400 invalidFilter.
    let r = root(vec![("filter", r#"shoeSize eq "42""#.into())]).await;
    r.scim_error(400, Some("invalidFilter"));
    assert_eq!(r.body["schemas"], json!([ERROR]));
}
