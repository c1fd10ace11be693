//! GraphQL documents known before they arrive: parsed once, sent by their hash, or
//! listed in advance.
//!
//! - **Parsed once**: a bounded cache of parsed documents by their text. A dashboard
//!   sends the same query every few seconds; the parser need not read it each time.
//! - **Automatic persisted queries**, as Apollo Client and urql speak them: a request
//!   may carry `extensions.persistedQuery = {version: 1, sha256Hash}` and no query.
//!   The desk answers `PERSISTED_QUERY_NOT_FOUND` for a hash it does not know; the
//!   client then sends the query with its hash once, which registers it (after checking
//!   the hash), and the hash alone from then on.
//! - **Trusted documents**: a deployment that runs only its own frontends lists their
//!   operations (`SWITCHBOARD_TRUSTED_DOCUMENTS`, a JSON object of SHA-256 hash to
//!   document, the manifest GraphQL Code Generator's and Relay's persisted-document
//!   outputs write). Then only those run, by hash or by their text; anything else is
//!   refused with `DOCUMENT_NOT_TRUSTED`, and nothing new is registered.

use std::{collections::HashMap, num::NonZeroUsize, sync::Mutex};

use async_graphql::{Request, ServerError, parser::types::ExecutableDocument};
use lru::LruCache;

use crate::error::edge_error;

/// Parsed documents kept: a desk's frontends send a few hundred distinct operations.
const PARSED: usize = 1_000;
/// Persisted queries kept by hash.
const PERSISTED: usize = 5_000;
/// Longer documents are parsed each time rather than kept.
const LONGEST_KEPT: usize = 64 * 1024;

pub struct Documents {
    parsed: Mutex<LruCache<String, ExecutableDocument>>,
    persisted: Mutex<LruCache<String, String>>,
    trusted: Option<HashMap<String, String>>,
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documents")
            .field("trusted", &self.trusted.as_ref().map(HashMap::len))
            .finish_non_exhaustive()
    }
}

pub use crate::config::trusted::hash;

impl Documents {
    /// The cache, with the trusted documents if the deployment lists them.
    pub fn new(trusted: Option<HashMap<String, String>>) -> Documents {
        Documents {
            parsed: Mutex::new(LruCache::new(NonZeroUsize::new(PARSED).expect("not zero"))),
            persisted: Mutex::new(LruCache::new(
                NonZeroUsize::new(PERSISTED).expect("not zero"),
            )),
            trusted: trusted.map(|listed| {
                listed
                    .into_iter()
                    .map(|(hash, query)| (hash.to_ascii_lowercase(), query))
                    .collect()
            }),
        }
    }

    /// Puts the query a persisted hash names into the request, registers a new one, and
    /// refuses what the trusted documents do not list.
    ///
    /// # Errors
    /// `PERSISTED_QUERY_NOT_FOUND` for a hash not known (the client then sends the
    /// query); `BAD_REQUEST` for a hash that is not the query's; `DOCUMENT_NOT_TRUSTED`
    /// for a document the allow-list does not hold.
    pub fn resolve(&self, request: &mut Request, request_id: &str) -> Result<(), ServerError> {
        let persisted = request
            .extensions
            .get("persistedQuery")
            .and_then(|p| serde_json::to_value(p).ok())
            .and_then(|p| {
                p.get("sha256Hash")
                    .and_then(|h| h.as_str())
                    .map(str::to_ascii_lowercase)
            });
        match persisted {
            Some(given) if request.query.trim().is_empty() => {
                let known = match &self.trusted {
                    Some(trusted) => trusted.get(&given).cloned(),
                    None => self
                        .persisted
                        .lock()
                        .expect("not poisoned")
                        .get(&given)
                        .cloned(),
                };
                match known {
                    Some(query) => {
                        request.query = query;
                        Ok(())
                    }
                    None if self.trusted.is_some() => Err(not_trusted(request_id)),
                    None => Err(edge_error(
                        "PersistedQueryNotFound: the desk does not know this hash; send the query with it once, and the hash alone will do after",
                        "PERSISTED_QUERY_NOT_FOUND",
                        request_id,
                    )),
                }
            }
            Some(given) => {
                if given != hash(&request.query) {
                    return Err(edge_error(
                        "The persistedQuery sha256Hash is not the SHA-256 of the query sent with it: hash the query's exact text",
                        "BAD_REQUEST",
                        request_id,
                    ));
                }
                match &self.trusted {
                    Some(trusted) if !trusted.contains_key(&given) => Err(not_trusted(request_id)),
                    Some(_) => Ok(()),
                    None => {
                        if request.query.len() <= LONGEST_KEPT {
                            self.persisted
                                .lock()
                                .expect("not poisoned")
                                .put(given, request.query.clone());
                        }
                        Ok(())
                    }
                }
            }
            None => match &self.trusted {
                Some(trusted) if !trusted.contains_key(&hash(&request.query)) => {
                    Err(not_trusted(request_id))
                }
                _ => Ok(()),
            },
        }
    }

    /// Gives the request the document parsed for the same text before, if there was one.
    pub fn reuse(&self, request: &mut Request) {
        if let Some(doc) = self
            .parsed
            .lock()
            .expect("not poisoned")
            .get(&request.query)
        {
            request.set_parsed_query(doc.clone());
        }
    }

    /// Keeps a document that parsed (and passed the desk's own checks) for next time.
    pub fn remember(&self, request: &mut Request) {
        if request.query.len() > LONGEST_KEPT {
            return;
        }
        let mut parsed = self.parsed.lock().expect("not poisoned");
        if parsed.contains(&request.query) {
            return;
        }
        let text = request.query.clone();
        if let Ok(doc) = request.parsed_query() {
            parsed.put(text, doc.clone());
        }
    }
}

fn not_trusted(request_id: &str) -> ServerError {
    edge_error(
        "This desk runs only the operations its frontends listed in advance (trusted documents); this one is not among them",
        "DOCUMENT_NOT_TRUSTED",
        request_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_desk_refuses_what_it_did_not_list() {
        let listed = "{ viewer { id } }";
        let documents = Documents::new(Some(
            [(hash(listed), listed.to_string())].into_iter().collect(),
        ));
        let mut known = Request::new(listed);
        assert!(documents.resolve(&mut known, "r").is_ok());
        let mut other = Request::new("{ viewer { name } }");
        assert!(documents.resolve(&mut other, "r").is_err());
    }
}
