//! Sign-in sessions: what a refresh token and its access tokens belong to.

use super::filter::FilterSpec;
use super::list::{PageRequest, SortOrder};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub user_agent: String,
    pub ip_address: Option<String>,
    pub device: Device,
    pub location: Option<serde_json::Value>,
    pub remember_me: bool,
    pub refresh_seq: i32,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// A random value per session (the JSON:API session's `nonce`); OpenID
    /// Connect sign-ins keep the client's nonce here.
    pub nonce: String,
}

/// Where a request came from: recorded on sessions and audit events.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// desktop, mobile, tablet, bot or unknown
    pub kind: String,
    /// e.g. "Chrome on Windows"
    pub name: String,
}

impl Device {
    /// Derives the device from a User-Agent header. Order matters: Edge and
    /// Opera announce Chrome, Chrome announces Safari.
    pub fn from_user_agent(ua: &str) -> Device {
        let has = |needle: &str| ua.contains(needle);
        if ua.trim().is_empty() {
            return Device {
                kind: "unknown".into(),
                name: "Unknown device".into(),
            };
        }
        let lower = ua.to_ascii_lowercase();
        let bot = [
            "bot",
            "crawler",
            "spider",
            "curl/",
            "wget/",
            "python-requests",
            "httpie",
            "postman",
            "okhttp",
            "go-http-client",
            "reqwest",
        ]
        .iter()
        .any(|b| lower.contains(b));

        let browser = if has("Edg/") || has("EdgA/") || has("EdgiOS/") {
            Some("Edge")
        } else if has("OPR/") || has("Opera") {
            Some("Opera")
        } else if has("SamsungBrowser/") {
            Some("Samsung Internet")
        } else if has("Firefox/") || has("FxiOS/") {
            Some("Firefox")
        } else if has("Chrome/") || has("CriOS/") || has("Chromium/") {
            Some("Chrome")
        } else if has("Safari/") && has("Version/") {
            Some("Safari")
        } else {
            None
        };

        let os = if has("iPad") {
            Some("iPadOS")
        } else if has("iPhone") || has("iPod") {
            Some("iOS")
        } else if has("Android") {
            Some("Android")
        } else if has("Windows") {
            Some("Windows")
        } else if has("CrOS") {
            Some("ChromeOS")
        } else if has("Mac OS X") || has("Macintosh") {
            Some("macOS")
        } else if has("Linux") {
            Some("Linux")
        } else {
            None
        };

        let kind = if bot && browser.is_none() {
            "bot"
        } else if has("iPad") || has("Tablet") || (has("Android") && !has("Mobile")) {
            "tablet"
        } else if has("Mobi") || has("iPhone") || has("iPod") {
            "mobile"
        } else if os.is_some() || browser.is_some() {
            "desktop"
        } else {
            "unknown"
        };

        let name = match (browser, os) {
            (Some(b), Some(o)) => format!("{b} on {o}"),
            (Some(b), None) => b.to_string(),
            (None, Some(o)) => o.to_string(),
            (None, None) => {
                // A client library: "curl/8.5.0" -> "curl".
                let product = ua.split(['/', ' ']).next().unwrap_or("").trim();
                if product.is_empty() {
                    "Unknown device".to_string()
                } else {
                    product.chars().take(40).collect()
                }
            }
        };
        Device {
            kind: kind.into(),
            name,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionSort {
    CreatedAt,
    RefreshSeq,
    LastActivity,
}

/// The active sessions of a tenant (JSON:API account_sessions).
#[derive(Clone, Default)]
pub struct SessionQuery<'a> {
    /// Only this user's sessions.
    pub user_id: Option<Uuid>,
    pub filter: Option<FilterSpec<'a>>,
    /// Empty: newest first.
    pub sort: Vec<(SessionSort, SortOrder)>,
    pub page: PageRequest,
    pub skip_count: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ua: &str) -> (String, String) {
        let d = Device::from_user_agent(ua);
        (d.kind, d.name)
    }

    #[test]
    fn user_agents() {
        assert_eq!(
            d("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"),
            ("desktop".into(), "Chrome on Windows".into())
        );
        assert_eq!(
            d("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0"),
            ("desktop".into(), "Edge on Windows".into())
        );
        assert_eq!(
            d("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"),
            ("mobile".into(), "Safari on iOS".into())
        );
        assert_eq!(
            d("Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0 Mobile/15E148 Safari/604.1"),
            ("tablet".into(), "Chrome on iPadOS".into())
        );
        assert_eq!(
            d("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"),
            ("mobile".into(), "Chrome on Android".into())
        );
        assert_eq!(
            d("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0"),
            ("desktop".into(), "Firefox on macOS".into())
        );
        assert_eq!(d("curl/8.5.0"), ("bot".into(), "curl".into()));
        assert_eq!(d(""), ("unknown".into(), "Unknown device".into()));
    }
}
