//! Recording outages. Unplanned ones come from incidents: flagged by an agent, with the
//! start and end their alerts give (or the agent's). Planned ones come from changes and
//! releases: their windows on their items. Each item out is one outage row; ending,
//! correcting and listing them are here too.

use chrono::{DateTime, Utc};
use entity::{alert, change, outage, release, release_item, ticket_configuration_item};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::{Value, json};

use super::{OutageKind, OutageSeverity, require_reader, require_writer};
use crate::{
    auth::Caller,
    db::Db,
    domain::{
        changes,
        events::{self, Actor, NewEvent, Topic},
        input::text,
        lookup::referenced,
        page::Window,
        tickets::visibility::Scope,
        versioned,
    },
    error::{AppError, AppResult},
};

/// What an outage is recorded from, and what the recorder says of it.
#[derive(Clone, Debug, Default)]
pub struct NewOutage {
    /// The items out; by default the incident's, the change's or the release's items.
    pub configuration_item_ids: Vec<i64>,
    pub ticket_id: Option<i64>,
    pub change_id: Option<i64>,
    pub release_id: Option<i64>,
    /// Required when neither a ticket, a change nor a release says it.
    pub kind: Option<OutageKind>,
    pub severity: Option<OutageSeverity>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub description: Option<String>,
}

/// An outage as its events carry it.
pub fn payload(row: &outage::Model) -> Value {
    json!({
        "outageId": row.id,
        "configurationItemId": row.configuration_item_id,
        "kind": row.kind,
        "severity": row.severity,
        "ticketId": row.ticket_id,
        "changeId": row.change_id,
        "releaseId": row.release_id,
        "startedAt": row.started_at,
        "endedAt": row.ended_at,
    })
}

async fn announce(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &outage::Model,
) -> AppResult<()> {
    events::append(
        txn,
        actor,
        now,
        NewEvent {
            topic,
            entity_type: "outage",
            entity_id: row.id,
            internal: false,
            payload: payload(row),
        },
    )
    .await?;
    Ok(())
}

/// Records an outage on each of its items.
///
/// # Errors
/// BAD_USER_INPUT for a window that ends before it starts, no items, or a kind that
/// contradicts its source; NOT_FOUND for a ticket the caller may not see.
pub async fn record(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    new: NewOutage,
) -> AppResult<Vec<outage::Model>> {
    require_writer(caller)?;
    let sources = [
        new.ticket_id.is_some(),
        new.change_id.is_some(),
        new.release_id.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() > 1 {
        return Err(AppError::bad_input(
            "ticketId",
            "an outage comes from one incident, change or release, not several",
        ));
    }
    let txn = db.begin_write().await?;
    let (kind, mut items, mut started, mut ended) = if let Some(ticket_id) = new.ticket_id {
        let scope = Scope::of(&txn, caller).await?;
        crate::domain::tickets::queries::by_id(&txn, &scope, ticket_id).await?;
        let (started, ended) = alert_window(&txn, ticket_id).await?;
        let items = ticket_configuration_item::Entity::find()
            .select_only()
            .column(ticket_configuration_item::Column::ConfigurationItemId)
            .filter(ticket_configuration_item::Column::TicketId.eq(ticket_id))
            .into_tuple()
            .all(&txn)
            .await?;
        let ticket = entity::ticket::Entity::find_by_id(ticket_id)
            .one(&txn)
            .await?;
        let started = started.or(ticket.map(|t| t.created_at));
        (OutageKind::Unplanned, items, started, ended)
    } else if let Some(change_id) = new.change_id {
        let row = referenced::<change::Entity>(&txn, change_id, "changeId", "change").await?;
        let items = changes::item_ids(&txn, change_id).await?;
        (
            OutageKind::Planned,
            items,
            row.planned_start,
            row.planned_end,
        )
    } else if let Some(release_id) = new.release_id {
        let row = referenced::<release::Entity>(&txn, release_id, "releaseId", "release").await?;
        let items = release_item::Entity::find()
            .select_only()
            .column(release_item::Column::ConfigurationItemId)
            .filter(release_item::Column::ReleaseId.eq(release_id))
            .into_tuple()
            .all(&txn)
            .await?;
        (
            OutageKind::Planned,
            items,
            row.planned_start,
            row.planned_end,
        )
    } else {
        let kind = new.kind.ok_or_else(|| {
            AppError::bad_input(
                "kind",
                "say whether the outage was PLANNED or UNPLANNED, or give the incident, change or release it came from",
            )
        })?;
        (kind, vec![], None, None)
    };
    if let Some(given) = new.kind
        && given != kind
    {
        return Err(AppError::bad_input(
            "kind",
            format!("an outage from this source is {kind}, not {given}"),
        ));
    }
    if !new.configuration_item_ids.is_empty() {
        items = new.configuration_item_ids.clone();
    }
    items.sort_unstable();
    items.dedup();
    if items.is_empty() {
        return Err(AppError::bad_input(
            "configurationItemIds",
            "name the configuration items that were out (the source has none)",
        ));
    }
    if items.len() > 100 {
        return Err(AppError::bad_input(
            "configurationItemIds",
            "give at most 100 items",
        ));
    }
    for id in &items {
        referenced::<entity::configuration_item::Entity>(
            &txn,
            *id,
            "configurationItemIds",
            "configuration item",
        )
        .await?;
    }
    started = new.started_at.or(started);
    ended = new.ended_at.or(ended);
    let started = started.ok_or_else(|| {
        AppError::bad_input(
            "startedAt",
            "say when the outage started: the source has no planned start",
        )
    })?;
    check_window(started, ended, now)?;
    let description = text(
        "description",
        &new.description.unwrap_or_default(),
        10_000,
        false,
    )?;
    let actor = Actor::of(caller);
    let mut rows = Vec::new();
    for item in items {
        let row = outage::ActiveModel {
            configuration_item_id: Set(item),
            kind: Set(kind.as_str().into()),
            severity: Set(new.severity.unwrap_or(OutageSeverity::Full).as_str().into()),
            ticket_id: Set(new.ticket_id),
            change_id: Set(new.change_id),
            release_id: Set(new.release_id),
            started_at: Set(started),
            ended_at: Set(ended),
            description: Set(description.clone()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        announce(&txn, &actor, now, Topic::OutageRecorded, &row).await?;
        rows.push(row);
    }
    txn.commit().await?;
    Ok(rows)
}

fn check_window(
    started: DateTime<Utc>,
    ended: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(ended) = ended
        && ended <= started
    {
        return Err(AppError::bad_input(
            "endedAt",
            "an outage ends after it starts",
        ));
    }
    if ended.is_none() && started > now {
        return Err(AppError::bad_input(
            "endedAt",
            "an outage planned for later needs its end too",
        ));
    }
    Ok(())
}

/// When an incident's alerts say its outage started, and ended if all are resolved.
async fn alert_window(
    conn: &impl ConnectionTrait,
    ticket_id: i64,
) -> AppResult<(Option<DateTime<Utc>>, Option<DateTime<Utc>>)> {
    let alerts = alert::Entity::find()
        .filter(alert::Column::TicketId.eq(ticket_id))
        .all(conn)
        .await?;
    let started = alerts.iter().map(|a| a.starts_at).min();
    let ended = if !alerts.is_empty() && alerts.iter().all(|a| a.ends_at.is_some()) {
        alerts.iter().filter_map(|a| a.ends_at).max()
    } else {
        None
    };
    Ok((started, ended))
}

/// What a correction changes.
#[derive(Clone, Debug, Default)]
pub struct OutageChanges {
    pub severity: Option<OutageSeverity>,
    pub started_at: Option<DateTime<Utc>>,
    /// `Some(None)` reopens it: it is still going on.
    pub ended_at: Option<Option<DateTime<Utc>>>,
    pub description: Option<String>,
}

/// Corrects an outage: its severity, start, end or description.
///
/// # Errors
/// CONFLICT when it changed since it was read; BAD_USER_INPUT for a window that ends
/// before it starts.
pub async fn update(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    changes: OutageChanges,
) -> AppResult<outage::Model> {
    require_writer(caller)?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<outage::Entity>(&txn, id, version).await?;
    let started = changes.started_at.unwrap_or(row.started_at);
    let ended = changes.ended_at.unwrap_or(row.ended_at);
    check_window(started, ended, now)?;
    let mut changed = outage::ActiveModel {
        started_at: Set(started),
        ended_at: Set(ended),
        ..Default::default()
    };
    if let Some(severity) = changes.severity {
        changed.severity = Set(severity.as_str().into());
    }
    if let Some(description) = changes.description {
        changed.description = Set(text("description", &description, 10_000, false)?);
    }
    let saved = versioned::save::<outage::Entity>(&txn, &row, changed, now).await?;
    announce(&txn, &Actor::of(caller), now, Topic::OutageUpdated, &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Ends an incident's outages still going on at `ended`, inside the caller's
/// transaction (its alerts were all resolved).
pub async fn end_for_ticket(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    ticket_id: i64,
    ended: DateTime<Utc>,
) -> AppResult<()> {
    let open = outage::Entity::find()
        .filter(outage::Column::TicketId.eq(ticket_id))
        .filter(outage::Column::EndedAt.is_null())
        .all(txn)
        .await?;
    for row in open {
        let changed = outage::ActiveModel {
            ended_at: Set(Some(
                ended.max(row.started_at + chrono::Duration::seconds(1)),
            )),
            ..Default::default()
        };
        let saved = versioned::save::<outage::Entity>(txn, &row, changed, now).await?;
        announce(txn, &Actor::system(), now, Topic::OutageUpdated, &saved).await?;
    }
    Ok(())
}

/// One outage, for the desk.
///
/// # Errors
/// NOT_FOUND when there is none; FORBIDDEN for requesters.
pub async fn get(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<outage::Model> {
    require_reader(caller)?;
    versioned::find::<outage::Entity>(conn, id).await
}

/// What the outage list is narrowed to.
#[derive(Clone, Debug, Default)]
pub struct OutageFilter {
    pub configuration_item_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub kind: Option<OutageKind>,
    pub ongoing: Option<bool>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A window of outages, newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: &OutageFilter,
    window: &Window,
) -> AppResult<Vec<outage::Model>> {
    require_reader(caller)?;
    let mut query = outage::Entity::find();
    if let Some(item) = filter.configuration_item_id {
        query = query.filter(outage::Column::ConfigurationItemId.eq(item));
    }
    if let Some(ticket) = filter.ticket_id {
        query = query.filter(outage::Column::TicketId.eq(ticket));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(outage::Column::Kind.eq(kind.as_str()));
    }
    match filter.ongoing {
        Some(true) => query = query.filter(outage::Column::EndedAt.is_null()),
        Some(false) => query = query.filter(outage::Column::EndedAt.is_not_null()),
        None => {}
    }
    if let Some(to) = filter.to {
        query = query.filter(outage::Column::StartedAt.lt(to));
    }
    if let Some(from) = filter.from {
        query = query.filter(
            sea_orm::Condition::any()
                .add(outage::Column::EndedAt.is_null())
                .add(outage::Column::EndedAt.gt(from)),
        );
    }
    Ok(window
        .apply(query, outage::Column::Id, sea_orm::Order::Desc)
        .all(conn)
        .await?)
}
