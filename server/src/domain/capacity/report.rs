//! What runs out first: every measure of the items of a service (those that deliver it
//! and everything they depend on) or of a class, with its latest value, threshold and
//! forecast crossing, soonest first.

use chrono::{DateTime, Utc};
use entity::configuration_item as ci;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    forecast::{self, Trend},
    record::{Measure, history, measures_by_item},
};
use crate::{
    auth::{Caller, Role, Scope},
    domain::settings,
    error::{AppError, AppResult},
};

/// The most items a report covers.
const MOST_ITEMS: u64 = 500;
/// How deep a service's dependencies are followed.
const DEPTH: usize = 10;

/// One measure of one item.
#[derive(Clone, Debug)]
pub struct Line {
    pub item: ci::Model,
    pub measure: Measure,
    /// The latest value and when it was taken.
    pub current: Option<(DateTime<Utc>, f64)>,
    pub trend: Option<Trend>,
    /// How many values the forecast was fitted to.
    pub points: usize,
}

impl Line {
    /// The latest value as a share of the threshold, in percent.
    pub fn used_percent(&self) -> Option<f64> {
        let (_, value) = self.current?;
        (self.measure.threshold != 0.0).then(|| value * 100.0 / self.measure.threshold)
    }
}

/// The capacity report of a service or a class. Agents, and tokens that read the CMDB.
///
/// # Errors
/// BAD_USER_INPUT unless exactly one of service and class is given.
pub async fn report(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service_id: Option<i64>,
    class_id: Option<i64>,
) -> AppResult<Vec<Line>> {
    caller.require_role_or_scope(Role::Agent, Scope::CmdbRead)?;
    let items = match (service_id, class_id) {
        (Some(service), None) => {
            let direct: Vec<i64> = ci::Entity::find()
                .select_only()
                .column(ci::Column::Id)
                .filter(ci::Column::ServiceId.eq(service))
                .into_tuple()
                .all(conn)
                .await?;
            let all =
                crate::domain::cmdb::impact::providers(conn, direct, DEPTH, MOST_ITEMS as usize)
                    .await?;
            ci::Entity::find()
                .filter(ci::Column::Id.is_in(all))
                .order_by_asc(ci::Column::Id)
                .limit(MOST_ITEMS)
                .all(conn)
                .await?
        }
        (None, Some(class)) => {
            ci::Entity::find()
                .filter(ci::Column::ClassId.eq(class))
                .order_by_asc(ci::Column::Id)
                .limit(MOST_ITEMS)
                .all(conn)
                .await?
        }
        _ => {
            return Err(AppError::bad_input(
                "serviceId",
                "give a service or a class, one of the two",
            ));
        }
    };
    let desk = settings::load(conn).await?;
    let measures = measures_by_item(conn, &items).await?;
    let mut lines = Vec::new();
    for item in items {
        for measure in measures.get(&item.id).cloned().unwrap_or_default() {
            let points = history(
                conn,
                item.id,
                &measure.name,
                desk.capacity_forecast_points as u64,
            )
            .await?;
            lines.push(Line {
                current: points.last().copied(),
                trend: forecast::fit(&points, measure.threshold),
                points: points.len(),
                item: item.clone(),
                measure,
            });
        }
    }
    // Soonest crossing first; measures that never cross (or have no values) last.
    lines.sort_by_key(|l| {
        (
            l.trend.and_then(|t| t.crosses_at).is_none(),
            l.trend.and_then(|t| t.crosses_at),
            l.item.id,
        )
    });
    Ok(lines)
}
