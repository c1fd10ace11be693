//! Changing tickets: each mutation decodes its input, calls one domain command and
//! returns the ticket as written.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use crate::{
    domain::tickets::commands::{self, Escalation, NewTicket, TicketChanges, Transition},
    error::AppResult,
    graphql::{
        command::{acting, versioned},
        ids,
    },
};

use super::{Channel, Comment, Level, PendingReason, Ticket, TicketKind, TicketStatus};

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

impl CreateTicketInput {
    /// The new ticket the domain takes, with its ids decoded.
    ///
    /// # Errors
    /// BAD_USER_INPUT for an id of the wrong kind.
    pub fn into_domain(self) -> AppResult<NewTicket> {
        let input = self;
        Ok(NewTicket {
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
        })
    }
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
    /// Time worked, recorded with the comment in one step. Agents only.
    pub time: Option<crate::graphql::time_worked::TimeWorkedInput>,
    /// Files that come with it (up to ten), sent as the GraphQL multipart request
    /// specification says: as internal as the comment.
    pub files: Option<Vec<async_graphql::Upload>>,
}

/// What `addComment` returns: the comment, and the ticket as it is after it.
#[derive(SimpleObject)]
pub struct AddCommentPayload {
    /// The ticket as it is after the change.
    pub ticket: Ticket,
    /// The comment as it is after the change.
    pub comment: Comment,
}

impl From<entity::ticket::Model> for TicketPayload {
    fn from(row: entity::ticket::Model) -> Self {
        TicketPayload {
            ticket: Ticket(row),
        }
    }
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
        let new = input.into_domain()?;
        let on = acting(ctx);
        Ok(commands::create(on.db, on.caller, on.now, new)
            .await?
            .into())
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
        let target = versioned(&input.id, input.version, "Ticket")?;
        let on = acting(ctx);
        Ok(
            commands::update(on.db, on.caller, on.now, target.id, target.version, changes)
                .await?
                .into(),
        )
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
        let target = versioned(&input.id, input.version, "Ticket")?;
        let on = acting(ctx);
        Ok(commands::transition(
            on.db,
            on.caller,
            on.now,
            target.id,
            target.version,
            transition,
        )
        .await?
        .into())
    }

    /// Puts a ticket in a group's queue or an agent's hands. Agents only.
    async fn assign_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: AssignTicketInput,
    ) -> AppResult<TicketPayload> {
        let target = versioned(&input.id, input.version, "Ticket")?;
        let group_id = ids::decode_opt(input.group_id, "Group", "groupId")?;
        let assignee_id = ids::decode_opt(input.assignee_id, "User", "assigneeId")?;
        let on = acting(ctx);
        Ok(commands::assign(
            on.db,
            on.caller,
            on.now,
            target.id,
            target.version,
            group_id,
            assignee_id,
        )
        .await?
        .into())
    }

    /// Escalates a ticket: functionally to the next tier, or hierarchically to the manager. Agents only.
    async fn escalate_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: EscalateTicketInput,
    ) -> AppResult<TicketPayload> {
        let target = versioned(&input.id, input.version, "Ticket")?;
        let level = match input.level {
            EscalationLevel::Functional => Escalation::Functional,
            EscalationLevel::Hierarchical => Escalation::Hierarchical,
        };
        let on = acting(ctx);
        Ok(commands::escalate(
            on.db,
            on.caller,
            on.now,
            target.id,
            target.version,
            level,
            &input.reason,
        )
        .await?
        .into())
    }

    /// Adds a public comment or an internal work note. Comments do not change the ticket's version.
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: AddCommentInput,
    ) -> AppResult<AddCommentPayload> {
        let id = ids::decode_as(&input.ticket_id, "Ticket", "ticketId")?;
        let time = input.time.map(|t| t.into_domain()).transpose()?;
        let on = acting(ctx);
        let files = match input.files {
            Some(files) => Some(crate::graphql::attachments::spool(ctx, files).await?),
            None => None,
        };
        let (row, comment) = commands::add_comment(
            on.db,
            on.caller,
            on.now,
            id,
            &input.body,
            input.internal,
            time.as_ref(),
            files.map(|incoming| commands::WithFiles {
                files: on.files,
                incoming,
            }),
        )
        .await?;
        Ok(AddCommentPayload {
            ticket: Ticket(row),
            comment: Comment(comment),
        })
    }
}
