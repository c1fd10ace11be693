//! How releases went, month by month: how many deployed, rolled back or were
//! cancelled, how long deploying took, and the change success rate (ITIL's measure: a
//! change shipped in a release that deployed is a success unless an incident was caused
//! by it or fell in the release's early life).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Datelike, Utc};
use entity::{change, release, release_incident, ticket};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{ReleaseStatus, require_reader};
use crate::{auth::Caller, error::AppResult};

/// One month of releases, by the month they finished deploying (or were cancelled).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    /// Deployed (and verified or closed since).
    pub deployed: u32,
    pub rolled_back: u32,
    pub cancelled: u32,
    /// Mean minutes from the first step to the last, of those deployed.
    pub mean_deployment_minutes: Option<f64>,
    /// Changes shipped in the releases deployed that month.
    pub changes: u32,
    /// Those without an incident they caused or their release's early life.
    pub successful_changes: u32,
}

/// The months of `[from, to)`, oldest first. The desk.
///
/// # Errors
/// FORBIDDEN for requesters.
pub async fn report(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Month>> {
    require_reader(caller)?;
    let rows = release::Entity::find()
        .filter(release::Column::UpdatedAt.gte(from))
        .filter(release::Column::UpdatedAt.lt(to))
        .all(conn)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let shipped = change::Entity::find()
        .filter(change::Column::ReleaseId.is_in(ids.clone()))
        .all(conn)
        .await?;
    let with_early_incidents: HashSet<i64> = release_incident::Entity::find()
        .select_only()
        .column(release_incident::Column::ReleaseId)
        .filter(release_incident::Column::ReleaseId.is_in(ids))
        .into_tuple::<i64>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let causing: HashSet<i64> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::CausedByChangeId)
        .filter(ticket::Column::CausedByChangeId.is_in(shipped.iter().map(|c| c.id)))
        .into_tuple::<Option<i64>>()
        .all(conn)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let mut months: BTreeMap<String, (Month, Vec<f64>)> = BTreeMap::new();
    for row in &rows {
        let status = ReleaseStatus::stored(&row.status)?;
        let when = row.actual_end.unwrap_or(row.updated_at);
        if when < from || when >= to {
            continue;
        }
        let key = format!("{:04}-{:02}", when.year(), when.month());
        let (month, durations) = months.entry(key.clone()).or_insert_with(|| {
            (
                Month {
                    month: key,
                    ..Month::default()
                },
                vec![],
            )
        });
        match status {
            ReleaseStatus::Deployed | ReleaseStatus::Verified | ReleaseStatus::Closed => {
                month.deployed += 1;
                if let (Some(start), Some(end)) = (row.actual_start, row.actual_end) {
                    durations.push((end - start).num_seconds() as f64 / 60.0);
                }
                for change in shipped.iter().filter(|c| c.release_id == Some(row.id)) {
                    month.changes += 1;
                    if !causing.contains(&change.id) && !with_early_incidents.contains(&row.id) {
                        month.successful_changes += 1;
                    }
                }
            }
            ReleaseStatus::RolledBack => month.rolled_back += 1,
            ReleaseStatus::Cancelled => month.cancelled += 1,
            _ => {}
        }
    }
    Ok(months
        .into_values()
        .map(|(mut month, durations)| {
            if !durations.is_empty() {
                month.mean_deployment_minutes =
                    Some(durations.iter().sum::<f64>() / durations.len() as f64);
            }
            month
        })
        .collect())
}
