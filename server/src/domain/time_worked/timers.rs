//! Running timers: an agent starts one on a ticket and stops it when done; stopping
//! records the minutes since (rounded up: a started minute counts).

use chrono::{DateTime, Utc};
use entity::{time_entry, time_timer};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::{MAX_MINUTES, NewEntry, insert, require_recorder};
use crate::{
    auth::Caller,
    db::Writes,
    domain::tickets::commands::load_for_change,
    error::{AppError, AppResult},
};

fn person_of(caller: &Caller) -> AppResult<i64> {
    match caller {
        Caller::Person(person) => Ok(person.user_id),
        _ => Err(AppError::Forbidden(
            "timers are a person's: an API token records time with recordTime".into(),
        )),
    }
}

/// Starts the caller's timer on a ticket they may see.
///
/// # Errors
/// CONFLICT when their timer on it runs already; NOT_FOUND for a ticket they may not see.
pub async fn start_timer(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
) -> AppResult<time_timer::Model> {
    require_recorder(caller)?;
    let user_id = person_of(caller)?;
    let txn = db.begin_write().await?;
    let ticket = load_for_change(&txn, caller, ticket_id, None).await?;
    let started = time_timer::ActiveModel {
        ticket_id: Set(ticket.id),
        user_id: Set(user_id),
        started_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Taken { .. } => AppError::Conflict(format!(
            "your timer on {} runs already: stop it first",
            ticket.number
        )),
        other => other,
    })?;
    txn.commit().await?;
    Ok(started)
}

/// Stops the caller's timer on a ticket and records the time since it started, with
/// `entry`'s activity, billability and note (its minutes are the timer's).
///
/// # Errors
/// NOT_FOUND when no timer of theirs runs on it.
pub async fn stop_timer(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    entry: NewEntry,
) -> AppResult<time_entry::Model> {
    require_recorder(caller)?;
    let user_id = person_of(caller)?;
    let txn = db.begin_write().await?;
    let ticket = load_for_change(&txn, caller, ticket_id, None).await?;
    let timer = time_timer::Entity::find()
        .filter(time_timer::Column::UserId.eq(user_id))
        .filter(time_timer::Column::TicketId.eq(ticket.id))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!("you have no timer running on {}", ticket.number))
        })?;
    let seconds = (now - timer.started_at).num_seconds().max(0);
    // A timer left running past a day records a day: the rest is more likely a timer
    // forgotten than work done.
    let minutes = ((seconds + 59) / 60).clamp(1, MAX_MINUTES.into()) as i32;
    time_timer::Entity::delete_by_id(timer.id)
        .exec(&txn)
        .await?;
    let entry = NewEntry {
        minutes,
        worked_on: Some(timer.started_at.date_naive()),
        ..entry
    };
    let saved = insert(&txn, caller, now, &ticket, &entry, None).await?;
    txn.commit().await?;
    Ok(saved)
}

/// The caller's running timers, oldest first.
pub async fn running_timers(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<time_timer::Model>> {
    let Caller::Person(person) = caller else {
        return Ok(Vec::new());
    };
    Ok(time_timer::Entity::find()
        .filter(time_timer::Column::UserId.eq(person.user_id))
        .order_by_asc(time_timer::Column::StartedAt)
        .all(conn)
        .await?)
}
