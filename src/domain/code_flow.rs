//! The authorization code grant with PKCE (RFC 6749 4.1, RFC 7636, OAuth
//! 2.1): what a client asks `/oauth/authorize` for, checked before anyone
//! is shown a sign-in page, and the proof a code is redeemed with.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::scope::ScopeSet;

/// How long a person has to sign in once a client sent them.
pub const REQUEST_LIFETIME: Duration = Duration::minutes(10);
/// How long a code lives (OAuth 2.1: short; RFC 6749 says at most 10 min).
pub const CODE_LIFETIME: Duration = Duration::seconds(60);

/// A validated authorization request, stored while the person signs in.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub client_id: Uuid,
    pub redirect_uri: String,
    pub scope: ScopeSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// BASE64URL(SHA-256(code_verifier)) (RFC 7636 4.2, method S256).
    pub code_challenge: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A code as redeemed: what it was issued for.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub tenant_id: Uuid,
    pub client_id: Uuid,
    pub session_id: Uuid,
    pub redirect_uri: String,
    pub scope: ScopeSet,
    pub nonce: Option<String>,
    pub code_challenge: String,
}

/// RFC 7636 4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" /
/// "." / "_" / "~"`.
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is the base64url of a SHA-256: 43 characters.
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// RFC 7636 4.6: does the verifier answer the S256 challenge? Compared in
/// constant time.
pub fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    use subtle::ConstantTimeEq;
    if !valid_verifier(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

/// `state` and `nonce` are opaque to us but bounded: they come back in a
/// URL and a token.
pub fn valid_opaque(value: &str) -> bool {
    !value.is_empty() && value.len() <= 512 && value.chars().all(|c| !c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 appendix B.
    #[test]
    fn rfc_7636_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(valid_verifier(verifier));
        assert!(valid_challenge(challenge));
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches(&verifier.replace('d', "e"), challenge));
        assert!(!verifier_matches("short", challenge));
        assert!(!valid_challenge("plain-text-is-not-a-challenge"));
    }
}
