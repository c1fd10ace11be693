//! People's JWTs: verification with exactly the configured algorithm, and dev tokens.

use std::{collections::HashSet, io::Write, path::Path};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::{
    config::{JwtConfig, JwtKeyConfig},
    error::AppError,
};

/// The claims Switchboard reads. `roles` and `groups` default to none.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

impl Claims {
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

const SECRET_FILE: &str = "jwt-secret";

/// The HS256 secret: the configured one, or the one kept in the data directory
/// (generated on first use). Returns the secret and whether it was just generated.
pub fn hs256_secret(configured: Option<&str>, data_dir: &Path) -> std::io::Result<(String, bool)> {
    kept_secret(configured, data_dir, SECRET_FILE)
}

/// A secret: the configured one, or the one kept in `file` of the data directory
/// (generated on first use, readable by the server's user only). Returns the secret and
/// whether it was just generated.
pub fn kept_secret(
    configured: Option<&str>,
    data_dir: &Path,
    file: &str,
) -> std::io::Result<(String, bool)> {
    if let Some(secret) = configured {
        return Ok((secret.to_string(), false));
    }
    let path = data_dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(secret) if !secret.trim().is_empty() => return Ok((secret.trim().to_string(), false)),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&path)?.write_all(secret.as_bytes())?;
    Ok((secret, true))
}

pub fn secret_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join(SECRET_FILE)
}

impl JwtVerifier {
    /// `hs256_secret` is the resolved secret when the configuration uses HS256.
    pub fn new(config: &JwtConfig, hs256_secret: Option<&str>) -> Result<JwtVerifier, String> {
        let (algorithm, key) = match &config.key {
            JwtKeyConfig::Hs256 { .. } => {
                let secret = hs256_secret.ok_or("HS256 needs a secret")?;
                (
                    Algorithm::HS256,
                    DecodingKey::from_secret(secret.as_bytes()),
                )
            }
            JwtKeyConfig::Rs256 { public_key_pem } => (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(public_key_pem.as_bytes()).map_err(|e| e.to_string())?,
            ),
            JwtKeyConfig::Es256 { public_key_pem } => (
                Algorithm::ES256,
                DecodingKey::from_ec_pem(public_key_pem.as_bytes()).map_err(|e| e.to_string())?,
            ),
        };
        // Only the configured algorithm is accepted: `alg: none` and algorithm
        // confusion (an HS256 token signed with a public key) are refused.
        let mut validation = Validation::new(algorithm);
        validation.leeway = config.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required: HashSet<String> = ["exp", "sub"].into_iter().map(String::from).collect();
        match &config.issuer {
            Some(issuer) => {
                validation.set_issuer(&[issuer]);
                required.insert("iss".into());
            }
            None => validation.iss = None,
        }
        match &config.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.insert("aud".into());
            }
            None => validation.validate_aud = false,
        }
        validation.required_spec_claims = required;
        Ok(JwtVerifier { key, validation })
    }

    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        match jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation) {
            Ok(data) if data.claims.sub.trim().is_empty() => Err(AppError::Unauthenticated(
                "the token's 'sub' claim is empty".into(),
            )),
            Ok(data) => Ok(data.claims),
            Err(error) => Err(AppError::Unauthenticated(explain(error.kind()))),
        }
    }
}

fn explain(kind: &ErrorKind) -> String {
    let reason = match kind {
        ErrorKind::ExpiredSignature => "it has expired".to_string(),
        ErrorKind::ImmatureSignature => "it is not valid yet (nbf is in the future)".to_string(),
        ErrorKind::InvalidSignature => "its signature does not match".to_string(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "it is signed with an algorithm this server does not accept".to_string()
        }
        ErrorKind::InvalidIssuer => {
            "its issuer (iss) is not the one this server trusts".to_string()
        }
        ErrorKind::InvalidAudience => "its audience (aud) is not this server".to_string(),
        ErrorKind::MissingRequiredClaim(claim) => format!("it has no '{claim}' claim"),
        _ => "it is not a well-formed JWT".to_string(),
    };
    format!("the bearer token was refused: {reason}")
}

/// Signs a token for local use with the HS256 secret, as `switchboard token dev` does.
pub fn sign_dev_token(
    secret: &str,
    claims: &Claims,
) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}
