//! `X-Tenant-ID` names a tenant by its id or by its slug, on every path
//! that reads it (README "Security model", Tenancy): sign-in and the
//! public account requests, a person's token on the native API, JSON:API,
//! Aritma and SCIM, a SCIM token, the second sign-in step and the API
//! social sign-in. A slug that names nothing answers exactly what an
//! unknown id answers there, so slugs are no new way to probe.

use serde_json::json;

use crate::support::scim::Scim;
use crate::support::totp::enrol;
use crate::support::{shared, Api, Backend, Resp, PASSWORD};

on_both_backends!(
    sign_in_and_public_requests_take_a_slug,
    tokens_act_on_the_tenant_a_slug_names,
    scim_takes_a_slug_for_either_credential,
    the_second_sign_in_step_takes_a_slug,
    social_sign_in_takes_a_slug,
);

/// A slug no tenant has, and an id no tenant has.
const NO_SLUG: &str = "no-such-tenant";
const NO_ID: &str = "00000000-0000-4000-8000-000000000000";

/// The two answers are the same, status and body.
#[track_caller]
fn same(a: &Resp, b: &Resp) {
    assert_eq!(
        (a.status, &a.body),
        (b.status, &b.body),
        "{} / {}",
        a.text,
        b.text
    );
}

/// The body's `id`, from the native envelope.
fn id_of(r: &Resp) -> String {
    r.ok()["id"].as_str().unwrap().to_string()
}

/// Sign-in, refresh, registration and password reset by slug; an unknown
/// slug is TENANT_NOT_FOUND as an unknown id is, and text that is neither
/// is a validation error naming the header.
async fn sign_in_and_public_requests_take_a_slug(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let anon = app.api();
    let by_slug = anon.with_tenant(&t.slug);

    let signed_in = by_slug.login(&t.owner_email, PASSWORD).await;
    let current = signed_in.get("/api/v1/tenants/current").await;
    assert_eq!(id_of(&current), t.id);
    // The refresh token of that sign-in works like any.
    let r = anon
        .try_refresh(signed_in.refresh_token.as_deref().unwrap())
        .await;
    let access = r.ok()["accessToken"].as_str().unwrap();
    let me = anon.with_token(access).me().await;
    assert_eq!(me.ok()["email"], t.owner_email.as_str());

    // A wrong password: the same answer by slug as by id.
    let wrong = "Wr0ng!Passw0rd";
    same(
        &by_slug.try_login(&t.owner_email, wrong).await,
        &anon
            .with_tenant(&t.id)
            .try_login(&t.owner_email, wrong)
            .await,
    );
    // Unknown: the same answer by slug as by id.
    let unknown_id = anon.with_tenant(NO_ID).try_login("a@b.c", "x").await;
    unknown_id.expect(404, "TENANT_NOT_FOUND");
    same(
        &anon.with_tenant(NO_SLUG).try_login("a@b.c", "x").await,
        &unknown_id,
    );
    for malformed in ["Acme", "acme_corp", "-acme", "a"] {
        let r = anon.with_tenant(malformed).try_login("a@b.c", "x").await;
        r.invalid(&["X-Tenant-ID"]);
    }

    // Registration by slug lands in that tenant; a body
    // naming another tenant is refused, as with an id.
    let email = t.email("sami");
    let body =
        json!({ "email": email, "password": PASSWORD, "firstName": "Sami", "familyName": "Slug" });
    let r = by_slug.post("/api/v1/auth/register", body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.ok()["tenantId"], t.id.as_str());
    let other = app.new_tenant().await;
    let mut elsewhere = body.clone();
    elsewhere["tenantId"] = json!(other.id);
    let r = by_slug.post("/api/v1/auth/register", elsewhere).await;
    r.invalid(&["tenantId"]);
    let mut here = body;
    here["email"] = json!(t.email("sami2"));
    here["tenantId"] = json!(t.id);
    let r = by_slug.post("/api/v1/auth/register", here).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // A reset request answers the same by slug.
    let by_id = anon.with_tenant(&t.id).initiate_reset(&t.owner_email).await;
    assert_eq!(by_id.status, 200, "{}", by_id.text);
    same(&by_slug.initiate_reset(&t.owner_email).await, &by_id);
    same(
        &anon
            .with_tenant(NO_SLUG)
            .initiate_reset("x@y.example")
            .await,
        &anon.with_tenant(NO_ID).initiate_reset("x@y.example").await,
    );
    let r = by_slug.request_reset("x@y.example").await;
    assert_eq!(r.status, 204, "{}", r.text);
    same(
        &anon.with_tenant(NO_SLUG).request_reset("x@y.example").await,
        &anon.with_tenant(NO_ID).request_reset("x@y.example").await,
    );

    // A suspended tenant named by slug is suspended.
    let admin = app.admin().await;
    admin
        .post(&format!("/api/v1/tenants/{}/suspend", t.id), json!({}))
        .await
        .ok();
    same(
        &by_slug.try_login(&t.owner_email, PASSWORD).await,
        &anon
            .with_tenant(&t.id)
            .try_login(&t.owner_email, PASSWORD)
            .await,
    );
    by_slug
        .try_login(&t.owner_email, PASSWORD)
        .await
        .expect(403, "TENANT_SUSPENDED");
}

/// A person's token: their own tenant's slug names it; another tenant's
/// slug, or one that names nothing, is TENANT_NOT_FOUND exactly as an id
/// would be; a platform administrator picks any tenant by slug. The same
/// in the native API, JSON:API and Aritma's.
async fn tokens_act_on_the_tenant_a_slug_names(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let owner = t.owner.with_tenant(&t.slug);
    let current = "/api/v1/tenants/current";
    assert_eq!(id_of(&owner.get(current).await), t.id);
    let refused = t.owner.with_tenant(&other.id).get(current).await;
    refused.expect(404, "TENANT_NOT_FOUND");
    same(
        &t.owner.with_tenant(&other.slug).get(current).await,
        &refused,
    );
    same(&t.owner.with_tenant(NO_SLUG).get(current).await, &refused);
    // An invalid token is refused before any tenant is looked up.
    let forged = owner.with_token("not.a.token");
    same(
        &forged.with_tenant(NO_SLUG).get(current).await,
        &forged.with_tenant(NO_ID).get(current).await,
    );
    forged.get(current).await.expect(401, "UNAUTHORIZED");

    let admin = app.admin().await;
    assert_eq!(
        id_of(&admin.with_tenant(&other.slug).get(current).await),
        other.id
    );
    same(
        &admin.with_tenant(NO_SLUG).get(current).await,
        &admin.with_tenant(NO_ID).get(current).await,
    );

    // JSON:API: the accounts of the tenant the slug names.
    let accounts = owner.jsonapi_get("/api/v1/accounts").await;
    assert_eq!(accounts.status, 200, "{}", accounts.text);
    let emails: Vec<&str> = accounts.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attributes"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [t.owner_email.as_str()]);
    let by_id = t
        .owner
        .with_tenant(&other.id)
        .jsonapi_get("/api/v1/accounts")
        .await;
    by_id.jsonapi_error(404, None);
    same(
        &t.owner
            .with_tenant(&other.slug)
            .jsonapi_get("/api/v1/accounts")
            .await,
        &by_id,
    );

    // Aritma: the same.
    let users = owner.get("/core/iam/v1/users").await;
    assert_eq!(users.status, 200, "{}", users.text);
    same(
        &t.owner
            .with_tenant(&other.slug)
            .get("/core/iam/v1/users")
            .await,
        &t.owner
            .with_tenant(&other.id)
            .get("/core/iam/v1/users")
            .await,
    );
}

/// RFC 7644 with either credential: a person's token and a SCIM token act
/// on the tenant their slug names; another tenant's slug is refused as its
/// id is.
async fn scim_takes_a_slug_for_either_credential(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;

    let person = Scim::new(&t.owner, t.owner.token.as_deref().unwrap());
    let at = |scim: &Scim, tenant: &str| Scim {
        api: scim.api.with_tenant(tenant),
        ..scim.clone()
    };
    let users = at(&person, &t.slug).get("/Users").await;
    assert_eq!(users.scim(200)["totalResults"], 1);
    let refused = at(&person, &other.id).get("/Users").await;
    refused.scim_error(404, None);
    same(&at(&person, &other.slug).get("/Users").await, &refused);
    same(&at(&person, NO_SLUG).get("/Users").await, &refused);

    let token = t.scim().await;
    assert_eq!(
        at(&token, &t.slug).get("/Users").await.scim(200)["totalResults"],
        1
    );
    let refused = at(&token, &other.id).get("/Users").await;
    refused.scim_error(404, None);
    same(&at(&token, &other.slug).get("/Users").await, &refused);
    same(&at(&token, NO_SLUG).get("/Users").await, &refused);
}

/// The mfaToken is bound to its tenant; naming it by slug
/// completes the sign-in, naming another tenant by slug is refused as by id.
async fn the_second_sign_in_step_takes_a_slug(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let u = t.user("mona").await;
    let (mut phone, _) = enrol(&u.api).await;
    let by_slug = app.api().with_tenant(&t.slug);
    let r = by_slug.try_login(&u.email, PASSWORD).await;
    assert_eq!(r.body["mfaRequired"], true, "{}", r.text);
    let mfa_token = r.body["mfaToken"].as_str().unwrap().to_string();

    let step = |api: Api, code: String| {
        let body = json!({ "mfaToken": mfa_token, "code": code });
        async move { api.post("/api/v1/auth/mfa/verify", body).await }
    };
    let code = phone.next_code().await;
    let refused = step(app.api().with_tenant(&other.id), code.clone()).await;
    refused.expect(401, "UNAUTHORIZED");
    same(
        &step(app.api().with_tenant(&other.slug), code.clone()).await,
        &refused,
    );
    same(
        &step(app.api().with_tenant(NO_SLUG), code.clone()).await,
        &refused,
    );
    let r = step(by_slug, code).await;
    let access = r.ok()["accessToken"].as_str().unwrap();
    let me = app.api().with_token(access).me().await;
    assert_eq!(me.ok()["email"], u.email.as_str());
}

/// `GET /auth/social/{provider}/login` takes the tenant from
/// X-Tenant-ID or `?tenant=`, by id or slug. A tenant without that provider
/// answers the same whichever way it is named; an unknown one is
/// TENANT_NOT_FOUND either way.
async fn social_sign_in_takes_a_slug(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let anon = app.api();
    let path = "/api/v1/auth/social/nope/login";
    let no_provider = anon.get(&format!("{path}?tenant={}", t.id)).await;
    assert_eq!(no_provider.status, 404, "{}", no_provider.text);
    assert_ne!(no_provider.code(), "TENANT_NOT_FOUND");
    same(
        &anon.get(&format!("{path}?tenant={}", t.slug)).await,
        &no_provider,
    );
    same(&anon.with_tenant(&t.slug).get(path).await, &no_provider);
    let unknown = anon.get(&format!("{path}?tenant={NO_ID}")).await;
    unknown.expect(404, "TENANT_NOT_FOUND");
    same(
        &anon.get(&format!("{path}?tenant={NO_SLUG}")).await,
        &unknown,
    );
    anon.get(&format!("{path}?tenant=Not_A_Tenant"))
        .await
        .invalid(&["tenant"]);
}
