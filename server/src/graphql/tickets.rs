use std::collections::BTreeSet;

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject,
    connection::Connection,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use entity::{comment, event, ticket};
use serde_json::Value;

use crate::graphql::instant::Instant;
use crate::{
    domain::input::maybe_instant,
    domain::tickets::{
        commands::{self, Escalation, NewTicket, TicketChanges, Transition},
        queries::{self, Sort, SortField, TicketFilter},
        types,
    },
    error::{AppError, AppResult},
    graphql::{
        caller,
        desk::{Category, Group, Organization},
        ids, loaders, now,
        pagination::{self, PageArgs},
        state, ticket_scope,
        users::User,
    },
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::Kind")]
pub enum TicketKind {
    Incident,
    ServiceRequest,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::Status")]
pub enum TicketStatus {
    New,
    Assigned,
    InProgress,
    Pending,
    Resolved,
    Closed,
    Cancelled,
}

/// Impact and urgency.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::Level")]
pub enum Level {
    High,
    Medium,
    Low,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::Channel")]
pub enum Channel {
    Portal,
    Email,
    Phone,
    Api,
    Monitoring,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::PendingReason")]
pub enum PendingReason {
    AwaitingCustomer,
    AwaitingVendor,
    AwaitingChange,
    /// A catalog order waiting for its approval.
    AwaitingApproval,
}

/// P1 is the most urgent. Derived from impact and urgency by the desk's priority matrix.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub fn from_number(n: i16) -> Priority {
        match n {
            1 => Priority::P1,
            2 => Priority::P2,
            3 => Priority::P3,
            _ => Priority::P4,
        }
    }

    pub fn number(self) -> i16 {
        match self {
            Priority::P1 => 1,
            Priority::P2 => 2,
            Priority::P3 => 3,
            Priority::P4 => 4,
        }
    }
}

/// Stored values were written by the domain: one that does not parse is our bug, not input.
fn stored<T>(parsed: AppResult<T>) -> AppResult<T> {
    parsed.map_err(|e| AppError::Internal(format!("a stored ticket value does not parse: {e}")))
}

/// An incident or a service request.
pub struct Ticket(pub ticket::Model);

#[Object]
impl Ticket {
    pub async fn id(&self) -> ID {
        ids::encode("Ticket", self.0.id)
    }
    /// INC0001234, REQ0000045: per kind, unique, never reused.
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn kind(&self) -> AppResult<TicketKind> {
        stored(types::Kind::parse(&self.0.kind, "kind")).map(Into::into)
    }
    async fn status(&self) -> AppResult<TicketStatus> {
        stored(types::Status::parse(&self.0.status, "status")).map(Into::into)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn impact(&self) -> AppResult<Level> {
        stored(types::Level::parse(&self.0.impact, "impact")).map(Into::into)
    }
    async fn urgency(&self) -> AppResult<Level> {
        stored(types::Level::parse(&self.0.urgency, "urgency")).map(Into::into)
    }
    async fn priority(&self) -> Priority {
        Priority::from_number(self.0.priority)
    }
    async fn channel(&self) -> AppResult<Channel> {
        stored(types::Channel::parse(&self.0.channel, "channel")).map(Into::into)
    }
    async fn pending_reason(&self) -> AppResult<Option<PendingReason>> {
        self.0
            .pending_reason
            .as_deref()
            .map(|r| stored(types::PendingReason::parse(r, "pendingReason")).map(Into::into))
            .transpose()
    }
    async fn resolution_code(&self) -> Option<&str> {
        self.0.resolution_code.as_deref()
    }
    async fn resolution_notes(&self) -> Option<&str> {
        self.0.resolution_notes.as_deref()
    }
    async fn category(&self, ctx: &Context<'_>) -> AppResult<Option<Category>> {
        load(
            ctx.data_unchecked::<loaders::Categories>(),
            self.0.category_id,
        )
        .await
        .map(|c| c.map(Category))
    }
    /// Who the ticket is for; none for tickets raised by a monitoring system.
    async fn requester(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        load(ctx.data_unchecked::<loaders::Users>(), self.0.requester_id)
            .await
            .map(|u| u.map(User))
    }
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Option<Organization>> {
        load(
            ctx.data_unchecked::<loaders::Organizations>(),
            self.0.organization_id,
        )
        .await
        .map(|o| o.map(Organization))
    }
    /// The assignment group whose queue it is in.
    async fn group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        load(ctx.data_unchecked::<loaders::Groups>(), self.0.group_id)
            .await
            .map(|g| g.map(Group))
    }
    async fn assignee(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        load(ctx.data_unchecked::<loaders::Users>(), self.0.assignee_id)
            .await
            .map(|u| u.map(User))
    }
    /// How many times it was escalated to a higher-tier group.
    async fn escalation_level(&self) -> i32 {
        self.0.escalation_level
    }
    /// When the group's manager was last flagged (hierarchical escalation).
    async fn manager_flagged_at(&self) -> Option<Instant> {
        self.0.manager_flagged_at.map(Instant)
    }
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
    /// The first public comment by the desk: the response SLAs measure.
    async fn first_response_at(&self) -> Option<Instant> {
        self.0.first_response_at.map(Instant)
    }
    async fn resolved_at(&self) -> Option<Instant> {
        self.0.resolved_at.map(Instant)
    }
    async fn closed_at(&self) -> Option<Instant> {
        self.0.closed_at.map(Instant)
    }
    /// For an order from the catalog: the item, the answers and the approval.
    async fn catalog_request(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::catalog::CatalogRequest>> {
        crate::graphql::catalog::request_of(ctx, self.0.id).await
    }
    /// The problems it is linked to. Agents.
    async fn problems(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::problems::Problem>> {
        let rows = crate::graphql::problems::problems_of_ticket(ctx, self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(crate::graphql::problems::Problem)
            .collect())
    }
    /// The workarounds of the known errors it is linked to: what gets the requester
    /// working again while the problem is fixed.
    async fn workarounds(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::problems::Workaround>> {
        crate::graphql::problems::workarounds_of_ticket(ctx, self.0.id).await
    }
    /// The change that caused this incident, once linked. Agents.
    async fn caused_by_change(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::changes::Change>> {
        crate::graphql::changes::cause_of_ticket(ctx, self.0.caused_by_change_id).await
    }
    /// Published articles that may help, from its title and description, most relevant
    /// first; requesters get the public ones.
    async fn suggested_articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] first: i32,
    ) -> AppResult<Vec<crate::graphql::knowledge::ArticleMatch>> {
        let text = format!("{}\n{}", self.0.title, self.0.description);
        crate::graphql::knowledge::suggestions(ctx, &text, first).await
    }
    /// The configuration items it is about. CMDB readers only.
    async fn configuration_items(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::cmdb::ConfigurationItem>> {
        crate::graphql::cmdb::items_of_ticket(ctx, self.0.id).await
    }
    /// What depends on its configuration items: the services and items affected, and
    /// the other open tickets about them. CMDB readers only.
    async fn impact_analysis(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] max_depth: i32,
    ) -> AppResult<crate::graphql::cmdb::Impact> {
        crate::graphql::cmdb::impact_of_ticket(ctx, self.0.id, max_depth).await
    }
    /// Its SLA clocks: first response and resolution, with their state and countdown.
    async fn sla_clocks(&self, ctx: &Context<'_>) -> AppResult<Vec<crate::graphql::sla::SlaClock>> {
        crate::graphql::sla::clocks_of(ctx, self.0.id).await
    }
    /// Send it back with every change; a stale one gets CONFLICT.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Comments oldest first. Requesters see public ones only.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<String, Comment>> {
        let scope = ticket_scope(ctx).await?;
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let rows = queries::comments(state(ctx).db.conn(), scope, self.0.id, &page).await?;
        Ok(pagination::connection(&page, rows, |c| c.id, Comment))
    }
    /// Every change, oldest first: who changed which field from what to what, and when.
    #[graphql(complexity = "first.unwrap_or(50).max(0) as usize * child_complexity")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<String, HistoryEntry>> {
        let scope = ticket_scope(ctx).await?;
        let page = PageArgs::new(first, after, last, before).keyed_or(50)?;
        let rows = queries::history(state(ctx).db.conn(), scope, self.0.id, &page).await?;
        Ok(pagination::connection(&page, rows, |e| e.id, HistoryEntry))
    }
}

async fn load<L>(
    loader: &DataLoader<L, HashMapCache>,
    id: Option<i64>,
) -> AppResult<Option<L::Value>>
where
    L: Loader<i64, Error = AppError>,
{
    match id {
        Some(id) => loader.load_one(id).await,
        None => Ok(None),
    }
}

pub struct Comment(pub comment::Model);

#[Object]
impl Comment {
    pub async fn id(&self) -> ID {
        ids::encode("Comment", self.0.id)
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// An internal work note: agents only.
    async fn internal(&self) -> bool {
        self.0.internal
    }
    async fn author_name(&self) -> &str {
        &self.0.author_name
    }
    async fn author(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        load(ctx.data_unchecked::<loaders::Users>(), self.0.author_id)
            .await
            .map(|u| u.map(User))
    }
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}

/// One field's change.
#[derive(SimpleObject)]
pub struct FieldChange {
    pub field: String,
    /// The value before, as JSON text; null when there was none.
    pub old_value: Option<String>,
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

#[Object]
impl HistoryEntry {
    /// What happened: `ticket.created`, `ticket.updated`, `ticket.status_changed`,
    /// `ticket.reopened`, `ticket.assigned`, `ticket.routed`, `ticket.escalated`, `ticket.commented`.
    async fn action(&self) -> &str {
        &self.0.topic
    }
    async fn at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// Who did it: a person, an API token, or Switchboard itself.
    async fn actor_name(&self) -> &str {
        &self.0.actor_name
    }
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        load(ctx.data_unchecked::<loaders::Users>(), self.0.actor_id)
            .await
            .map(|u| u.map(User))
    }
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

#[derive(InputObject, Default)]
pub struct TicketFilterInput {
    pub status: Option<Vec<TicketStatus>>,
    pub kind: Option<Vec<TicketKind>>,
    pub priority: Option<Vec<Priority>>,
    pub group_id: Option<Vec<ID>>,
    pub assignee_id: Option<Vec<ID>>,
    /// Only tickets with (false) or without (true) an assignee.
    pub unassigned: Option<bool>,
    pub requester_id: Option<Vec<ID>>,
    pub organization_id: Option<Vec<ID>>,
    /// This category and the ones below it.
    pub category_id: Option<ID>,
    pub created_after: Option<Instant>,
    pub created_before: Option<Instant>,
    pub updated_after: Option<Instant>,
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

#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketOrderField {
    #[default]
    Created,
    Updated,
    Priority,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderDirection {
    Asc,
    #[default]
    Desc,
}

/// Newest first unless told otherwise. Priority ascending puts P1 first.
#[derive(InputObject, Default)]
pub struct TicketOrder {
    #[graphql(default)]
    pub field: TicketOrderField,
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

#[derive(SimpleObject)]
pub struct StatusCount {
    pub status: TicketStatus,
    pub count: i64,
}

#[derive(SimpleObject)]
pub struct PriorityCount {
    pub priority: Priority,
    pub count: i64,
}

/// Counts for a dashboard, over the tickets a filter selects.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct TicketCounts {
    pub by_status: Vec<StatusCount>,
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
    async fn total(&self) -> i64 {
        self.by_status.iter().map(|c| c.count).sum()
    }
}

/// Fetches what the page's selected relations will ask for, one query per relation,
/// so that a page costs the same number of statements whatever its size.
async fn prime_relations(ctx: &Context<'_>, rows: &[ticket::Model]) -> AppResult<()> {
    let look = ctx.look_ahead();
    let selected = |field: &str| {
        look.field("nodes").field(field).exists()
            || look.field("edges").field("node").field(field).exists()
    };
    let ids = |wanted: bool, of: fn(&ticket::Model) -> Option<i64>| -> BTreeSet<i64> {
        if wanted {
            rows.iter().filter_map(of).collect()
        } else {
            BTreeSet::new()
        }
    };
    let mut users = ids(selected("requester"), |t| t.requester_id);
    users.extend(ids(selected("assignee"), |t| t.assignee_id));
    let groups = ids(selected("group"), |t| t.group_id);
    let organizations = ids(selected("organization"), |t| t.organization_id);
    let categories = ids(selected("category"), |t| t.category_id);
    tokio::try_join!(
        prime(ctx.data_unchecked::<loaders::Users>(), users),
        prime(ctx.data_unchecked::<loaders::Groups>(), groups),
        prime(
            ctx.data_unchecked::<loaders::Organizations>(),
            organizations
        ),
        prime(ctx.data_unchecked::<loaders::Categories>(), categories),
    )?;
    if selected("slaClocks") {
        // The clocks, then what they point at: their calendars and (when asked) policies.
        let tickets: BTreeSet<i64> = rows.iter().map(|t| t.id).collect();
        let clocks = ctx
            .data_unchecked::<crate::graphql::sla::Clocks>()
            .load_many(tickets)
            .await?;
        let clocks = clocks.values().flatten();
        let calendars: BTreeSet<i64> = clocks.clone().filter_map(|c| c.calendar_id).collect();
        let policies_wanted = look
            .field("nodes")
            .field("slaClocks")
            .field("policy")
            .exists()
            || look
                .field("edges")
                .field("node")
                .field("slaClocks")
                .field("policy")
                .exists();
        let policies: BTreeSet<i64> = if policies_wanted {
            clocks.map(|c| c.policy_id).collect()
        } else {
            BTreeSet::new()
        };
        tokio::try_join!(
            prime(ctx.data_unchecked::<loaders::Calendars>(), calendars),
            prime(ctx.data_unchecked::<loaders::SlaPolicies>(), policies),
        )?;
    }
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
) -> AppResult<Connection<String, Ticket>> {
    let scope = ticket_scope(ctx).await?;
    let sort = order.unwrap_or_default().into_domain();
    let window = page.texts()?;
    let rows = queries::list(state(ctx).db.conn(), scope, &filter, sort, &window).await?;
    prime_relations(ctx, &rows).await?;
    Ok(pagination::connection_with(
        &window,
        rows,
        |row| queries::cursor_of(row, sort),
        Ticket,
    ))
}

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
        filter: Option<TicketFilterInput>,
        order_by: Option<TicketOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<String, Ticket>> {
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
        status: Option<Vec<TicketStatus>>,
        order_by: Option<TicketOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<String, Ticket>> {
        let me = caller(ctx).person()?.user_id;
        let filter = TicketFilter {
            requester_ids: vec![me],
            statuses: status
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            ..Default::default()
        };
        ticket_page(
            ctx,
            filter,
            order_by,
            PageArgs::new(first, after, last, before),
        )
        .await
    }

    /// A ticket by its number, e.g. INC0001234.
    async fn ticket(&self, ctx: &Context<'_>, number: String) -> AppResult<Ticket> {
        let scope = ticket_scope(ctx).await?;
        queries::by_number(state(ctx).db.conn(), scope, &number)
            .await
            .map(Ticket)
    }

    /// How many tickets the filter selects, by status and by priority.
    async fn ticket_counts(
        &self,
        ctx: &Context<'_>,
        filter: Option<TicketFilterInput>,
    ) -> AppResult<TicketCounts> {
        let scope = ticket_scope(ctx).await?;
        let filter = filter.unwrap_or_default().into_domain()?;
        let counts = queries::counts(state(ctx).db.conn(), scope, &filter).await?;
        TicketCounts::of(counts)
    }
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

#[derive(InputObject)]
pub struct CreateTicketInput {
    pub kind: TicketKind,
    /// 1 to 200 characters.
    pub title: String,
    /// Up to 20,000 characters.
    #[graphql(default)]
    pub description: String,
    #[graphql(default_with = "Level::Medium")]
    pub impact: Level,
    #[graphql(default_with = "Level::Medium")]
    pub urgency: Level,
    pub category_id: Option<ID>,
    /// The catalog service it concerns: SLA policies and routing rules can match on it.
    pub service_id: Option<ID>,
    /// PORTAL for people, API for tokens, unless given.
    pub channel: Option<Channel>,
    /// Agents only: whom the ticket is for (default: the caller).
    pub requester_id: Option<ID>,
    /// Agents only: default, the requester's organization.
    pub organization_id: Option<ID>,
    /// Agents only: skip routing and put it in this group's queue.
    pub group_id: Option<ID>,
    /// Agents only, with groupId.
    pub assignee_id: Option<ID>,
    /// Agents only: the configuration items it is about. Routing rules can match them,
    /// and the ticket's impact shows the services that depend on them.
    #[graphql(default)]
    pub configuration_item_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct TicketPayload {
    pub ticket: Ticket,
}

#[derive(InputObject)]
pub struct UpdateTicketInput {
    pub id: ID,
    /// The version you read.
    pub version: i32,
    pub title: Option<String>,
    pub description: Option<String>,
    pub impact: Option<Level>,
    pub urgency: Option<Level>,
    /// Null clears it.
    pub category_id: MaybeUndefined<ID>,
    pub channel: Option<Channel>,
}

#[derive(InputObject)]
pub struct TransitionTicketInput {
    pub id: ID,
    pub version: i32,
    pub status: TicketStatus,
    /// Required for PENDING.
    pub pending_reason: Option<PendingReason>,
    /// Required for RESOLVED.
    pub resolution_code: Option<String>,
    pub resolution_notes: Option<String>,
}

#[derive(InputObject)]
pub struct AssignTicketInput {
    pub id: ID,
    pub version: i32,
    /// Default: the ticket's current group.
    pub group_id: Option<ID>,
    /// None leaves it in the group's queue.
    pub assignee_id: Option<ID>,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum EscalationLevel {
    /// To the group's higher-tier escalation group.
    Functional,
    /// Flag the group's manager.
    Hierarchical,
}

#[derive(InputObject)]
pub struct EscalateTicketInput {
    pub id: ID,
    pub version: i32,
    pub level: EscalationLevel,
    pub reason: String,
}

#[derive(InputObject)]
pub struct AddCommentInput {
    pub ticket_id: ID,
    pub body: String,
    /// An internal work note, hidden from the requester. Agents only.
    #[graphql(default)]
    pub internal: bool,
}

#[derive(SimpleObject)]
pub struct AddCommentPayload {
    pub ticket: Ticket,
    pub comment: Comment,
}

fn ticket_id(id: &ID) -> AppResult<i64> {
    ids::decode_as(id, "Ticket", "id")
}

#[derive(Default)]
pub struct TicketMutation;

#[Object]
impl TicketMutation {
    /// Records a ticket. Unless an agent names the group, routing rules pick it.
    async fn create_ticket(
        &self,
        ctx: &Context<'_>,
        input: CreateTicketInput,
    ) -> AppResult<TicketPayload> {
        let new = NewTicket {
            kind: input.kind.into(),
            title: input.title,
            description: input.description,
            impact: input.impact.into(),
            urgency: input.urgency.into(),
            category_id: ids::decode_opt(input.category_id, "Category", "categoryId")?,
            channel: input.channel.map(Into::into),
            requester_id: ids::decode_opt(input.requester_id, "User", "requesterId")?,
            organization_id: ids::decode_opt(
                input.organization_id,
                "Organization",
                "organizationId",
            )?,
            group_id: ids::decode_opt(input.group_id, "Group", "groupId")?,
            assignee_id: ids::decode_opt(input.assignee_id, "User", "assigneeId")?,
            service_id: ids::decode_opt(input.service_id, "Service", "serviceId")?,
            pending_reason: None,
            configuration_item_ids: ids::decode_all(
                &input.configuration_item_ids,
                "ConfigurationItem",
                "configurationItemIds",
            )?,
        };
        let row = commands::create(&state(ctx).db, caller(ctx), now(ctx), new).await?;
        Ok(TicketPayload {
            ticket: Ticket(row),
        })
    }

    /// Changes a ticket's fields. Requesters may change the title and description only.
    async fn update_ticket(
        &self,
        ctx: &Context<'_>,
        input: UpdateTicketInput,
    ) -> AppResult<TicketPayload> {
        let category_id = ids::decode_maybe(input.category_id, "Category", "categoryId")?;
        let changes = TicketChanges {
            title: input.title,
            description: input.description,
            impact: input.impact.map(Into::into),
            urgency: input.urgency.map(Into::into),
            category_id,
            channel: input.channel.map(Into::into),
        };
        let id = ticket_id(&input.id)?;
        let row = commands::update(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            id,
            input.version,
            changes,
        )
        .await?;
        Ok(TicketPayload {
            ticket: Ticket(row),
        })
    }

    /// Moves a ticket along its lifecycle. An invalid move gets INVALID_TRANSITION with the allowed ones.
    async fn transition_ticket(
        &self,
        ctx: &Context<'_>,
        input: TransitionTicketInput,
    ) -> AppResult<TicketPayload> {
        let transition = Transition {
            to: input.status.into(),
            pending_reason: input.pending_reason.map(Into::into),
            resolution_code: input.resolution_code,
            resolution_notes: input.resolution_notes,
        };
        let id = ticket_id(&input.id)?;
        let row = commands::transition(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            id,
            input.version,
            transition,
        )
        .await?;
        Ok(TicketPayload {
            ticket: Ticket(row),
        })
    }

    /// Puts a ticket in a group's queue or an agent's hands. Agents only.
    async fn assign_ticket(
        &self,
        ctx: &Context<'_>,
        input: AssignTicketInput,
    ) -> AppResult<TicketPayload> {
        let id = ticket_id(&input.id)?;
        let group_id = ids::decode_opt(input.group_id, "Group", "groupId")?;
        let assignee_id = ids::decode_opt(input.assignee_id, "User", "assigneeId")?;
        let row = commands::assign(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            id,
            input.version,
            group_id,
            assignee_id,
        )
        .await?;
        Ok(TicketPayload {
            ticket: Ticket(row),
        })
    }

    /// Escalates a ticket: functionally to the next tier, or hierarchically to the manager. Agents only.
    async fn escalate_ticket(
        &self,
        ctx: &Context<'_>,
        input: EscalateTicketInput,
    ) -> AppResult<TicketPayload> {
        let id = ticket_id(&input.id)?;
        let level = match input.level {
            EscalationLevel::Functional => Escalation::Functional,
            EscalationLevel::Hierarchical => Escalation::Hierarchical,
        };
        let row = commands::escalate(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            id,
            input.version,
            level,
            &input.reason,
        )
        .await?;
        Ok(TicketPayload {
            ticket: Ticket(row),
        })
    }

    /// Adds a public comment or an internal work note. Comments do not change the ticket's version.
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        input: AddCommentInput,
    ) -> AppResult<AddCommentPayload> {
        let id = ids::decode_as(&input.ticket_id, "Ticket", "ticketId")?;
        let (row, comment) = commands::add_comment(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            id,
            &input.body,
            input.internal,
        )
        .await?;
        Ok(AddCommentPayload {
            ticket: Ticket(row),
            comment: Comment(comment),
        })
    }
}
