//! What an authenticator app does: RFC 4226 HOTP and RFC 6238 TOTP
//! (HMAC-SHA-1, 6 digits, 30-second steps) from a base32 secret. Written
//! here, apart from the server's (totp-rs), so that the tests check the
//! server against an implementation of their own. `enrol` turns MFA on
//! with one, as a person does.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha1::Sha1;

use super::client::{Api, Resp};

pub const STEP: u64 = 30;

/// RFC 4226 5.3: HMAC-SHA-1 of the counter, dynamic truncation, mod 10^digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("any key length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    format!(
        "{:0width$}",
        binary % 10u32.pow(digits),
        width = digits as usize
    )
}

/// RFC 4648 base32 without padding, as otpauth URIs carry secrets.
pub fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits: u64 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let value = ALPHABET
            .iter()
            .position(|&a| a == c.to_ascii_uppercase())
            .unwrap_or_else(|| panic!("not base32: {text}")) as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An authenticator app holding one secret. It remembers the last step
/// whose code it handed out, because the server accepts each step once
/// (RFC 6238 5.2) and only the steps next to the current one.
pub struct Authenticator {
    pub secret: String,
    last: Option<u64>,
}

impl Authenticator {
    pub fn new(secret_base32: &str) -> Authenticator {
        Authenticator {
            secret: secret_base32.to_string(),
            last: None,
        }
    }

    pub fn code_at_step(&self, step: u64) -> String {
        hotp(&base32_decode(&self.secret), step, 6)
    }

    /// A code the server has not seen yet: of the current step, or the one
    /// before or after it, still valid for at least a few seconds. Waits
    /// for the next step when all three are used.
    pub async fn next_code(&mut self) -> String {
        let step = self.usable_step().await;
        self.last = Some(step);
        self.code_at_step(step)
    }

    /// The code `next_code` would give, for a request the server refuses
    /// before it looks at the code (so the step stays unused).
    pub async fn peek_code(&self) -> String {
        self.code_at_step(self.usable_step().await)
    }

    async fn usable_step(&self) -> u64 {
        loop {
            let t = now();
            let current = t / STEP;
            // Step s is accepted until the end of step s + 1.
            let usable = (current - 1..=current + 1)
                .find(|&s| self.last.is_none_or(|last| s > last) && (s + 2) * STEP >= t + 3);
            if let Some(step) = usable {
                return step;
            }
            let wait = (current + 1) * STEP - t;
            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        }
    }

    /// The code last handed out (already used if the server accepted it).
    pub fn last_code(&self) -> String {
        self.code_at_step(self.last.expect("a code was handed out"))
    }

    /// A code of none of the steps the server could accept now.
    pub fn wrong_code(&self) -> String {
        let current = now() / STEP;
        let near: Vec<String> = (current - 2..=current + 2)
            .map(|s| self.code_at_step(s))
            .collect();
        (0..)
            .map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000))
            .find(|c| !near.contains(c))
            .unwrap()
    }
}

#[test]
fn rfc_6238_appendix_b_sha1_vectors() {
    let secret = b"12345678901234567890";
    for (time, expected) in [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ] {
        assert_eq!(hotp(secret, time / STEP, 8), expected, "T = {time}");
    }
}

#[test]
fn rfc_4226_appendix_d_vectors_and_base32() {
    let secret = b"12345678901234567890";
    let expected = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    for (counter, code) in expected.iter().enumerate() {
        assert_eq!(hotp(secret, counter as u64, 6), *code);
    }
    assert_eq!(
        base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        secret.to_vec()
    );
    assert_eq!(base32_decode("MZXW6YQ"), b"foob".to_vec());
}

/// The backup codes of an answer (verify-setup, backup-codes), which must
/// not be cached.
pub fn backup_codes_of(r: &Resp) -> Vec<String> {
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.ok()["backupCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

/// Turns MFA on for the signed-in `api` as docs/api/ithbat.md enrols it (setup
/// without a body, then verify-setup with a code): an authenticator
/// holding the secret, and the ten backup codes.
pub async fn enrol(api: &Api) -> (Authenticator, Vec<String>) {
    let r = api.post_empty("/api/v1/auth/mfa/setup").await;
    let mut app = Authenticator::new(r.ok()["secret"].as_str().unwrap());
    let code = app.next_code().await;
    let r = api
        .post("/api/v1/auth/mfa/verify-setup", json!({ "code": code }))
        .await;
    (app, backup_codes_of(&r))
}
