//! The record of mail received, for admins.

use async_graphql::{Context, Enum, ID, Object};
use entity::mail_message;

use crate::{
    domain::mail::{messages, types::MessageState},
    error::AppResult,
    graphql::{
        caller, ids,
        instant::Instant,
        pagination::{self, Page, PageArgs},
        state,
    },
};

/// What became of a message received.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "MessageState")]
pub enum MailMessageState {
    /// Recorded, not yet processed; processed again if it comes again.
    Received,
    /// It opened a ticket.
    TicketCreated,
    /// It was a reply: a public comment on its ticket.
    Commented,
    /// An auto-reply, bounce or bulk mail: nothing was done.
    Ignored,
    /// It could not be processed; `reason` says why.
    SetAside,
}

/// One mail the desk received, and what became of it.
pub struct MailMessage(pub mail_message::Model);

/// One mail the desk received, and what became of it.
#[Object]
impl MailMessage {
    /// The globally unique id (Relay `Node`): pass it to `node(id:)` to fetch it again.
    pub async fn id(&self) -> ID {
        ids::encode("MailMessage", self.0.id)
    }
    /// Its `Message-ID` (or a digest of it when it had none): a message with the same one
    /// is not processed twice.
    async fn message_id(&self) -> &str {
        &self.0.message_id
    }
    /// `GATEWAY` (piped by the mail server) or `IMAP`.
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// The `From` address.
    async fn sender(&self) -> &str {
        &self.0.sender
    }
    /// The subject.
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// What became of it.
    async fn state(&self) -> AppResult<MailMessageState> {
        Ok(MessageState::stored(&self.0.state)?.into())
    }
    /// Why it was ignored or set aside.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// The ticket it opened or commented on.
    async fn ticket_id(&self) -> Option<ID> {
        self.0.ticket_id.map(|id| ids::encode("Ticket", id))
    }
    /// Its size in bytes.
    async fn size(&self) -> i32 {
        self.0.size
    }
    /// The message as received, for looking into one set aside.
    async fn raw(&self) -> &str {
        &self.0.raw
    }
    /// When it arrived.
    async fn received_at(&self) -> Instant {
        Instant(self.0.received_at)
    }
    /// When it was processed.
    async fn processed_at(&self) -> Option<Instant> {
        self.0.processed_at.map(Instant)
    }
}

/// A message by id, for `node(id:)`.
pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<MailMessage> {
    Ok(MailMessage(
        messages::find(&state(ctx).db, caller(ctx), id).await?,
    ))
}

#[derive(Default)]
pub struct MailQuery;

#[Object]
impl MailQuery {
    /// Mail received, newest first, in one state or all: look here for messages set
    /// aside and why. Admins only.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn mail_messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "state", desc = "Only messages in this state.")] only: Option<
            MailMessageState,
        >,
        #[graphql(
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(
            desc = "How many items to take from the end of the list (before `before`), 0 to 100. Pass `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<MailMessage>> {
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let rows = messages::list(&state(ctx).db, caller(ctx), only.map(Into::into), &page).await?;
        Ok(pagination::connection(
            &page,
            rows,
            |row| row.id,
            MailMessage,
        ))
    }
}
