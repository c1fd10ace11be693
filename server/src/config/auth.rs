//! Who may call: how people's JWTs are checked, and the key that seals stored secrets.

use std::time::Duration;

use super::{ConfigError, Settings, invalid, number};

#[derive(Clone, Debug)]
pub struct JwtConfig {
    pub key: JwtKeyConfig,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway: Duration,
}

#[derive(Clone, Debug)]
pub enum JwtKeyConfig {
    /// HS256 with this secret, or with one generated into the data directory when `None`.
    Hs256 {
        secret: Option<String>,
    },
    Rs256 {
        public_key_pem: String,
    },
    Es256 {
        public_key_pem: String,
    },
}

/// `SWITCHBOARD_SECRETS_KEY`, when given: at least 32 characters.
pub(super) fn secrets_key(s: &Settings) -> Result<Option<String>, ConfigError> {
    match s.secrets_key.as_deref() {
        Some(key) if key.trim().chars().count() < 32 => Err(invalid(
            "SWITCHBOARD_SECRETS_KEY",
            "use at least 32 characters",
        )),
        key => Ok(key.map(|k| k.trim().to_string())),
    }
}

pub(super) fn jwt(s: &Settings) -> Result<JwtConfig, ConfigError> {
    let algorithm = s
        .jwt_algorithm
        .as_deref()
        .map(str::trim)
        .unwrap_or("HS256")
        .to_uppercase();
    let public_key = || -> Result<String, ConfigError> {
        let Some(raw) = s
            .jwt_public_key
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        else {
            return Err(invalid(
                "SWITCHBOARD_JWT_PUBLIC_KEY",
                format!("is required for {algorithm}: give the PEM text or a path to it"),
            ));
        };
        if raw.starts_with("-----BEGIN") {
            return Ok(raw.to_string());
        }
        std::fs::read_to_string(raw).map_err(|e| {
            invalid(
                "SWITCHBOARD_JWT_PUBLIC_KEY",
                format!("cannot read the file '{raw}': {e}"),
            )
        })
    };
    let key = match algorithm.as_str() {
        "HS256" => {
            let secret = s.jwt_secret.clone().filter(|v| !v.is_empty());
            if let Some(secret) = &secret
                && secret.len() < 32
            {
                return Err(invalid(
                    "SWITCHBOARD_JWT_SECRET",
                    format!("is {} characters long; use at least 32", secret.len()),
                ));
            }
            JwtKeyConfig::Hs256 { secret }
        }
        "RS256" => {
            let pem = public_key()?;
            jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
                invalid(
                    "SWITCHBOARD_JWT_PUBLIC_KEY",
                    format!("is not an RSA public key in PEM: {e}"),
                )
            })?;
            JwtKeyConfig::Rs256 {
                public_key_pem: pem,
            }
        }
        "ES256" => {
            let pem = public_key()?;
            jsonwebtoken::DecodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| {
                invalid(
                    "SWITCHBOARD_JWT_PUBLIC_KEY",
                    format!("is not an EC public key in PEM: {e}"),
                )
            })?;
            JwtKeyConfig::Es256 {
                public_key_pem: pem,
            }
        }
        other => {
            return Err(invalid(
                "SWITCHBOARD_JWT_ALGORITHM",
                format!("'{other}' is not one of HS256, RS256, ES256"),
            ));
        }
    };
    let leeway = number(
        s.jwt_leeway_seconds.as_deref(),
        "SWITCHBOARD_JWT_LEEWAY_SECONDS",
        30u64,
        0,
    )?;
    if leeway > 300 {
        return Err(invalid(
            "SWITCHBOARD_JWT_LEEWAY_SECONDS",
            "must be at most 300 seconds",
        ));
    }
    let non_empty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    Ok(JwtConfig {
        key,
        issuer: non_empty(&s.jwt_issuer),
        audience: non_empty(&s.jwt_audience),
        leeway: Duration::from_secs(leeway),
    })
}
