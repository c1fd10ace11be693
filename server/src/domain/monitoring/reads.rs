//! The desk's alert list: newest first, by state, by item or by incident, in keyset
//! pages; and an alert's timeline.

use entity::{alert, alert_transition};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{AlertStatus, require_reader};
use crate::{auth::Caller, domain::page::Window, error::AppResult};

/// What the list is narrowed to.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    pub status: Option<AlertStatus>,
    pub configuration_item_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub flapping: Option<bool>,
}

/// A window of alerts, newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: &AlertFilter,
    window: &Window,
) -> AppResult<Vec<alert::Model>> {
    require_reader(caller)?;
    let mut query = alert::Entity::find();
    if let Some(status) = filter.status {
        query = query.filter(alert::Column::Status.eq(status.as_str()));
    }
    if let Some(item) = filter.configuration_item_id {
        query = query.filter(alert::Column::ConfigurationItemId.eq(item));
    }
    if let Some(ticket) = filter.ticket_id {
        query = query.filter(alert::Column::TicketId.eq(ticket));
    }
    if let Some(flapping) = filter.flapping {
        query = query.filter(alert::Column::Flapping.eq(flapping));
    }
    Ok(window
        .apply(query, alert::Column::Id, sea_orm::Order::Desc)
        .all(conn)
        .await?)
}

/// One alert, for the desk.
pub async fn get(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<Option<alert::Model>> {
    require_reader(caller)?;
    Ok(alert::Entity::find_by_id(id).one(conn).await?)
}

/// An alert's firing and resolving, oldest first (the latest 500).
pub async fn timeline(
    conn: &impl ConnectionTrait,
    alert_id: i64,
) -> AppResult<Vec<alert_transition::Model>> {
    let mut rows = alert_transition::Entity::find()
        .filter(alert_transition::Column::AlertId.eq(alert_id))
        .order_by_desc(alert_transition::Column::At)
        .order_by_desc(alert_transition::Column::Id)
        .limit(500)
        .all(conn)
        .await?;
    rows.reverse();
    Ok(rows)
}
