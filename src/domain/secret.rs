//! Opaque secrets (tokens, codes) are stored as their hash, never as
//! they were sent.

use sha2::{Digest, Sha256};

/// The stored form of an opaque secret: lowercase hex SHA-256.
pub fn hash_secret(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_hash_to_hex() {
        assert_eq!(
            super::hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
