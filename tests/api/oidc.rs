//! Sign-in for people (docs/api/oauth.md): `/oauth/authorize` with the hosted
//! page, authorization code with PKCE S256 (RFC 7636, OAuth 2.1), OpenID
//! Connect ID tokens and userinfo, refresh, RP-initiated logout, and the
//! page's security (CSRF, CSP, no open redirect).

use serde_json::json;

use crate::support::oauth::{post_form, refresh_grant, Auth};
use crate::support::oidc::{
    claims, post_password, redeem_code, submit_password, AuthRequest, Pkce, REDIRECT,
};
use crate::support::totp::enrol;
use crate::support::web::{field, query, Web};
use crate::support::{shared, tenant, Backend, Resp, TestTenant, PASSWORD};

on_both_backends!(
    code_flow_with_pkce_issues_oidc_tokens,
    codes_are_single_use_and_bound,
    bad_requests_never_redirect_elsewhere,
    the_page_is_safe_and_says_little,
    a_browser_sign_in_serves_the_next_client,
    second_factor_on_the_hosted_page,
    refresh_tokens_stay_with_their_client,
    public_clients_redeem_with_pkce_alone,
    end_session_signs_out,
    scopes_limit_what_tokens_reach,
    revoking_a_persons_refresh_token_ends_the_session,
    revoking_a_persons_access_token_ends_the_session,
    introspection_tells_the_truth_about_a_persons_refresh_token,
);

struct Rp {
    id: String,
    secret: String,
}

impl Rp {
    /// How the client authenticates: its secret, or as a public client.
    fn auth(&self) -> Auth<'_> {
        if self.secret.is_empty() {
            Auth::Public(&self.id)
        } else {
            Auth::Basic(&self.id, &self.secret)
        }
    }
}

/// A client that signs users in (authorization_code, refresh_token) with a
/// secret; `secret` false makes it public.
async fn rp(t: &TestTenant, scopes: &[&str], secret: bool) -> Rp {
    let id = t
        .create_client(json!({
            "name": "Acme Portal",
            "description": "The web app",
            "allowedGrantTypes": ["authorization_code", "refresh_token"],
            "redirectUris": [REDIRECT, "http://127.0.0.1:9/cb"],
            "allowedScopes": scopes,
        }))
        .await;
    let value = if secret {
        let v = "Rp!s3cret-value".to_string();
        t.add_secret(&id, &v).await;
        v
    } else {
        String::new()
    };
    Rp { id, secret: value }
}

fn authorize_url(client: &str, challenge: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    AuthRequest {
        client,
        redirect: REDIRECT,
        scope,
        state: "st-123",
        nonce: "n-456",
        challenge,
    }
    .path(extra)
}

/// The sign-in page, then its password form: the redirect it answers.
async fn sign_in(web: &mut Web, url: &str, email: &str, password: &str) -> Resp {
    let page = web.get(url).await;
    assert_eq!(page.status, 200, "{}", page.text);
    submit_password(web, &page, email, password).await
}

/// The code of a redirect back to the client, checking state and iss.
fn code_of(r: &Resp, issuer: &str) -> String {
    assert_eq!(r.status, 303, "{}", r.text);
    let location = r.header("location").unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    let q = query(location);
    assert_eq!(q["state"], "st-123");
    assert_eq!(q["iss"], issuer, "RFC 9207");
    q["code"].clone()
}

async fn exchange(t: &TestTenant, rp: &Rp, code: &str, verifier: &str) -> Resp {
    redeem_code(&t.owner, rp.auth(), code, REDIRECT, verifier).await
}

async fn issuer(t: &TestTenant) -> String {
    let r = t.owner.get("/.well-known/openid-configuration").await;
    r.body["issuer"].as_str().unwrap().to_string()
}

/// A person at the tenant's hosted page: a browser, one PKCE pair, and the
/// issuer the codes must come back from.
struct Person {
    email: String,
    web: Web,
    pkce: Pkce,
    iss: String,
}

impl Person {
    async fn new(t: &TestTenant, email: &str) -> Person {
        Person {
            email: email.to_string(),
            web: Web::new(&t.owner.base),
            pkce: Pkce::new(),
            iss: issuer(t).await,
        }
    }

    fn authorize_url(&self, client: &str, scope: &str, extra: &[(&str, &str)]) -> String {
        authorize_url(client, &self.pkce.challenge, scope, extra)
    }

    /// Opens the authorization request for `client` (no password typed).
    async fn visit(&mut self, client: &str, scope: &str, extra: &[(&str, &str)]) -> Resp {
        let url = self.authorize_url(client, scope, extra);
        self.web.get(&url).await
    }

    /// Signs in with the password on the page for `client`: the redirect.
    async fn sign_in(&mut self, client: &str, scope: &str, extra: &[(&str, &str)]) -> Resp {
        let url = self.authorize_url(client, scope, extra);
        sign_in(&mut self.web, &url, &self.email, PASSWORD).await
    }

    /// Signs in with the password on the page for `client`: the code.
    async fn code(&mut self, client: &str, scope: &str, extra: &[(&str, &str)]) -> String {
        let r = self.sign_in(client, scope, extra).await;
        code_of(&r, &self.iss)
    }

    /// Signs in for `rp` and redeems the code: the token response.
    async fn tokens(&mut self, t: &TestTenant, rp: &Rp, scope: &str) -> Resp {
        let code = self.code(&rp.id, scope, &[]).await;
        exchange(t, rp, &code, &self.pkce.verifier).await
    }
}

/// OpenID Connect 3.1: the page, the code (state and iss returned), the
/// token response with an ID token for this client (nonce, azp, sid),
/// and userinfo.
async fn code_flow_with_pkce_issues_oidc_tokens(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("alice").await;
    let rp = rp(&t, &["openid", "profile", "email", "services.iam"], true).await;
    let mut person = Person::new(&t, &user.email).await;
    let code = person.code(&rp.id, "openid profile email", &[]).await;
    assert!(
        person
            .web
            .cookies
            .keys()
            .any(|k| k.ends_with("ithbat_session")),
        "a browser sign-in"
    );
    let r = exchange(&t, &rp, &code, &person.pkce.verifier).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "email openid profile");
    assert!(r.body["refresh_token"].is_string());
    let id = claims(r.body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], rp.id);
    assert_eq!(id["azp"], rp.id);
    assert_eq!(id["iss"], person.iss);
    assert_eq!(id["sub"], user.id);
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["email"], user.email);
    assert!(id["auth_time"].is_i64() && id["sid"].is_string());
    let access = r.body["access_token"].as_str().unwrap().to_string();
    let at = claims(&access);
    assert_eq!(at["client_id"], rp.id);
    assert_eq!(at["scope"], "email openid profile");

    let info = t
        .anonymous()
        .with_token(&access)
        .get("/oauth/userinfo")
        .await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.body["sub"], user.id);
    assert_eq!(info.body["email"], user.email);
    assert_eq!(info.body["given_name"], "alice");
    assert!(info.body.get("phone_number").is_none(), "no phone scope");
    let bad = t
        .anonymous()
        .with_token("garbage")
        .get("/oauth/userinfo")
        .await;
    assert_eq!(bad.status, 401);
    assert!(bad
        .header("www-authenticate")
        .unwrap()
        .contains("invalid_token"));
}

/// RFC 6749 4.1.2/4.1.3, RFC 7636 4.6: a code works once, for its client,
/// redirect URI and verifier; presenting it twice revokes what it gave.
async fn codes_are_single_use_and_bound(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("bob").await;
    let rp = rp(&t, &["openid", "services.iam"], true).await;
    let other = self::rp(&t, &["openid"], true).await;
    let mut person = Person::new(&t, &user.email).await;
    let verifier = person.pkce.verifier.clone();
    let code = person.code(&rp.id, "openid services.iam", &[]).await;

    // Wrong verifier, redirect URI or client: invalid_grant, and the code is spent.
    let wrong = Pkce::new().verifier;
    let r = exchange(&t, &rp, &code, &wrong).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{}",
        r.text
    );

    let login = [("prompt", "login")];
    let code = person.code(&rp.id, "openid", &login).await;
    let r = redeem_code(
        &t.owner,
        rp.auth(),
        &code,
        "http://127.0.0.1:9/cb",
        &verifier,
    )
    .await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.text);

    let code = person.code(&rp.id, "openid", &login).await;
    let r = exchange(&t, &other, &code, &verifier).await;
    assert_eq!(
        r.body["error"], "invalid_grant",
        "another client: {}",
        r.text
    );

    let code = person.code(&rp.id, "openid services.iam", &login).await;
    let first = exchange(&t, &rp, &code, &verifier).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let access = first.body["access_token"].as_str().unwrap().to_string();
    t.anonymous().with_token(&access).me().await.ok();
    let replay = exchange(&t, &rp, &code, &verifier).await;
    assert_eq!(replay.body["error"], "invalid_grant", "{}", replay.text);
    t.anonymous()
        .with_token(&access)
        .me()
        .await
        .expect(401, "UNAUTHORIZED");
    let r = exchange(&t, &rp, "not-a-code", &verifier).await;
    assert_eq!(r.body["error"], "invalid_grant");
    let r = post_form(
        &t.owner,
        "/oauth/token",
        rp.auth(),
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(
        r.body["error"], "invalid_request",
        "a verifier is required: {}",
        r.text
    );
}

/// Errors about the client or its redirect URI are shown on our page and
/// never redirected (no open redirect); the others go back to the client
/// with `error`, `state` and `iss` (RFC 6749 4.1.2.1).
async fn bad_requests_never_redirect_elsewhere(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let rp = rp(&t, &["openid"], true).await;
    let mut web = Web::new(&app.base);
    let challenge = Pkce::new().challenge;
    for url in [
        authorize_url(
            "00000000-0000-0000-0000-000000000000",
            &challenge,
            "openid",
            &[],
        ),
        authorize_url("not-a-uuid", &challenge, "openid", &[]),
        authorize_url(&rp.id, &challenge, "openid", &[]).replace("app.example", "evil.example"),
        authorize_url(&rp.id, &challenge, "openid", &[]).replace("callback", "callback%3Fx%3D1"),
        format!("/oauth/authorize?client_id={}&client_id={}", rp.id, rp.id),
    ] {
        let r = web.get(&url).await;
        assert_eq!(r.status, 400, "{url}: {}", r.text);
        assert!(r.header("location").is_none(), "{url} must not redirect");
        assert!(r.text.contains("<h1>Cannot sign in</h1>"), "{}", r.text);
    }
    let base = |extra: &[(&str, &str)], method: Option<&str>| {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", rp.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "st-123"),
            ("code_challenge", challenge.as_str()),
        ];
        if let Some(m) = method {
            params.push(("code_challenge_method", m));
        }
        params.extend_from_slice(extra);
        format!(
            "/oauth/authorize?{}",
            serde_urlencoded::to_string(&params).unwrap()
        )
    };
    for (url, error) in [
        (base(&[], Some("plain")), "invalid_request"),
        (base(&[], None), "invalid_request"),
        (
            base(&[("response_type", "token")], Some("S256")).replacen(
                "response_type=code&",
                "",
                1,
            ),
            "unsupported_response_type",
        ),
        (
            base(&[], Some("S256")).replace("scope=openid", "scope=openid+admin"),
            "invalid_scope",
        ),
        (base(&[("prompt", "none")], Some("S256")), "login_required"),
    ] {
        let r = web.get(&url).await;
        assert_eq!(r.status, 303, "{url}: {}", r.text);
        let location = r.header("location").unwrap();
        assert!(location.starts_with(REDIRECT), "{location}");
        let q = query(location);
        assert_eq!(q["error"], error, "{url}");
        assert_eq!(q["state"], "st-123");
    }
    // Without a challenge at all.
    let r = web.get(&authorize_url(&rp.id, "", "openid", &[])).await;
    assert_eq!(
        query(r.header("location").unwrap())["error"],
        "invalid_request"
    );
}

/// The page: CSP with frame-ancestors 'none' and no script, no-store, a
/// CSRF token that must be in the form and the cookie, and the same
/// words for a wrong password as for an unknown account.
async fn the_page_is_safe_and_says_little(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let user = t.user("carol").await;
    let rp = rp(&t, &["openid"], true).await;
    let challenge = Pkce::new().challenge;
    let url = authorize_url(
        &rp.id,
        &challenge,
        "openid",
        &[("login_hint", "carol@x.example\"><script>")],
    );
    let mut web = Web::new(&app.base);
    let page = web.get(&url).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap().to_string();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(
        !csp.contains("script-src") && !page.text.contains("<script"),
        "no script, and the hint is escaped"
    );
    assert!(
        csp.contains("form-action 'self' https://app.example"),
        "{csp}"
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(page.text.contains("Acme Portal") && page.text.contains(&format!("Tenant {}", t.slug)));
    let csrf_cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.contains("ithbat_csrf="))
        .unwrap();
    assert!(
        csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"),
        "{csrf_cookie}"
    );
    let (request, csrf) = (field(&page.text, "request"), field(&page.text, "csrf"));

    let wrong = post_password(&mut web, &request, &csrf, &user.email, "Wr0ng!pass").await;
    let unknown = post_password(&mut web, &request, &csrf, &t.email("nobody"), "Wr0ng!pass").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    let alert = |html: &str| {
        html.split("role=\"alert\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        alert(&wrong.text),
        alert(&unknown.text),
        "no account enumeration"
    );

    // Cross-site: the form without the cookie, or with another token.
    let mut stranger = Web::new(&app.base);
    let r = post_password(&mut stranger, &request, &csrf, &user.email, PASSWORD).await;
    assert_eq!(r.status, 400, "no cookie: {}", r.text);
    let r = post_password(&mut web, &request, "forged", &user.email, PASSWORD).await;
    assert_eq!(r.status, 400, "wrong token: {}", r.text);
    let r = post_password(
        &mut web,
        "00000000-0000-0000-0000-000000000000",
        &csrf,
        &user.email,
        PASSWORD,
    )
    .await;
    assert_eq!(r.status, 400);
    let r = post_password(&mut web, &request, &csrf, &user.email, PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.text);
    // A request is used once.
    let r = post_password(&mut web, &request, &csrf, &user.email, PASSWORD).await;
    assert_eq!(r.status, 400);
}

/// A browser that signed in for one client signs in at once for the next
/// client of the same tenant (no page), unless prompt=login.
async fn a_browser_sign_in_serves_the_next_client(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let user = t.user("dave").await;
    let first = rp(&t, &["openid"], true).await;
    let second = rp(&t, &["openid", "email"], true).await;
    let mut person = Person::new(&t, &user.email).await;
    person.code(&first.id, "openid", &[]).await;
    let none = [("prompt", "none")];
    let r = person.visit(&second.id, "openid email", &none).await;
    let code = code_of(&r, &person.iss);
    let tokens = exchange(&t, &second, &code, &person.pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert_eq!(
        claims(tokens.body["id_token"].as_str().unwrap())["sub"],
        user.id
    );
    let again = person
        .visit(&second.id, "openid", &[("prompt", "login")])
        .await;
    assert_eq!(again.status, 200, "prompt=login shows the page");
    // Another tenant's client does not see this browser's sign-in.
    let elsewhere = app.new_tenant().await;
    let foreign = rp(&elsewhere, &["openid"], true).await;
    let r = person.visit(&foreign.id, "openid", &none).await;
    assert_eq!(
        query(r.header("location").unwrap())["error"],
        "login_required"
    );
}

/// MFA on the hosted page: a user with MFA gets the code step
/// after the password; a wrong code is refused; a backup code works.
async fn second_factor_on_the_hosted_page(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("erin").await;
    let (mut authenticator, backups) = enrol(&user.api).await;
    let rp = rp(&t, &["openid"], true).await;
    let mut person = Person::new(&t, &user.email).await;
    let page = person.sign_in(&rp.id, "openid", &[]).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Two-step verification"), "{}", page.text);
    let wrong = second_step(&mut person.web, &page, &authenticator.wrong_code(), &[]).await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert!(wrong.text.contains("role=\"alert\""));
    let code = authenticator.next_code().await;
    let r = second_step(&mut person.web, &page, &code, &[]).await;
    let issued = code_of(&r, &person.iss);
    assert_eq!(
        exchange(&t, &rp, &issued, &person.pkce.verifier)
            .await
            .status,
        200
    );

    person.web = Web::new(&t.owner.base);
    let page = person.sign_in(&rp.id, "openid", &[]).await;
    let r = second_step(&mut person.web, &page, &backups[0], &[("backup", "1")]).await;
    code_of(&r, &person.iss);
}

/// The hosted page's code step for the `page` the password step answered.
async fn second_step(web: &mut Web, page: &Resp, code: &str, extra: &[(&str, &str)]) -> Resp {
    let (request, csrf, mfa) = (
        field(&page.text, "request"),
        field(&page.text, "csrf"),
        field(&page.text, "mfa_token"),
    );
    let mut fields = vec![
        ("request", request.as_str()),
        ("csrf", csrf.as_str()),
        ("mfa_token", mfa.as_str()),
        ("code", code),
    ];
    fields.extend_from_slice(extra);
    web.post_form("/oauth/authorize/mfa", &fields).await
}

/// A user's refresh token issued to a client rotates through /oauth/token
/// for that client only, keeps its scope, and is refused by the
/// first-party /api/v1/auth/refresh.
async fn refresh_tokens_stay_with_their_client(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("frank").await;
    let rp = rp(&t, &["openid", "email"], true).await;
    let other = self::rp(&t, &["openid", "email"], true).await;
    let mut person = Person::new(&t, &user.email).await;
    let tokens = person.tokens(&t, &rp, "openid email").await;
    let refresh = tokens.body["refresh_token"].as_str().unwrap().to_string();
    let first_party = t.anonymous().try_refresh(&refresh).await;
    first_party.expect(401, "UNAUTHORIZED");
    let r = refresh_grant(&t.owner, other.auth(), &refresh, &[]).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.text);
    let wider = [("scope", "openid email phone")];
    let r = refresh_grant(&t.owner, rp.auth(), &refresh, &wider).await;
    assert_eq!(r.body["error"], "invalid_scope", "{}", r.text);
    let r = refresh_grant(&t.owner, rp.auth(), &refresh, &[]).await;
    assert_eq!(
        r.status, 200,
        "the refusals above did not spend it: {}",
        r.text
    );
    assert_eq!(r.body["scope"], "email openid");
    assert_ne!(r.body["refresh_token"], refresh);
    let again = refresh_grant(&t.owner, rp.auth(), &refresh, &[]).await;
    assert_eq!(again.body["error"], "invalid_grant", "single use");
}

/// A client with no secret (RFC 6749 2.1 public client) redeems a code
/// with client_id and PKCE; a confidential one cannot skip its secret.
async fn public_clients_redeem_with_pkce_alone(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("gina").await;
    let spa = rp(&t, &["openid"], false).await;
    let confidential = rp(&t, &["openid"], true).await;
    let mut person = Person::new(&t, &user.email).await;
    let r = person.tokens(&t, &spa, "openid").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = person.visit(&confidential.id, "openid", &[]).await;
    let code = code_of(&r, &person.iss);
    let as_public = Auth::Public(&confidential.id);
    let r = redeem_code(&t.owner, as_public, &code, REDIRECT, &person.pkce.verifier).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (401, Some("invalid_client")),
        "{}",
        r.text
    );
}

/// OpenID Connect RP-Initiated Logout: the session ends, the browser's
/// sign-in with it, and only a registered post-logout URI is followed.
async fn end_session_signs_out(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("hank").await;
    let rp = rp(&t, &["openid", "services.iam"], true).await;
    let mut person = Person::new(&t, &user.email).await;
    let tokens = person.tokens(&t, &rp, "openid services.iam").await;
    let (access, id_token) = (
        tokens.body["access_token"].as_str().unwrap().to_string(),
        tokens.body["id_token"].as_str().unwrap().to_string(),
    );
    let api = t.anonymous().with_token(&access);
    api.me().await.ok();
    let evil = person
        .web
        .get(&format!("/oauth/logout?id_token_hint={id_token}&post_logout_redirect_uri=https://evil.example/&state=x"))
        .await;
    assert_eq!(evil.status, 200, "an unregistered URI is not followed");
    assert!(evil.text.contains("You are signed out"));
    api.me().await.expect(401, "UNAUTHORIZED");
    let r = person.visit(&rp.id, "openid", &[("prompt", "none")]).await;
    assert_eq!(
        query(r.header("location").unwrap())["error"],
        "login_required",
        "the browser sign-in ended too"
    );

    let tokens = person.tokens(&t, &rp, "openid").await;
    let id_token = tokens.body["id_token"].as_str().unwrap().to_string();
    let r = person
        .web
        .get(&format!(
            "/oauth/logout?id_token_hint={id_token}&post_logout_redirect_uri={REDIRECT}&state=bye"
        ))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some(format!("{REDIRECT}?state=bye").as_str())
    );
}

/// A token an OAuth client holds for a user reaches the management APIs
/// only with services.iam; with openid alone it serves userinfo.
async fn scopes_limit_what_tokens_reach(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("ivy").await;
    let rp = rp(&t, &["openid", "profile", "services.iam"], true).await;
    let mut person = Person::new(&t, &user.email).await;
    let tokens = person.tokens(&t, &rp, "openid profile").await;
    let api = t
        .anonymous()
        .with_token(tokens.body["access_token"].as_str().unwrap());
    let r = api.me().await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("insufficient_scope"));
    let r = api.get("/oauth/userinfo").await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("email").is_none(), "no email scope: {}", r.text);
    assert_eq!(r.body["preferred_username"], user.email);
}

/// A person signed in at `rp`: (access token, refresh token).
async fn signed_in_at(t: &TestTenant, rp: &Rp, email: &str) -> (String, String) {
    let mut person = Person::new(t, email).await;
    let tokens = person.tokens(t, rp, "openid email").await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    (
        tokens.body["access_token"].as_str().unwrap().to_string(),
        tokens.body["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn revoke(t: &TestTenant, rp: &Rp, token: &str) -> Resp {
    post_form(&t.owner, "/oauth/revoke", rp.auth(), &[("token", token)]).await
}

async fn introspect(t: &TestTenant, rp: &Rp, token: &str) -> Resp {
    let r = post_form(
        &t.owner,
        "/oauth/introspect",
        rp.auth(),
        &[("token", token)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

/// After revocation every token of the sign-in is dead: the refresh token
/// refreshes nothing, the access token is refused by the API and by
/// userinfo, and introspection says inactive for both.
async fn assert_session_dead(t: &TestTenant, rp: &Rp, access: &str, refresh: &str) {
    let r = refresh_grant(&t.owner, rp.auth(), refresh, &[]).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.text);
    let person = t.anonymous().with_token(access);
    assert_eq!(person.get("/oauth/userinfo").await.status, 401);
    assert_eq!(person.me().await.status, 401);
    for token in [access, refresh] {
        assert_eq!(
            introspect(t, rp, token).await.body,
            json!({ "active": false })
        );
    }
}

/// RFC 7009 2.1: the client revokes a person's refresh token it was
/// issued; the session it belongs to ends (2.1: "the authorization server
/// ... SHOULD also invalidate the access tokens based on the same
/// authorization grant").
async fn revoking_a_persons_refresh_token_ends_the_session(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("rita").await;
    let rp = rp(&t, &["openid", "email"], true).await;
    let other = self::rp(&t, &["openid", "email"], true).await;
    let (access, refresh) = signed_in_at(&t, &rp, &user.email).await;
    // Another client's revocation of it changes nothing (RFC 7009 2.1).
    assert_eq!(revoke(&t, &other, &refresh).await.status, 200);
    assert_eq!(introspect(&t, &rp, &refresh).await.body["active"], true);
    // Unknown tokens: 200, nothing changes (RFC 7009 2.2).
    assert_eq!(revoke(&t, &rp, "rt_not-a-token").await.status, 200);

    assert_eq!(revoke(&t, &rp, &refresh).await.status, 200);
    assert_session_dead(&t, &rp, &access, &refresh).await;
    let events = t
        .audit(&format!("action=auth.session_revoked&actorId={}", rp.id))
        .await;
    assert_eq!(events.ok()["total"], 1, "audited once: {}", events.text);
    assert_eq!(events.ok()["events"][0]["actor"]["type"], "client");
}

/// RFC 7009 2.1 for an access token: a person's access token issued to
/// the client ends its session too.
async fn revoking_a_persons_access_token_ends_the_session(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("sam").await;
    let rp = rp(&t, &["openid", "email"], true).await;
    let (access, refresh) = signed_in_at(&t, &rp, &user.email).await;
    assert_eq!(introspect(&t, &rp, &access).await.body["active"], true);
    assert_eq!(revoke(&t, &rp, &access).await.status, 200);
    assert_session_dead(&t, &rp, &access, &refresh).await;
    // The person's other sessions live on.
    user.api.me().await.ok();
}

/// RFC 7662 2.2: a person's live refresh token, introspected by the client
/// it was issued to, is active with its type, subject, client, scope and
/// times; another client is told nothing.
async fn introspection_tells_the_truth_about_a_persons_refresh_token(b: Backend) {
    let t = tenant(b).await;
    let user = t.user("ines").await;
    let rp = rp(&t, &["openid", "email"], true).await;
    let other = self::rp(&t, &["openid", "email"], true).await;
    let (_, refresh) = signed_in_at(&t, &rp, &user.email).await;
    let r = introspect(&t, &rp, &refresh).await;
    assert_eq!(r.body["active"], true, "{}", r.text);
    assert_eq!(r.body["token_type"], "refresh_token");
    assert_eq!(r.body["sub"], user.id);
    assert_eq!(r.body["client_id"], rp.id);
    assert_eq!(r.body["scope"], "email openid");
    assert!(r.body["exp"].as_i64().unwrap() > r.body["iat"].as_i64().unwrap());
    assert_eq!(
        introspect(&t, &other, &refresh).await.body,
        json!({ "active": false })
    );
    // Used by a refresh, it is no longer active.
    let r = refresh_grant(&t.owner, rp.auth(), &refresh, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        introspect(&t, &rp, &refresh).await.body,
        json!({ "active": false })
    );
}
