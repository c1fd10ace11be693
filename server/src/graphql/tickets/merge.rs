//! Merging duplicates and undoing it: thin resolvers over `tickets::commands::merge`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::Ticket;
use crate::{
    domain::tickets::commands,
    error::AppResult,
    graphql::{
        command::{acting, versioned},
        ids, loaders, ticket_scope,
    },
};

/// What `mergeTickets` takes.
#[derive(InputObject)]
pub struct MergeTicketsInput {
    /// The duplicate: it closes as merged.
    pub duplicate_id: ID,
    /// The duplicate's version, as read.
    pub version: i32,
    /// The ticket that survives: the duplicate's comments, files, followers and
    /// requester move to it.
    pub survivor_id: ID,
}

/// What `mergeTickets` returns.
#[derive(SimpleObject)]
pub struct MergeTicketsPayload {
    /// The surviving ticket, with what moved to it.
    pub survivor: Ticket,
    /// The duplicate, closed as merged.
    pub duplicate: Ticket,
    /// How many comments moved.
    pub moved_comments: i32,
    /// How many attachments moved.
    pub moved_attachments: i32,
}

/// What `unmergeTicket` takes.
#[derive(InputObject)]
pub struct UnmergeTicketInput {
    /// The merged duplicate.
    pub id: ID,
    /// Its version, as read.
    pub version: i32,
}

/// What `unmergeTicket` returns.
#[derive(SimpleObject)]
pub struct UnmergeTicketPayload {
    /// The duplicate, with its own comments and files back and the status it had.
    pub ticket: Ticket,
    /// The ticket it had been merged into.
    pub survivor: Ticket,
}

#[derive(Default)]
pub struct TicketMergeMutation;

#[Object]
impl TicketMergeMutation {
    /// Merges a duplicate into the ticket that survives it: comments, attachments,
    /// followers and requester move (each remembers where it came from), the duplicate
    /// closes as merged, its number finds the survivor and replies to it thread there.
    /// Nothing is sent for what moved; the duplicate's requester is told once. The desk
    /// only, on two open tickets of one kind.
    async fn merge_tickets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: MergeTicketsInput,
    ) -> AppResult<MergeTicketsPayload> {
        let duplicate = versioned(&input.duplicate_id, input.version, "Ticket")?;
        let survivor = ids::decode_as(&input.survivor_id, "Ticket", "survivorId")?;
        let on = acting(ctx);
        let (survivor, duplicate, moved) = commands::merge(
            on.db,
            on.caller,
            on.now,
            duplicate.id,
            duplicate.version,
            survivor,
        )
        .await?;
        Ok(MergeTicketsPayload {
            survivor: Ticket(survivor),
            duplicate: Ticket(duplicate),
            moved_comments: i32::try_from(moved.comments).unwrap_or(i32::MAX),
            moved_attachments: i32::try_from(moved.attachments).unwrap_or(i32::MAX),
        })
    }

    /// Undoes a merge: the duplicate's own comments and files go back, the followers the
    /// merge made go, and it takes the status it had. Managers.
    async fn unmerge_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: UnmergeTicketInput,
    ) -> AppResult<UnmergeTicketPayload> {
        let target = versioned(&input.id, input.version, "Ticket")?;
        let on = acting(ctx);
        let (ticket, survivor) =
            commands::unmerge(on.db, on.caller, on.now, target.id, target.version).await?;
        Ok(UnmergeTicketPayload {
            ticket: Ticket(ticket),
            survivor: Ticket(survivor),
        })
    }
}

/// The ticket a merged one was merged into, if the caller may see it.
pub async fn merged_into(ctx: &Context<'_>, id: Option<i64>) -> AppResult<Option<Ticket>> {
    let Some(id) = id else { return Ok(None) };
    let scope = ticket_scope(ctx).await?;
    Ok(ctx
        .data_unchecked::<loaders::Tickets>()
        .load_one(id)
        .await?
        .filter(|t| scope.allows(t))
        .map(Ticket))
}
