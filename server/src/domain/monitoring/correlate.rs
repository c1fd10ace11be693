//! Which configuration item an alert is about: the desk's correlation rules, tried in
//! order, each matching one label's value to an item's name, external key or one of
//! its attributes. One query per rule for a whole batch of alerts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{alert_correlation, ci_attribute_value, configuration_item as ci};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{IncomingAlert, MatchOn};
use crate::{
    auth::{Caller, Role},
    db::Db,
    error::{AppError, AppResult},
};

/// One correlation rule as an admin gives it.
#[derive(Clone, Debug)]
pub struct Correlation {
    pub label: String,
    pub match_on: MatchOn,
    pub attribute: Option<String>,
}

/// The rules, in the order they are tried.
pub async fn rules(conn: &impl ConnectionTrait) -> AppResult<Vec<alert_correlation::Model>> {
    Ok(alert_correlation::Entity::find()
        .order_by_asc(alert_correlation::Column::Position)
        .order_by_asc(alert_correlation::Column::Id)
        .all(conn)
        .await?)
}

/// Replaces the rules. Admins.
///
/// # Errors
/// BAD_USER_INPUT for an empty label or an ATTRIBUTE rule without its attribute.
pub async fn replace(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    given: Vec<Correlation>,
) -> AppResult<Vec<alert_correlation::Model>> {
    caller.require_role(Role::Admin)?;
    if given.len() > 50 {
        return Err(AppError::bad_input("rules", "give at most 50 rules"));
    }
    for (i, rule) in given.iter().enumerate() {
        crate::domain::input::text(&format!("rules.{i}.label"), &rule.label, 200, true)?;
        if let Some(attribute) = &rule.attribute {
            crate::domain::input::text(&format!("rules.{i}.attribute"), attribute, 200, true)?;
        }
        if (rule.match_on == MatchOn::Attribute) != rule.attribute.is_some() {
            return Err(AppError::bad_input(
                format!("rules.{i}.attribute"),
                "name the attribute for an ATTRIBUTE rule, and only for one",
            ));
        }
    }
    let txn = db.begin_write().await?;
    alert_correlation::Entity::delete_many().exec(&txn).await?;
    for (position, rule) in given.into_iter().enumerate() {
        alert_correlation::ActiveModel {
            position: Set(position as i32),
            label: Set(rule.label.trim().to_string()),
            match_on: Set(rule.match_on.as_str().into()),
            attribute: Set(rule.attribute),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let saved = rules(&txn).await?;
    txn.commit().await?;
    Ok(saved)
}

/// The values a label's value is tried as: itself and, for `host:port`, the host.
fn candidates(value: &str) -> Vec<String> {
    let value = value.trim().to_lowercase();
    let mut out = vec![value.clone()];
    if let Some((host, port)) = value.rsplit_once(':')
        && !host.is_empty()
        && port.chars().all(|c| c.is_ascii_digit())
    {
        out.push(host.to_string());
    }
    out
}

/// The item each alert is about, if a rule finds one; in the alerts' order.
pub async fn items_for(
    conn: &impl ConnectionTrait,
    alerts: &[&IncomingAlert],
) -> AppResult<Vec<Option<i64>>> {
    let mut found: Vec<Option<i64>> = vec![None; alerts.len()];
    for rule in rules(conn).await? {
        let waiting: Vec<(usize, Vec<String>)> = alerts
            .iter()
            .enumerate()
            .filter(|(i, _)| found[*i].is_none())
            .filter_map(|(i, a)| a.labels.get(&rule.label).map(|v| (i, candidates(v))))
            .collect();
        if waiting.is_empty() {
            continue;
        }
        let mut values: Vec<String> = waiting.iter().flat_map(|(_, c)| c.clone()).collect();
        values.sort();
        values.dedup();
        let by_value = lookup(conn, &rule, &values).await?;
        for (i, tried) in waiting {
            found[i] = tried.iter().find_map(|v| by_value.get(v).copied());
        }
    }
    Ok(found)
}

/// Item ids by the (lower-case) value a rule matches them on.
async fn lookup(
    conn: &impl ConnectionTrait,
    rule: &alert_correlation::Model,
    values: &[String],
) -> AppResult<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in values.chunks(500) {
        let pairs: Vec<(String, i64)> = match MatchOn::stored(&rule.match_on)? {
            MatchOn::Name => {
                ci::Entity::find()
                    .select_only()
                    .column(ci::Column::NameLower)
                    .column(ci::Column::Id)
                    .filter(ci::Column::NameLower.is_in(chunk.iter().cloned()))
                    .order_by_desc(ci::Column::Id)
                    .into_tuple()
                    .all(conn)
                    .await?
            }
            MatchOn::ExternalKey => {
                let rows: Vec<(Option<String>, i64)> = ci::Entity::find()
                    .select_only()
                    .column(ci::Column::ExternalKey)
                    .column(ci::Column::Id)
                    .filter(ci::Column::ExternalKey.is_in(chunk.iter().cloned()))
                    .into_tuple()
                    .all(conn)
                    .await?;
                rows.into_iter()
                    .filter_map(|(k, id)| k.map(|k| (k.to_lowercase(), id)))
                    .collect()
            }
            MatchOn::Attribute => {
                let rows: Vec<(String, i64)> = ci_attribute_value::Entity::find()
                    .select_only()
                    .column(ci_attribute_value::Column::Value)
                    .column(ci_attribute_value::Column::ConfigurationItemId)
                    .filter(
                        ci_attribute_value::Column::Name
                            .eq(rule.attribute.clone().unwrap_or_default()),
                    )
                    .filter(ci_attribute_value::Column::Value.is_in(chunk.iter().cloned()))
                    .order_by_desc(ci_attribute_value::Column::ConfigurationItemId)
                    .into_tuple()
                    .all(conn)
                    .await?;
                rows.into_iter()
                    .map(|(v, id)| (v.to_lowercase(), id))
                    .collect()
            }
        };
        // Ordered newest last wins: the oldest item of a name is the one matched.
        out.extend(pairs);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::candidates;

    #[test]
    fn host_and_port_is_tried_as_the_host_too() {
        assert_eq!(candidates("Web-1:9100"), vec!["web-1:9100", "web-1"]);
        assert_eq!(candidates("db-1"), vec!["db-1"]);
        assert_eq!(candidates("[::1]"), vec!["[::1]"]);
    }
}
