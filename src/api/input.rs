//! Screens the text every request carries before any handler reads it:
//! the path, each query parameter and each field of a form body hold no
//! control character `domain::text` refuses. Handlers parse query strings
//! and forms in many ways; checking here covers every endpoint, present
//! and future, in one place. JSON bodies are checked where they are
//! parsed (`api::extract::check_strings`), SCIM filter literals where they
//! are unescaped (`api::scim::filter`).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::HttpMessage;

use super::extract::read_limited;
use super::limits::error_response;
use crate::domain::text::{has_refused_control, CONTROL_MESSAGE};
use crate::domain::Error;

pub async fn screen(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let mut checked = check_target(req.path(), req.query_string());
    if checked.is_ok() && is_form(&req) {
        let mut payload = req.take_payload();
        let body = read_limited(req.request(), &mut payload).await;
        checked = body.and_then(|body| {
            let refused = check_pairs(&body);
            req.set_payload(Payload::from(body.freeze()));
            refused
        });
    }
    match checked {
        Ok(()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Err(e) => {
            let e = in_dialect(req.path(), e);
            let response = error_response(&req, e);
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// The path (percent-decoded) and every query parameter.
fn check_target(path: &str, query: &str) -> Result<(), Error> {
    if has_refused_control(&String::from_utf8_lossy(&percent_decode(path))) {
        return Err(Error::invalid("path", CONTROL_MESSAGE));
    }
    check_pairs(query.as_bytes())
}

/// Each `name=value` of a query string or form body, decoded as forms are
/// (`+` is a space, invalid UTF-8 is replaced, not refused).
fn check_pairs(encoded: &[u8]) -> Result<(), Error> {
    for (name, value) in url::form_urlencoded::parse(encoded) {
        if has_refused_control(&name) {
            return Err(Error::invalid(
                "query",
                "has a parameter name with a control character",
            ));
        }
        if has_refused_control(&value) {
            return Err(Error::invalid(name.into_owned(), CONTROL_MESSAGE));
        }
    }
    Ok(())
}

/// Names the parameter as each dialect does: SCIM's `filter` is an
/// invalidFilter, JSON:API marks parameters with `?` (its error objects
/// then carry `source.parameter`).
fn in_dialect(path: &str, e: Error) -> Error {
    let Error::Validation(mut fields) = e else {
        return e;
    };
    if fields.len() == 1 && fields[0].field == "filter" && super::limits::is_scim_path(path) {
        return Error::InvalidFilter(format!("filter: {CONTROL_MESSAGE}"));
    }
    if super::jsonapi::is_jsonapi_path(path) {
        for f in &mut fields {
            f.field = format!("?{}", f.field);
        }
    }
    Error::Validation(fields)
}

fn is_form(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// `%XX` escapes decoded to bytes; anything else kept as it is.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: Error) -> String {
        match e {
            Error::Validation(f) => f[0].field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_the_parameter_holding_a_control() {
        assert!(check_target("/api/v1/users", "search=plain&page=2").is_ok());
        assert!(check_target("/api/v1/users", "search=two%0Alines%09tab").is_ok());
        assert_eq!(
            field(check_target("/x", "search=a%00b").unwrap_err()),
            "search"
        );
        assert_eq!(
            field(check_target("/x", "filter%5Bname__match%5D=a%1Bb").unwrap_err()),
            "filter[name__match]"
        );
        assert_eq!(field(check_target("/x", "a%00=1").unwrap_err()), "query");
        assert_eq!(field(check_target("/x", "q=%C2%85").unwrap_err()), "q");
        assert_eq!(field(check_target("/t%00x/api", "").unwrap_err()), "path");
        // Malformed escapes and invalid UTF-8 are not this check's business.
        assert!(check_target("/a%zz%", "q=%ff%fe&r=%").is_ok());
    }

    #[test]
    fn each_dialect_names_it_its_way() {
        let e = || Error::invalid("filter", CONTROL_MESSAGE);
        assert!(matches!(
            in_dialect("/scim/v2/Users", e()),
            Error::InvalidFilter(_)
        ));
        assert_eq!(field(in_dialect("/api/v1/users", e())), "filter");
        assert_eq!(field(in_dialect("/api/v1/accounts", e())), "?filter");
    }
}
