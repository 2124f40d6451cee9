//! Signed tokens (JWTs, RFC 7519, signed with the key set published through
//! the JWKS: RS256 by default, ES256 or EdDSA by configuration) and opaque
//! secrets (random, shown once, stored as `domain::secret::hash_secret`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::RsaPrivateKey;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{Json, Pool, Ts};
use crate::domain::scope::ScopeSet;
use crate::domain::signing::SigningAlg;
use crate::domain::{Error, Result};
use crate::repo;
use crate::repo::keys::StoredKey;
use crate::service::jws::{self, Compact, Signer, Verifier};
use crate::transaction;

/// The JOSE `typ` of access tokens (RFC 9068). ID tokens carry plain `JWT`,
/// so one can never be used as the other.
const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// `n` random bytes, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Claims of an access token (docs/security.md, Tokens: sub, iss, aud, exp,
/// iat, jti, tenant_id, sid, roles, permissions). A client's own token (RFC
/// 9068 client_credentials) has `sub` = `client_id`, the granted `scope`, its
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
    /// Absent for a user without email (OpenID Connect Core 5.1 makes
    /// every standard claim optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
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

/// How long a retired key still verifies and is published: the lifetime of
/// the last tokens it signed. An instance signs with a key until its next
/// refresh after the rotation, so that interval counts too, and the
/// leeway of `verify_access`.
pub fn retired_key_lifetime(access_ttl: i64, refresh: StdDuration) -> chrono::Duration {
    chrono::Duration::seconds(access_ttl + refresh.as_secs() as i64 + 60)
}

/// At most one lookup of the stored keys per this interval because a token
/// named a key this instance does not know: a flood of made-up `kid`s
/// costs the database one query a second.
const UNKNOWN_KID_LOOKUP_INTERVAL: StdDuration = StdDuration::from_secs(1);

/// The key that signs, prepared once (`jws::Signer`), with the base64url
/// JOSE headers of the two kinds of token it signs.
struct SigningKey {
    kid: String,
    signer: Signer,
    access_header: String,
    id_header: String,
}

impl SigningKey {
    fn header(&self, typ: &str) -> &str {
        if typ == ACCESS_TOKEN_TYP {
            &self.access_header
        } else {
            &self.id_header
        }
    }
}

/// The live keys as stored: the newest one not retired signs; all of them
/// verify and are published.
struct KeySet {
    signing: SigningKey,
    verifying: HashMap<String, Verifier>,
    jwks: Arc<serde_json::Value>,
    /// The algorithms of the live keys, the signing key's first.
    algorithms: Vec<SigningAlg>,
}

impl KeySet {
    /// `keys`: live keys, newest first.
    fn new(keys: &[StoredKey]) -> Result<KeySet> {
        let newest = keys
            .iter()
            .find(|k| k.retired_at.is_none())
            .ok_or_else(|| Error::internal("no signing key in the database"))?;
        let alg = stored_alg(newest)?;
        let signer = Signer::from_pkcs8(alg, &pem_der(&newest.private_key_pem)?)
            .map_err(|e| Error::internal(format!("signing key {}: {e}", newest.kid)))?;
        let header = |typ: &str| {
            let h = serde_json::json!({ "alg": alg.as_str(), "kid": newest.kid, "typ": typ });
            URL_SAFE_NO_PAD.encode(h.to_string())
        };
        let signing = SigningKey {
            kid: newest.kid.clone(),
            access_header: header(ACCESS_TOKEN_TYP),
            id_header: header("JWT"),
            signer,
        };
        let mut verifying = HashMap::new();
        let mut published = Vec::new();
        let mut algorithms = vec![alg];
        for k in keys {
            let alg = stored_alg(k)?;
            let verifier = Verifier::from_jwk(alg, &k.public_jwk.0)
                .map_err(|e| Error::internal(format!("signing key {}: {e}", k.kid)))?;
            verifying.insert(k.kid.clone(), verifier);
            published.push(k.public_jwk.0.clone());
            if !algorithms.contains(&alg) {
                algorithms.push(alg);
            }
        }
        Ok(KeySet {
            signing,
            verifying,
            jwks: Arc::new(serde_json::json!({ "keys": published })),
            algorithms,
        })
    }
}

fn stored_alg(k: &StoredKey) -> Result<SigningAlg> {
    k.algorithm
        .parse()
        .map_err(|e| Error::internal(format!("signing key {}: algorithm {e}", k.kid)))
}

/// The DER bytes of a PEM document (RFC 7468).
fn pem_der(text: &str) -> Result<Vec<u8>> {
    pem::parse(text)
        .map(|p| p.into_contents())
        .map_err(|e| Error::internal(format!("a signing key is not PEM: {e}")))
}

/// The key set of this instance and where it comes from: the database,
/// which every instance shares (ARCHITECTURE.md "Several instances").
struct KeyRing {
    keys: RwLock<Arc<KeySet>>,
    db: Pool,
    /// The server's runtime, where database work runs (see `Gate::run`).
    runtime: tokio::runtime::Handle,
    retired_lifetime: chrono::Duration,
    /// When the stored keys were last read for an unknown `kid`.
    last_lookup: tokio::sync::Mutex<Option<StdInstant>>,
}

impl KeyRing {
    fn current(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads the live keys again.
    async fn reload(&self) -> Result<()> {
        let (db, lifetime) = (self.db.clone(), self.retired_lifetime);
        let set = self
            .runtime
            .spawn(async move { load(&db, lifetime).await })
            .await
            .map_err(Error::internal)??;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        Ok(())
    }

    /// The key named `kid`; one this instance has not seen yet (another
    /// instance's new key) is looked up, at most once an interval.
    async fn verifying(&self, kid: &str) -> Option<Verifier> {
        if let Some(key) = self.current().verifying.get(kid) {
            return Some(key.clone());
        }
        let mut last = self.last_lookup.lock().await;
        // Another request may have looked it up while this one waited.
        if let Some(key) = self.current().verifying.get(kid) {
            return Some(key.clone());
        }
        if last.is_some_and(|t| t.elapsed() < UNKNOWN_KID_LOOKUP_INTERVAL) {
            return None;
        }
        *last = Some(StdInstant::now());
        if let Err(e) = self.reload().await {
            log::warn!("reading the signing keys: {e}");
        }
        let key = self.current().verifying.get(kid).cloned();
        if key.is_some() {
            log::info!("read the signing keys for the new key {kid}");
        }
        key
    }
}

/// The live keys: not retired, or retired less than `retired_lifetime` ago.
async fn load(pool: &Pool, retired_lifetime: chrono::Duration) -> Result<KeySet> {
    let mut conn = pool.get().await?;
    let keys = repo::keys::live(&mut conn.db(), Utc::now() - retired_lifetime).await?;
    KeySet::new(&keys)
}

#[derive(Clone)]
pub struct Tokens {
    issuer: String,
    access_ttl: i64,
    ring: Arc<KeyRing>,
}

impl Tokens {
    /// Loads the signing keys, creating one on first start (from
    /// `initial_pem` when given, else a new key of `alg`: RSA-2048 for
    /// RS256). Call it on the server's runtime; `refresh` is how often the
    /// keys are read again.
    pub async fn load_or_create(
        pool: &Pool,
        issuer: &str,
        access_ttl: i64,
        refresh: StdDuration,
        alg: SigningAlg,
        initial_pem: Option<&str>,
    ) -> Result<Tokens> {
        let retired_lifetime = retired_key_lifetime(access_ttl, refresh);
        ensure_signing_key(pool, alg, initial_pem).await?;
        let set = load(pool, retired_lifetime).await?;
        Ok(Tokens {
            issuer: issuer.to_string(),
            access_ttl,
            ring: Arc::new(KeyRing {
                keys: RwLock::new(Arc::new(set)),
                db: pool.clone(),
                runtime: tokio::runtime::Handle::current(),
                retired_lifetime,
                last_lookup: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// Reads the keys again every `every`, so that a rotation made by
    /// another instance or `ithbat rotate-keys` is signed with here too.
    /// Stops when the server is gone.
    pub fn refresh_every(&self, every: StdDuration) {
        let ring = Arc::downgrade(&self.ring);
        self.ring.runtime.spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(ring) = ring.upgrade() else {
                    return;
                };
                let before = ring.current().signing.kid.clone();
                match ring.reload().await {
                    Ok(()) if ring.current().signing.kid != before => {
                        log::info!("now signing with the key {}", ring.current().signing.kid)
                    }
                    Ok(()) => {}
                    Err(e) => log::warn!("reading the signing keys: {e}"),
                }
            }
        });
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn access_ttl(&self) -> i64 {
        self.access_ttl
    }

    /// Every live key's public half (RFC 7517).
    pub fn jwks(&self) -> Arc<serde_json::Value> {
        self.ring.current().jwks.clone()
    }

    /// The algorithms of the live keys, the signing key's first (OpenID
    /// Connect Discovery `id_token_signing_alg_values_supported`).
    pub fn algorithms(&self) -> Vec<SigningAlg> {
        self.ring.current().algorithms.clone()
    }

    /// Signs `claims` with the current signing key, named in the header.
    fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String> {
        let keys = self.ring.current();
        let payload = serde_json::to_vec(claims).map_err(Error::internal)?;
        jws::sign(keys.signing.header(typ), &payload, &keys.signing.signer).map_err(Error::internal)
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
            email: s.user.email.clone().unwrap_or_default(),
            roles: s.roles.to_vec(),
            permissions: s.permissions.to_vec(),
            platform_admin: s.user.is_platform_admin,
        };
        self.sign(ACCESS_TOKEN_TYP, &claims)
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
        self.sign(ACCESS_TOKEN_TYP, &claims)
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
        self.sign("JWT", &claims)
    }

    /// Verifies signature, issuer, audience, lifetime and type of an access
    /// token. Whether its session is still alive is the caller's next check.
    pub async fn verify_access(&self, token: &str) -> Result<AccessClaims> {
        let invalid = || Error::Unauthenticated("The access token is invalid or expired".into());
        let jws = Compact::parse(token).ok_or_else(invalid)?;
        if jws.header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
            return Err(invalid());
        }
        let kid = jws.header.kid.as_deref().ok_or_else(invalid)?;
        let key = self.ring.verifying(kid).await.ok_or_else(invalid)?;
        let claims: AccessClaims = verified_claims(&jws, &key).ok_or_else(invalid)?;
        // RFC 7519 4.1.4, 4.1.5, with 30 seconds of leeway for clocks.
        let now = Utc::now().timestamp();
        if claims.iss != self.issuer
            || claims.aud != self.issuer
            || claims.exp < now - CLOCK_LEEWAY_SECS
            || claims.nbf > now + CLOCK_LEEWAY_SECS
        {
            return Err(invalid());
        }
        Ok(claims)
    }

    /// The claims of an ID token this server signed with a key it knows,
    /// expired or not (an `id_token_hint` may be old: OpenID Connect
    /// RP-Initiated Logout 2).
    pub fn read_id_token(&self, token: &str) -> Option<IdClaims> {
        let jws = Compact::parse(token)?;
        let keys = self.ring.current();
        let key = keys.verifying.get(jws.header.kid.as_deref()?)?;
        let claims: IdClaims = verified_claims(&jws, key)?;
        (claims.iss == self.issuer).then_some(claims)
    }
}

/// Seconds of clock difference `exp` and `nbf` allow.
const CLOCK_LEEWAY_SECS: i64 = 30;

/// The claims of a JWS whose signature is `key`'s.
fn verified_claims<T: DeserializeOwned>(jws: &Compact<'_>, key: &Verifier) -> Option<T> {
    serde_json::from_slice(&jws.verify(key)?).ok()
}

/// Stores the first signing key when there is none (and another instance
/// did not just store one).
async fn ensure_signing_key(pool: &Pool, alg: SigningAlg, initial_pem: Option<&str>) -> Result<()> {
    {
        let mut conn = pool.get().await?;
        if repo::keys::any_active(&mut conn.db()).await? {
            return Ok(());
        }
    }
    let key = match initial_pem {
        Some(pem) => stored_key(pem)?,
        None => new_key(alg).await?,
    };
    let mut conn = pool.get().await?;
    let db = &mut conn.db();
    let created = transaction!(db, |tx| {
        repo::keys::lock(tx).await?;
        if repo::keys::any_active(tx).await? {
            return Ok(false);
        }
        repo::keys::insert(tx, &key).await?;
        Ok(true)
    })?;
    if created {
        log::info!("created the token signing key {}", key.kid);
    }
    Ok(())
}

/// Rotates the signing key: a new one signs from now on (on every
/// instance within its key refresh interval), the old ones are retired and
/// verify for `retired_lifetime` more, and keys retired longer ago are
/// deleted. Returns the new key's id.
pub async fn rotate(
    pool: &Pool,
    alg: SigningAlg,
    retired_lifetime: chrono::Duration,
) -> Result<String> {
    let key = new_key(alg).await?;
    let now = Utc::now();
    let mut conn = pool.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        repo::keys::lock(tx).await?;
        repo::keys::insert(tx, &key).await?;
        repo::keys::retire_all_but(tx, &key.kid, now).await?;
        repo::keys::delete_retired_before(tx, now - retired_lifetime).await
    })?;
    log::info!("rotated the token signing key: {} signs now", key.kid);
    Ok(key.kid)
}

/// `ithbat rotate-keys`.
pub async fn rotate_offline(config: &crate::config::Config) -> Result<String> {
    let pool = Pool::connect(&config.database_url, 1, config.db_timeouts).await?;
    let lifetime = retired_key_lifetime(config.access_token_ttl_secs, config.signing_key_refresh);
    rotate(&pool, config.signing_alg, lifetime).await
}

/// A new key of `alg`, in its stored form. RSA key generation takes a
/// fraction of a second of prime search, so it runs off the async workers.
async fn new_key(alg: SigningAlg) -> Result<StoredKey> {
    let pem = match alg {
        SigningAlg::Rs256 => tokio::task::spawn_blocking(generate_rsa_pem)
            .await
            .map_err(Error::internal)??,
        _ => pkcs8_pem(&jws::generate_pkcs8(alg).map_err(Error::internal)?),
    };
    stored_key(&pem)
}

fn pkcs8_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("PRIVATE KEY", der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// A new RSA-2048 private key in PKCS#8 PEM.
pub fn generate_rsa_pem() -> Result<String> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(Error::internal)?;
    Ok(key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(Error::internal)?
        .to_string())
}

/// The stored form of a PEM private key: RSA (PKCS#8, or PKCS#1 as
/// `openssl genrsa` writes it) for RS256, P-256 for ES256, Ed25519 for
/// EdDSA, each stored as PKCS#8. The kid is the public key's RFC 7638 JWK
/// thumbprint.
fn stored_key(pem: &str) -> Result<StoredKey> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let unusable = |why: String| {
        Error::internal(format!(
            "signing key is not an RSA, P-256 or Ed25519 private key in PEM: {why}"
        ))
    };
    let (alg, pkcs8) = if let Ok(rsa) =
        RsaPrivateKey::from_pkcs8_pem(pem).or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
    {
        let der = rsa.to_pkcs8_der().map_err(Error::internal)?;
        (SigningAlg::Rs256, der.as_bytes().to_vec())
    } else {
        let der = pem::parse(pem)
            .map_err(|e| unusable(e.to_string()))?
            .into_contents();
        let alg = [SigningAlg::Es256, SigningAlg::EdDsa]
            .into_iter()
            .find(|&alg| Signer::from_pkcs8(alg, &der).is_ok())
            .ok_or_else(|| unusable("no algorithm accepts it".into()))?;
        (alg, der)
    };
    let signer = Signer::from_pkcs8(alg, &pkcs8).map_err(unusable)?;
    let required = signer.public_jwk();
    let kid = jws::thumbprint(&required);
    let mut jwk = serde_json::Map::new();
    jwk.insert("use".into(), "sig".into());
    jwk.insert("alg".into(), alg.as_str().into());
    jwk.insert("kid".into(), kid.clone().into());
    if let serde_json::Value::Object(members) = required {
        jwk.extend(members);
    }
    Ok(StoredKey {
        kid,
        algorithm: alg.as_str().into(),
        private_key_pem: pkcs8_pem(&pkcs8),
        public_jwk: Json(serde_json::Value::Object(jwk)),
        created_at: Ts(Utc::now()),
        retired_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys as `openssl genpkey` writes them (Ed25519 as PKCS#8 v1, without
    /// its public key) import with their own algorithm, and sign.
    #[test]
    fn openssl_keys_import_with_their_algorithm() {
        let ed25519 = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIEXGHL4t+7mXLs2Atk14zu8zbyuwpKaWjZgOCZ/WJ/Xw
-----END PRIVATE KEY-----
";
        let p256 = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFo0Qxyi5EiE/f59B
fzXShZ98XhzkDbCUsNzI70sBbQOhRANCAAQwRe680BSU1iI0i7+gDA81Ha7cFuYE
Zo8tHdFrLNh9i2dZKbTGNbN7dmYT+8PpCtUz+bRJrEO4EHERRa4POFe/
-----END PRIVATE KEY-----
";
        for (pem, alg, kty) in [(ed25519, "EdDSA", "OKP"), (p256, "ES256", "EC")] {
            let key = stored_key(pem).unwrap();
            assert_eq!(key.algorithm, alg);
            assert_eq!(key.public_jwk.0["kty"], kty);
            assert_eq!(key.public_jwk.0["kid"], key.kid.as_str());
            let set = KeySet::new(&[key]).unwrap();
            assert_eq!(set.algorithms, vec![alg.parse().unwrap()]);
        }
        assert!(
            stored_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err()
        );
    }

    #[test]
    fn random_tokens_differ_and_are_43_characters() {
        assert_eq!(random_token(32).len(), 43);
        assert_ne!(random_token(32), random_token(32));
    }
}
