//! Organising the desk: each mutation decodes its input and calls one domain command.

use crate::graphql::command::acting;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use crate::{
    auth::Role,
    domain::{
        desk::{self, GroupFields, RuleFields},
        settings,
    },
    error::AppResult,
    graphql::{
        caller, ids, state,
        tickets::{Priority, TicketKind},
        users::User,
    },
};

use super::{AgentStrategy, AssignmentRule, Category, DeskSettingsView, Group, Organization};

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
        let on = acting(ctx);
        let row = desk::create_organization(
            on.db,
            on.caller,
            on.now,
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
        let id = ids::decode_as(&input.id, "Organization", "id")?;
        let row = desk::update_organization(
            &state(ctx).db,
            caller(ctx),
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
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        let org = ids::decode_opt(input.organization_id, "Organization", "organizationId")?;
        Ok(UserPayload {
            user: User(
                desk::set_user_organization(&state(ctx).db, caller(ctx), user_id, org).await?,
            ),
        })
    }

    /// Names a person's manager, who approves their orders that need it. Admins only.
    async fn set_user_manager(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SetUserManagerInput,
    ) -> AppResult<UserPayload> {
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        let manager = ids::decode_opt(input.manager_id, "User", "managerId")?;
        Ok(UserPayload {
            user: User(
                desk::set_user_manager(&state(ctx).db, caller(ctx), user_id, manager).await?,
            ),
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
        let on = acting(ctx);
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
            group: Group(desk::save_group(on.db, on.caller, on.now, id, fields).await?),
        })
    }

    /// Puts a person into a group. Admins.
    async fn add_group_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: GroupMemberInput,
    ) -> AppResult<GroupPayload> {
        let group_id = ids::decode_as(&input.group_id, "Group", "groupId")?;
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        Ok(GroupPayload {
            group: Group(desk::add_member(&state(ctx).db, caller(ctx), group_id, user_id).await?),
        })
    }

    /// Takes a person out of a group. Admins.
    async fn remove_group_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: GroupMemberInput,
    ) -> AppResult<GroupPayload> {
        let group_id = ids::decode_as(&input.group_id, "Group", "groupId")?;
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        Ok(GroupPayload {
            group: Group(
                desk::remove_member(&state(ctx).db, caller(ctx), group_id, user_id).await?,
            ),
        })
    }

    /// Adds a ticket category, optionally below another. Admins.
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: CreateCategoryInput,
    ) -> AppResult<CategoryPayload> {
        let parent = ids::decode_opt(input.parent_id, "Category", "parentId")?;
        Ok(CategoryPayload {
            category: Category(
                desk::create_category(&state(ctx).db, caller(ctx), &input.name, parent).await?,
            ),
        })
    }

    /// Creates a routing rule (no id) or replaces one's definition.
    async fn save_assignment_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SaveAssignmentRuleInput,
    ) -> AppResult<AssignmentRulePayload> {
        let on = acting(ctx);
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
        let row = desk::save_rule(on.db, on.caller, on.now, id, fields).await?;
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
        desk::delete_rule(
            &state(ctx).db,
            caller(ctx),
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
        let desired = input.into_domain()?;
        settings::save(&state(ctx).db, caller(ctx), &desired).await?;
        Ok(DeskSettingsView::of(&desired))
    }
}
