//! Problem management: problems, their incidents and items, and the problems trend
//! detection proposes.

use crate::graphql::command::{acting, versioned};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use entity::{problem, problem_candidate};

use crate::domain::problems::types as vocabulary;
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
        ids,
        knowledge::Article,
        loaders,
        pagination::{self, Page, PageArgs},
        state, ticket_scope,
        tickets::{HistoryEntry, Priority, Ticket},
        users::User,
    },
};

/// The problem lifecycle.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::ProblemStatus")]
pub enum ProblemStatus {
    /// Recorded, not yet investigated.
    New,
    /// Being investigated.
    UnderInvestigation,
    /// Root cause and workaround known: the workaround shows on every linked incident.
    KnownError,
    /// The cause is removed.
    Resolved,
    /// Closed.
    Closed,
}

pub struct Problem(pub problem::Model);

/// The unknown cause of one or more incidents, investigated until it is a known error with
/// a workaround and then resolved.
#[Object]
impl Problem {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Problem", self.0.id)
    }
    /// PRB0000001.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// A one-line summary.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What is known of it.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Where it is in the problem lifecycle.
    async fn status(&self) -> AppResult<ProblemStatus> {
        vocabulary::ProblemStatus::stored(&self.0.status).map(Into::into)
    }
    /// P1 is the most urgent, as for tickets.
    async fn priority(&self) -> Priority {
        Priority::from_number(self.0.priority)
    }
    /// The root cause, once found.
    async fn root_cause(&self) -> &str {
        &self.0.root_cause
    }
    /// How to restore service until it is fixed; agents see it on linked incidents.
    async fn workaround(&self) -> &str {
        &self.0.workaround
    }
    /// The group that investigates it.
    async fn group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        loaders::group(ctx, self.0.group_id).await
    }
    /// Who investigates it.
    async fn assignee(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.assignee_id).await
    }
    /// When a workaround was recorded, making it a known error.
    async fn known_error_at(&self) -> Option<Instant> {
        self.0.known_error_at.map(Instant)
    }
    /// When it was resolved.
    async fn resolved_at(&self) -> Option<Instant> {
        self.0.resolved_at.map(Instant)
    }
    /// When it was closed; null until then.
    async fn closed_at(&self) -> Option<Instant> {
        self.0.closed_at.map(Instant)
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// Grows by one with every change. Send it back with a change so that an edit made
    /// meanwhile is never overwritten.
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
    /// The configuration items involved.
    async fn configuration_items(&self, ctx: &Context<'_>) -> AppResult<Vec<ConfigurationItem>> {
        let rows = problems::items_of(state(ctx).db.conn(), self.0.id).await?;
        Ok(rows.into_iter().map(ConfigurationItem).collect())
    }
    /// Knowledge articles about it (a known error drafts one).
    async fn articles(&self, ctx: &Context<'_>) -> AppResult<Vec<Article>> {
        let rows = knowledge::articles_of_problem(state(ctx).db.conn(), self.0.id).await?;
        Ok(rows.into_iter().map(Article).collect())
    }
    /// Every change to it, oldest first.
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
    /// The problem's number.
    pub problem_number: String,
    /// The problem's title.
    pub problem_title: String,
    /// What to do until the problem is fixed.
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
        .filter(|p| p.status == vocabulary::ProblemStatus::KnownError.as_str())
        .map(|p| Workaround {
            problem_number: p.number,
            problem_title: p.title,
            workaround: p.workaround,
        })
        .collect())
}

/// What the incidents of a problem candidate share.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::TrendBasis")]
pub enum TrendBasis {
    /// A configuration item.
    ConfigurationItem,
    /// A category.
    Category,
}

/// Incidents that trend detection thinks share a cause.
pub struct ProblemCandidate(pub problem_candidate::Model);

/// A proposal of trend detection: several incidents sharing a configuration item or
/// category in a short time, maybe one problem.
#[Object]
impl ProblemCandidate {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    async fn id(&self) -> ID {
        ids::encode("ProblemCandidate", self.0.id)
    }
    /// What the incidents share.
    async fn basis(&self) -> AppResult<TrendBasis> {
        vocabulary::TrendBasis::stored(&self.0.basis).map(Into::into)
    }
    /// The item the incidents share, when that is the basis.
    async fn configuration_item(&self, ctx: &Context<'_>) -> AppResult<Option<ConfigurationItem>> {
        if self.0.basis != vocabulary::TrendBasis::ConfigurationItem.as_str() {
            return Ok(None);
        }
        Ok(ctx
            .data_unchecked::<loaders::ConfigurationItems>()
            .load_one(self.0.subject_id)
            .await?
            .map(ConfigurationItem))
    }
    /// The category the incidents share, when that is the basis.
    async fn category(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::desk::Category>> {
        if self.0.basis != vocabulary::TrendBasis::Category.as_str() {
            return Ok(None);
        }
        Ok(ctx
            .data_unchecked::<loaders::Categories>()
            .load_one(self.0.subject_id)
            .await?
            .map(crate::graphql::desk::Category))
    }
    /// The incidents it groups that the caller may see.
    async fn incidents(&self, ctx: &Context<'_>) -> AppResult<Vec<Ticket>> {
        let scope = ticket_scope(ctx).await?;
        let ids = problems::candidate_incident_ids(&self.0);
        let rows = problems::visible_tickets(state(ctx).db.conn(), scope, &ids).await?;
        Ok(rows.into_iter().map(Ticket).collect())
    }
    /// When trend detection proposed it.
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
        #[graphql(default, desc = "Only problems in these statuses; all when empty.")] status: Vec<
            ProblemStatus,
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
    ) -> AppResult<Page<Problem>> {
        problems::require_reader(caller(ctx))?;
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let statuses: Vec<vocabulary::ProblemStatus> = status.into_iter().map(Into::into).collect();
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

/// What `createProblem` takes.
#[derive(InputObject)]
pub struct CreateProblemInput {
    /// A one-line summary.
    pub title: String,
    /// What is known of it.
    #[graphql(default)]
    pub description: String,
    /// P1 is the most urgent, as for tickets.
    #[graphql(default_with = "Priority::P3")]
    pub priority: Priority,
    /// The id of the group.
    pub group_id: Option<ID>,
    /// The id of the assignee.
    pub assignee_id: Option<ID>,
    /// The ids of the incidents.
    #[graphql(default)]
    pub incident_ids: Vec<ID>,
    /// The ids of the configuration items.
    #[graphql(default)]
    pub configuration_item_ids: Vec<ID>,
}

/// What `updateProblem` takes.
#[derive(InputObject)]
pub struct UpdateProblemInput {
    /// The id of the problem.
    pub id: ID,
    /// The `version` you last read: if someone changed it since, nothing is changed and the
    /// error is CONFLICT.
    pub version: i32,
    /// A one-line summary.
    pub title: Option<String>,
    /// What is known of it.
    pub description: Option<String>,
    /// P1 is the most urgent, as for tickets.
    pub priority: Option<Priority>,
    /// The root cause, once found.
    pub root_cause: Option<String>,
    /// How to restore service until it is fixed; agents see it on linked incidents.
    pub workaround: Option<String>,
    /// The id of the group.
    pub group_id: MaybeUndefined<ID>,
    /// The id of the assignee.
    pub assignee_id: MaybeUndefined<ID>,
}

/// What `transitionProblem` takes.
#[derive(InputObject)]
pub struct TransitionProblemInput {
    /// The id of the problem.
    pub id: ID,
    /// The `version` you last read: if someone changed it since, nothing is changed and the
    /// error is CONFLICT.
    pub version: i32,
    /// The status to move to.
    pub to: ProblemStatus,
    /// Resolving: also resolve its open incidents, each with a comment.
    #[graphql(default)]
    pub resolve_incidents: bool,
}

/// What `linkProblem` takes.
#[derive(InputObject)]
pub struct LinkProblemInput {
    /// The id of the problem.
    pub problem_id: ID,
    /// The ids of the incidents.
    #[graphql(default)]
    pub incident_ids: Vec<ID>,
    /// The ids of the configuration items.
    #[graphql(default)]
    pub configuration_item_ids: Vec<ID>,
}

/// What a mutation on a problem returns: the problem as it is after the change.
#[derive(SimpleObject)]
pub struct ProblemPayload {
    /// The problem as it is after the change.
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
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: CreateProblemInput,
    ) -> AppResult<ProblemPayload> {
        let on = acting(ctx);
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
            problems::create(on.db, on.caller, on.now, new).await?,
        ))
    }

    /// Changes a problem's fields; the version guards against lost updates. Agents.
    async fn update_problem(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: UpdateProblemInput,
    ) -> AppResult<ProblemPayload> {
        let on = acting(ctx);
        let target = versioned(&input.id, input.version, "Problem")?;
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
            problems::update(on.db, on.caller, on.now, target.id, target.version, changes).await?,
        ))
    }

    /// NEW → UNDER_INVESTIGATION → KNOWN_ERROR (root cause and workaround recorded;
    /// drafts a knowledge article) → RESOLVED (root cause recorded) → CLOSED.
    async fn transition_problem(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: TransitionProblemInput,
    ) -> AppResult<ProblemPayload> {
        let on = acting(ctx);
        let target = versioned(&input.id, input.version, "Problem")?;
        let done = problems::transition(
            on.db,
            on.caller,
            on.now,
            target.id,
            target.version,
            Transition {
                to: input.to.into(),
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
        #[graphql(desc = "What to do; see the fields of the input type.")] input: LinkProblemInput,
    ) -> AppResult<ProblemPayload> {
        let on = acting(ctx);
        let id = ids::decode_as(&input.problem_id, "Problem", "problemId")?;
        let incidents = ids::decode_all(&input.incident_ids, "Ticket", "incidentIds")?;
        let items = ids::decode_all(
            &input.configuration_item_ids,
            "ConfigurationItem",
            "configurationItemIds",
        )?;
        Ok(payload(
            problems::link_incidents(on.db, on.caller, on.now, id, &incidents, &items).await?,
        ))
    }

    /// Turns a proposal into a problem with its incidents.
    async fn accept_problem_candidate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The candidate's id.")] id: ID,
        #[graphql(desc = "The new problem's title; a suggested one when left out.")] title: Option<
            String,
        >,
    ) -> AppResult<ProblemPayload> {
        let on = acting(ctx);
        let id = ids::decode_as(&id, "ProblemCandidate", "id")?;
        Ok(payload(
            problems::accept_candidate(on.db, on.caller, on.now, id, title).await?,
        ))
    }

    /// Dismisses a proposal of trend detection. Agents.
    async fn dismiss_problem_candidate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The candidate's id.")] id: ID,
    ) -> AppResult<ProblemCandidate> {
        let on = acting(ctx);
        let id = ids::decode_as(&id, "ProblemCandidate", "id")?;
        Ok(ProblemCandidate(
            problems::dismiss_candidate(on.db, on.caller, on.now, id).await?,
        ))
    }
}
