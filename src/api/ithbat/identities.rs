//! Linked identities (docs/api/oauth.md, SSO providers):
//! `GET /users/me/identities`, and `POST|DELETE /users/me/identities/{provider}`
//! where `{provider}` is the scheme of one of the tenant's SSO providers (e.g.
//! `google`).

use actix_web::http::header;
use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use serde_json::json;

use super::ok;
use crate::api::openapi::schemas::{AnyObject, Success};
use crate::api::openapi::NATIVE;
use crate::api::pages::sso::binding_cookie;
use crate::api::pages::CookieJar;
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::sso::{self, Start};
use crate::service::Gate;

#[utoipa::path(get, path = "/api/v1/users/me/identities", tag = NATIVE,
    responses((status = 200, description = "`{identities: [{provider, providerUserId, email, linkedAt}]}`: the caller's linked SSO identities", body = Success<AnyObject>)))]
pub async fn index(gate: Data<Gate>, caller: Caller) -> Result<HttpResponse, Error> {
    let identities = gate
        .run(move |app| async move { sso::identities(&app, &caller).await })
        .await?;
    let items: Vec<_> = identities
        .iter()
        .map(|i| {
            json!({
                "provider": i.provider,
                "providerUserId": i.subject,
                "email": i.email,
                "linkedAt": i.created_at,
            })
        })
        .collect();
    Ok(ok(json!({ "identities": items })))
}

/// Starts linking: answers with the provider URL to open, in the browser
/// that made this request (a cookie binds the round trip to it); the
/// provider's callback completes the link.
#[utoipa::path(post, path = "/api/v1/users/me/identities/{provider}", tag = NATIVE,
    responses((status = 200, description = "`{authorizationUrl}`: open it in the same browser to link the identity", body = Success<AnyObject>)))]
pub async fn link(
    gate: Data<Gate>,
    caller: Caller,
    scheme: Path<String>,
) -> Result<HttpResponse, Error> {
    let scheme = scheme.into_inner();
    let tenant = caller.tenant_id;
    let departure =
        gate.run(move |app| async move {
            sso::start(&app, tenant, &scheme, Start::Link { caller }).await
        })
        .await?;
    let jar = CookieJar::for_issuer(gate.tokens().issuer());
    let mut response = ok(json!({ "authorizationUrl": departure.location }));
    if let Ok(v) = header::HeaderValue::from_str(&binding_cookie(&jar, &departure.browser)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[utoipa::path(delete, path = "/api/v1/users/me/identities/{provider}", tag = NATIVE,
    responses((status = 200, description = "Unlinked", body = Success<AnyObject>)))]
pub async fn unlink(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    scheme: Path<String>,
) -> Result<HttpResponse, Error> {
    let scheme = scheme.into_inner();
    gate.run(move |app| async move { sso::unlink(&app, &caller, &scheme, &origin).await })
        .await?;
    Ok(ok(json!({ "message": "Identity unlinked" })))
}
