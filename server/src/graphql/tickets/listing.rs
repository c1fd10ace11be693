//! Lists of tickets: the filter and order a client sends, the counts beside a list,
//! and one page with its relations batched.

use std::collections::BTreeSet;

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, SimpleObject,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use entity::ticket;

use crate::graphql::instant::Instant;
use crate::{
    domain::input::maybe_instant,
    domain::tickets::{
        beside::{Beside, Listed},
        queries::{self, Sort, SortField, TicketFilter},
        types,
    },
    error::{AppError, AppResult},
    graphql::{
        ids,
        loaders::{self, Lasting},
        pagination::{self, Page, PageArgs},
        state, ticket_scope,
    },
};

use super::{Priority, Ticket, TicketKind, TicketStatus, stored};

/// What `ticketFilter` takes.
#[derive(InputObject, Default)]
pub struct TicketFilterInput {
    /// Only tickets in these statuses.
    pub status: Option<Vec<TicketStatus>>,
    /// Only tickets of these kinds.
    pub kind: Option<Vec<TicketKind>>,
    /// Only tickets of these priorities.
    pub priority: Option<Vec<Priority>>,
    /// The id of the group.
    pub group_id: Option<Vec<ID>>,
    /// The id of the assignee.
    pub assignee_id: Option<Vec<ID>>,
    /// Only tickets with (false) or without (true) an assignee.
    pub unassigned: Option<bool>,
    /// The id of the requester.
    pub requester_id: Option<Vec<ID>>,
    /// The id of the organization.
    pub organization_id: Option<Vec<ID>>,
    /// This category and the ones below it.
    pub category_id: Option<ID>,
    /// Only tickets created at or after this instant.
    pub created_after: Option<Instant>,
    /// Only tickets created before this instant.
    pub created_before: Option<Instant>,
    /// Only tickets changed at or after this instant.
    pub updated_after: Option<Instant>,
    /// Only tickets changed before this instant.
    pub updated_before: Option<Instant>,
    /// Words that must all appear in the title, description or comments (case-insensitive).
    pub text: Option<String>,
    /// Only tickets about any of these configuration items.
    pub configuration_item_id: Option<Vec<ID>>,
}

fn decode_all(values: Option<Vec<ID>>, type_name: &str, field: &str) -> AppResult<Vec<i64>> {
    values
        .unwrap_or_default()
        .iter()
        .map(|id| ids::decode_as(id, type_name, field))
        .collect()
}

impl TicketFilterInput {
    pub fn into_domain(self) -> AppResult<TicketFilter> {
        Ok(TicketFilter {
            statuses: self
                .status
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            kinds: self
                .kind
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            priorities: self
                .priority
                .unwrap_or_default()
                .into_iter()
                .map(Priority::number)
                .collect(),
            group_ids: decode_all(self.group_id, "Group", "groupId")?,
            assignee_ids: decode_all(self.assignee_id, "User", "assigneeId")?,
            unassigned: self.unassigned,
            requester_ids: decode_all(self.requester_id, "User", "requesterId")?,
            organization_ids: decode_all(self.organization_id, "Organization", "organizationId")?,
            configuration_item_ids: decode_all(
                self.configuration_item_id,
                "ConfigurationItem",
                "configurationItemId",
            )?,
            category_id: ids::decode_opt(self.category_id, "Category", "categoryId")?,
            created_after: maybe_instant("createdAfter", self.created_after)?,
            created_before: maybe_instant("createdBefore", self.created_before)?,
            updated_after: maybe_instant("updatedAfter", self.updated_after)?,
            updated_before: maybe_instant("updatedBefore", self.updated_before)?,
            text: self.text.filter(|t| !t.trim().is_empty()),
        })
    }
}

/// What a ticket list sorts by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketOrderField {
    /// When the ticket was created.
    #[default]
    Created,
    /// When it last changed.
    Updated,
    /// Its priority (ASC puts P1 first).
    Priority,
}

/// Which way a list runs.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Smallest or oldest first.
    Asc,
    /// Largest or newest first.
    #[default]
    Desc,
}

/// Newest first unless told otherwise. Priority ascending puts P1 first.
#[derive(InputObject, Default)]
pub struct TicketOrder {
    /// What to sort by; CREATED unless given.
    #[graphql(default)]
    pub field: TicketOrderField,
    /// Which way; DESC unless given.
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl TicketOrder {
    pub fn into_domain(self) -> Sort {
        Sort {
            field: match self.field {
                TicketOrderField::Created => SortField::Created,
                TicketOrderField::Updated => SortField::Updated,
                TicketOrderField::Priority => SortField::Priority,
            },
            descending: self.direction == OrderDirection::Desc,
        }
    }
}

/// How many tickets are in a status.
#[derive(SimpleObject)]
pub struct StatusCount {
    /// The status.
    pub status: TicketStatus,
    /// How many tickets.
    pub count: i64,
}

/// How many tickets have a priority.
#[derive(SimpleObject)]
pub struct PriorityCount {
    /// The priority.
    pub priority: Priority,
    /// How many tickets.
    pub count: i64,
}

/// Counts for a dashboard, over the tickets a filter selects.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct TicketCounts {
    /// How many by status.
    pub by_status: Vec<StatusCount>,
    /// How many by priority.
    pub by_priority: Vec<PriorityCount>,
}

impl TicketCounts {
    pub fn of(counts: queries::Counts) -> AppResult<TicketCounts> {
        Ok(TicketCounts {
            by_status: counts
                .by_status
                .into_iter()
                .map(|(status, count)| {
                    Ok(StatusCount {
                        status: stored(types::Status::parse(&status, "status"))?.into(),
                        count,
                    })
                })
                .collect::<AppResult<_>>()?,
            by_priority: counts
                .by_priority
                .into_iter()
                .map(|(priority, count)| PriorityCount {
                    priority: Priority::from_number(priority),
                    count,
                })
                .collect(),
        })
    }
}

#[ComplexObject]
impl TicketCounts {
    /// How many in all.
    async fn total(&self) -> i64 {
        self.by_status.iter().map(|c| c.count).sum()
    }
}

/// Whether the client selected `path` below the page's tickets, in `nodes` or in
/// `edges { node }`.
fn selected(ctx: &Context<'_>, path: &[&str]) -> bool {
    let look = ctx.look_ahead();
    let mut nodes = look.field("nodes");
    let mut edges = look.field("edges").field("node");
    for field in path {
        nodes = nodes.field(field);
        edges = edges.field(field);
    }
    nodes.exists() || edges.exists()
}

/// Which of the page's to-one relations the client selected: those come joined into
/// the page's own statement (see `domain::tickets::beside`).
fn beside(ctx: &Context<'_>) -> Beside {
    // A subscription's loaders keep nothing (see `Lasting`): rows fed to them would be
    // held and never read, and the tickets' resolvers would load them again anyway.
    if *ctx.data_unchecked::<Lasting>() == Lasting::Stream {
        return Beside::default();
    }
    Beside {
        requester: selected(ctx, &["requester"]),
        assignee: selected(ctx, &["assignee"]),
        group: selected(ctx, &["group"]),
        organization: selected(ctx, &["organization"]),
        category: selected(ctx, &["category"]),
    }
}

/// Hands the rows joined into the page to the request's loaders, where the tickets'
/// own resolvers look for them, and returns the tickets.
async fn feed(ctx: &Context<'_>, rows: Vec<Listed>) -> Vec<ticket::Model> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut organizations = Vec::new();
    let mut categories = Vec::new();
    let tickets = rows
        .into_iter()
        .map(|row| {
            users.extend(
                row.requester
                    .into_iter()
                    .chain(row.assignee)
                    .map(|u| (u.id, u)),
            );
            groups.extend(row.group.map(|g| (g.id, g)));
            organizations.extend(row.organization.map(|o| (o.id, o)));
            categories.extend(row.category.map(|c| (c.id, c)));
            row.ticket
        })
        .collect();
    ctx.data_unchecked::<loaders::Users>()
        .feed_many(users)
        .await;
    ctx.data_unchecked::<loaders::Groups>()
        .feed_many(groups)
        .await;
    ctx.data_unchecked::<loaders::Organizations>()
        .feed_many(organizations)
        .await;
    ctx.data_unchecked::<loaders::Categories>()
        .feed_many(categories)
        .await;
    tickets
}

/// Fetches the SLA clocks the page's tickets will ask for, and what the clocks point
/// at, one query each, so that a page costs the same number of statements whatever its
/// size.
async fn prime_clocks(ctx: &Context<'_>, rows: &[ticket::Model]) -> AppResult<()> {
    if !selected(ctx, &["slaClocks"]) {
        return Ok(());
    }
    let tickets: BTreeSet<i64> = rows.iter().map(|t| t.id).collect();
    let clocks = ctx
        .data_unchecked::<crate::graphql::sla::Clocks>()
        .load_many(tickets)
        .await?;
    let clocks = clocks.values().flatten();
    let calendars: BTreeSet<i64> = clocks.clone().filter_map(|c| c.calendar_id).collect();
    let policies: BTreeSet<i64> = if selected(ctx, &["slaClocks", "policy"]) {
        clocks.map(|c| c.policy_id).collect()
    } else {
        BTreeSet::new()
    };
    tokio::try_join!(
        prime(ctx.data_unchecked::<loaders::Calendars>(), calendars),
        prime(ctx.data_unchecked::<loaders::SlaPolicies>(), policies),
    )?;
    Ok(())
}

async fn prime<L>(loader: &DataLoader<L, HashMapCache>, ids: BTreeSet<i64>) -> AppResult<()>
where
    L: Loader<i64, Error = AppError>,
{
    if !ids.is_empty() {
        loader.load_many(ids).await?;
    }
    Ok(())
}

/// A page of the tickets `filter` selects that the caller may see, in `order`.
pub async fn ticket_page(
    ctx: &Context<'_>,
    filter: TicketFilter,
    order: Option<TicketOrder>,
    page: PageArgs,
) -> AppResult<Page<Ticket>> {
    let scope = ticket_scope(ctx).await?;
    let sort = order.unwrap_or_default().into_domain();
    let window = page.texts()?;
    let beside = beside(ctx);
    let rows = queries::list(state(ctx).db.conn(), scope, &filter, sort, &window, beside).await?;
    let rows = feed(ctx, rows).await;
    prime_clocks(ctx, &rows).await?;
    Ok(pagination::connection_with(
        &window,
        rows,
        |row| queries::cursor_of(row, sort),
        Ticket,
    ))
}
