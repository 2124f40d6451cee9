//! The pages mailed links open: `/account/join` (accept an invitation by
//! choosing a password, then go where the invitation said), `/account/
//! reset-password` (choose a new password) and `/account/verify-email`.
//!
//! A GET only shows what the link is for; nothing is used until the form
//! is posted, so mail scanners that fetch links do not spend them. Forms
//! carry a random value that must equal a SameSite=Strict cookie set with
//! the page (double submit), so another site cannot post them.

use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Data, Form};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{cookie, message, origin_of, CookieJar, Page};
use crate::domain::account::{TokenProblem, TokenPurpose};
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::account_links::{self, Link};
use crate::service::mail::escape;
use crate::service::passwords::Password;
use crate::service::tokens::random_token;
use crate::service::{invitations, recovery, Gate};

const CSRF: &str = "ithbat_account_csrf";

/// Longest token accepted from a link or form (they are ~50 characters).
const MAX_TOKEN_CHARS: usize = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for flow in [Flow::Join, Flow::Reset, Flow::Verify] {
        cfg.service(
            super::super::resource(flow.path())
                .route(
                    web::get().to(move |req: HttpRequest, gate: Data<Gate>| show(flow, req, gate)),
                )
                .route(web::post().to(
                    move |req: HttpRequest,
                          gate: Data<Gate>,
                          origin: Origin,
                          form: Form<AccountForm>| {
                        submit(flow, req, gate, origin, form)
                    },
                )),
        );
    }
}

/// What a link is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Join,
    Reset,
    Verify,
}

impl Flow {
    fn path(self) -> &'static str {
        match self {
            Flow::Join => "/account/join",
            Flow::Reset => "/account/reset-password",
            Flow::Verify => "/account/verify-email",
        }
    }

    fn purpose(self) -> TokenPurpose {
        match self {
            Flow::Join => TokenPurpose::Invitation,
            Flow::Reset => TokenPurpose::PasswordReset,
            Flow::Verify => TokenPurpose::EmailVerification,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Flow::Join => "invitation",
            Flow::Reset => "password reset link",
            Flow::Verify => "verification link",
        }
    }

    fn sets_password(self) -> bool {
        self != Flow::Verify
    }
}

fn jar(gate: &Gate) -> CookieJar {
    CookieJar::for_issuer(gate.tokens().issuer())
}

/// The page for a link that cannot be used, and why (`TokenProblem`'s words).
fn dead_link(flow: Flow, why: &str) -> HttpResponse {
    message(
        StatusCode::BAD_REQUEST,
        "ithbat",
        "This link cannot be used",
        &format!("This {} {why}. Ask for a new one.", flow.what()),
    )
}

fn went_wrong() -> HttpResponse {
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ithbat",
        "Something went wrong",
        "Try again in a moment.",
    )
}

/// The form of a usable link, with a fresh CSRF value in it and in a cookie.
fn form_page(
    gate: &Gate,
    flow: Flow,
    token: &str,
    link: &Link,
    problem: Option<&str>,
) -> HttpResponse {
    let csrf = random_token(32);
    let alert = problem
        .map(|p| format!("<div class=\"alert\" role=\"alert\">{}</div>", escape(p)))
        .unwrap_or_default();
    let (heading, sub, button) = match flow {
        Flow::Join => (
            format!("Join {}", link.tenant_name),
            format!(
                "Choose a password for <strong>{}</strong>.",
                escape(&link.email)
            ),
            "Join",
        ),
        Flow::Reset => (
            "Choose a new password".to_string(),
            format!("for <strong>{}</strong>.", escape(&link.email)),
            "Change password",
        ),
        Flow::Verify => (
            "Verify your email".to_string(),
            format!(
                "Confirm that <strong>{}</strong> is your address.",
                escape(&link.email)
            ),
            "Verify my email",
        ),
    };
    let passwords = if flow.sets_password() {
        "<label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required autofocus>\
         <label for=\"confirm\">Repeat the password</label>\
         <input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" required>\
         <p class=\"note\">At least 8 characters, with upper- and lowercase letters, a digit and a special character.</p>"
    } else {
        ""
    };
    let body = format!(
        "<h1>{heading}</h1><p class=\"sub\">{sub}</p>{alert}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{passwords}\
         <button type=\"submit\" id=\"submit\">{button}</button></form>",
        heading = escape(&heading),
        action = flow.path(),
        token = escape(token),
    );
    let mut response = Page {
        title: &format!("{heading} · {}", link.tenant_name),
        brand: &link.tenant_name,
        body,
        status: if problem.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        // Joining ends in a redirect to the invitation's URL.
        form_action: link
            .redirect_url
            .as_deref()
            .and_then(origin_of)
            .into_iter()
            .collect(),
    }
    .render();
    if let Ok(v) = header::HeaderValue::from_str(&jar(gate).set(CSRF, &csrf, "Strict", None)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The token of a link's query string.
fn token_of(req: &HttpRequest) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= MAX_TOKEN_CHARS)
}

/// The link's form (with `problem` shown on it), or why it cannot be used.
async fn form_or_dead_link(
    gate: &Gate,
    flow: Flow,
    token: String,
    problem: Option<&str>,
) -> HttpResponse {
    let checked = {
        let token = token.clone();
        gate.run(
            move |app| async move { account_links::inspect(&app, &token, flow.purpose()).await },
        )
        .await
    };
    match checked {
        Ok(Ok(link)) => form_page(gate, flow, &token, &link, problem),
        Ok(Err(why)) => dead_link(flow, why.message()),
        Err(_) => went_wrong(),
    }
}

/// `GET` a link: its form, or why it cannot be used.
async fn show(flow: Flow, req: HttpRequest, gate: Data<Gate>) -> HttpResponse {
    match token_of(&req) {
        Some(token) => form_or_dead_link(&gate, flow, token, None).await,
        None => dead_link(flow, TokenProblem::Invalid.message()),
    }
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// What a use case's error means for the page: a dead link, or a problem
/// with the password to show on the form again.
enum Refusal {
    Link(String),
    Password(String),
    Internal,
}

fn refusal(e: Error) -> Refusal {
    match e {
        Error::Validation(fields) => match fields.into_iter().next() {
            Some(f) if f.field == "password" => Refusal::Password(f.message),
            Some(f) if f.field == "token" => Refusal::Link(f.message),
            _ => Refusal::Internal,
        },
        _ => Refusal::Internal,
    }
}

/// `POST` a link's form: use the token, then show the outcome or, for an
/// invitation with a redirect URL, go there.
async fn submit(
    flow: Flow,
    req: HttpRequest,
    gate: Data<Gate>,
    origin: Origin,
    form: Form<AccountForm>,
) -> HttpResponse {
    let f = form.into_inner();
    let jar = jar(&gate);
    let expected = cookie(&req, &jar, CSRF).unwrap_or_default();
    if f.csrf.is_empty() || !bool::from(expected.as_bytes().ct_eq(f.csrf.as_bytes())) {
        return message(
            StatusCode::FORBIDDEN,
            "ithbat",
            "This form has expired",
            "Open the link from your mail again.",
        );
    }
    if f.token.is_empty() || f.token.len() > MAX_TOKEN_CHARS {
        return dead_link(flow, TokenProblem::Invalid.message());
    }
    if flow.sets_password() && f.password != f.confirm {
        return form_or_dead_link(&gate, flow, f.token, Some("The two passwords differ.")).await;
    }
    let token = f.token.clone();
    let password = Password::new(f.password);
    let outcome = gate
        .run(move |app| async move {
            match flow {
                Flow::Join => invitations::join(&app, &token, password, &origin).await,
                Flow::Reset => recovery::reset(&app, &token, password, &origin)
                    .await
                    .map(|()| None),
                Flow::Verify => recovery::verify_email(&app, &token, &origin)
                    .await
                    .map(|()| None),
            }
        })
        .await;
    let clear = jar.set(CSRF, "", "Strict", Some(0));
    let mut response = match outcome {
        Ok(Some(location)) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .finish(),
        Ok(None) => {
            let (title, text) = match flow {
                Flow::Join => (
                    "Welcome aboard",
                    "Your account is ready. You can now sign in with your email and the password you chose.",
                ),
                Flow::Reset => (
                    "Your password has been changed",
                    "You can now sign in with the new password. Every other sign-in has been ended.",
                ),
                Flow::Verify => (
                    "Your email is verified",
                    "Thank you. You can close this window.",
                ),
            };
            message(StatusCode::OK, "ithbat", title, text)
        }
        Err(e) => match refusal(e) {
            Refusal::Link(why) => dead_link(flow, &why),
            Refusal::Password(problem) => {
                return form_or_dead_link(&gate, flow, f.token, Some(&problem)).await;
            }
            Refusal::Internal => went_wrong(),
        },
    };
    if let Ok(v) = header::HeaderValue::from_str(&clear) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
