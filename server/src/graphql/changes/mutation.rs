//! Changing changes: each mutation decodes its input and calls one domain command.

use crate::graphql::command::{acting, versioned};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use entity::change;

use crate::graphql::instant::Instant;
use crate::{
    auth::Role,
    domain::input::{instant, maybe_instant},
    domain::{
        changes::{self, ChangeFields, PolicyFields, TemplateFields, Transition, risk::Answers},
        tickets::commands,
    },
    error::AppResult,
    graphql::{
        ids,
        tickets::{Ticket, TicketPayload},
    },
};

use super::{
    Change, ChangeApprovalPolicy, ChangeFreeze, ChangeOutcome, ChangeStatus, ChangeTemplate,
    ChangeType, RiskGrade,
};

/// What `createChange` takes.
#[derive(InputObject)]
pub struct CreateChangeInput {
    /// Standard, normal or emergency.
    pub r#type: ChangeType,
    /// STANDARD changes name their pre-approved template; its plans fill in what is not given.
    pub template_id: Option<ID>,
    /// Defaults to the template's name.
    pub title: Option<String>,
    /// What will change, and why, in detail.
    pub description: Option<String>,
    /// The business reason for the change.
    pub reason: Option<String>,
    /// The steps to carry it out.
    pub implementation_plan: Option<String>,
    /// How to undo it if it fails.
    pub rollback_plan: Option<String>,
    /// How success is checked.
    pub test_plan: Option<String>,
    /// When the work is planned to start.
    pub planned_start: Option<Instant>,
    /// When the work is planned to end.
    pub planned_end: Option<Instant>,
    /// The ids of the configuration items.
    #[graphql(default)]
    pub configuration_item_ids: Vec<ID>,
    /// The id of the group.
    pub group_id: Option<ID>,
    /// The id of the assignee.
    pub assignee_id: Option<ID>,
}

/// What `updateChange` takes.
#[derive(InputObject)]
pub struct UpdateChangeInput {
    /// The id of the change.
    pub id: ID,
    /// The `version` you last read: if someone changed it since, nothing is changed and the
    /// error is CONFLICT.
    pub version: i32,
    /// A one-line summary.
    pub title: Option<String>,
    /// What will change, and why, in detail.
    pub description: Option<String>,
    /// The business reason for the change.
    pub reason: Option<String>,
    /// The steps to carry it out.
    pub implementation_plan: Option<String>,
    /// How to undo it if it fails.
    pub rollback_plan: Option<String>,
    /// How success is checked.
    pub test_plan: Option<String>,
    /// When the work is planned to start.
    pub planned_start: MaybeUndefined<Instant>,
    /// When the work is planned to end.
    pub planned_end: MaybeUndefined<Instant>,
    /// The whole set.
    pub configuration_item_ids: Option<Vec<ID>>,
    /// The id of the group.
    pub group_id: MaybeUndefined<ID>,
    /// The id of the assignee.
    pub assignee_id: MaybeUndefined<ID>,
}

/// What `transitionChange` takes.
#[derive(InputObject)]
pub struct TransitionChangeInput {
    /// The id of the change.
    pub id: ID,
    /// The `version` you last read: if someone changed it since, nothing is changed and the
    /// error is CONFLICT.
    pub version: i32,
    /// The status to move to.
    pub to: ChangeStatus,
    /// Moving to REVIEW: how it went.
    pub outcome: Option<ChangeOutcome>,
    /// Moving to CLOSED: the post-implementation review, unless recorded already.
    pub review: Option<String>,
}

/// What `assessChange` takes.
#[derive(InputObject)]
pub struct AssessChangeInput {
    /// The id of the change.
    pub id: ID,
    /// The `version` you last read: if someone changed it since, nothing is changed and the
    /// error is CONFLICT.
    pub version: i32,
    /// How much of the business notices the change.
    pub impact: RiskGrade,
    /// How hard it is to carry out.
    pub complexity: RiskGrade,
    /// How hard it is to undo.
    pub rollback_difficulty: RiskGrade,
}

/// What `voteOnChange` takes.
#[derive(InputObject)]
pub struct VoteOnChangeInput {
    /// The id of the change.
    pub id: ID,
    /// True to approve, false to reject.
    pub approve: bool,
    /// Required to reject.
    #[graphql(default)]
    pub comment: String,
}

/// What `setIncidentCause` takes.
#[derive(InputObject)]
pub struct SetIncidentCauseInput {
    /// The id of the ticket.
    pub ticket_id: ID,
    /// Null unlinks.
    pub change_id: Option<ID>,
}

/// What `saveChangeTemplate` takes.
#[derive(InputObject)]
pub struct SaveChangeTemplateInput {
    /// The id of the change template to change; leave it out to create one.
    pub id: Option<ID>,
    /// The name shown when choosing a template.
    pub name: String,
    /// What changes made from it do.
    #[graphql(default)]
    pub description: String,
    /// The steps copied into each change.
    pub implementation_plan: String,
    /// The rollback copied into each change.
    pub rollback_plan: String,
    /// The test plan copied into each change.
    pub test_plan: String,
    /// Inactive templates cannot be used.
    #[graphql(default = true)]
    pub active: bool,
}

/// What `saveChangeApprovalPolicy` takes.
#[derive(InputObject)]
pub struct SaveChangeApprovalPolicyInput {
    /// The id of the change approval policy to change; leave it out to create one.
    pub id: Option<ID>,
    /// The change type it applies to.
    pub change_type: ChangeType,
    /// None: any risk (a policy for the exact risk wins).
    pub risk: Option<RiskGrade>,
    /// The id of the approver group.
    pub approver_group_id: Option<ID>,
    /// The role whose holders vote, if approvers are a role.
    pub approver_role: Option<Role>,
    /// How many approving votes authorize a change.
    pub quorum: i32,
}

/// What `saveChangeFreeze` takes.
#[derive(InputObject)]
pub struct SaveChangeFreezeInput {
    /// The id of the change freeze to change; leave it out to create one.
    pub id: Option<ID>,
    /// What the freeze is for.
    pub name: String,
    /// When the freeze begins.
    pub starts_at: Instant,
    /// When the freeze ends.
    pub ends_at: Instant,
}

/// What a mutation on a change returns: the change as it is now.
#[derive(SimpleObject)]
pub struct ChangePayload {
    /// The change as it is after the change.
    pub change: Change,
}

fn payload(row: change::Model) -> ChangePayload {
    ChangePayload {
        change: Change(row),
    }
}

#[derive(Default)]
pub struct ChangeMutation;

#[Object]
impl ChangeMutation {
    /// Raises a change in DRAFT. Agents.
    async fn create_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: CreateChangeInput,
    ) -> AppResult<ChangePayload> {
        let on = acting(ctx);
        let fields = ChangeFields {
            title: input.title,
            description: input.description,
            reason: input.reason,
            implementation_plan: input.implementation_plan,
            rollback_plan: input.rollback_plan,
            test_plan: input.test_plan,
            planned_start: Some(maybe_instant("plannedStart", input.planned_start)?),
            planned_end: Some(maybe_instant("plannedEnd", input.planned_end)?),
            configuration_item_ids: Some(ids::decode_all(
                &input.configuration_item_ids,
                "ConfigurationItem",
                "configurationItemIds",
            )?),
            group_id: Some(ids::decode_opt(input.group_id, "Group", "groupId")?),
            assignee_id: Some(ids::decode_opt(input.assignee_id, "User", "assigneeId")?),
        };
        let template = ids::decode_opt(input.template_id, "ChangeTemplate", "templateId")?;
        Ok(payload(
            changes::create(
                on.db,
                on.caller,
                on.now,
                input.r#type.into(),
                template,
                fields,
            )
            .await?,
        ))
    }

    /// Edits a change: its words in DRAFT, its slot and items until it is scheduled.
    async fn update_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: UpdateChangeInput,
    ) -> AppResult<ChangePayload> {
        let on = acting(ctx);
        let target = versioned(&input.id, input.version, "Change")?;
        let fields = ChangeFields {
            title: input.title,
            description: input.description,
            reason: input.reason,
            implementation_plan: input.implementation_plan,
            rollback_plan: input.rollback_plan,
            test_plan: input.test_plan,
            planned_start: ids::change_of(input.planned_start)
                .map(|at| maybe_instant("plannedStart", at))
                .transpose()?,
            planned_end: ids::change_of(input.planned_end)
                .map(|at| maybe_instant("plannedEnd", at))
                .transpose()?,
            configuration_item_ids: input
                .configuration_item_ids
                .map(|list| ids::decode_all(&list, "ConfigurationItem", "configurationItemIds"))
                .transpose()?,
            group_id: ids::decode_maybe(input.group_id, "Group", "groupId")?,
            assignee_id: ids::decode_maybe(input.assignee_id, "User", "assigneeId")?,
        };
        Ok(payload(
            changes::update(on.db, on.caller, on.now, target.id, target.version, fields).await?,
        ))
    }

    /// DRAFT → SUBMITTED (plans required; a STANDARD change is authorized at once) …
    /// AUTHORIZED → SCHEDULED (windows and freezes checked) → IMPLEMENTING → REVIEW
    /// (with the outcome) → CLOSED (with the review). ASSESSED comes from assessChange,
    /// AUTHORIZED and REJECTED from voteOnChange.
    async fn transition_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: TransitionChangeInput,
    ) -> AppResult<ChangePayload> {
        let on = acting(ctx);
        let target = versioned(&input.id, input.version, "Change")?;
        let transition = Transition {
            to: input.to.into(),
            outcome: input.outcome.map(Into::into),
            review: input.review,
        };
        Ok(payload(
            changes::transition(
                on.db,
                on.caller,
                on.now,
                target.id,
                target.version,
                transition,
            )
            .await?,
        ))
    }

    /// Assesses a submitted change's risk and fixes who must approve it.
    async fn assess_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: AssessChangeInput,
    ) -> AppResult<ChangePayload> {
        let on = acting(ctx);
        let target = versioned(&input.id, input.version, "Change")?;
        let answers = Answers {
            impact: input.impact.into(),
            complexity: input.complexity.into(),
            rollback_difficulty: input.rollback_difficulty.into(),
        };
        Ok(payload(
            changes::assess(on.db, on.caller, on.now, target.id, target.version, answers).await?,
        ))
    }

    /// An approver's vote: the quorum of approvals authorizes, the first rejection rejects.
    async fn vote_on_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: VoteOnChangeInput,
    ) -> AppResult<ChangePayload> {
        let on = acting(ctx);
        let id = ids::decode_as(&input.id, "Change", "id")?;
        Ok(payload(
            changes::vote(on.db, on.caller, on.now, id, input.approve, &input.comment).await?,
        ))
    }

    /// Links an incident to the change that caused it.
    async fn set_incident_cause(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SetIncidentCauseInput,
    ) -> AppResult<TicketPayload> {
        let on = acting(ctx);
        let ticket = ids::decode_as(&input.ticket_id, "Ticket", "ticketId")?;
        let change = ids::decode_opt(input.change_id, "Change", "changeId")?;
        let row = commands::link_cause(on.db, on.caller, on.now, ticket, change).await?;
        Ok(TicketPayload {
            ticket: Ticket(row),
        })
    }

    /// A pre-approved way of making a STANDARD change. Admins.
    async fn save_change_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SaveChangeTemplateInput,
    ) -> AppResult<ChangeTemplate> {
        let on = acting(ctx);
        let id = ids::decode_opt(input.id, "ChangeTemplate", "id")?;
        let fields = TemplateFields {
            name: input.name,
            description: input.description,
            implementation_plan: input.implementation_plan,
            rollback_plan: input.rollback_plan,
            test_plan: input.test_plan,
            active: input.active,
        };
        Ok(ChangeTemplate(
            changes::save_template(on.db, on.caller, on.now, id, fields).await?,
        ))
    }

    /// Who approves changes of a type (and risk), and how many approvals authorize one.
    /// Without a policy, one manager decides. Admins.
    async fn save_change_approval_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SaveChangeApprovalPolicyInput,
    ) -> AppResult<ChangeApprovalPolicy> {
        let on = acting(ctx);
        let id = ids::decode_opt(input.id, "ChangeApprovalPolicy", "id")?;
        let fields = PolicyFields {
            change_type: input.change_type.into(),
            risk: input.risk.map(Into::into),
            approver_group_id: ids::decode_opt(
                input.approver_group_id,
                "Group",
                "approverGroupId",
            )?,
            approver_role: input.approver_role,
            quorum: input.quorum,
        };
        Ok(ChangeApprovalPolicy(
            changes::save_policy(on.db, on.caller, on.now, id, fields).await?,
        ))
    }

    /// A period in which only EMERGENCY changes may be scheduled. Admins.
    async fn save_change_freeze(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SaveChangeFreezeInput,
    ) -> AppResult<ChangeFreeze> {
        let on = acting(ctx);
        let id = ids::decode_opt(input.id, "ChangeFreeze", "id")?;
        Ok(ChangeFreeze(
            changes::save_freeze(
                on.db,
                on.caller,
                on.now,
                id,
                &input.name,
                instant("startsAt", input.starts_at)?,
                instant("endsAt", input.ends_at)?,
            )
            .await?,
        ))
    }
}
