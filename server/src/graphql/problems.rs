//! Problem management: problems, their incidents and items, and the problems trend
//! detection proposes.

use async_graphql::{
    Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject, connection::Connection,
};
use entity::{problem, problem_candidate};

use crate::graphql::instant::Instant;
use crate::{
    domain::{
        events, knowledge,
        problems::{self, NewProblem, ProblemChanges, Transition},
    },
    error::AppResult,
    graphql::{
        caller,
        cmdb::ConfigurationItem,
        desk::Group,
        from_stored_name, ids,
        knowledge::Article,
        loaders, now,
        pagination::{self, PageArgs},
        state, stored_name, ticket_scope,
        tickets::{HistoryEntry, Priority, Ticket},
        users::User,
    },
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ProblemStatus {
    New,
    UnderInvestigation,
    /// Root cause and workaround known: the workaround shows on every linked incident.
    KnownError,
    Resolved,
    Closed,
}

pub struct Problem(pub problem::Model);

#[Object]
impl Problem {
    pub async fn id(&self) -> ID {
        ids::encode("Problem", self.0.id)
    }
    /// PRB0000001.
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn status(&self) -> AppResult<ProblemStatus> {
        from_stored_name(&self.0.status)
    }
    /// P1 is the most urgent, as for tickets.
    async fn priority(&self) -> Priority {
        Priority::from_number(self.0.priority)
    }
    async fn root_cause(&self) -> &str {
        &self.0.root_cause
    }
    async fn workaround(&self) -> &str {
        &self.0.workaround
    }
    async fn group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        loaders::group(ctx, self.0.group_id).await
    }
    async fn assignee(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.assignee_id).await
    }
    async fn known_error_at(&self) -> Option<Instant> {
        self.0.known_error_at.map(Instant)
    }
    async fn resolved_at(&self) -> Option<Instant> {
        self.0.resolved_at.map(Instant)
    }
    async fn closed_at(&self) -> Option<Instant> {
        self.0.closed_at.map(Instant)
    }
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The incidents linked to it that the caller may see.
    async fn incidents(&self, ctx: &Context<'_>) -> AppResult<Vec<Ticket>> {
        let scope = ticket_scope(ctx).await?;
        let rows = loaders::children_of::<loaders::IncidentsByProblem, _>(ctx, self.0.id).await?;
        Ok(rows
            .into_iter()
            .filter(|t| scope.allows(t))
            .map(Ticket)
            .collect())
    }
    async fn configuration_items(&self, ctx: &Context<'_>) -> AppResult<Vec<ConfigurationItem>> {
        let rows = problems::items_of(state(ctx).db.conn(), self.0.id).await?;
        Ok(rows.into_iter().map(ConfigurationItem).collect())
    }
    /// Knowledge articles about it (a known error drafts one).
    async fn articles(&self, ctx: &Context<'_>) -> AppResult<Vec<Article>> {
        let rows = knowledge::articles_of_problem(state(ctx).db.conn(), self.0.id).await?;
        Ok(rows.into_iter().map(Article).collect())
    }
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<String, HistoryEntry>> {
        let page = PageArgs::new(first, after, last, before).keyed_or(50)?;
        let rows = events::history_of(state(ctx).db.conn(), "problem", self.0.id, &page).await?;
        Ok(pagination::connection(&page, rows, |e| e.id, HistoryEntry))
    }
}

pub async fn problems_of_ticket(
    ctx: &Context<'_>,
    ticket_id: i64,
) -> AppResult<Vec<problem::Model>> {
    problems::require_reader(caller(ctx))?;
    Ok(ctx
        .data_unchecked::<loaders::TicketProblems>()
        .load_one(ticket_id)
        .await?
        .unwrap_or_default())
}

/// A known error's workaround, as an incident shows it.
#[derive(SimpleObject)]
pub struct Workaround {
    pub problem_number: String,
    pub problem_title: String,
    pub workaround: String,
}

pub async fn workarounds_of_ticket(
    ctx: &Context<'_>,
    ticket_id: i64,
) -> AppResult<Vec<Workaround>> {
    // Requesters see workarounds too: they are what gets them working again.
    let rows = ctx
        .data_unchecked::<loaders::TicketProblems>()
        .load_one(ticket_id)
        .await?
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter(|p| p.status == "KNOWN_ERROR")
        .map(|p| Workaround {
            problem_number: p.number,
            problem_title: p.title,
            workaround: p.workaround,
        })
        .collect())
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum TrendBasis {
    ConfigurationItem,
    Category,
}

/// Incidents that trend detection thinks share a cause.
pub struct ProblemCandidate(pub problem_candidate::Model);

#[Object]
impl ProblemCandidate {
    async fn id(&self) -> ID {
        ids::encode("ProblemCandidate", self.0.id)
    }
    /// What the incidents share.
    async fn basis(&self) -> AppResult<TrendBasis> {
        from_stored_name(&self.0.basis)
    }
    async fn configuration_item(&self, ctx: &Context<'_>) -> AppResult<Option<ConfigurationItem>> {
        if self.0.basis != "CONFIGURATION_ITEM" {
            return Ok(None);
        }
        Ok(ctx
            .data_unchecked::<loaders::ConfigurationItems>()
            .load_one(self.0.subject_id)
            .await?
            .map(ConfigurationItem))
    }
    async fn category(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::desk::Category>> {
        if self.0.basis != "CATEGORY" {
            return Ok(None);
        }
        Ok(ctx
            .data_unchecked::<loaders::Categories>()
            .load_one(self.0.subject_id)
            .await?
            .map(crate::graphql::desk::Category))
    }
    async fn incidents(&self, ctx: &Context<'_>) -> AppResult<Vec<Ticket>> {
        let scope = ticket_scope(ctx).await?;
        let ids = problems::candidate_incident_ids(&self.0);
        let rows = problems::visible_tickets(state(ctx).db.conn(), scope, &ids).await?;
        Ok(rows.into_iter().map(Ticket).collect())
    }
    async fn detected_at(&self) -> Instant {
        Instant(self.0.detected_at)
    }
}

pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<Problem> {
    problems::require_reader(caller(ctx))?;
    Ok(Problem(problems::find(state(ctx).db.conn(), id).await?))
}

#[derive(Default)]
pub struct ProblemQuery;

#[Object]
impl ProblemQuery {
    /// Problems, newest first.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(1) as usize * child_complexity")]
    async fn problems(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] status: Vec<ProblemStatus>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<String, Problem>> {
        problems::require_reader(caller(ctx))?;
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let statuses: Vec<String> = status.into_iter().map(stored_name).collect();
        let rows = problems::list(state(ctx).db.conn(), &statuses, &page).await?;
        Ok(pagination::connection(&page, rows, |p| p.id, Problem))
    }

    /// Problems trend detection proposes: N incidents on one item or category within
    /// the desk's window (`problemTrendIncidents`, `problemTrendWindowHours`).
    async fn problem_candidates(&self, ctx: &Context<'_>) -> AppResult<Vec<ProblemCandidate>> {
        problems::require_reader(caller(ctx))?;
        let rows = problems::candidates(state(ctx).db.conn()).await?;
        Ok(rows.into_iter().map(ProblemCandidate).collect())
    }
}

#[derive(InputObject)]
pub struct CreateProblemInput {
    pub title: String,
    #[graphql(default)]
    pub description: String,
    #[graphql(default_with = "Priority::P3")]
    pub priority: Priority,
    pub group_id: Option<ID>,
    pub assignee_id: Option<ID>,
    #[graphql(default)]
    pub incident_ids: Vec<ID>,
    #[graphql(default)]
    pub configuration_item_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct UpdateProblemInput {
    pub id: ID,
    pub version: i32,
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<Priority>,
    pub root_cause: Option<String>,
    pub workaround: Option<String>,
    pub group_id: MaybeUndefined<ID>,
    pub assignee_id: MaybeUndefined<ID>,
}

#[derive(InputObject)]
pub struct TransitionProblemInput {
    pub id: ID,
    pub version: i32,
    pub to: ProblemStatus,
    /// Resolving: also resolve its open incidents, each with a comment.
    #[graphql(default)]
    pub resolve_incidents: bool,
}

#[derive(InputObject)]
pub struct LinkProblemInput {
    pub problem_id: ID,
    #[graphql(default)]
    pub incident_ids: Vec<ID>,
    #[graphql(default)]
    pub configuration_item_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct ProblemPayload {
    pub problem: Problem,
    /// Incidents resolved with it.
    pub resolved_incidents: Vec<Ticket>,
}

fn payload(row: problem::Model) -> ProblemPayload {
    ProblemPayload {
        problem: Problem(row),
        resolved_incidents: vec![],
    }
}

#[derive(Default)]
pub struct ProblemMutation;

#[Object]
impl ProblemMutation {
    /// Records a problem, optionally with its incidents and items. Agents.
    async fn create_problem(
        &self,
        ctx: &Context<'_>,
        input: CreateProblemInput,
    ) -> AppResult<ProblemPayload> {
        let new = NewProblem {
            title: input.title,
            description: input.description,
            priority: input.priority.number(),
            group_id: ids::decode_opt(input.group_id, "Group", "groupId")?,
            assignee_id: ids::decode_opt(input.assignee_id, "User", "assigneeId")?,
            incident_ids: ids::decode_all(&input.incident_ids, "Ticket", "incidentIds")?,
            configuration_item_ids: ids::decode_all(
                &input.configuration_item_ids,
                "ConfigurationItem",
                "configurationItemIds",
            )?,
        };
        Ok(payload(
            problems::create(&state(ctx).db, caller(ctx), now(ctx), new).await?,
        ))
    }

    async fn update_problem(
        &self,
        ctx: &Context<'_>,
        input: UpdateProblemInput,
    ) -> AppResult<ProblemPayload> {
        let id = ids::decode_as(&input.id, "Problem", "id")?;
        let changes = ProblemChanges {
            title: input.title,
            description: input.description,
            priority: input.priority.map(Priority::number),
            root_cause: input.root_cause,
            workaround: input.workaround,
            group_id: ids::decode_maybe(input.group_id, "Group", "groupId")?,
            assignee_id: ids::decode_maybe(input.assignee_id, "User", "assigneeId")?,
        };
        Ok(payload(
            problems::update(
                &state(ctx).db,
                caller(ctx),
                now(ctx),
                id,
                input.version,
                changes,
            )
            .await?,
        ))
    }

    /// NEW → UNDER_INVESTIGATION → KNOWN_ERROR (root cause and workaround recorded;
    /// drafts a knowledge article) → RESOLVED (root cause recorded) → CLOSED.
    async fn transition_problem(
        &self,
        ctx: &Context<'_>,
        input: TransitionProblemInput,
    ) -> AppResult<ProblemPayload> {
        let id = ids::decode_as(&input.id, "Problem", "id")?;
        let done = problems::transition(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            id,
            input.version,
            Transition {
                to: stored_name(input.to),
                resolve_incidents: input.resolve_incidents,
            },
        )
        .await?;
        Ok(ProblemPayload {
            problem: Problem(done.problem),
            resolved_incidents: done.resolved_incidents.into_iter().map(Ticket).collect(),
        })
    }

    /// Links more incidents and items to a problem.
    async fn link_problem(
        &self,
        ctx: &Context<'_>,
        input: LinkProblemInput,
    ) -> AppResult<ProblemPayload> {
        let id = ids::decode_as(&input.problem_id, "Problem", "problemId")?;
        let incidents = ids::decode_all(&input.incident_ids, "Ticket", "incidentIds")?;
        let items = ids::decode_all(
            &input.configuration_item_ids,
            "ConfigurationItem",
            "configurationItemIds",
        )?;
        Ok(payload(
            problems::link_incidents(
                &state(ctx).db,
                caller(ctx),
                now(ctx),
                id,
                &incidents,
                &items,
            )
            .await?,
        ))
    }

    /// Turns a proposal into a problem with its incidents.
    async fn accept_problem_candidate(
        &self,
        ctx: &Context<'_>,
        id: ID,
        title: Option<String>,
    ) -> AppResult<ProblemPayload> {
        let id = ids::decode_as(&id, "ProblemCandidate", "id")?;
        Ok(payload(
            problems::accept_candidate(&state(ctx).db, caller(ctx), now(ctx), id, title).await?,
        ))
    }

    async fn dismiss_problem_candidate(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> AppResult<ProblemCandidate> {
        let id = ids::decode_as(&id, "ProblemCandidate", "id")?;
        Ok(ProblemCandidate(
            problems::dismiss_candidate(&state(ctx).db, caller(ctx), now(ctx), id).await?,
        ))
    }
}
