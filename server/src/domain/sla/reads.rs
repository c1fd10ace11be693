//! Reading the SLA set-up and a ticket's clocks. Calendars and policies are the desk's
//! own business (agents); clocks are read through the ticket they belong to, whose
//! visibility the caller's read of the ticket already decided.

use std::collections::HashMap;

use entity::{calendar, sla_clock, sla_clock_segment, sla_policy};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    auth::{Caller, Role},
    error::AppResult,
};

/// Every business-hours calendar, by name.
///
/// # Errors
/// FORBIDDEN for anyone below agent.
pub async fn calendars(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<calendar::Model>> {
    caller.require_role(Role::Agent)?;
    Ok(calendar::Entity::find()
        .order_by_asc(calendar::Column::Name)
        .all(conn)
        .await?)
}

/// One calendar, if there is one with that id.
///
/// # Errors
/// FORBIDDEN for anyone below agent.
pub async fn calendar(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<Option<calendar::Model>> {
    caller.require_role(Role::Agent)?;
    Ok(calendar::Entity::find_by_id(id).one(conn).await?)
}

/// The SLA policies in the order they are tried.
///
/// # Errors
/// FORBIDDEN for anyone below agent.
pub async fn policies(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<sla_policy::Model>> {
    caller.require_role(Role::Agent)?;
    Ok(sla_policy::Entity::find()
        .order_by_asc(sla_policy::Column::Position)
        .order_by_asc(sla_policy::Column::Id)
        .all(conn)
        .await?)
}

/// One policy, if there is one with that id.
///
/// # Errors
/// FORBIDDEN for anyone below agent.
pub async fn policy(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<Option<sla_policy::Model>> {
    caller.require_role(Role::Agent)?;
    Ok(sla_policy::Entity::find_by_id(id).one(conn).await?)
}

/// Each ticket's clocks in the order they started, for a page of tickets the caller
/// may see; every ticket asked for has an entry, an empty one too.
pub async fn clocks_of_tickets(
    conn: &impl ConnectionTrait,
    ticket_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<sla_clock::Model>>> {
    let rows = sla_clock::Entity::find()
        .filter(sla_clock::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .order_by_asc(sla_clock::Column::Id)
        .all(conn)
        .await?;
    let mut by_ticket: HashMap<i64, Vec<sla_clock::Model>> =
        ticket_ids.iter().map(|&id| (id, Vec::new())).collect();
    for row in rows {
        by_ticket.entry(row.ticket_id).or_default().push(row);
    }
    Ok(by_ticket)
}

/// A clock's ledger: when it ran and when it was paused, oldest first.
pub async fn segments(
    conn: &impl ConnectionTrait,
    clock_id: i64,
) -> AppResult<Vec<sla_clock_segment::Model>> {
    Ok(sla_clock_segment::Entity::find()
        .filter(sla_clock_segment::Column::ClockId.eq(clock_id))
        .order_by_asc(sla_clock_segment::Column::Id)
        .all(conn)
        .await?)
}
