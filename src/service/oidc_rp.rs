//! ithbat as an OpenID Connect relying party (OIDC Core 3.1, Discovery
//! 1.0): what it asks an external provider for, and how it decides an ID
//! token is genuine. Discovery documents and key sets are cached for a few
//! minutes; a token signed with a key not yet seen refreshes the key set
//! once (the provider rotated its keys).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Digest;

use crate::domain::Error;

/// How long a discovery document or key set is trusted before refetching.
const CACHE_TTL: Duration = Duration::from_secs(300);
/// Clock difference tolerated on exp/iat/nbf.
const LEEWAY_SECS: u64 = 60;
/// The largest answer read from a provider.
const MAX_BODY: usize = 256 * 1024;

/// The part of a provider's discovery document ithbat uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
}

/// Why a provider round trip failed, in words fit for the person and the
/// audit log (never the provider's raw answer).
#[derive(Debug)]
pub struct ProviderError(pub String);

impl From<ProviderError> for Error {
    fn from(e: ProviderError) -> Error {
        Error::Unavailable(e.0)
    }
}

type Cache<T> = Arc<Mutex<HashMap<String, (Instant, T)>>>;

/// The HTTP side of SSO, shared by all workers.
#[derive(Clone)]
pub struct RelyingParty {
    http: reqwest::Client,
    discovery: Cache<Discovery>,
    keys: Cache<JwkSet>,
}

/// The client credentials ithbat holds at a provider.
pub struct ClientAuth<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
}

/// A provider's answer at its token endpoint.
#[derive(Debug, Deserialize)]
pub struct TokenAnswer {
    pub id_token: Option<String>,
    pub access_token: Option<String>,
}

impl RelyingParty {
    pub fn new() -> RelyingParty {
        // One process-wide crypto provider for rustls (ring, as lettre
        // uses); installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            // A provider's endpoints answer themselves; following redirects
            // would let one send us anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ithbat/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client");
        RelyingParty {
            http,
            discovery: Default::default(),
            keys: Default::default(),
        }
    }

    fn cached<T: Clone>(cache: &Cache<T>, key: &str) -> Option<T> {
        let map = cache.lock().expect("cache lock");
        map.get(key)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, v)| v.clone())
    }

    fn remember<T>(cache: &Cache<T>, key: &str, value: T) {
        cache
            .lock()
            .expect("cache lock")
            .insert(key.to_string(), (Instant::now(), value));
    }

    async fn read_json<T: serde::de::DeserializeOwned>(
        response: reqwest::Response,
        what: &str,
    ) -> std::result::Result<T, ProviderError> {
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|_| ProviderError(format!("The provider's {what} could not be read")))?;
        if bytes.len() > MAX_BODY {
            return Err(ProviderError(format!("The provider's {what} is too large")));
        }
        if !status.is_success() {
            let error = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
            return Err(ProviderError(match error {
                Some(code) => format!("The provider refused the {what} request ({code})"),
                None => format!("The provider's {what} answered {status}"),
            }));
        }
        serde_json::from_slice(&bytes)
            .map_err(|_| ProviderError(format!("The provider's {what} is not valid JSON")))
    }

    /// The discovery document of `authority`, whose `issuer` must be the
    /// authority itself (Discovery 4.3).
    pub async fn discover(&self, authority: &str) -> std::result::Result<Discovery, ProviderError> {
        if let Some(d) = Self::cached(&self.discovery, authority) {
            return Ok(d);
        }
        let url = format!("{authority}/.well-known/openid-configuration");
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|_| ProviderError("The provider could not be reached".into()))?;
        let d: Discovery = Self::read_json(response, "discovery document").await?;
        if d.issuer.trim_end_matches('/') != authority.trim_end_matches('/') {
            return Err(ProviderError(
                "The provider's discovery document names another issuer".into(),
            ));
        }
        for endpoint in [&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri] {
            crate::domain::sso::check_authority(endpoint.split('?').next().unwrap_or(""))
                .map_err(|_| ProviderError("The provider's endpoints must be https URLs".into()))?;
        }
        Self::remember(&self.discovery, authority, d.clone());
        Ok(d)
    }

    /// Redeems an authorization code (RFC 6749 4.1.3) with the PKCE
    /// verifier, authenticating with client_secret_basic unless the
    /// provider only takes client_secret_post.
    pub async fn redeem(
        &self,
        d: &Discovery,
        client: &ClientAuth<'_>,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> std::result::Result<TokenAnswer, ProviderError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        let mut request = self.http.post(&d.token_endpoint);
        let methods = d.token_endpoint_auth_methods_supported.as_deref();
        let post_only = methods.is_some_and(|m| {
            m.iter().any(|x| x == "client_secret_post")
                && !m.iter().any(|x| x == "client_secret_basic")
        });
        match client.client_secret {
            Some(secret) if !post_only => {
                // RFC 6749 2.3.1: both parts form-encoded before base64.
                let enc = |s: &str| {
                    serde_urlencoded::to_string([("", s)]).unwrap_or_default()[1..].to_string()
                };
                let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    enc(client.client_id),
                    enc(secret)
                ));
                request = request.header("Authorization", format!("Basic {basic}"));
            }
            Some(secret) => {
                form.push(("client_id", client.client_id));
                form.push(("client_secret", secret));
            }
            None => form.push(("client_id", client.client_id)),
        }
        let response = request.form(&form).send().await.map_err(|_| {
            ProviderError("The provider's token endpoint could not be reached".into())
        })?;
        Self::read_json(response, "token").await
    }

    async fn key_set(
        &self,
        jwks_uri: &str,
        fresh: bool,
    ) -> std::result::Result<JwkSet, ProviderError> {
        if !fresh {
            if let Some(k) = Self::cached(&self.keys, jwks_uri) {
                return Ok(k);
            }
        }
        let response = self
            .http
            .get(jwks_uri)
            .send()
            .await
            .map_err(|_| ProviderError("The provider's keys could not be fetched".into()))?;
        let keys: JwkSet = Self::read_json(response, "key set").await?;
        Self::remember(&self.keys, jwks_uri, keys.clone());
        Ok(keys)
    }

    /// Checks an ID token (OIDC Core 3.1.3.7): signed by one of the
    /// provider's keys with an asymmetric algorithm, issued by it, for
    /// this client (and, with several audiences, authorized for it), not
    /// expired, and carrying the nonce the request was sent with. Returns
    /// its claims.
    pub async fn verify_id_token(
        &self,
        d: &Discovery,
        token: &str,
        client_id: &str,
        nonce: &str,
    ) -> std::result::Result<Map<String, Value>, ProviderError> {
        let bad = |why: &str| ProviderError(format!("The provider's ID token {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| bad("is malformed"))?;
        let alg = header.alg;
        if !matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
                | Algorithm::ES256
                | Algorithm::ES384
                | Algorithm::EdDSA
        ) {
            return Err(bad("is not signed with an asymmetric algorithm"));
        }
        let mut keys = self.key_set(&d.jwks_uri, false).await?;
        let find = |keys: &JwkSet| match &header.kid {
            Some(kid) => keys.find(kid).cloned(),
            None if keys.keys.len() == 1 => keys.keys.first().cloned(),
            None => None,
        };
        let jwk = match find(&keys) {
            Some(k) => k,
            None => {
                keys = self.key_set(&d.jwks_uri, true).await?;
                find(&keys).ok_or_else(|| bad("is signed with an unknown key"))?
            }
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| bad("names an unusable key"))?;
        let mut validation = Validation::new(alg);
        validation.set_audience(&[client_id]);
        validation.set_issuer(&[d.issuer.as_str()]);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::ExpiredSignature => bad("has expired"),
                    ErrorKind::InvalidAudience => bad("is for another client"),
                    ErrorKind::InvalidIssuer => bad("is from another issuer"),
                    ErrorKind::InvalidSignature => bad("has a bad signature"),
                    ErrorKind::ImmatureSignature => bad("is not valid yet"),
                    ErrorKind::MissingRequiredClaim(c) => {
                        ProviderError(format!("The provider's ID token lacks the {c} claim"))
                    }
                    _ => bad("is invalid"),
                }
            })?
            .claims;
        let audiences = match claims.get("aud") {
            Some(Value::Array(a)) => a.len(),
            _ => 1,
        };
        if audiences > 1 && claims.get("azp").and_then(Value::as_str) != Some(client_id) {
            return Err(bad("is not authorized for this client (azp)"));
        }
        let sent: [u8; 32] = sha2::Sha256::digest(nonce.as_bytes()).into();
        let got: [u8; 32] = sha2::Sha256::digest(
            claims
                .get("nonce")
                .and_then(Value::as_str)
                .unwrap_or("")
                .as_bytes(),
        )
        .into();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&sent[..], &got[..])) {
            return Err(bad("does not carry the nonce of this sign-in"));
        }
        Ok(claims)
    }

    /// The userinfo claims (OIDC Core 5.3), whose `sub` must be the ID
    /// token's.
    pub async fn userinfo(
        &self,
        d: &Discovery,
        access_token: &str,
        sub: &str,
    ) -> std::result::Result<Map<String, Value>, ProviderError> {
        let Some(endpoint) = &d.userinfo_endpoint else {
            return Err(ProviderError(
                "The provider has no userinfo endpoint".into(),
            ));
        };
        let response = self
            .http
            .get(endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|_| ProviderError("The provider's userinfo could not be reached".into()))?;
        let claims: Map<String, Value> = Self::read_json(response, "userinfo").await?;
        if claims.get("sub").and_then(Value::as_str) != Some(sub) {
            return Err(ProviderError(
                "The provider's userinfo is about another subject".into(),
            ));
        }
        Ok(claims)
    }
}

impl Default for RelyingParty {
    fn default() -> Self {
        RelyingParty::new()
    }
}

/// The RFC 7636 S256 challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}
