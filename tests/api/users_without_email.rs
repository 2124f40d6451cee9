//! Users without an email address (RFC 7643 4.1 requires only userName;
//! Microsoft Entra ID omits `emails` for users whose `mail` is empty): they
//! provision, sign in by userName on every sign-in path, are managed
//! through PATCH, answer NO_EMAIL_ADDRESS where mail would be sent, and
//! lists, filters and sorts handle their null email (docs/api/scim.md,
//! docs/api/ithbat.md "Sign in").

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::oidc::{submit_password, AuthRequest, Pkce, REDIRECT};
use crate::support::scim::{Scim, USER};
use crate::support::smtp::shared_sink;
use crate::support::web::{query, Web};
use crate::support::{pluck, tenant, Backend, TestTenant, PASSWORD};

on_both_backends!(
    a_minimal_scim_user_provisions_signs_in_by_user_name_and_is_patched,
    one_lockout_counts_every_identifier_of_an_account,
    mail_flows_refuse_a_user_without_email,
    lists_filters_and_sorts_handle_null_emails,
);

/// The hosted sign-in page (OAuth 2.0 code flow with PKCE) typed into with
/// `identifier`: the answer to the password form.
async fn hosted_sign_in(t: &TestTenant, identifier: &str) -> crate::support::client::Resp {
    let client = t
        .create_client(json!({
            "name": "Portal",
            "description": "An application",
            "allowedGrantTypes": ["authorization_code"],
            "redirectUris": [REDIRECT],
            "allowedScopes": ["openid"],
        }))
        .await;
    let pkce = Pkce::new();
    let path = AuthRequest {
        client: &client,
        redirect: REDIRECT,
        scope: "openid",
        state: "st",
        nonce: "n",
        challenge: &pkce.challenge,
    }
    .path(&[]);
    let mut web = Web::new(&t.owner.base);
    let page = web.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Email or user name"), "{}", page.text);
    submit_password(&mut web, &page, identifier, PASSWORD).await
}

/// The issue's minimal user: `{"schemas": [User], "userName": "<uuid>"}`
/// provisions (no email invented from the userName), gets a password,
/// signs in by its userName in any case (native login, either field name,
/// and the hosted page), shows `email: null` natively, and goes through
/// PATCH add/replace/remove of emails and name.
async fn a_minimal_scim_user_provisions_signs_in_by_user_name_and_is_patched(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let user_name = uuid::Uuid::new_v4().to_string();
    let r = scim
        .post(
            "/Users",
            json!({ "schemas": [USER], "userName": user_name }),
        )
        .await;
    let created = r.scim(201).clone();
    assert_eq!(created["userName"], user_name.as_str());
    assert!(created.get("emails").is_none(), "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/Users/{id}");

    // Natively: no email, the userName shown.
    let native = t.owner.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(native.ok()["email"], Value::Null, "{}", native.text);
    assert_eq!(native.ok()["userName"], user_name.as_str());

    // A password, then sign-in by userName, case-insensitively.
    scim.patch(&path, crate::support::scim::replace("password", PASSWORD))
        .await
        .scim(200);
    let anonymous = t.anonymous();
    let me = anonymous
        .login(&user_name.to_uppercase(), PASSWORD)
        .await
        .me()
        .await;
    assert_eq!(me.ok()["id"], id.as_str());
    assert_eq!(me.ok()["email"], Value::Null);
    let by_field = anonymous
        .post(
            "/api/v1/auth/login",
            json!({ "userName": user_name, "password": PASSWORD }),
        )
        .await;
    assert_eq!(by_field.ok()["user"]["email"], Value::Null);
    assert_eq!(by_field.ok()["user"]["id"], id.as_str());
    // The hosted sign-in page takes the userName too.
    let r = hosted_sign_in(&t, &user_name).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(query(r.header("location").unwrap()).contains_key("code"));
    // A wrong password is the same refusal as for an unknown identifier.
    let wrong = anonymous.try_login(&user_name, "Wrong!pass1").await;
    let unknown = anonymous.try_login("nobody-at-all", "Wrong!pass1").await;
    wrong.expect(401, "INVALID_CREDENTIALS");
    unknown.expect(401, "INVALID_CREDENTIALS");
    assert_eq!(wrong.body, unknown.body);

    // Managed through every PATCH form.
    let ops = json!([
        { "op": "add", "path": "emails", "value": [{ "value": t.email("later"), "type": "work", "primary": true }] },
        { "op": "replace", "path": "name.givenName", "value": "Entra" },
    ]);
    let patched = scim.patch(&path, ops).await.scim(200).clone();
    assert_eq!(patched["emails"][0]["value"], t.email("later"));
    assert_eq!(patched["name"]["givenName"], "Entra");
    let native = t.owner.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(native.ok()["email"], t.email("later"));
    let removed = scim
        .patch(&path, json!([{ "op": "remove", "path": "emails" }]))
        .await
        .scim(200)
        .clone();
    assert!(removed.get("emails").is_none(), "{removed}");
    assert_eq!(scim.get(&path).await.scim(200), &removed);
    let native = t.owner.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(native.ok()["email"], Value::Null);
    // The address it no longer has names no one.
    anonymous
        .try_login(&t.email("later"), PASSWORD)
        .await
        .expect(401, "INVALID_CREDENTIALS");
    anonymous.login(&user_name, PASSWORD).await;

    // Audit labels fall back to the userName.
    let events = t.audit("action=auth.login&limit=100").await;
    let labels: Vec<&str> = pluck(&events.ok()["events"], "/actor/label");
    assert!(labels.contains(&user_name.as_str()), "{}", events.text);
}

/// One throttle per account (docs/design/sign-in.md): failures typed as
/// the email and as the userName add up to one lockout, which then holds
/// for both identifiers.
async fn one_lockout_counts_every_identifier_of_an_account(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let email = t.email("dual");
    scim.create_user(
        "dual-name",
        json!({ "emails": [{ "value": email, "primary": true }], "password": PASSWORD }),
    )
    .await;
    let anonymous = t.anonymous();
    anonymous.login("DUAL-NAME", PASSWORD).await;
    for i in 0..5 {
        let typed = if i % 2 == 0 {
            "dual-name"
        } else {
            email.as_str()
        };
        anonymous
            .try_login(typed, "Wrong!pass1")
            .await
            .expect(401, "INVALID_CREDENTIALS");
    }
    anonymous
        .try_login(&email, PASSWORD)
        .await
        .expect(403, "ACCOUNT_LOCKED");
    anonymous
        .try_login("dual-name", PASSWORD)
        .await
        .expect(403, "ACCOUNT_LOCKED");
}

/// Invitations, resends and verification mail need an address: 409
/// NO_EMAIL_ADDRESS in the dialect's envelope, nothing created or sent.
/// The public "forgot password" answers as for an unknown address.
async fn mail_flows_refuse_a_user_without_email(b: Backend) {
    let t = tenant(b).await;
    // JSON:API: an account with a user name and no email.
    let invited = t
        .owner
        .post_account(json!({ "name": "No Mail", "user_name": "no-mail" }))
        .await;
    invited.jsonapi_error(409, None);
    assert_eq!(
        invited.error()["code"],
        "NO_EMAIL_ADDRESS",
        "{}",
        invited.text
    );
    let none = t
        .owner
        .jsonapi_get("/api/v1/accounts?filter[user_name]=no-mail")
        .await;
    assert_eq!(none.body["data"], json!([]), "nothing was created");
    let account = t
        .create_account(json!({ "name": "No Mail", "user_name": "No-Mail", "password": PASSWORD }))
        .await;
    assert_eq!(account["attributes"]["email"], Value::Null);
    assert_eq!(account["attributes"]["user_name"], "No-Mail");
    let id = account["id"].as_str().unwrap();
    let resend = t
        .owner
        .jsonapi(
            Method::POST,
            &format!("/api/v1/accounts/{id}/resend_invitation"),
            None,
        )
        .await;
    resend.jsonapi_error(409, None);
    assert_eq!(resend.error()["code"], "NO_EMAIL_ADDRESS");
    t.anonymous().login("no-mail", PASSWORD).await;

    // Neither email nor user name: a validation error naming email.
    let neither = t.owner.post_account(json!({ "name": "Nobody" })).await;
    neither.jsonapi_error(400, Some(json!({ "pointer": "/data/attributes/email" })));

    // The public forgot-password flows: an address only a userName has
    // answers exactly as an unknown one, and nothing is mailed.
    let scim = t.scim().await;
    let shaped = t.email("only-a-name");
    scim.create_user(&shaped, json!({ "password": PASSWORD }))
        .await;
    let anonymous = t.anonymous();
    let known = anonymous.initiate_reset(&shaped).await;
    let unknown = anonymous.initiate_reset(&t.email("nobody")).await;
    assert_eq!(known.status, unknown.status, "{}", known.text);
    assert_eq!(known.body, unknown.body);
    let known = anonymous.request_reset(&shaped).await;
    let unknown = anonymous.request_reset(&t.email("nobody")).await;
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert!(
        shared_sink()
            .try_mail_to(&shaped, std::time::Duration::from_millis(500))
            .await
            .is_none(),
        "no mail to an address the account does not have"
    );
    // It still signs in by that userName.
    anonymous.login(&shaped, PASSWORD).await;
}

/// The ids a SCIM user list with `filter` (and `extra` parameters) answers.
async fn listed(scim: &Scim, filter: &str, extra: &[(&str, &str)]) -> Vec<String> {
    let mut params = vec![("filter", filter)];
    params.extend_from_slice(extra);
    let r = scim.query("/Users", &params).await;
    r.scim(200)["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

/// `emails pr`, `not (emails pr)`, JSON:API `filter[email]=null` and
/// `filter[email]`, and sorts by email: a null email is absent, matches
/// no value, and sorts last in either order on both backends.
async fn lists_filters_and_sorts_handle_null_emails(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let with = |local: &str| json!({ "emails": [{ "value": t.email(local), "primary": true }] });
    let a = scim.create_user("zz-a", with("b-mail")).await;
    let none = scim.create_user("zz-b", json!({})).await;
    let c = scim.create_user("zz-c", with("a-mail")).await;

    let ours = r#"userName sw "zz-""#;
    let present = listed(&scim, &format!("{ours} and emails pr"), &[]).await;
    assert_eq!(present.len(), 2);
    assert!(!present.contains(&none));
    assert_eq!(
        listed(&scim, &format!("{ours} and not (emails pr)"), &[]).await,
        vec![none.clone()]
    );
    assert_eq!(
        listed(&scim, &format!("{ours} and emails.value pr"), &[])
            .await
            .len(),
        2
    );
    let asc = listed(&scim, ours, &[("sortBy", "emails.value")]).await;
    assert_eq!(asc, vec![c.clone(), a.clone(), none.clone()]);
    let desc = listed(
        &scim,
        ours,
        &[("sortBy", "emails.value"), ("sortOrder", "descending")],
    )
    .await;
    assert_eq!(desc, vec![a.clone(), c.clone(), none.clone()]);

    // JSON:API: null emails filter and sort the same way.
    let r = t
        .owner
        .jsonapi_get("/api/v1/accounts?filter[email]=null")
        .await;
    let got: Vec<&str> = pluck(&r.body["data"], "/id");
    assert_eq!(got, vec![none.as_str()], "{}", r.text);
    let r = t
        .owner
        .jsonapi_get("/api/v1/accounts?filter[user_name__match]=zz-&sort=email")
        .await;
    let got: Vec<&str> = pluck(&r.body["data"], "/id");
    assert_eq!(
        got,
        vec![c.as_str(), a.as_str(), none.as_str()],
        "{}",
        r.text
    );
    let r = t
        .owner
        .jsonapi_get("/api/v1/accounts?filter[user_name__match]=zz-&sort=-email")
        .await;
    let got: Vec<&str> = pluck(&r.body["data"], "/id");
    assert_eq!(
        got,
        vec![a.as_str(), c.as_str(), none.as_str()],
        "{}",
        r.text
    );
    let r = t
        .owner
        .jsonapi_get(&format!(
            "/api/v1/accounts?filter[email]={}",
            t.email("a-mail")
        ))
        .await;
    let got: Vec<&str> = pluck(&r.body["data"], "/id");
    assert_eq!(got, vec![c.as_str()], "{}", r.text);

    // Natively: listed with email null, sorted last (the owner has an
    // address too).
    let r = t
        .owner
        .get("/api/v1/users?sortBy=email&sortOrder=asc&limit=100")
        .await;
    let users = r.ok()["users"].as_array().unwrap().clone();
    let got: Vec<&str> = users
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .filter(|id| *id != t.owner_id)
        .collect();
    assert_eq!(
        got,
        vec![c.as_str(), a.as_str(), none.as_str()],
        "{}",
        r.text
    );
    assert_eq!(users.last().unwrap()["email"], Value::Null);
    // Aritma: every member present, the email empty.
    let r = t.owner.get(&format!("/core/iam/v1/users/{none}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email"], "");
    assert_eq!(r.body["userName"], "zz-b");
}
