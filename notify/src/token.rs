//! Signed links: what a link may do (confirm a subscription, unsubscribe, manage preferences)
//! is written in the link itself and signed with HMAC-SHA256 under the installation's key, so
//! nothing about an unconfirmed address is stored. A token is `base64url(JSON).base64url(MAC)`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ring::hmac;
use serde::{de::DeserializeOwned, Serialize};

/// How long a confirmation link works.
pub const CONFIRM_VALID_FOR: chrono::Duration = chrono::Duration::hours(48);

/// Longest token accepted (bounded work on hostile input).
const MAX_TOKEN_LEN: usize = 4096;

/// Signs and checks tokens with one key.
#[derive(Clone)]
pub struct Signer {
    key: hmac::Key,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(…)")
    }
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        Signer {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// A token for `purpose` carrying `claims`.
    pub fn sign<T: Serialize>(&self, purpose: &str, claims: &T) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let tag = hmac::sign(&self.key, format!("{purpose}.{body}").as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The claims of a token made for `purpose` by this key; None if forged, altered, made for
    /// another purpose or malformed.
    pub fn verify<T: DeserializeOwned>(&self, purpose: &str, token: &str) -> Option<T> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let (body, tag) = token.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        hmac::verify(&self.key, format!("{purpose}.{body}").as_bytes(), &tag).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
    }

    /// A secret derived for `what` (e.g. one webhook's signing secret): hex of
    /// HMAC(key, what). Derived, so it is never stored.
    pub fn derive(&self, what: &str) -> String {
        hex::encode(hmac::sign(&self.key, what.as_bytes()).as_ref())
    }
}

/// What a confirmation link asks for.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Confirm {
    /// `email` or `webhook`.
    pub k: String,
    /// The address (or the webhook URL).
    pub a: String,
    /// For a webhook: the contact address that confirms it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<String>,
    pub l: String,
    /// Services; absent for the whole page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<Vec<String>>,
    /// Expiry, unix seconds.
    pub x: i64,
}

impl Confirm {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now.timestamp() > self.x
    }
}

/// Names one subscriber (unsubscribe and preferences links, which do not expire: they work
/// as long as the subscription exists, and die with it).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holder {
    pub id: i64,
    /// The address, so a token for a deleted id reused by a new row does not work.
    pub a: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_their_key_and_purpose() {
        let s = Signer::new(b"k1");
        let t = s.sign(
            "unsubscribe",
            &Holder {
                id: 7,
                a: "a@example.org".into(),
            },
        );
        let back: Holder = s.verify("unsubscribe", &t).unwrap();
        assert_eq!(back.id, 7);
        assert!(s.verify::<Holder>("manage", &t).is_none(), "other purpose");
        assert!(Signer::new(b"k2")
            .verify::<Holder>("unsubscribe", &t)
            .is_none());
        let (body, tag) = t.split_once('.').unwrap();
        let forged = format!("{}A.{tag}", body);
        assert!(s.verify::<Holder>("unsubscribe", &forged).is_none());
        assert!(s.verify::<Holder>("unsubscribe", "garbage").is_none());
        assert!(s
            .verify::<Holder>("unsubscribe", &"x.".repeat(5000))
            .is_none());
    }
}
