//! SCIM tokens (docs/api/scim.md; the Aritma `POST /core/iam/v1/scim`) and who
//! may use the SCIM service: a token works only on /scim/v2 and only for its
//! tenant; user tokens need scim permissions.

use serde_json::json;

use crate::support::scim::{replace, Scim};
use crate::support::sso::azure_ad_body;
use crate::support::{shared, tenant, Backend};

on_both_backends!(
    tokens_are_shown_once_listed_without_secret_and_revoked_at_once,
    the_aritma_form_creates_the_same_tokens,
    the_aritma_form_lists_and_revokes_the_same_tokens,
    token_management_needs_scim_write,
    a_scim_token_works_only_on_scim_and_only_for_its_tenant,
    user_tokens_need_scim_permissions,
    scim_requests_count_against_the_tenant_plan,
);

/// The secret (`scim_live_` + 256 random bits) is returned
/// once; lists never show it; DELETE revokes it at once.
async fn tokens_are_shown_once_listed_without_secret_and_revoked_at_once(b: Backend) {
    let t = tenant(b).await;
    let r = t
        .owner
        .post("/api/v1/scim/tokens", json!({ "name": "Entra ID" }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.ok().clone();
    let secret = created["token"].as_str().unwrap().to_string();
    let body = secret.strip_prefix("scim_live_").expect("prefix");
    // 256 bits in unpadded base64url is 43 characters.
    assert_eq!(body.len(), 43, "{secret}");
    assert!(body
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    assert_eq!(created["name"], "Entra ID");

    // A second token: several per tenant, each different.
    let second = t
        .owner
        .post("/api/v1/scim-tokens", json!({ "name": "Okta" }))
        .await;
    let second_secret = second.ok()["token"].as_str().unwrap().to_string();
    assert_ne!(secret, second_secret);

    let list = t.owner.get("/api/v1/scim/tokens").await;
    let tokens = list.ok()["tokens"].as_array().unwrap().clone();
    assert_eq!(tokens.len(), 2);
    assert!(!list.text.contains(&secret) && !list.text.contains(&second_secret));
    assert!(tokens.iter().all(|t| t.get("token").is_none()));
    assert!(tokens[0]["tokenHint"]
        .as_str()
        .unwrap()
        .ends_with(&secret[secret.len() - 4..]));

    let scim = Scim::new(&t.owner, &secret);
    scim.get("/Users").await.scim(200);
    let listed = t.owner.get("/api/v1/scim/tokens").await;
    assert!(
        listed.ok()["tokens"][0]["lastUsedAt"].is_string(),
        "{}",
        listed.text
    );

    let id = created["id"].as_str().unwrap();
    let r = t.owner.delete(&format!("/api/v1/scim/tokens/{id}")).await;
    r.ok();
    scim.get("/Users").await.scim_error(401, None);
    // The other token still works.
    Scim::new(&t.owner, &second_secret)
        .get("/Users")
        .await
        .scim(200);
    t.owner
        .delete(&format!("/api/v1/scim/tokens/{id}"))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    t.owner
        .delete("/api/v1/scim/tokens/not-a-uuid")
        .await
        .expect(404, "RESOURCE_NOT_FOUND");

    // Creation and revocation are audited.
    let audit = t.audit("action=scim.token_created").await;
    assert_eq!(audit.ok()["total"], 2, "{}", audit.text);
    let audit = t.audit("action=scim.token_revoked").await;
    assert_eq!(audit.ok()["total"], 1, "{}", audit.text);

    // Bad input: wrong types and unknown fields change nothing.
    let r = t
        .owner
        .post("/api/v1/scim/tokens", json!({ "name": 5 }))
        .await;
    r.invalid(&["name"]);
    let r = t
        .owner
        .post("/api/v1/scim/tokens", json!({ "scope": "all" }))
        .await;
    r.expect(400, "VALIDATION_ERROR");
    assert_eq!(t.owner.get("/api/v1/scim/tokens").await.ok()["total"], 1);
}

/// Aritma `POST /v1/scim` {provider, providerDisplayName} answers
/// {id, token, provider, providerDisplayName}; it is the same token.
async fn the_aritma_form_creates_the_same_tokens(b: Backend) {
    let t = tenant(b).await;
    let create = || {
        t.owner.post(
            "/core/iam/v1/scim",
            json!({ "provider": "azure-ad", "providerDisplayName": "Contoso Entra" }),
        )
    };
    // `provider` is the scheme of an existing SSO provider (docs/api/iam.md)
    let r = create().await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("provider"), "{}", r.text);
    t.create_provider("azuread", azure_ad_body("Contoso Entra"))
        .await;
    let r = create().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["provider"], "azure-ad");
    assert_eq!(r.body["providerDisplayName"], "Contoso Entra");
    let secret = r.body["token"].as_str().unwrap();
    assert!(secret.starts_with("scim_live_"));
    Scim::new(&t.owner, secret).get("/Users").await.scim(200);
    let list = t.owner.get("/api/v1/scim/tokens").await;
    assert_eq!(list.ok()["tokens"][0]["provider"], "azure-ad");
    assert_eq!(list.ok()["tokens"][0]["id"], r.body["id"]);

    let r = t
        .owner
        .post("/core/iam/v1/scim", json!({ "provider": "azure-ad" }))
        .await;
    r.invalid(&["providerDisplayName"]);
}

/// Aritma `GET /v1/scim` lists the rows of
/// /api/v1/scim/tokens without secrets, `DELETE /v1/scim/{id}` revokes one
/// (200, no content), under the same rules: scim:read and scim:write, a
/// token revoked only by someone holding what it holds, the tenant's own
/// tokens only, and every error as problem details.
async fn the_aritma_form_lists_and_revokes_the_same_tokens(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    t.create_provider("azuread", azure_ad_body("Contoso Entra"))
        .await;
    let aritma = t
        .owner
        .post(
            "/core/iam/v1/scim",
            json!({ "provider": "azure-ad", "providerDisplayName": "Contoso Entra" }),
        )
        .await;
    assert_eq!(aritma.status, 200, "{}", aritma.text);
    let aritma_secret = aritma.body["token"].as_str().unwrap().to_string();
    let native = t
        .owner
        .post("/api/v1/scim/tokens", json!({ "name": "Okta" }))
        .await;
    let native_secret = native.ok()["token"].as_str().unwrap().to_string();
    let native_id = native.ok()["id"].as_str().unwrap().to_string();

    let r = t.owner.get("/core/iam/v1/scim").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains(&aritma_secret) && !r.text.contains(&native_secret));
    let listed = r.body.as_array().unwrap().clone();
    let ids: Vec<&str> = listed.iter().map(|t| t["id"].as_str().unwrap()).collect();
    let rows = t.owner.get("/api/v1/scim/tokens").await;
    let native_ids: Vec<&str> = rows.ok()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, native_ids);
    assert_eq!(ids, [aritma.body["id"].as_str().unwrap(), &native_id]);
    assert_eq!(listed[0]["provider"], "azure-ad");
    assert_eq!(listed[0]["providerDisplayName"], "Contoso Entra");
    assert_eq!(listed[1]["name"], "Okta");
    assert!(listed[1]["provider"].is_null());
    assert!(listed[1]["tokenHint"]
        .as_str()
        .unwrap()
        .ends_with(&native_secret[native_secret.len() - 4..]));
    assert!(listed.iter().all(|t| t.get("token").is_none()));

    // Reading takes scim:read, revoking scim:write, in problem details.
    let member = t.user("member").await;
    let r = member.api.get("/core/iam/v1/scim").await;
    r.expect(403, "FORBIDDEN");
    assert!(r.problem().is_some(), "{}", r.text);
    let r = member
        .api
        .delete(&format!("/core/iam/v1/scim/{native_id}"))
        .await;
    r.expect(403, "FORBIDDEN");
    assert!(r.problem().is_some(), "{}", r.text);
    // A token holds what its maker (the owner) holds of provisioning: who
    // manages tokens without managing users may not revoke it.
    let token_admin = t
        .user_holding("token-admin", &["scim:read", "scim:write"])
        .await;
    let seen = token_admin.api.get("/core/iam/v1/scim").await;
    assert_eq!(seen.body, t.owner.get("/core/iam/v1/scim").await.body);
    let r = token_admin
        .api
        .delete(&format!("/core/iam/v1/scim/{native_id}"))
        .await;
    r.expect(403, "FORBIDDEN");
    Scim::new(&t.owner, &native_secret)
        .get("/Users")
        .await
        .scim(200);

    // Another tenant sees none of them and cannot revoke them.
    let other = app.new_tenant().await;
    let r = other.owner.get("/core/iam/v1/scim").await;
    assert_eq!(r.body, json!([]), "{}", r.text);
    let r = other
        .owner
        .delete(&format!("/core/iam/v1/scim/{native_id}"))
        .await;
    r.expect(404, "RESOURCE_NOT_FOUND");
    assert!(r.problem().is_some(), "{}", r.text);

    // The owner revokes: 200 with no content, refused at its next use, gone
    // from both lists, audited like the native revocation.
    let r = t
        .owner
        .delete(&format!("/core/iam/v1/scim/{native_id}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.is_empty(), "{}", r.text);
    Scim::new(&t.owner, &native_secret)
        .get("/Users")
        .await
        .scim_error(401, None);
    Scim::new(&t.owner, &aritma_secret)
        .get("/Users")
        .await
        .scim(200);
    let r = t.owner.get("/core/iam/v1/scim").await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(t.owner.get("/api/v1/scim/tokens").await.ok()["total"], 1);
    let audit = t.audit("action=scim.token_revoked").await;
    assert_eq!(audit.ok()["total"], 1, "{}", audit.text);
    for gone in [native_id.as_str(), "not-a-uuid"] {
        let r = t.owner.delete(&format!("/core/iam/v1/scim/{gone}")).await;
        r.expect(404, "RESOURCE_NOT_FOUND");
        assert!(r.problem().is_some(), "{}", r.text);
    }
}

/// Managing tokens takes scim:write (members have none).
async fn token_management_needs_scim_write(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let member = t.user("member").await;
    member
        .api
        .post("/api/v1/scim/tokens", json!({}))
        .await
        .expect(403, "FORBIDDEN");
    member
        .api
        .get("/api/v1/scim/tokens")
        .await
        .expect(403, "FORBIDDEN");
    let id = t.owner.post("/api/v1/scim/tokens", json!({})).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    member
        .api
        .delete(&format!("/api/v1/scim/tokens/{id}"))
        .await
        .expect(403, "FORBIDDEN");
    t.anonymous()
        .post("/api/v1/scim/tokens", json!({}))
        .await
        .expect(401, "UNAUTHORIZED");
    // Another tenant's owner cannot see or revoke it.
    let other = app.new_tenant().await;
    other
        .owner
        .delete(&format!("/api/v1/scim/tokens/{id}"))
        .await
        .expect(404, "RESOURCE_NOT_FOUND");
    assert_eq!(
        other.owner.get("/api/v1/scim/tokens").await.ok()["total"],
        0
    );
    assert_eq!(t.owner.get("/api/v1/scim/tokens").await.ok()["total"], 1);
}

/// A SCIM token works only on /scim/v2 and only for its tenant;
/// Aritma's `/{tenantId}/api/scim/v2` must name the token's tenant, else
/// 404; another tenant's users are 404s.
async fn a_scim_token_works_only_on_scim_and_only_for_its_tenant(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let scim = t.scim().await;
    let secret = scim.api.token.clone().unwrap();

    // Not a credential for the native API.
    let native = t.anonymous().with_token(&secret);
    native
        .get("/api/v1/users")
        .await
        .expect(401, "UNAUTHORIZED");
    native.me().await.expect(401, "UNAUTHORIZED");

    // Aritma's form with the token's own tenant works; another is a 404.
    let mine = scim.at_tenant(&t.id);
    let r = mine.get("/Users").await;
    assert_eq!(r.scim(200)["totalResults"], 1);
    assert!(r.body["Resources"][0]["meta"]["location"]
        .as_str()
        .unwrap()
        .contains(&format!("/{}/api/scim/v2/Users/", t.id)));
    scim.at_tenant(&other.id)
        .get("/Users")
        .await
        .scim_error(404, None);
    scim.at_tenant("not-a-tenant")
        .get("/Users")
        .await
        .scim_error(404, None);
    // X-Tenant-ID naming another tenant does not switch tenants.
    let switched = Scim {
        api: scim.api.with_tenant(&other.id),
        ..scim.clone()
    };
    switched.get("/Users").await.scim_error(404, None);

    // Another tenant's user is unknown here.
    let theirs = other
        .scim()
        .await
        .create_user("victim@other.example", json!({}))
        .await;
    scim.get(&format!("/Users/{theirs}"))
        .await
        .scim_error(404, None);
    scim.delete(&format!("/Users/{theirs}"))
        .await
        .scim_error(404, None);
    scim.patch(&format!("/Users/{theirs}"), replace("title", "x"))
        .await
        .scim_error(404, None);
    let still = other.owner.get(&format!("/api/v1/users/{theirs}")).await;
    still.ok();

    // Garbage tokens, missing tokens, and tokens of suspended tenants.
    Scim::new(&t.owner, "scim_live_nope")
        .get("/Users")
        .await
        .scim_error(401, None);
    Scim::new(&t.owner, "not-even-a-jwt")
        .get("/Users")
        .await
        .scim_error(401, None);
    let anonymous = Scim {
        api: t.anonymous(),
        ..scim.clone()
    };
    let r = anonymous.get("/Users").await;
    r.scim_error(401, None);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer")),
        "{:?}",
        r.headers
    );
    // A suspended tenant's tokens stop working.
    let their_scim = other.scim().await;
    their_scim.get("/Users").await.scim(200);
    let admin = app.admin().await;
    admin
        .post(&format!("/api/v1/tenants/{}/suspend", other.id), json!({}))
        .await
        .ok();
    their_scim.get("/Users").await.scim_error(403, None);
}

/// User tokens do not work on /scim/v2 unless they carry scim
/// permissions (scim:read for reads, scim:write for changes).
async fn user_tokens_need_scim_permissions(b: Backend) {
    let t = tenant(b).await;
    let member = t.user("member").await;
    let as_member = Scim {
        api: member.api.clone(),
        prefix: "/scim/v2".into(),
    };
    as_member.get("/Users").await.scim_error(403, None);

    // A role with scim:read may read, not write.
    let role_id = t
        .role_with("scim-reader", &["scim:read", "user:read", "group:read"])
        .await;
    t.give_role(&member.id, &role_id).await;
    let r = as_member.get("/Users").await;
    assert_eq!(r.scim(200)["totalResults"], 2);
    as_member
        .post(
            "/Users",
            json!({ "schemas": [crate::support::scim::USER], "userName": "x@y.example" }),
        )
        .await
        .scim_error(403, None);
    // A search is a read.
    let r = as_member
        .post(
            "/Users/.search",
            json!({ "schemas": [crate::support::scim::SEARCH], "count": 1 }),
        )
        .await;
    assert_eq!(r.scim(200)["itemsPerPage"], 1);

    // The owner holds every permission, scim:write included.
    let as_owner = Scim {
        api: t.owner.clone(),
        prefix: "/scim/v2".into(),
    };
    as_owner
        .create_user("made-by-owner@x.example", json!({}))
        .await;
}

/// A tenant's plan sets its rate limit; a sync job's requests are
/// the tenant's requests, counted with its users' (X-RateLimit-* headers).
async fn scim_requests_count_against_the_tenant_plan(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let first = scim.get("/Users").await;
    let limit: u32 = first.header("x-ratelimit-limit").unwrap().parse().unwrap();
    // The "pro" plan of the test tenants, not the anonymous limit.
    assert_eq!(limit, 1000);
    let before: u32 = first
        .header("x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    t.owner.me().await.ok();
    let after = scim.get("/Users").await;
    let remaining: u32 = after
        .header("x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    assert!(remaining <= before - 2, "{before} -> {remaining}");
}
