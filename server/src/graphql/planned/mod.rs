//! The planned path: the hot lists answered from a plan made once per document, rows
//! written straight into the response.
//!
//! The ordinary path resolves a page field by field: a future and a map per ticket and
//! per field, whole rows decoded, a tree of values, then the tree serialized. A
//! dashboard asks the same query every few seconds, and what it asks of a page of tickets
//! is the same every time: which columns of which tables, and which of them to write
//! under which keys. So the first time a document runs, the ordinary way, a plan is
//! made of it (`plan`), if the plan understands all of it; from then on, the plan reads
//! the selected columns in one statement whose condition is the one visibility rule's
//! (`domain::tickets::partial`) and writes the rows as JSON (`answer`, `write`), the
//! same bytes the ordinary path gives (`tests/tests/planned.rs` walks generated
//! selections through both and compares).
//!
//! A plan is used only for a document the ordinary path has run without an error: the
//! document is then known to be valid for the schema, which does not change while the
//! server runs. What depends on each request (its variables, the complexity they give,
//! the caller) is checked on each; anything that does not fit sends the request the
//! ordinary way, which answers it, errors and all, as it always has.

mod answer;
mod fields;
mod plan;
mod write;

use std::{num::NonZeroUsize, sync::Arc, sync::Mutex};

use async_graphql::Request;
use lru::LruCache;

use crate::{auth::Caller, state::AppState};

pub use answer::Fallback;
pub use plan::Plan;

/// Documents whose plan (or lack of one) is kept; as many as the parse cache keeps.
const KEPT: usize = 1_000;

/// What is known of a document and operation.
#[derive(Clone)]
enum Known {
    /// The planned path cannot answer it.
    Unplanned,
    /// Planned, not yet run cleanly the ordinary way.
    Unproven(Arc<Plan>),
    /// Planned, and the ordinary path ran it without an error.
    Proven(Arc<Plan>),
}

type Key = (String, Option<String>);

pub struct Plans {
    known: Mutex<LruCache<Key, Known>>,
    enabled: bool,
}

impl std::fmt::Debug for Plans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plans")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// A plan made for a request that has not yet run: kept as proven once it has run
/// without an error (`Plans::proven_by`).
pub struct Candidate(Option<(Key, Arc<Plan>)>);

impl Candidate {
    /// Nothing to prove: a request that is not planned.
    pub fn none() -> Candidate {
        Candidate(None)
    }
}

impl Plans {
    /// `enabled` false runs everything the ordinary way (`SWITCHBOARD_PLANNED_READS=off`),
    /// for comparing the two.
    pub fn new(enabled: bool) -> Plans {
        Plans {
            known: Mutex::new(LruCache::new(NonZeroUsize::new(KEPT).expect("not zero"))),
            enabled,
        }
    }

    fn key(request: &Request) -> Key {
        (request.query.clone(), request.operation_name.clone())
    }

    /// The proven plan for the request's document and operation, if there is one.
    pub fn proven(&self, request: &Request) -> Option<Arc<Plan>> {
        if !self.enabled {
            return None;
        }
        let key = Self::key(request);
        match self.known.lock().expect("not poisoned").get(&key) {
            Some(Known::Proven(plan)) => Some(plan.clone()),
            _ => None,
        }
    }

    /// Plans the request's document, the first time it is seen, for `proven_by` to keep
    /// once it has run cleanly.
    pub fn candidate(&self, request: &mut Request) -> Candidate {
        if !self.enabled {
            return Candidate(None);
        }
        let key = Self::key(request);
        let mut known = self.known.lock().expect("not poisoned");
        match known.get(&key) {
            Some(Known::Unproven(plan)) => return Candidate(Some((key, plan.clone()))),
            Some(_) => return Candidate(None),
            None => {}
        }
        let operation_name = request.operation_name.clone();
        let planned = request
            .parsed_query()
            .ok()
            .and_then(|doc| Plan::of(doc, operation_name.as_deref()))
            .map(Arc::new);
        match planned {
            Some(plan) => {
                known.put(key.clone(), Known::Unproven(plan.clone()));
                Candidate(Some((key, plan)))
            }
            None => {
                known.put(key, Known::Unplanned);
                Candidate(None)
            }
        }
    }

    /// Keeps the candidate's plan for the planned path: its document ran without error.
    pub fn proven_by(&self, candidate: Candidate) {
        if let Some((key, plan)) = candidate.0 {
            self.known
                .lock()
                .expect("not poisoned")
                .put(key, Known::Proven(plan));
        }
    }
}

/// The response to a request with a proven plan, or why it goes the ordinary way.
pub async fn answer(
    plan: &Plan,
    request: &Request,
    caller: &Caller,
    state: &AppState,
) -> Result<Vec<u8>, Fallback> {
    answer::answer(plan, &request.variables, caller, state).await
}
