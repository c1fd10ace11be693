//! What was asked of the service in the month: tickets raised by kind and category,
//! and the problems behind most of its incidents.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::{category, problem, problem_incident, ticket};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use super::Subject;
use crate::error::AppResult;

/// How many recurring problems a report names.
const TOP_PROBLEMS: usize = 5;

/// Tickets raised in the month of one kind and category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    /// INCIDENT, SERVICE_REQUEST, …
    pub kind: String,
    /// The category's path (`Hardware / Laptop`); none for uncategorised tickets.
    pub category: Option<String>,
    pub tickets: i64,
}

/// A problem behind several of the month's incidents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recurring {
    pub problem_id: i64,
    pub number: String,
    pub title: String,
    pub status: String,
    /// The month's incidents of the subject linked to it.
    pub incidents: i64,
}

/// The subject's tickets raised in `[from, to)`: id, kind, category.
async fn raised(
    conn: &impl ConnectionTrait,
    subject: Subject,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<(i64, String, Option<i64>)>> {
    Ok(ticket::Entity::find()
        .select_only()
        .columns([
            ticket::Column::Id,
            ticket::Column::Kind,
            ticket::Column::CategoryId,
        ])
        .filter(subject.tickets())
        .filter(ticket::Column::CreatedAt.gte(from))
        .filter(ticket::Column::CreatedAt.lt(to))
        .into_tuple()
        .all(conn)
        .await?)
}

/// Volume by kind and category, largest first.
pub async fn volume(
    conn: &impl ConnectionTrait,
    subject: Subject,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Volume>> {
    let tickets = raised(conn, subject, from, to).await?;
    let mut category_ids: Vec<i64> = tickets.iter().filter_map(|t| t.2).collect();
    category_ids.sort_unstable();
    category_ids.dedup();
    let paths: HashMap<i64, String> = category::Entity::find()
        .filter(category::Column::Id.is_in(category_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.path))
        .collect();
    let mut counts: BTreeMap<(String, Option<String>), i64> = BTreeMap::new();
    for (_, kind, category) in tickets {
        let path = category.and_then(|id| paths.get(&id).cloned());
        *counts.entry((kind, path)).or_default() += 1;
    }
    let mut rows: Vec<Volume> = counts
        .into_iter()
        .map(|((kind, category), tickets)| Volume {
            kind,
            category,
            tickets,
        })
        .collect();
    rows.sort_by(|a, b| b.tickets.cmp(&a.tickets));
    Ok(rows)
}

/// The problems linked to most of the month's incidents, most first (five at most).
pub async fn recurring(
    conn: &impl ConnectionTrait,
    subject: Subject,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Recurring>> {
    let incidents = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::Id)
        .filter(subject.tickets())
        .filter(ticket::Column::CreatedAt.gte(from))
        .filter(ticket::Column::CreatedAt.lt(to))
        .into_query();
    let links = problem_incident::Entity::find()
        .filter(problem_incident::Column::TicketId.in_subquery(incidents))
        .all(conn)
        .await?;
    let mut counts: HashMap<i64, i64> = HashMap::new();
    for link in &links {
        *counts.entry(link.problem_id).or_default() += 1;
    }
    let problems = problem::Entity::find()
        .filter(problem::Column::Id.is_in(counts.keys().copied()))
        .all(conn)
        .await?;
    let mut rows: Vec<Recurring> = problems
        .into_iter()
        .map(|p| Recurring {
            incidents: counts.get(&p.id).copied().unwrap_or_default(),
            problem_id: p.id,
            number: p.number,
            title: p.title,
            status: p.status,
        })
        .collect();
    rows.sort_by(|a, b| b.incidents.cmp(&a.incidents).then(a.number.cmp(&b.number)));
    rows.truncate(TOP_PROBLEMS);
    Ok(rows)
}

/// The services an organization's tickets of the month named.
pub async fn services_named(
    conn: &impl ConnectionTrait,
    subject: Subject,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let mut ids: Vec<i64> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::ServiceId)
        .filter(subject.tickets())
        .filter(ticket::Column::CreatedAt.gte(from))
        .filter(ticket::Column::CreatedAt.lt(to))
        .filter(ticket::Column::ServiceId.is_not_null())
        .into_tuple::<Option<i64>>()
        .all(conn)
        .await?
        .into_iter()
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
