//! How the desk is organised: organizations, groups, categories, routing rules, settings.
//!
//! The objects are here; the queries in `query` and the mutations in `mutation`.

mod mutation;
mod query;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::{assignment_rule, category, group, organization};

use crate::graphql::instant::Instant;
use crate::{
    domain::{desk, settings::DeskSettings, tickets::types},
    error::{AppError, AppResult},
    graphql::{
        ids, loaders,
        pagination::{self, Page, PageArgs},
        state,
        tickets::{Priority, TicketKind},
        users::User,
    },
};

pub use mutation::{
    AssignmentRulePayload, CategoryPayload, CreateCategoryInput, CreateOrganizationInput,
    DeleteAssignmentRuleInput, DeleteAssignmentRulePayload, DeskMutation, GroupMemberInput,
    GroupPayload, OrganizationPayload, SaveAssignmentRuleInput, SaveGroupInput,
    SetAvailabilityInput, SetUserManagerInput, SetUserOrganizationInput, UpdateOrganizationInput,
    UserPayload,
};
pub use query::{DeskQuery, load_node};

/// A customer the desk serves.
pub struct Organization(pub organization::Model);

/// A customer organization whose people raise tickets.
#[Object]
impl Organization {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Organization", self.0.id)
    }
    /// The organization's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Whether its requesters see all of its tickets, not only their own.
    async fn requesters_see_all_tickets(&self) -> bool {
        self.0.requesters_see_all_tickets
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}

/// An assignment group: a team of agents working one queue.
pub struct Group(pub group::Model);

/// A team of agents with a queue of tickets.
#[Object]
impl Group {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Group", self.0.id)
    }
    /// The group's name, e.g. "Network".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the group does.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// 1 is the front line.
    async fn tier(&self) -> i16 {
        self.0.tier
    }
    /// The group's manager, told of hierarchic escalations.
    async fn manager(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.manager_id {
            Some(id) => ctx
                .data_unchecked::<loaders::Users>()
                .load_one(id)
                .await
                .map(|u| u.map(User)),
            None => Ok(None),
        }
    }
    /// Where functional escalation sends its tickets.
    async fn escalation_group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        match self.0.escalation_group_id {
            Some(id) => ctx
                .data_unchecked::<loaders::Groups>()
                .load_one(id)
                .await
                .map(|g| g.map(Group)),
            None => Ok(None),
        }
    }
    /// The people in the group, in the order they were first seen.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn members(
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
    ) -> AppResult<Page<User>> {
        // On the heap, as the ticket's heavier resolvers are (see `Ticket`): a group is
        // shown beside every ticket of a page, its members seldom.
        Box::pin(async move {
            let page = PageArgs::new(first, after, last, before).keyed()?;
            let rows = desk::members(state(ctx).db.conn(), self.0.id, &page).await?;
            Ok(pagination::connection(&page, rows, |row| row.id, User))
        })
        .await
    }
}

/// A node of the category tree.
pub struct Category(pub category::Model);

/// A node of the ticket category tree, e.g. "Hardware / Laptop".
#[Object]
impl Category {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Category", self.0.id)
    }
    /// The category's own name, e.g. "Laptop".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The names from the root, e.g. "Hardware / Laptop".
    async fn path(&self) -> &str {
        &self.0.path
    }
    /// The category above it; null at the top.
    async fn parent(&self, ctx: &Context<'_>) -> AppResult<Option<Category>> {
        match self.0.parent_id {
            Some(id) => ctx
                .data_unchecked::<loaders::Categories>()
                .load_one(id)
                .await
                .map(|c| c.map(Category)),
            None => Ok(None),
        }
    }
}

/// A routing rule: unset conditions match anything; the first active rule by position wins.
pub struct AssignmentRule(pub assignment_rule::Model);

/// A routing rule: tickets matching its conditions go to its group (and, by its strategy,
/// to an agent). Rules are tried in `position` order; the first match wins.
#[Object]
impl AssignmentRule {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("AssignmentRule", self.0.id)
    }
    /// A name for the people who maintain the rules.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Where it stands in the order rules are tried, from 1.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// Inactive rules are skipped.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Matches tickets of this kind; null matches any.
    async fn kind(&self) -> AppResult<Option<TicketKind>> {
        self.0
            .match_kind
            .as_deref()
            .map(|k| types::Kind::parse(k, "kind").map(Into::into))
            .transpose()
    }
    /// Matches tickets in this category or below it; null matches any.
    async fn category(&self, ctx: &Context<'_>) -> AppResult<Option<Category>> {
        match self.0.match_category_id {
            Some(id) => ctx
                .data_unchecked::<loaders::Categories>()
                .load_one(id)
                .await
                .map(|c| c.map(Category)),
            None => Ok(None),
        }
    }
    /// Matches tickets of this priority; null matches any.
    async fn priority(&self) -> Option<Priority> {
        self.0.match_priority.map(Priority::from_number)
    }
    /// Matches tickets of this organization; null matches any.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Option<Organization>> {
        match self.0.match_organization_id {
            Some(id) => ctx
                .data_unchecked::<loaders::Organizations>()
                .load_one(id)
                .await
                .map(|o| o.map(Organization)),
            None => Ok(None),
        }
    }
    /// Words that must all appear in the title.
    async fn title_words(&self) -> Option<&str> {
        self.0.match_title_words.as_deref()
    }
    /// The group matching tickets are routed to.
    async fn group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        ctx.data_unchecked::<loaders::Groups>()
            .load_one(self.0.group_id)
            .await
            .map(|g| g.map(Group))
    }
    /// How an agent of the group is chosen, if at all.
    async fn agent_strategy(&self) -> AppResult<AgentStrategy> {
        types::AgentStrategy::parse(&self.0.agent_strategy, "agentStrategy").map(Into::into)
    }
    /// Whether routing by this rule flags the group's manager (hierarchical escalation).
    async fn flag_manager(&self) -> bool {
        self.0.flag_manager
    }
}

/// How a rule picks the agent within its group.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "types::AgentStrategy")]
pub enum AgentStrategy {
    /// The available member with the fewest open tickets.
    LeastOpen,
    /// Available members in turn.
    RoundRobin,
    /// Nobody: the ticket waits in the group's queue.
    Queue,
}

/// The priority matrix, by impact (rows) and urgency (columns): high, medium, low.
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "DeskSettingsInput")]
pub struct DeskSettingsView {
    /// Priority (1–4) by impact (rows HIGH, MEDIUM, LOW) and urgency (columns HIGH, MEDIUM,
    /// LOW).
    pub priority_matrix: Vec<Vec<i32>>,
    /// Days after resolution during which a ticket may be reopened.
    pub reopen_window_days: i32,
    /// Days after resolution when a resolved ticket closes itself.
    pub auto_close_days: i32,
    /// The queue for tickets no rule routes.
    pub default_group_id: Option<ID>,
    /// Trend detection: this many incidents on one configuration item or category…
    #[graphql(default = 3)]
    pub problem_trend_incidents: i32,
    /// …within this many hours propose a problem.
    #[graphql(default = 24)]
    pub problem_trend_window_hours: i32,
    /// Whether mail from an address the desk does not know opens a ticket for a new
    /// requester (otherwise it is set aside, with the reason, in `mailMessages`).
    #[graphql(default = false)]
    pub mail_from_strangers: bool,
    /// Whether an agent must record time worked on a ticket before resolving it.
    #[graphql(default = false)]
    pub require_time_to_resolve: bool,
    /// The share of resolutions, 0 to 100, whose requester is asked how satisfied they
    /// are (the same tickets whenever asked); 0 asks nobody.
    #[graphql(default = 0)]
    pub survey_share_percent: i32,
    /// Days a satisfaction survey may be answered.
    #[graphql(default = 14)]
    pub survey_expiry_days: i32,
    /// Customers whose requesters are never surveyed.
    #[graphql(default)]
    pub survey_excluded_organization_ids: Vec<ID>,
    /// Services whose tickets are never surveyed.
    #[graphql(default)]
    pub survey_excluded_service_ids: Vec<ID>,
    /// Whether an incident raised from alerts resolves itself when all its alerts are
    /// resolved and none is flapping, with their timeline as its comment.
    #[graphql(default = true)]
    pub alert_auto_resolve: bool,
    /// An alert changing between firing and resolved this many times…
    #[graphql(default = 3)]
    pub alert_flap_changes: i32,
    /// …within this many minutes is flapping: its incident stays open and is not
    /// raised again.
    #[graphql(default = 30)]
    pub alert_flap_window_minutes: i32,
    /// A capacity measure forecast to cross its threshold within this many days is
    /// announced.
    #[graphql(default = 30)]
    pub capacity_horizon_days: i32,
    /// How many of a measure's latest values its forecast is fitted to.
    #[graphql(default = 30)]
    pub capacity_forecast_points: i32,
}

impl DeskSettingsView {
    fn of(s: &DeskSettings) -> DeskSettingsView {
        DeskSettingsView {
            priority_matrix: s
                .priority_matrix
                .iter()
                .map(|row| row.iter().map(|&p| p as i32).collect())
                .collect(),
            reopen_window_days: s.reopen_window_days as i32,
            auto_close_days: s.auto_close_days as i32,
            default_group_id: s.default_group_id.map(|id| ids::encode("Group", id)),
            problem_trend_incidents: s.problem_trend_incidents as i32,
            problem_trend_window_hours: s.problem_trend_window_hours as i32,
            mail_from_strangers: s.mail_from_strangers,
            require_time_to_resolve: s.require_time_to_resolve,
            survey_share_percent: s.survey_share_percent as i32,
            survey_expiry_days: s.survey_expiry_days as i32,
            survey_excluded_organization_ids: s
                .survey_excluded_organization_ids
                .iter()
                .map(|&id| ids::encode("Organization", id))
                .collect(),
            survey_excluded_service_ids: s
                .survey_excluded_service_ids
                .iter()
                .map(|&id| ids::encode("Service", id))
                .collect(),
            alert_auto_resolve: s.alert_auto_resolve,
            alert_flap_changes: s.alert_flap_changes as i32,
            alert_flap_window_minutes: s.alert_flap_window_minutes as i32,
            capacity_horizon_days: s.capacity_horizon_days as i32,
            capacity_forecast_points: s.capacity_forecast_points as i32,
        }
    }

    fn into_domain(self) -> AppResult<DeskSettings> {
        let bad_matrix =
            || AppError::bad_input("priorityMatrix", "give 3 rows of 3 priorities (1 to 4)");
        if self.priority_matrix.len() != 3 {
            return Err(bad_matrix());
        }
        let mut matrix = [[0i16; 3]; 3];
        for (r, row) in self.priority_matrix.iter().enumerate() {
            if row.len() != 3 {
                return Err(bad_matrix());
            }
            for (c, &p) in row.iter().enumerate() {
                matrix[r][c] = i16::try_from(p).map_err(|_| bad_matrix())?;
            }
        }
        Ok(DeskSettings {
            priority_matrix: matrix,
            reopen_window_days: self.reopen_window_days.into(),
            auto_close_days: self.auto_close_days.into(),
            default_group_id: ids::decode_opt(self.default_group_id, "Group", "defaultGroupId")?,
            problem_trend_incidents: self.problem_trend_incidents.into(),
            problem_trend_window_hours: self.problem_trend_window_hours.into(),
            mail_from_strangers: self.mail_from_strangers,
            require_time_to_resolve: self.require_time_to_resolve,
            survey_share_percent: self.survey_share_percent.into(),
            survey_expiry_days: self.survey_expiry_days.into(),
            survey_excluded_organization_ids: ids::decode_all(
                &self.survey_excluded_organization_ids,
                "Organization",
                "surveyExcludedOrganizationIds",
            )?,
            survey_excluded_service_ids: ids::decode_all(
                &self.survey_excluded_service_ids,
                "Service",
                "surveyExcludedServiceIds",
            )?,
            alert_auto_resolve: self.alert_auto_resolve,
            alert_flap_changes: self.alert_flap_changes.into(),
            alert_flap_window_minutes: self.alert_flap_window_minutes.into(),
            capacity_horizon_days: self.capacity_horizon_days.into(),
            capacity_forecast_points: self.capacity_forecast_points.into(),
        })
    }
}
