//! The optional TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s steps, one step of clock
//! skew either way), with totp-rs. A code is accepted once: the step it matched is spent in
//! the store (`store::users::totp::totp_spend`).

use totp_rs::{Secret, Totp};

/// A new random 160-bit secret, base32 as authenticator apps take it.
pub fn new_secret() -> String {
    Secret::from(store::tokens::random_bytes(20)).to_base32()
}

fn totp(secret: &str, account: &str, issuer: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret).ok()?;
    totp_rs::Builder::new()
        .with_secret(secret)
        // otpauth labels may not hold a colon.
        .with_account_name(account.replace(':', ""))
        .with_issuer(Some(issuer.replace(':', "")))
        .build()
        .ok()
}

/// The time step `code` matches for `secret` at `unix_time`, if it does.
pub fn check(secret: &str, code: &str, unix_time: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = totp(secret, "vigie", "Vigie")?.check(&code, unix_time)?;
    i64::try_from(step).ok()
}

/// The code of `secret` at `unix_time`, as an authenticator app shows it (the tests sign in
/// with it).
pub fn code_at(secret: &str, unix_time: u64) -> Option<String> {
    Some(
        totp(secret, "vigie", "Vigie")?
            .generate(unix_time)
            .to_string(),
    )
}

/// The `otpauth://` address an authenticator app imports (by hand or from a QR code).
pub fn otpauth_url(secret: &str, account: &str, issuer: &str) -> Option<String> {
    totp(secret, account, issuer)?.to_url().ok()
}

/// Seconds since the Unix epoch, now.
pub fn now() -> u64 {
    chrono::Utc::now().timestamp().max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32, "160 bits in base32");
        let t = 1_800_000_000;
        let code = code_at(&secret, t).expect("code");
        assert_eq!(check(&secret, &code, t), Some((t / 30) as i64));
        assert_eq!(check(&secret, &code, t + 30), Some((t / 30) as i64), "skew");
        assert_eq!(check(&secret, &code, t + 90), None, "expired");
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(check(&secret, &spaced, t), Some((t / 30) as i64));
        assert_eq!(check(&secret, "12345", t), None);
        assert_eq!(check(&secret, "abcdef", t), None);
        assert_eq!(check("not base32!", &code, t), None);
    }

    #[test]
    fn otpauth_url_names_the_account_and_issuer() {
        let url = otpauth_url(&new_secret(), "ed@example.org", "Humanoid: état").expect("url");
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(
            url.contains("ed%40example.org") || url.contains("ed@example.org"),
            "{url}"
        );
        assert!(url.contains("issuer="), "{url}");
    }
}
