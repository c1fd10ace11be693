//! Deciding trend detection's proposals: accepting one makes a problem of its
//! incidents, dismissing one sets it aside.

use chrono::{DateTime, Utc};
use entity::{problem, problem_candidate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder,
};

use crate::domain::problems::types::{CandidateState, TrendBasis};
use crate::domain::tickets::visibility::Scope as TicketScope;
use crate::{
    auth::Caller,
    db::Db,
    error::{AppError, AppResult},
};

use super::{NewProblem, queries::visible_tickets, require_worker, work::insert};

/// The open proposals of trend detection, newest first.
pub async fn candidates(conn: &impl ConnectionTrait) -> AppResult<Vec<problem_candidate::Model>> {
    Ok(problem_candidate::Entity::find()
        .filter(problem_candidate::Column::State.eq(CandidateState::Open))
        .order_by_desc(problem_candidate::Column::Id)
        .all(conn)
        .await?)
}

/// The incidents a proposal gathers.
pub fn candidate_incident_ids(candidate: &problem_candidate::Model) -> Vec<i64> {
    serde_json::from_value(candidate.incident_ids.clone()).unwrap_or_default()
}

/// Accepts a proposal: a problem with its incidents (and the item, when it was one).
pub async fn accept_candidate(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    candidate_id: i64,
    title: Option<String>,
) -> AppResult<problem::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let candidate = open_candidate(&txn, candidate_id).await?;
    let title = match title {
        Some(title) => title,
        None => format!(
            "Recurring incidents on {} {}",
            if TrendBasis::stored(&candidate.basis)? == TrendBasis::Category {
                "category"
            } else {
                "configuration item"
            },
            candidate.subject_id
        ),
    };
    // The proposal may span groups: the problem gets the incidents the caller may see.
    let scope = TicketScope::of(&txn, caller).await?;
    let incidents = visible_tickets(&txn, &scope, &candidate_incident_ids(&candidate))
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let problem = insert(
        &txn,
        caller,
        &scope,
        now,
        NewProblem {
            title,
            description: String::new(),
            priority: 3,
            group_id: None,
            assignee_id: None,
            incident_ids: incidents,
            configuration_item_ids: if TrendBasis::stored(&candidate.basis)?
                == TrendBasis::ConfigurationItem
            {
                vec![candidate.subject_id]
            } else {
                vec![]
            },
        },
    )
    .await?;
    problem_candidate::ActiveModel {
        id: Set(candidate.id),
        state: Set(CandidateState::Accepted.into()),
        problem_id: Set(Some(problem.id)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok(problem)
}

/// Sets a proposal aside: it is not a problem.
///
/// # Errors
/// NOT_FOUND when there is none, CONFLICT when it was decided already.
pub async fn dismiss_candidate(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    candidate_id: i64,
) -> AppResult<problem_candidate::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let candidate = open_candidate(&txn, candidate_id).await?;
    let row = problem_candidate::ActiveModel {
        id: Set(candidate.id),
        state: Set(CandidateState::Dismissed.into()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

async fn open_candidate(txn: &DatabaseTransaction, id: i64) -> AppResult<problem_candidate::Model> {
    let candidate = problem_candidate::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("there is no proposed problem with that id".into()))?;
    if CandidateState::stored(&candidate.state)? != CandidateState::Open {
        return Err(AppError::Conflict(format!(
            "this proposal was {} already",
            candidate.state.to_lowercase()
        )));
    }
    Ok(candidate)
}
