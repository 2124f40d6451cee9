//! The algorithms of the server's token-signing keys (RFC 7518 3.1,
//! RFC 8037 3.1): which one new keys use is configuration
//! (`ITHBAT_SIGNING_ALG`); every live key verifies whatever its algorithm.

use std::fmt;
use std::str::FromStr;

/// A JWS algorithm the server signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over an RSA key (2048 bits when
    /// generated): what every OpenID Connect relying party must accept.
    #[default]
    Rs256,
    /// ECDSA over P-256 with SHA-256 (RFC 7518 3.4).
    Es256,
    /// Ed25519 (RFC 8037 3.1).
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa];

    /// The JWS `alg` value (and the `algorithm` column of stored keys).
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Es256 => "ES256",
            SigningAlg::EdDsa => "EdDSA",
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlg {
    type Err = String;

    /// The JWS names, exactly (RFC 7515 4.1.1: `alg` is case-sensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SigningAlg::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("must be RS256, ES256 or EdDSA, got {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for a in SigningAlg::ALL {
            assert_eq!(a.as_str().parse::<SigningAlg>(), Ok(a));
        }
        assert!("rs256".parse::<SigningAlg>().is_err());
        assert!("HS256".parse::<SigningAlg>().is_err());
        assert_eq!(SigningAlg::default(), SigningAlg::Rs256);
    }
}
