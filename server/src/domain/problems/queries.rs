//! Reading problems and what they link, a page at a time.

use std::collections::HashMap;

use entity::{configuration_item, problem, problem_configuration_item, problem_incident, ticket};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::problems::types::ProblemStatus;
use crate::domain::{
    lookup::newest_first, page::Window, tickets::visibility::Scope as TicketScope,
};
use crate::error::AppResult;

pub(super) async fn incident_ids(
    conn: &impl ConnectionTrait,
    problem_id: i64,
) -> AppResult<Vec<i64>> {
    Ok(problem_incident::Entity::find()
        .filter(problem_incident::Column::ProblemId.eq(problem_id))
        .order_by_asc(problem_incident::Column::TicketId)
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.ticket_id)
        .collect())
}

/// The tickets among `ids` that `scope` may see, in id order.
pub async fn visible_tickets(
    conn: &impl ConnectionTrait,
    scope: &TicketScope,
    ids: &[i64],
) -> AppResult<Vec<ticket::Model>> {
    Ok(ticket::Entity::find()
        .filter(ticket::Column::Id.is_in(ids.iter().copied()))
        .filter(scope.condition())
        .order_by_asc(ticket::Column::Id)
        .all(conn)
        .await?)
}

/// Tickets by id, in id order, whoever asks: for batches whose rows are checked
/// against the caller's scope afterwards (a DataLoader shared by a page).
async fn tickets_by_ids(conn: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<ticket::Model>> {
    visible_tickets(conn, &TicketScope::Everything, ids).await
}

/// The configuration items of each of `problem_ids`.
pub async fn items_of(
    conn: &impl ConnectionTrait,
    problem_id: i64,
) -> AppResult<Vec<configuration_item::Model>> {
    let ids: Vec<i64> = problem_configuration_item::Entity::find()
        .filter(problem_configuration_item::Column::ProblemId.eq(problem_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.configuration_item_id)
        .collect();
    Ok(configuration_item::Entity::find()
        .filter(configuration_item::Column::Id.is_in(ids))
        .order_by_asc(configuration_item::Column::NameLower)
        .all(conn)
        .await?)
}

/// Each problem's incidents, for a page of problems.
pub async fn incidents_by_problem(
    conn: &impl ConnectionTrait,
    problem_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<ticket::Model>>> {
    let links = problem_incident::Entity::find()
        .filter(problem_incident::Column::ProblemId.is_in(problem_ids.iter().copied()))
        .all(conn)
        .await?;
    let ids: Vec<i64> = links.iter().map(|l| l.ticket_id).collect();
    let tickets: HashMap<i64, ticket::Model> = tickets_by_ids(conn, &ids)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut by_problem: HashMap<i64, Vec<ticket::Model>> = HashMap::new();
    for link in links {
        if let Some(ticket) = tickets.get(&link.ticket_id) {
            by_problem
                .entry(link.problem_id)
                .or_default()
                .push(ticket.clone());
        }
    }
    for list in by_problem.values_mut() {
        list.sort_by_key(|t| t.id);
    }
    Ok(by_problem)
}

/// The problems each ticket is linked to, in one query.
pub async fn problems_of_tickets(
    conn: &impl ConnectionTrait,
    ticket_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<problem::Model>>> {
    let links = problem_incident::Entity::find()
        .filter(problem_incident::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .all(conn)
        .await?;
    let problems: HashMap<i64, problem::Model> = problem::Entity::find()
        .filter(problem::Column::Id.is_in(links.iter().map(|l| l.problem_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut by_ticket: HashMap<i64, Vec<problem::Model>> = HashMap::new();
    for link in links {
        if let Some(problem) = problems.get(&link.problem_id) {
            by_ticket
                .entry(link.ticket_id)
                .or_default()
                .push(problem.clone());
        }
    }
    Ok(by_ticket)
}

/// Problems, newest first, optionally in some statuses.
pub async fn list(
    conn: &impl ConnectionTrait,
    statuses: &[ProblemStatus],
    window: &Window,
) -> AppResult<Vec<problem::Model>> {
    let columns = (problem::Column::Id, problem::Column::Status);
    newest_first(conn, problem::Entity::find(), columns, statuses, window).await
}
