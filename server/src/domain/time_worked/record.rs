//! Recording time on a ticket, alone or with a comment, and removing an entry.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::{ticket, time_entry};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use super::{Activity, MAX_MINUTES, MAX_NOTE_CHARS, require_recorder};
use crate::{
    auth::{Caller, Role},
    db::Writes,
    domain::{
        events::{Actor, Topic},
        input::text,
        tickets::commands::{load_for_change, record as record_event},
    },
    error::{AppError, AppResult},
};

/// What an agent records.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub minutes: i32,
    /// The day worked; today (UTC) when not given.
    pub worked_on: Option<NaiveDate>,
    pub activity: Activity,
    pub billable: bool,
    pub note: String,
}

/// What a stopped timer records when told nothing else: its minutes are the timer's.
impl Default for NewEntry {
    fn default() -> Self {
        NewEntry {
            minutes: 0,
            worked_on: None,
            activity: Activity::Other,
            billable: false,
            note: String::new(),
        }
    }
}

impl NewEntry {
    /// The entry as stored, checked: a duration of a minute to a day, a day not in the
    /// future (a day's slack for time zones ahead of UTC), a note that fits.
    fn checked(&self, now: DateTime<Utc>) -> AppResult<(i32, NaiveDate, String)> {
        if !(1..=MAX_MINUTES).contains(&self.minutes) {
            return Err(AppError::bad_input(
                "minutes",
                format!("give 1 to {MAX_MINUTES} minutes (a day); record longer work day by day"),
            ));
        }
        let today = now.date_naive();
        let day = self.worked_on.unwrap_or(today);
        if day > today.succ_opt().unwrap_or(today) {
            return Err(AppError::bad_input(
                "workedOn",
                format!("{day} is in the future: record time once it is worked"),
            ));
        }
        if !(1..=9999).contains(&day.year()) {
            return Err(AppError::bad_input(
                "workedOn",
                "give a day between the years 0001 and 9999",
            ));
        }
        let note = text("note", &self.note, MAX_NOTE_CHARS, false)?;
        Ok((self.minutes, day, note))
    }
}

/// Records time worked on a ticket the caller may see.
///
/// # Errors
/// FORBIDDEN for requesters; NOT_FOUND for a ticket the caller may not see;
/// BAD_USER_INPUT for a duration, day or note that does not fit.
pub async fn record(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    entry: &NewEntry,
) -> AppResult<time_entry::Model> {
    require_recorder(caller)?;
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, None).await?;
    let saved = insert(&txn, caller, now, &row, entry, None).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Writes an entry and its event inside the caller's transaction (a comment recording
/// time calls this with its own comment's id).
pub async fn insert(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket: &ticket::Model,
    entry: &NewEntry,
    comment_id: Option<i64>,
) -> AppResult<time_entry::Model> {
    require_recorder(caller)?;
    let (minutes, day, note) = entry.checked(now)?;
    let actor = Actor::of(caller);
    let saved = time_entry::ActiveModel {
        ticket_id: Set(ticket.id),
        user_id: Set(actor.user_id),
        user_name: Set(actor.name.clone()),
        minutes: Set(minutes),
        worked_on: Set(day.format("%Y-%m-%d").to_string()),
        month: Set(day.format("%Y-%m").to_string()),
        activity: Set(entry.activity.as_str().to_string()),
        billable: Set(entry.billable),
        note: Set(note),
        group_id: Set(ticket.group_id),
        organization_id: Set(ticket.organization_id),
        service_id: Set(ticket.service_id),
        comment_id: Set(comment_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    // Internal: the requester's subscriptions and mail never hear of it.
    let payload = json!({
        "timeEntryId": saved.id,
        "minutes": saved.minutes,
        "billable": saved.billable,
        "activity": saved.activity,
        "workedOn": saved.worked_on,
    });
    record_event(
        txn,
        &actor,
        now,
        Topic::TicketTimeRecorded,
        ticket,
        true,
        payload,
    )
    .await?;
    Ok(saved)
}

/// Removes an entry: its author may, and managers.
///
/// # Errors
/// NOT_FOUND when there is no such entry on a ticket the caller may see; FORBIDDEN for
/// another agent's entry.
pub async fn remove(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    entry_id: i64,
) -> AppResult<time_entry::Model> {
    require_recorder(caller)?;
    let txn = db.begin_write().await?;
    let not_found =
        || AppError::NotFound("there is no time entry with that id that you can see".into());
    let entry = time_entry::Entity::find_by_id(entry_id)
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    let ticket = load_for_change(&txn, caller, entry.ticket_id, None)
        .await
        .map_err(|_| not_found())?;
    let actor = Actor::of(caller);
    let own = actor.user_id.is_some() && actor.user_id == entry.user_id;
    let manager = matches!(caller, Caller::Person(p) if p.has_role(Role::Manager));
    if !own && !manager && !matches!(caller, Caller::Partner(_)) {
        return Err(AppError::Forbidden(
            "only who recorded the time, or a manager, may remove it".into(),
        ));
    }
    time_entry::Entity::delete_by_id(entry.id)
        .exec(&txn)
        .await?;
    let payload = json!({
        "timeEntryId": entry.id,
        "minutes": entry.minutes,
        "removed": true,
    });
    record_event(
        &txn,
        &actor,
        now,
        Topic::TicketTimeRemoved,
        &ticket,
        true,
        payload,
    )
    .await?;
    txn.commit().await?;
    Ok(entry)
}

/// Minutes recorded on a ticket so far.
pub async fn spent_on(conn: &impl ConnectionTrait, ticket_id: i64) -> AppResult<i64> {
    let sum: Option<Option<i64>> = time_entry::Entity::find()
        .select_only()
        .column_as(time_entry::Column::Minutes.sum(), "sum")
        .filter(time_entry::Column::TicketId.eq(ticket_id))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(sum.flatten().unwrap_or(0))
}
