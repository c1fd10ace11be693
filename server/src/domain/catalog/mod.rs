//! The service catalog: services and their orderable items, orders that become routed
//! service requests, and approvals that hold an order until someone decides.

pub mod forms;
mod reads;
pub mod types;

pub use reads::{item, items_of_service, ordered_item, request_of, service};

use crate::domain::desk::require_admin;
use chrono::{DateTime, Utc};
use entity::{calendar, catalog_item, catalog_request, group, group_member, service, ticket, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TryIntoModel,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};
use serde_json::{Map, Value, json};

use self::{
    forms::{Variable, check_answers, check_form},
    types::{Approval, ApprovalState, Criticality, ServiceLifecycle},
};
use crate::domain::events::{TicketSnapshot, Topic};
use crate::domain::input::text;
use crate::{
    auth::{Caller, Role, not_signed_in},
    db::Db,
    error::{AppError, AppResult},
};

use super::{
    events::{self, Actor, NewEvent},
    lookup::referenced,
    tickets::{
        commands::{self, NewTicket},
        types::{Kind, Level, PendingReason, Status},
    },
};

/// What an admin writes for a service.
pub struct ServiceFields {
    pub name: String,
    pub description: String,
    pub category: String,
    pub owner_group_id: Option<i64>,
    pub support_group_id: Option<i64>,
    pub lifecycle: ServiceLifecycle,
    pub criticality: Criticality,
    pub calendar_id: Option<i64>,
    /// Its change window: changes to what delivers it are scheduled in these hours.
    pub change_calendar_id: Option<i64>,
    pub price: String,
}

/// Creates a service (no id) or replaces one's fields.
///
/// # Errors
/// BAD_USER_INPUT for a name that does not fit or a group or calendar that does not exist.
pub async fn save_service(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: ServiceFields,
) -> AppResult<service::Model> {
    require_admin(caller)?;
    let service_name = text("name", &fields.name, 100, true)?;
    let txn = db.begin_write().await?;
    for (field, group) in [
        ("ownerGroupId", fields.owner_group_id),
        ("supportGroupId", fields.support_group_id),
    ] {
        if let Some(group) = group {
            referenced::<group::Entity>(&txn, group, field, "group").await?;
        }
    }
    if let Some(calendar) = fields.calendar_id {
        referenced::<calendar::Entity>(&txn, calendar, "calendarId", "calendar").await?;
    }
    if let Some(calendar) = fields.change_calendar_id {
        referenced::<calendar::Entity>(&txn, calendar, "changeCalendarId", "calendar").await?;
    }
    let mut active: service::ActiveModel = match id {
        Some(id) => referenced::<service::Entity>(&txn, id, "id", "service")
            .await?
            .into(),
        None => service::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.name = Set(service_name);
    active.description = Set(fields.description.trim().to_string());
    active.category = Set(fields.category.trim().to_string());
    active.owner_group_id = Set(fields.owner_group_id);
    active.support_group_id = Set(fields.support_group_id);
    active.lifecycle = Set(fields.lifecycle.into());
    active.criticality = Set(fields.criticality.into());
    active.calendar_id = Set(fields.calendar_id);
    active.change_calendar_id = Set(fields.change_calendar_id);
    active.price = Set(fields.price.trim().to_string());
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}

/// Services by name. Requesters see the LIVE ones only.
pub async fn services(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    search: Option<&str>,
) -> AppResult<Vec<service::Model>> {
    let person = caller.person()?;
    let mut query = service::Entity::find().order_by_asc(service::Column::Name);
    if !person.has_role(Role::Agent) {
        query = query.filter(service::Column::Lifecycle.eq(ServiceLifecycle::Live));
    }
    if let Some(words) = search.map(str::trim).filter(|s| !s.is_empty()) {
        for word in words.split_whitespace().take(10) {
            let escaped = word
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let pattern = || LikeExpr::new(format!("%{escaped}%")).escape('\\');
            query = query.filter(
                Condition::any()
                    .add(Func::lower(Expr::col(service::Column::Name)).like(pattern()))
                    .add(Func::lower(Expr::col(service::Column::Description)).like(pattern()))
                    .add(Func::lower(Expr::col(service::Column::Category)).like(pattern())),
            );
        }
    }
    Ok(query.all(conn).await?)
}

/// What an admin writes for an orderable item.
pub struct ItemFields {
    pub service_id: i64,
    pub name: String,
    pub description: String,
    pub fulfillment_group_id: i64,
    pub approval: Approval,
    pub approval_group_id: Option<i64>,
    pub variables: Vec<Variable>,
    pub active: bool,
}

/// Creates an item (no id) or replaces one's fields, its form checked.
///
/// # Errors
/// BAD_USER_INPUT for a form that does not hold together, GROUP approval without its
/// group, or a service or group that does not exist.
pub async fn save_item(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: ItemFields,
) -> AppResult<catalog_item::Model> {
    require_admin(caller)?;
    let item_name = text("name", &fields.name, 100, true)?;
    if fields.approval == Approval::Group && fields.approval_group_id.is_none() {
        return Err(AppError::bad_input(
            "approvalGroupId",
            "GROUP approval needs the approving group",
        ));
    }
    check_form(&fields.variables)?;
    let txn = db.begin_write().await?;
    referenced::<service::Entity>(&txn, fields.service_id, "serviceId", "service").await?;
    referenced::<group::Entity>(
        &txn,
        fields.fulfillment_group_id,
        "fulfillmentGroupId",
        "group",
    )
    .await?;
    if let Some(group) = fields.approval_group_id {
        referenced::<group::Entity>(&txn, group, "approvalGroupId", "group").await?;
    }
    let mut active: catalog_item::ActiveModel = match id {
        Some(id) => referenced::<catalog_item::Entity>(&txn, id, "id", "catalog item")
            .await?
            .into(),
        None => catalog_item::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.service_id = Set(fields.service_id);
    active.name = Set(item_name);
    active.description = Set(fields.description.trim().to_string());
    active.fulfillment_group_id = Set(fields.fulfillment_group_id);
    active.approval = Set(fields.approval.into());
    active.approval_group_id = Set(fields.approval_group_id);
    active.variables = Set(serde_json::to_value(&fields.variables).expect("forms serialize"));
    active.active = Set(fields.active);
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}

/// An item's order form.
///
/// # Errors
/// INTERNAL when the stored form does not read.
pub fn form_of(item: &catalog_item::Model) -> AppResult<Vec<Variable>> {
    serde_json::from_value(item.variables.clone()).map_err(|e| {
        AppError::Internal(format!(
            "catalog item {} has an unreadable form: {e}",
            item.id
        ))
    })
}

/// How the edge reads a person named in an answer: the id as the client wrote it and
/// the answer's field, to the user's row id (or a BAD_USER_INPUT naming the field).
pub type PersonId<'a> = &'a (dyn Fn(&str, &str) -> AppResult<i64> + Sync);

/// Orders an item: checks the answers, and records a SERVICE_REQUEST for the item's
/// fulfillment group, held for approval when the item needs it.
///
/// # Errors
/// BAD_USER_INPUT when the item cannot be ordered now, an answer does not fit its form
/// (a person answer naming nobody included), or approval is needed from a manager the
/// requester does not have.
pub async fn order(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    item_id: i64,
    answers: &Map<String, Value>,
    note: Option<String>,
    person_id: PersonId<'_>,
) -> AppResult<(ticket::Model, catalog_request::Model)> {
    let me = caller.person()?;
    let txn = db.begin_write().await?;
    let item = referenced::<catalog_item::Entity>(&txn, item_id, "itemId", "catalog item").await?;
    let service = referenced::<service::Entity>(&txn, item.service_id, "itemId", "service").await?;
    if !item.active || ServiceLifecycle::stored(&service.lifecycle)? != ServiceLifecycle::Live {
        return Err(AppError::bad_input(
            "itemId",
            format!("'{}' cannot be ordered now", item.name),
        ));
    }
    let (answers, people) = check_answers(&form_of(&item)?, answers)?;
    for (field, id) in people {
        let user_id = person_id(&id, &field)?;
        referenced::<user::Entity>(&txn, user_id, &field, "person").await?;
    }
    let requester = referenced::<user::Entity>(&txn, me.user_id, "requesterId", "user").await?;
    let (approval_state, approver_user_id, approver_group_id) =
        match Approval::stored(&item.approval)? {
            Approval::Manager => {
                let manager = requester.manager_id.ok_or_else(|| {
                    AppError::bad_input(
                        "itemId",
                        format!(
                            "'{}' needs your manager's approval, and no manager is set for you",
                            item.name
                        ),
                    )
                })?;
                (ApprovalState::Pending, Some(manager), None)
            }
            Approval::Group => (ApprovalState::Pending, None, item.approval_group_id),
            Approval::None => (ApprovalState::NotRequired, None, None),
        };
    let held = approval_state == ApprovalState::Pending;
    let new = NewTicket {
        kind: Kind::ServiceRequest,
        title: format!("{}: {}", item.name, requester.name)
            .chars()
            .take(200)
            .collect(),
        description: note.unwrap_or_default(),
        impact: Level::Low,
        urgency: Level::Medium,
        category_id: None,
        channel: None,
        requester_id: None,
        organization_id: None,
        group_id: Some(item.fulfillment_group_id),
        assignee_id: None,
        service_id: Some(item.service_id),
        pending_reason: held.then_some(PendingReason::AwaitingApproval),
        configuration_item_ids: vec![],
    };
    let row = commands::insert(&txn, caller, now, Some(me.user_id), new).await?;
    let request = catalog_request::ActiveModel {
        ticket_id: Set(row.id),
        item_id: Set(item.id),
        answers: Set(Value::Object(answers)),
        approval_state: Set(approval_state.into()),
        approver_user_id: Set(approver_user_id),
        approver_group_id: Set(approver_group_id),
        decided_by: Set(None),
        decided_at: Set(None),
        decision: Set(None),
    }
    .insert(&txn)
    .await?;
    let payload = json!({ "itemId": item.id, "itemName": item.name, "approval": approval_state, "ticket": TicketSnapshot::of(&row).to_json() });
    events::append(
        &txn,
        &Actor::of(caller),
        now,
        NewEvent {
            topic: Topic::CatalogOrdered,
            entity_type: "ticket",
            entity_id: row.id,
            internal: false,
            payload,
        },
    )
    .await?;
    txn.commit().await?;
    Ok((row, request))
}

/// Whether the caller may decide this request: the named manager, or a member of the group.
async fn may_decide(
    conn: &impl ConnectionTrait,
    user_id: i64,
    request: &catalog_request::Model,
) -> AppResult<bool> {
    if request.approver_user_id == Some(user_id) {
        return Ok(true);
    }
    match request.approver_group_id {
        Some(group) => Ok(group_member::Entity::find_by_id((group, user_id))
            .one(conn)
            .await?
            .is_some()),
        None => Ok(false),
    }
}

/// Requests waiting for the caller's decision.
pub async fn awaiting(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<catalog_request::Model>> {
    let me = caller.person()?;
    let groups: Vec<i64> = group_member::Entity::find()
        .filter(group_member::Column::UserId.eq(me.user_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.group_id)
        .collect();
    let mut whose = Condition::any().add(catalog_request::Column::ApproverUserId.eq(me.user_id));
    if !groups.is_empty() {
        whose = whose.add(catalog_request::Column::ApproverGroupId.is_in(groups));
    }
    Ok(catalog_request::Entity::find()
        .filter(catalog_request::Column::ApprovalState.eq(ApprovalState::Pending))
        .filter(whose)
        .order_by_asc(catalog_request::Column::TicketId)
        .all(conn)
        .await?)
}

/// Approves (the request goes to its fulfillment group's queue, its clocks start) or
/// rejects (the request is cancelled) a held order.
pub async fn decide(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    approve: bool,
    comment: Option<String>,
) -> AppResult<ticket::Model> {
    let me = match caller {
        Caller::Person(person) => person,
        Caller::Partner(_) => {
            return Err(AppError::Forbidden(
                "approvals are decided by people".into(),
            ));
        }
        Caller::Anonymous => return Err(not_signed_in()),
    };
    let comment = comment
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        return Err(AppError::bad_input("comment", "at most 2000 characters"));
    }
    if !approve && comment.is_none() {
        return Err(AppError::bad_input(
            "comment",
            "say why the order is rejected",
        ));
    }
    let txn = db.begin_write().await?;
    let request = catalog_request::Entity::find_by_id(ticket_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("there is no catalog order with that id".into()))?;
    if !may_decide(&txn, me.user_id, &request).await? {
        return Err(AppError::Forbidden(
            "you are not an approver of this order".into(),
        ));
    }
    if ApprovalState::stored(&request.approval_state)? != ApprovalState::Pending {
        return Err(AppError::Conflict(format!(
            "this order was already {}",
            request.approval_state.to_lowercase()
        )));
    }
    let row = referenced::<ticket::Entity>(&txn, ticket_id, "ticketId", "ticket").await?;
    let state = if approve {
        ApprovalState::Approved
    } else {
        ApprovalState::Rejected
    };
    let mut active: catalog_request::ActiveModel = request.into();
    active.approval_state = Set(state.into());
    active.decided_by = Set(Some(me.user_id));
    active.decided_at = Set(Some(now));
    active.decision = Set(comment.clone());
    active.update(&txn).await?;
    let to = if approve {
        Status::New
    } else {
        Status::Cancelled
    };
    let saved = commands::release_held(&txn, caller, now, &row, to).await?;
    let topic = if approve {
        Topic::CatalogOrderApproved
    } else {
        Topic::CatalogOrderRejected
    };
    let payload = json!({ "decision": state, "comment": comment, "ticket": TicketSnapshot::of(&saved).to_json() });
    events::append(
        &txn,
        &Actor::of(caller),
        now,
        NewEvent {
            topic,
            entity_type: "ticket",
            entity_id: saved.id,
            internal: false,
            payload,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}
