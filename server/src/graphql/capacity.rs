//! Capacity: recording measures' values, and the report of what runs out first.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    domain::capacity::{self, Value},
    error::AppResult,
    graphql::{caller, cmdb::ConfigurationItem, command::acting, ids, instant::Instant, state},
};

/// One value of a capacity measure of an item.
#[derive(InputObject)]
pub struct MeasurementInput {
    /// The item.
    pub configuration_item_id: ID,
    /// The measure: a MEASURE attribute of the item's class.
    pub measure: String,
    /// Its value, in the measure's unit.
    pub value: f64,
    /// When it was taken; now when left out.
    pub at: Option<DateTime<Utc>>,
}

/// One measure of one item: where it stands and when it will cross its threshold.
#[derive(SimpleObject)]
pub struct CapacityLine {
    /// The item.
    pub configuration_item: ConfigurationItem,
    /// The measure's name.
    pub measure: String,
    /// Its unit.
    pub unit: String,
    /// The value it should stay under.
    pub threshold: f64,
    /// Its latest value; null before the first.
    pub current: Option<f64>,
    /// When the latest value was taken.
    pub measured_at: Option<Instant>,
    /// The latest value as a share of the threshold, in percent.
    pub used_percent: Option<f64>,
    /// The trend: change per day of the least-squares line through its latest values.
    pub per_day: Option<f64>,
    /// When that line reaches the threshold (the latest value's time if it is over
    /// already); null if it never will.
    pub crosses_threshold_at: Option<Instant>,
    /// How many values the forecast was fitted to (the desk's `capacityForecastPoints`
    /// at most).
    pub points: i32,
}

#[derive(Default)]
pub struct CapacityQuery;

#[Object]
impl CapacityQuery {
    /// What runs out first: every capacity measure of a service's items (those that
    /// deliver it and everything they depend on) or of a class's, soonest crossing
    /// first. The desk, and tokens that read the CMDB.
    async fn capacity_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A service…")] service_id: Option<ID>,
        #[graphql(desc = "…or a configuration item class.")] class_id: Option<ID>,
    ) -> AppResult<Vec<CapacityLine>> {
        let service_id = ids::decode_opt(service_id, "Service", "serviceId")?;
        let class_id = ids::decode_opt(class_id, "CiClass", "classId")?;
        let lines =
            capacity::report::report(state(ctx).db.conn(), caller(ctx), service_id, class_id)
                .await?;
        Ok(lines
            .into_iter()
            .map(|l| CapacityLine {
                used_percent: l.used_percent(),
                measure: l.measure.name,
                unit: l.measure.unit,
                threshold: l.measure.threshold,
                current: l.current.map(|(_, v)| v),
                measured_at: l.current.map(|(at, _)| Instant(at)),
                per_day: l.trend.map(|t| t.per_day),
                crosses_threshold_at: l.trend.and_then(|t| t.crosses_at).map(Instant),
                points: l.points as i32,
                configuration_item: ConfigurationItem(l.item),
            })
            .collect())
    }
}

#[derive(Default)]
pub struct CapacityMutation;

#[Object]
impl CapacityMutation {
    /// Records capacity values (from a script, or a monitoring system that cannot send
    /// alerts). Crossing a threshold, or a forecast within the horizon, is announced.
    /// Agents, and tokens holding `cmdb:write` or `alerts:ingest`. Returns how many
    /// were recorded.
    async fn record_measurements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values, 1 to 10,000.")] values: Vec<MeasurementInput>,
    ) -> AppResult<i32> {
        let on = acting(ctx);
        let values = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                Ok(Value {
                    configuration_item_id: ids::decode_as(
                        &v.configuration_item_id,
                        "ConfigurationItem",
                        &format!("values.{i}.configurationItemId"),
                    )?,
                    measure: v.measure,
                    value: v.value,
                    at: v.at.unwrap_or(on.now),
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let kept = capacity::record::record(on.db, on.caller, on.now, values).await?;
        Ok(kept as i32)
    }
}
