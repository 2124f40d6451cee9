//! SSO providers (Aritma bodies, docs/api/iam.md) and a real one to sign in
//! through: the other backend's shared ithbat server (a second instance, its
//! own database and issuer), with a tenant, a person and a client for the
//! relying party.

use serde_json::{json, Value};

use super::{shared, skip_postgres, Backend, Shared, TestTenant};

/// A custom OpenID Connect provider at `authority` (`/core/iam/v1/sso/custom`),
/// with auto-provisioning on.
pub fn custom_body(scheme: &str, authority: &str, client_id: &str, secret: Option<&str>) -> Value {
    json!({
        "scheme": scheme, "displayName": "Acme Login", "enabled": true, "type": "oidc",
        "properties": {
            "loginEnabled": true, "visible": true, "delegationEnabled": false,
            "autoProvisioningEnabled": true, "clientId": client_id, "clientSecret": secret,
            "verifyEnabled": false, "responseType": "code", "nameClaimType": "name",
            "emailClaimType": "email", "phoneNumberClaimType": "phone_number",
            "subjectClaimType": "sub", "authority": authority,
            "scope": "openid profile email", "getClaimsFromUserInfoEndpoint": false,
            "usePkce": true
        }
    })
}

/// An Azure AD provider with the scheme `azure-ad`, which SCIM tokens name.
pub fn azure_ad_body(display_name: &str) -> Value {
    json!({"scheme": "azure-ad", "displayName": display_name, "enabled": true, "type": "oidc",
           "properties": {"loginEnabled": true, "visible": true, "delegationEnabled": false,
               "autoProvisioningEnabled": false, "clientId": "c",
               "authority": "https://login.microsoftonline.com/contoso/v2.0"}})
}

impl TestTenant {
    /// Creates a provider of `kind` (custom, azuread, google, signicat); its id.
    pub async fn create_provider(&self, kind: &str, body: Value) -> i64 {
        let r = self
            .owner
            .post(&format!("/core/iam/v1/sso/{kind}"), body)
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let href = r.body[0]["href"].as_str().unwrap();
        href.rsplit('/').next().unwrap().parse().unwrap()
    }
}

/// The other backend's shared server: a second ithbat, the provider.
async fn provider_server(b: Backend) -> Shared {
    let other = match b {
        Backend::Sqlite if !skip_postgres() => Backend::Postgres,
        Backend::Sqlite => Backend::Sqlite,
        Backend::Postgres => Backend::Sqlite,
    };
    shared(other).await
}

/// The provider side: a tenant on the provider server with a person and
/// the client the relying party signs in with.
pub struct Idp {
    pub base: String,
    pub person_email: String,
    pub person_id: String,
    pub client_id: String,
    pub secret: String,
}

/// A provider for the relying party at `rp_base`, whose callback for
/// `scheme` it redirects to.
pub async fn idp(b: Backend, rp_base: &str, scheme: &str) -> Idp {
    let server = provider_server(b).await;
    let t = server.new_tenant().await;
    let person = t.user("pat").await;
    let client_id = t
        .create_client(json!({
            "name": "ithbat relying party", "description": "SSO into another ithbat",
            "allowedGrantTypes": ["authorization_code"],
            "redirectUris": [format!("{rp_base}/api/v1/auth/social/{scheme}/callback")],
            "allowedScopes": ["openid", "profile", "email"],
        }))
        .await;
    let secret = "Idp!s3cret-value".to_string();
    t.add_secret(&client_id, &secret).await;
    Idp {
        base: server.base.clone(),
        person_email: person.email,
        person_id: person.id,
        client_id,
        secret,
    }
}

impl Idp {
    /// The provider as a custom provider of the relying party (scheme `scheme`).
    pub fn custom_body(&self, scheme: &str) -> Value {
        custom_body(scheme, &self.base, &self.client_id, Some(&self.secret))
    }
}
