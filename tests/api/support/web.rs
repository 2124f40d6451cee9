//! A browser without a screen, for the hosted pages: it keeps cookies,
//! does not follow redirects (tests read `Location`), and reads hidden
//! form fields out of the HTML.

use std::collections::BTreeMap;

use super::client::{Api, Resp};

pub struct Web {
    http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    pub user_agent: String,
}

impl Web {
    pub fn new(base: &str) -> Web {
        Web {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
            cookies: BTreeMap::new(),
            user_agent:
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"
                    .into(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps (or, for Max-Age=0 or an empty value, drops) the cookies of a
    /// response.
    fn take_cookies(&mut self, r: &Resp) {
        for value in r.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap_or("");
            let Some((pair, attributes)) = text.split_once(';').or(Some((text, ""))) else {
                continue;
            };
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().into(), value.trim().into());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let rb = self
            .http
            .get(self.url(path))
            .header("Cookie", self.cookie_header())
            .header("User-Agent", &self.user_agent);
        let r = Api::send(rb).await;
        self.take_cookies(&r);
        r
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let rb = self
            .http
            .post(self.url(path))
            .header("Cookie", self.cookie_header())
            .header("User-Agent", &self.user_agent)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap());
        let r = Api::send(rb).await;
        self.take_cookies(&r);
        r
    }
}

/// The quoted value that follows `marker` in a page (an attribute's
/// value: the marker ends with `="`), `&amp;` unescaped.
pub fn value_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

/// The value of a hidden input `name` in a page.
pub fn field(html: &str, name: &str) -> String {
    value_after(html, &format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
}

/// The query parameters of a URL.
pub fn query(url: &str) -> BTreeMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .unwrap()
        .into_iter()
        .collect()
}
