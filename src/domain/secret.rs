//! Opaque secrets (tokens, codes) are stored as their hash, never as
//! they were sent; secrets the server reads back are sealed under a
//! [`SealingKey`] (`service::sealing`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

/// The stored form of an opaque secret: lowercase hex SHA-256.
pub fn hash_secret(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A 256-bit key; never printed.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

impl SealingKey {
    /// Standard base64 of exactly 32 bytes (`openssl rand -base64 32`).
    pub fn parse(text: &str) -> Result<SealingKey, String> {
        let mut bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| "must be base64 (e.g. the output of `openssl rand -base64 32`)")?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| format!("must encode 32 bytes, not {}", bytes.len()))?;
        bytes.zeroize();
        Ok(SealingKey(key))
    }

    pub fn generate() -> SealingKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SealingKey(key)
    }

    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0))
    }

    /// The key itself, for the cipher.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Names the key inside sealed values without revealing it.
    pub fn id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"ithbat sealing key id\0")
            .chain_update(self.0)
            .finalize();
        digest[..6].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Drop for SealingKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_hash_to_hex() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn keys_parse_from_base64_of_32_bytes() {
        let text = STANDARD.encode([7u8; 32]);
        assert_eq!(SealingKey::parse(&text).unwrap().0, [7u8; 32]);
        assert!(SealingKey::parse(&STANDARD.encode([7u8; 16])).is_err());
        assert!(SealingKey::parse("not base64!").is_err());
        assert_eq!(
            format!("{:?}", SealingKey::parse(&text).unwrap()),
            "SealingKey(***)"
        );
    }
}
