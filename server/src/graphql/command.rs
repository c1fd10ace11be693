//! What every mutation does around its domain command, written once: who acts and when
//! (`Acting`), and which versioned record it names (`Versioned`). A resolver is then its
//! input's decoding, one command, and its payload (each area's payload converts from
//! the row it returns).

use async_graphql::{Context, ID};
use chrono::{DateTime, Utc};

use crate::{
    auth::Caller,
    db::Db,
    domain::attachments::Files,
    error::AppResult,
    graphql::{caller, ids, now, state},
};

/// The database, the caller and the instant a domain command takes first.
pub struct Acting<'a> {
    pub db: &'a Db,
    /// Where attachments are kept, for the commands that take files.
    pub files: &'a Files,
    pub caller: &'a Caller,
    pub now: DateTime<Utc>,
}

/// Who acts on this request, and when (the injected clock's now).
pub fn acting<'a>(ctx: &Context<'a>) -> Acting<'a> {
    Acting {
        db: &state(ctx).db,
        files: &state(ctx).files,
        caller: caller(ctx),
        now: now(ctx),
    }
}

/// The record a mutation changes: its row id, from a global id that must name a
/// `type_name`, and the `version` the client read (a stale one is CONFLICT).
#[derive(Clone, Copy, Debug)]
pub struct Versioned {
    pub id: i64,
    pub version: i32,
}

/// BAD_USER_INPUT naming `id` when it is empty or names another type.
pub fn versioned(id: &ID, version: i32, type_name: &str) -> AppResult<Versioned> {
    Ok(Versioned {
        id: ids::decode_as(id, type_name, "id")?,
        version,
    })
}
