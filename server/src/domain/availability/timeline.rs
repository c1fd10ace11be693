//! Which stretches of a period a service was down, planned or not, or degraded.
//!
//! A service is represented by its configuration items: those of a business-service
//! class that deliver it (`serviceId`), or, when it has none, all that do. It is down
//! while any of them has failed: has an outage, or depends (through the CMDB's impact
//! directions) on failed items, a redundant pool only once all its members have.
//! Between two instants at which an outage starts or ends nothing changes, so the
//! question is asked once per such stretch.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{ci_class, configuration_item as ci, outage};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{
    OutageKind, OutageSeverity,
    measure::{State, Stretch},
};
use crate::{domain::cmdb::redundancy::Dependencies, error::AppResult};

/// The items that stand for a service.
pub async fn items_of(conn: &impl ConnectionTrait, service_id: i64) -> AppResult<Vec<i64>> {
    let items = ci::Entity::find()
        .filter(ci::Column::ServiceId.eq(service_id))
        .order_by_asc(ci::Column::Id)
        .all(conn)
        .await?;
    let classes: HashSet<i64> = ci_class::Entity::find()
        .filter(ci_class::Column::BusinessService.eq(true))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let services: Vec<i64> = items
        .iter()
        .filter(|i| classes.contains(&i.class_id))
        .map(|i| i.id)
        .collect();
    Ok(if services.is_empty() {
        items.iter().map(|i| i.id).collect()
    } else {
        services
    })
}

/// Every outage that overlaps `[from, to)`, oldest first.
pub async fn outages_in(
    conn: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<outage::Model>> {
    Ok(outage::Entity::find()
        .filter(outage::Column::StartedAt.lt(to))
        .filter(
            Condition::any()
                .add(outage::Column::EndedAt.is_null())
                .add(outage::Column::EndedAt.gt(from)),
        )
        .order_by_asc(outage::Column::StartedAt)
        .order_by_asc(outage::Column::Id)
        .all(conn)
        .await?)
}

/// The stretches of `[from, to)` for a service made of `items`. An outage still going
/// on ends at `open_until` (now, for what has happened; the period's end, to project).
pub fn stretches(
    graph: &Dependencies,
    items: &[i64],
    outages: &[outage::Model],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    open_until: DateTime<Utc>,
) -> Vec<Stretch> {
    let end_of = |o: &outage::Model| o.ended_at.unwrap_or(open_until.max(o.started_at));
    let mut cuts: Vec<DateTime<Utc>> = vec![from, to];
    for o in outages {
        for at in [o.started_at, end_of(o)] {
            if at > from && at < to {
                cuts.push(at);
            }
        }
    }
    cuts.sort();
    cuts.dedup();
    let down = |set: &HashSet<i64>| {
        let failed = graph.failed_with(set);
        items.iter().any(|i| failed.contains(i))
    };
    let mut out: Vec<Stretch> = Vec::new();
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let active: Vec<&outage::Model> = outages
            .iter()
            .filter(|o| o.started_at <= a && end_of(o) > a)
            .collect();
        let set = |keep: &dyn Fn(&outage::Model) -> bool| -> HashSet<i64> {
            active
                .iter()
                .filter(|o| keep(o))
                .map(|o| o.configuration_item_id)
                .collect()
        };
        let full = |o: &outage::Model| o.severity == OutageSeverity::Full.as_str();
        let unplanned = |o: &outage::Model| o.kind == OutageKind::Unplanned.as_str();
        let state = if active.is_empty() {
            State::Up
        } else if down(&set(&|o| full(o) && unplanned(o))) {
            State::Unplanned
        } else if down(&set(&|o| full(o))) {
            State::Planned
        } else if down(&set(&|_| true)) {
            State::Degraded
        } else {
            State::Up
        };
        match out.last_mut() {
            Some(last) if last.state == state && last.to == a => last.to = b,
            _ => out.push(Stretch {
                from: a,
                to: b,
                state,
            }),
        }
    }
    out
}
