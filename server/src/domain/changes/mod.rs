//! Change management: standard changes from pre-approved templates, normal changes
//! assessed for risk and authorized by the CAB's votes, emergency changes allowed into
//! freezes; change windows, conflicts, the post-implementation review, and the report
//! of how changes went.

pub mod risk;
pub mod schedule;
pub mod types;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    change, change_approval_policy, change_configuration_item, change_freeze, change_template,
    change_vote, configuration_item, group, group_member, ticket, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use self::{
    risk::{Answers, Grade, ServiceAtRisk},
    types::{
        ChangeStatus::{self, *},
        ChangeType, Outcome,
    },
};
use super::{
    events::{self, Actor, NewEvent, change as field_change},
    lookup::{newest_first, referenced},
    numbers,
    page::Window,
    workflow::Machine,
};
use crate::domain::catalog::types::Criticality;
use crate::domain::events::Topic;
use crate::domain::input::text;
use crate::domain::versioned;
use crate::{
    auth::{Caller, Role, Scope},
    db::Db,
    error::{AppError, AppResult},
};

/// The change's table of moves.
pub const LIFECYCLE: Machine<ChangeStatus> = Machine {
    subject: "change",
    moves: &[
        (Draft, &[Submitted, Cancelled]),
        // Back to DRAFT: sent back to the requester for more detail.
        (Submitted, &[Assessed, Draft, Cancelled]),
        // AUTHORIZED and REJECTED come from the approvers' votes.
        (Assessed, &[Authorized, Rejected, Cancelled]),
        (Authorized, &[Scheduled, Cancelled]),
        (Rejected, &[]),
        // Back to AUTHORIZED: unscheduled, to pick another slot.
        (Scheduled, &[Implementing, Authorized, Cancelled]),
        (Implementing, &[Review]),
        (Review, &[Closed]),
        (Closed, &[]),
        (Cancelled, &[]),
    ],
};

/// Agents raise and work changes, and partner tokens with `tickets:write`.
fn require_worker(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsWrite)
}

pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsRead)
}

async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &change::Model,
    mut payload: Value,
) -> AppResult<()> {
    payload["number"] = json!(row.number);
    events::append(
        txn,
        actor,
        now,
        NewEvent {
            topic,
            entity_type: "change",
            entity_id: row.id,
            internal: true,
            payload,
        },
    )
    .await?;
    Ok(())
}

pub async fn find(conn: &impl ConnectionTrait, id: i64) -> AppResult<change::Model> {
    versioned::find::<change::Entity>(conn, id).await
}

pub async fn item_ids(conn: &impl ConnectionTrait, change_id: i64) -> AppResult<Vec<i64>> {
    Ok(schedule::items_of(conn, &[change_id])
        .await?
        .remove(&change_id)
        .unwrap_or_default())
}

async fn set_items(txn: &DatabaseTransaction, change_id: i64, ids: &[i64]) -> AppResult<Vec<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let found = configuration_item::Entity::find()
        .filter(configuration_item::Column::Id.is_in(ids.iter().copied()))
        .count(txn)
        .await?;
    if found as usize != ids.len() {
        return Err(AppError::bad_input(
            "configurationItemIds",
            "one of these configuration items does not exist",
        ));
    }
    change_configuration_item::Entity::delete_many()
        .filter(change_configuration_item::Column::ChangeId.eq(change_id))
        .exec(txn)
        .await?;
    if !ids.is_empty() {
        change_configuration_item::Entity::insert_many(ids.iter().map(|&ci| {
            change_configuration_item::ActiveModel {
                change_id: Set(change_id),
                configuration_item_id: Set(ci),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(ids)
}

/// What a change's author writes; `None` keeps what is there (or the template's).
#[derive(Default)]
pub struct ChangeFields {
    pub title: Option<String>,
    pub description: Option<String>,
    pub reason: Option<String>,
    pub implementation_plan: Option<String>,
    pub rollback_plan: Option<String>,
    pub test_plan: Option<String>,
    pub planned_start: Option<Option<DateTime<Utc>>>,
    pub planned_end: Option<Option<DateTime<Utc>>>,
    pub configuration_item_ids: Option<Vec<i64>>,
    pub group_id: Option<Option<i64>>,
    pub assignee_id: Option<Option<i64>>,
}

pub async fn create(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    change_type: ChangeType,
    template_id: Option<i64>,
    fields: ChangeFields,
) -> AppResult<change::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let template = match template_id {
        Some(id) => {
            let template =
                referenced::<change_template::Entity>(&txn, id, "templateId", "change template")
                    .await?;
            if !template.active {
                return Err(AppError::bad_input(
                    "templateId",
                    format!("the template '{}' is retired", template.name),
                ));
            }
            Some(template)
        }
        None if change_type == ChangeType::Standard => {
            return Err(AppError::bad_input(
                "templateId",
                "a STANDARD change comes from a pre-approved template: name it",
            ));
        }
        None => None,
    };
    let from_template = |value: Option<String>, pick: fn(&change_template::Model) -> &String| {
        value.unwrap_or_else(|| {
            template
                .as_ref()
                .map(|t| pick(t).clone())
                .unwrap_or_default()
        })
    };
    let actor = Actor::of(caller);
    let title = text(
        "title",
        &from_template(fields.title.clone(), |t| &t.name),
        200,
        true,
    )?;
    let row = change::ActiveModel {
        number: Set(numbers::next(&txn, "CHANGE", "CHG").await?),
        title: Set(title),
        description: Set(text(
            "description",
            &from_template(fields.description.clone(), |t| &t.description),
            20_000,
            false,
        )?),
        change_type: Set(change_type.into()),
        status: Set(Draft.into()),
        template_id: Set(template_id),
        reason: Set(text(
            "reason",
            &fields.reason.clone().unwrap_or_default(),
            20_000,
            false,
        )?),
        implementation_plan: Set(text(
            "implementationPlan",
            &from_template(fields.implementation_plan.clone(), |t| {
                &t.implementation_plan
            }),
            20_000,
            false,
        )?),
        rollback_plan: Set(text(
            "rollbackPlan",
            &from_template(fields.rollback_plan.clone(), |t| &t.rollback_plan),
            20_000,
            false,
        )?),
        test_plan: Set(text(
            "testPlan",
            &from_template(fields.test_plan.clone(), |t| &t.test_plan),
            20_000,
            false,
        )?),
        planned_start: Set(fields.planned_start.flatten()),
        planned_end: Set(fields.planned_end.flatten()),
        group_id: Set(fields.group_id.flatten()),
        assignee_id: Set(fields.assignee_id.flatten()),
        requested_by: Set(actor.user_id),
        freeze_override: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    };
    check_people(
        &txn,
        fields.group_id.flatten(),
        fields.assignee_id.flatten(),
    )
    .await?;
    check_period(fields.planned_start.flatten(), fields.planned_end.flatten())?;
    let row = row.insert(&txn).await?;
    let items = set_items(
        &txn,
        row.id,
        &fields.configuration_item_ids.unwrap_or_default(),
    )
    .await?;
    record(
        &txn,
        &actor,
        now,
        Topic::ChangeCreated,
        &row,
        json!({ "type": row.change_type, "configurationItemIds": items }),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

async fn check_people(
    txn: &DatabaseTransaction,
    group_id: Option<i64>,
    assignee_id: Option<i64>,
) -> AppResult<()> {
    if let Some(id) = group_id {
        referenced::<group::Entity>(txn, id, "groupId", "group").await?;
    }
    if let Some(id) = assignee_id {
        referenced::<user::Entity>(txn, id, "assigneeId", "user").await?;
    }
    Ok(())
}

fn check_period(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> AppResult<()> {
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        return Err(AppError::bad_input(
            "plannedEnd",
            "the planned end must come after the start",
        ));
    }
    Ok(())
}

/// Edits a change that is not yet under way: its words in DRAFT, its slot until it is
/// scheduled.
pub async fn update(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    fields: ChangeFields,
) -> AppResult<change::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<change::Entity>(&txn, id, version).await?;
    let status = ChangeStatus::stored(&row.status)?;
    let words_editable = status == Draft;
    let slot_editable = matches!(status, Draft | Submitted | Assessed | Authorized);
    let mut changes = Vec::new();
    let mut changed = <change::ActiveModel as Default>::default();
    macro_rules! words {
        ($value:expr, $column:ident, $name:literal, $max:expr, $required:expr) => {
            if let Some(value) = $value {
                let value = text($name, &value, $max, $required)?;
                if value != row.$column {
                    if !words_editable {
                        return Err(AppError::InvalidTransition {
                            message: format!(
                                "{} is {}: its {} can be changed in DRAFT only",
                                row.number, row.status, $name
                            ),
                            allowed: vec![],
                        });
                    }
                    changes.push(field_change($name, row.$column.clone(), value.clone()));
                    changed.$column = Set(value);
                }
            }
        };
    }
    words!(fields.title, title, "title", 200, true);
    words!(
        fields.description,
        description,
        "description",
        20_000,
        false
    );
    words!(fields.reason, reason, "reason", 20_000, false);
    words!(
        fields.implementation_plan,
        implementation_plan,
        "implementationPlan",
        20_000,
        false
    );
    words!(
        fields.rollback_plan,
        rollback_plan,
        "rollbackPlan",
        20_000,
        false
    );
    words!(fields.test_plan, test_plan, "testPlan", 20_000, false);
    let start = fields.planned_start.unwrap_or(row.planned_start);
    let end = fields.planned_end.unwrap_or(row.planned_end);
    if start != row.planned_start || end != row.planned_end {
        if !slot_editable {
            return Err(AppError::InvalidTransition {
                message: format!(
                    "{} is {}: unschedule it (back to AUTHORIZED) to move it",
                    row.number, row.status
                ),
                allowed: vec![Authorized.into()],
            });
        }
        check_period(start, end)?;
        changes.push(field_change(
            "plannedStart",
            json!(row.planned_start),
            json!(start),
        ));
        changes.push(field_change(
            "plannedEnd",
            json!(row.planned_end),
            json!(end),
        ));
        changed.planned_start = Set(start);
        changed.planned_end = Set(end);
    }
    let group_id = fields.group_id.unwrap_or(row.group_id);
    let assignee_id = fields.assignee_id.unwrap_or(row.assignee_id);
    check_people(&txn, group_id, assignee_id).await?;
    if group_id != row.group_id {
        changes.push(field_change("groupId", row.group_id, group_id));
        changed.group_id = Set(group_id);
    }
    if assignee_id != row.assignee_id {
        changes.push(field_change("assigneeId", row.assignee_id, assignee_id));
        changed.assignee_id = Set(assignee_id);
    }
    if let Some(items) = fields.configuration_item_ids {
        let before = item_ids(&txn, row.id).await?;
        let mut wanted = items.clone();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted != before {
            if !slot_editable {
                return Err(AppError::InvalidTransition {
                    message: format!(
                        "{} is {}: its items are fixed once it is scheduled",
                        row.number, row.status
                    ),
                    allowed: vec![],
                });
            }
            let after = set_items(&txn, row.id, &wanted).await?;
            changes.push(field_change(
                "configurationItemIds",
                json!(before),
                json!(after),
            ));
        }
    }
    if changes.is_empty() {
        return Ok(row);
    }
    let saved = versioned::save::<change::Entity>(&txn, &row, changed, now).await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::ChangeUpdated,
        &saved,
        json!({ "changes": changes }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

pub struct Transition {
    pub to: ChangeStatus,
    /// How it went: needed to move to REVIEW.
    pub outcome: Option<Outcome>,
    /// The post-implementation review: needed to close, unless recorded before.
    pub review: Option<String>,
}

/// Moves a change along its lifecycle. Assessment and the CAB's decision have their
/// own commands (`assess`, `vote`); scheduling checks windows and freezes.
pub async fn transition(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    input: Transition,
) -> AppResult<change::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<change::Entity>(&txn, id, version).await?;
    let (from, to) = (ChangeStatus::stored(&row.status)?, input.to);
    let change_type = ChangeType::stored(&row.change_type)?;
    match to {
        Assessed if from == Submitted => {
            return Err(AppError::bad_input(
                "to",
                "a change is assessed with assessChange, which computes its risk",
            ));
        }
        Authorized | Rejected if from == Assessed => {
            return Err(AppError::bad_input(
                "to",
                "the approvers authorize or reject a change with voteOnChange",
            ));
        }
        _ => {}
    }
    // A standard change is pre-approved: submitting it authorizes it.
    let target = if to == Submitted && change_type == ChangeType::Standard {
        Authorized
    } else {
        to
    };
    LIFECYCLE.check(from, to)?;
    let mut changed = change::ActiveModel {
        status: Set(target.into()),
        ..Default::default()
    };
    let mut payload = json!({ "changes": [field_change("status", from, target)] });
    match target {
        Submitted => {
            for (field, value) in [
                ("reason", &row.reason),
                ("implementationPlan", &row.implementation_plan),
                ("rollbackPlan", &row.rollback_plan),
                ("testPlan", &row.test_plan),
            ] {
                if value.trim().is_empty() {
                    return Err(AppError::bad_input(
                        field,
                        format!(
                            "a {} change needs its {field} before it is submitted",
                            row.change_type
                        ),
                    ));
                }
            }
        }
        // A STANDARD change submitted: pre-approved by its template.
        Authorized if from == Draft => {
            payload["preApproved"] = json!(true);
        }
        Scheduled => {
            let (Some(start), Some(end)) = (row.planned_start, row.planned_end) else {
                return Err(AppError::bad_input(
                    "plannedStart",
                    "give the planned start and end before scheduling",
                ));
            };
            let items = item_ids(&txn, row.id).await?;
            let emergency = change_type == ChangeType::Emergency;
            let freezes = schedule::freezes_overlapping(&txn, start, end).await?;
            if let Some(freeze) = freezes.first() {
                if !emergency {
                    return Err(AppError::bad_input(
                        "plannedStart",
                        format!(
                            "the slot falls in the change freeze '{}' ({} to {}): only EMERGENCY changes may be scheduled in it",
                            freeze.name,
                            freeze.starts_at.to_rfc3339(),
                            freeze.ends_at.to_rfc3339()
                        ),
                    ));
                }
                changed.freeze_override = Set(true);
                payload["freezeOverride"] =
                    json!(freezes.iter().map(|f| &f.name).collect::<Vec<_>>());
            }
            if !emergency {
                let services = schedule::services_at_risk(&txn, &items).await?;
                schedule::check_windows(&txn, &services, start, end).await?;
            }
            let conflicts = schedule::conflicts(&txn, &row, &items).await?;
            payload["conflicts"] = json!(
                conflicts
                    .iter()
                    .map(|c| &c.other.number)
                    .collect::<Vec<_>>()
            );
        }
        // Unscheduled: it waits for a new slot, and no longer sits in a freeze.
        Authorized => changed.freeze_override = Set(false),
        Review => {
            let outcome = input.outcome.ok_or_else(|| {
                AppError::bad_input(
                    "outcome",
                    "say how it went: SUCCESSFUL, FAILED or BACKED_OUT",
                )
            })?;
            payload["changes"]
                .as_array_mut()
                .expect("a list")
                .push(field_change("outcome", row.outcome.clone(), outcome));
            changed.outcome = Set(Some(outcome.into()));
        }
        Closed => {
            let review = match input.review.as_deref() {
                Some(review) => text("review", review, 20_000, true)?,
                None => row
                    .review
                    .clone()
                    .filter(|r| !r.trim().is_empty())
                    .ok_or_else(|| {
                        AppError::bad_input(
                            "review",
                            "record the post-implementation review before closing",
                        )
                    })?,
            };
            changed.review = Set(Some(review));
            changed.closed_at = Set(Some(now));
        }
        Cancelled => changed.closed_at = Set(Some(now)),
        _ => {}
    }
    let saved = versioned::save::<change::Entity>(&txn, &row, changed, now).await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::ChangeStatusChanged,
        &saved,
        payload,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The approval policy for a change: the most specific for its type and risk.
async fn policy_for(
    conn: &impl ConnectionTrait,
    change_type: ChangeType,
    risk: Grade,
) -> AppResult<Option<change_approval_policy::Model>> {
    let policies = change_approval_policy::Entity::find()
        .filter(change_approval_policy::Column::ChangeType.eq(change_type))
        .order_by_asc(change_approval_policy::Column::Id)
        .all(conn)
        .await?;
    Ok(policies
        .iter()
        .find(|p| p.risk.as_deref() == Some(risk.as_str()))
        .or_else(|| policies.iter().find(|p| p.risk.is_none()))
        .cloned())
}

/// Assesses a submitted change: its risk from the questionnaire and the services at
/// risk, and who must approve it.
pub async fn assess(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    answers: Answers,
) -> AppResult<change::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<change::Entity>(&txn, id, version).await?;
    let from = ChangeStatus::stored(&row.status)?;
    LIFECYCLE.check(from, Assessed)?;
    let items = item_ids(&txn, row.id).await?;
    let services = schedule::services_at_risk(&txn, &items).await?;
    let mut at_risk = Vec::with_capacity(services.len());
    for service in &services {
        at_risk.push(ServiceAtRisk {
            name: &service.name,
            criticality: Criticality::stored(&service.criticality)?,
        });
    }
    let most_critical = at_risk.into_iter().max_by_key(|s| s.criticality);
    let (level, reasons) = risk::assess(&answers, most_critical);
    let policy = policy_for(&txn, ChangeType::stored(&row.change_type)?, level).await?;
    // Without a policy, one manager decides.
    let (group, role, quorum) = match &policy {
        Some(p) => (p.approver_group_id, p.approver_role.clone(), p.quorum),
        None => (None, Some("manager".to_string()), 1),
    };
    let changed = change::ActiveModel {
        status: Set(Assessed.into()),
        risk: Set(Some(level.into())),
        risk_answers: Set(Some(json!(answers))),
        risk_reasons: Set(Some(json!(reasons))),
        approval_group_id: Set(group),
        approval_role: Set(role.clone()),
        quorum: Set(Some(quorum)),
        ..Default::default()
    };
    let saved = versioned::save::<change::Entity>(&txn, &row, changed, now).await?;
    let payload = json!({
        "changes": [field_change("status", from, Assessed), field_change("risk", row.risk.clone(), level)],
        "riskReasons": reasons,
        "approvers": { "groupId": group, "role": role, "quorum": quorum },
        "servicesAtRisk": services.iter().map(|s| &s.name).collect::<Vec<_>>(),
    });
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::ChangeAssessed,
        &saved,
        payload,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Records an approver's vote. The change is authorized when the quorum approves and
/// rejected at the first rejection.
pub async fn vote(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    approve: bool,
    comment: &str,
) -> AppResult<change::Model> {
    let person = caller.person()?;
    let comment = text("comment", comment, 5_000, !approve).map_err(|_| {
        AppError::bad_input("comment", "say why you reject it (up to 5,000 characters)")
    })?;
    let txn = db.begin_write().await?;
    let row = find(&txn, id).await?;
    if ChangeStatus::stored(&row.status)? != Assessed {
        return Err(AppError::InvalidTransition {
            message: format!(
                "{} is {}: votes are taken while it is ASSESSED",
                row.number, row.status
            ),
            allowed: vec![],
        });
    }
    if row.requested_by == Some(person.user_id) {
        return Err(AppError::Forbidden(format!(
            "you requested {}: someone else approves it",
            row.number
        )));
    }
    let by_role = row
        .approval_role
        .as_deref()
        .and_then(Role::parse)
        .is_some_and(|role| person.has_role(role));
    let by_group = match row.approval_group_id {
        Some(group) => group_member::Entity::find()
            .filter(group_member::Column::GroupId.eq(group))
            .filter(group_member::Column::UserId.eq(person.user_id))
            .one(&txn)
            .await?
            .is_some(),
        None => false,
    };
    if !by_role && !by_group {
        return Err(AppError::Forbidden(format!(
            "you are not among the approvers of {}",
            row.number
        )));
    }
    let voted = change_vote::Entity::find()
        .filter(change_vote::Column::ChangeId.eq(row.id))
        .filter(change_vote::Column::VoterId.eq(person.user_id))
        .one(&txn)
        .await?;
    if voted.is_some() {
        return Err(AppError::Conflict(format!(
            "you have voted on {} already",
            row.number
        )));
    }
    change_vote::ActiveModel {
        change_id: Set(row.id),
        voter_id: Set(person.user_id),
        approve: Set(approve),
        comment: Set(comment.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let approvals = change_vote::Entity::find()
        .filter(change_vote::Column::ChangeId.eq(row.id))
        .filter(change_vote::Column::Approve.eq(true))
        .count(&txn)
        .await? as i32;
    let quorum = row.quorum.unwrap_or(1);
    let decided = if !approve {
        Some(Rejected)
    } else if approvals >= quorum {
        Some(Authorized)
    } else {
        None
    };
    let actor = Actor::of(caller);
    let payload =
        json!({ "approve": approve, "comment": comment, "approvals": approvals, "quorum": quorum });
    let saved = match decided {
        Some(status) => {
            let changed = change::ActiveModel {
                status: Set(status.into()),
                closed_at: Set((status == Rejected).then_some(now)),
                ..Default::default()
            };
            let saved = versioned::save::<change::Entity>(&txn, &row, changed, now).await?;
            record(&txn, &actor, now, Topic::ChangeVoted, &saved, payload).await?;
            let status_change = json!({ "changes": [field_change("status", Assessed, status)] });
            record(
                &txn,
                &actor,
                now,
                Topic::ChangeStatusChanged,
                &saved,
                status_change,
            )
            .await?;
            saved
        }
        None => {
            record(&txn, &actor, now, Topic::ChangeVoted, &row, payload).await?;
            row
        }
    };
    txn.commit().await?;
    Ok(saved)
}

/// Each change's configuration items, by name, for a page of changes.
pub async fn items_by_change(
    conn: &impl ConnectionTrait,
    change_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<configuration_item::Model>>> {
    let ids = schedule::items_of(conn, change_ids).await?;
    let all: Vec<i64> = ids.values().flatten().copied().collect();
    let items = crate::domain::cmdb::impact::load(conn, &all).await?;
    Ok(ids
        .into_iter()
        .map(|(change, item_ids)| {
            let mut list: Vec<configuration_item::Model> = item_ids
                .iter()
                .filter_map(|id| items.get(id).cloned())
                .collect();
            list.sort_by(|a, b| a.name_lower.cmp(&b.name_lower));
            (change, list)
        })
        .collect())
}

/// Each change's votes, oldest first, for a page of changes.
pub async fn votes_by_change(
    conn: &impl ConnectionTrait,
    change_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<change_vote::Model>>> {
    let mut by_change: HashMap<i64, Vec<change_vote::Model>> = HashMap::new();
    for vote in change_vote::Entity::find()
        .filter(change_vote::Column::ChangeId.is_in(change_ids.iter().copied()))
        .order_by_asc(change_vote::Column::Id)
        .all(conn)
        .await?
    {
        by_change.entry(vote.change_id).or_default().push(vote);
    }
    Ok(by_change)
}

/// Changes, newest first, optionally in some statuses.
pub async fn list(
    conn: &impl ConnectionTrait,
    statuses: &[ChangeStatus],
    window: &Window,
) -> AppResult<Vec<change::Model>> {
    let columns = (change::Column::Id, change::Column::Status);
    newest_first(conn, change::Entity::find(), columns, statuses, window).await
}

/// The changes touching each of a page of configuration items, newest first.
pub async fn changes_by_item(
    conn: &impl ConnectionTrait,
    item_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<change::Model>>> {
    let links = change_configuration_item::Entity::find()
        .filter(
            change_configuration_item::Column::ConfigurationItemId.is_in(item_ids.iter().copied()),
        )
        .all(conn)
        .await?;
    let changes: HashMap<i64, change::Model> = change::Entity::find()
        .filter(change::Column::Id.is_in(links.iter().map(|l| l.change_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut by_item: HashMap<i64, Vec<change::Model>> = HashMap::new();
    for link in links {
        if let Some(change) = changes.get(&link.change_id) {
            by_item
                .entry(link.configuration_item_id)
                .or_default()
                .push(change.clone());
        }
    }
    for list in by_item.values_mut() {
        list.sort_by_key(|c| std::cmp::Reverse(c.id));
    }
    Ok(by_item)
}

/// Changes not yet finished (from DRAFT to REVIEW) that touch any of `item_ids`, by
/// planned start.
pub async fn open_changes_touching(
    conn: &impl ConnectionTrait,
    item_ids: &[i64],
) -> AppResult<Vec<change::Model>> {
    let mut rows: Vec<change::Model> = Vec::new();
    for chunk in item_ids.chunks(500) {
        rows.extend(
            change::Entity::find()
                .filter(
                    change::Column::Id.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(change_configuration_item::Column::ChangeId)
                            .from(change_configuration_item::Entity)
                            .and_where(
                                change_configuration_item::Column::ConfigurationItemId
                                    .is_in(chunk.iter().copied()),
                            )
                            .to_owned(),
                    ),
                )
                .filter(change::Column::Status.is_not_in(ChangeStatus::ENDED.iter().copied()))
                .all(conn)
                .await?,
        );
    }
    rows.sort_by_key(|c| (c.planned_start, c.id));
    rows.dedup_by_key(|c| c.id);
    Ok(rows)
}

pub struct Report {
    pub closed: u64,
    pub successful: u64,
    pub failed: u64,
    pub backed_out: u64,
    /// Changes with at least one incident linked as caused by them.
    pub causing_incidents: u64,
    pub incidents_caused: u64,
}

/// How the changes closed in `[from, to)` went.
pub async fn report(
    conn: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Report> {
    let in_period = Condition::all()
        .add(change::Column::Status.eq(Closed))
        .add(change::Column::ClosedAt.gte(from))
        .add(change::Column::ClosedAt.lt(to));
    let closed = change::Entity::find()
        .filter(in_period.clone())
        .all(conn)
        .await?;
    let count = |outcome: Outcome| {
        closed
            .iter()
            .filter(|c| c.outcome.as_deref() == Some(outcome.as_str()))
            .count() as u64
    };
    let incidents = ticket::Entity::find()
        .filter(
            ticket::Column::CausedByChangeId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(change::Column::Id)
                    .from(change::Entity)
                    .cond_where(in_period)
                    .to_owned(),
            ),
        )
        .all(conn)
        .await?;
    let mut causing: Vec<i64> = incidents
        .iter()
        .filter_map(|t| t.caused_by_change_id)
        .collect();
    causing.sort_unstable();
    causing.dedup();
    Ok(Report {
        closed: closed.len() as u64,
        successful: count(Outcome::Successful),
        failed: count(Outcome::Failed),
        backed_out: count(Outcome::BackedOut),
        causing_incidents: causing.len() as u64,
        incidents_caused: incidents.len() as u64,
    })
}

// ---- administration -------------------------------------------------------------

pub struct TemplateFields {
    pub name: String,
    pub description: String,
    pub implementation_plan: String,
    pub rollback_plan: String,
    pub test_plan: String,
    pub active: bool,
}

pub async fn save_template(
    db: &Db,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: TemplateFields,
) -> AppResult<change_template::Model> {
    let name = text("name", &fields.name, 200, true)?;
    for (field, value) in [
        ("implementationPlan", &fields.implementation_plan),
        ("rollbackPlan", &fields.rollback_plan),
        ("testPlan", &fields.test_plan),
    ] {
        text(field, value, 20_000, true).map_err(|_| {
            AppError::bad_input(field, format!("a pre-approved template needs its {field}"))
        })?;
    }
    let txn = db.begin_write().await?;
    let mut active: change_template::ActiveModel = match id {
        Some(id) => referenced::<change_template::Entity>(&txn, id, "id", "change template")
            .await?
            .into(),
        None => change_template::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.name = Set(name);
    active.description = Set(fields.description.trim().to_string());
    active.implementation_plan = Set(fields.implementation_plan.trim().to_string());
    active.rollback_plan = Set(fields.rollback_plan.trim().to_string());
    active.test_plan = Set(fields.test_plan.trim().to_string());
    active.active = Set(fields.active);
    let row = match id {
        Some(_) => active.update(&txn).await?,
        None => active.insert(&txn).await?,
    };
    txn.commit().await?;
    Ok(row)
}

pub struct PolicyFields {
    pub change_type: ChangeType,
    /// The risk it applies to; none for every risk of its type.
    pub risk: Option<Grade>,
    pub approver_group_id: Option<i64>,
    pub approver_role: Option<Role>,
    pub quorum: i32,
}

pub async fn save_policy(
    db: &Db,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: PolicyFields,
) -> AppResult<change_approval_policy::Model> {
    if fields.approver_group_id.is_none() && fields.approver_role.is_none() {
        return Err(AppError::bad_input(
            "approverGroupId",
            "name the approving group, or role, or both",
        ));
    }
    if !(1..=50).contains(&fields.quorum) {
        return Err(AppError::bad_input(
            "quorum",
            "give a quorum of 1 to 50 approvals",
        ));
    }
    let txn = db.begin_write().await?;
    if let Some(group) = fields.approver_group_id {
        referenced::<group::Entity>(&txn, group, "approverGroupId", "group").await?;
    }
    let mut active: change_approval_policy::ActiveModel = match id {
        Some(id) => referenced::<change_approval_policy::Entity>(&txn, id, "id", "approval policy")
            .await?
            .into(),
        None => change_approval_policy::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.change_type = Set(fields.change_type.into());
    active.risk = Set(fields.risk.map(Into::into));
    active.approver_group_id = Set(fields.approver_group_id);
    active.approver_role = Set(fields.approver_role.map(|r| r.as_str().to_string()));
    active.quorum = Set(fields.quorum);
    let row = match id {
        Some(_) => active.update(&txn).await?,
        None => active.insert(&txn).await?,
    };
    txn.commit().await?;
    Ok(row)
}

pub async fn save_freeze(
    db: &Db,
    now: DateTime<Utc>,
    id: Option<i64>,
    name: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> AppResult<change_freeze::Model> {
    let name = text("name", name, 200, true)?;
    if ends_at <= starts_at {
        return Err(AppError::bad_input(
            "endsAt",
            "a freeze must end after it starts",
        ));
    }
    let txn = db.begin_write().await?;
    let mut active: change_freeze::ActiveModel = match id {
        Some(id) => referenced::<change_freeze::Entity>(&txn, id, "id", "freeze")
            .await?
            .into(),
        None => change_freeze::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.name = Set(name);
    active.starts_at = Set(starts_at);
    active.ends_at = Set(ends_at);
    let row = match id {
        Some(_) => active.update(&txn).await?,
        None => active.insert(&txn).await?,
    };
    txn.commit().await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::assert_table;

    #[test]
    fn the_change_lifecycle_allows_exactly_its_moves() {
        assert_table(
            &LIFECYCLE,
            &[
                (Draft, &[Submitted, Cancelled]),
                (Submitted, &[Assessed, Draft, Cancelled]),
                (Assessed, &[Authorized, Rejected, Cancelled]),
                (Authorized, &[Scheduled, Cancelled]),
                (Scheduled, &[Implementing, Authorized, Cancelled]),
                (Implementing, &[Review]),
                (Review, &[Closed]),
            ],
        );
    }
}
