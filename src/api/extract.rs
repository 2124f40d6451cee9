//! Request extractors shared by every dialect: JSON bodies with field-named
//! errors and a size limit, the request origin, and the authenticated caller.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::tenant::TenantRef;
use crate::domain::text::{self, JsonPath};
use crate::domain::{Error, FieldError};
use crate::service::tokens::AccessClaims;
use crate::service::{authentication, Gate};

/// The application, as every request reaches it: through its gate.
pub fn gate(req: &HttpRequest) -> Data<Gate> {
    req.app_data::<Data<Gate>>()
        .cloned()
        .expect("the gate is registered")
}

/// A JSON request body deserialized into `T`. Bodies over the configured
/// limit are refused with 413 before they are read in full; malformed JSON,
/// unknown fields and wrong types are a VALIDATION_ERROR naming the field.
pub struct JsonBody<T>(pub T);

/// Like `JsonBody`, for endpoints whose body is optional: an empty body is None.
pub struct OptionalJsonBody<T>(pub Option<T>);

/// Reads a JSON body within the size limit, after checking its media type.
pub(crate) fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<BytesMut, Error>> {
    let media = media_type_ok(req);
    let body = read_limited(req, payload);
    Box::pin(async move {
        media?;
        body.await
    })
}

/// Reads a body of any media type within the size limit: refused with 413
/// as soon as it is known to be larger.
pub fn read_limited(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<BytesMut, Error>> {
    let limit = gate(req).config().max_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if declared.is_some_and(|n| n > limit) {
            return Err(Error::PayloadTooLarge { limit });
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| Error::invalid("body", format!("could not be read: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(Error::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move { parse_json(&body.await?).map(JsonBody) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJsonBody<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            let body = body.await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJsonBody(None));
            }
            parse_json(&body).map(|v| OptionalJsonBody(Some(v)))
        })
    }
}

/// JSON bodies must say so, or say nothing: a form post or text/plain body
/// is refused rather than guessed at.
fn media_type_ok(req: &HttpRequest) -> Result<(), Error> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media == "application/json"
        || (media.starts_with("application/") && media.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType(format!(
            "Content-Type must be application/json, not {media:?}"
        )))
    }
}

/// Parses a JSON object into `T`, naming the offending field on error.
/// Every body of this API is an object: serde would also build a struct
/// from an array, so anything else is refused first. Every string in it
/// is held to `domain::text`'s rule before `T` sees it.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::invalid("body", "must be a JSON object"));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        Error::invalid(
            "body",
            format!("is not valid JSON ({})", strip_position(&e.to_string())),
        )
    })?;
    check_strings(&value, JsonPath::dotted)?;
    serde_path_to_error::deserialize(value).map_err(field_error)
}

/// Refuses a JSON document holding a string (or member name) with a
/// control character, naming the member as `name` spells its path.
pub fn check_strings(
    value: &serde_json::Value,
    name: fn(&JsonPath) -> String,
) -> Result<(), Error> {
    match text::find_control(value) {
        None => Ok(()),
        Some(path) => {
            let field = name(&path);
            let field = if field.is_empty() || field == "/" {
                "body".to_string()
            } else {
                field
            };
            Err(Error::invalid(field, text::CONTROL_MESSAGE))
        }
    }
}

/// Deserializes an already parsed JSON object into `T`, naming the
/// offending field (relative to the object) on error.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    if !value.is_object() {
        return Err(Error::invalid("", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(field_error)
}

/// A UUID given in a body field.
pub fn body_id(field: &str, raw: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::invalid(field, "must be a UUID"))
}

fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() {
        return Error::invalid(
            "body",
            format!("is not valid JSON ({})", strip_position(&inner.to_string())),
        );
    }
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let message = strip_position(&inner.to_string());
    let join = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(name) = between(&message, "unknown field `", "`") {
        // serde_path_to_error already includes the unknown key in the path.
        let field = if path.ends_with(name) {
            path.clone()
        } else {
            join(name)
        };
        return Error::Validation(vec![FieldError::new(field, "is not a recognised field")]);
    }
    if let Some(name) = between(&message, "missing field `", "`") {
        return Error::Validation(vec![FieldError::new(join(name), "is required")]);
    }
    if path.is_empty() {
        return Error::invalid("body", "must be a JSON object");
    }
    let message = match between(&message, ", expected ", "") {
        Some(expected) if message.starts_with("invalid type") => format!("must be {expected}"),
        _ => message,
    };
    Error::Validation(vec![FieldError::new(path, message)])
}

/// serde_json appends " at line L column C"; clients need the field, not that.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let rest = &s[from..];
    if end.is_empty() {
        return Some(rest);
    }
    rest.find(end).map(|to| &rest[..to])
}

/// Deserializes a field that, when present, must not be null:
/// `#[serde(default, deserialize_with = "present")]` on an `Option<T>`.
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Deserializes a field where null means "clear it":
/// `#[serde(default, deserialize_with = "nullable")]` on an `Option<Option<T>>`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// Longest User-Agent kept on sessions and audit events.
const MAX_USER_AGENT: usize = 512;

/// The User-Agent as stored: informational, so cleaned rather than refused
/// (no sign-in fails over it). HTTP lets only TAB through of the controls
/// and `to_str` keeps visible ASCII only; any control left becomes a space.
fn user_agent(req: &HttpRequest) -> String {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(MAX_USER_AGENT)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The client's address: the peer, or with ITHBAT_TRUST_PROXY the first
/// address of X-Forwarded-For.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> Option<String> {
    let forwarded = trust_proxy
        .then(|| req.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|ip| ip.trim().to_string())
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok());
    forwarded.or_else(|| req.peer_addr().map(|a| a.ip().to_string()))
}

impl FromRequest for Origin {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(origin_of(req)))
    }
}

/// Where a request comes from: the client address and User-Agent.
pub fn origin_of(req: &HttpRequest) -> Origin {
    let ip = client_ip(req, gate(req).config().trust_proxy);
    let user_agent = user_agent(req);
    Origin { ip, user_agent }
}

/// The tenant named by X-Tenant-ID, by id or slug, if any. Whether it
/// exists is the service's to answer, where an unknown id would be.
pub fn requested_tenant(req: &HttpRequest) -> Result<Option<TenantRef>, Error> {
    let Some(value) = req.headers().get("x-tenant-id") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("");
    TenantRef::parse(text)
        .map(Some)
        .map_err(|e| Error::invalid("X-Tenant-ID", e))
}

/// The bearer token of the Authorization header.
pub fn bearer_token(req: &HttpRequest) -> Result<&str, Error> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Error::Unauthenticated(
                "Authentication required: send Authorization: Bearer <access token>".into(),
            )
        })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(Error::Unauthenticated(
            "The Authorization header must be: Bearer <access token>".into(),
        )),
    }
}

impl FromRequest for Caller {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // A dialect's guard (Aritma) may have authenticated the request.
        if let Some(caller) = req.extensions().get::<Caller>().cloned() {
            return Box::pin(ready(Ok(caller)));
        }
        let gate = gate(req);
        // The rate limiter has usually verified the token already.
        let verified = req.extensions().get::<AccessClaims>().cloned();
        let token = match verified {
            Some(_) => Ok(String::new()),
            None => bearer_token(req).map(str::to_string),
        };
        let tenant = requested_tenant(req);
        Box::pin(async move {
            let claims = match verified {
                Some(claims) => claims,
                None => gate.tokens().verify_access(&token?).await?,
            };
            let tenant = tenant?;
            gate.run(move |app| async move {
                authentication::authenticate_api(&app, claims, tenant.as_ref()).await
            })
            .await
        })
    }
}

/// A path id: anything that is not a UUID names nothing (404, not 500).
pub fn path_id(raw: &str, resource: &'static str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw).map_err(|_| Error::NotFound(resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body {
        email: String,
        #[serde(default, deserialize_with = "present")]
        first_name: Option<String>,
        #[serde(default)]
        nested: Option<Nested>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        theme: Option<String>,
    }

    fn err(body: &str) -> Vec<FieldError> {
        match parse_json::<Body>(body.as_bytes()).unwrap_err() {
            Error::Validation(v) => v,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_the_field() {
        assert_eq!(
            err(r#"{"email":"a@b.c","bogus":1}"#),
            vec![FieldError::new("bogus", "is not a recognised field")]
        );
        assert_eq!(
            err(r#"{"firstName":"x"}"#),
            vec![FieldError::new("email", "is required")]
        );
        assert_eq!(
            err(r#"{"email":5}"#),
            vec![FieldError::new("email", "must be a string")]
        );
        assert_eq!(
            err(r#"{"email":"a","firstName":null}"#),
            vec![FieldError::new("firstName", "must be a string")]
        );
        assert_eq!(
            err(r#"{"email":"a","nested":{"theme":1}}"#),
            vec![FieldError::new("nested.theme", "must be a string")]
        );
        assert_eq!(
            err(r#"{"email":"a","nested":{"colour":1}}"#),
            vec![FieldError::new(
                "nested.colour",
                "is not a recognised field"
            )]
        );
        assert_eq!(err(r#"{"email": "#)[0].field, "body");
        assert_eq!(
            err("[1,2]")[0],
            FieldError::new("body", "must be a JSON object")
        );
        assert_eq!(err("")[0], FieldError::new("body", "must be a JSON object"));
        assert_eq!(err(r#"{"email":"a"} x"#)[0].field, "body");
    }
}
