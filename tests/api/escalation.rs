//! No privilege escalation (docs/security.md): a caller hands out
//! only what it holds, manages only subjects holding no more than it does,
//! and every credential it makes is bounded by it. The attacks found in
//! review are named tests here; `escalation_property.rs` tries random ones.

use serde_json::{json, Value};

use crate::support::oauth::{post_form, Auth};
use crate::support::scim::{replace, Scim};
use crate::support::{tenant, Api, Backend, TestTenant, PASSWORD};

on_both_backends!(
    an_admin_cannot_take_over_the_owner_through_a_scim_token,
    a_scim_only_role_cannot_take_over_the_owner,
    group_writers_cannot_join_a_group_that_holds_more,
    user_writers_cannot_manage_users_empowered_by_policies_or_groups,
    a_scim_token_holds_no_more_than_its_maker,
    client_credentials_are_bounded_by_their_manager,
    refused_attempts_are_audited,
);

/// The `authz.denied` events of an actor.
async fn denials(t: &TestTenant, actor: &str) -> Vec<Value> {
    let r = t
        .audit(&format!("action=authz.denied&actorId={actor}&limit=100"))
        .await;
    r.ok()["events"].as_array().unwrap().clone()
}

async fn token_of(api: &Api) -> String {
    let r = api
        .post("/api/v1/scim/tokens", json!({ "name": "sync" }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.ok()["token"].as_str().unwrap().to_string()
}

async fn scim_patch(api: &Api, token: &str, user: &str, ops: Value) -> crate::support::Resp {
    Scim::new(api, token)
        .patch(&format!("/Users/{user}"), ops)
        .await
}

/// The owner still signs in with their password, and nobody with another.
async fn owner_untouched(t: &TestTenant, tried: &str) {
    let r = t
        .anonymous()
        .with_tenant(&t.id)
        .try_login(&t.owner_email, tried)
        .await;
    assert_eq!(r.status, 401, "the new password does not work: {}", r.text);
    t.anonymous()
        .with_tenant(&t.id)
        .login(&t.owner_email, PASSWORD)
        .await;
}

/// An admin (who may not touch the owner directly)
/// mints a SCIM token and sets the owner's password through it. The token
/// holds no more than the admin, so the owner is out of its reach.
async fn an_admin_cannot_take_over_the_owner_through_a_scim_token(b: Backend) {
    let t = tenant(b).await;
    let admin = t.user("adam").await;
    t.give_role(&admin.id, &t.role_id("admin").await).await;
    // Directly: refused.
    let r = admin
        .api
        .patch(
            &format!("/api/v1/users/{}", t.owner_id),
            json!({ "email": t.email("mine") }),
        )
        .await;
    r.expect(403, "FORBIDDEN");
    // Through a token the admin made: refused as well.
    let token = token_of(&admin.api).await;
    let r = scim_patch(
        &admin.api,
        &token,
        &t.owner_id,
        replace("password", "Taken!0ver"),
    )
    .await;
    r.scim_error(403, None);
    for ops in [
        json!([{ "op": "replace", "path": "active", "value": false }]),
        json!([{ "op": "replace", "path": "emails", "value": [{ "value": t.email("mine"), "primary": true }] }]),
    ] {
        scim_patch(&admin.api, &token, &t.owner_id, ops)
            .await
            .scim_error(403, None);
    }
    owner_untouched(&t, "Taken!0ver").await;
    // An ordinary user stays the token's to provision.
    let member = t.user("mo").await;
    let r = scim_patch(
        &admin.api,
        &token,
        &member.id,
        replace("password", "Fresh!Pass1"),
    )
    .await;
    r.scim(200);
}

/// The same with less: a role holding only scim:read and
/// scim:write mints a token, which then holds nothing it could provision
/// with.
async fn a_scim_only_role_cannot_take_over_the_owner(b: Backend) {
    let t = tenant(b).await;
    let syncer = t.user_holding("sid", &["scim:read", "scim:write"]).await;
    let token = token_of(&syncer.api).await;
    let r = scim_patch(
        &syncer.api,
        &token,
        &t.owner_id,
        replace("password", "Taken!0ver"),
    )
    .await;
    r.scim_error(403, None);
    owner_untouched(&t, "Taken!0ver").await;
    let member = t.user("mo").await;
    let r = scim_patch(
        &syncer.api,
        &token,
        &member.id,
        replace("password", "Fresh!Pass1"),
    )
    .await;
    r.scim_error(403, None);
    let r = crate::support::scim::Scim::new(&syncer.api, &token)
        .get("/Users")
        .await;
    r.scim_error(403, None);
}

/// With group:read and group:write a user adds itself
/// to a group that a policy makes all-powerful, natively or through the
/// IAM API. Joining hands over what the group holds, which the caller
/// lacks.
async fn group_writers_cannot_join_a_group_that_holds_more(b: Backend) {
    let t = tenant(b).await;
    let mallory = t
        .user_holding("mallory", &["group:read", "group:write"])
        .await;
    let mighty = t.group("Mighty").await;
    t.policy(&format!("group-{mighty}"), "iam", "/").await;
    let harmless = t.group("Harmless").await;

    let r = mallory
        .api
        .post(
            &format!("/api/v1/groups/{mighty}/members"),
            json!({ "userId": mallory.id }),
        )
        .await;
    r.expect(403, "FORBIDDEN");
    let r = mallory
        .api
        .post(
            &format!("/core/iam/v1/subjects/groups/group-{mighty}/members"),
            json!({ "subjectIds": [format!("user-{}", mallory.id)] }),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    mallory
        .api
        .get("/api/v1/users")
        .await
        .expect(403, "FORBIDDEN");
    mallory
        .api
        .put(
            "/api/v1/settings",
            json!({ "sessions": { "lifetimeMinutes": 60 } }),
        )
        .await
        .expect(403, "FORBIDDEN");
    let members = t
        .owner
        .get(&format!("/api/v1/groups/{mighty}/members"))
        .await;
    assert_eq!(members.ok()["total"], 0, "{}", members.text);
    // A group that holds nothing is theirs to fill.
    let r = mallory
        .api
        .post(
            &format!("/api/v1/groups/{harmless}/members"),
            json!({ "userId": mallory.id }),
        )
        .await;
    assert!(r.status < 300, "{}", r.text);
    // Nor can they take the group's power away from its members, or the
    // group itself: both change what the group's members hold.
    let owner_in = t
        .owner
        .post(
            &format!("/api/v1/groups/{mighty}/members"),
            json!({ "userId": t.owner_id }),
        )
        .await;
    assert!(owner_in.status < 300, "{}", owner_in.text);
    mallory
        .api
        .delete(&format!("/api/v1/groups/{mighty}/members/{}", t.owner_id))
        .await
        .expect(403, "FORBIDDEN");
    mallory
        .api
        .delete(&format!("/api/v1/groups/{mighty}"))
        .await
        .expect(403, "FORBIDDEN");
}

/// user:read + user:write once changed the email of, and
/// suspended, users whose power comes from a policy or a group, because
/// only roles on `/` counted. Everything they hold counts now, on any
/// scope.
async fn user_writers_cannot_manage_users_empowered_by_policies_or_groups(b: Backend) {
    let t = tenant(b).await;
    let mallory = t
        .user_holding("mallory", &["user:read", "user:write"])
        .await;
    let by_policy = t.user("polly").await;
    t.policy(&format!("user-{}", by_policy.id), "iam.settings", "/")
        .await;
    let by_group = t.user("greta").await;
    let g = t.group("Settings people").await;
    t.policy(&format!("group-{g}"), "iam.tenant.write", "/")
        .await;
    let r = t
        .owner
        .post(
            &format!("/api/v1/groups/{g}/members"),
            json!({ "userId": by_group.id }),
        )
        .await;
    assert!(r.status < 300, "{}", r.text);
    let narrow = t.user("nora").await;
    t.policy(&format!("user-{}", narrow.id), "iam.client", "/apps/1")
        .await;

    for victim in [&by_policy, &by_group, &narrow] {
        let path = format!("/api/v1/users/{}", victim.id);
        mallory
            .api
            .patch(&path, json!({ "email": t.email("taken") }))
            .await
            .expect(403, "FORBIDDEN");
        mallory
            .api
            .post(&format!("{path}/suspend"), json!({}))
            .await
            .expect(403, "FORBIDDEN");
        mallory.api.delete(&path).await.expect(403, "FORBIDDEN");
        // JSON:API is the same rule.
        let r = mallory
            .api
            .update_account(&victim.id, json!({ "enabled": false }))
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        victim.api.me().await.ok();
    }
    // Someone holding nothing more is theirs to manage.
    let plain = t.user("plain").await;
    let r = mallory
        .api
        .post(&format!("/api/v1/users/{}/suspend", plain.id), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// A token holds at most what its maker holds at the
/// moment of use: a permission the maker loses, the token loses; a maker
/// suspended or deleted takes the token with them.
async fn a_scim_token_holds_no_more_than_its_maker(b: Backend) {
    let t = tenant(b).await;
    let maker = t.user("maker").await;
    let role = t
        .role_with(
            "Provisioner",
            &["user:read", "user:write", "scim:read", "scim:write"],
        )
        .await;
    t.give_role(&maker.id, &role).await;
    let token = token_of(&maker.api).await;
    let member = t.user("mo").await;
    scim_patch(&t.owner, &token, &member.id, replace("title", "One"))
        .await
        .scim(200);

    // The role loses user:write: so does the token, on its next request.
    let r = t
        .owner
        .put(
            &format!("/api/v1/roles/{role}"),
            json!({ "permissions": ["user:read", "scim:read", "scim:write"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    scim_patch(&t.owner, &token, &member.id, replace("title", "Two"))
        .await
        .scim_error(403, None);
    let r = t
        .owner
        .put(
            &format!("/api/v1/roles/{role}"),
            json!({ "permissions": ["user:read", "user:write", "scim:read", "scim:write"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    scim_patch(&t.owner, &token, &member.id, replace("title", "Three"))
        .await
        .scim(200);

    // Suspended: the token is refused; reactivated: it works again.
    let suspend = format!("/api/v1/users/{}/suspend", maker.id);
    assert_eq!(t.owner.post(&suspend, json!({})).await.status, 200);
    let r = scim_patch(&t.owner, &token, &member.id, replace("title", "Four")).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let reactivate = format!("/api/v1/users/{}/reactivate", maker.id);
    assert_eq!(t.owner.post(&reactivate, json!({})).await.status, 200);
    scim_patch(&t.owner, &token, &member.id, replace("title", "Five"))
        .await
        .scim(200);

    // Deleted: the token dies with its maker.
    let r = t.owner.delete(&format!("/api/v1/users/{}", maker.id)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = scim_patch(&t.owner, &token, &member.id, replace("title", "Six")).await;
    assert_eq!(r.status, 401, "{}", r.text);
}

/// A client's secrets and settings are credentials for what it holds:
/// someone with client:write but less than the client cannot add a secret
/// to it (and then act as it), nor change or delete it.
async fn client_credentials_are_bounded_by_their_manager(b: Backend) {
    let t = tenant(b).await;
    let mighty = t
        .new_client(&["client_credentials"], &["services.iam"])
        .await;
    t.policy(&format!("client-{mighty}"), "iam", "/").await;
    let plain = t
        .new_client(&["client_credentials"], &["services.iam"])
        .await;
    let mallory = t
        .user_holding("mallory", &["client:read", "client:write"])
        .await;
    let secret = json!({ "value": "M4llory!secret", "description": "mine" });
    let r = mallory
        .api
        .post(
            &format!("/core/iam/v1/clients/{mighty}/secrets"),
            secret.clone(),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = mallory
        .api
        .delete(&format!("/core/iam/v1/clients/{mighty}"))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // The secret was not made: it authenticates nothing.
    let r = post_form(
        &t.owner,
        "/oauth/token",
        Auth::Basic(&mighty, "M4llory!secret"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    // A client holding nothing is theirs to manage.
    let r = mallory
        .api
        .post(&format!("/core/iam/v1/clients/{plain}/secrets"), secret)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Every refused attempt is an `authz.denied` event with
/// the actor, the target and what was missing.
async fn refused_attempts_are_audited(b: Backend) {
    let t = tenant(b).await;
    let admin = t.user("adam").await;
    t.give_role(&admin.id, &t.role_id("admin").await).await;
    let r = admin
        .api
        .post(&format!("/api/v1/users/{}/suspend", t.owner_id), json!({}))
        .await;
    r.expect(403, "FORBIDDEN");
    let events = denials(&t, &admin.id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["status"], "failure");
    assert_eq!(e["actor"]["type"], "user");
    assert_eq!(e["target"]["type"], "user");
    assert_eq!(e["target"]["id"], t.owner_id);
    assert!(
        e["details"]["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "* on /"),
        "{e}"
    );
    // The refusal changed nothing, and was written although its
    // transaction was rolled back.
    t.owner.me().await.ok();

    // A SCIM token's refusal names the token as the actor.
    let token = token_of(&admin.api).await;
    scim_patch(
        &admin.api,
        &token,
        &t.owner_id,
        replace("password", "Taken!0ver"),
    )
    .await
    .scim_error(403, None);
    let tokens = t.owner.get("/api/v1/scim/tokens").await;
    let token_id = tokens.ok()["tokens"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", tokens.text))
        .to_string();
    let events = denials(&t, &token_id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor"]["type"], "scim_token");

    // A missing endpoint permission is a refusal too.
    let member = t.user("mo").await;
    member
        .api
        .get("/api/v1/audit-logs")
        .await
        .expect(403, "FORBIDDEN");
    let events = denials(&t, &member.id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["details"]["missing"], json!(["audit:read"]));
}
