//! JSON Web Signatures in compact serialization (RFC 7515 3.1, 7.1) with the
//! server's own keys, through aws-lc-rs: RS256 (RFC 7518 3.3), ES256 (RFC 7518
//! 3.4) and EdDSA over Ed25519 (RFC 8037 3.1).
//!
//! A key is parsed once, when the key set is read, and kept prepared, so
//! that signing costs the signature alone. An RS256 signature is the cost
//! of a token (docs/performance.md): AWS-LC signs with the same RSA-2048
//! code as OpenSSL, in 0.28 ms here against 0.6 ms through ring and
//! several times that through jsonwebtoken's `rust_crypto` RSA, which
//! also re-parses the key for every token. The server still uses
//! jsonwebtoken for the ID tokens of external providers (`oidc_rp.rs`),
//! whose keys change with their JWKS.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::domain::signing::SigningAlg;

/// A private key prepared for signing.
pub enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl Signer {
    /// The key of a PKCS#8 document (RFC 5208), which must be a key of `alg`.
    pub fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<Signer, String> {
        let rejected = |e: aws_lc_rs::error::KeyRejected| format!("not an {alg} private key: {e}");
        Ok(match alg {
            SigningAlg::Rs256 => Signer::Rsa(RsaKeyPair::from_pkcs8(der).map_err(rejected)?),
            SigningAlg::Es256 => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(rejected)?,
            ),
            // OpenSSL writes Ed25519 keys as PKCS#8 v1, without the public
            // key; aws-lc-rs then derives it.
            SigningAlg::EdDsa => {
                Signer::Ed(Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(rejected)?)
            }
        })
    }

    pub fn alg(&self) -> SigningAlg {
        match self {
            Signer::Rsa(_) => SigningAlg::Rs256,
            Signer::Ec(_) => SigningAlg::Es256,
            Signer::Ed(_) => SigningAlg::EdDsa,
        }
    }

    /// The JWS signature of `message` (for ES256 the 64-byte `R || S` of
    /// RFC 7518 3.4, not DER).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let rng = SystemRandom::new();
        match self {
            Signer::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| "RSA signing failed".to_string())?;
                Ok(sig)
            }
            Signer::Ec(k) => k
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| "ECDSA signing failed".to_string()),
            Signer::Ed(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    /// The public key as a JWK (RFC 7517 4, RFC 7518 6, RFC 8037 2) with
    /// only its required members, in the lexicographic order of the RFC
    /// 7638 thumbprint.
    pub fn public_jwk(&self) -> Value {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        match self {
            Signer::Rsa(k) => {
                let c: RsaPublicKeyComponents<Vec<u8>> = k.public_key().into();
                json!({ "e": b64(strip_zeros(&c.e)), "kty": "RSA", "n": b64(strip_zeros(&c.n)) })
            }
            Signer::Ec(k) => {
                // SEC 1 uncompressed point: 0x04 || x || y.
                let point = k.public_key().as_ref();
                json!({ "crv": "P-256", "kty": "EC", "x": b64(&point[1..33]), "y": b64(&point[33..65]) })
            }
            Signer::Ed(k) => {
                json!({ "crv": "Ed25519", "kty": "OKP", "x": b64(k.public_key().as_ref()) })
            }
        }
    }
}

/// RFC 7518 6.3.1.1: integers without leading zero octets.
fn strip_zeros(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|&x| x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    &b[start..]
}

/// The RFC 7638 thumbprint (SHA-256, base64url) of a JWK holding exactly
/// its required members, as `public_jwk` returns it: serde_json writes them
/// in the order given, without whitespace.
pub fn thumbprint(required_members: &Value) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(required_members.to_string().as_bytes()))
}

/// A public key prepared for verification.
#[derive(Clone)]
pub struct Verifier {
    alg: SigningAlg,
    key: PublicKey,
}

#[derive(Clone)]
enum PublicKey {
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
    Other(UnparsedPublicKey<Vec<u8>>),
}

impl Verifier {
    /// The public key of a JWK as the server publishes it, for `alg`.
    pub fn from_jwk(alg: SigningAlg, jwk: &Value) -> Result<Verifier, String> {
        let member = |name: &str| -> Result<Vec<u8>, String> {
            let text = jwk[name]
                .as_str()
                .ok_or_else(|| format!("the JWK has no {name}"))?;
            URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|_| format!("the JWK's {name} is not base64url"))
        };
        let kty = jwk["kty"].as_str().unwrap_or_default();
        let crv = jwk["crv"].as_str().unwrap_or_default();
        let key = match (alg, kty, crv) {
            (SigningAlg::Rs256, "RSA", _) => PublicKey::Rsa(RsaPublicKeyComponents {
                n: member("n")?,
                e: member("e")?,
            }),
            (SigningAlg::Es256, "EC", "P-256") => {
                let (x, y) = (member("x")?, member("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err("the JWK's P-256 point has the wrong length".into());
                }
                let point = [&[4u8][..], &x, &y].concat();
                PublicKey::Other(UnparsedPublicKey::new(
                    &signature::ECDSA_P256_SHA256_FIXED,
                    point,
                ))
            }
            (SigningAlg::EdDsa, "OKP", "Ed25519") => {
                PublicKey::Other(UnparsedPublicKey::new(&signature::ED25519, member("x")?))
            }
            _ => return Err(format!("a {kty} {crv} JWK is not an {alg} key")),
        };
        Ok(Verifier { alg, key })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match &self.key {
            PublicKey::Rsa(k) => k
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
                .is_ok(),
            PublicKey::Other(k) => k.verify(message, sig).is_ok(),
        }
    }
}

/// The JOSE header members the server reads (RFC 7515 4.1).
#[derive(Debug, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
    /// Extensions that must be understood (RFC 7515 4.1.11): the server
    /// uses none, so a token naming any is refused.
    #[serde(default)]
    crit: Option<Value>,
}

/// A compact JWS taken apart, its signature not checked yet.
pub struct Compact<'t> {
    pub header: Header,
    signing_input: &'t str,
    payload: &'t str,
    signature: Vec<u8>,
}

impl<'t> Compact<'t> {
    /// Three base64url parts and a JSON header; None for anything else.
    pub fn parse(token: &'t str) -> Option<Compact<'t>> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        if payload.contains('.') {
            return None;
        }
        let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if header.crit.is_some() {
            return None;
        }
        Some(Compact {
            header,
            signing_input,
            payload,
            signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
        })
    }

    /// The payload, if the header names the key's algorithm (never
    /// another: RFC 8725 3.1) and the signature is the key's.
    pub fn verify(&self, key: &Verifier) -> Option<Vec<u8>> {
        if self.header.alg != key.alg.as_str()
            || !key.verify(self.signing_input.as_bytes(), &self.signature)
        {
            return None;
        }
        URL_SAFE_NO_PAD.decode(self.payload).ok()
    }
}

/// `base64url(header) . base64url(payload)`, signed by `signer`.
pub fn sign(header_b64: &str, payload: &[u8], signer: &Signer) -> Result<String, String> {
    let mut out = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 400);
    out.push_str(header_b64);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut out);
    let sig = signer.sign(out.as_bytes())?;
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut out);
    Ok(out)
}

/// A new private key of `alg` as a PKCS#8 document (RSA keys come from the
/// caller, `tokens.rs`).
pub fn generate_pkcs8(alg: SigningAlg) -> Result<Vec<u8>, String> {
    let rng = SystemRandom::new();
    let doc = match alg {
        SigningAlg::Es256 => {
            EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        }
        SigningAlg::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng),
        SigningAlg::Rs256 => return Err("RSA keys are generated by the caller".into()),
    }
    .map_err(|_| format!("generating an {alg} key failed"))?;
    Ok(doc.as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_and_verifies_and_nothing_else_does() {
        for alg in [SigningAlg::Es256, SigningAlg::EdDsa] {
            let signer = Signer::from_pkcs8(alg, &generate_pkcs8(alg).unwrap()).unwrap();
            let verifier = Verifier::from_jwk(alg, &signer.public_jwk()).unwrap();
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","kid":"k"}}"#));
            let token = sign(&header, br#"{"sub":"x"}"#, &signer).unwrap();
            let parsed = Compact::parse(&token).unwrap();
            assert_eq!(parsed.verify(&verifier).unwrap(), br#"{"sub":"x"}"#);
            // Another payload under the same signature.
            let (_, sig) = token.rsplit_once('.').unwrap();
            let forged = format!(
                "{header}.{}.{sig}",
                URL_SAFE_NO_PAD.encode(r#"{"sub":"y"}"#)
            );
            assert!(Compact::parse(&forged).unwrap().verify(&verifier).is_none());
            // The key of another algorithm refuses the header's.
            let other = if alg == SigningAlg::Es256 {
                SigningAlg::EdDsa
            } else {
                SigningAlg::Es256
            };
            assert!(Verifier::from_jwk(other, &signer.public_jwk()).is_err());
        }
        assert!(Compact::parse("a.b").is_none());
        assert!(Compact::parse("a.b.c.d").is_none());
    }

    #[test]
    fn a_critical_extension_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#);
        assert!(Compact::parse(&format!("{header}.e30.AAAA")).is_none());
    }
}
