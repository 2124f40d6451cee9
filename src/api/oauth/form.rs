//! OAuth request parameters (RFC 6749 3.2): form-encoded bodies where an
//! empty parameter is an absent one, a repeated one is an error, and an
//! unknown one is ignored; and the client's credentials (2.3.1), from the
//! Basic scheme or the body, never both.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures_util::future::LocalBoxFuture;

use crate::api::extract::read_limited;
use crate::domain::{Error, OAuthError, Result};
use crate::service::clients::Credentials;

pub fn invalid_request(description: impl Into<String>) -> Error {
    Error::oauth(OAuthError::InvalidRequest, description)
}

fn invalid_client(description: &str) -> Error {
    Error::oauth(OAuthError::InvalidClient, description)
}

/// The parameters of a form-encoded OAuth request body.
pub struct OAuthForm(Vec<(String, String)>);

impl FromRequest for OAuthForm {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        let body = read_limited(req, payload);
        Box::pin(async move {
            if !form {
                return Err(invalid_request(
                    "The request body must be application/x-www-form-urlencoded",
                ));
            }
            let body = body.await?;
            serde_urlencoded::from_bytes(&body)
                .map(OAuthForm)
                .map_err(|_| invalid_request("The request body is not valid form encoding"))
        })
    }
}

impl OAuthForm {
    /// A parameter's value; None if absent or empty.
    pub fn get(&self, name: &str) -> Result<Option<&str>> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(invalid_request(format!(
                "The parameter {name} is given more than once"
            )));
        }
        Ok(first)
    }

    pub fn require(&self, name: &str) -> Result<&str> {
        self.get(name)?
            .ok_or_else(|| invalid_request(format!("The parameter {name} is required")))
    }
}

/// The client's credentials: HTTP Basic (client_secret_basic) or
/// `client_id` + `client_secret` in the body (client_secret_post).
pub fn credentials(req: &HttpRequest, form: &OAuthForm) -> Result<Credentials> {
    let basic = basic_credentials(req)?;
    let (form_id, form_secret) = (form.get("client_id")?, form.get("client_secret")?);
    match basic {
        Some((client_id, secret)) => {
            if form_secret.is_some() {
                return Err(invalid_request(
                    "Use one client authentication method: client_secret_basic or client_secret_post",
                ));
            }
            if form_id.is_some_and(|id| id != client_id) {
                return Err(invalid_request(
                    "client_id differs from the client of the Authorization header",
                ));
            }
            Ok(Credentials {
                client_id,
                secret: Some(secret),
            })
        }
        None => match form_id {
            Some(id) => Ok(Credentials {
                client_id: id.to_string(),
                secret: form_secret.map(str::to_string),
            }),
            None => Err(invalid_client(
                "Client authentication is required (client_secret_basic or client_secret_post)",
            )),
        },
    }
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || invalid_client("The Authorization header is not valid Basic credentials");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid_client(
            "Clients authenticate with the Basic scheme or with client_secret_post",
        ));
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(malformed)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    match (form_decode(id), form_decode(secret)) {
        (Some(id), Some(secret)) if !id.is_empty() => Ok(Some((id, secret))),
        _ => Err(malformed()),
    }
}

/// application/x-www-form-urlencoded decoding of one value (RFC 6749
/// 2.3.1 encodes the id and secret so before Basic): `+` is a space,
/// `%XX` a byte; None if the result is not UTF-8 or an escape is broken.
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::form_decode;

    #[test]
    fn decodes_form_encoding() {
        assert_eq!(form_decode("a%3Ab+c%25").as_deref(), Some("a:b c%"));
        assert_eq!(
            form_decode("s3cr3tV%40lue%21").as_deref(),
            Some("s3cr3tV@lue!")
        );
        assert_eq!(form_decode("%E2%82%AC").as_deref(), Some("€"));
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%+1"), None);
        assert_eq!(form_decode("%FF"), None);
    }
}

/// The parameters of `POST /oauth/token`, for the OpenAPI document (the
/// handler reads them from an `OAuthForm`). The client authenticates with
/// HTTP Basic or with `client_id` and `client_secret` here (RFC 6749 2.3.1);
/// a public client sends only `client_id` and redeems a code with PKCE.
#[derive(utoipa::ToSchema)]
#[schema(as = oauth::TokenForm)]
#[allow(dead_code)]
pub struct TokenForm {
    /// `client_credentials`, `authorization_code` or `refresh_token`.
    grant_type: String,
    /// Space-separated scopes (client_credentials, refresh_token).
    scope: Option<String>,
    /// authorization_code: the code the redirect carried.
    code: Option<String>,
    /// authorization_code: the redirect_uri of the authorization request.
    redirect_uri: Option<String>,
    /// authorization_code: the PKCE verifier (RFC 7636).
    code_verifier: Option<String>,
    /// refresh_token: the refresh token.
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The parameters of `POST /oauth/introspect` (RFC 7662 2.1) and
/// `POST /oauth/revoke` (RFC 7009 2.1).
#[derive(utoipa::ToSchema)]
#[schema(as = oauth::TokenOnlyForm)]
#[allow(dead_code)]
pub struct TokenOnlyForm {
    token: String,
    /// `access_token` or `refresh_token`: a hint only.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}
