//! Assessing a change's risk and taking the approvers' votes: the CAB's part.

use chrono::{DateTime, Utc};
use entity::{change, change_approval_policy, change_vote, group_member};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use serde_json::json;

use crate::domain::catalog::types::Criticality;
use crate::domain::changes::{risk, schedule};
use crate::domain::changes::{
    risk::{Answers, Grade, ServiceAtRisk},
    types::{
        ChangeStatus::{self, *},
        ChangeType,
    },
};
use crate::domain::events::Topic;
use crate::domain::events::{Actor, change as field_change};
use crate::domain::input::text;
use crate::domain::versioned;
use crate::{
    auth::{Caller, Role},
    db::Db,
    error::{AppError, AppResult},
};

use super::{LIFECYCLE, find, item_ids, record, require_worker};

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
