//! What happens in a period: releases, the windows of the changes scheduled in it,
//! the freezes, and which changes conflict. For a frontend's calendar and the iCalendar
//! feed alike.

use chrono::{DateTime, Utc};
use entity::{change, change_freeze, release};
use sea_orm::ConnectionTrait;

use super::reads;
use crate::{auth::Caller, domain::changes::schedule, error::AppResult};

/// A period's releases, changes and freezes.
pub struct Period {
    pub releases: Vec<release::Model>,
    /// Each change, with the numbers of the changes it conflicts with.
    pub changes: Vec<(change::Model, Vec<String>)>,
    pub freezes: Vec<change_freeze::Model>,
}

/// What happens in `[from, to)`. The desk.
///
/// # Errors
/// FORBIDDEN for requesters.
pub async fn calendar(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Period> {
    let releases = reads::list(conn, caller, Some(from), Some(to)).await?;
    let scheduled = schedule::overlapping(conn, from, to, None).await?;
    let items =
        schedule::items_of(conn, &scheduled.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let mut changes = Vec::with_capacity(scheduled.len());
    for row in scheduled {
        let mine = items.get(&row.id).cloned().unwrap_or_default();
        let conflicts = schedule::conflicts(conn, &row, &mine)
            .await?
            .into_iter()
            .map(|c| c.other.number)
            .collect();
        changes.push((row, conflicts));
    }
    let freezes = schedule::freezes_overlapping(conn, from, to).await?;
    Ok(Period {
        releases,
        changes,
        freezes,
    })
}
