//! SSO (docs/api/oauth.md, SSO providers): the tenant's provider
//! configuration under /core/iam/v1/sso, sign-in through a provider on the
//! hosted page and through `/api/v1/auth/social/{provider}/login`, and
//! linked identities.
//!
//! The provider is a real OpenID Connect provider on loopback: the other
//! backend's shared ithbat server (a second instance, its own database and
//! issuer), whose hosted page the test signs in on. Nothing is mocked: the
//! relying party fetches discovery, redeems the code and checks the ID
//! token against the provider's JWKS over HTTP.

use serde_json::{json, Value};

use crate::support::oauth::Auth;
use crate::support::oidc::{claims, redeem_code, submit_password, AuthRequest, Pkce, REDIRECT};
use crate::support::sso::{custom_body, idp, Idp};
use crate::support::web::{field, query, value_after, Web};
use crate::support::{pluck, shared, tenant, Backend, Resp, TestTenant, PASSWORD};

on_both_backends!(
    provider_configuration,
    provider_configuration_refuses_bad_input,
    sign_in_through_a_provider_provisions_then_links,
    sign_in_matches_verified_email_and_refuses_strangers,
    round_trips_are_single_use_and_bound_to_the_browser,
    linked_identities,
    api_social_login,
    a_provider_signs_in_no_one_above_whoever_configured_it,
);

/// Providers: create (201, links), get (the secret masked), list,
/// update (200, no content; the mask keeps the secret), delete; the four
/// kinds with their own properties; the icon.
async fn provider_configuration(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let r = t
        .owner
        .post(
            "/core/iam/v1/sso/custom",
            custom_body("acme", "https://idp.acme.example", "rp-1", Some("s3cret")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let links = r.body.as_array().unwrap();
    let rels: Vec<&str> = links.iter().map(|l| l["rel"].as_str().unwrap()).collect();
    assert_eq!(rels, ["self", "update", "delete"]);
    assert_eq!(links[0]["method"], "GET");
    let href = links[0]["href"].as_str().unwrap().to_string();
    assert!(
        href.ends_with("/core/iam/v1/sso/custom/") || href.contains("/core/iam/v1/sso/custom/")
    );
    let id: i64 = href.rsplit('/').next().unwrap().parse().unwrap();

    let got = t.owner.get(&format!("/core/iam/v1/sso/custom/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["id"], id);
    assert_eq!(got.body["scheme"], "acme");
    assert_eq!(got.body["providerName"], "Custom");
    assert_eq!(got.body["type"], "oidc");
    let p = &got.body["properties"];
    assert_eq!(p["clientSecret"], "********", "never the secret itself");
    assert_eq!(p["authority"], "https://idp.acme.example");
    assert_eq!(p["subjectClaimType"], "sub");
    assert_eq!(p["getClaimsFromUserInfoEndpoint"], false);
    assert!(p.get("method").is_none(), "Signicat's, not custom's");
    assert!(!got.text.contains("s3cret"));

    // the other kinds, each with its own properties
    let shared_props = json!({
        "loginEnabled": true, "visible": false, "delegationEnabled": false,
        "autoProvisioningEnabled": false, "clientId": "c"
    });
    let with = |extra: Value| {
        let mut p = shared_props.clone();
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    };
    let azure = t.create_provider("azuread",
        json!({"scheme": "azure-ad", "displayName": "Our Azure AD", "enabled": true, "type": "oidc",
               "properties": with(json!({"usePkce": true, "responseType": "code", "scope": "openid profile email",
                   "authority": "https://login.microsoftonline.com/4f1c/v2.0"}))}),
    )
    .await;
    let google = t
        .create_provider(
            "google",
            json!({"scheme": "google", "displayName": "Google", "enabled": true, "type": "oidc",
               "properties": with(json!({"nameClaimType": "name", "emailClaimType": "email"}))}),
        )
        .await;
    let signicat = t
        .create_provider(
            "signicat",
            json!({"scheme": "bankid", "displayName": "BankID", "enabled": false, "type": "oidc",
               "properties": with(json!({"verifyEnabled": true, "method": "BankId",
                   "authority": "https://yourorg.signicat.com/auth/open"}))}),
        )
        .await;
    let g = t
        .owner
        .get(&format!("/core/iam/v1/sso/google/{google}"))
        .await;
    assert_eq!(g.body["providerName"], "Google");
    assert_eq!(
        g.body["properties"]["authority"],
        "https://accounts.google.com"
    );
    assert_eq!(
        g.body["properties"]["clientSecret"],
        Value::Null,
        "a public client"
    );
    let s = t
        .owner
        .get(&format!("/core/iam/v1/sso/signicat/{signicat}"))
        .await;
    assert_eq!(s.body["properties"]["method"], "BankId");
    assert_eq!(s.body["enabled"], false);
    let a = t
        .owner
        .get(&format!("/core/iam/v1/sso/azuread/{azure}"))
        .await;
    assert_eq!(a.body["providerName"], "Azure");

    // a provider is found only under its own kind
    let r = t.owner.get(&format!("/core/iam/v1/sso/google/{id}")).await;
    assert_eq!(r.status, 404, "{}", r.text);

    // the common operations: every kind, one kind, one by id
    let all = t.owner.get("/core/iam/v1/sso").await;
    assert_eq!(all.status, 200);
    let schemes: Vec<&str> = pluck(&all.body, "/scheme");
    assert_eq!(schemes, ["acme", "azure-ad", "google", "bankid"]);
    let customs = t.owner.get("/core/iam/v1/sso/custom").await;
    assert_eq!(customs.body.as_array().unwrap().len(), 1);
    let one = t.owner.get(&format!("/core/iam/v1/sso/{azure}")).await;
    assert_eq!(one.body["scheme"], "azure-ad");

    // update: the body repeats the id; the mask keeps the secret
    let mut body = custom_body(
        "acme",
        "https://idp2.acme.example/",
        "rp-1",
        Some("********"),
    );
    body["id"] = json!(id);
    body["displayName"] = json!("Acme SSO");
    let r = t
        .owner
        .put(&format!("/core/iam/v1/sso/custom/{id}"), body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.is_empty(), "200 with no content");
    let got = t.owner.get(&format!("/core/iam/v1/sso/custom/{id}")).await;
    assert_eq!(got.body["displayName"], "Acme SSO");
    assert_eq!(
        got.body["properties"]["authority"],
        "https://idp2.acme.example"
    );
    assert_eq!(got.body["properties"]["clientSecret"], "********", "kept");

    // the icon: multipart/form-data, field `icon`
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    let boundary = "ithbat-boundary-1";
    let mut multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"icon\"; filename=\"acme.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    multipart.extend_from_slice(&png);
    multipart.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = crate::support::Api::send(
        t.owner
            .request(
                reqwest::Method::PUT,
                &format!("/core/iam/v1/sso/custom/{id}/icon"),
            )
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(multipart),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let icon = t
        .owner
        .get(&format!("/core/iam/v1/sso/custom/{id}/icon"))
        .await;
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type"), Some("image/png"));
    let r = crate::support::Api::send(
        t.owner
            .request(reqwest::Method::PUT, &format!("/core/iam/v1/sso/custom/{id}/icon"))
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .body(format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"icon\"; filename=\"x.exe\"\r\nContent-Type: application/octet-stream\r\n\r\nMZ\r\n--{boundary}--\r\n"
            )),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("icon"), "{}", r.text);

    // another tenant sees none of it
    let other = app.new_tenant().await;
    let r = other
        .owner
        .get(&format!("/core/iam/v1/sso/custom/{id}"))
        .await;
    assert_eq!(r.status, 404);
    let r = other
        .owner
        .delete(&format!("/core/iam/v1/sso/custom/{id}"))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(other.owner.get("/core/iam/v1/sso").await.body, json!([]));

    // members hold no settings permissions
    let member = t.user("mia").await;
    let r = member.api.get("/core/iam/v1/sso").await;
    assert_eq!(r.status, 403, "{}", r.text);

    // delete, by kind and through the common operation
    let r = t
        .owner
        .delete(&format!("/core/iam/v1/sso/custom/{id}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t.owner.get(&format!("/core/iam/v1/sso/custom/{id}")).await;
    assert_eq!(r.status, 404);
    let r = t.owner.delete(&format!("/core/iam/v1/sso/{google}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        t.owner
            .get("/core/iam/v1/sso")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // every change is audited
    let audit = t.audit("limit=100").await;
    for action in [
        "sso_provider.created",
        "sso_provider.updated",
        "sso_provider.deleted",
        "sso_provider.icon_updated",
    ] {
        assert!(audit.text.contains(action), "{action}");
    }
}

/// Bad input is a problem naming the field, and changes nothing.
async fn provider_configuration_refuses_bad_input(b: Backend) {
    let t = tenant(b).await;
    let post = |body: Value| {
        let owner = t.owner.clone();
        async move { owner.post("/core/iam/v1/sso/custom", body).await }
    };
    let problem = |r: &Resp, field: &str| {
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains(field), "{field} in {}", r.text);
    };
    // the authority must be https (http only on loopback)
    let r = post(custom_body("acme", "http://idp.acme.example", "c", None)).await;
    problem(&r, "properties.authority");
    let r = post(custom_body("acme", "not a url", "c", None)).await;
    problem(&r, "properties.authority");
    // every required field is named
    let r = post(json!({"properties": {}})).await;
    for f in [
        "scheme",
        "displayName",
        "enabled",
        "type",
        "properties.loginEnabled",
        "properties.clientId",
    ] {
        problem(&r, f);
    }
    // a property of another kind, an unknown one, a wrong type
    let mut body = custom_body("acme", "https://idp.acme.example", "c", None);
    body["properties"]["method"] = json!("BankId");
    problem(&post(body).await, "properties.method");
    let mut body = custom_body("acme", "https://idp.acme.example", "c", None);
    body["properties"]["colour"] = json!("red");
    problem(&post(body).await, "colour");
    let mut body = custom_body("acme", "https://idp.acme.example", "c", None);
    body["enabled"] = json!("yes");
    problem(&post(body).await, "enabled");
    // only the code flow signs in; SAML is not served
    let mut body = custom_body("acme", "https://idp.acme.example", "c", None);
    body["properties"]["responseType"] = json!("token");
    problem(&post(body).await, "properties.responseType");
    let mut body = custom_body("acme", "https://idp.acme.example", "c", None);
    body["type"] = json!("saml2p");
    problem(&post(body).await, "type");
    let r = post(custom_body(
        "Acme Corp",
        "https://idp.acme.example",
        "c",
        None,
    ))
    .await;
    problem(&r, "scheme");
    let r = t
        .owner
        .post(
            "/core/iam/v1/sso/okta",
            custom_body("acme", "https://idp.acme.example", "c", None),
        )
        .await;
    assert_eq!(r.status, 404, "no such kind: {}", r.text);
    assert_eq!(
        t.owner.get("/core/iam/v1/sso").await.body,
        json!([]),
        "nothing written"
    );

    // schemes are unique per tenant
    let id = t
        .create_provider(
            "custom",
            custom_body("acme", "https://idp.acme.example", "c", None),
        )
        .await;
    let r = post(custom_body("acme", "https://other.example", "d", None)).await;
    assert_eq!(r.status, 409, "{}", r.text);
    // update: the id must be given and be the path's
    let r = t
        .owner
        .put(
            &format!("/core/iam/v1/sso/custom/{id}"),
            custom_body("acme", "https://idp.acme.example", "c", None),
        )
        .await;
    problem(&r, "id");
    let mut body = custom_body("acme", "https://idp.acme.example", "c", None);
    body["id"] = json!(id + 1000);
    problem(
        &t.owner
            .put(&format!("/core/iam/v1/sso/custom/{id}"), body)
            .await,
        "id",
    );
    let r = t.owner.get("/core/iam/v1/sso/custom/not-a-number").await;
    assert_eq!(r.status, 404);
    let r = t.owner.get("/core/iam/v1/sso/custom/999999999").await;
    assert_eq!(r.status, 404);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .contains("problem+json"),
        "RFC 7807"
    );
}

/// The relying party's own application client (what the person signs in to).
async fn app_client(t: &TestTenant) -> (String, String) {
    let id = t
        .create_client(json!({
            "name": "Acme Portal", "description": "The web app",
            "allowedGrantTypes": ["authorization_code"],
            "redirectUris": [REDIRECT],
            // services.iam: its tokens also call the API (identities)
            "allowedScopes": ["openid", "profile", "email", "services.iam"],
        }))
        .await;
    let secret = "App!s3cret-value".to_string();
    t.add_secret(&id, &secret).await;
    (id, secret)
}

/// A person's browser: one cookie jar per site, as a browser keeps them.
struct Browser {
    rp: Web,
    idp: Web,
}

impl Browser {
    fn new(rp: &str, idp: &str) -> Browser {
        Browser {
            rp: Web::new(rp),
            idp: Web::new(idp),
        }
    }

    fn for_url(&mut self, url: &str) -> &mut Web {
        if url.starts_with(&self.idp.base) {
            &mut self.idp
        } else {
            &mut self.rp
        }
    }

    /// Follows redirects (and the page that moves on by itself) across
    /// both sites until a page answers or the browser is sent back to the
    /// application.
    async fn follow(&mut self, mut r: Resp) -> Resp {
        for _ in 0..10 {
            let Some(location) = onward(&r) else {
                return r;
            };
            if location.starts_with(REDIRECT) {
                return r;
            }
            r = self.for_url(&location).get(&location).await;
        }
        panic!("too many redirects");
    }

    /// Signs in on the provider's page (after being sent there) and comes
    /// back: the relying party's answer.
    async fn sign_in_at_idp(&mut self, page: Resp, email: &str) -> Resp {
        assert_eq!(page.status, 200, "the provider's page: {}", page.text);
        let r = submit_password(&mut self.idp, &page, email, PASSWORD).await;
        assert_eq!(r.status, 303, "{}", r.text);
        self.follow(r).await
    }
}

fn authorize_path(client: &str, challenge: &str) -> String {
    AuthRequest {
        client,
        redirect: REDIRECT,
        scope: "openid profile email services.iam",
        state: "st-9",
        nonce: "n-9",
        challenge,
    }
    .path(&[])
}

/// The SSO button's link on the sign-in page.
fn button(page: &str, scheme: &str) -> String {
    value_after(page, &format!("id=\"sso-{scheme}\" href=\""))
        .unwrap_or_else(|| panic!("no button in {page}"))
}

struct Rp {
    t: TestTenant,
    app_id: String,
    app_secret: String,
    idp: Idp,
}

async fn relying_party(b: Backend, auto_provisioning: bool) -> Rp {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let idp = idp(b, &app.base, "acme").await;
    let mut body = idp.custom_body("acme");
    body["properties"]["autoProvisioningEnabled"] = json!(auto_provisioning);
    t.create_provider("custom", body).await;
    let (app_id, app_secret) = app_client(&t).await;
    Rp {
        t,
        app_id,
        app_secret,
        idp,
    }
}

/// A person, in a browser of their own, goes from the application's
/// sign-in page through the provider and back: the relying party's last
/// answer, and the PKCE verifier the application asked with.
async fn sso_round_trip(rp: &Rp) -> (Resp, String) {
    let mut browser = Browser::new(&rp.t.owner.base, &rp.idp.base);
    let pkce = Pkce::new();
    let page = browser
        .rp
        .get(&authorize_path(&rp.app_id, &pkce.challenge))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("Continue with Acme Login"),
        "{}",
        page.text
    );
    let r = browser.rp.get(&button(&page.text, "acme")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let to = r.header("location").unwrap().to_string();
    assert!(
        to.starts_with(&format!("{}/oauth/authorize?", rp.idp.base)),
        "{to}"
    );
    let q = query(&to);
    assert_eq!(q["client_id"], rp.idp.client_id);
    assert_eq!(q["code_challenge_method"], "S256", "PKCE to the provider");
    assert!(q.contains_key("nonce") && q.contains_key("state"));
    let page = browser.idp.get(&to).await;
    let r = browser.sign_in_at_idp(page, &rp.idp.person_email).await;
    (r, pkce.verifier)
}

/// Where a response sends the browser: a redirect, or the page that
/// moves on by itself (a meta refresh, after a provider's form).
fn onward(r: &Resp) -> Option<String> {
    if matches!(r.status, 302 | 303) {
        return r.header("location").map(str::to_string);
    }
    if r.status == 200 && r.text.contains("http-equiv=\"refresh\"") {
        return value_after(&r.text, "id=\"continue\" href=\"");
    }
    None
}

async fn redeem(rp: &Rp, r: &Resp, verifier: &str) -> Value {
    let location = onward(r).unwrap_or_else(|| panic!("not sent back: {}", r.text));
    let location = location.as_str();
    assert!(location.starts_with(REDIRECT), "{location}");
    let q = query(location);
    assert_eq!(q["state"], "st-9");
    let auth = Auth::Basic(&rp.app_id, &rp.app_secret);
    let r = redeem_code(&rp.t.owner, auth, &q["code"], REDIRECT, verifier).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body.clone()
}

/// The first sign-in provisions the user (the provider
/// vouches for the email) and links the identity; the next one finds the
/// linked identity and creates no one.
async fn sign_in_through_a_provider_provisions_then_links(b: Backend) {
    let rp = relying_party(b, true).await;
    let (r, verifier) = sso_round_trip(&rp).await;
    let tokens = redeem(&rp, &r, &verifier).await;
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["email"], rp.idp.person_email);
    assert_eq!(id["nonce"], "n-9");
    let user_id = id["sub"].as_str().unwrap().to_string();
    assert_ne!(
        user_id, rp.idp.person_id,
        "a user of the relying party's own"
    );

    let user = rp.t.owner.get(&format!("/api/v1/users/{user_id}")).await;
    assert_eq!(user.status, 200, "{}", user.text);
    assert_eq!(user.ok()["email"], rp.idp.person_email);
    assert_eq!(user.ok()["emailVerified"], true);
    assert_eq!(user.ok()["status"], "active");

    let me =
        rp.t.anonymous()
            .with_token(tokens["access_token"].as_str().unwrap());
    let ids = me.get("/api/v1/users/me/identities").await;
    assert_eq!(ids.status, 200, "{}", ids.text);
    let list = ids.ok()["identities"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["provider"], "acme");
    assert_eq!(list[0]["providerUserId"], rp.idp.person_id);
    assert_eq!(list[0]["email"], rp.idp.person_email);
    assert!(list[0]["linkedAt"].is_string());

    // again, in a new browser: the same user, nobody new
    let before = rp.t.owner.get("/api/v1/users?limit=100").await.ok()["total"].clone();
    let (r, verifier) = sso_round_trip(&rp).await;
    let tokens = redeem(&rp, &r, &verifier).await;
    assert_eq!(claims(tokens["id_token"].as_str().unwrap())["sub"], user_id);
    let after = rp.t.owner.get("/api/v1/users?limit=100").await.ok()["total"].clone();
    assert_eq!(before, after);

    let audit = rp.t.audit("limit=100").await;
    assert!(audit.text.contains("user.provisioned"), "{}", audit.text);
}

/// Matching by verified email, and the refusals: no account and no
/// provisioning; a provider turned off; a wrong client secret.
async fn sign_in_matches_verified_email_and_refuses_strangers(b: Backend) {
    let rp = relying_party(b, false).await;
    // nobody here with the provider's email, no provisioning: refused on
    // the sign-in page, in words for the person
    let (r, _) = sso_round_trip(&rp).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.text.contains("no account here"), "{}", r.text);
    assert!(
        r.text.contains("name=\"password\""),
        "the sign-in page again"
    );

    // a user with that email exists: matched and linked
    let known = rp.t.create_user(&rp.idp.person_email, "Pat", "Known").await;
    let (r, verifier) = sso_round_trip(&rp).await;
    let tokens = redeem(&rp, &r, &verifier).await;
    assert_eq!(claims(tokens["id_token"].as_str().unwrap())["sub"], known);

    // a suspended user cannot sign in through a provider either
    let r =
        rp.t.owner
            .post(&format!("/api/v1/users/{known}/suspend"), json!({}))
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (r, _) = sso_round_trip(&rp).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.text.contains("cannot sign in"), "{}", r.text);

    // a wrong client secret: the provider refuses the code, we say so
    let list = rp.t.owner.get("/core/iam/v1/sso/custom").await;
    let id = list.body[0]["id"].as_i64().unwrap();
    let mut body = custom_body(
        "acme",
        &rp.idp.base,
        &rp.idp.client_id,
        Some("Wr0ng!secret"),
    );
    body["id"] = json!(id);
    let r =
        rp.t.owner
            .put(&format!("/core/iam/v1/sso/custom/{id}"), body.clone())
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r =
        rp.t.owner
            .post(&format!("/api/v1/users/{known}/reactivate"), json!({}))
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (r, _) = sso_round_trip(&rp).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.text.contains("refused the token request"), "{}", r.text);
    let audit = rp.t.audit("limit=100").await;
    assert!(
        audit.text.contains("auth.sso_failed"),
        "every failure is audited"
    );

    // turned off: no button, and its link no longer leaves
    body["enabled"] = json!(false);
    let r =
        rp.t.owner
            .put(&format!("/core/iam/v1/sso/custom/{id}"), body)
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut web = Web::new(&rp.t.owner.base);
    let page = web
        .get(&authorize_path(&rp.app_id, &Pkce::new().challenge))
        .await;
    assert!(!page.text.contains("Continue with"), "{}", page.text);
    let request = field(&page.text, "request");
    let r = web
        .get(&format!(
            "/oauth/authorize/sso?request={request}&provider=acme"
        ))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

/// A callback works once, only in the browser that left (login CSRF), and
/// only with the state we sent.
async fn round_trips_are_single_use_and_bound_to_the_browser(b: Backend) {
    let rp = relying_party(b, true).await;
    let mut browser = Browser::new(&rp.t.owner.base, &rp.idp.base);
    let page = browser
        .rp
        .get(&authorize_path(&rp.app_id, &Pkce::new().challenge))
        .await;
    let r = browser.rp.get(&button(&page.text, "acme")).await;
    let cookie = r.header("set-cookie").unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let to = r.header("location").unwrap().to_string();
    let page = browser.idp.get(&to).await;
    let r = submit_password(&mut browser.idp, &page, &rp.idp.person_email, PASSWORD).await;
    let callback = r.header("location").unwrap().to_string();
    assert!(
        callback.contains("/api/v1/auth/social/acme/callback?"),
        "{callback}"
    );

    // someone else's browser (an attacker sending the link) gets nowhere
    let mut stranger = Web::new(&rp.t.owner.base);
    let r = stranger.get(&callback).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("another browser"), "{}", r.text);
    // and the round trip is spent: the right browser cannot use it now
    let r = browser.rp.get(&callback).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("expired or was already used"), "{}", r.text);
    // a made-up state
    let r = browser
        .rp
        .get("/api/v1/auth/social/acme/callback?code=x&state=forged")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

/// Identities: link (starts the round trip, completes on the callback),
/// list, unlink; unlinking the last way to sign in is refused.
async fn linked_identities(b: Backend) {
    let rp = relying_party(b, true).await;
    let user = rp.t.user("lee").await;
    let none = user.api.get("/api/v1/users/me/identities").await;
    assert_eq!(none.ok()["identities"], json!([]));
    let r = user
        .api
        .post("/api/v1/users/me/identities/acme", json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let url = r.ok()["authorizationUrl"].as_str().unwrap().to_string();
    assert!(url.starts_with(&rp.idp.base), "{url}");
    let done = finish_link(&rp, &r).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("Account linked"), "{}", done.text);
    let list = user.api.get("/api/v1/users/me/identities").await;
    let list = list.ok()["identities"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["providerUserId"], rp.idp.person_id);

    // linking the same provider account to a second user is refused
    let other = rp.t.user("max").await;
    let r = other
        .api
        .post("/api/v1/users/me/identities/acme", json!({}))
        .await;
    let refused = finish_link(&rp, &r).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(refused.text.contains("already linked"), "{}", refused.text);

    // unknown providers
    let r = user
        .api
        .post("/api/v1/users/me/identities/github", json!({}))
        .await;
    r.expect(404, "RESOURCE_NOT_FOUND");
    let r = user.api.delete("/api/v1/users/me/identities/github").await;
    r.expect(404, "RESOURCE_NOT_FOUND");
    // lee has a password: unlinking leaves a way in
    let r = user.api.delete("/api/v1/users/me/identities/acme").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        user.api.get("/api/v1/users/me/identities").await.ok()["identities"],
        json!([])
    );

    // a provisioned user has no password: their only identity stays
    let (r, verifier) = sso_round_trip(&rp).await;
    let tokens = redeem(&rp, &r, &verifier).await;
    let me =
        rp.t.anonymous()
            .with_token(tokens["access_token"].as_str().unwrap());
    let r = me.delete("/api/v1/users/me/identities/acme").await;
    r.expect(409, "CONFLICT");
    assert!(r.text.contains("only way to sign in"), "{}", r.text);
    assert_eq!(
        me.get("/api/v1/users/me/identities").await.ok()["identities"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = rp.t.anonymous().get("/api/v1/users/me/identities").await;
    assert_eq!(r.status, 401);
}

/// Completes a link the answer `r` started: in the browser that asked (the
/// round trip belongs to it, by the answer's cookie), signs in at the
/// provider; the relying party's last answer.
async fn finish_link(rp: &Rp, r: &Resp) -> Resp {
    let url = r.ok()["authorizationUrl"].as_str().unwrap().to_string();
    let mut browser = Browser::new(&rp.t.owner.base, &rp.idp.base);
    let set = r.header("set-cookie").unwrap();
    let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
    browser.rp.cookies.insert(name.into(), value.into());
    let page = browser.idp.get(&url).await;
    browser.sign_in_at_idp(page, &rp.idp.person_email).await
}

/// `GET /auth/social/{provider}/login` answers 302 to the
/// provider; the callback answers with the tokens.
async fn api_social_login(b: Backend) {
    let rp = relying_party(b, true).await;
    let mut browser = Browser::new(&rp.t.owner.base, &rp.idp.base);
    let r = browser
        .rp
        .get(&format!(
            "/api/v1/auth/social/acme/login?tenant={}",
            rp.t.id
        ))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let to = r.header("location").unwrap().to_string();
    let page = browser.idp.get(&to).await;
    let r = browser.sign_in_at_idp(page, &rp.idp.person_email).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.ok();
    assert_eq!(data["tokenType"], "Bearer");
    assert_eq!(data["user"]["email"], rp.idp.person_email);
    let me =
        rp.t.anonymous()
            .with_token(data["accessToken"].as_str().unwrap())
            .me()
            .await;
    assert_eq!(me.status, 200, "{}", me.text);

    let r = browser.rp.get("/api/v1/auth/social/nope/login").await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = browser
        .rp
        .get("/api/v1/auth/social/acme/login?tenant=Not_A_Tenant")
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

/// A provider is a way into accounts, so it is bounded like any
/// credential: it signs in only accounts that whoever configured it last
/// could manage. Someone with settings:write who points a provider at an
/// identity provider they control cannot sign in as an administrator
/// whose email it asserts.
async fn a_provider_signs_in_no_one_above_whoever_configured_it(b: Backend) {
    let rp = relying_party(b, false).await;
    let t = &rp.t;
    let ada = t.create_user(&rp.idp.person_email, "Ada", "Admin").await;
    t.give_role(&ada, &t.role_id("admin").await).await;

    // Someone who may change settings, and nothing more, saves the provider.
    let editor = t.user("eddie").await;
    let role = t
        .role_with("Settings editor", &["settings:read", "settings:write"])
        .await;
    t.give_role(&editor.id, &role).await;
    let list = t.owner.get("/core/iam/v1/sso/custom").await;
    let id = list.body[0]["id"].as_i64().unwrap();
    let mut body = rp.idp.custom_body("acme");
    body["id"] = json!(id);
    body["properties"]["autoProvisioningEnabled"] = json!(false);
    let path = format!("/core/iam/v1/sso/custom/{id}");
    let r = editor.api.put(&path, body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let (r, _) = sso_round_trip(&rp).await;
    assert!(onward(&r).is_none(), "not signed in: {}", r.text);
    assert!(
        r.text.contains("may not sign in this account"),
        "{}",
        r.text
    );

    // The owner, who holds everything, saves it again: Ada signs in.
    let r = t.owner.put(&path, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (r, verifier) = sso_round_trip(&rp).await;
    let tokens = redeem(&rp, &r, &verifier).await;
    assert_eq!(claims(tokens["id_token"].as_str().unwrap())["sub"], ada);
}
