//! What requesters said: for the surveys offered in a period, by group, agent, service,
//! organization or month, how many were offered and answered, the ratings, and what
//! was written.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::survey;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    auth::{Caller, Role, Scope as TokenScope},
    domain::named::named_enum,
    error::{AppError, AppResult},
};

named_enum!(
    /// What the satisfaction report is grouped by.
    Grouping {
        Group = "GROUP",
        Agent = "AGENT",
        Service = "SERVICE",
        Organization = "ORGANIZATION",
        Month = "MONTH",
    }
);

/// One row of the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// The group, agent, service or organization (none: tickets without one).
    pub key: Option<i64>,
    /// For `MONTH`, the month offered, `YYYY-MM`.
    pub month: Option<String>,
    pub offered: i64,
    pub answered: i64,
    /// How many answered 1, 2, 3, 4 and 5.
    pub ratings: [i64; 5],
    /// What requesters wrote, newest first, with their rating (twenty at most).
    pub comments: Vec<(i16, String)>,
}

impl Row {
    /// The mean rating of the answers, if there are any.
    pub fn average(&self) -> Option<f64> {
        let total: i64 = self
            .ratings
            .iter()
            .enumerate()
            .map(|(i, n)| (i as i64 + 1) * n)
            .sum();
        (self.answered > 0).then(|| total as f64 / self.answered as f64)
    }

    /// Answered over offered, 0 to 1.
    pub fn response_rate(&self) -> f64 {
        match self.offered {
            0 => 0.0,
            n => self.answered as f64 / n as f64,
        }
    }
}

/// The most comments a row keeps.
const MAX_COMMENTS: usize = 20;

/// The report of the surveys offered from `from` (included) to `to` (excluded).
///
/// # Errors
/// FORBIDDEN below manager (tokens need `tickets:read`); BAD_USER_INPUT for a period
/// that ends before it starts.
pub async fn report(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    grouping: Grouping,
) -> AppResult<Vec<Row>> {
    caller.require_role_or_scope(Role::Manager, TokenScope::TicketsRead)?;
    if to <= from {
        return Err(AppError::bad_input(
            "to",
            "the period ends before it starts",
        ));
    }
    compute(conn, from, to, grouping).await
}

/// The report, without asking who wants it: for the monthly service report.
pub async fn compute(
    conn: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    grouping: Grouping,
) -> AppResult<Vec<Row>> {
    let surveys = survey::Entity::find()
        .filter(survey::Column::OfferedAt.gte(from))
        .filter(survey::Column::OfferedAt.lt(to))
        .order_by_desc(survey::Column::OfferedAt)
        .all(conn)
        .await?;
    let mut rows: BTreeMap<(Option<String>, Option<i64>), Row> = BTreeMap::new();
    for s in surveys {
        let (month, key) = match grouping {
            Grouping::Group => (None, s.group_id),
            Grouping::Agent => (None, s.assignee_id),
            Grouping::Service => (None, s.service_id),
            Grouping::Organization => (None, s.organization_id),
            Grouping::Month => (Some(s.offered_at.format("%Y-%m").to_string()), None),
        };
        let row = rows.entry((month.clone(), key)).or_insert_with(|| Row {
            key,
            month,
            ..Row::default()
        });
        row.offered += 1;
        if let Some(rating) = s.rating.filter(|r| (1..=5).contains(r)) {
            row.answered += 1;
            row.ratings[(rating - 1) as usize] += 1;
            if let Some(comment) = s.comment
                && row.comments.len() < MAX_COMMENTS
            {
                row.comments.push((rating, comment));
            }
        }
    }
    Ok(rows.into_values().collect())
}
