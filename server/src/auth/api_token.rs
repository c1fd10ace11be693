//! API token secrets: random, recognisable by their prefix, stored only as a hash.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every API token starts with this, so that secret scanners and people recognise it.
pub const TOKEN_PREFIX: &str = "sbp_";

/// How many characters of a token are kept in the clear to tell tokens apart.
const DISPLAY_PREFIX_LEN: usize = TOKEN_PREFIX.len() + 8;

pub struct NewSecret {
    /// The whole token, shown to its creator once.
    pub token: String,
    pub display_prefix: String,
    pub hash: String,
}

pub fn generate() -> NewSecret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    NewSecret {
        display_prefix: token[..DISPLAY_PREFIX_LEN].to_string(),
        hash: hash(&token),
        token,
    }
}

/// The tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn looks_like_api_token(credential: &str) -> bool {
    credential.starts_with(TOKEN_PREFIX)
}
