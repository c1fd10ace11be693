//! Tickets in the API: the enums mirrored from the domain and the `Ticket` object with
//! its relations, each loaded for a whole page at once.
//!
//! A ticket's conversation and history are in `history`, the list's filters, orders
//! and counts in `listing`, the queries in `query` and the mutations in `mutation`.

mod history;
mod links;
mod listing;
mod merge;
mod mutation;
mod query;

use async_graphql::{
    Context, Enum, ID, Object,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use entity::ticket;

use crate::graphql::instant::Instant;
use crate::{
    domain::tickets::{queries, types},
    error::{AppError, AppResult},
    graphql::{
        desk::{Category, Group, Organization},
        ids, loaders,
        pagination::{self, Page, PageArgs},
        state, ticket_scope,
        users::User,
    },
};

pub use history::{Comment, FieldChange, HistoryEntry};
pub use links::{TicketLink, TicketLinkMutation};
pub use listing::{
    OrderDirection, PriorityCount, StatusCount, TicketCounts, TicketFilterInput, TicketOrder,
    TicketOrderField, ticket_page,
};
pub use merge::TicketMergeMutation;
pub use mutation::{
    AddCommentInput, AddCommentPayload, AssignTicketInput, CreateTicketInput, EscalateTicketInput,
    EscalationLevel, TicketMutation, TicketPayload, TransitionTicketInput, UpdateTicketInput,
};
pub use query::{TicketQuery, load_node, mine, visible};

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

/// P1 is the most urgent the priority matrix gives (from impact and urgency); MAJOR,
/// above it, is a declared major incident's.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A major incident: above P1, set only by declaring one (`declareMajorIncident`).
    Major,
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
            0 => Priority::Major,
            1 => Priority::P1,
            2 => Priority::P2,
            3 => Priority::P3,
            _ => Priority::P4,
        }
    }

    pub fn number(self) -> i16 {
        match self {
            Priority::Major => 0,
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

// The resolvers that do real work (comments, history, problems, impact…) run it in a
// future of its own on the heap (`Box::pin`). async-graphql moves each field's future
// into a box sized for the largest resolver of the object: without this, every `number`
// and `title` of a 50-ticket page paid for a copy the size of `impactAnalysis`.

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
    /// The supplier it is handed to, whose underpinning contract's clock runs: the
    /// desk's people only.
    async fn supplier(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::suppliers::Supplier>> {
        let Some(id) = self.0.supplier_id else {
            return Ok(None);
        };
        if crate::graphql::caller(ctx)
            .require_role(crate::auth::Role::Agent)
            .is_err()
        {
            return Ok(None);
        }
        Ok(
            <entity::supplier::Entity as sea_orm::EntityTrait>::find_by_id(id)
                .one(crate::graphql::state(ctx).db.conn())
                .await?
                .map(crate::graphql::suppliers::Supplier),
        )
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
        Box::pin(crate::graphql::catalog::request_of(ctx, self.0.id)).await
    }
    /// Its links to other tickets (parent, children, cause, duplicates, related),
    /// oldest first: only those whose other ticket the caller may see.
    async fn links(&self, ctx: &Context<'_>) -> AppResult<Vec<TicketLink>> {
        Box::pin(links::links_of(ctx, self.0.id)).await
    }
    /// The satisfaction survey its requester was offered when it was resolved, if one
    /// was: for the requester and the desk; null for anyone else.
    async fn survey(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::satisfaction::Survey>> {
        Box::pin(crate::graphql::satisfaction::survey_of_ticket(
            ctx, self.0.id,
        ))
        .await
    }
    /// The ticket it was merged into, as a duplicate; null when it was not (or the
    /// caller may not see that one).
    async fn merged_into(&self, ctx: &Context<'_>) -> AppResult<Option<Ticket>> {
        Box::pin(merge::merged_into(ctx, self.0.merged_into_id)).await
    }
    /// Its files, its comments' included (internal notes' files for the desk only),
    /// oldest first.
    async fn attachments(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::attachments::Attachment>> {
        Box::pin(crate::graphql::attachments::of_ticket(ctx, self.0.id)).await
    }
    /// Time worked on it, newest day first. The desk's own record: null for requesters.
    async fn time_entries(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<Vec<crate::graphql::time_worked::TimeEntry>>> {
        Box::pin(crate::graphql::time_worked::entries_of_ticket(
            ctx, self.0.id,
        ))
        .await
    }
    /// Minutes worked on it so far. Null for requesters, like `timeEntries`.
    async fn time_spent_minutes(&self, ctx: &Context<'_>) -> AppResult<Option<i64>> {
        let entries = Box::pin(crate::graphql::time_worked::entries_of_ticket(
            ctx, self.0.id,
        ))
        .await?;
        Ok(entries.map(|list| list.iter().map(|e| i64::from(e.0.minutes)).sum()))
    }
    /// The problems it is linked to. Agents.
    async fn problems(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::problems::Problem>> {
        let rows = Box::pin(crate::graphql::problems::problems_of_ticket(ctx, self.0.id)).await?;
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
        Box::pin(crate::graphql::problems::workarounds_of_ticket(
            ctx, self.0.id,
        ))
        .await
    }
    /// The change that caused this incident, once linked. Agents.
    async fn caused_by_change(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::changes::Change>> {
        Box::pin(crate::graphql::changes::cause_of_ticket(
            ctx,
            self.0.caused_by_change_id,
        ))
        .await
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
        Box::pin(crate::graphql::knowledge::suggestions(ctx, &text, first)).await
    }
    /// The configuration items it is about. CMDB readers only.
    async fn configuration_items(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::cmdb::ConfigurationItem>> {
        Box::pin(crate::graphql::cmdb::items_of_ticket(ctx, self.0.id)).await
    }
    /// What depends on its configuration items: the services and items affected, and
    /// the other open tickets about them. CMDB readers only.
    async fn impact_analysis(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How far to follow dependencies.")] max_depth: i32,
    ) -> AppResult<crate::graphql::cmdb::Impact> {
        Box::pin(crate::graphql::cmdb::impact_of_ticket(
            ctx, self.0.id, max_depth,
        ))
        .await
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
        Box::pin(async move {
            let scope = ticket_scope(ctx).await?;
            let page = PageArgs::new(first, after, last, before).keyed()?;
            let rows = queries::comments(state(ctx).db.conn(), scope, self.0.id, &page).await?;
            Ok(pagination::connection(&page, rows, |c| c.id, Comment))
        })
        .await
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
        Box::pin(async move {
            let scope = ticket_scope(ctx).await?;
            let page = PageArgs::new(first, after, last, before).keyed_or(50)?;
            let rows = queries::history(state(ctx).db.conn(), scope, self.0.id, &page).await?;
            Ok(pagination::connection(&page, rows, |e| e.id, HistoryEntry))
        })
        .await
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
