use std::collections::BTreeSet;

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject,
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
        pagination::{self, Page, PageArgs},
        state, ticket_scope,
        users::User,
    },
};

/// What a ticket is about.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::Kind")]
pub enum TicketKind {
    /// Something broke or degraded.
    Incident,
    /// Something wanted: access, equipment, information.
    ServiceRequest,
}

/// The ticket lifecycle; `transitionTicket` moves along it.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::Status")]
pub enum TicketStatus {
    /// Recorded, not yet assigned.
    New,
    /// Has an assignee who has not started.
    Assigned,
    /// Being worked on.
    InProgress,
    /// Waiting, for the reason in `pendingReason`.
    Pending,
    /// Resolved; closes on its own unless the requester reopens it.
    Resolved,
    /// Resolved and closed; no more changes.
    Closed,
    /// Withdrawn; no work will be done.
    Cancelled,
}

/// Impact and urgency.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::Level")]
pub enum Level {
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
}

/// How a ticket reached the desk.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::Channel")]
pub enum Channel {
    /// Through the self-service portal.
    Portal,
    /// By email.
    Email,
    /// By phone, recorded by an agent.
    Phone,
    /// From a partner system through the API.
    Api,
    /// Raised by a monitoring system.
    Monitoring,
}

/// Why a ticket waits (SLA clocks may pause for it).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::PendingReason")]
pub enum PendingReason {
    /// Waiting for the requester to answer.
    AwaitingCustomer,
    /// Waiting for a supplier.
    AwaitingVendor,
    /// Waiting for a change to be implemented.
    AwaitingChange,
    /// A catalog order waiting for its approval.
    AwaitingApproval,
}

/// P1 is the most urgent. Derived from impact and urgency by the desk's priority matrix.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Critical: act now.
    P1,
    /// High.
    P2,
    /// Moderate.
    P3,
    /// Low.
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

/// An incident or service request: what happened or is wanted, who asked, who works on it,
/// and where it stands.
#[Object]
impl Ticket {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Ticket", self.0.id)
    }
    /// INC0001234, REQ0000045: per kind, unique, never reused.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// Incident or service request.
    async fn kind(&self) -> AppResult<TicketKind> {
        stored(types::Kind::parse(&self.0.kind, "kind")).map(Into::into)
    }
    /// Where it is in the ticket lifecycle.
    async fn status(&self) -> AppResult<TicketStatus> {
        stored(types::Status::parse(&self.0.status, "status")).map(Into::into)
    }
    /// A one-line summary.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The full account, as the requester or agent wrote it.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// How widely it hurts.
    async fn impact(&self) -> AppResult<Level> {
        stored(types::Level::parse(&self.0.impact, "impact")).map(Into::into)
    }
    /// How soon it hurts.
    async fn urgency(&self) -> AppResult<Level> {
        stored(types::Level::parse(&self.0.urgency, "urgency")).map(Into::into)
    }
    /// P1 (critical) to P4, from impact and urgency.
    async fn priority(&self) -> Priority {
        Priority::from_number(self.0.priority)
    }
    /// How it reached the desk.
    async fn channel(&self) -> AppResult<Channel> {
        stored(types::Channel::parse(&self.0.channel, "channel")).map(Into::into)
    }
    /// Why it waits, while PENDING.
    async fn pending_reason(&self) -> AppResult<Option<PendingReason>> {
        self.0
            .pending_reason
            .as_deref()
            .map(|r| stored(types::PendingReason::parse(r, "pendingReason")).map(Into::into))
            .transpose()
    }
    /// How it was resolved, e.g. "FIXED", "WORKAROUND".
    async fn resolution_code(&self) -> Option<&str> {
        self.0.resolution_code.as_deref()
    }
    /// What was done, for the requester.
    async fn resolution_notes(&self) -> Option<&str> {
        self.0.resolution_notes.as_deref()
    }
    /// Its category, if classified.
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
    /// The requester's organization.
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
    /// The agent working on it; null while unassigned.
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
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When it last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
    /// The first public comment by the desk: the response SLAs measure.
    async fn first_response_at(&self) -> Option<Instant> {
        self.0.first_response_at.map(Instant)
    }
    /// When it was resolved; null until then.
    async fn resolved_at(&self) -> Option<Instant> {
        self.0.resolved_at.map(Instant)
    }
    /// When it was closed; null until then.
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
        #[graphql(
            default = 5,
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: i32,
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
        #[graphql(default = 10, desc = "How far to follow dependencies.")] max_depth: i32,
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
    ) -> AppResult<Page<Comment>> {
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
    ) -> AppResult<Page<HistoryEntry>> {
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
) -> AppResult<Page<Ticket>> {
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

/// What `createTicket` takes.
#[derive(InputObject)]
pub struct CreateTicketInput {
    /// An incident (something broke) or a service request (something wanted).
    pub kind: TicketKind,
    /// 1 to 200 characters.
    pub title: String,
    /// Up to 20,000 characters.
    #[graphql(default)]
    pub description: String,
    /// How widely it hurts; with urgency it decides the priority.
    #[graphql(default_with = "Level::Medium")]
    pub impact: Level,
    /// How soon it hurts; with impact it decides the priority.
    #[graphql(default_with = "Level::Medium")]
    pub urgency: Level,
    /// The id of the category.
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

/// What a mutation on a ticket returns: the ticket as it is after the change.
#[derive(SimpleObject)]
pub struct TicketPayload {
    /// The ticket as it is after the change.
    pub ticket: Ticket,
}

/// What `updateTicket` takes.
#[derive(InputObject)]
pub struct UpdateTicketInput {
    /// The id of the ticket.
    pub id: ID,
    /// The version you read.
    pub version: i32,
    /// A one-line summary.
    pub title: Option<String>,
    /// The full account, as the requester or agent wrote it.
    pub description: Option<String>,
    /// How widely it hurts.
    pub impact: Option<Level>,
    /// How soon it hurts.
    pub urgency: Option<Level>,
    /// Null clears it.
    pub category_id: MaybeUndefined<ID>,
    /// How it reached the desk.
    pub channel: Option<Channel>,
}

/// What `transitionTicket` takes.
#[derive(InputObject)]
pub struct TransitionTicketInput {
    /// The id of the ticket.
    pub id: ID,
    /// Send it back with every change; a stale one gets CONFLICT.
    pub version: i32,
    /// The status to move to.
    pub status: TicketStatus,
    /// Required for PENDING.
    pub pending_reason: Option<PendingReason>,
    /// Required for RESOLVED.
    pub resolution_code: Option<String>,
    /// What was done, when resolving.
    pub resolution_notes: Option<String>,
}

/// What `assignTicket` takes.
#[derive(InputObject)]
pub struct AssignTicketInput {
    /// The id of the ticket.
    pub id: ID,
    /// Send it back with every change; a stale one gets CONFLICT.
    pub version: i32,
    /// Default: the ticket's current group.
    pub group_id: Option<ID>,
    /// None leaves it in the group's queue.
    pub assignee_id: Option<ID>,
}

/// How a ticket is escalated.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum EscalationLevel {
    /// To the group's higher-tier escalation group.
    Functional,
    /// Flag the group's manager.
    Hierarchical,
}

/// What `escalateTicket` takes.
#[derive(InputObject)]
pub struct EscalateTicketInput {
    /// The id of the ticket.
    pub id: ID,
    /// Send it back with every change; a stale one gets CONFLICT.
    pub version: i32,
    /// FUNCTIONAL moves it to the escalation group; HIERARCHIC tells the managers.
    pub level: EscalationLevel,
    /// Why, recorded in the history.
    pub reason: String,
}

/// What `addComment` takes.
#[derive(InputObject)]
pub struct AddCommentInput {
    /// The id of the ticket.
    pub ticket_id: ID,
    /// The text of the comment, as the author wrote it.
    pub body: String,
    /// An internal work note, hidden from the requester. Agents only.
    #[graphql(default)]
    pub internal: bool,
}

/// What `addComment` returns: the comment, and the ticket as it is after it.
#[derive(SimpleObject)]
pub struct AddCommentPayload {
    /// The ticket as it is after the change.
    pub ticket: Ticket,
    /// The comment as it is after the change.
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
        #[graphql(desc = "What to do; see the fields of the input type.")] input: CreateTicketInput,
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
        #[graphql(desc = "What to do; see the fields of the input type.")] input: UpdateTicketInput,
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
        #[graphql(desc = "What to do; see the fields of the input type.")]
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
        #[graphql(desc = "What to do; see the fields of the input type.")] input: AssignTicketInput,
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
        #[graphql(desc = "What to do; see the fields of the input type.")]
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
        #[graphql(desc = "What to do; see the fields of the input type.")] input: AddCommentInput,
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
