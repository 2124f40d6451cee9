//! Multi-factor rules (docs/design/sign-in.md): TOTP codes (RFC 6238:
//! HMAC-SHA-1, 6 digits, 30-second steps), single-use backup codes, and the
//! limits of the two-step sign-in.

use totp_rs::{Builder, Totp};

/// RFC 6238 time step.
pub const TOTP_STEP_SECS: u64 = 30;
/// Codes of the step before and after the current one are accepted too,
/// for clocks that drift and codes typed at a step's end (RFC 6238 5.2).
pub const TOTP_SKEW: u16 = 1;
/// 160 bits, RFC 4226 section 4's recommended secret length.
pub const TOTP_SECRET_BYTES: usize = 20;
/// Ten single-use backup codes (docs/api/ithbat.md, Multi-factor sign-in).
pub const BACKUP_CODE_COUNT: usize = 10;
/// An mfaToken lives five minutes (docs/api/ithbat.md, Multi-factor sign-in).
pub const MFA_TOKEN_TTL_SECS: i64 = 5 * 60;
/// Codes tried against one mfaToken before it is void.
pub const MFA_TOKEN_MAX_ATTEMPTS: i32 = 5;

/// What checking a TOTP code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpVerdict {
    /// The code of this time step, later than any accepted before.
    Accepted(u64),
    /// A right code of a step already used or earlier (RFC 6238 5.2: a
    /// code is accepted once).
    Reused,
    Wrong,
}

fn totp(secret: &[u8]) -> Result<Totp, String> {
    Builder::new()
        .with_secret(secret.to_vec())
        .with_step_duration(TOTP_STEP_SECS)
        .with_skew(TOTP_SKEW)
        .build()
        .map_err(|e| e.to_string())
}

/// Checks a code (already parsed by `parse_totp_code`) at `unix_time`.
/// `last_step` is the step of the last code accepted for this secret.
pub fn check_totp(
    secret: &[u8],
    code: &str,
    unix_time: u64,
    last_step: Option<u64>,
) -> Result<TotpVerdict, String> {
    Ok(match totp(secret)?.check(code, unix_time) {
        Some(step) if last_step.is_some_and(|last| step <= last) => TotpVerdict::Reused,
        Some(step) => TotpVerdict::Accepted(step),
        None => TotpVerdict::Wrong,
    })
}

/// The secret as authenticator apps take it when typed: base32, unpadded.
pub fn totp_secret_base32(secret: &[u8]) -> Result<String, String> {
    Ok(totp(secret)?.secret().to_base32())
}

/// The Key URI (`otpauth://totp/Issuer:account?secret=...&issuer=...`) a
/// QR code carries. Neither part may contain a colon, the label separator.
pub fn otpauth_url(secret: &[u8], issuer: &str, account: &str) -> Result<String, String> {
    let clean = |s: &str| {
        s.replace(':', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    Builder::new()
        .with_secret(secret.to_vec())
        .with_step_duration(TOTP_STEP_SECS)
        .with_issuer(Some(clean(issuer)))
        .with_account_name(clean(account))
        .build()
        .and_then(|t| t.to_url())
        .map_err(|e| e.to_string())
}

/// A TOTP code as typed: six digits, spaces allowed ("123 456").
pub fn parse_totp_code(input: &str) -> Result<String, String> {
    let code: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err("must be the 6-digit code of the authenticator app".into())
    }
}

/// Crockford's base32 alphabet, lowercase: no i, l, o or u, so that a code
/// read aloud or copied by hand has one spelling.
pub const BACKUP_CODE_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// 16 characters of 5 bits: 80 bits, beyond guessing even from the stored
/// SHA-256.
pub const BACKUP_CODE_LEN: usize = 16;

/// A backup code as shown: four groups of four (`7k2m-q9xd-...`).
pub fn format_backup_code(chars: &str) -> String {
    chars
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-")
}

/// A backup code as typed, normalised: any case, with or without hyphens
/// and spaces, and o, i, l read as 0, 1, 1 (Crockford).
pub fn parse_backup_code(input: &str) -> Result<String, String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        })
        .collect();
    if code.len() == BACKUP_CODE_LEN && code.bytes().all(|b| BACKUP_CODE_ALPHABET.contains(&b)) {
        Ok(code)
    } else {
        Err(format!(
            "must be one of your backup codes ({BACKUP_CODE_LEN} letters and digits)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_appendix_b_vectors() {
        // The appendix gives 8 digits; a 6-digit code is the value mod 10^6.
        for (time, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            let six = &eight[2..];
            assert_eq!(
                check_totp(RFC_SECRET, six, time, None),
                Ok(TotpVerdict::Accepted(time / 30)),
                "T = {time}"
            );
        }
    }

    #[test]
    fn rfc_4226_appendix_d_counters_within_one_step() {
        // HOTP values for counters 0..9; TOTP at time 30 * c uses counter c.
        let hotp = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in hotp.iter().enumerate() {
            let at = 30 * counter as u64 + 15;
            assert_eq!(
                check_totp(RFC_SECRET, code, at, None),
                Ok(TotpVerdict::Accepted(counter as u64))
            );
        }
        // One step of skew each way, not two.
        let at_step_5 = 5 * 30 + 1;
        assert!(matches!(
            check_totp(RFC_SECRET, hotp[4], at_step_5, None),
            Ok(TotpVerdict::Accepted(4))
        ));
        assert!(matches!(
            check_totp(RFC_SECRET, hotp[6], at_step_5, None),
            Ok(TotpVerdict::Accepted(6))
        ));
        assert_eq!(
            check_totp(RFC_SECRET, hotp[3], at_step_5, None),
            Ok(TotpVerdict::Wrong)
        );
        assert_eq!(
            check_totp(RFC_SECRET, hotp[7], at_step_5, None),
            Ok(TotpVerdict::Wrong)
        );
    }

    #[test]
    fn a_code_is_accepted_once() {
        let at = 5 * 30 + 1;
        assert_eq!(
            check_totp(RFC_SECRET, "254676", at, Some(5)),
            Ok(TotpVerdict::Reused)
        );
        assert_eq!(
            check_totp(RFC_SECRET, "338314", at, Some(5)),
            Ok(TotpVerdict::Reused),
            "an earlier step after a later one"
        );
        assert_eq!(
            check_totp(RFC_SECRET, "287922", at, Some(5)),
            Ok(TotpVerdict::Accepted(6))
        );
    }

    #[test]
    fn otpauth_uri() {
        let url = otpauth_url(RFC_SECRET, "Acme: Corp", "alice@acme.example").unwrap();
        assert_eq!(
            url,
            "otpauth://totp/Acme%20Corp:alice%40acme.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Corp"
        );
        assert_eq!(
            totp_secret_base32(RFC_SECRET).unwrap(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn codes_as_typed() {
        assert_eq!(parse_totp_code(" 123 456 "), Ok("123456".into()));
        assert!(parse_totp_code("12345").is_err());
        assert!(parse_totp_code("1234567").is_err());
        assert!(parse_totp_code("12345a").is_err());
        assert!(parse_totp_code("+12345").is_err());
        assert_eq!(
            parse_backup_code("7K2M-Q9XD-ABCD-EFGH"),
            Ok("7k2mq9xdabcdefgh".into())
        );
        assert_eq!(
            parse_backup_code("o1il 0000 1111 2222"),
            Ok("0111000011112222".into())
        );
        assert!(
            parse_backup_code("7k2m-q9xd-abcd-efgu").is_err(),
            "u is not in the alphabet"
        );
        assert!(parse_backup_code("7k2m-q9xd-abcd").is_err());
        assert_eq!(
            format_backup_code("7k2mq9xdabcdefgh"),
            "7k2m-q9xd-abcd-efgh"
        );
    }
}
