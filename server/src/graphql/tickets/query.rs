//! Reading tickets: one, a page, the counts, and a ticket reached from elsewhere.

use async_graphql::{Context, Object};

use crate::{
    auth::Caller,
    domain::tickets::queries::{self, TicketFilter},
    error::{AppError, AppResult},
    graphql::{
        caller,
        pagination::{Page, PageArgs},
        state, ticket_scope,
    },
};

use super::{Ticket, TicketCounts, TicketFilterInput, TicketOrder, TicketStatus, ticket_page};

#[derive(Default)]
pub struct TicketQuery;

// A filter, an order and Relay's four paging arguments make eight with self and ctx.
#[allow(clippy::too_many_arguments)]
#[Object]
impl TicketQuery {
    /// Tickets the caller may see, filtered and sorted, a page at a time.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn tickets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which tickets; all the caller may see when left out.")] filter: Option<
            TicketFilterInput,
        >,
        #[graphql(desc = "Newest first unless given.")] order_by: Option<TicketOrder>,
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
    ) -> AppResult<Page<Ticket>> {
        let filter = filter.unwrap_or_default().into_domain()?;
        ticket_page(
            ctx,
            filter,
            order_by,
            PageArgs::new(first, after, last, before),
        )
        .await
    }

    /// The caller's own requests.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn my_tickets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only tickets in these statuses; all when left out.")] status: Option<
            Vec<TicketStatus>,
        >,
        #[graphql(desc = "Newest first unless given.")] order_by: Option<TicketOrder>,
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
    ) -> AppResult<Page<Ticket>> {
        let filter = mine(caller(ctx), status)?;
        ticket_page(
            ctx,
            filter,
            order_by,
            PageArgs::new(first, after, last, before),
        )
        .await
    }

    /// A ticket by its number, e.g. INC0001234.
    async fn ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ticket number, e.g. INC0001234.")] number: String,
    ) -> AppResult<Ticket> {
        let scope = ticket_scope(ctx).await?;
        queries::by_number(state(ctx).db.conn(), scope, &number)
            .await
            .map(Ticket)
    }

    /// How many tickets the filter selects, by status and by priority.
    async fn ticket_counts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which tickets to count; all the caller may see when left out.")]
        filter: Option<TicketFilterInput>,
    ) -> AppResult<TicketCounts> {
        let scope = ticket_scope(ctx).await?;
        let filter = filter.unwrap_or_default().into_domain()?;
        let counts = queries::counts(state(ctx).db.conn(), scope, &filter).await?;
        TicketCounts::of(counts)
    }
}

/// What `myTickets` lists: the caller's own requests, in `status` (all when left out).
/// Only a person has requests of their own.
pub fn mine(caller: &Caller, status: Option<Vec<TicketStatus>>) -> AppResult<TicketFilter> {
    Ok(TicketFilter {
        requester_ids: vec![caller.person()?.user_id],
        statuses: status
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect(),
        ..Default::default()
    })
}

/// The ticket, if the caller may see it now; None when it is hidden from them or gone.
/// For fields that reach a ticket from elsewhere (an event, a breach, an order).
pub async fn visible(ctx: &Context<'_>, id: i64) -> AppResult<Option<Ticket>> {
    let scope = ticket_scope(ctx).await?;
    match queries::by_id(state(ctx).db.conn(), scope, id).await {
        Ok(row) => Ok(Some(Ticket(row))),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<Ticket> {
    let scope = ticket_scope(ctx).await?;
    queries::by_id(state(ctx).db.conn(), scope, id)
        .await
        .map(Ticket)
}
