//! When a change may happen: the services at risk (from the CMDB), their change windows,
//! freezes, and the other changes it collides with.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{calendar, change, change_configuration_item, change_freeze, service};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    domain::{cmdb::impact, sla::clocks::to_calendar},
    error::{AppError, AppResult},
};

use super::types::ChangeStatus;

/// Statuses in which a change holds its slot in the calendar.
pub const ACTIVE: [ChangeStatus; 5] = [
    ChangeStatus::Submitted,
    ChangeStatus::Assessed,
    ChangeStatus::Authorized,
    ChangeStatus::Scheduled,
    ChangeStatus::Implementing,
];

/// How far the CMDB is walked for services at risk and dependency conflicts.
const DEPTH: u32 = 10;

/// The configuration items of each of `change_ids`.
pub async fn items_of(
    conn: &impl ConnectionTrait,
    change_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<i64>>> {
    let mut by_change: HashMap<i64, Vec<i64>> = HashMap::new();
    for link in change_configuration_item::Entity::find()
        .filter(change_configuration_item::Column::ChangeId.is_in(change_ids.iter().copied()))
        .all(conn)
        .await?
    {
        by_change
            .entry(link.change_id)
            .or_default()
            .push(link.configuration_item_id);
    }
    Ok(by_change)
}

/// The catalog services delivered by the items or anything that depends on them.
pub async fn services_at_risk(
    conn: &impl ConnectionTrait,
    items: &[i64],
) -> AppResult<Vec<service::Model>> {
    if items.is_empty() {
        return Ok(vec![]);
    }
    let analysis = impact::analyse(conn, items, DEPTH).await?;
    let ids: HashSet<i64> = analysis
        .items
        .values()
        .filter_map(|i| i.service_id)
        .collect();
    Ok(service::Entity::find()
        .filter(service::Column::Id.is_in(ids))
        .order_by_asc(service::Column::Name)
        .all(conn)
        .await?)
}

/// Refuses a slot outside the change window of any service at risk.
pub async fn check_windows(
    conn: &impl ConnectionTrait,
    services: &[service::Model],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> AppResult<()> {
    // Every window in one query: a change usually puts several services at risk.
    let windows: HashMap<i64, calendar::Model> = calendar::Entity::find()
        .filter(calendar::Column::Id.is_in(services.iter().filter_map(|s| s.change_calendar_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    for service in services {
        let Some(row) = service.change_calendar_id.and_then(|id| windows.get(&id)) else {
            continue;
        };
        let window = to_calendar(row)?;
        // Inside the window throughout: every minute of the slot is window time.
        if window.between(start, end) != end - start {
            return Err(AppError::bad_input(
                "plannedStart",
                format!(
                    "{} to {} is outside the change window of '{}' ({}): pick a slot inside it, or make the change EMERGENCY",
                    start.to_rfc3339(),
                    end.to_rfc3339(),
                    service.name,
                    row.name
                ),
            ));
        }
    }
    Ok(())
}

/// The change freezes that overlap `[start, end)`, by start.
pub async fn freezes_overlapping(
    conn: &impl ConnectionTrait,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> AppResult<Vec<change_freeze::Model>> {
    Ok(change_freeze::Entity::find()
        .filter(change_freeze::Column::StartsAt.lt(end))
        .filter(change_freeze::Column::EndsAt.gt(start))
        .order_by_asc(change_freeze::Column::StartsAt)
        .all(conn)
        .await?)
}

/// Another change in the same period that touches the same items, or items that
/// depend on each other.
#[derive(Clone, Debug)]
pub struct Conflict {
    pub other: change::Model,
    /// Items both changes touch.
    pub shared: Vec<i64>,
    /// One change's items depend on the other's.
    pub dependent: bool,
}

/// The changes overlapping `[start, end)` that hold their slot, except `except`.
pub async fn overlapping(
    conn: &impl ConnectionTrait,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    except: Option<i64>,
) -> AppResult<Vec<change::Model>> {
    let mut query = change::Entity::find()
        .filter(change::Column::PlannedStart.lt(end))
        .filter(change::Column::PlannedEnd.gt(start))
        .filter(change::Column::Status.is_in(ACTIVE));
    if let Some(id) = except {
        query = query.filter(change::Column::Id.ne(id));
    }
    Ok(query
        .order_by_asc(change::Column::PlannedStart)
        .all(conn)
        .await?)
}

/// The other scheduled changes whose slot overlaps this one's and that touch the same
/// items or what those items depend on.
pub async fn conflicts(
    conn: &impl ConnectionTrait,
    row: &change::Model,
    items: &[i64],
) -> AppResult<Vec<Conflict>> {
    let (Some(start), Some(end)) = (row.planned_start, row.planned_end) else {
        return Ok(vec![]);
    };
    let others = overlapping(conn, start, end, Some(row.id)).await?;
    if others.is_empty() || items.is_empty() {
        return Ok(vec![]);
    }
    let mine: HashSet<i64> = items.iter().copied().collect();
    let my_dependants: HashSet<i64> = impact::analyse(conn, items, DEPTH)
        .await?
        .reached
        .iter()
        .map(|r| r.id)
        .collect();
    let their_items = items_of(conn, &others.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let mut found = Vec::new();
    // A handful of changes share a slot; each one's dependants are one walk.
    for other in others {
        let theirs = their_items.get(&other.id).cloned().unwrap_or_default();
        if theirs.is_empty() {
            continue;
        }
        let mut shared: Vec<i64> = theirs
            .iter()
            .copied()
            .filter(|i| mine.contains(i))
            .collect();
        shared.sort_unstable();
        let mut dependent = theirs.iter().any(|i| my_dependants.contains(i));
        if !dependent {
            dependent = impact::analyse(conn, &theirs, DEPTH)
                .await?
                .reached
                .iter()
                .any(|r| mine.contains(&r.id));
        }
        if !shared.is_empty() || dependent {
            found.push(Conflict {
                other,
                shared,
                dependent,
            });
        }
    }
    Ok(found)
}
