//! Editing a ticket's fields, and linking it to configuration items and to the change
//! that caused it.

use chrono::{DateTime, Utc};
use entity::{comment, ticket, ticket_configuration_item};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use serde_json::json;

use crate::domain::events::Topic;
use crate::domain::tickets::types::{Channel, Kind, Level, MAJOR_PRIORITY};
use crate::{
    auth::Caller,
    db::Writes,
    domain::{events::change, input::text, lookup::referenced, settings},
    error::{AppError, AppResult},
};

use super::{
    MAX_TEXT_CHARS, MAX_TITLE_CHARS, Standing, agents_only, category_line, checked_items,
    commit_change, load_for_change, require_open, save_change, searchable, standing_of,
    write_links,
};

/// What an edit changes; `None` keeps what is there.
#[derive(Default)]
pub struct TicketChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub impact: Option<Level>,
    pub urgency: Option<Level>,
    /// `Some(None)` clears the category.
    pub category_id: Option<Option<i64>>,
    pub channel: Option<Channel>,
}

/// Sets a ticket's priority (a major incident's, above P1) in the caller's
/// transaction; its clocks re-target to the policy that priority matches.
pub(crate) async fn set_priority(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    row: &ticket::Model,
    priority: i16,
) -> AppResult<ticket::Model> {
    if row.priority == priority {
        return Ok(row.clone());
    }
    let changed = ticket::ActiveModel {
        priority: Set(priority),
        ..Default::default()
    };
    let payload = json!({ "changes": [change("priority", row.priority, priority)] });
    save_change(
        txn,
        caller,
        now,
        Topic::TicketUpdated,
        row,
        changed,
        payload,
    )
    .await
}

/// Edits a ticket read at `version`; a new priority re-targets its clocks.
///
/// # Errors
/// BAD_USER_INPUT for fields that do not fit or that only agents may set,
/// INVALID_TRANSITION for a ticket no longer open, CONFLICT when it changed since read.
pub async fn update(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    version: i32,
    input: TicketChanges,
) -> AppResult<ticket::Model> {
    let role = standing_of(caller)?;
    if let Standing::Requester(_) = role {
        for (field, set) in [
            ("impact", input.impact.is_some()),
            ("urgency", input.urgency.is_some()),
            ("categoryId", input.category_id.is_some()),
            ("channel", input.channel.is_some()),
        ] {
            if set {
                return Err(agents_only(field));
            }
        }
    }
    let title = input
        .title
        .as_deref()
        .map(|t| text("title", t, MAX_TITLE_CHARS, true))
        .transpose()?;
    let description = input
        .description
        .as_deref()
        .map(|d| text("description", d, MAX_TEXT_CHARS, false))
        .transpose()?;
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, Some(version)).await?;
    require_open(&row, "reopen it before changing it")?;
    let mut changes = Vec::new();
    let mut changed = <ticket::ActiveModel as Default>::default();
    if let Some(title) = title.filter(|t| *t != row.title) {
        changes.push(change("title", row.title.clone(), title.clone()));
        changed.title = Set(title);
    }
    if let Some(description) = description.filter(|d| *d != row.description) {
        changes.push(change(
            "description",
            row.description.clone(),
            description.clone(),
        ));
        changed.description = Set(description);
    }
    let impact = input.impact.unwrap_or(Level::parse(&row.impact, "impact")?);
    let urgency = input
        .urgency
        .unwrap_or(Level::parse(&row.urgency, "urgency")?);
    if impact.as_str() != row.impact {
        changes.push(change("impact", row.impact.clone(), impact.as_str()));
        changed.impact = Set(impact.as_str().into());
    }
    if urgency.as_str() != row.urgency {
        changes.push(change("urgency", row.urgency.clone(), urgency.as_str()));
        changed.urgency = Set(urgency.as_str().into());
    }
    // A major incident keeps the priority above P1 whatever its impact and urgency.
    let priority = if row.priority == MAJOR_PRIORITY {
        MAJOR_PRIORITY
    } else {
        settings::load(&txn).await?.priority(impact, urgency)
    };
    if priority != row.priority {
        changes.push(change("priority", row.priority, priority));
        changed.priority = Set(priority);
    }
    if let Some(category_id) = input.category_id.filter(|c| *c != row.category_id) {
        category_line(&txn, category_id).await?;
        changes.push(change("categoryId", row.category_id, category_id));
        changed.category_id = Set(category_id);
    }
    if let Some(channel) = input.channel.filter(|c| c.as_str() != row.channel) {
        changes.push(change("channel", row.channel.clone(), channel.as_str()));
        changed.channel = Set(channel.as_str().into());
    }
    if changes.is_empty() {
        return Ok(row);
    }
    let new_title = match &changed.title {
        sea_orm::ActiveValue::Set(t) => t.clone(),
        _ => row.title.clone(),
    };
    let new_description = match &changed.description {
        sea_orm::ActiveValue::Set(d) => d.clone(),
        _ => row.description.clone(),
    };
    if new_title != row.title || new_description != row.description {
        let public_comments = comment::Entity::find()
            .filter(comment::Column::TicketId.eq(row.id))
            .filter(comment::Column::Internal.eq(false))
            .all(&txn)
            .await?;
        let mut parts = vec![new_title.as_str(), new_description.as_str()];
        parts.extend(public_comments.iter().map(|c| c.body.as_str()));
        changed.search_text = Set(searchable(&parts));
    }
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketUpdated,
        &row,
        changed,
        json!({ "changes": changes }),
    )
    .await
}

/// Sets which configuration items a ticket is about: what impact analysis starts from.
pub async fn link_configuration_items(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    version: i32,
    configuration_item_ids: &[i64],
) -> AppResult<ticket::Model> {
    if let Standing::Requester(_) = standing_of(caller)? {
        return Err(agents_only("configurationItemIds"));
    }
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, Some(version)).await?;
    let wanted = checked_items(&txn, configuration_item_ids).await?;
    let mut current: Vec<i64> = ticket_configuration_item::Entity::find()
        .filter(ticket_configuration_item::Column::TicketId.eq(row.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|link| link.configuration_item_id)
        .collect();
    current.sort_unstable();
    if current == wanted {
        return Ok(row);
    }
    write_links(&txn, row.id, &wanted).await?;
    crate::domain::problems::trends::incident_recorded(&txn, now, &row, &wanted).await?;
    let changes = json!([change(
        "configurationItemIds",
        json!(current),
        json!(wanted)
    )]);
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketUpdated,
        &row,
        Default::default(),
        json!({ "changes": changes }),
    )
    .await
}

/// Links an incident to the change that caused it (None unlinks): what the change
/// report counts as changes causing incidents.
pub async fn link_cause(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    change_id: Option<i64>,
) -> AppResult<ticket::Model> {
    if let Standing::Requester(_) = standing_of(caller)? {
        return Err(agents_only("changeId"));
    }
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, None).await?;
    if row.kind != Kind::Incident.as_str() {
        return Err(AppError::bad_input(
            "ticketId",
            format!("{} is not an incident", row.number),
        ));
    }
    if let Some(id) = change_id {
        referenced::<entity::change::Entity>(&txn, id, "changeId", "change").await?;
    }
    if change_id == row.caused_by_change_id {
        return Ok(row);
    }
    let changed = ticket::ActiveModel {
        caused_by_change_id: Set(change_id),
        ..Default::default()
    };
    let changes = json!([change(
        "causedByChangeId",
        row.caused_by_change_id,
        change_id
    )]);
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketUpdated,
        &row,
        changed,
        json!({ "changes": changes }),
    )
    .await
}
