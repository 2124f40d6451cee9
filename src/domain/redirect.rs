//! Where an invitation may send its recipient once accepted: only to URLs
//! on the tenant's allow-list (`redirectUrls` in its settings), so that a
//! mailed link from this server can never be turned into a redirect to an
//! attacker's site (an open redirect).
//!
//! An entry without a path (`https://app.example.com`, or with just `/`)
//! allows every URL of that origin (scheme, host and port); an entry with
//! a path or query allows exactly that URL.

use url::Url;

/// Validates an allow-list: the rules of OAuth redirect URIs (absolute,
/// https, http only on a loopback address, no fragment), and no user
/// information, which a browser would show in place of the real host.
pub fn validate_allow_list(given: &[String]) -> Result<Vec<String>, String> {
    let list = crate::domain::client::validate_redirect_uris(given)?;
    for raw in &list {
        let url = Url::parse(raw).map_err(|_| format!("{raw:?} is not an absolute URL"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("{raw:?} must not hold a user name or password"));
        }
    }
    Ok(list)
}

/// Is `candidate` allowed by `list`? A URL that does not parse, is not
/// http(s) or carries user information never is.
pub fn allowed(list: &[String], candidate: &str) -> bool {
    let Ok(url) = Url::parse(candidate) else {
        return false;
    };
    if !matches!(url.scheme(), "https" | "http")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return false;
    }
    list.iter().filter_map(|e| Url::parse(e).ok()).any(|entry| {
        if entry.path() == "/" && entry.query().is_none() {
            entry.origin() == url.origin()
        } else {
            entry.as_str() == url.as_str()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Vec<String> {
        validate_allow_list(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn origins_allow_their_urls_and_urls_only_themselves() {
        let l = list(&[
            "https://app.example.com",
            "https://portal.example.com/accept-invite",
        ]);
        assert!(allowed(&l, "https://app.example.com/accept-invite"));
        assert!(allowed(&l, "https://app.example.com"));
        assert!(allowed(&l, "https://APP.example.com:443/x?y=1"));
        assert!(allowed(&l, "https://portal.example.com/accept-invite"));
        assert!(!allowed(&l, "https://portal.example.com/accept-invite/x"));
        assert!(!allowed(&l, "https://portal.example.com/"));
        assert!(!allowed(&l, "http://app.example.com/accept-invite"));
        assert!(!allowed(&l, "https://app.example.com:8443/"));
        assert!(!allowed(&l, "https://app.example.com.evil.test/"));
        assert!(!allowed(&l, "https://evil.test/?https://app.example.com"));
        assert!(!allowed(&l, "https://app.example.com@evil.test/"));
        assert!(!allowed(&l, "https://user@app.example.com/"));
        assert!(!allowed(&l, "javascript:alert(1)"));
        assert!(!allowed(&l, "/relative"));
        assert!(!allowed(&[], "https://app.example.com/"));
    }

    #[test]
    fn entries_are_checked() {
        let bad = |e: &str| validate_allow_list(&[e.to_string()]).is_err();
        assert!(bad("http://app.example.com"));
        assert!(bad("app.example.com"));
        assert!(bad("https://app.example.com/#x"));
        assert!(bad("https://me:pw@app.example.com/"));
        assert!(!bad("http://127.0.0.1:3000/cb"));
    }
}
