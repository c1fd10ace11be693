//! How the desk is organised: organizations, groups, categories, routing rules, settings.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use entity::{assignment_rule, category, group, organization};

use crate::graphql::instant::Instant;
use crate::{
    auth::Role,
    domain::{
        desk::{self, GroupFields, RuleFields},
        settings::{self, DeskSettings},
        tickets::types,
    },
    error::{AppError, AppResult},
    graphql::{
        caller, ids, loaders, now,
        pagination::{self, Page, PageArgs},
        state,
        tickets::{Priority, TicketKind},
        users::User,
    },
};

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
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let rows = desk::members(state(ctx).db.conn(), self.0.id, &page).await?;
        Ok(pagination::connection(&page, rows, |row| row.id, User))
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
        })
    }
}

#[derive(Default)]
pub struct DeskQuery;

#[Object]
impl DeskQuery {
    /// Every customer organization, by name. Agents.
    async fn organizations(&self, ctx: &Context<'_>) -> AppResult<Vec<Organization>> {
        let rows = desk::organizations(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(Organization).collect())
    }
    /// Every group, by name.
    async fn groups(&self, ctx: &Context<'_>) -> AppResult<Vec<Group>> {
        let rows = desk::groups(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(Group).collect())
    }
    /// The category tree, in path order.
    async fn categories(&self, ctx: &Context<'_>) -> AppResult<Vec<Category>> {
        let rows = desk::categories(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(Category).collect())
    }
    /// Routing rules in the order they are tried. Admins only.
    async fn assignment_rules(&self, ctx: &Context<'_>) -> AppResult<Vec<AssignmentRule>> {
        let rows = desk::assignment_rules(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(AssignmentRule).collect())
    }
    /// The desk's settings (the priority matrix). Agents.
    async fn desk_settings(&self, ctx: &Context<'_>) -> AppResult<DeskSettingsView> {
        caller(ctx).require_role(Role::Agent)?;
        Ok(DeskSettingsView::of(
            &settings::load(state(ctx).db.conn()).await?,
        ))
    }
}

pub async fn load_node(
    ctx: &Context<'_>,
    type_name: &str,
    id: i64,
) -> AppResult<Option<crate::graphql::node::Node>> {
    use crate::graphql::node::Node;
    caller(ctx).person()?;
    let not_found = || AppError::NotFound(format!("there is no {type_name} with that id"));
    let node = match type_name {
        "Organization" => {
            caller(ctx).require_role(Role::Agent)?;
            let row = ctx
                .data_unchecked::<loaders::Organizations>()
                .load_one(id)
                .await?
                .ok_or_else(not_found)?;
            Node::Organization(Organization(row))
        }
        "Group" => Node::Group(Group(
            ctx.data_unchecked::<loaders::Groups>()
                .load_one(id)
                .await?
                .ok_or_else(not_found)?,
        )),
        "Category" => Node::Category(Category(
            ctx.data_unchecked::<loaders::Categories>()
                .load_one(id)
                .await?
                .ok_or_else(not_found)?,
        )),
        "AssignmentRule" => {
            let row = desk::assignment_rule(state(ctx).db.conn(), caller(ctx), id)
                .await?
                .ok_or_else(not_found)?;
            Node::AssignmentRule(AssignmentRule(row))
        }
        _ => return Ok(None),
    };
    Ok(Some(node))
}

/// What `createOrganization` takes.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// The organization's name.
    pub name: String,
    /// Let the organization's requesters see each other's tickets, not only their own.
    #[graphql(default)]
    pub requesters_see_all_tickets: bool,
}

/// What `updateOrganization` takes.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// The id of the organization.
    pub id: ID,
    /// The organization's name.
    pub name: Option<String>,
    /// Whether its requesters see all of its tickets, not only their own.
    pub requesters_see_all_tickets: Option<bool>,
}

/// What a mutation on an organization returns: the organization as it is after the change.
#[derive(SimpleObject)]
pub struct OrganizationPayload {
    /// The organization as it is after the change.
    pub organization: Organization,
}

/// What `setUserOrganization` takes.
#[derive(InputObject)]
pub struct SetUserOrganizationInput {
    /// The id of the user.
    pub user_id: ID,
    /// Null takes the person out of any organization.
    pub organization_id: Option<ID>,
}

/// What `setUserManager` takes.
#[derive(InputObject)]
pub struct SetUserManagerInput {
    /// The id of the user.
    pub user_id: ID,
    /// Null: no manager.
    pub manager_id: Option<ID>,
}

/// What `setAvailability` takes.
#[derive(InputObject)]
pub struct SetAvailabilityInput {
    /// Default: the caller. Setting someone else's needs the manager role.
    pub user_id: Option<ID>,
    /// False while away: routing skips people who are not available.
    pub available: bool,
}

/// What a mutation on a person returns: the person as they are after the change.
#[derive(SimpleObject)]
pub struct UserPayload {
    /// The user as it is after the change.
    pub user: User,
}

/// What `saveGroup` takes.
#[derive(InputObject)]
pub struct SaveGroupInput {
    /// Absent to create a group.
    pub id: Option<ID>,
    /// The group's name, e.g. "Network".
    pub name: Option<String>,
    /// What the group does.
    pub description: Option<String>,
    /// The support tier, 1 for the first line.
    pub tier: Option<i16>,
    /// The id of the manager.
    pub manager_id: MaybeUndefined<ID>,
    /// The id of the escalation group.
    pub escalation_group_id: MaybeUndefined<ID>,
}

/// What a mutation on a group returns: the group as it is after the change.
#[derive(SimpleObject)]
pub struct GroupPayload {
    /// The group as it is after the change.
    pub group: Group,
}

/// What `groupMember` takes.
#[derive(InputObject)]
pub struct GroupMemberInput {
    /// The id of the group.
    pub group_id: ID,
    /// The id of the user.
    pub user_id: ID,
}

/// What `createCategory` takes.
#[derive(InputObject)]
pub struct CreateCategoryInput {
    /// The category's own name, e.g. "Laptop".
    pub name: String,
    /// The id of the parent.
    pub parent_id: Option<ID>,
}

/// What a mutation on a category returns: the category as it is after the change.
#[derive(SimpleObject)]
pub struct CategoryPayload {
    /// The category as it is after the change.
    pub category: Category,
}

/// What `saveAssignmentRule` takes.
#[derive(InputObject)]
pub struct SaveAssignmentRuleInput {
    /// Absent to create a rule.
    pub id: Option<ID>,
    /// A name for the people who maintain the rules.
    pub name: String,
    /// Rules are tried in ascending position.
    pub position: i32,
    /// Inactive rules are skipped.
    #[graphql(default = true)]
    pub active: bool,
    /// Matches tickets of this kind; null matches any.
    pub kind: Option<TicketKind>,
    /// Matches this category and those below it.
    pub category_id: Option<ID>,
    /// Matches tickets of this priority; null matches any.
    pub priority: Option<Priority>,
    /// The id of the organization.
    pub organization_id: Option<ID>,
    /// Words that must all appear in the title.
    pub title_words: Option<String>,
    /// The id of the group.
    pub group_id: ID,
    /// How an agent of the group is chosen, if at all.
    #[graphql(default_with = "AgentStrategy::Queue")]
    pub agent_strategy: AgentStrategy,
    /// Tell the group's manager of each ticket routed by this rule.
    #[graphql(default)]
    pub flag_manager: bool,
}

/// What a mutation on an assignment rule returns: the rule as it is after the change.
#[derive(SimpleObject)]
pub struct AssignmentRulePayload {
    /// The assignment rule as it is after the change.
    pub assignment_rule: AssignmentRule,
}

/// What `deleteAssignmentRule` takes.
#[derive(InputObject)]
pub struct DeleteAssignmentRuleInput {
    /// The id of the assignment rule.
    pub id: ID,
}

/// What `deleteAssignmentRule` returns.
#[derive(SimpleObject)]
pub struct DeleteAssignmentRulePayload {
    /// The deleted id as it is after the change.
    pub deleted_id: ID,
}

#[derive(Default)]
pub struct DeskMutation;

/// Admins organise the desk.
#[Object]
impl DeskMutation {
    /// Adds a customer organization. Admins.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: CreateOrganizationInput,
    ) -> AppResult<OrganizationPayload> {
        desk::require_admin(caller(ctx))?;
        let row = desk::create_organization(
            &state(ctx).db,
            now(ctx),
            &input.name,
            input.requesters_see_all_tickets,
        )
        .await?;
        Ok(OrganizationPayload {
            organization: Organization(row),
        })
    }

    /// Renames an organization or changes what its requesters see. Admins.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: UpdateOrganizationInput,
    ) -> AppResult<OrganizationPayload> {
        desk::require_admin(caller(ctx))?;
        let id = ids::decode_as(&input.id, "Organization", "id")?;
        let row = desk::update_organization(
            &state(ctx).db,
            id,
            input.name.as_deref(),
            input.requesters_see_all_tickets,
        )
        .await?;
        Ok(OrganizationPayload {
            organization: Organization(row),
        })
    }

    /// Makes a person a requester of an organization.
    async fn set_user_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SetUserOrganizationInput,
    ) -> AppResult<UserPayload> {
        desk::require_admin(caller(ctx))?;
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        let org = ids::decode_opt(input.organization_id, "Organization", "organizationId")?;
        Ok(UserPayload {
            user: User(desk::set_user_organization(&state(ctx).db, user_id, org).await?),
        })
    }

    /// Names a person's manager, who approves their orders that need it. Admins only.
    async fn set_user_manager(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SetUserManagerInput,
    ) -> AppResult<UserPayload> {
        desk::require_admin(caller(ctx))?;
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        let manager = ids::decode_opt(input.manager_id, "User", "managerId")?;
        Ok(UserPayload {
            user: User(desk::set_user_manager(&state(ctx).db, user_id, manager).await?),
        })
    }

    /// Whether routing may hand an agent new tickets. Agents set their own; managers anyone's.
    async fn set_availability(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SetAvailabilityInput,
    ) -> AppResult<UserPayload> {
        let me = caller(ctx).require_role(Role::Agent)?;
        let user_id = match input.user_id {
            Some(id) => ids::decode_as(&id, "User", "userId")?,
            None => me.user_id,
        };
        if user_id != me.user_id {
            caller(ctx).require_role(Role::Manager)?;
        }
        Ok(UserPayload {
            user: User(desk::set_availability(&state(ctx).db, user_id, input.available).await?),
        })
    }

    /// Creates a group (no id) or changes one.
    async fn save_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: SaveGroupInput,
    ) -> AppResult<GroupPayload> {
        desk::require_admin(caller(ctx))?;
        let id = ids::decode_opt(input.id, "Group", "id")?;
        let fields = GroupFields {
            name: input.name,
            description: input.description,
            tier: input.tier,
            manager_id: ids::decode_maybe(input.manager_id, "User", "managerId")?,
            escalation_group_id: ids::decode_maybe(
                input.escalation_group_id,
                "Group",
                "escalationGroupId",
            )?,
        };
        Ok(GroupPayload {
            group: Group(desk::save_group(&state(ctx).db, now(ctx), id, fields).await?),
        })
    }

    /// Puts a person into a group. Admins.
    async fn add_group_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: GroupMemberInput,
    ) -> AppResult<GroupPayload> {
        desk::require_admin(caller(ctx))?;
        let group_id = ids::decode_as(&input.group_id, "Group", "groupId")?;
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        Ok(GroupPayload {
            group: Group(desk::add_member(&state(ctx).db, group_id, user_id).await?),
        })
    }

    /// Takes a person out of a group. Admins.
    async fn remove_group_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: GroupMemberInput,
    ) -> AppResult<GroupPayload> {
        desk::require_admin(caller(ctx))?;
        let group_id = ids::decode_as(&input.group_id, "Group", "groupId")?;
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        Ok(GroupPayload {
            group: Group(desk::remove_member(&state(ctx).db, group_id, user_id).await?),
        })
    }

    /// Adds a ticket category, optionally below another. Admins.
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: CreateCategoryInput,
    ) -> AppResult<CategoryPayload> {
        desk::require_admin(caller(ctx))?;
        let parent = ids::decode_opt(input.parent_id, "Category", "parentId")?;
        Ok(CategoryPayload {
            category: Category(desk::create_category(&state(ctx).db, &input.name, parent).await?),
        })
    }

    /// Creates a routing rule (no id) or replaces one's definition.
    async fn save_assignment_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SaveAssignmentRuleInput,
    ) -> AppResult<AssignmentRulePayload> {
        desk::require_admin(caller(ctx))?;
        let id = ids::decode_opt(input.id, "AssignmentRule", "id")?;
        let fields = RuleFields {
            name: input.name,
            position: input.position,
            active: input.active,
            kind: input.kind.map(Into::into),
            category_id: ids::decode_opt(input.category_id, "Category", "categoryId")?,
            priority: input.priority.map(Priority::number),
            organization_id: ids::decode_opt(
                input.organization_id,
                "Organization",
                "organizationId",
            )?,
            title_words: input.title_words,
            group_id: ids::decode_as(&input.group_id, "Group", "groupId")?,
            agent_strategy: input.agent_strategy.into(),
            flag_manager: input.flag_manager,
        };
        let row = desk::save_rule(&state(ctx).db, now(ctx), id, fields).await?;
        Ok(AssignmentRulePayload {
            assignment_rule: AssignmentRule(row),
        })
    }

    /// Removes a routing rule. Admins.
    async fn delete_assignment_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: DeleteAssignmentRuleInput,
    ) -> AppResult<DeleteAssignmentRulePayload> {
        desk::require_admin(caller(ctx))?;
        desk::delete_rule(
            &state(ctx).db,
            ids::decode_as(&input.id, "AssignmentRule", "id")?,
        )
        .await?;
        Ok(DeleteAssignmentRulePayload {
            deleted_id: input.id,
        })
    }

    /// The priority matrix, reopen window, auto-close period and default queue.
    async fn update_desk_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: DeskSettingsView,
    ) -> AppResult<DeskSettingsView> {
        desk::require_admin(caller(ctx))?;
        let desired = input.into_domain()?;
        settings::save(&state(ctx).db, &desired).await?;
        Ok(DeskSettingsView::of(&desired))
    }
}
