//! `POST /oauth/token` (RFC 6749), `/oauth/introspect` (RFC 7662) and
//! `/oauth/revoke` (RFC 7009). Each authenticates the client, then runs one
//! use case of `service::oauth`.

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::form::{credentials, invalid_request, OAuthForm};
use crate::domain::scope::ScopeSet;
use crate::domain::session::Origin;
use crate::domain::{Error, OAuthError, Result};
use crate::service::oauth::{Introspection, TokenRequest};
use crate::service::{clients, oauth, App};

/// Token, introspection and revocation answers are never cached
/// (RFC 6749 5.1).
fn no_store(body: Option<Value>) -> HttpResponse {
    let mut r = HttpResponse::Ok();
    r.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    match body {
        Some(b) => r.json(b),
        None => r.finish(),
    }
}

/// The grant a token request asks for. Another grant type is a new arm
/// here and a new `TokenRequest` variant.
fn token_request(form: &OAuthForm) -> Result<TokenRequest> {
    let scope = form
        .get("scope")?
        .map(ScopeSet::parse)
        .transpose()
        .map_err(|e| Error::oauth(OAuthError::InvalidScope, e))?;
    match form.get("grant_type")? {
        None => Err(invalid_request("The parameter grant_type is required")),
        Some("client_credentials") => Ok(TokenRequest::ClientCredentials { scope }),
        Some("refresh_token") => Ok(TokenRequest::RefreshToken {
            refresh_token: form.require("refresh_token")?.to_string(),
            scope,
        }),
        Some(other) => Err(Error::oauth(
            OAuthError::UnsupportedGrantType,
            format!("The grant type {other} is not supported (client_credentials, refresh_token)"),
        )),
    }
}

pub async fn token(
    app: Data<App>,
    req: HttpRequest,
    origin: Origin,
    form: OAuthForm,
) -> Result<HttpResponse> {
    let request = token_request(&form)?;
    let creds = credentials(&req, &form)?;
    let issued = app
        .run(move |app| async move {
            let client = clients::authenticate(&app, &creds, &origin).await?;
            oauth::token(&app, &client, request, &origin).await
        })
        .await?;
    let mut body = json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope.to_string(),
    });
    if let Some(t) = issued.refresh_token {
        body["refresh_token"] = json!(t);
    }
    Ok(no_store(Some(body)))
}

/// RFC 7662 2.2: `{"active": false}` and nothing else for any token that
/// is not active for this client.
pub async fn introspect(
    app: Data<App>,
    req: HttpRequest,
    form: OAuthForm,
    origin: Origin,
) -> Result<HttpResponse> {
    let token = form.require("token")?.to_string();
    let creds = credentials(&req, &form)?;
    let found = app
        .run(move |app| async move {
            let client = clients::authenticate(&app, &creds, &origin).await?;
            oauth::introspect(&app, &client, &token).await
        })
        .await?;
    let body = match found {
        None => json!({ "active": false }),
        Some(Introspection::Access { claims, scope }) => {
            let mut b = json!({
                "active": true,
                "token_type": "Bearer",
                "sub": claims.sub,
                "iss": claims.iss,
                "aud": claims.aud,
                "exp": claims.exp,
                "iat": claims.iat,
                "nbf": claims.nbf,
                "jti": claims.jti,
                "tenant_id": claims.tenant_id,
            });
            if let Some(client_id) = claims.client_id {
                b["client_id"] = json!(client_id);
            }
            if let Some(scope) = scope {
                b["scope"] = json!(scope.to_string());
            }
            if !claims.email.is_empty() {
                b["username"] = json!(claims.email);
            }
            b
        }
        Some(Introspection::Refresh {
            client_id,
            tenant_id,
            scope,
            issued_at,
            expires_at,
        }) => json!({
            "active": true,
            "client_id": client_id,
            "sub": client_id,
            "tenant_id": tenant_id,
            "scope": scope.to_string(),
            "iat": issued_at.timestamp(),
            "exp": expires_at.timestamp(),
        }),
    };
    Ok(no_store(Some(body)))
}

/// RFC 7009 2.2: 200 whether or not there was such a token.
pub async fn revoke(
    app: Data<App>,
    req: HttpRequest,
    form: OAuthForm,
    origin: Origin,
) -> Result<HttpResponse> {
    let token = form.require("token")?.to_string();
    let creds = credentials(&req, &form)?;
    app.run(move |app| async move {
        let client = clients::authenticate(&app, &creds, &origin).await?;
        oauth::revoke(&app, &client, &token, &origin).await
    })
    .await?;
    Ok(no_store(None))
}
