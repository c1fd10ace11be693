//! Signing secrets at rest. The desk must sign with the secret itself (a hash would not
//! do), so it stores it sealed with AES-256-GCM under a key every replica derives from
//! the same setting: a copy of the database alone does not give an attacker the power
//! to forge the desk's webhooks.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, AeadCore, OsRng},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

const VERSION: &str = "v1:";

/// Seals and opens stored secrets with the server's key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl Sealer {
    /// A sealer whose key is derived from `material` (the secrets key, or the JWT
    /// secret): the same material gives the same key on every replica.
    pub fn new(material: &str) -> Sealer {
        let key = Sha256::new()
            .chain_update(b"switchboard sealed secrets\0")
            .chain_update(material.as_bytes())
            .finalize();
        Sealer {
            cipher: Aes256Gcm::new(&key),
        }
    }

    /// The secret sealed under a fresh nonce, as stored: `v1:` and base64.
    pub fn seal(&self, secret: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, secret.as_bytes())
            .expect("AES-GCM seals any length we store");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{VERSION}{}", STANDARD.encode(bytes))
    }

    /// # Errors
    /// INTERNAL when the secret was sealed under another key: the replicas' secrets keys
    /// differ, or it changed.
    pub fn open(&self, sealed: &str) -> AppResult<String> {
        let wrong = || {
            AppError::Internal(
                "a webhook secret cannot be opened: was SWITCHBOARD_SECRETS_KEY (or the JWT secret) changed, or does it differ between replicas?".into(),
            )
        };
        let bytes = STANDARD
            .decode(sealed.strip_prefix(VERSION).ok_or_else(wrong)?)
            .map_err(|_| wrong())?;
        if bytes.len() < 12 {
            return Err(wrong());
        }
        let (nonce, sealed) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| wrong())?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| wrong())?;
        String::from_utf8(plain).map_err(|_| wrong())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_what_it_sealed_and_nothing_sealed_under_another_key() {
        let sealer = Sealer::new("a key of at least thirty-two characters");
        let sealed = sealer.seal("whsec_abc");
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(sealer.open(&sealed).unwrap(), "whsec_abc");
        assert_ne!(sealer.seal("whsec_abc"), sealed, "a fresh nonce each time");
        assert!(Sealer::new("another key").open(&sealed).is_err());
    }
}
