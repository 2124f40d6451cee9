//! The browser's side of SSO: leaving for a provider (from the sign-in
//! page, or the API sign-in `/api/v1/auth/social/{provider}/login`) and
//! coming back to `/api/v1/auth/social/{provider}/callback`, which goes on
//! to wherever the round trip was started for.

use actix_web::http::{header, StatusCode};
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;
use uuid::Uuid;

use super::signin::{error_page, jar, step};
use super::{cookie, message, CookieJar};
use crate::api::extract::requested_tenant;
use crate::api::ithbat::auth::token_response;
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::{NATIVE, OAUTH};
use crate::domain::session::Origin;
use crate::domain::sso::Purpose;
use crate::domain::tenant::TenantRef;
use crate::domain::Error;
use crate::service::authentication::SignIn;
use crate::service::code_flow::{self, PageError};
use crate::service::sso::{self, Arrival, Callback, Departure, Failure, Start};
use crate::service::Gate;

/// The cookie that binds a round trip to the browser that started it.
/// SameSite=Lax: it must come back on the provider's top-level redirect.
pub(crate) const BINDING: &str = "ithbat_sso";

fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.clone())
}

/// The binding cookie for a departure (10 minutes, the round trip's life).
pub(crate) fn binding_cookie(jar: &CookieJar, browser: &str) -> String {
    jar.set(BINDING, browser, "Lax", Some(600))
}

fn depart(jar: &CookieJar, d: Departure) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, d.location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::SET_COOKIE, binding_cookie(jar, &d.browser)))
        .finish()
}

/// `GET /oauth/authorize/sso?request=&provider=`: a button of the sign-in
/// page.
#[utoipa::path(get, path = "/oauth/authorize/sso", tag = OAUTH,
    description = "A provider button of the sign-in page: on to the tenant's SSO provider.",
    params(("request" = String, Query, description = "The authorization request's id"), ("provider" = String, Query)),
    security(()),
    responses(
        (status = 303, description = "To the provider"),
        (status = 400, description = "The link is malformed or the provider unknown; or, for input refused before the page (control characters), the dialect's error body", content((String = "text/html"), (crate::api::openapi::schemas::OAuthError = "application/json")))))]
pub async fn from_sign_in(req: HttpRequest, gate: Data<Gate>) -> HttpResponse {
    let pairs = query_pairs(&req);
    let (Some(request), Some(scheme)) = (param(&pairs, "request"), param(&pairs, "provider"))
    else {
        return error_page(PageError("This sign-in link is malformed.".into()));
    };
    let Ok(request_id) = Uuid::parse_str(&request) else {
        return error_page(PageError("This sign-in link is malformed.".into()));
    };
    let outcome = gate
        .run(move |app| async move {
            let tenant = match code_flow::tenant_of_request(&app, request_id).await {
                Ok(t) => t,
                Err(e) => return Ok::<_, Error>(Err(e)),
            };
            Ok(
                match sso::start(&app, tenant, &scheme, Start::Authorize { request_id }).await {
                    Ok(d) => Ok(d),
                    Err(e) => Err(PageError(match e {
                        Error::NotFound(_) => "This sign-in option is not available.".into(),
                        Error::Unavailable(m) => m,
                        _ => PageError::internal().0,
                    })),
                },
            )
        })
        .await;
    match outcome {
        Ok(Ok(d)) => depart(&jar(&gate), d),
        Ok(Err(e)) => error_page(e),
        Err(_) => error_page(PageError::internal()),
    }
}

/// `GET /api/v1/auth/social/{provider}/login` (docs/api/oauth.md, SSO
/// providers): the tenant from X-Tenant-ID or `?tenant=` (a browser cannot
/// send headers on a link), else `default`.
#[utoipa::path(get, path = "/api/v1/auth/social/{provider}/login", tag = NATIVE,
    description = "Sign-in through one of the tenant's SSO providers: a redirect to it; its callback answers as POST /api/v1/auth/login does.",
    params(("tenant" = Option<String>, Query, description = "The tenant's id or slug, where the browser cannot send X-Tenant-ID")),
    security(()),
    responses((status = 302, description = "To the provider")))]
pub async fn api_login(
    req: HttpRequest,
    gate: Data<Gate>,
    scheme: Path<String>,
) -> Result<HttpResponse, Error> {
    let pairs = query_pairs(&req);
    let tenant = match (requested_tenant(&req)?, param(&pairs, "tenant")) {
        (Some(t), _) => Some(t),
        (None, Some(t)) => Some(TenantRef::parse(&t).map_err(|e| Error::invalid("tenant", e))?),
        (None, None) => None,
    };
    let scheme = scheme.into_inner();
    let d = gate
        .run(move |app| async move { sso::start_api(&app, tenant, &scheme).await })
        .await?;
    let mut r = depart(&jar(&gate), d);
    *r.status_mut() = StatusCode::FOUND;
    Ok(r)
}

/// The way back to the application as a page that moves on by itself
/// (meta refresh) instead of a redirect. The provider's sign-in form may
/// be what started this navigation, and browsers hold every redirect that
/// follows a form to that page's `form-action`, which cannot know the
/// application; a refresh is a navigation of its own.
fn onward(redirect: HttpResponse) -> HttpResponse {
    if redirect.status() != StatusCode::SEE_OTHER {
        return redirect;
    }
    let Some(location) = redirect
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return redirect;
    };
    let target = crate::service::mail::escape(&location);
    let mut page = super::Page {
        title: "Signing you in",
        brand: "ithbat",
        body: format!(
            "<meta http-equiv=\"refresh\" content=\"0;url={target}\">\
             <h1>Signing you in…</h1><p class=\"sub\">You are being sent back to the application.</p>\
             <a class=\"button\" id=\"continue\" href=\"{target}\">Continue</a>"
        ),
        status: StatusCode::OK,
        form_action: Vec::new(),
    }
    .render();
    for cookie in redirect.headers().get_all(header::SET_COOKIE) {
        page.headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    page
}

/// `GET /api/v1/auth/social/{provider}/callback`: the provider sends the
/// browser back with `code` and `state` (or `error`).
#[utoipa::path(get, path = "/api/v1/auth/social/{provider}/callback", tag = NATIVE,
    description = "Where the provider sends the browser back (`code` and `state`, or `error`).",
    params(("provider" = String, Path), ("code" = Option<String>, Query), ("state" = Option<String>, Query), ("error" = Option<String>, Query), ("error_description" = Option<String>, Query)),
    security(()),
    responses(
        (status = 200, description = "Signed in (the tokens, as POST /api/v1/auth/login answers), or a page saying the identity was linked", body = AnyObject),
        (status = 303, description = "On to the client of the sign-in page"),
        (status = 400, description = "A page that says why the sign-in cannot go on; or, for input refused before the page (control characters), the dialect's error body", content((String = "text/html"), (crate::api::openapi::schemas::NativeError = "application/json")))))]
pub async fn callback(req: HttpRequest, gate: Data<Gate>, origin: Origin) -> HttpResponse {
    let pairs = query_pairs(&req);
    let back = Callback {
        state: param(&pairs, "state"),
        code: param(&pairs, "code"),
        error: param(&pairs, "error"),
        error_description: param(&pairs, "error_description"),
    };
    let jar = jar(&gate);
    let browser = cookie(&req, &jar, BINDING);
    let origin2 = origin.clone();
    let arrival = gate
        .run(move |app| async move {
            Ok::<_, Error>(sso::finish(&app, back, browser.as_deref(), &origin2).await)
        })
        .await;
    let clear = jar.set(BINDING, "", "Lax", Some(0));
    let mut response = match arrival {
        Err(_) => message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ithbat",
            "Cannot sign in",
            "Something went wrong; try again.",
        ),
        Ok(Ok(Arrival::SignedIn {
            request_id: Some(id),
            outcome,
            ..
        })) => onward(
            step(&gate, move |app| async move {
                code_flow::after_sso(&app, id, *outcome, &origin).await
            })
            .await,
        ),
        Ok(Ok(Arrival::SignedIn { outcome, .. })) => match *outcome {
            SignIn::Complete(tokens) => token_response(*tokens),
            SignIn::MfaRequired { mfa_token } => HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({ "mfaRequired": true, "mfaToken": mfa_token })),
        },
        Ok(Ok(Arrival::Linked(identity))) => message(
            StatusCode::OK,
            "ithbat",
            "Account linked",
            &format!(
                "You can now sign in with {}. You can close this window.",
                identity.provider
            ),
        ),
        Ok(Err(Failure {
            message: text,
            request_id: Some(id),
            purpose: Some(Purpose::Authorize),
        })) => {
            step(&gate, move |app| async move {
                code_flow::sso_failed(&app, id, text).await
            })
            .await
        }
        Ok(Err(Failure { message: text, .. })) => {
            message(StatusCode::BAD_REQUEST, "ithbat", "Cannot sign in", &text)
        }
    };
    if let Ok(v) = header::HeaderValue::from_str(&clear) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
