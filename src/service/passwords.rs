//! Password hashing with argon2id on a bounded blocking pool: hashing never
//! runs on the async workers, and at most `concurrency` hashes run at once
//! so that a burst of logins queues instead of exhausting memory.
//!
//! Verification (every sign-in) reuses its argon2 memory: `concurrency`
//! buffers of the configured cost (19 MiB each at OWASP's) are kept, so a
//! sign-in does not map, fault in and zero 19 MiB of fresh pages first.

use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::HashCost;
use crate::domain::{Error, Result};

/// A password as received: never printed.
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Self {
        Password(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(Clone)]
pub struct Passwords {
    argon: Argon2<'static>,
    permits: Arc<Semaphore>,
    /// A hash of a random password at the current cost: verified against
    /// when the account does not exist, so that an unknown email costs the
    /// same time as a wrong password.
    dummy: Arc<String>,
    /// Hashes and verifications computed, for /metrics.
    work: Arc<[std::sync::atomic::AtomicU64; 2]>,
    /// argon2 memory of finished verifications, for the next ones; never
    /// more buffers than hashes run at once (`permits`).
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Passwords {
    pub fn new(cost: HashCost, concurrency: usize) -> Result<Passwords, String> {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, cost.params()?);
        let dummy = hash_with(&argon, &crate::service::tokens::random_token(24))
            .map_err(|e| e.to_string())?;
        Ok(Passwords {
            argon,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: Arc::new(dummy),
            work: Arc::default(),
            memory: Arc::default(),
        })
    }

    /// (hashes, verifications) computed since start.
    pub fn work_done(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.work[0].load(Relaxed), self.work[1].load(Relaxed))
    }

    pub async fn hash(&self, password: &Password) -> Result<String> {
        self.work[0].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let argon = self.argon.clone();
        let password = password.clone();
        self.blocking(move || hash_with(&argon, password.expose()))
            .await?
    }

    /// Checks `password` against `stored` (a PHC string). With no stored
    /// hash (unknown user, or no password set) the dummy is checked instead
    /// and the answer is false.
    pub async fn verify(&self, password: &Password, stored: Option<&str>) -> Result<bool> {
        self.work[1].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let password = password.clone();
        let (hash, real) = match stored {
            Some(h) => (h.to_string(), true),
            None => (self.dummy.as_ref().clone(), false),
        };
        let pool = self.memory.clone();
        let ok = self
            .blocking(move || {
                let mut memory = pool
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .pop()
                    .unwrap_or_default();
                let ok = verify_with(&mut memory, password.expose().as_bytes(), &hash);
                pool.lock().unwrap_or_else(|e| e.into_inner()).push(memory);
                ok
            })
            .await??;
        Ok(ok && real)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(Error::internal)
    }
}

/// Checks `password` against the PHC string `stored` with its own
/// algorithm, version and cost (as argon2's `PasswordVerifier` does), in
/// `memory`, grown to the cost if need be.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], stored: &str) -> Result<bool> {
    let bad = |e: &dyn std::fmt::Display| Error::internal(format!("stored password hash: {e}"));
    let parsed = PasswordHash::new(stored).map_err(|e| bad(&e))?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| bad(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| bad(&e))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| bad(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(bad(&"no salt or no hash"));
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(|e| bad(&e))?;
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
        .map_err(|e| bad(&e))?;
    Ok(out.ct_eq(expected.as_bytes()).into())
}

fn hash_with(argon: &Argon2<'_>, password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("hashing: {e}")))
}

/// A random password that meets the default policy, for generated accounts.
pub fn generate_password() -> String {
    use rand::seq::SliceRandom;
    use rand::Rng;
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SPECIAL: &[u8] = b"!@#$%^&*-_=+?";
    let mut rng = rand::rngs::OsRng;
    let all: Vec<u8> = [LOWER, UPPER, DIGIT, SPECIAL].concat();
    let mut chars: Vec<u8> = [LOWER, UPPER, DIGIT, SPECIAL]
        .iter()
        .map(|set| set[rng.gen_range(0..set.len())])
        .collect();
    chars.extend((0..16).map(|_| all[rng.gen_range(0..all.len())]));
    chars.shuffle(&mut rng);
    String::from_utf8(chars).expect("ascii")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::PasswordPolicy;

    #[test]
    fn generated_passwords_meet_the_default_policy() {
        for _ in 0..50 {
            let p = generate_password();
            assert_eq!(p.len(), 20);
            PasswordPolicy::default().check(&p).unwrap();
        }
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let cost = HashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let p = Passwords::new(cost, 2).unwrap();
        let hash = p.hash(&Password::new("S3cret!pass")).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(p
            .verify(&Password::new("S3cret!pass"), Some(&hash))
            .await
            .unwrap());
        assert!(!p
            .verify(&Password::new("wrong"), Some(&hash))
            .await
            .unwrap());
        assert!(!p.verify(&Password::new("anything"), None).await.unwrap());
        assert_eq!(format!("{:?}", Password::new("x")), "Password(***)");
    }

    /// A stored hash is checked at its own cost, whatever the configured
    /// one, in reused memory, and agrees with argon2's own verifier.
    #[tokio::test]
    async fn stored_hashes_verify_at_their_own_cost_in_reused_memory() {
        use argon2::PasswordVerifier;
        let cost = |memory_kib| HashCost {
            memory_kib,
            iterations: 1,
            parallelism: 1,
        };
        let small = Passwords::new(cost(32), 1).unwrap();
        let large = Passwords::new(cost(128), 1).unwrap();
        let pw = Password::new("S3cret!pass");
        let (h_small, h_large) = (
            small.hash(&pw).await.unwrap(),
            large.hash(&pw).await.unwrap(),
        );
        for _ in 0..2 {
            for h in [&h_large, &h_small] {
                assert!(small.verify(&pw, Some(h)).await.unwrap());
                assert!(!small
                    .verify(&Password::new("S3cret!pasS"), Some(h))
                    .await
                    .unwrap());
                let parsed = PasswordHash::new(h).unwrap();
                assert!(Argon2::default()
                    .verify_password(pw.expose().as_bytes(), &parsed)
                    .is_ok());
            }
        }
        assert!(small
            .verify(&pw, Some("$argon2id$v=19$m=32,t=1,p=1$bad"))
            .await
            .is_err());
    }
}
