//! `SWITCHBOARD_TRUSTED_DOCUMENTS`: the manifest of the only operations a deployment runs,
//! read and checked once at start (see `http::documents`).

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// The SHA-256 of a document's text, in lowercase hex, as clients compute it.
pub fn hash(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

/// Reads a trusted-documents manifest: a JSON object of hash to document, each hash the
/// document's own.
///
/// # Errors
/// What is wrong with the file, for the operator.
pub fn read_manifest(path: &str) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the trusted documents at {path}: {e}"))?;
    let listed: HashMap<String, String> = serde_json::from_str(&text).map_err(|e| {
        format!("{path} is not a JSON object of SHA-256 hash to GraphQL document: {e}")
    })?;
    for (given, query) in &listed {
        if !given.eq_ignore_ascii_case(&hash(query)) {
            return Err(format!(
                "{path}: the document listed as {given} has the hash {}",
                hash(query)
            ));
        }
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_the_hex_sha256_of_the_text() {
        assert_eq!(
            hash("{ viewer { id } }"),
            hex::encode(Sha256::digest(b"{ viewer { id } }"))
        );
        assert_eq!(hash("").len(), 64);
    }
}
