//! Download links a browser can use as they are (`<img src>`, a plain link): the
//! attachment's (or a service report's) address with an expiry and an HMAC over both, so that a frontend need not
//! fetch the bytes with its token and pass them on. The link is made only for a caller
//! who may see the file, and lives for a quarter of an hour at most; it is the same for
//! every request within one quarter, so that browsers can cache what it names.
//!
//! The key is in the database (`signing_keys`), made by whichever replica starts first,
//! so that a link made by one replica opens on every other.

use chrono::{DateTime, Duration, Utc};
use entity::signing_key;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::{ActiveValue::Set, EntityTrait, sea_query::OnConflict};
use sha2::Sha256;

use crate::{db::Db, error::AppResult};

const PURPOSE: &str = "attachment-links";
/// Links expire at the end of the quarter after the one they were made in.
const QUARTER_SECONDS: i64 = 15 * 60;

#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(…)")
    }
}

impl Signer {
    /// The shared key, made now if no replica made it before.
    ///
    /// # Errors
    /// INTERNAL when the database fails.
    pub async fn load(db: &Db) -> AppResult<Signer> {
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        signing_key::Entity::insert(signing_key::ActiveModel {
            purpose: Set(PURPOSE.into()),
            secret: Set(hex::encode(fresh)),
        })
        .on_conflict(
            OnConflict::column(signing_key::Column::Purpose)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db.conn())
        .await?;
        let stored = signing_key::Entity::find_by_id(PURPOSE.to_string())
            .one(db.conn())
            .await?
            .ok_or_else(|| crate::error::AppError::Internal("no link signing key".into()))?;
        Ok(Signer {
            key: hex::decode(stored.secret).unwrap_or_else(|_| fresh.to_vec()),
        })
    }

    /// The expiry and signature for a link to attachment `id` made at `now`.
    pub fn sign(&self, id: i64, now: DateTime<Utc>) -> (i64, String) {
        self.sign_for(&format!("attachment:{id}"), now)
    }

    /// Whether a link's signature is this key's for `id` and `expires`, and has not
    /// expired at `now`.
    pub fn verify(&self, id: i64, expires: i64, signature: &str, now: DateTime<Utc>) -> bool {
        self.verify_for(&format!("attachment:{id}"), expires, signature, now)
    }

    /// The expiry and signature for a link to whatever `what` names (`kind:details`,
    /// the kind keeping one kind of link from opening another), made at `now`.
    pub fn sign_for(&self, what: &str, now: DateTime<Utc>) -> (i64, String) {
        let expires = (now.timestamp() / QUARTER_SECONDS + 2) * QUARTER_SECONDS;
        (
            expires,
            hex::encode(self.mac(what, expires).finalize().into_bytes()),
        )
    }

    /// Whether a link's signature is this key's for `what` and `expires`, and has not
    /// expired at `now`.
    pub fn verify_for(
        &self,
        what: &str,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let Ok(given) = hex::decode(signature) else {
            return false;
        };
        self.mac(what, expires).verify_slice(&given).is_ok()
            && now < DateTime::<Utc>::from_timestamp(expires, 0).unwrap_or_default()
            && expires - now.timestamp() <= 2 * QUARTER_SECONDS + Duration::minutes(1).num_seconds()
    }

    fn mac(&self, what: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(format!("{what}:{expires}").as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_until_it_expires_and_only_for_its_file() {
        let signer = Signer { key: vec![7; 32] };
        let now = Utc::now();
        let (expires, signature) = signer.sign(42, now);
        assert!(signer.verify(42, expires, &signature, now));
        assert!(!signer.verify(43, expires, &signature, now), "another file");
        assert!(
            !signer.verify(42, expires + 900, &signature, now),
            "a later expiry"
        );
        let later = DateTime::<Utc>::from_timestamp(expires, 0).unwrap();
        assert!(!signer.verify(42, expires, &signature, later), "expired");
        let other = Signer { key: vec![8; 32] };
        assert!(!other.verify(42, expires, &signature, now), "another key");
        assert!(!signer.verify(42, expires, "zz", now), "not hex");
    }
}
