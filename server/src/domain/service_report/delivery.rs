//! How the services were changed and whether their recovery is tested: the changes
//! closed in the month that put one of them at risk (through the CMDB, as the change's
//! own assessment finds them), and each continuity plan's standing at the month's end.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{change, continuity_exercise, continuity_plan, ticket};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::{
    domain::{
        changes::{
            schedule,
            types::{ChangeStatus, Outcome},
        },
        continuity::exercises,
    },
    error::AppResult,
};

/// The month's closed changes to the services, by outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub closed: i64,
    pub successful: i64,
    pub failed: i64,
    pub backed_out: i64,
    /// Incidents recorded as caused by them.
    pub incidents_caused: i64,
}

impl Changes {
    /// Successful over closed, 0 to 1; none when nothing closed.
    pub fn success_rate(&self) -> Option<f64> {
        (self.closed > 0).then(|| self.successful as f64 / self.closed as f64)
    }
}

/// A continuity plan's standing at the report's end.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanStatus {
    pub plan: continuity_plan::Model,
    /// The latest exercise by then, of whatever outcome.
    pub last_exercise: Option<continuity_exercise::Model>,
    /// When the next successful exercise is (was) due.
    pub due_at: DateTime<Utc>,
    /// Whether it was due by then without a successful exercise.
    pub overdue: bool,
}

/// The changes closed in `[from, to)` that put one of `services` at risk.
pub async fn changes(
    conn: &impl ConnectionTrait,
    services: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Changes> {
    let closed = change::Entity::find()
        .filter(change::Column::Status.eq(ChangeStatus::Closed))
        .filter(change::Column::ClosedAt.gte(from))
        .filter(change::Column::ClosedAt.lt(to))
        .order_by_asc(change::Column::Id)
        .all(conn)
        .await?;
    let ids: Vec<i64> = closed.iter().map(|c| c.id).collect();
    let items = schedule::items_of(conn, &ids).await?;
    let mut counted = Vec::new();
    for change in closed {
        let touched = items.get(&change.id).map(Vec::as_slice).unwrap_or_default();
        let at_risk = schedule::services_at_risk(conn, touched).await?;
        if at_risk.iter().any(|s| services.contains(&s.id)) {
            counted.push(change);
        }
    }
    let outcome = |o: Outcome| {
        counted
            .iter()
            .filter(|c| c.outcome.as_deref() == Some(o.as_str()))
            .count() as i64
    };
    let incidents_caused = if counted.is_empty() {
        0
    } else {
        ticket::Entity::find()
            .filter(ticket::Column::CausedByChangeId.is_in(counted.iter().map(|c| c.id)))
            .count(conn)
            .await? as i64
    };
    Ok(Changes {
        closed: counted.len() as i64,
        successful: outcome(Outcome::Successful),
        failed: outcome(Outcome::Failed),
        backed_out: outcome(Outcome::BackedOut),
        incidents_caused,
    })
}

/// Each of the services' plans as it stood at `as_of`.
pub async fn continuity(
    conn: &impl ConnectionTrait,
    services: &[i64],
    as_of: DateTime<Utc>,
) -> AppResult<Vec<PlanStatus>> {
    let plans = continuity_plan::Entity::find()
        .filter(continuity_plan::Column::ServiceId.is_in(services.iter().copied()))
        .order_by_asc(continuity_plan::Column::Name)
        .all(conn)
        .await?;
    // Every plan's exercises up to then in one query, newest first.
    let mut exercised: HashMap<i64, Vec<continuity_exercise::Model>> = HashMap::new();
    for exercise in continuity_exercise::Entity::find()
        .filter(continuity_exercise::Column::PlanId.is_in(plans.iter().map(|p| p.id)))
        .filter(continuity_exercise::Column::ExercisedAt.lte(as_of))
        .order_by_desc(continuity_exercise::Column::ExercisedAt)
        .order_by_desc(continuity_exercise::Column::Id)
        .all(conn)
        .await?
    {
        exercised
            .entry(exercise.plan_id)
            .or_default()
            .push(exercise);
    }
    let mut out = Vec::with_capacity(plans.len());
    for plan in plans {
        let by_then = exercised.remove(&plan.id).unwrap_or_default();
        let due_at = exercises::due_at(&plan, &by_then);
        out.push(PlanStatus {
            last_exercise: by_then.first().cloned(),
            overdue: due_at <= as_of,
            due_at,
            plan,
        });
    }
    Ok(out)
}
