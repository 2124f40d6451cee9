//! SSO providers: a tenant's external OpenID Connect identity providers
//! (Azure AD, Google, Signicat and custom ones; docs/api/oauth.md, SSO
//! providers), the accounts people link from them, and the rules
//! their configuration must keep.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Problems;

/// The provider families of the Aritma API, each a preset of OIDC settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    AzureAd,
    Google,
    Signicat,
    Custom,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::AzureAd,
        ProviderKind::Google,
        ProviderKind::Signicat,
        ProviderKind::Custom,
    ];

    /// The path segment (`/v1/sso/{kind}`) and the stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::AzureAd => "azuread",
            ProviderKind::Google => "google",
            ProviderKind::Signicat => "signicat",
            ProviderKind::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<ProviderKind> {
        ProviderKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// `providerName` in Aritma responses.
    pub fn provider_name(self) -> &'static str {
        match self {
            ProviderKind::AzureAd => "Azure",
            ProviderKind::Google => "Google",
            ProviderKind::Signicat => "Signicat",
            ProviderKind::Custom => "Custom",
        }
    }

    /// The properties this kind has besides the shared ones (each kind's
    /// own, as the Aritma API has them).
    pub fn own_properties(self) -> &'static [&'static str] {
        match self {
            ProviderKind::AzureAd => &["usePkce", "authority", "responseType", "scope"],
            ProviderKind::Google => &[
                "nameClaimType",
                "emailClaimType",
                "phoneNumberClaimType",
                "subjectClaimType",
                "usePkce",
                "authority",
                "scope",
            ],
            ProviderKind::Signicat => &["verifyEnabled", "authority", "method", "scope"],
            ProviderKind::Custom => &[
                "verifyEnabled",
                "responseType",
                "nameClaimType",
                "emailClaimType",
                "phoneNumberClaimType",
                "subjectClaimType",
                "authority",
                "scope",
                "getClaimsFromUserInfoEndpoint",
                "usePkce",
            ],
        }
    }

    /// Where the preset's provider lives when the body does not say.
    fn default_authority(self) -> Option<&'static str> {
        match self {
            ProviderKind::Google => Some("https://accounts.google.com"),
            _ => None,
        }
    }
}

/// Signicat's identification methods, as the Aritma API names them.
pub const SIGNICAT_METHODS: [&str; 4] = ["None", "BankId", "MitId", "SBID"];

/// Every property of a provider but the client secret. Fields another kind
/// has are None/default and are not shown for this kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderProperties {
    pub login_enabled: bool,
    pub visible: bool,
    pub delegation_enabled: bool,
    pub auto_provisioning_enabled: bool,
    pub client_id: String,
    pub authority: String,
    pub scope: String,
    pub response_type: String,
    pub use_pkce: bool,
    pub verify_enabled: bool,
    pub get_claims_from_user_info_endpoint: bool,
    pub name_claim_type: String,
    pub email_claim_type: String,
    pub phone_number_claim_type: String,
    pub subject_claim_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// The properties as a client sends them: every field optional so that
/// each missing or wrong one is reported by name.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropertiesInput {
    pub login_enabled: Option<bool>,
    pub visible: Option<bool>,
    pub delegation_enabled: Option<bool>,
    pub auto_provisioning_enabled: Option<bool>,
    pub client_id: Option<String>,
    /// Absent: keep (update) or none (create); null: none (a public
    /// client); the mask shown by reads: keep.
    #[serde(default, deserialize_with = "nullable")]
    pub client_secret: Option<Option<String>>,
    pub authority: Option<String>,
    pub scope: Option<String>,
    pub response_type: Option<String>,
    pub use_pkce: Option<bool>,
    pub verify_enabled: Option<bool>,
    #[serde(rename = "getClaimsFromUserInfoEndpoint")]
    pub get_claims_from_user_info_endpoint: Option<bool>,
    pub name_claim_type: Option<String>,
    pub email_claim_type: Option<String>,
    pub phone_number_claim_type: Option<String>,
    pub subject_claim_type: Option<String>,
    pub method: Option<String>,
}

/// A field where null is a value: absent None, null Some(None).
fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// What reads show in place of a stored client secret: the secret itself
/// never leaves the server again. Sent back unchanged, it keeps the secret.
pub const SECRET_MASK: &str = "********";

/// What a client secret change amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretChange {
    Keep,
    Clear,
    Set(String),
}

impl PropertiesInput {
    /// The properties of a `kind` provider, each fault recorded in
    /// `problems` under `properties.<name>`.
    pub fn validate(&self, kind: ProviderKind, problems: &mut Problems) -> ProviderProperties {
        let own = kind.own_properties();
        let given: [(&str, bool); 12] = [
            ("authority", self.authority.is_some()),
            ("scope", self.scope.is_some()),
            ("responseType", self.response_type.is_some()),
            ("usePkce", self.use_pkce.is_some()),
            ("verifyEnabled", self.verify_enabled.is_some()),
            (
                "getClaimsFromUserInfoEndpoint",
                self.get_claims_from_user_info_endpoint.is_some(),
            ),
            ("nameClaimType", self.name_claim_type.is_some()),
            ("emailClaimType", self.email_claim_type.is_some()),
            (
                "phoneNumberClaimType",
                self.phone_number_claim_type.is_some(),
            ),
            ("subjectClaimType", self.subject_claim_type.is_some()),
            ("method", self.method.is_some()),
            ("delegationEnabled", false),
        ];
        for (name, present) in given {
            if present && !own.contains(&name) {
                problems.add(
                    format!("properties.{name}"),
                    format!("is not a property of {} providers", kind.as_str()),
                );
            }
        }
        let mut required_bool = |name: &str, v: Option<bool>| {
            if v.is_none() {
                problems.add(format!("properties.{name}"), "is required (true or false)");
            }
            v.unwrap_or(false)
        };
        let login_enabled = required_bool("loginEnabled", self.login_enabled);
        let visible = required_bool("visible", self.visible);
        let delegation_enabled = required_bool("delegationEnabled", self.delegation_enabled);
        let auto_provisioning_enabled =
            required_bool("autoProvisioningEnabled", self.auto_provisioning_enabled);
        let client_id = self.client_id.clone().unwrap_or_default();
        if client_id.trim().is_empty() || client_id.len() > 255 {
            problems.add("properties.clientId", "is required (1 to 255 characters)");
        }
        if let Some(Some(secret)) = &self.client_secret {
            if secret.is_empty() || secret.len() > 1024 {
                problems.add(
                    "properties.clientSecret",
                    "must be 1 to 1024 characters, or null",
                );
            }
        }
        let authority = self
            .authority
            .clone()
            .or_else(|| kind.default_authority().map(str::to_string));
        let authority = match authority {
            None => {
                problems.add("properties.authority", "is required");
                String::new()
            }
            Some(a) => match check_authority(&a) {
                Ok(a) => a,
                Err(e) => {
                    problems.add("properties.authority", e);
                    a
                }
            },
        };
        let scope = self
            .scope
            .clone()
            .unwrap_or_else(|| "openid profile email".into());
        if !scope.split(' ').any(|s| s == "openid") || scope.len() > 1024 {
            problems.add(
                "properties.scope",
                "must be space-separated scopes that include openid",
            );
        }
        let response_type = self.response_type.clone().unwrap_or_else(|| "code".into());
        match response_type.as_str() {
            "code" => {}
            "id_token" | "token" | "none" => problems.add(
                "properties.responseType",
                "ithbat signs in with the authorization code flow only: use \"code\"",
            ),
            _ => problems.add(
                "properties.responseType",
                "must be one of id_token, code, token, none",
            ),
        }
        let claim = |problems: &mut Problems, name: &str, v: &Option<String>, default: &str| {
            let value = v.clone().unwrap_or_else(|| default.to_string());
            if value.trim().is_empty() || value.len() > 100 {
                problems.add(
                    format!("properties.{name}"),
                    "must be a claim name (1 to 100 characters)",
                );
            }
            value
        };
        let name_claim_type = claim(problems, "nameClaimType", &self.name_claim_type, "name");
        let email_claim_type = claim(problems, "emailClaimType", &self.email_claim_type, "email");
        let phone_number_claim_type = claim(
            problems,
            "phoneNumberClaimType",
            &self.phone_number_claim_type,
            "phone_number",
        );
        let subject_claim_type = claim(
            problems,
            "subjectClaimType",
            &self.subject_claim_type,
            "sub",
        );
        let method = match (kind, &self.method) {
            (ProviderKind::Signicat, None) => Some("None".to_string()),
            (ProviderKind::Signicat, Some(m)) if SIGNICAT_METHODS.contains(&m.as_str()) => {
                Some(m.clone())
            }
            (ProviderKind::Signicat, Some(_)) => {
                problems.add(
                    "properties.method",
                    "must be one of None, BankId, MitId, SBID",
                );
                None
            }
            _ => None,
        };
        ProviderProperties {
            login_enabled,
            visible,
            delegation_enabled,
            auto_provisioning_enabled,
            client_id,
            authority,
            scope,
            response_type,
            use_pkce: self.use_pkce.unwrap_or(true),
            verify_enabled: self.verify_enabled.unwrap_or(false),
            get_claims_from_user_info_endpoint: self
                .get_claims_from_user_info_endpoint
                .unwrap_or(false),
            name_claim_type,
            email_claim_type,
            phone_number_claim_type,
            subject_claim_type,
            method,
        }
    }

    pub fn secret_change(&self) -> SecretChange {
        match &self.client_secret {
            None => SecretChange::Keep,
            Some(None) => SecretChange::Clear,
            Some(Some(s)) if s == SECRET_MASK => SecretChange::Keep,
            Some(Some(s)) => SecretChange::Set(s.clone()),
        }
    }
}

/// An authority is an https URL without query or fragment; plain http
/// only on a loopback address (a provider on the same machine, as in
/// tests). Returned without a trailing slash.
pub fn check_authority(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value).map_err(|_| "must be an absolute URL".to_string())?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("must have no query, fragment or credentials".into());
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => return Err("must name a host".into()),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("must be an https URL (http only on a loopback address)".into()),
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// A scheme names a provider in URLs: lowercase letters, digits, `.`,
/// `_` and `-`, 1 to 64 characters, starting with a letter or digit.
pub fn check_scheme(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err("must be 1 to 64 lowercase letters, digits, '.', '_' or '-'".into())
    }
}

/// A stored provider.
#[derive(Debug, Clone)]
pub struct SsoProvider {
    pub id: i64,
    pub tenant_id: Uuid,
    pub kind: ProviderKind,
    pub scheme: String,
    pub display_name: String,
    pub enabled: bool,
    pub protocol: String,
    pub properties: ProviderProperties,
    pub client_secret_sealed: Option<String>,
    pub has_icon: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SsoProvider {
    /// May people sign in through it now?
    pub fn signs_in(&self) -> bool {
        self.enabled && self.properties.login_enabled
    }

    /// Is it offered on the sign-in page?
    pub fn shown(&self) -> bool {
        self.signs_in() && self.properties.visible
    }

    /// The sealing context of its client secret: a sealed secret moved to
    /// another tenant's row does not open.
    pub fn secret_context(tenant_id: Uuid) -> String {
        format!("sso-client-secret:{tenant_id}")
    }
}

/// An external account linked to a user.
#[derive(Debug, Clone)]
pub struct Identity {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider_id: i64,
    /// The provider's scheme (`provider` in `/api/v1/users/me/identities`).
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What a round trip to a provider is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Signing in on the hosted page for an /oauth/authorize request.
    Authorize,
    /// Linking the provider account to a signed-in user.
    Link,
    /// The API sign-in, `/api/v1/auth/social/{provider}/login` (tokens as
    /// JSON on the callback).
    Api,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Authorize => "authorize",
            Purpose::Link => "link",
            Purpose::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        [Purpose::Authorize, Purpose::Link, Purpose::Api]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A round trip in progress, as stored.
#[derive(Debug, Clone)]
pub struct SsoLogin {
    pub tenant_id: Uuid,
    pub provider_id: i64,
    pub purpose: Purpose,
    pub authorization_request_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub nonce: String,
    pub code_verifier_sealed: String,
    pub browser_hash: String,
    pub redirect_uri: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// How long a person has to come back from the provider.
pub const LOGIN_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        assert_eq!(
            check_authority("https://login.microsoftonline.com/abc/v2.0/").unwrap(),
            "https://login.microsoftonline.com/abc/v2.0"
        );
        assert!(check_authority("http://127.0.0.1:8080").is_ok());
        assert!(check_authority("http://localhost:8080").is_ok());
        assert!(check_authority("http://[::1]:8080").is_ok());
        assert!(check_authority("http://idp.example.com").is_err());
        assert!(check_authority("ftp://idp.example.com").is_err());
        assert!(check_authority("https://idp.example.com/?x=1").is_err());
        assert!(check_authority("https://user:pw@idp.example.com").is_err());
        assert!(check_authority("idp.example.com").is_err());
    }

    #[test]
    fn schemes() {
        assert!(check_scheme("azure-ad").is_ok());
        assert!(check_scheme("google.work_1").is_ok());
        assert!(check_scheme("").is_err());
        assert!(check_scheme("Azure").is_err());
        assert!(check_scheme("-x").is_err());
        assert!(check_scheme("a/b").is_err());
        assert!(check_scheme(&"a".repeat(65)).is_err());
    }

    fn fields(problems: Problems) -> String {
        match problems.into_result() {
            Err(crate::domain::Error::Validation(v)) => v
                .iter()
                .map(|e| e.field.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn properties_per_kind() {
        let input: PropertiesInput = serde_json::from_value(serde_json::json!({
            "loginEnabled": true, "visible": true, "delegationEnabled": false,
            "autoProvisioningEnabled": true, "clientId": "c",
            "method": "BankId"
        }))
        .unwrap();
        let mut problems = Problems::default();
        let p = input.validate(ProviderKind::Google, &mut problems);
        // Google has a default authority but no `method`.
        assert_eq!(p.authority, "https://accounts.google.com");
        let errors = fields(problems);
        assert!(errors.contains("properties.method"), "{errors}");

        let mut problems = Problems::default();
        let p = input.validate(ProviderKind::Signicat, &mut problems);
        assert_eq!(p.method.as_deref(), Some("BankId"));
        let errors = fields(problems);
        assert!(errors.contains("properties.authority"), "{errors}");

        let bare: PropertiesInput = serde_json::from_value(serde_json::json!({})).unwrap();
        let mut problems = Problems::default();
        bare.validate(ProviderKind::Custom, &mut problems);
        let errors = fields(problems);
        for field in [
            "loginEnabled",
            "visible",
            "delegationEnabled",
            "clientId",
            "authority",
        ] {
            assert!(errors.contains(field), "{field} in {errors}");
        }
    }

    #[test]
    fn secret_changes() {
        let parse =
            |v: serde_json::Value| -> PropertiesInput { serde_json::from_value(v).unwrap() };
        assert_eq!(
            parse(serde_json::json!({})).secret_change(),
            SecretChange::Keep
        );
        assert_eq!(
            parse(serde_json::json!({"clientSecret": null})).secret_change(),
            SecretChange::Clear
        );
        assert_eq!(
            parse(serde_json::json!({"clientSecret": SECRET_MASK})).secret_change(),
            SecretChange::Keep
        );
        assert_eq!(
            parse(serde_json::json!({"clientSecret": "s"})).secret_change(),
            SecretChange::Set("s".into())
        );
    }
}
