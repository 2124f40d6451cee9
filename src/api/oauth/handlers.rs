//! `POST /oauth/token` (RFC 6749), `/oauth/introspect` (RFC 7662) and
//! `/oauth/revoke` (RFC 7009). Each authenticates the client, then runs one
//! use case of `service::oauth`.

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::form::{credentials, invalid_request, OAuthForm};
use crate::api::openapi::schemas::AnyObject;
use crate::api::openapi::OAUTH;
use crate::domain::scope::ScopeSet;
use crate::domain::session::Origin;
use crate::domain::{Error, OAuthError, Result};
use crate::service::oauth::{Introspection, TokenRequest};
use crate::service::{authentication, clients, code_flow, oauth, Gate};

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
        Some("authorization_code") => Ok(TokenRequest::AuthorizationCode {
            code: form.require("code")?.to_string(),
            redirect_uri: form.get("redirect_uri")?.map(str::to_string),
            code_verifier: form.get("code_verifier")?.map(str::to_string),
        }),
        Some("refresh_token") => Ok(TokenRequest::RefreshToken {
            refresh_token: form.require("refresh_token")?.to_string(),
            scope,
        }),
        Some(other) => Err(Error::oauth(
            OAuthError::UnsupportedGrantType,
            format!(
                "The grant type {other} is not supported (authorization_code, client_credentials, refresh_token)"
            ),
        )),
    }
}

/// Is this token request about a user (a code, or a user's refresh token)
/// rather than the client acting as itself?
fn for_a_user(request: &TokenRequest) -> bool {
    match request {
        TokenRequest::AuthorizationCode { .. } => true,
        TokenRequest::RefreshToken { refresh_token, .. } => {
            !refresh_token.starts_with(oauth::REFRESH_PREFIX)
        }
        TokenRequest::ClientCredentials { .. } => false,
    }
}

#[utoipa::path(post, path = "/oauth/token", tag = OAUTH,
    description = "RFC 6749 4.1.3 (authorization_code, with PKCE), 4.4 (client_credentials) and 6 (refresh_token).",
    request_body(content = super::form::TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("clientCredentials" = []), ()),
    responses((status = 200, description = "RFC 6749 5.1: `{access_token, token_type, expires_in, scope, refresh_token?, id_token?}`", body = AnyObject,
        example = json!({"access_token": "eyJ...", "token_type": "Bearer", "expires_in": 3600, "scope": "services.iam"}))))]
pub async fn token(
    gate: Data<Gate>,
    req: HttpRequest,
    origin: Origin,
    form: OAuthForm,
) -> Result<HttpResponse> {
    let request = token_request(&form)?;
    let creds = credentials(&req, &form)?;
    if !for_a_user(&request) {
        let issued = gate
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
        return Ok(no_store(Some(body)));
    }
    let tokens = gate
        .run(move |app| async move {
            // Public clients (no secret) may redeem codes: PKCE binds them.
            let client = match creds.secret {
                Some(_) => clients::authenticate(&app, &creds, &origin).await?,
                None => clients::authenticate_public(&app, &creds.client_id, &origin).await?,
            };
            match request {
                TokenRequest::AuthorizationCode {
                    code,
                    redirect_uri,
                    code_verifier,
                } => {
                    code_flow::exchange(
                        &app,
                        &client,
                        &code,
                        redirect_uri.as_deref(),
                        code_verifier.as_deref(),
                        &origin,
                    )
                    .await
                }
                TokenRequest::RefreshToken {
                    refresh_token,
                    scope,
                } => {
                    if !client.allows(crate::domain::client::GrantType::RefreshToken) {
                        return Err(Error::oauth(
                            OAuthError::UnauthorizedClient,
                            "This client may not use the refresh_token grant",
                        ));
                    }
                    let scope = scope.as_ref();
                    authentication::refresh(&app, &refresh_token, Some(client.id), scope, &origin)
                        .await
                        .map_err(|e| match e {
                            Error::Unauthenticated(m) => Error::oauth(OAuthError::InvalidGrant, m),
                            other => other,
                        })
                }
                TokenRequest::ClientCredentials { .. } => unreachable!("not for a user"),
            }
        })
        .await?;
    let scope = tokens.scope.clone().unwrap_or_default();
    let mut body = json!({
        "access_token": tokens.access_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "scope": scope.to_string(),
    });
    if !tokens.refresh_token.is_empty() {
        body["refresh_token"] = json!(tokens.refresh_token);
    }
    if scope.contains("openid") {
        body["id_token"] = json!(tokens.id_token);
    }
    Ok(no_store(Some(body)))
}

/// A Bearer-token error for a protected resource (RFC 6750 3).
fn bearer_error(status: u16, error: &str, description: &str, scope: Option<&str>) -> HttpResponse {
    let mut challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
    if let Some(scope) = scope {
        challenge.push_str(&format!(", scope=\"{scope}\""));
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": error, "error_description": description }))
}

/// `GET`/`POST /oauth/userinfo` (OpenID Connect Core 5.3): the claims the
/// token's scopes cover (`profile`, `email`, `phone`); a first-party
/// sign-in's token sees them all.
#[utoipa::path(method(get, post), path = "/oauth/userinfo", tag = OAUTH,
    description = "OpenID Connect Core 5.3: the claims the token's scopes cover.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{sub, name?, email?, ...}`", body = AnyObject),
        (status = 401, description = "RFC 6750 3.1 invalid_token", body = crate::api::openapi::schemas::OAuthError),
        (status = 403, description = "RFC 6750 3.1 insufficient_scope", body = crate::api::openapi::schemas::OAuthError)))]
pub async fn userinfo(gate: Data<Gate>, req: HttpRequest) -> HttpResponse {
    let invalid = || {
        bearer_error(
            401,
            "invalid_token",
            "The access token is invalid or expired",
            None,
        )
    };
    let Ok(token) = crate::api::extract::bearer_token(&req) else {
        return invalid();
    };
    let Ok(claims) = gate.tokens().verify_access(token).await else {
        return invalid();
    };
    if claims.is_client_token() {
        return bearer_error(
            403,
            "insufficient_scope",
            "A client's own token names no user",
            Some("openid"),
        );
    }
    let result = gate
        .run(move |app| async move { authentication::signed_in_user(&app, claims).await })
        .await;
    let Ok((caller, user)) = result else {
        return invalid();
    };
    let scopes = &caller.principal.scopes;
    if !scopes.allows("openid") {
        return bearer_error(
            403,
            "insufficient_scope",
            "userinfo needs the openid scope",
            Some("openid"),
        );
    }
    let mut body = json!({ "sub": user.id });
    if scopes.allows("profile") {
        body["name"] = json!(user.name.display());
        body["given_name"] = json!(user.name.first);
        body["family_name"] = json!(user.name.family);
        if !user.name.father.is_empty() {
            body["middle_name"] = json!(user.name.father);
        }
        body["preferred_username"] = json!(user.user_name);
        if let Some(picture) = &user.account.picture_url {
            body["picture"] = json!(picture);
        }
        body["locale"] = json!(user.preferences.language);
        body["zoneinfo"] = json!(user.preferences.timezone);
        body["updated_at"] = json!(user.updated_at.timestamp());
    }
    // OpenID Connect Core 5.1: claims without a value are left out.
    if let (true, Some(email)) = (scopes.allows("email"), &user.email) {
        body["email"] = json!(email);
        body["email_verified"] = json!(user.email_verified);
    }
    if scopes.allows("phone") {
        if let Some(phone) = &user.phone_number {
            body["phone_number"] = json!(phone);
            body["phone_number_verified"] = json!(false);
        }
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// RFC 7662 2.2: `{"active": false}` and nothing else for any token that
/// is not active for this client.
#[utoipa::path(post, path = "/oauth/introspect", tag = OAUTH,
    description = "RFC 7662: what a token is, for the client it was issued to; `{\"active\": false}` for any other.",
    request_body(content = super::form::TokenOnlyForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "RFC 7662 2.2", body = AnyObject, example = json!({"active": false}))))]
pub async fn introspect(
    gate: Data<Gate>,
    req: HttpRequest,
    form: OAuthForm,
    origin: Origin,
) -> Result<HttpResponse> {
    let token = form.require("token")?.to_string();
    let creds = credentials(&req, &form)?;
    let found = gate
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
            subject,
            issued_at,
            expires_at,
        }) => json!({
            "active": true,
            "token_type": "refresh_token",
            "client_id": client_id,
            "sub": subject,
            "tenant_id": tenant_id,
            "scope": scope.to_string(),
            "iat": issued_at.timestamp(),
            "exp": expires_at.timestamp(),
        }),
    };
    Ok(no_store(Some(body)))
}

/// RFC 7009 2.2: 200 whether or not there was such a token.
#[utoipa::path(post, path = "/oauth/revoke", tag = OAUTH,
    description = "RFC 7009: 200 whether or not there was such a token.",
    request_body(content = super::form::TokenOnlyForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Revoked, or there was nothing to revoke")))]
pub async fn revoke(
    gate: Data<Gate>,
    req: HttpRequest,
    form: OAuthForm,
    origin: Origin,
) -> Result<HttpResponse> {
    let token = form.require("token")?.to_string();
    let creds = credentials(&req, &form)?;
    gate.run(move |app| async move {
        let client = clients::authenticate(&app, &creds, &origin).await?;
        oauth::revoke(&app, &client, &token, &origin).await
    })
    .await?;
    Ok(no_store(None))
}
