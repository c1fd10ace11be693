//! What happened to a ticket: its comments and the history entries read from the
//! event log.

use async_graphql::{Context, ID, Object, SimpleObject};
use entity::{comment, event};
use serde_json::Value;

use crate::graphql::instant::Instant;
use crate::{
    error::AppResult,
    graphql::{ids, loaders, users::User},
};

use super::load;

pub struct Comment(pub comment::Model);

/// A comment on a ticket: public for the requester, or an internal note for agents.
#[Object]
impl Comment {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Comment", self.0.id)
    }
    /// The text of the comment.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// An internal work note: agents only.
    async fn internal(&self) -> bool {
        self.0.internal
    }
    /// The author's name as it was when they wrote it.
    async fn author_name(&self) -> &str {
        &self.0.author_name
    }
    /// Who wrote it; null if the person is no longer known.
    async fn author(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        load(ctx.data_unchecked::<loaders::Users>(), self.0.author_id)
            .await
            .map(|u| u.map(User))
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// The ticket a merge moved it from, when it came from a merged duplicate.
    async fn moved_from_ticket_id(&self) -> Option<ID> {
        self.0
            .moved_from_ticket_id
            .map(|id| ids::encode("Ticket", id))
    }
    /// The files that came with it.
    async fn attachments(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::attachments::Attachment>> {
        Box::pin(crate::graphql::attachments::of_comment(
            ctx,
            self.0.ticket_id,
            self.0.id,
        ))
        .await
    }
}

/// One field's change.
#[derive(SimpleObject)]
pub struct FieldChange {
    /// The field that changed, e.g. "status".
    pub field: String,
    /// The value before, as JSON text; null when there was none.
    pub old_value: Option<String>,
    /// Its value after, as text; null when it was cleared.
    pub new_value: Option<String>,
}

impl FieldChange {
    /// The `changes` an event's payload lists.
    pub fn list(payload: &Value) -> Vec<FieldChange> {
        payload["changes"]
            .as_array()
            .map(|changes| {
                changes
                    .iter()
                    .map(|c| FieldChange {
                        field: c["field"].as_str().unwrap_or_default().to_string(),
                        old_value: as_text(&c["old"]),
                        new_value: as_text(&c["new"]),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Something that happened to a ticket, from the event log.
pub struct HistoryEntry(pub event::Model);

/// One thing that happened to a ticket, change, problem or configuration item, from the
/// event log.
#[Object]
impl HistoryEntry {
    /// What happened: `ticket.created`, `ticket.updated`, `ticket.status_changed`,
    /// `ticket.reopened`, `ticket.assigned`, `ticket.routed`, `ticket.escalated`, `ticket.commented`.
    async fn action(&self) -> &str {
        &self.0.topic
    }
    /// When it happened.
    async fn at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// Who did it: a person, an API token, or Switchboard itself.
    async fn actor_name(&self) -> &str {
        &self.0.actor_name
    }
    /// Who did it; null for the system or a person no longer known.
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        load(ctx.data_unchecked::<loaders::Users>(), self.0.actor_id)
            .await
            .map(|u| u.map(User))
    }
    /// The fields it changed, before and after.
    async fn changes(&self) -> Vec<FieldChange> {
        self.0.payload["changes"]
            .as_array()
            .map(|changes| {
                changes
                    .iter()
                    .map(|c| FieldChange {
                        field: c["field"].as_str().unwrap_or_default().to_string(),
                        old_value: as_text(&c["old"]),
                        new_value: as_text(&c["new"]),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    /// The rest of what the event carries (the routing rule, the escalation, the comment id), as JSON.
    async fn details(&self) -> async_graphql::Json<Value> {
        let mut details = self.0.payload.clone();
        if let Some(object) = details.as_object_mut() {
            object.remove("changes");
            object.remove("ticket");
        }
        async_graphql::Json(details)
    }
}
