//! Links between tickets: linking, unlinking, and a ticket's links as its caller may
//! see them.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{ticket, ticket_link};

use super::Ticket;
use crate::{
    domain::tickets::links::{self, LinkKind},
    error::AppResult,
    graphql::{command::acting, ids, instant::Instant, loaders, ticket_scope},
};

/// How a ticket stands to the other when they are linked.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::tickets::links::LinkKind")]
pub enum TicketLinkKind {
    /// The ticket is a child of the other: it resolves with it.
    ChildOf,
    /// The ticket was caused by the other (a change-caused incident, say).
    CausedBy,
    /// The ticket reports the same as the other.
    DuplicateOf,
    /// The tickets are related, either way.
    RelatedTo,
}

/// What the other ticket of a link is to the ticket it is read from.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::tickets::links::LinkRole")]
pub enum TicketLinkRole {
    /// Its parent: this ticket resolves with it.
    Parent,
    /// Its child: resolves with this ticket.
    Child,
    /// What caused this ticket.
    CausedBy,
    /// What this ticket caused.
    Causes,
    /// The original this ticket duplicates.
    DuplicateOf,
    /// A duplicate of this ticket.
    DuplicatedBy,
    /// Related.
    Related,
}

/// A link to another ticket, read from one end.
pub struct TicketLink {
    link: ticket_link::Model,
    /// Whether it is read from its source (the child, the one caused, the duplicate).
    from_source: bool,
    other: ticket::Model,
}

/// A link to another ticket, read from one end.
#[Object]
impl TicketLink {
    /// The link's id, for `unlinkTickets`.
    async fn id(&self) -> ID {
        ids::encode("TicketLink", self.link.id)
    }
    /// The link as stored, from its source to its target.
    async fn kind(&self) -> AppResult<TicketLinkKind> {
        Ok(LinkKind::stored(&self.link.kind)?.into())
    }
    /// What the other ticket is to this one.
    async fn role(&self) -> AppResult<TicketLinkRole> {
        Ok(LinkKind::stored(&self.link.kind)?
            .role(self.from_source)
            .into())
    }
    /// The other ticket.
    async fn ticket(&self) -> Ticket {
        Ticket(self.other.clone())
    }
    /// Who linked them.
    async fn linked_by(&self) -> &str {
        &self.link.created_by
    }
    /// When.
    async fn linked_at(&self) -> Instant {
        Instant(self.link.created_at)
    }
}

/// A ticket's links whose other end the caller may see, batched across a page: the
/// links in one query, their other ends in another, each shown only if the caller's
/// scope allows it (the one rule's row check).
pub async fn links_of(ctx: &Context<'_>, ticket_id: i64) -> AppResult<Vec<TicketLink>> {
    let scope = ticket_scope(ctx).await?;
    let rows = loaders::children_of::<loaders::LinksByTicket, _>(ctx, ticket_id).await?;
    let other = |link: &ticket_link::Model| {
        if link.source_id == ticket_id {
            link.target_id
        } else {
            link.source_id
        }
    };
    let ends = ctx
        .data_unchecked::<loaders::Tickets>()
        .load_many(rows.iter().map(other))
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|link| {
            let end = ends.get(&other(&link)).filter(|t| scope.allows(t))?.clone();
            Some(TicketLink {
                from_source: link.source_id == ticket_id,
                link,
                other: end,
            })
        })
        .collect())
}

/// What `linkTickets` takes.
#[derive(InputObject)]
pub struct LinkTicketsInput {
    /// The ticket that is the child, the one caused, the duplicate.
    pub ticket_id: ID,
    /// The parent, the cause, the original, or the related ticket.
    pub other_ticket_id: ID,
    /// How the first stands to the second.
    pub kind: TicketLinkKind,
}

/// What `unlinkTickets` takes.
#[derive(InputObject)]
pub struct UnlinkTicketsInput {
    /// The id of the link.
    pub id: ID,
}

/// What linking returns: the link, read from the first ticket.
#[derive(SimpleObject)]
pub struct LinkTicketsPayload {
    /// The link, from `ticketId`'s side.
    pub link: TicketLink,
}

/// What unlinking returns.
#[derive(SimpleObject)]
pub struct UnlinkTicketsPayload {
    /// The id of the link removed.
    pub removed_id: ID,
}

#[derive(Default)]
pub struct TicketLinkMutation;

#[Object]
impl TicketLinkMutation {
    /// Links two tickets the caller may see. A ticket has one parent at most, and
    /// parents never go round; a child resolves with its parent. The desk only.
    async fn link_tickets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: LinkTicketsInput,
    ) -> AppResult<LinkTicketsPayload> {
        let ticket = ids::decode_as(&input.ticket_id, "Ticket", "ticketId")?;
        let other = ids::decode_as(&input.other_ticket_id, "Ticket", "otherTicketId")?;
        let on = acting(ctx);
        let link = links::link(on.db, on.caller, on.now, ticket, other, input.kind.into()).await?;
        let other = crate::domain::tickets::queries::by_id(
            on.db.conn(),
            ticket_scope(ctx).await?,
            link.target_id,
        )
        .await?;
        Ok(LinkTicketsPayload {
            link: TicketLink {
                link,
                from_source: true,
                other,
            },
        })
    }

    /// Removes a link between two tickets the caller may see. The desk only.
    async fn unlink_tickets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: UnlinkTicketsInput,
    ) -> AppResult<UnlinkTicketsPayload> {
        let id = ids::decode_as(&input.id, "TicketLink", "id")?;
        let on = acting(ctx);
        let link = links::unlink(on.db, on.caller, on.now, id).await?;
        Ok(UnlinkTicketsPayload {
            removed_id: ids::encode("TicketLink", link.id),
        })
    }
}
