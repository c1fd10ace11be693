//! Knowledge: articles written, reviewed and published, every published version kept;
//! search ranked by relevance over what readers may see; suggestions for a ticket from
//! its words; "was this helpful" counts.
//!
//! The article row is the working copy that authors edit. Readers see the latest
//! published version (`article_versions`), so a revision under review never shows
//! half-done.
//!
//! Who reads what (`Reader`) and the lifecycle are here; writing articles in
//! `authoring`, publishing and the version history in `publishing`, links to incidents
//! and problems in `links`, lists and feedback in `reading`, and ranked search in
//! `search`.

pub mod types;

mod authoring;
mod links;
mod publishing;
mod reading;
mod search;

use chrono::{DateTime, Utc};
use entity::article;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::json;

use crate::domain::events::Topic;
use crate::domain::knowledge::types::{
    ArticleStatus::{self, *},
    Visibility,
};
use crate::domain::versioned;
use crate::domain::{
    events::{self, Actor, NewEvent},
    workflow::Machine,
};
use crate::{
    auth::{Caller, Role, Scope},
    error::{AppError, AppResult},
};

pub use authoring::{ArticleFields, draft_for_known_error, save};
pub use links::{articles_of_problem, link, links};
pub use publishing::{published, transition, versions};
pub use reading::{list, rate};
pub use search::{Document, rank, search, terms};

/// The article's table of moves.
pub const LIFECYCLE: Machine<ArticleStatus> = Machine {
    subject: "article",
    moves: &[
        (Draft, &[Review, Retired]),
        // Back to DRAFT is "needs work"; PUBLISHED makes a new version.
        (Review, &[Draft, Published]),
        // A revision goes to REVIEW while the published version stays readable.
        (Published, &[Review, Retired]),
        (Retired, &[Draft]),
    ],
};

/// Who reads knowledge, and what of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Agents and `tickets:read` tokens: internal articles too, and working copies.
    Desk,
    /// Requesters: published public articles only.
    Public,
}

impl Reader {
    /// The reader a caller is.
    ///
    /// # Errors
    /// UNAUTHENTICATED for an anonymous caller.
    pub fn of(caller: &Caller) -> AppResult<Reader> {
        match caller {
            Caller::Partner(partner) => {
                partner.require_scope(Scope::TicketsRead)?;
                Ok(Reader::Desk)
            }
            _ => {
                let person = caller.person()?;
                Ok(if person.has_role(Role::Agent) {
                    Reader::Desk
                } else {
                    Reader::Public
                })
            }
        }
    }

    /// Whether this reader may see the article at all.
    pub fn may_read(self, row: &article::Model) -> bool {
        match self {
            Reader::Desk => true,
            Reader::Public => {
                row.published_visibility.as_deref() == Some(Visibility::Public.as_str())
                    && row.status != Retired.as_str()
            }
        }
    }
}

fn require_author(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsWrite)
}

fn searchable(title: &str, body: &str, tags: &[String]) -> String {
    format!("{}\n{}\n{}", title, tags.join(" "), body).to_lowercase()
}

async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &article::Model,
    payload: serde_json::Value,
) -> AppResult<()> {
    let mut payload = payload;
    payload["number"] = json!(row.number);
    events::append(
        txn,
        actor,
        now,
        NewEvent {
            topic,
            entity_type: "article",
            entity_id: row.id,
            internal: row.visibility != Visibility::Public.as_str(),
            payload,
        },
    )
    .await?;
    Ok(())
}

/// Records a file attached to or removed from an article, in its history.
pub(crate) async fn record_attachment(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &article::Model,
    file: &entity::attachment::Model,
) -> AppResult<()> {
    record(
        txn,
        actor,
        now,
        topic,
        row,
        json!({ "attachmentId": file.id, "filename": file.filename, "size": file.size }),
    )
    .await
}

/// One article's working copy, whoever asks: readers go through `readable`.
///
/// # Errors
/// NOT_FOUND when there is no article with that id.
pub async fn find(conn: &impl ConnectionTrait, id: i64) -> AppResult<article::Model> {
    versioned::find::<article::Entity>(conn, id).await
}

/// The article if this caller may read it; NOT_FOUND otherwise, as if it were not there.
pub async fn readable(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<(article::Model, Reader)> {
    let reader = Reader::of(caller)?;
    let row = find(conn, id).await?;
    if !reader.may_read(&row) {
        return Err(AppError::NotFound(
            "there is no article with that id".into(),
        ));
    }
    Ok((row, reader))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::assert_table;

    #[test]
    fn the_article_lifecycle_allows_exactly_its_moves() {
        assert_table(
            &LIFECYCLE,
            &[
                (Draft, &[Review, Retired]),
                (Review, &[Draft, Published]),
                (Published, &[Review, Retired]),
                (Retired, &[Draft]),
            ],
        );
    }
}
