//! Who is told of an event, and what: the one table from the log's topics to the
//! notifications people receive. Whether each of them may see what they are told, and
//! wants to be told, is decided after (`outbox`).

use entity::{
    catalog_request, change, comment, configuration_item, event, group, group_member, release,
    service, ticket_follower, user,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use super::types::NotificationKind as Kind;
use crate::{
    auth::Role,
    domain::{
        catalog::types::ApprovalState,
        events::{TicketSnapshot, Topic},
        tickets::types::{PendingReason, Status},
        users::roles_of,
    },
    error::AppResult,
};

/// One person to tell of an event, and what to tell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub kind: Kind,
    pub user_id: i64,
}

/// Whom this event concerns. The person who did it is not told of their own act, except
/// that a requester always receives the number of the ticket recorded for them.
pub async fn of(conn: &impl ConnectionTrait, event: &event::Model) -> AppResult<Vec<Recipient>> {
    let ticket = TicketSnapshot::in_payload(&event.payload);
    let mut out = Vec::new();
    let mut tell = |kind, user_id: Option<i64>, even_the_actor: bool| {
        if let Some(user_id) = user_id
            && (even_the_actor || event.actor_id != Some(user_id))
            && !out.contains(&Recipient { kind, user_id })
        {
            out.push(Recipient { kind, user_id });
        }
    };
    match (Topic::parse(&event.topic), &ticket) {
        (Topic::TicketCreated, Some(t)) => {
            tell(Kind::TicketReceived, t.requester_id, true);
            tell(Kind::TicketAssigned, t.assignee_id, false);
        }
        (Topic::TicketCommented, Some(t)) => {
            tell(Kind::TicketCommented, t.requester_id, false);
            tell(Kind::TicketCommented, t.assignee_id, false);
            for user_id in followers(conn, event.entity_id).await? {
                tell(Kind::TicketCommented, Some(user_id), false);
            }
        }
        (Topic::ReleaseStatusChanged, None) => {
            let to = changed_to(&event.payload, "status").and_then(Value::as_str);
            if matches!(to, Some("DEPLOYED" | "VERIFIED" | "ROLLED_BACK")) {
                for user_id in release_owners(conn, event.entity_id).await? {
                    tell(Kind::ReleaseChanged, Some(user_id), false);
                }
            }
        }
        (Topic::AvailabilityTargetBreached, None) => {
            for user_id in owners(conn, service_owner(conn, event.entity_id).await?).await? {
                tell(Kind::ServiceNotice, Some(user_id), false);
            }
        }
        (Topic::BudgetThresholdPassed, None) => {
            for user_id in owners(conn, service_owner(conn, event.entity_id).await?).await? {
                tell(Kind::ServiceNotice, Some(user_id), false);
            }
        }
        (Topic::ContinuityExerciseOverdue, None) => {
            let service = event.payload.get("serviceId").and_then(Value::as_i64);
            if let Some(service) = service {
                for user_id in owners(conn, service_owner(conn, service).await?).await? {
                    tell(Kind::ServiceNotice, Some(user_id), false);
                }
            }
        }
        (Topic::ServiceReportReady, None) => {
            // The report carries costs and charges: to the owner group's manager only.
            if let Some(group) = service_owner(conn, event.entity_id).await? {
                let manager = group::Entity::find_by_id(group)
                    .one(conn)
                    .await?
                    .and_then(|g| g.manager_id);
                tell(Kind::ServiceReport, manager, false);
            }
        }
        (Topic::CapacityThresholdCrossed | Topic::CapacityForecast, None)
            if event.payload.get("over").and_then(Value::as_bool) != Some(false) =>
        {
            let owner = configuration_item::Entity::find_by_id(event.entity_id)
                .one(conn)
                .await?
                .and_then(|i| i.owner_group_id);
            for user_id in owners(conn, owner).await? {
                tell(Kind::ServiceNotice, Some(user_id), false);
            }
        }
        (Topic::MajorIncidentUpdated, Some(_)) => {
            let audience = event.payload.get("audience").and_then(Value::as_array);
            for user_id in audience.into_iter().flatten().filter_map(Value::as_i64) {
                tell(Kind::MajorIncidentUpdate, Some(user_id), false);
            }
        }
        (Topic::TicketMerged, Some(t))
            if event.payload.get("role").and_then(Value::as_str) == Some("duplicate") =>
        {
            tell(Kind::TicketMerged, t.requester_id, false);
        }
        (Topic::TicketAssigned, Some(_)) => {
            let assignee = changed_to(&event.payload, "assigneeId").and_then(|v| v.as_i64());
            tell(Kind::TicketAssigned, assignee, false);
        }
        (Topic::TicketStatusChanged, Some(t)) => {
            let to = |field| changed_to(&event.payload, field).and_then(|v| v.as_str());
            if to("status") == Some(Status::Resolved.as_str()) {
                tell(Kind::TicketResolved, t.requester_id, false);
            }
            if to("pendingReason") == Some(PendingReason::AwaitingCustomer.as_str()) {
                tell(Kind::TicketWaiting, t.requester_id, false);
            }
        }
        (Topic::SurveyOffered, Some(t)) => {
            tell(Kind::SurveyRequested, t.requester_id, false);
        }
        // An OLA's breach goes to its group's manager, a contract's to whoever manages
        // the supplier; the customer's SLA to the manager of the ticket's group.
        (Topic::SlaBreached, Some(_))
            if event.payload.get("agreement").and_then(Value::as_str)
                == Some("UNDERPINNING_CONTRACT") =>
        {
            let supplier = event.payload.get("supplierId").and_then(Value::as_i64);
            if let Some(supplier) = supplier {
                let manager = entity::supplier::Entity::find_by_id(supplier)
                    .one(conn)
                    .await?
                    .and_then(|s| s.manager_id);
                tell(Kind::TicketFlagged, manager, false);
            }
        }
        (Topic::SlaBreached, Some(_))
            if event.payload.get("agreement").and_then(Value::as_str) == Some("OLA") =>
        {
            let group_id = event.payload.get("groupId").and_then(Value::as_i64);
            if let Some(group_id) = group_id {
                let manager = group::Entity::find_by_id(group_id)
                    .one(conn)
                    .await?
                    .and_then(|g| g.manager_id);
                tell(Kind::TicketFlagged, manager, false);
            }
        }
        (Topic::TicketEscalated | Topic::SlaBreached, Some(t)) => {
            if let Some(group_id) = t.group_id {
                let manager = group::Entity::find_by_id(group_id)
                    .one(conn)
                    .await?
                    .and_then(|g| g.manager_id);
                tell(Kind::TicketFlagged, manager, false);
            }
        }
        (Topic::CatalogOrdered, Some(_)) => {
            if let Some(request) = catalog_request::Entity::find_by_id(event.entity_id)
                .one(conn)
                .await?
                .filter(|r| r.approval_state == ApprovalState::Pending.as_str())
            {
                tell(Kind::ApprovalRequested, request.approver_user_id, false);
                if let Some(group_id) = request.approver_group_id {
                    for user_id in members(conn, group_id).await? {
                        tell(Kind::ApprovalRequested, Some(user_id), false);
                    }
                }
            }
        }
        (Topic::ChangeAssessed, _) => {
            for user_id in change_approvers(conn, event.entity_id).await? {
                tell(Kind::ApprovalRequested, Some(user_id), false);
            }
        }
        _ => {}
    }
    Ok(out)
}

/// The comment a `ticket.commented` event is about.
pub async fn comment_of(
    conn: &impl ConnectionTrait,
    event: &event::Model,
) -> AppResult<Option<comment::Model>> {
    let Some(id) = event.payload.get("commentId").and_then(Value::as_i64) else {
        return Ok(None);
    };
    Ok(comment::Entity::find_by_id(id).one(conn).await?)
}

/// The new value of a field the event changed, if it changed it.
fn changed_to<'a>(payload: &'a Value, field: &str) -> Option<&'a Value> {
    payload
        .get("changes")?
        .as_array()?
        .iter()
        .find(|c| c.get("field").and_then(Value::as_str) == Some(field))?
        .get("new")
}

/// Whom a release concerns: its owner, and the managers of the groups that own the
/// services it touches.
async fn release_owners(conn: &impl ConnectionTrait, release_id: i64) -> AppResult<Vec<i64>> {
    let mut people = Vec::new();
    if let Some(row) = release::Entity::find_by_id(release_id).one(conn).await? {
        people.extend(row.owner_id);
    }
    let services = service::Entity::find()
        .filter(
            service::Column::Id
                .is_in(crate::domain::releases::service_ids_of(conn, release_id).await?),
        )
        .all(conn)
        .await?;
    let groups = group::Entity::find()
        .filter(group::Column::Id.is_in(services.iter().filter_map(|s| s.owner_group_id)))
        .all(conn)
        .await?;
    people.extend(groups.iter().filter_map(|g| g.manager_id));
    Ok(people)
}

/// The people who follow a ticket besides its requester.
async fn followers(conn: &impl ConnectionTrait, ticket_id: i64) -> AppResult<Vec<i64>> {
    Ok(ticket_follower::Entity::find()
        .filter(ticket_follower::Column::TicketId.eq(ticket_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|f| f.user_id)
        .collect())
}

/// An owning group's manager and members.
/// The group that owns a service.
async fn service_owner(conn: &impl ConnectionTrait, service_id: i64) -> AppResult<Option<i64>> {
    Ok(service::Entity::find_by_id(service_id)
        .one(conn)
        .await?
        .and_then(|s| s.owner_group_id))
}

async fn owners(conn: &impl ConnectionTrait, group_id: Option<i64>) -> AppResult<Vec<i64>> {
    let Some(group_id) = group_id else {
        return Ok(vec![]);
    };
    let mut people: Vec<i64> = group::Entity::find_by_id(group_id)
        .one(conn)
        .await?
        .and_then(|g| g.manager_id)
        .into_iter()
        .collect();
    people.extend(members(conn, group_id).await?);
    Ok(people)
}

async fn members(conn: &impl ConnectionTrait, group_id: i64) -> AppResult<Vec<i64>> {
    Ok(group_member::Entity::find()
        .filter(group_member::Column::GroupId.eq(group_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect())
}

/// Who may vote on an assessed change: the approval group's members and the people with
/// the approval role, as `changes::approval::vote` says; not its requester.
async fn change_approvers(conn: &impl ConnectionTrait, change_id: i64) -> AppResult<Vec<i64>> {
    let Some(row) = change::Entity::find_by_id(change_id).one(conn).await? else {
        return Ok(vec![]);
    };
    let mut people = match row.approval_group_id {
        Some(group) => members(conn, group).await?,
        None => vec![],
    };
    if let Some(role) = row.approval_role.as_deref().and_then(Role::parse) {
        for person in user::Entity::find().all(conn).await? {
            if roles_of(&person).contains(&role) && !people.contains(&person.id) {
                people.push(person.id);
            }
        }
    }
    people.retain(|id| row.requested_by != Some(*id));
    Ok(people)
}
