//! How the desk is organised: organizations, groups, categories, routing rules, settings.

use async_graphql::{
    Context, ID, InputObject, MaybeUndefined, Object, SimpleObject, connection::Connection,
};
use entity::{assignment_rule, category, group, organization};
use sea_orm::{EntityTrait, QueryOrder};

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
        pagination::{self, PageArgs},
        state,
        tickets::{Priority, TicketKind},
        users::User,
    },
};

/// A customer the desk serves.
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        ids::encode("Organization", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Whether its requesters see all of its tickets, not only their own.
    async fn requesters_see_all_tickets(&self) -> bool {
        self.0.requesters_see_all_tickets
    }
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}

/// An assignment group: a team of agents working one queue.
pub struct Group(pub group::Model);

#[Object]
impl Group {
    pub async fn id(&self) -> ID {
        ids::encode("Group", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// 1 is the front line.
    async fn tier(&self) -> i16 {
        self.0.tier
    }
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
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<String, User>> {
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let rows = desk::members(state(ctx).db.conn(), self.0.id, &page).await?;
        Ok(pagination::connection(&page, rows, |row| row.id, User))
    }
}

/// A node of the category tree.
pub struct Category(pub category::Model);

#[Object]
impl Category {
    pub async fn id(&self) -> ID {
        ids::encode("Category", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The names from the root, e.g. "Hardware / Laptop".
    async fn path(&self) -> &str {
        &self.0.path
    }
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

#[Object]
impl AssignmentRule {
    pub async fn id(&self) -> ID {
        ids::encode("AssignmentRule", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn kind(&self) -> AppResult<Option<TicketKind>> {
        self.0
            .match_kind
            .as_deref()
            .map(|k| types::Kind::parse(k, "kind").map(Into::into))
            .transpose()
    }
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
    async fn priority(&self) -> Option<Priority> {
        self.0.match_priority.map(Priority::from_number)
    }
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
    async fn group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        ctx.data_unchecked::<loaders::Groups>()
            .load_one(self.0.group_id)
            .await
            .map(|g| g.map(Group))
    }
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
    async fn organizations(&self, ctx: &Context<'_>) -> AppResult<Vec<Organization>> {
        caller(ctx).require_role(Role::Agent)?;
        let rows = organization::Entity::find()
            .order_by_asc(organization::Column::Name)
            .all(state(ctx).db.conn())
            .await?;
        Ok(rows.into_iter().map(Organization).collect())
    }
    async fn groups(&self, ctx: &Context<'_>) -> AppResult<Vec<Group>> {
        caller(ctx).person()?;
        let rows = group::Entity::find()
            .order_by_asc(group::Column::Name)
            .all(state(ctx).db.conn())
            .await?;
        Ok(rows.into_iter().map(Group).collect())
    }
    /// The category tree, in path order.
    async fn categories(&self, ctx: &Context<'_>) -> AppResult<Vec<Category>> {
        caller(ctx).person()?;
        let rows = category::Entity::find()
            .order_by_asc(category::Column::Path)
            .all(state(ctx).db.conn())
            .await?;
        Ok(rows.into_iter().map(Category).collect())
    }
    /// Routing rules in the order they are tried. Admins only.
    async fn assignment_rules(&self, ctx: &Context<'_>) -> AppResult<Vec<AssignmentRule>> {
        desk::require_admin(caller(ctx))?;
        let rows = assignment_rule::Entity::find()
            .order_by_asc(assignment_rule::Column::Position)
            .order_by_asc(assignment_rule::Column::Id)
            .all(state(ctx).db.conn())
            .await?;
        Ok(rows.into_iter().map(AssignmentRule).collect())
    }
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
            desk::require_admin(caller(ctx))?;
            let row = assignment_rule::Entity::find_by_id(id)
                .one(state(ctx).db.conn())
                .await?
                .ok_or_else(not_found)?;
            Node::AssignmentRule(AssignmentRule(row))
        }
        _ => return Ok(None),
    };
    Ok(Some(node))
}

#[derive(InputObject)]
pub struct CreateOrganizationInput {
    pub name: String,
    #[graphql(default)]
    pub requesters_see_all_tickets: bool,
}

#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    pub id: ID,
    pub name: Option<String>,
    pub requesters_see_all_tickets: Option<bool>,
}

#[derive(SimpleObject)]
pub struct OrganizationPayload {
    pub organization: Organization,
}

#[derive(InputObject)]
pub struct SetUserOrganizationInput {
    pub user_id: ID,
    /// Null takes the person out of any organization.
    pub organization_id: Option<ID>,
}

#[derive(InputObject)]
pub struct SetUserManagerInput {
    pub user_id: ID,
    /// Null: no manager.
    pub manager_id: Option<ID>,
}

#[derive(InputObject)]
pub struct SetAvailabilityInput {
    /// Default: the caller. Setting someone else's needs the manager role.
    pub user_id: Option<ID>,
    pub available: bool,
}

#[derive(SimpleObject)]
pub struct UserPayload {
    pub user: User,
}

#[derive(InputObject)]
pub struct SaveGroupInput {
    /// Absent to create a group.
    pub id: Option<ID>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub tier: Option<i16>,
    pub manager_id: MaybeUndefined<ID>,
    pub escalation_group_id: MaybeUndefined<ID>,
}

#[derive(SimpleObject)]
pub struct GroupPayload {
    pub group: Group,
}

#[derive(InputObject)]
pub struct GroupMemberInput {
    pub group_id: ID,
    pub user_id: ID,
}

#[derive(InputObject)]
pub struct CreateCategoryInput {
    pub name: String,
    pub parent_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct CategoryPayload {
    pub category: Category,
}

#[derive(InputObject)]
pub struct SaveAssignmentRuleInput {
    /// Absent to create a rule.
    pub id: Option<ID>,
    pub name: String,
    /// Rules are tried in ascending position.
    pub position: i32,
    #[graphql(default = true)]
    pub active: bool,
    pub kind: Option<TicketKind>,
    /// Matches this category and those below it.
    pub category_id: Option<ID>,
    pub priority: Option<Priority>,
    pub organization_id: Option<ID>,
    /// Words that must all appear in the title.
    pub title_words: Option<String>,
    pub group_id: ID,
    #[graphql(default_with = "AgentStrategy::Queue")]
    pub agent_strategy: AgentStrategy,
    #[graphql(default)]
    pub flag_manager: bool,
}

#[derive(SimpleObject)]
pub struct AssignmentRulePayload {
    pub assignment_rule: AssignmentRule,
}

#[derive(InputObject)]
pub struct DeleteAssignmentRuleInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct DeleteAssignmentRulePayload {
    pub deleted_id: ID,
}

#[derive(Default)]
pub struct DeskMutation;

/// Admins organise the desk.
#[Object]
impl DeskMutation {
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
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

    async fn update_organization(
        &self,
        ctx: &Context<'_>,
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
        input: SaveGroupInput,
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

    async fn add_group_member(
        &self,
        ctx: &Context<'_>,
        input: GroupMemberInput,
    ) -> AppResult<GroupPayload> {
        desk::require_admin(caller(ctx))?;
        let group_id = ids::decode_as(&input.group_id, "Group", "groupId")?;
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        Ok(GroupPayload {
            group: Group(desk::add_member(&state(ctx).db, group_id, user_id).await?),
        })
    }

    async fn remove_group_member(
        &self,
        ctx: &Context<'_>,
        input: GroupMemberInput,
    ) -> AppResult<GroupPayload> {
        desk::require_admin(caller(ctx))?;
        let group_id = ids::decode_as(&input.group_id, "Group", "groupId")?;
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        Ok(GroupPayload {
            group: Group(desk::remove_member(&state(ctx).db, group_id, user_id).await?),
        })
    }

    async fn create_category(
        &self,
        ctx: &Context<'_>,
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

    async fn delete_assignment_rule(
        &self,
        ctx: &Context<'_>,
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
        input: DeskSettingsView,
    ) -> AppResult<DeskSettingsView> {
        desk::require_admin(caller(ctx))?;
        let desired = input.into_domain()?;
        if let Some(group) = desired.default_group_id {
            group::Entity::find_by_id(group)
                .one(state(ctx).db.conn())
                .await?
                .ok_or_else(|| {
                    AppError::bad_input("defaultGroupId", "there is no group with that id")
                })?;
        }
        settings::save(&state(ctx).db, &desired).await?;
        Ok(DeskSettingsView::of(&desired))
    }
}
