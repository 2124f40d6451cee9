//! Signed tokens (RS256 JWTs published through the JWKS) and opaque secrets
//! (random, shown once, stored as `domain::secret::hash_secret`).

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::{Json, Pool, Ts};
use crate::domain::scope::ScopeSet;
use crate::domain::{Error, Result};
use crate::repo;

/// The JOSE `typ` of access tokens (RFC 9068). ID tokens carry plain `JWT`,
/// so one can never be used as the other.
const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// `n` random bytes, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Claims of an access token (api-map: sub, iss, aud, exp, iat, jti,
/// tenant_id, sid, roles, permissions). A client's own token (RFC 9068
/// client_credentials) has `sub` = `client_id`, the granted `scope`, its
/// grant as `sid`, and no email.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub tenant_id: String,
    pub sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub platform_admin: bool,
}

impl AccessClaims {
    /// Is this a client acting as itself (not a user)?
    pub fn is_client_token(&self) -> bool {
        self.client_id.as_deref() == Some(self.sub.as_str())
    }
}

/// A client's own access token: who, for which grant, with what scope.
pub struct ClientTokenSubject<'a> {
    pub client_id: Uuid,
    pub tenant_id: Uuid,
    pub grant_id: Uuid,
    pub scope: &'a ScopeSet,
}

/// Claims of an OpenID Connect ID token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    pub sid: String,
    pub tenant_id: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub given_name: String,
    pub family_name: String,
    /// The nonce of the authorization request (OpenID Connect 3.1.3.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The client the token was issued to (`azp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
}

/// Tokens issued to an OAuth client for a user (authorization code): its
/// id, the scope granted, and the nonce of its request.
#[derive(Debug, Clone, Copy)]
pub struct ClientBinding<'a> {
    pub client_id: Uuid,
    pub scope: &'a ScopeSet,
    pub nonce: Option<&'a str>,
}

/// What tokens are issued about.
pub struct TokenSubject<'a> {
    pub user: &'a crate::domain::user::User,
    pub session_id: Uuid,
    pub roles: &'a [String],
    pub permissions: &'a [String],
    /// None: the first-party sign-in (`/api/v1/auth/login`).
    pub client: Option<ClientBinding<'a>>,
    pub auth_time: DateTime<Utc>,
}

struct SigningKey {
    kid: String,
    key: EncodingKey,
}

#[derive(Clone)]
pub struct Tokens {
    issuer: String,
    access_ttl: i64,
    signing: Arc<SigningKey>,
    verifying: Arc<HashMap<String, DecodingKey>>,
    jwks: Arc<serde_json::Value>,
}

impl Tokens {
    /// Loads the signing keys, creating one on first start (from
    /// `initial_pem` when given, else a new RSA-2048 key).
    pub async fn load_or_create(
        pool: &Pool,
        issuer: &str,
        access_ttl: i64,
        initial_pem: Option<&str>,
    ) -> Result<Tokens> {
        let mut conn = pool.get().await?;
        let mut db = conn.db();
        let mut keys = repo::keys::active(&mut db).await?;
        if keys.is_empty() {
            let pem = match initial_pem {
                Some(p) => p.to_string(),
                None => tokio::task::spawn_blocking(generate_rsa_pem)
                    .await
                    .map_err(Error::internal)??,
            };
            repo::keys::insert(&mut db, &stored_key(&pem)?).await?;
            keys = repo::keys::active(&mut db).await?;
            log::info!("created the token signing key {}", keys[0].kid);
        }
        keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.kid.cmp(&b.kid)));
        let newest = &keys[0];
        let signing = SigningKey {
            kid: newest.kid.clone(),
            key: EncodingKey::from_rsa_pem(newest.private_key_pem.as_bytes())
                .map_err(Error::internal)?,
        };
        let mut verifying = HashMap::new();
        let mut published = Vec::new();
        for k in &keys {
            let jwk = &k.public_jwk.0;
            let (n, e) = (
                jwk["n"].as_str().unwrap_or_default(),
                jwk["e"].as_str().unwrap_or_default(),
            );
            verifying.insert(
                k.kid.clone(),
                DecodingKey::from_rsa_components(n, e).map_err(Error::internal)?,
            );
            published.push(jwk.clone());
        }
        Ok(Tokens {
            issuer: issuer.to_string(),
            access_ttl,
            signing: Arc::new(signing),
            verifying: Arc::new(verifying),
            jwks: Arc::new(serde_json::json!({ "keys": published })),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn access_ttl(&self) -> i64 {
        self.access_ttl
    }

    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    fn header(&self, typ: &str) -> Header {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(self.signing.kid.clone());
        h.typ = Some(typ.to_string());
        h
    }

    pub fn access_token(&self, s: &TokenSubject<'_>, now: DateTime<Utc>) -> Result<String> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: s.user.id.to_string(),
            aud: self.issuer.clone(),
            exp: now.timestamp() + self.access_ttl,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            jti: Uuid::new_v4().to_string(),
            tenant_id: s.user.tenant_id.to_string(),
            sid: s.session_id.to_string(),
            client_id: s.client.map(|c| c.client_id.to_string()),
            scope: s.client.map(|c| c.scope.to_string()),
            email: s.user.email.clone(),
            roles: s.roles.to_vec(),
            permissions: s.permissions.to_vec(),
            platform_admin: s.user.is_platform_admin,
        };
        jsonwebtoken::encode(&self.header(ACCESS_TOKEN_TYP), &claims, &self.signing.key)
            .map_err(Error::internal)
    }

    /// A client's access token (RFC 9068), signed like users' tokens.
    pub fn client_access_token(
        &self,
        s: &ClientTokenSubject<'_>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: s.client_id.to_string(),
            aud: self.issuer.clone(),
            exp: now.timestamp() + self.access_ttl,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            jti: Uuid::new_v4().to_string(),
            tenant_id: s.tenant_id.to_string(),
            sid: s.grant_id.to_string(),
            client_id: Some(s.client_id.to_string()),
            scope: Some(s.scope.to_string()),
            email: String::new(),
            roles: Vec::new(),
            permissions: Vec::new(),
            platform_admin: false,
        };
        jsonwebtoken::encode(&self.header(ACCESS_TOKEN_TYP), &claims, &self.signing.key)
            .map_err(Error::internal)
    }

    pub fn id_token(&self, s: &TokenSubject<'_>, now: DateTime<Utc>) -> Result<String> {
        let claims = IdClaims {
            iss: self.issuer.clone(),
            sub: s.user.id.to_string(),
            // An ID token is for the client that asked (OIDC 2); the
            // first-party sign-in's is for this server itself.
            aud: s
                .client
                .map(|c| c.client_id.to_string())
                .unwrap_or_else(|| self.issuer.clone()),
            exp: now.timestamp() + self.access_ttl,
            iat: now.timestamp(),
            auth_time: s.auth_time.timestamp(),
            sid: s.session_id.to_string(),
            tenant_id: s.user.tenant_id.to_string(),
            email: s.user.email.clone(),
            email_verified: s.user.email_verified,
            name: s.user.name.display(),
            given_name: s.user.name.first.clone(),
            family_name: s.user.name.family.clone(),
            nonce: s.client.and_then(|c| c.nonce.map(str::to_string)),
            azp: s.client.map(|c| c.client_id.to_string()),
        };
        jsonwebtoken::encode(&self.header("JWT"), &claims, &self.signing.key)
            .map_err(Error::internal)
    }

    /// Verifies signature, issuer, audience, lifetime and type of an access
    /// token. Whether its session is still alive is the caller's next check.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims> {
        let invalid = || Error::Unauthenticated("The access token is invalid or expired".into());
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::RS256 || header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
            return Err(invalid());
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.verifying.get(kid))
            .ok_or_else(invalid)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
            .map(|d| d.claims)
            .map_err(|_| invalid())
    }
}

impl Tokens {
    /// The claims of an ID token this server signed, expired or not (an
    /// `id_token_hint` may be old: OpenID Connect RP-Initiated Logout 2).
    pub fn read_id_token(&self, token: &str) -> Option<IdClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let key = self.verifying.get(header.kid.as_deref()?)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["iss", "sub"]);
        jsonwebtoken::decode::<IdClaims>(token, key, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// A new RSA-2048 private key in PKCS#8 PEM.
pub fn generate_rsa_pem() -> Result<String> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(Error::internal)?;
    Ok(key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(Error::internal)?
        .to_string())
}

/// The stored form of a PEM key: kid is its RFC 7638 JWK thumbprint.
fn stored_key(pem: &str) -> Result<repo::keys::StoredKey> {
    use rsa::pkcs8::DecodePrivateKey;
    let private = RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            RsaPrivateKey::from_pkcs1_pem(pem)
        })
        .map_err(|e| {
            Error::internal(format!("signing key is not an RSA private key in PEM: {e}"))
        })?;
    let public = private.to_public_key();
    let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
    let thumbprint_input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint_input.as_bytes()));
    let pkcs8 = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(Error::internal)?
        .to_string();
    Ok(repo::keys::StoredKey {
        kid: kid.clone(),
        algorithm: "RS256".into(),
        private_key_pem: pkcs8,
        public_jwk: Json(serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e
        })),
        created_at: Ts(Utc::now()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_differ_and_are_43_characters() {
        assert_eq!(random_token(32).len(), 43);
        assert_ne!(random_token(32), random_token(32));
    }
}
