//! Recording capacity values: each is one sample of a MEASURE attribute of its item's
//! class. After a batch, each measure it touched is looked at once: over its threshold
//! or not, forecast to cross within the horizon or not; a change of either is an event
//! (`capacity.threshold_crossed`, `capacity.forecast`) for webhooks, mail and rules.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use entity::{capacity_sample, capacity_state, ci_class, configuration_item as ci};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};
use serde_json::json;

use super::forecast;
use crate::{
    domain::{
        cmdb::attributes::{AttributeDefinition, AttributeKind},
        events::{self, Actor, NewEvent, Topic},
        settings::DeskSettings,
    },
    error::{AppError, AppResult},
};

/// One value of a measure of an item.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub configuration_item_id: i64,
    pub measure: String,
    pub value: f64,
    pub at: DateTime<Utc>,
}

/// A measure's definition on an item's class.
#[derive(Clone, Debug)]
pub struct Measure {
    pub name: String,
    pub unit: String,
    pub threshold: f64,
}

/// The MEASURE attributes of a class.
pub fn measures_of(class: &ci_class::Model) -> Vec<Measure> {
    serde_json::from_value::<Vec<AttributeDefinition>>(class.attributes.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.kind == AttributeKind::Measure)
        .map(|d| Measure {
            name: d.name,
            unit: d.unit.unwrap_or_default(),
            threshold: d.threshold.unwrap_or(f64::INFINITY),
        })
        .collect()
}

/// The measures of some items, by item.
pub async fn measures_by_item(
    conn: &impl ConnectionTrait,
    items: &[ci::Model],
) -> AppResult<HashMap<i64, Vec<Measure>>> {
    let mut class_ids: Vec<i64> = items.iter().map(|i| i.class_id).collect();
    class_ids.sort_unstable();
    class_ids.dedup();
    let classes: HashMap<i64, Vec<Measure>> = ci_class::Entity::find()
        .filter(ci_class::Column::Id.is_in(class_ids))
        .all(conn)
        .await?
        .iter()
        .map(|c| (c.id, measures_of(c)))
        .collect();
    Ok(items
        .iter()
        .map(|i| (i.id, classes.get(&i.class_id).cloned().unwrap_or_default()))
        .collect())
}

/// A measure's latest `points` values, oldest first.
pub async fn history(
    conn: &impl ConnectionTrait,
    item: i64,
    measure: &str,
    points: u64,
) -> AppResult<Vec<(DateTime<Utc>, f64)>> {
    let mut rows: Vec<(DateTime<Utc>, f64)> = capacity_sample::Entity::find()
        .select_only()
        .column(capacity_sample::Column::At)
        .column(capacity_sample::Column::Value)
        .filter(capacity_sample::Column::ConfigurationItemId.eq(item))
        .filter(capacity_sample::Column::Measure.eq(measure))
        .order_by_desc(capacity_sample::Column::At)
        .order_by_desc(capacity_sample::Column::Id)
        .limit(points)
        .into_tuple()
        .all(conn)
        .await?;
    rows.reverse();
    Ok(rows)
}

/// Records values inside `txn`. Values for a measure the item's class does not define
/// are refused (BAD_USER_INPUT naming it) unless `lenient`: monitoring sends what it
/// has, and what the CMDB does not model is left out. Returns how many were kept.
pub async fn record_values(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    desk: &DeskSettings,
    values: Vec<Value>,
    lenient: bool,
) -> AppResult<usize> {
    let mut item_ids: Vec<i64> = values.iter().map(|v| v.configuration_item_id).collect();
    item_ids.sort_unstable();
    item_ids.dedup();
    let items = ci::Entity::find()
        .filter(ci::Column::Id.is_in(item_ids.clone()))
        .all(txn)
        .await?;
    let measures = measures_by_item(txn, &items).await?;
    let mut touched: BTreeMap<(i64, String), Measure> = BTreeMap::new();
    let mut rows = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        let Some(defined) = measures.get(&value.configuration_item_id) else {
            if lenient {
                continue;
            }
            return Err(AppError::bad_input(
                format!("values.{i}.configurationItemId"),
                "there is no configuration item with that id",
            ));
        };
        let Some(measure) = defined.iter().find(|m| m.name == value.measure) else {
            if lenient {
                continue;
            }
            let known: Vec<&str> = defined.iter().map(|m| m.name.as_str()).collect();
            return Err(AppError::bad_input(
                format!("values.{i}.measure"),
                format!(
                    "the item's class has no measure '{}'; its measures are: {}",
                    value.measure,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        };
        if !value.value.is_finite() {
            return Err(AppError::bad_input(
                format!("values.{i}.value"),
                "give a finite number",
            ));
        }
        touched.insert(
            (value.configuration_item_id, value.measure.clone()),
            measure.clone(),
        );
        rows.push(capacity_sample::ActiveModel {
            configuration_item_id: Set(value.configuration_item_id),
            measure: Set(value.measure),
            value: Set(value.value),
            at: Set(value.at.min(now)),
            ..Default::default()
        });
    }
    let kept = rows.len();
    for chunk in rows.chunks(500) {
        capacity_sample::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for ((item, _), measure) in touched {
        look_at(txn, actor, now, desk, item, &measure).await?;
    }
    Ok(kept)
}

/// Announces what changed of a measure: over its threshold, forecast to cross it.
async fn look_at(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    desk: &DeskSettings,
    item: i64,
    measure: &Measure,
) -> AppResult<()> {
    let points = history(
        txn,
        item,
        &measure.name,
        desk.capacity_forecast_points as u64,
    )
    .await?;
    let Some(&(last_at, last)) = points.last() else {
        return Ok(());
    };
    let over = last >= measure.threshold;
    let trend = forecast::fit(&points, measure.threshold);
    let crosses_at = trend.and_then(|t| t.crosses_at);
    let warned = !over
        && crosses_at.is_some_and(|at| at <= now + Duration::days(desk.capacity_horizon_days));
    let before = capacity_state::Entity::find_by_id((item, measure.name.clone()))
        .one(txn)
        .await?;
    let (was_over, was_warned) =
        before.map_or((false, false), |s| (s.over_threshold, s.forecast_warned));
    if over == was_over && warned == was_warned {
        return Ok(());
    }
    capacity_state::Entity::insert(capacity_state::ActiveModel {
        configuration_item_id: Set(item),
        measure: Set(measure.name.clone()),
        over_threshold: Set(over),
        forecast_warned: Set(warned),
    })
    .on_conflict(
        OnConflict::columns([
            capacity_state::Column::ConfigurationItemId,
            capacity_state::Column::Measure,
        ])
        .update_columns([
            capacity_state::Column::OverThreshold,
            capacity_state::Column::ForecastWarned,
        ])
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let name = ci::Entity::find_by_id(item)
        .one(txn)
        .await?
        .map(|i| i.name)
        .unwrap_or_default();
    let base = json!({
        "configurationItemId": item,
        "item": name,
        "measure": measure.name,
        "unit": measure.unit,
        "threshold": measure.threshold,
        "value": last,
        "at": last_at,
        "perDay": trend.map(|t| t.per_day),
        "crossesAt": crosses_at,
    });
    let announce = |topic: Topic, message: String, extra: serde_json::Value| {
        let mut payload = base.clone();
        if let (Some(p), serde_json::Value::Object(extra)) = (payload.as_object_mut(), extra) {
            p.extend(extra);
            p.insert("message".into(), json!(message));
        }
        (topic, payload)
    };
    let mut events_out = Vec::new();
    if over != was_over {
        events_out.push(announce(
            Topic::CapacityThresholdCrossed,
            if over {
                format!(
                    "{} of {name} is at {last} {}, over its threshold of {}",
                    measure.name, measure.unit, measure.threshold
                )
            } else {
                format!(
                    "{} of {name} is back under its threshold: {last} {}",
                    measure.name, measure.unit
                )
            },
            json!({ "over": over }),
        ));
    }
    if warned && !was_warned {
        let at = crosses_at.expect("a warning has its crossing");
        events_out.push(announce(
            Topic::CapacityForecast,
            format!(
                "{} of {name} is forecast to reach its threshold of {} {} on {}",
                measure.name,
                measure.threshold,
                measure.unit,
                at.format("%Y-%m-%d")
            ),
            json!({ "withinDays": desk.capacity_horizon_days }),
        ));
    }
    for (topic, payload) in events_out {
        events::append(
            txn,
            actor,
            now,
            NewEvent {
                topic,
                entity_type: "configuration_item",
                entity_id: item,
                internal: false,
                payload,
            },
        )
        .await?;
    }
    Ok(())
}

/// Records values sent through the API: agents, tokens that write the CMDB or send
/// alerts.
///
/// # Errors
/// BAD_USER_INPUT naming a value whose item or measure does not exist.
pub async fn record(
    db: &crate::db::Db,
    caller: &crate::auth::Caller,
    now: DateTime<Utc>,
    values: Vec<Value>,
) -> AppResult<usize> {
    use crate::auth::{Caller, Role, Scope};
    let allowed = match caller {
        Caller::Partner(p) => p
            .require_scope(Scope::CmdbWrite)
            .or_else(|_| p.require_scope(Scope::AlertsIngest)),
        other => other.require_role(Role::Agent).map(|_| ()),
    };
    allowed?;
    if values.is_empty() || values.len() > 10_000 {
        return Err(AppError::bad_input("values", "give 1 to 10,000 values"));
    }
    let txn = db.begin_write().await?;
    let desk = crate::domain::settings::load(&txn).await?;
    let kept = record_values(&txn, &Actor::of(caller), now, &desk, values, false).await?;
    txn.commit().await?;
    Ok(kept)
}
