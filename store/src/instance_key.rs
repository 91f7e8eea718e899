//! The instance key: 256 bits that seal the secrets Vigie must be able to read back (the staff's
//! TOTP secrets), so that the database alone — a backup, a dump, a stolen disk image, a
//! read-only SQL hole — does not give them away. The key never lives in the database: the
//! server reads it from a file or the environment (`server::instance_key`).
//!
//! Sealing is XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`): a random 192-bit nonce per
//! value (random nonces that long never collide in practice), and associated data naming what
//! the value is and whose it is, so a sealed value copied onto another user's row does not open.
//! A sealed value is stored as `v1:` followed by base64 of nonce and ciphertext; the prefix
//! names the scheme, so another one can come later, and it cannot begin a base32 secret
//! (upper-case letters and digits), which tells a sealed value from an older clear one.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// What begins every value sealed with the current scheme.
pub const SEALED_PREFIX: &str = "v1:";

const NONCE_LEN: usize = 24;

/// 256 bits, kept out of the database and out of every message (`Debug` prints no byte).
#[derive(Clone)]
pub struct InstanceKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstanceKey(…)")
    }
}

/// Why a key's text was refused (the message never quotes the text).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "an instance key is 32 bytes written as 64 hexadecimal digits or in base64 \
     (`openssl rand -hex 32` makes one); this one is not"
)]
pub struct BadKey;

/// A sealed value that does not open: the key is not the one that sealed it, or the value was
/// altered or moved to another row.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a sealed secret does not open with this instance key")]
pub struct Unopened;

impl InstanceKey {
    /// A new random key (from the operating system's generator).
    pub fn generate() -> InstanceKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, bytes.as_mut());
        InstanceKey { bytes }
    }

    /// Reads a key written as 64 hexadecimal digits or in base64 (standard or URL-safe,
    /// padded or not), surrounding whitespace ignored.
    pub fn parse(text: &str) -> Result<InstanceKey, BadKey> {
        let text = text.trim();
        let decoded = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| BadKey)?
        } else {
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(text).ok())
                .ok_or(BadKey)?
        };
        let decoded = Zeroizing::new(decoded);
        let mut bytes = Zeroizing::new([0u8; 32]);
        if decoded.len() != bytes.len() {
            return Err(BadKey);
        }
        bytes.copy_from_slice(&decoded);
        Ok(InstanceKey { bytes })
    }

    /// The key read from `path`, or a new one written there first (readable by its owner
    /// only, mode 0600) when the file does not exist. Two processes starting at once end up
    /// with the same key: the file appears whole or not at all (written aside, then linked
    /// into place, which fails if another got there first).
    ///
    /// Returns whether this call created the file.
    pub fn load_or_create(path: &Path) -> std::io::Result<(InstanceKey, bool)> {
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::parse_file(path, &text).map(|k| (k, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let key = InstanceKey::generate();
        let aside = path.with_file_name(format!(
            ".{}.{}.tmp",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        let written = (|| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&aside)?;
            let text = Zeroizing::new(format!("{}\n", hex::encode(*key.bytes)));
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::hard_link(&aside, path)
        })();
        let _ = std::fs::remove_file(&aside);
        match written {
            Ok(()) => Ok((key, true)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = Zeroizing::new(std::fs::read_to_string(path)?);
                Self::parse_file(path, &text).map(|k| (k, false))
            }
            Err(e) => Err(e),
        }
    }

    fn parse_file(path: &Path, text: &str) -> std::io::Result<InstanceKey> {
        let text = Zeroizing::new(text.to_owned());
        Self::parse(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.bytes.as_ref().into())
    }

    /// `secret` sealed for `(purpose, owner)`: `v1:` and base64 of a fresh nonce and the
    /// ciphertext. Only [`InstanceKey::open`] with the same key, purpose and owner gives it back.
    pub fn seal(&self, purpose: &str, owner: i64, secret: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut rand::rngs::OsRng);
        let aad = associated_data(purpose, owner);
        // Encryption fails only for inputs of more than 256 GiB; a TOTP secret is 32 bytes.
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.as_bytes(),
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD_NO_PAD.encode(out))
    }

    /// The secret `stored` holds, sealed by [`InstanceKey::seal`] for `(purpose, owner)`.
    pub fn open(&self, purpose: &str, owner: i64, stored: &str) -> Result<String, Unopened> {
        let body = stored.strip_prefix(SEALED_PREFIX).ok_or(Unopened)?;
        let raw = STANDARD_NO_PAD.decode(body).map_err(|_| Unopened)?;
        if raw.len() < NONCE_LEN {
            return Err(Unopened);
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let aad = associated_data(purpose, owner);
        let clear = Zeroizing::new(
            self.cipher()
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: sealed,
                        aad: &aad,
                    },
                )
                .map_err(|_| Unopened)?,
        );
        String::from_utf8(clear.to_vec()).map_err(|_| Unopened)
    }
}

/// Whether `stored` is a sealed value (else it is a clear one written by an older version).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

fn associated_data(purpose: &str, owner: i64) -> Vec<u8> {
    format!("vigie:{purpose}:{owner}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    #[test]
    fn a_sealed_secret_opens_with_its_key_purpose_and_owner_only() {
        let key = InstanceKey::generate();
        let sealed = key.seal("totp", 7, SECRET);
        assert!(sealed.starts_with("v1:"), "{sealed}");
        assert!(!sealed.contains(SECRET));
        assert!(is_sealed(&sealed));
        assert!(!is_sealed(SECRET), "a base32 secret never looks sealed");
        assert_eq!(key.open("totp", 7, &sealed).as_deref(), Ok(SECRET));
        assert_ne!(
            key.seal("totp", 7, SECRET),
            sealed,
            "a fresh nonce each time"
        );
        assert_eq!(key.open("totp", 8, &sealed), Err(Unopened), "another user");
        assert_eq!(key.open("other", 7, &sealed), Err(Unopened), "another use");
        assert_eq!(
            InstanceKey::generate().open("totp", 7, &sealed),
            Err(Unopened),
            "another key"
        );
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).expect("ascii");
        assert_eq!(key.open("totp", 7, &altered), Err(Unopened), "altered");
        for bad in ["", "v1:", "v1:!!", "v1:AAAA", SECRET] {
            assert_eq!(key.open("totp", 7, bad), Err(Unopened), "{bad:?}");
        }
    }

    #[test]
    fn keys_are_read_in_hex_or_base64_and_never_shown() {
        let hex_text = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let a = InstanceKey::parse(hex_text).expect("hex");
        let b64 = STANDARD.encode(hex::decode(hex_text).expect("hex"));
        let b = InstanceKey::parse(&format!("  {b64}\n")).expect("base64");
        let sealed = a.seal("totp", 1, SECRET);
        assert_eq!(b.open("totp", 1, &sealed).as_deref(), Ok(SECRET));
        for bad in [
            "",
            "00",
            &hex_text[..62],
            "not a key at all",
            &STANDARD.encode([1u8; 16]),
        ] {
            assert_eq!(InstanceKey::parse(bad).err(), Some(BadKey), "{bad:?}");
        }
        assert_eq!(format!("{a:?}"), "InstanceKey(…)");
        assert!(!BadKey.to_string().contains(hex_text));
    }

    #[test]
    fn the_key_file_is_created_once_owner_only_and_read_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("vigie.db.key");
        let (first, created) = InstanceKey::load_or_create(&path).expect("create");
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        let (again, created) = InstanceKey::load_or_create(&path).expect("read");
        assert!(!created);
        let sealed = first.seal("totp", 3, SECRET);
        assert_eq!(again.open("totp", 3, &sealed).as_deref(), Ok(SECRET));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");

        std::fs::write(&path, "garbage").expect("write");
        let e = InstanceKey::load_or_create(&path).expect_err("garbage");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("vigie.db.key"), "{e}");
        assert!(!e.to_string().contains("garbage"), "{e}");
    }
}
