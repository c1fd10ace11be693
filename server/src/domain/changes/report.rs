//! How the changes closed in a period went, and how many incidents they caused.

use chrono::{DateTime, Utc};
use entity::{change, ticket};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::changes::types::{ChangeStatus::*, Outcome};
use crate::error::AppResult;

/// How the changes closed in a period went.
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
