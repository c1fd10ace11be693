//! Major incidents: declaring, coordinating, resolving and reviewing them, the list a
//! dashboard shows, and `majorIncidents`, live.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription};
use entity::{major_incident, major_incident_update};
use futures::Stream;

use crate::{
    auth::{Role, Scope as TokenScope},
    domain::major_incidents::{self, Declare, MajorIncidentStatus as Status, Review},
    error::AppResult,
    events::Shared,
    graphql::{
        caller,
        command::acting,
        ids,
        instant::Instant,
        live::follow,
        loaders, state,
        tickets::{CreateTicketInput, HistoryEntry, Ticket},
        users::User,
    },
};

/// Where a major incident stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::major_incidents::MajorIncidentStatus")]
pub enum MajorIncidentStatus {
    /// Being worked: its coordinator publishes updates.
    Active,
    /// Its ticket is resolved; the review is still to be written.
    Resolved,
    /// Reviewed and closed.
    Closed,
}

/// An incident declared major: coordinated, communicated, and reviewed when it closes.
pub struct MajorIncident(pub major_incident::Model);

/// An incident declared major: coordinated, communicated, and reviewed when it closes.
#[Object]
impl MajorIncident {
    /// The globally unique id.
    async fn id(&self) -> ID {
        ids::encode("MajorIncident", self.0.id)
    }
    /// Its version, for the changes that take one.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Where it stands.
    async fn status(&self) -> AppResult<MajorIncidentStatus> {
        Ok(Status::stored(&self.0.status)?.into())
    }
    /// Its incident ticket (priority MAJOR), if the caller may see it: the people it
    /// affects read the updates, not necessarily the ticket.
    async fn ticket(&self, ctx: &Context<'_>) -> AppResult<Option<Ticket>> {
        let scope = crate::graphql::ticket_scope(ctx).await?;
        Ok(ctx
            .data_unchecked::<loaders::Tickets>()
            .load_one(self.0.ticket_id)
            .await?
            .filter(|t| scope.allows(t))
            .map(Ticket))
    }
    /// The continuity plans of the services it touches (its own service, and those its
    /// configuration items deliver), each with its RTO against the outage going on: the
    /// desk's people.
    async fn continuity_plans(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::continuity::ContinuityPlan>> {
        if crate::domain::continuity::require_reader(caller(ctx)).is_err() {
            return Ok(vec![]);
        }
        let Some(ticket) = ctx
            .data_unchecked::<loaders::Tickets>()
            .load_one(self.0.ticket_id)
            .await?
        else {
            return Ok(vec![]);
        };
        let rows = crate::domain::continuity::plans::for_ticket(
            state(ctx).db.conn(),
            caller(ctx),
            &ticket,
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(crate::graphql::continuity::ContinuityPlan)
            .collect())
    }
    /// Who coordinates it.
    async fn coordinator(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.coordinator_id).await
    }
    /// Who declared it, by name.
    async fn declared_by(&self) -> &str {
        &self.0.declared_by
    }
    /// When it was declared.
    async fn declared_at(&self) -> Instant {
        Instant(self.0.declared_at)
    }
    /// When it was resolved.
    async fn resolved_at(&self) -> Option<Instant> {
        self.0.resolved_at.map(Instant)
    }
    /// When it was closed with its review.
    async fn closed_at(&self) -> Option<Instant> {
        self.0.closed_at.map(Instant)
    }
    /// The updates published to the people it affects, oldest first.
    async fn updates(&self, ctx: &Context<'_>) -> AppResult<Vec<MajorIncidentUpdate>> {
        let rows = major_incidents::updates_of(state(ctx).db.conn(), self.0.id).await?;
        Ok(rows.into_iter().map(MajorIncidentUpdate).collect())
    }
    /// How many people its updates reach now.
    async fn affected_count(&self, ctx: &Context<'_>) -> AppResult<i32> {
        let conn = state(ctx).db.conn();
        let Some(row) = loaders_ticket(ctx, self.0.ticket_id).await? else {
            return Ok(0);
        };
        Ok(i32::try_from(major_incidents::affected(conn, &row).await?.len()).unwrap_or(i32::MAX))
    }
    /// The review it closed with; null until then. The desk only.
    async fn review(&self, ctx: &Context<'_>) -> AppResult<Option<MajorIncidentReview>> {
        if Status::stored(&self.0.status)? != Status::Closed {
            return Ok(None);
        }
        let timeline =
            major_incidents::timeline(state(ctx).db.conn(), caller(ctx), &self.0).await?;
        Ok(Some(MajorIncidentReview {
            cause: self.0.cause.clone().unwrap_or_default(),
            actions: self.0.actions.clone().unwrap_or_default(),
            problem_id: self.0.problem_id.map(|id| ids::encode("Problem", id)),
            timeline: timeline.into_iter().map(HistoryEntry).collect(),
        }))
    }
}

async fn loaders_ticket(ctx: &Context<'_>, id: i64) -> AppResult<Option<entity::ticket::Model>> {
    ctx.data_unchecked::<loaders::Tickets>().load_one(id).await
}

/// An update its coordinator published.
pub struct MajorIncidentUpdate(pub major_incident_update::Model);

/// An update the coordinator published to the people a major incident affects.
#[Object]
impl MajorIncidentUpdate {
    /// What it says.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Who published it, by name.
    async fn published_by(&self) -> &str {
        &self.0.published_by
    }
    /// When.
    async fn published_at(&self) -> Instant {
        Instant(self.0.published_at)
    }
    /// How many people it was published to.
    async fn recipients(&self) -> i32 {
        self.0.recipients
    }
}

/// What a major incident's review records.
#[derive(SimpleObject)]
pub struct MajorIncidentReview {
    /// What caused it.
    pub cause: String,
    /// What is to be done so that it does not happen again.
    pub actions: String,
    /// The problem the review opened, to investigate the cause.
    pub problem_id: Option<ID>,
    /// Everything the event log recorded of its ticket, oldest first: declaration,
    /// work, updates, resolution.
    pub timeline: Vec<HistoryEntry>,
}

/// What `declareMajorIncident` takes: exactly one of a ticket and a new incident.
#[derive(InputObject)]
pub struct DeclareMajorIncidentInput {
    /// An open incident the desk has.
    pub ticket_id: Option<ID>,
    /// A new incident, raised as it is declared.
    pub new_incident: Option<CreateTicketInput>,
    /// The agent who coordinates it; the declaring manager when not given.
    pub coordinator_id: Option<ID>,
}

/// What `publishMajorIncidentUpdate` takes.
#[derive(InputObject)]
pub struct PublishMajorIncidentUpdateInput {
    /// The major incident.
    pub id: ID,
    /// What to tell the people it affects.
    pub body: String,
}

/// What `resolveMajorIncident` takes.
#[derive(InputObject)]
pub struct ResolveMajorIncidentInput {
    /// The major incident.
    pub id: ID,
    /// Its version, as read.
    pub version: i32,
    /// The resolution code its ticket (and its children) resolve with.
    pub resolution_code: String,
    /// What was done: the children's comment, too.
    pub resolution_notes: String,
}

/// What `closeMajorIncident` takes: the review.
#[derive(InputObject)]
pub struct CloseMajorIncidentInput {
    /// The major incident.
    pub id: ID,
    /// Its version, as read.
    pub version: i32,
    /// What caused it.
    pub cause: String,
    /// What is to be done so that it does not happen again.
    pub actions: String,
}

/// What the major incident mutations return.
#[derive(SimpleObject)]
pub struct MajorIncidentPayload {
    /// The major incident as it is after the change.
    pub major_incident: MajorIncident,
}

/// What `publishMajorIncidentUpdate` returns.
#[derive(SimpleObject)]
pub struct PublishMajorIncidentUpdatePayload {
    /// The update as published.
    pub update: MajorIncidentUpdate,
    /// The major incident.
    pub major_incident: MajorIncident,
}

#[derive(Default)]
pub struct MajorIncidentQuery;

#[Object]
impl MajorIncidentQuery {
    /// The major incidents the caller may read, newest first: the desk every one, anyone
    /// else those that affect them. Those under way unless `all`. At most 100.
    async fn major_incidents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Closed ones too.", default)] all: bool,
    ) -> AppResult<Vec<MajorIncident>> {
        let rows = major_incidents::list(state(ctx).db.conn(), caller(ctx), all).await?;
        Ok(rows.into_iter().map(MajorIncident).collect())
    }
}

#[derive(Default)]
pub struct MajorIncidentMutation;

#[Object]
impl MajorIncidentMutation {
    /// Declares an incident major (an existing one, or a new one): it takes the priority
    /// MAJOR, above P1, and a coordinator. Managers.
    async fn declare_major_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: DeclareMajorIncidentInput,
    ) -> AppResult<MajorIncidentPayload> {
        let declare = Declare {
            ticket_id: ids::decode_opt(input.ticket_id, "Ticket", "ticketId")?,
            new: input.new_incident.map(|n| n.into_domain()).transpose()?,
            coordinator_id: ids::decode_opt(input.coordinator_id, "User", "coordinatorId")?,
        };
        let on = acting(ctx);
        let (row, _) = major_incidents::declare(on.db, on.caller, on.now, declare).await?;
        Ok(MajorIncidentPayload {
            major_incident: MajorIncident(row),
        })
    }

    /// Publishes an update to everyone the major incident affects (its children's
    /// requesters, and the people of the services it impacts through the CMDB), by mail
    /// and on `majorIncidents`. Its coordinator or a manager.
    async fn publish_major_incident_update(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: PublishMajorIncidentUpdateInput,
    ) -> AppResult<PublishMajorIncidentUpdatePayload> {
        let id = ids::decode_as(&input.id, "MajorIncident", "id")?;
        let on = acting(ctx);
        let (update, row) =
            major_incidents::publish(on.db, on.caller, on.now, id, &input.body).await?;
        Ok(PublishMajorIncidentUpdatePayload {
            update: MajorIncidentUpdate(update),
            major_incident: MajorIncident(row),
        })
    }

    /// Resolves a major incident: its ticket resolves, and its children with it. Its
    /// coordinator or a manager.
    async fn resolve_major_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: ResolveMajorIncidentInput,
    ) -> AppResult<MajorIncidentPayload> {
        let id = ids::decode_as(&input.id, "MajorIncident", "id")?;
        let on = acting(ctx);
        let row = major_incidents::resolve(
            on.db,
            on.caller,
            on.now,
            id,
            input.version,
            &input.resolution_code,
            &input.resolution_notes,
        )
        .await?;
        Ok(MajorIncidentPayload {
            major_incident: MajorIncident(row),
        })
    }

    /// Closes a resolved major incident with its review, and opens the problem that
    /// investigates its cause. Managers.
    async fn close_major_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: CloseMajorIncidentInput,
    ) -> AppResult<MajorIncidentPayload> {
        let id = ids::decode_as(&input.id, "MajorIncident", "id")?;
        let on = acting(ctx);
        let review = Review {
            cause: input.cause,
            actions: input.actions,
        };
        let row =
            major_incidents::close(on.db, on.caller, on.now, id, input.version, review).await?;
        Ok(MajorIncidentPayload {
            major_incident: MajorIncident(row),
        })
    }
}

/// Something that happened to a major incident, as `majorIncidents` pushes it.
pub struct MajorIncidentEvent(pub Shared);

/// Something that happened to a major incident.
#[Object]
impl MajorIncidentEvent {
    /// The event's place in the log: resume from it with `after`.
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    /// `major_incident.declared`, `major_incident.update_published`,
    /// `major_incident.resolved` or `major_incident.closed`.
    async fn action(&self) -> &str {
        self.0.topic.as_str()
    }
    /// When it happened.
    async fn at(&self) -> Instant {
        Instant(self.0.at)
    }
    /// Who did it, by name.
    async fn actor_name(&self) -> &str {
        &self.0.actor_name
    }
    /// The major incident's id.
    async fn major_incident_id(&self) -> Option<ID> {
        self.0.payload["majorIncidentId"]
            .as_i64()
            .map(|id| ids::encode("MajorIncident", id))
    }
    /// Its ticket's number.
    async fn ticket_number(&self) -> Option<&str> {
        self.0.ticket.as_ref().map(|t| t.number.as_str())
    }
    /// Where it stands after this.
    async fn status(&self) -> Option<MajorIncidentStatus> {
        self.0.payload["status"]
            .as_str()
            .and_then(|s| Status::stored(s).ok())
            .map(Into::into)
    }
    /// For an update: what the coordinator published.
    async fn body(&self) -> Option<&str> {
        self.0.payload["body"].as_str()
    }
}

#[derive(Default)]
pub struct MajorIncidentSubscription;

#[Subscription]
impl MajorIncidentSubscription {
    /// Major incidents as they are declared, updated, resolved and closed: for a
    /// dashboard (the desk hears of every one) and for the people one affects (they hear
    /// of those). With `after`, first what was missed.
    async fn major_incidents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Take items after this cursor: the `seq` of the last event seen.")]
        after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = AppResult<MajorIncidentEvent>> + use<>> {
        let caller = caller(ctx);
        let desk = caller
            .require_role_or_scope(Role::Agent, TokenScope::TicketsRead)
            .is_ok();
        let me = match caller.person() {
            Ok(person) => Some(person.user_id),
            Err(_) if desk => None,
            Err(error) => return Err(error.into()),
        };
        let stream = follow(ctx, after, move |e| {
            e.topic.is_major_incident()
                && (desk
                    || me.is_some_and(|me| {
                        e.payload["audience"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|id| id.as_i64() == Some(me)))
                    }))
        });
        Ok(futures::StreamExt::map(stream, |e| {
            e.map(MajorIncidentEvent)
        }))
    }
}
