//! Turns the credential a request presents into a `Caller`. It sits above `domain`
//! (it looks up API tokens and records people), while `auth` below it only names who
//! calls and what they may do.

use std::{collections::HashMap, sync::Mutex};

use crate::{
    auth::{Caller, Person, Role, api_token::looks_like_api_token, jwt::JwtVerifier},
    clock::SharedClock,
    db::Db,
    domain::{api_tokens, users},
    error::{AppError, AppResult},
};

pub struct Authenticator {
    db: Db,
    jwt: JwtVerifier,
    /// API tokens expire by the server's clock (JWTs by their own `exp`).
    clock: SharedClock,
    /// The user id for each identity already written, so that a person's user row is
    /// written when their claims change, not on every request.
    known: Mutex<HashMap<users::Identity, i64>>,
}

impl Authenticator {
    pub fn new(db: Db, jwt: JwtVerifier, clock: SharedClock) -> Authenticator {
        Authenticator {
            db,
            jwt,
            clock,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// `authorization` is the `Authorization` header (or the WebSocket init payload's
    /// `authorization` field). None means anonymous; anything malformed is refused.
    pub async fn authenticate(&self, authorization: Option<&str>) -> AppResult<Caller> {
        let Some(header) = authorization.map(str::trim).filter(|h| !h.is_empty()) else {
            return Ok(Caller::Anonymous);
        };
        let credential = match header.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => {
                return Err(AppError::Unauthenticated(
                    "the Authorization header must be 'Bearer <token>'".into(),
                ));
            }
        };
        if looks_like_api_token(credential) {
            return Ok(Caller::Partner(
                api_tokens::verify(&self.db, credential, self.clock.now()).await?,
            ));
        }
        let claims = self.jwt.verify(credential)?;
        let mut roles: Vec<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            roles.push(Role::Requester);
        }
        let identity = users::Identity {
            subject: claims.sub.clone(),
            name: claims
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| claims.sub.clone()),
            email: claims.email.clone(),
            roles,
            groups: claims.groups.clone(),
        };
        let user_id = self.user_id(&identity).await?;
        Ok(Caller::Person(Person {
            user_id,
            subject: identity.subject,
            name: identity.name,
            email: identity.email,
            roles: identity.roles,
            groups: identity.groups,
            expires_at: claims.expires_at(),
            by_rule: None,
        }))
    }

    async fn user_id(&self, identity: &users::Identity) -> AppResult<i64> {
        if let Some(&id) = self
            .known
            .lock()
            .expect("user cache poisoned")
            .get(identity)
        {
            return Ok(id);
        }
        let id = users::upsert(&self.db, identity).await?;
        let mut known = self.known.lock().expect("user cache poisoned");
        // A person whose claims changed leaves an old entry behind; drop those now and then.
        if known.len() > 100_000 {
            known.clear();
        }
        known.insert(identity.clone(), id);
        Ok(id)
    }
}
