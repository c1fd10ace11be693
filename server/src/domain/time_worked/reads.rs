//! Reading time worked: a ticket's entries, and the totals of a period by ticket, group,
//! organization, service or agent, month by month.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::time_entry;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{CaseStatement, Expr, Func, SimpleExpr},
};

use super::{require_reader, require_report_reader};
use crate::domain::named::named_enum;
use crate::{
    auth::Caller,
    error::{AppError, AppResult},
};

/// Whether the caller sees time worked at all: the desk does (on the tickets it may
/// see), and tokens with `tickets:read`; requesters never, as with internal notes.
pub fn may_see(caller: &Caller) -> bool {
    require_reader(caller).is_ok()
}

/// Each ticket's entries, newest day first, for tickets already found visible (the
/// loader behind `Ticket.timeEntries`).
pub async fn entries_of_tickets(
    conn: &impl ConnectionTrait,
    ticket_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<time_entry::Model>>> {
    let rows = time_entry::Entity::find()
        .filter(time_entry::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .order_by_desc(time_entry::Column::WorkedOn)
        .order_by_desc(time_entry::Column::Id)
        .all(conn)
        .await?;
    let mut by_ticket: HashMap<i64, Vec<time_entry::Model>> = HashMap::new();
    for row in rows {
        by_ticket.entry(row.ticket_id).or_default().push(row);
    }
    Ok(by_ticket)
}

named_enum!(
    /// What the totals are grouped by, besides the month.
    Grouping {
        Ticket = "TICKET",
        Group = "GROUP",
        Organization = "ORGANIZATION",
        Service = "SERVICE",
        Agent = "AGENT",
        Month = "MONTH",
    }
);

impl Grouping {
    fn column(self) -> Option<time_entry::Column> {
        match self {
            Grouping::Ticket => Some(time_entry::Column::TicketId),
            Grouping::Group => Some(time_entry::Column::GroupId),
            Grouping::Organization => Some(time_entry::Column::OrganizationId),
            Grouping::Service => Some(time_entry::Column::ServiceId),
            Grouping::Agent => Some(time_entry::Column::UserId),
            Grouping::Month => None,
        }
    }
}

/// One row of the totals: a month and (unless grouped by month alone) the id of what
/// the time was spent on, or none (no group, organization or service; an API token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Total {
    pub month: String,
    pub key: Option<i64>,
    pub minutes: i64,
    pub billable_minutes: i64,
    pub entries: i64,
}

/// The longest period the totals cover at once: ten years.
const MAX_DAYS: i64 = 3660;

/// Minutes worked from `from` to `to` (both days included), by month and `grouping`,
/// month by month and then by key.
///
/// # Errors
/// FORBIDDEN for anyone below manager (tokens need `tickets:read`); BAD_USER_INPUT for
/// a period that ends before it starts or spans more than ten years.
pub async fn totals(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    from: NaiveDate,
    to: NaiveDate,
    grouping: Grouping,
) -> AppResult<Vec<Total>> {
    require_report_reader(caller)?;
    if to < from {
        return Err(AppError::bad_input(
            "to",
            "the period ends before it starts",
        ));
    }
    if (to - from).num_days() > MAX_DAYS {
        return Err(AppError::bad_input(
            "to",
            "give a period of at most ten years",
        ));
    }
    let billable: SimpleExpr = CaseStatement::new()
        .case(
            time_entry::Column::Billable.eq(true),
            Expr::col(time_entry::Column::Minutes),
        )
        .finally(Expr::val(0))
        .into();
    let mut query = time_entry::Entity::find()
        .select_only()
        .column(time_entry::Column::Month)
        .filter(time_entry::Column::WorkedOn.gte(from.format("%Y-%m-%d").to_string()))
        .filter(time_entry::Column::WorkedOn.lte(to.format("%Y-%m-%d").to_string()));
    match grouping.column() {
        Some(column) => {
            query = query
                .column_as(Expr::col(column), "key")
                .group_by(time_entry::Column::Month)
                .group_by(column)
                .order_by_asc(time_entry::Column::Month)
                .order_by_asc(column);
        }
        None => {
            query = query
                .column_as(Expr::val(Option::<i64>::None), "key")
                .group_by(time_entry::Column::Month)
                .order_by_asc(time_entry::Column::Month);
        }
    }
    let rows: Vec<(String, Option<i64>, Option<i64>, Option<i64>, i64)> = query
        .column_as(
            SimpleExpr::from(Func::sum(Expr::col(time_entry::Column::Minutes))),
            "minutes",
        )
        .column_as(SimpleExpr::from(Func::sum(billable)), "billable")
        .column_as(
            SimpleExpr::from(Func::count(Expr::col(time_entry::Column::Id))),
            "entries",
        )
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(month, key, minutes, billable, entries)| Total {
            month,
            key,
            minutes: minutes.unwrap_or(0),
            billable_minutes: billable.unwrap_or(0),
            entries,
        })
        .collect())
}
