//! Secrets the server must read back, unlike passwords and tokens that it
//! only compares (TOTP secrets), are sealed with AES-256-GCM before they
//! are stored. The key is ITHBAT_SECRET_KEY, or when that is unset one
//! generated on first start and stored in the database (like the signing
//! key): the first keeps a database dump alone useless, the second only
//! keeps secrets out of partial leaks (a table export, a log of rows).
//!
//! A sealed value is `v1.<key id>.<base64url(nonce || ciphertext || tag)>`,
//! with a random 96-bit nonce and a context (e.g. `totp:<user id>`) as
//! associated data, so that a value copied onto another row does not open.
//! The stored key keeps opening what it sealed after ITHBAT_SECRET_KEY is
//! set, so a deployment can move to a configured key without re-enrolment.

use std::collections::HashMap;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::db::Pool;
use crate::domain::secret::SealingKey;
use crate::domain::{Error, Result};
use crate::repo;

const VERSION: &str = "v1";
const NONCE_BYTES: usize = 12;

#[derive(Clone)]
pub struct Sealer {
    current: String,
    ciphers: Arc<HashMap<String, Aes256Gcm>>,
}

impl Sealer {
    /// Seals with `current`; opens what any of `current` and `older` sealed.
    pub fn new(current: &SealingKey, older: &[SealingKey]) -> Sealer {
        let ciphers = std::iter::once(current)
            .chain(older)
            .map(|k| (k.id(), Aes256Gcm::new(&(*k.bytes()).into())))
            .collect();
        Sealer {
            current: current.id(),
            ciphers: Arc::new(ciphers),
        }
    }

    /// The configured key, and the stored one if there is one; without a
    /// configured key, the stored one, created on first start. Instances
    /// starting together agree: the key is one row, inserted if absent,
    /// then read back.
    pub async fn load_or_create(pool: &Pool, configured: Option<&SealingKey>) -> Result<Sealer> {
        let mut conn = pool.get().await?;
        let mut db = conn.db();
        let mut stored = repo::sealing_keys::get(&mut db).await?;
        if stored.is_none() && configured.is_none() {
            let key = SealingKey::generate();
            repo::sealing_keys::insert_if_absent(&mut db, &key.to_base64(), Utc::now()).await?;
            stored = repo::sealing_keys::get(&mut db).await?;
            log::info!(
                "created the secret sealing key (stored in the database; set ITHBAT_SECRET_KEY to keep it elsewhere)"
            );
        }
        let stored = stored
            .map(|text| {
                SealingKey::parse(&text)
                    .map_err(|e| Error::internal(format!("stored sealing key: {e}")))
            })
            .transpose()?;
        match (configured, stored) {
            (Some(current), stored) => Ok(Sealer::new(current, stored.as_slice())),
            (None, Some(current)) => Ok(Sealer::new(&current, &[])),
            (None, None) => Err(Error::internal("the sealing key was not stored")),
        }
    }

    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String> {
        let cipher = &self.ciphers[&self.current];
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Error::internal("sealing failed"))?;
        let mut body = nonce.to_vec();
        body.extend_from_slice(&sealed);
        Ok(format!(
            "{VERSION}.{}.{}",
            self.current,
            URL_SAFE_NO_PAD.encode(body)
        ))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Zeroizing<Vec<u8>>> {
        let corrupt = || Error::internal("a sealed value is malformed");
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(corrupt());
        };
        let cipher = self.ciphers.get(kid).ok_or_else(|| {
            Error::internal(format!(
                "a value was sealed with key {kid}, which is not configured (was ITHBAT_SECRET_KEY changed?)"
            ))
        })?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| corrupt())?;
        if body.len() < NONCE_BYTES {
            return Err(corrupt());
        }
        let (nonce, ciphertext) = body.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| corrupt())?;
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Error::internal("a sealed value does not open (altered, or moved)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_in_context_only() {
        let key = SealingKey::generate();
        let sealer = Sealer::new(&key, &[]);
        let sealed = sealer.seal(b"the secret", "totp:alice").unwrap();
        assert!(sealed.starts_with(&format!("v1.{}.", key.id())));
        assert!(!sealed.contains("the secret"));
        assert_eq!(
            sealer.open(&sealed, "totp:alice").unwrap().as_slice(),
            b"the secret"
        );
        assert_ne!(sealer.seal(b"the secret", "totp:alice").unwrap(), sealed);
        assert!(
            sealer.open(&sealed, "totp:bob").is_err(),
            "moved to another row"
        );
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(sealer
            .open(std::str::from_utf8(&altered).unwrap(), "totp:alice")
            .is_err());
        assert!(sealer.open("v1.nokey.AAAA", "totp:alice").is_err());
        assert!(sealer.open("garbage", "totp:alice").is_err());
    }

    #[test]
    fn a_new_key_still_opens_what_the_old_one_sealed() {
        let (old, new) = (SealingKey::generate(), SealingKey::generate());
        let sealed = Sealer::new(&old, &[]).seal(b"seed", "c").unwrap();
        let moved = Sealer::new(&new, &[old]);
        assert_eq!(moved.open(&sealed, "c").unwrap().as_slice(), b"seed");
        assert!(moved
            .seal(b"seed", "c")
            .unwrap()
            .starts_with(&format!("v1.{}.", new.id())));
        assert!(Sealer::new(&new, &[]).open(&sealed, "c").is_err());
    }
}
