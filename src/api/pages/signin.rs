//! The hosted sign-in (`/oauth/authorize`): the page a client sends a
//! person to, its password and second-factor forms, and RP-initiated
//! logout (`/oauth/logout`). Forms are protected against cross-site
//! requests by a token that must be in the form and in a SameSite=Strict
//! cookie, and match the stored request's hash.

use actix_web::http::{header, StatusCode};
use actix_web::web::{Data, Form};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{cookie, message, origin_of, CookieJar, Page};
use crate::api::openapi::OAUTH;
use crate::domain::session::Origin;
use crate::service::code_flow::{
    self, AuthorizeParams, BrowserCookie, Next, PageError, SignInPage,
};
use crate::service::mail::escape;
use crate::service::passwords::Password;
use crate::service::{App, Gate};

const CSRF: &str = "ithbat_csrf";
const BROWSER: &str = "ithbat_session";

pub(super) fn jar(gate: &Gate) -> CookieJar {
    CookieJar::for_issuer(gate.tokens().issuer())
}

/// The parameters of a query string, each once (OAuth: a repeated
/// parameter is an error; here its first value is taken and the rest
/// refused by `code_flow::begin`'s checks).
fn params(query: &str) -> Result<AuthorizeParams, PageError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| PageError("This sign-in link is malformed.".into()))?;
    let mut p = AuthorizeParams::default();
    for (key, value) in pairs {
        let slot = match key.as_str() {
            "response_type" => &mut p.response_type,
            "client_id" => &mut p.client_id,
            "redirect_uri" => &mut p.redirect_uri,
            "scope" => &mut p.scope,
            "state" => &mut p.state,
            "nonce" => &mut p.nonce,
            "code_challenge" => &mut p.code_challenge,
            "code_challenge_method" => &mut p.code_challenge_method,
            "prompt" => &mut p.prompt,
            "login_hint" => &mut p.login_hint,
            _ => continue,
        };
        if slot.is_some() {
            return Err(PageError(format!(
                "The parameter {key} is given more than once."
            )));
        }
        *slot = Some(value).filter(|v| !v.is_empty());
    }
    Ok(p)
}

pub(super) fn error_page(e: PageError) -> HttpResponse {
    message(StatusCode::BAD_REQUEST, "ithbat", "Cannot sign in", &e.0)
}

/// Runs a step of the sign-in through the gate (`Gate::run`) and renders
/// what comes next.
pub(super) async fn step<F, Fut>(gate: &Gate, work: F) -> HttpResponse
where
    F: FnOnce(App) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Next, PageError>> + Send + 'static,
{
    let next = gate
        .run(move |app| async move { Ok::<_, crate::domain::Error>(work(app).await) })
        .await;
    respond(gate, next.unwrap_or_else(|_| Err(PageError::internal())))
}

/// Renders what comes next: a page, or the way back to the client.
pub(super) fn respond(gate: &Gate, next: Result<Next, PageError>) -> HttpResponse {
    let jar = jar(gate);
    match next {
        Err(e) => error_page(e),
        Ok(Next::Redirect { location, cookie }) => {
            let mut r = HttpResponse::SeeOther();
            r.insert_header((header::LOCATION, location))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .append_header((header::SET_COOKIE, jar.set(CSRF, "", "Strict", Some(0))));
            if let Some(BrowserCookie { value, expires_at }) = cookie {
                let age = (expires_at - chrono::Utc::now()).num_seconds().max(0);
                r.append_header((
                    header::SET_COOKIE,
                    jar.set(BROWSER, &value, "Lax", Some(age)),
                ));
            }
            r.finish()
        }
        Ok(Next::SignIn(page)) => {
            let mut response = sign_in_page(&page);
            set_csrf(&mut response, &jar, &page.csrf);
            response
        }
        Ok(Next::Mfa(page, mfa_token)) => {
            let mut response = mfa_page(&page, &mfa_token);
            set_csrf(&mut response, &jar, &page.csrf);
            response
        }
    }
}

fn set_csrf(response: &mut HttpResponse, jar: &CookieJar, csrf: &str) {
    if let Ok(v) = header::HeaderValue::from_str(&jar.set(CSRF, csrf, "Strict", None)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn hidden(page: &SignInPage) -> String {
    format!(
        "<input type=\"hidden\" name=\"request\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        page.request.id,
        escape(&page.csrf)
    )
}

fn alert(page: &SignInPage) -> String {
    match page.problem.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => format!("<div class=\"alert\" role=\"alert\">{}</div>", escape(p)),
        None => String::new(),
    }
}

/// A link per SSO provider: a plain GET that starts the round trip (no
/// form, so the page's form-action need not name every provider).
fn sso_buttons(page: &SignInPage) -> String {
    if page.providers.is_empty() {
        return String::new();
    }
    let mut html = String::from("<p class=\"or\">or</p>");
    for (scheme, label) in &page.providers {
        let query = serde_urlencoded::to_string([
            ("request", page.request.id.to_string().as_str()),
            ("provider", scheme.as_str()),
        ])
        .unwrap_or_default();
        html.push_str(&format!(
            "<a class=\"button secondary sso\" id=\"sso-{id}\" href=\"/oauth/authorize/sso?{query}\">Continue with {label}</a>",
            id = escape(scheme),
            query = escape(&query),
            label = escape(label),
        ));
    }
    html
}

fn sign_in_page(page: &SignInPage) -> HttpResponse {
    let body = format!(
        "<h1>Sign in</h1><p class=\"sub\">to continue to <strong>{client}</strong></p>{alert}\
         <form method=\"post\" action=\"/oauth/authorize/password\">{hidden}\
         <label for=\"email\">Email or user name</label>\
         <input id=\"email\" name=\"email\" type=\"text\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required autofocus value=\"{hint}\">\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <label class=\"check\"><input type=\"checkbox\" name=\"remember\" value=\"1\"> Keep me signed in on this device</label>\
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form>{sso}",
        client = escape(&page.client_name),
        alert = alert(page),
        hidden = hidden(page),
        hint = escape(page.login_hint.as_deref().unwrap_or("")),
        sso = sso_buttons(page),
    );
    Page {
        title: &format!("Sign in · {}", page.tenant_name),
        brand: &page.tenant_name,
        body,
        status: if page.problem.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        },
        form_action: origin_of(&page.request.redirect_uri).into_iter().collect(),
    }
    .render()
}

fn mfa_page(page: &SignInPage, mfa_token: &str) -> HttpResponse {
    let body = format!(
        "<h1>Two-step verification</h1><p class=\"sub\">Enter the 6-digit code from your authenticator app \
         to continue to <strong>{client}</strong>.</p>{alert}\
         <form method=\"post\" action=\"/oauth/authorize/mfa\">{hidden}\
         <input type=\"hidden\" name=\"mfa_token\" value=\"{token}\">\
         <label for=\"code\">Code</label>\
         <input id=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
         pattern=\"[0-9 ]*\" maxlength=\"8\" required autofocus>\
         <button type=\"submit\" id=\"verify\">Verify</button></form>\
         <form method=\"post\" action=\"/oauth/authorize/mfa\">{hidden}\
         <input type=\"hidden\" name=\"mfa_token\" value=\"{token}\"><input type=\"hidden\" name=\"backup\" value=\"1\">\
         <p class=\"or\">or</p><label for=\"backup-code\">A backup code</label>\
         <input id=\"backup-code\" name=\"code\" type=\"text\" autocomplete=\"off\" maxlength=\"32\" required>\
         <button type=\"submit\" class=\"secondary\">Use a backup code</button></form>",
        client = escape(&page.client_name),
        alert = alert(page),
        hidden = hidden(page),
        token = escape(mfa_token),
    );
    Page {
        title: &format!("Verify · {}", page.tenant_name),
        brand: &page.tenant_name,
        body,
        status: if page.problem.as_deref().is_some_and(|p| !p.is_empty()) {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        },
        form_action: origin_of(&page.request.redirect_uri).into_iter().collect(),
    }
    .render()
}

/// `GET /oauth/authorize` (RFC 6749 4.1.1, OpenID Connect 3.1.2.1).
#[utoipa::path(get, path = "/oauth/authorize", tag = OAUTH,
    description = "RFC 6749 4.1.1 with PKCE (RFC 7636) and OpenID Connect: the hosted sign-in page, or a redirect back to the client.",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query),
        ("redirect_uri" = String, Query, description = "One of the client's registered redirect URIs"),
        ("scope" = Option<String>, Query),
        ("state" = Option<String>, Query),
        ("code_challenge" = String, Query, description = "PKCE S256 challenge"),
        ("code_challenge_method" = String, Query, description = "`S256`"),
        ("nonce" = Option<String>, Query),
        ("prompt" = Option<String>, Query, description = "`none` or `login`"),
        ("login_hint" = Option<String>, Query),
        ("tenant" = Option<String>, Query)),
    security(()),
    responses(
        (status = 200, description = "The sign-in page", content_type = "text/html", body = String),
        (status = 303, description = "Back to the client's redirect URI with `code` (or `error`) and `state`"),
        (status = 400, description = "A page that says why the request cannot go on (no redirect to an unverified URI); or, for input refused before the page (control characters), the dialect's error body", content((String = "text/html"), (crate::api::openapi::schemas::OAuthError = "application/json")))))]
pub async fn authorize(req: HttpRequest, gate: Data<Gate>, origin: Origin) -> HttpResponse {
    let params = match params(req.query_string()) {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let browser = cookie(&req, &jar(&gate), BROWSER);
    step(&gate, move |app| async move {
        code_flow::begin(&app, params, browser.as_deref(), &origin).await
    })
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = oauth::PasswordForm)]
pub struct PasswordForm {
    request: String,
    csrf: String,
    /// The email or the user name (docs/api/oauth.md).
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    remember: Option<String>,
}

/// `POST /oauth/authorize/password`.
#[utoipa::path(post, path = "/oauth/authorize/password", tag = OAUTH,
    description = "The sign-in page's form: email (or user name) and password.",
    request_body(content = PasswordForm, content_type = "application/x-www-form-urlencoded"),
    security(()),
    responses(
        (status = 200, description = "The next page (two-step verification)", content_type = "text/html", body = String),
        (status = 303, description = "Back to the client with a code"),
        (status = 400, description = "The form cannot be used (expired, forged); or, for input refused before the page (control characters), the dialect's error body", content((String = "text/html"), (crate::api::openapi::schemas::OAuthError = "application/json"))),
        (status = 401, description = "The page again, saying the sign-in failed", content_type = "text/html", body = String)))]
pub async fn password(
    req: HttpRequest,
    gate: Data<Gate>,
    origin: Origin,
    form: Form<PasswordForm>,
) -> HttpResponse {
    let f = form.into_inner();
    let csrf_cookie = cookie(&req, &jar(&gate), CSRF);
    step(&gate, move |app| async move {
        code_flow::password(
            &app,
            &f.request,
            &f.csrf,
            csrf_cookie.as_deref(),
            f.email,
            Password::new(f.password),
            f.remember.is_some(),
            &origin,
        )
        .await
    })
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = oauth::MfaForm)]
pub struct MfaForm {
    request: String,
    csrf: String,
    mfa_token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    backup: Option<String>,
}

/// `POST /oauth/authorize/mfa`.
#[utoipa::path(post, path = "/oauth/authorize/mfa", tag = OAUTH,
    description = "The two-step verification page's form: a TOTP code or a backup code.",
    request_body(content = MfaForm, content_type = "application/x-www-form-urlencoded"),
    security(()),
    responses(
        (status = 303, description = "Back to the client with a code"),
        (status = 400, description = "The form cannot be used (expired, forged); or, for input refused before the page (control characters), the dialect's error body", content((String = "text/html"), (crate::api::openapi::schemas::OAuthError = "application/json"))),
        (status = 401, description = "The page again, saying the code was wrong", content_type = "text/html", body = String)))]
pub async fn second_factor(
    req: HttpRequest,
    gate: Data<Gate>,
    origin: Origin,
    form: Form<MfaForm>,
) -> HttpResponse {
    let f = form.into_inner();
    let csrf_cookie = cookie(&req, &jar(&gate), CSRF);
    step(&gate, move |app| async move {
        code_flow::second_factor(
            &app,
            &f.request,
            &f.csrf,
            csrf_cookie.as_deref(),
            &f.mfa_token,
            &f.code,
            f.backup.is_some(),
            &origin,
        )
        .await
    })
    .await
}

/// `GET`/`POST /oauth/logout` (OpenID Connect RP-Initiated Logout 1.0):
/// `id_token_hint`, `client_id`, `post_logout_redirect_uri`, `state`.
#[utoipa::path(method(get, post), path = "/oauth/logout", tag = OAUTH,
    description = "OpenID Connect RP-Initiated Logout 1.0: `id_token_hint`, `client_id`, `post_logout_redirect_uri`, `state` (query, or form body on POST).",
    params(
        ("id_token_hint" = Option<String>, Query),
        ("client_id" = Option<String>, Query),
        ("post_logout_redirect_uri" = Option<String>, Query),
        ("state" = Option<String>, Query)),
    security(()),
    responses(
        (status = 200, description = "Signed out", content_type = "text/html", body = String),
        (status = 303, description = "Signed out; on to the registered post_logout_redirect_uri")))]
pub async fn logout(
    req: HttpRequest,
    gate: Data<Gate>,
    origin: Origin,
    body: String,
) -> HttpResponse {
    let query = if req.method() == actix_web::http::Method::POST {
        body
    } else {
        req.query_string().to_string()
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&query).unwrap_or_default();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let (hint, client, redirect, state) = (
        get("id_token_hint"),
        get("client_id"),
        get("post_logout_redirect_uri"),
        get("state"),
    );
    let jar = jar(&gate);
    let browser = cookie(&req, &jar, BROWSER);
    let outcome = gate
        .run(move |app| async move {
            code_flow::end_session(
                &app,
                browser.as_deref(),
                hint.as_deref(),
                client.as_deref(),
                redirect.as_deref(),
                state.as_deref(),
                &origin,
            )
            .await
        })
        .await;
    let clear = jar.set(BROWSER, "", "Lax", Some(0));
    match outcome {
        Ok(Some(location)) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .insert_header((header::SET_COOKIE, clear))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Ok(None) => {
            let mut r = message(
                StatusCode::OK,
                "ithbat",
                "You are signed out",
                "You can close this window.",
            );
            if let Ok(v) = header::HeaderValue::from_str(&clear) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Err(_) => message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ithbat",
            "Cannot sign out",
            "Something went wrong; try again.",
        ),
    }
}
