//! JSON:API 1.1 "Content Negotiation", for every request under this
//! dialect's paths (known or not), before any handler runs:
//!
//! - a `Content-Type` of the JSON:API media type with a parameter other
//!   than `ext` or `profile`, or with an `ext` naming an extension (this
//!   server supports none), is 415;
//! - an `Accept` naming the JSON:API media type in no instance this server
//!   can answer in (every instance has a parameter other than `ext` or
//!   `profile`, or names an unsupported extension in `ext`) is 406;
//! - `profile` is accepted and ignored (no profile is applied);
//! - every response says `Vary: Accept`, and every error, also those
//!   raised outside this dialect's handlers (an unknown path below a
//!   resource, a method the resource lacks), is a JSON:API error document.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

use super::error::{response, Body};
use super::{is_jsonapi_path, MEDIA_TYPE};
use crate::domain::Error;

/// Extensions this server applies: none.
const EXTENSIONS: &[&str] = &[];

/// One media range of a header: its essence (`type/subtype`, lowercase)
/// and its media type parameters (name lowercase, value unquoted). In
/// `Accept`, `q` and what follows it are accept parameters, not media
/// type parameters (RFC 9110 12.5.1).
struct MediaRange {
    essence: String,
    params: Vec<(String, String)>,
}

fn ranges(header: &str) -> Vec<MediaRange> {
    split_outside_quotes(header, ',')
        .into_iter()
        .map(|range| {
            let mut parts = split_outside_quotes(&range, ';').into_iter();
            let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let mut params = Vec::new();
            for p in parts {
                let (name, value) = p.split_once('=').unwrap_or((p.as_str(), ""));
                let name = name.trim().to_ascii_lowercase();
                if name == "q" {
                    break;
                }
                if !name.is_empty() {
                    params.push((name, value.trim().trim_matches('"').to_string()));
                }
            }
            MediaRange { essence, params }
        })
        .filter(|r| !r.essence.is_empty())
        .collect()
}

/// Splits on `sep` outside double-quoted strings (an `ext` value is a
/// quoted, space-separated list of URIs, which may hold `;` or `,`).
fn split_outside_quotes(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                out.last_mut().unwrap().push(c);
            }
            c if c == sep && !quoted => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

impl MediaRange {
    fn is_jsonapi(&self) -> bool {
        self.essence == MEDIA_TYPE
    }

    /// Only `ext` and `profile` are JSON:API's parameters.
    fn params_allowed(&self) -> bool {
        self.params
            .iter()
            .all(|(name, _)| name == "ext" || name == "profile")
    }

    /// Every extension its `ext` names is one this server applies.
    fn extensions_supported(&self) -> bool {
        self.params
            .iter()
            .filter(|(name, _)| name == "ext")
            .flat_map(|(_, uris)| uris.split_whitespace())
            .all(|uri| EXTENSIONS.contains(&uri))
    }
}

/// The negotiation's verdict on a request's headers.
fn negotiate(content_type: Option<&str>, accept: Option<&str>) -> Result<(), Error> {
    if let Some(ct) = content_type {
        if let Some(range) = ranges(ct).into_iter().find(MediaRange::is_jsonapi) {
            if !range.params_allowed() {
                return Err(Error::UnsupportedMediaType(format!(
                    "Content-Type {MEDIA_TYPE} takes no parameters but ext and profile"
                )));
            }
            if !range.extensions_supported() {
                return Err(Error::UnsupportedMediaType(
                    "Content-Type names an extension (ext) this server does not support".into(),
                ));
            }
        }
    }
    if let Some(accept) = accept {
        let jsonapi: Vec<MediaRange> = ranges(accept)
            .into_iter()
            .filter(MediaRange::is_jsonapi)
            .collect();
        // Both of the specification's cases (every instance with another
        // parameter; every instance with an unsupported extension) and
        // their mixture: no instance this server can answer in.
        if !jsonapi.is_empty()
            && !jsonapi
                .iter()
                .any(|r| r.params_allowed() && r.extensions_supported())
        {
            return Err(Error::NotAcceptable(format!(
                "Accept names {MEDIA_TYPE} only with parameters other than ext and profile, \
                 or with extensions (ext) this server does not support"
            )));
        }
    }
    Ok(())
}

/// Middleware: negotiates every JSON:API request and makes every answer
/// under JSON:API paths a JSON:API one.
pub async fn negotiate_content(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !is_jsonapi_path(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let header = |name| {
        req.headers()
            .get(name)
            .map(|v: &HeaderValue| v.to_str().unwrap_or("\u{0}").to_string())
    };
    let verdict = negotiate(
        header(header::CONTENT_TYPE).as_deref(),
        header(header::ACCEPT).as_deref(),
    );
    let mut res = match verdict {
        Err(e) => {
            let refused = response(&e, Body::Document);
            req.into_response(refused).map_into_right_body()
        }
        Ok(()) => {
            let res = next.call(req).await?;
            crate::api::error::rerender(res, |e, _| response(e, Body::Document))
        }
    };
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type() {
        assert!(negotiate(Some(MEDIA_TYPE), None).is_ok());
        assert!(negotiate(Some("application/json"), None).is_ok());
        assert!(negotiate(
            Some("application/vnd.api+json; profile=\"https://example.com/p\""),
            None
        )
        .is_ok());
        for bad in [
            "application/vnd.api+json; charset=utf-8",
            "application/vnd.api+json; ext=\"https://example.com/unknown-ext\"",
            "application/vnd.api+json;ext=https://example.com/a",
        ] {
            assert!(
                matches!(
                    negotiate(Some(bad), None),
                    Err(Error::UnsupportedMediaType(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn accept() {
        for good in [
            MEDIA_TYPE,
            "*/*",
            "application/vnd.api+json; q=0.9",
            "application/vnd.api+json; profile=\"https://example.com/p\"",
            "application/vnd.api+json; ext=\"https://example.com/x\", application/vnd.api+json",
            "application/vnd.api+json; charset=utf-8, application/vnd.api+json",
        ] {
            assert!(negotiate(None, Some(good)).is_ok(), "{good}");
        }
        for bad in [
            "application/vnd.api+json; charset=utf-8",
            "application/vnd.api+json; ext=\"https://example.com/unknown-ext\"",
            "application/vnd.api+json; ext=\"https://a.example/x https://b.example/y\", application/vnd.api+json; foo=bar",
            "application/vnd.api+json; charset=utf-8, */*",
        ] {
            assert!(
                matches!(negotiate(None, Some(bad)), Err(Error::NotAcceptable(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn quoted_lists_keep_their_separators() {
        let r = ranges("application/vnd.api+json; ext=\"https://a.example/x;y https://b.example/z,w\"; profile=p");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].params.len(), 2);
        assert_eq!(
            r[0].params[0].1,
            "https://a.example/x;y https://b.example/z,w"
        );
    }
}
