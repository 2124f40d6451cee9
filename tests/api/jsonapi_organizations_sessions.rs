//! JSON:API `organizations` and `account_sessions` (docs/api/jsonapi.md).

use reqwest::Method;
use serde_json::json;

use crate::support::jsonapi::{doc, doc_for};
use crate::support::{pluck, shared, tenant, Backend, PASSWORD};

on_both_backends!(
    organizations_crud_and_query,
    organizations_reject_bad_input,
    sessions_are_the_sign_in_sessions,
    sessions_filters_include_and_delete,
);

/// Organizations index/show/create(200)/update(200)/delete(204),
/// filters on name, name__match, created_at range; deleting one that
/// still has accounts is refused.
async fn organizations_crud_and_query(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let mut ids = Vec::new();
    for name in ["Research", "Sales", "Research Labs"] {
        let org = t.create_organization(name).await;
        assert_eq!(org["type"], "organizations");
        assert_eq!(org["attributes"]["name"], name);
        ids.push(org["id"].as_str().unwrap().to_string());
    }
    let list = t
        .owner
        .jsonapi_get("/api/v1/organizations?filter[name__match]=research&sort=-name&count=true")
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    let names: Vec<&str> = pluck(&list.body["data"], "/attributes/name");
    assert_eq!(names, ["Research Labs", "Research"]);
    assert_eq!(list.body["meta"]["count"], 2);
    let exact = t
        .owner
        .jsonapi_get("/api/v1/organizations?filter[name]=SALES")
        .await;
    assert_eq!(exact.body["data"].as_array().unwrap().len(), 1);
    let ranged = t
        .owner
        .jsonapi_get("/api/v1/organizations?filter[created_at__gte]=2000-01-01&filter[created_at__lte]=2999-01-01&page[size]=2")
        .await;
    assert_eq!(ranged.body["data"].as_array().unwrap().len(), 2);
    assert!(ranged.body["links"]["next"].is_string());

    let path = format!("/api/v1/organizations/{}", ids[1]);
    let r = t
        .owner
        .jsonapi(
            Method::PATCH,
            &path,
            Some(doc_for(
                "organizations",
                &ids[1],
                json!({ "name": "Sales EMEA" }),
            )),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["attributes"]["name"], "Sales EMEA");
    let shown = t.owner.jsonapi_get(&path).await;
    assert_eq!(shown.body["data"]["attributes"]["name"], "Sales EMEA");

    // An organization with accounts stays until they leave it.
    let account = t
        .owner
        .jsonapi(
            Method::POST,
            "/api/v1/accounts",
            Some(json!({ "data": { "type": "accounts",
                "attributes": { "name": "Org Member", "email": t.email("om"), "password": PASSWORD },
                "relationships": { "organization": { "data": { "type": "organizations", "id": ids[1] } } } } })),
        )
        .await;
    assert_eq!(account.status, 200, "{}", account.text);
    let r = t.owner.jsonapi_delete(&path).await;
    r.jsonapi_error(409, None);
    let account_id = account.body["data"]["id"].as_str().unwrap();
    t.owner
        .jsonapi_delete(&format!("/api/v1/accounts/{account_id}"))
        .await;
    let r = t.owner.jsonapi_delete(&path).await;
    assert_eq!(r.status, 204, "{}", r.text);
    t.owner.jsonapi_get(&path).await.jsonapi_error(404, None);

    // Members may not manage organizations; other tenants do not see them.
    let member = t.user("plain").await;
    member
        .api
        .jsonapi_get("/api/v1/organizations")
        .await
        .jsonapi_error(403, None);
    let other = app.new_tenant().await;
    other
        .owner
        .jsonapi_get(&format!("/api/v1/organizations/{}", ids[0]))
        .await
        .jsonapi_error(404, None);
    let listed = other.owner.jsonapi_get("/api/v1/organizations").await;
    assert!(listed.body["data"].as_array().unwrap().is_empty());
}

async fn organizations_reject_bad_input(b: Backend) {
    let t = tenant(b).await;
    t.create_organization("Unique").await;
    for (body, status, pointer) in [
        (
            doc("organizations", json!({ "name": "unique" })),
            409,
            Some("/data/attributes/name"),
        ),
        (
            doc("organizations", json!({ "name": "" })),
            400,
            Some("/data/attributes/name"),
        ),
        (
            doc("organizations", json!({ "name": 7 })),
            400,
            Some("/data/attributes/name"),
        ),
        (
            doc("organizations", json!({})),
            400,
            Some("/data/attributes/name"),
        ),
        (
            doc("organizations", json!({ "name": "X", "budget": 1 })),
            400,
            Some("/data/attributes/budget"),
        ),
        (
            doc("accounts", json!({ "name": "X" })),
            409,
            Some("/data/type"),
        ),
    ] {
        let r = t
            .owner
            .jsonapi(Method::POST, "/api/v1/organizations", Some(body))
            .await;
        r.jsonapi_error(status, pointer.map(|p| json!({ "pointer": p })));
    }
    let list = t
        .owner
        .jsonapi_get("/api/v1/organizations?count=true")
        .await;
    assert_eq!(list.body["meta"]["count"], 1, "nothing written");
    for (query, parameter) in [
        ("filter[budget]=1", "filter[budget]"),
        ("sort=budget", "sort"),
        ("included=accounts", "included"),
        ("filter[name__in]=a", "filter[name__in]"),
    ] {
        let r = t
            .owner
            .jsonapi_get(&format!("/api/v1/organizations?{query}"))
            .await;
        if parameter == "filter[name__in]" {
            assert_eq!(r.status, 200, "__in is equality's list form: {}", r.text);
        } else {
            r.jsonapi_error(400, Some(json!({ "parameter": parameter })));
        }
    }
}

/// Account sessions: account_id, refresh_seq, nonce, user_agent,
/// ip, created_at and the account relationship; the same sessions as
/// /api/v1/auth/sessions.
async fn sessions_are_the_sign_in_sessions(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("roamer").await;
    let phone = user
        .api
        .anonymous()
        .with_user_agent(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1",
        )
        .login(&user.email, PASSWORD)
        .await;
    let refreshed = t
        .anonymous()
        .try_refresh(phone.refresh_token.as_deref().unwrap())
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);

    let r = t
        .owner
        .jsonapi_get(&format!(
            "/api/v1/account_sessions?filter[account_id]={}&sort=created_at",
            user.id
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sessions = r.body["data"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{}", r.text);
    let second = &sessions[1];
    assert_eq!(second["type"], "account_sessions");
    let a = &second["attributes"];
    assert_eq!(a["account_id"], user.id);
    assert_eq!(a["refresh_seq"], 1);
    assert!(a["nonce"].as_str().is_some_and(|n| n.len() >= 16));
    assert!(a["user_agent"].as_str().unwrap().contains("iPhone"));
    assert_eq!(a["ip"], "127.0.0.1");
    assert!(a["created_at"].is_string());
    assert_eq!(
        second["relationships"]["account"]["data"],
        json!({ "type": "accounts", "id": user.id })
    );
    // The same session ids the native list shows.
    let native = user.api.get("/api/v1/auth/sessions").await;
    let mut native_ids: Vec<String> = native.ok()["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let mut ids: Vec<String> = sessions
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    native_ids.sort();
    ids.sort();
    assert_eq!(ids, native_ids);

    // A member sees only their own sessions.
    let own = user
        .api
        .jsonapi_get("/api/v1/account_sessions?count=true")
        .await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.body["meta"]["count"], 2);
    assert!(own.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["attributes"]["account_id"] == user.id));
}

/// Filters on sessions, `included=account` without duplicates, and delete
/// (204) which ends the session at once.
async fn sessions_filters_include_and_delete(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let user = t.user("twice").await;
    let second = user
        .api
        .anonymous()
        .with_user_agent("curl/8.5.0")
        .login(&user.email, PASSWORD)
        .await;
    let r = t
        .owner
        .jsonapi_get(&format!("/api/v1/account_sessions?filter[account_id]={}&included=account&fields[accounts]=email", user.id))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    let included = r.body["included"].as_array().unwrap();
    assert_eq!(
        included.len(),
        1,
        "the account once, not per session: {}",
        r.text
    );
    assert_eq!(included[0]["type"], "accounts");
    assert_eq!(included[0]["attributes"], json!({ "email": user.email }));

    let r = t
        .owner
        .jsonapi_get("/api/v1/account_sessions?filter[user_agent__match]=CURL")
        .await;
    let found = r.body["data"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{}", r.text);
    let session_id = found[0]["id"].as_str().unwrap().to_string();
    let r = t
        .owner
        .jsonapi_get("/api/v1/account_sessions?filter[refresh_seq__gte]=1")
        .await;
    assert!(r.body["data"].as_array().unwrap().is_empty());
    let r = t
        .owner
        .jsonapi_get(&format!(
            "/api/v1/account_sessions?filter[id]={session_id}&filter[ip]=127.0.0.1"
        ))
        .await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    for (query, parameter) in [
        ("filter[refresh_seq]=one", "filter[refresh_seq]"),
        ("filter[account_id]=nobody", "filter[account_id]"),
        ("included=organization", "included"),
        ("filter[device]=x", "filter[device]"),
    ] {
        t.owner
            .jsonapi_get(&format!("/api/v1/account_sessions?{query}"))
            .await
            .jsonapi_error(400, Some(json!({ "parameter": parameter })));
    }

    // Another member cannot end this session; the owner can, at once.
    let other = t.user("nosy").await;
    other
        .api
        .jsonapi_delete(&format!("/api/v1/account_sessions/{session_id}"))
        .await
        .jsonapi_error(404, None);
    second.me().await.ok();
    let r = t
        .owner
        .jsonapi_delete(&format!("/api/v1/account_sessions/{session_id}"))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    second.me().await.expect(401, "UNAUTHORIZED");
    t.owner
        .jsonapi_delete(&format!("/api/v1/account_sessions/{session_id}"))
        .await
        .jsonapi_error(404, None);
    // The user may end their own remaining session.
    let mine = user.api.jsonapi_get("/api/v1/account_sessions").await;
    let mine_id = mine.body["data"][0]["id"].as_str().unwrap().to_string();
    let r = user
        .api
        .jsonapi_delete(&format!("/api/v1/account_sessions/{mine_id}"))
        .await;
    assert_eq!(r.status, 204);
    // A session of another tenant is not found.
    let foreign = app.new_tenant().await;
    let list = foreign.owner.jsonapi_get("/api/v1/account_sessions").await;
    let foreign_session = list.body["data"][0]["id"].as_str().unwrap().to_string();
    t.owner
        .jsonapi_delete(&format!("/api/v1/account_sessions/{foreign_session}"))
        .await
        .jsonapi_error(404, None);
}
