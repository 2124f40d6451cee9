//! Hosted pages: server-rendered HTML that works without JavaScript, has
//! no external assets, and reads well on a phone. Every page is sent with
//! a strict Content-Security-Policy (its one stylesheet allowed by a
//! per-response nonce, no script at all), `frame-ancestors 'none'`,
//! `Cache-Control: no-store` and no referrer, because its URLs and forms
//! carry tokens.

pub mod account;
pub mod signin;
pub mod sso;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use crate::service::mail::escape;
use crate::service::tokens::random_token;

/// The stylesheet every page shares.
const STYLE: &str = r#"
:root{color-scheme:light;--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--accent:#0b7285;--accent-dark:#095c6b;--bad:#b42318;--bad-bg:#fef3f2}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;
 background:linear-gradient(160deg,#e6f4f6 0%,#f5f7fa 55%);font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);padding:24px 16px}
main{width:100%;max-width:400px;background:#fff;border:1px solid var(--line);border-radius:14px;padding:32px 28px;box-shadow:0 10px 30px rgba(16,42,67,.08)}
.brand{display:flex;align-items:center;gap:10px;font-weight:600;color:var(--muted);font-size:14px;margin-bottom:20px}
.badge{display:inline-flex;align-items:center;justify-content:center;width:32px;height:32px;border-radius:8px;background:var(--accent);color:#fff;font-weight:700}
h1{font-size:24px;margin:0 0 4px}
.sub{margin:0 0 24px;color:var(--muted)}
label{display:block;font-weight:600;font-size:14px;margin:16px 0 6px}
input[type=email],input[type=password],input[type=text]{width:100%;padding:11px 12px;border:1px solid #bcccdc;border-radius:8px;font-size:16px}
input:focus{outline:2px solid var(--accent);outline-offset:1px;border-color:var(--accent)}
.check{display:flex;align-items:center;gap:8px;font-weight:400;color:var(--muted)}
button,.button{display:block;width:100%;margin-top:24px;padding:12px;border:0;border-radius:8px;background:var(--accent);color:#fff;font-size:16px;font-weight:600;cursor:pointer;text-align:center;text-decoration:none}
button:hover,.button:hover{background:var(--accent-dark)}
.secondary{background:#fff;color:var(--ink);border:1px solid #bcccdc;margin-top:12px}
.secondary:hover{background:#f0f4f8}
.alert{background:var(--bad-bg);color:var(--bad);border:1px solid #fecdca;border-radius:8px;padding:10px 12px;font-size:14px;margin-bottom:8px}
.note{color:var(--muted);font-size:14px}
.or{display:flex;align-items:center;gap:12px;color:var(--muted);font-size:13px;margin:24px 0 0}
.or::before,.or::after{content:"";flex:1;border-top:1px solid var(--line)}
footer{margin-top:20px;color:#829ab1;font-size:13px}
"#;

/// A whole page around `body` (already escaped HTML).
pub struct Page<'a> {
    pub title: &'a str,
    /// Who the page speaks for (the tenant's name), shown as a badge.
    pub brand: &'a str,
    pub body: String,
    pub status: StatusCode,
    /// Extra `form-action` sources (where a form's answer may redirect:
    /// the client's redirect URI's origin).
    pub form_action: Vec<String>,
}

impl Page<'_> {
    pub fn render(self) -> HttpResponse {
        let nonce = random_token(16);
        let initial: String = self
            .brand
            .chars()
            .find(|c| c.is_alphanumeric())
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_else(|| "i".into());
        let html = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"referrer\" content=\"no-referrer\">\
             <title>{title}</title><style nonce=\"{nonce}\">{STYLE}</style></head>\
             <body><main><div class=\"brand\"><span class=\"badge\">{initial}</span>{brand}</div>{body}</main>\
             <footer>Secured by ithbat</footer></body></html>",
            title = escape(self.title),
            initial = escape(&initial),
            brand = escape(self.brand),
            body = self.body,
        );
        let mut form_action = vec!["'self'".to_string()];
        form_action.extend(self.form_action);
        let csp = format!(
            "default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; \
             form-action {}; frame-ancestors 'none'; base-uri 'none'",
            form_action.join(" ")
        );
        let mut response = HttpResponse::build(self.status)
            .content_type("text/html; charset=utf-8")
            .body(html);
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        response
    }
}

/// A page that only says something (an error, "you are signed out").
pub fn message(status: StatusCode, brand: &str, title: &str, text: &str) -> HttpResponse {
    Page {
        title,
        brand,
        body: format!(
            "<h1>{}</h1><p class=\"sub\">{}</p>",
            escape(title),
            escape(text)
        ),
        status,
        form_action: Vec::new(),
    }
    .render()
}

/// `scheme://host[:port]` of a URI, for `form-action`.
pub fn origin_of(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// A cookie's attributes for this deployment: `Secure` (and the
/// `__Host-` name prefix) when the server is reached over https.
pub struct CookieJar {
    pub secure: bool,
}

impl CookieJar {
    pub fn for_issuer(issuer: &str) -> CookieJar {
        CookieJar {
            secure: issuer.starts_with("https://"),
        }
    }

    /// The name a cookie goes by here.
    pub fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_string()
        }
    }

    /// A `Set-Cookie` value: HttpOnly, the given SameSite and lifetime
    /// (`max_age` None: for the browser session; Some(0): delete).
    pub fn set(&self, base: &str, value: &str, same_site: &str, max_age: Option<i64>) -> String {
        let mut cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite={same_site}",
            self.name(base)
        );
        if self.secure {
            cookie.push_str("; Secure");
        }
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={age}"));
        }
        cookie
    }
}

/// A cookie of the request, by the name `jar` gives it.
pub fn cookie(req: &actix_web::HttpRequest, jar: &CookieJar, base: &str) -> Option<String> {
    let name = jar.name(base);
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_cookies() {
        assert_eq!(
            origin_of("https://app.example/cb?x=1").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080/cb").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("nonsense"), None);
        let https = CookieJar::for_issuer("https://id.example");
        assert_eq!(
            https.set("s", "v", "Lax", None),
            "__Host-s=v; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let http = CookieJar::for_issuer("http://127.0.0.1:8080");
        assert_eq!(
            http.set("s", "", "Strict", Some(0)),
            "s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }
}
