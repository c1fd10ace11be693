//! Reading tickets: one ticket, filtered lists in keyset order, counts, comments, history.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::{category, comment, event, ticket, ticket_configuration_item};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, LikeExpr},
};
use serde::{Deserialize, Serialize};

use crate::{
    domain::page::Window,
    error::{AppError, AppResult},
};

use super::{
    beside::{Beside, Listed},
    types::{Kind, Status},
    visibility::Scope,
};

/// How many words of a text search are used.
pub const MAX_SEARCH_WORDS: usize = 10;

/// Which tickets a list shows; every field given must match.
#[derive(Clone, Debug, Default)]
pub struct TicketFilter {
    pub statuses: Vec<Status>,
    pub kinds: Vec<Kind>,
    pub priorities: Vec<i16>,
    pub group_ids: Vec<i64>,
    pub assignee_ids: Vec<i64>,
    pub unassigned: Option<bool>,
    pub requester_ids: Vec<i64>,
    pub organization_ids: Vec<i64>,
    /// The category and everything below it.
    pub category_id: Option<i64>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    /// Words that must all appear in the title, description or comments.
    pub text: Option<String>,
    /// Tickets about any of these configuration items.
    pub configuration_item_ids: Vec<i64>,
}

/// What a list is ordered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortField {
    #[default]
    Created,
    Updated,
    Priority,
}

/// A list's order: a field and a direction, ties broken by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

/// The sort key of the last row of a page: where the next page starts.
#[derive(Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    priority: Option<i16>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<DateTime<Utc>>,
    id: i64,
}

/// A row's position in a sorted list, as a page cursor.
pub fn cursor_of(row: &ticket::Model, sort: Sort) -> String {
    cursor_at(row.id, row.priority, row.updated_at, sort)
}

/// The cursor of the ticket with this id, priority and last change, in `sort` order:
/// for a page read without whole rows (`partial`).
pub fn cursor_at(id: i64, priority: i16, updated_at: DateTime<Utc>, sort: Sort) -> String {
    let cursor = Cursor {
        priority: (sort.field == SortField::Priority).then_some(priority),
        updated_at: (sort.field == SortField::Updated).then_some(updated_at),
        id,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).expect("cursors serialize"))
}

fn parse_cursor(text: &str, sort: Sort, argument: &str) -> AppResult<Cursor> {
    let bad = || {
        AppError::bad_input(
            argument,
            "not a cursor from this list and order: pass a startCursor or endCursor you were given",
        )
    };
    let cursor: Cursor = URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .ok_or_else(bad)?;
    let fits = match sort.field {
        SortField::Created => true,
        SortField::Updated => cursor.updated_at.is_some(),
        SortField::Priority => cursor.priority.is_some(),
    };
    if fits { Ok(cursor) } else { Err(bad()) }
}

/// `%`, `_` and `\` in a search word match themselves.
fn like_pattern(word: &str) -> LikeExpr {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

async fn category_subtree(conn: &impl ConnectionTrait, category_id: i64) -> AppResult<Vec<i64>> {
    let root = category::Entity::find_by_id(category_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::bad_input("categoryId", "there is no category with that id"))?;
    let below: Vec<i64> = category::Entity::find()
        .select_only()
        .column(category::Column::Id)
        .filter(category::Column::Path.starts_with(format!("{} / ", root.path)))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(std::iter::once(root.id).chain(below).collect())
}

async fn condition(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    filter: &TicketFilter,
) -> AppResult<Condition> {
    let mut all = Condition::all().add(scope.condition());
    if !filter.statuses.is_empty() {
        all = all.add(ticket::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    if !filter.kinds.is_empty() {
        all = all.add(ticket::Column::Kind.is_in(filter.kinds.iter().map(|k| k.as_str())));
    }
    if !filter.priorities.is_empty() {
        all = all.add(ticket::Column::Priority.is_in(filter.priorities.clone()));
    }
    if !filter.group_ids.is_empty() {
        all = all.add(ticket::Column::GroupId.is_in(filter.group_ids.clone()));
    }
    if !filter.assignee_ids.is_empty() {
        all = all.add(ticket::Column::AssigneeId.is_in(filter.assignee_ids.clone()));
    }
    match filter.unassigned {
        Some(true) => all = all.add(ticket::Column::AssigneeId.is_null()),
        Some(false) => all = all.add(ticket::Column::AssigneeId.is_not_null()),
        None => {}
    }
    if !filter.requester_ids.is_empty() {
        all = all.add(ticket::Column::RequesterId.is_in(filter.requester_ids.clone()));
    }
    if !filter.organization_ids.is_empty() {
        all = all.add(ticket::Column::OrganizationId.is_in(filter.organization_ids.clone()));
    }
    if let Some(category_id) = filter.category_id {
        all = all.add(ticket::Column::CategoryId.is_in(category_subtree(conn, category_id).await?));
    }
    if !filter.configuration_item_ids.is_empty() {
        all = all.add(
            ticket::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(ticket_configuration_item::Column::TicketId)
                    .from(ticket_configuration_item::Entity)
                    .and_where(
                        ticket_configuration_item::Column::ConfigurationItemId
                            .is_in(filter.configuration_item_ids.clone()),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(at) = filter.created_after {
        all = all.add(ticket::Column::CreatedAt.gte(at));
    }
    if let Some(at) = filter.created_before {
        all = all.add(ticket::Column::CreatedAt.lt(at));
    }
    if let Some(at) = filter.updated_after {
        all = all.add(ticket::Column::UpdatedAt.gte(at));
    }
    if let Some(at) = filter.updated_before {
        all = all.add(ticket::Column::UpdatedAt.lt(at));
    }
    if let Some(text) = &filter.text {
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        if words.len() > MAX_SEARCH_WORDS {
            return Err(AppError::bad_input(
                "text",
                format!("search for at most {MAX_SEARCH_WORDS} words"),
            ));
        }
        for word in words {
            let mut any = Condition::any().add(
                Expr::col((ticket::Entity, ticket::Column::SearchText)).like(like_pattern(&word)),
            );
            if scope.sees_internal() {
                any = any.add(
                    Expr::col((ticket::Entity, ticket::Column::InternalSearchText))
                        .like(like_pattern(&word)),
                );
            }
            all = all.add(any);
        }
    }
    Ok(all)
}

/// The window's tickets that `filter` selects and the caller may see, in `sort` order,
/// each with the neighbours `beside` asks for, in one statement.
pub async fn list(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    filter: &TicketFilter,
    sort: Sort,
    window: &Window<String>,
    beside: Beside,
) -> AppResult<Vec<Listed>> {
    let query = page_query(conn, scope, filter, sort, window).await?;
    let statement = limited(
        beside.join(query).build(conn.get_database_backend()),
        window,
    );
    let rows = conn.query_all_raw(statement).await?;
    Ok(rows
        .iter()
        .map(|row| beside.read(row))
        .collect::<Result<_, _>>()?)
}

/// The statement of a page before its columns are chosen: the tickets `filter` selects
/// that the caller may see (the one visibility rule's condition), past the window's
/// cursors, in `sort` order. Whole rows (`list`) and the columns a client selected
/// (`partial`) both start here.
pub(super) async fn page_query(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    filter: &TicketFilter,
    sort: Sort,
    window: &Window<String>,
) -> AppResult<sea_orm::Select<ticket::Entity>> {
    let mut query = ticket::Entity::find().filter(condition(conn, scope, filter).await?);
    if let Some(after) = &window.after {
        query = query.filter(beyond(
            parse_cursor(after, sort, "after")?,
            sort,
            sort.descending,
        ));
    }
    if let Some(before) = &window.before {
        query = query.filter(beyond(
            parse_cursor(before, sort, "before")?,
            sort,
            !sort.descending,
        ));
    }
    let order = window.fetch_order(if sort.descending {
        Order::Desc
    } else {
        Order::Asc
    });
    query = match sort.field {
        // Ids grow with creation: ordering by id is ordering by creation, on one index.
        SortField::Created => query,
        SortField::Updated => query.order_by(ticket::Column::UpdatedAt, order.clone()),
        SortField::Priority => query.order_by(ticket::Column::Priority, order.clone()),
    };
    Ok(query.order_by(ticket::Column::Id, order))
}

/// A page's statement with the window's LIMIT. The page's size is written into the SQL,
/// not bound. PostgreSQL keeps one plan for a prepared statement once that plan costs no
/// more than those made for each execution's values; with `LIMIT $n` the kept plan must
/// assume a large page and never qualifies, so the joins were planned afresh on every
/// execution (1.3 ms, three times the execution, on the bench's data). The number is
/// ours, and a list ends with its LIMIT.
pub(super) fn limited<K>(
    mut statement: sea_orm::Statement,
    window: &Window<K>,
) -> sea_orm::Statement {
    statement
        .sql
        .push_str(&format!(" LIMIT {}", window.fetch()));
    statement
}

/// The rows strictly past `cursor` walking the sort key down (`descending`) or up, the id
/// breaking ties: new rows never shift the pages a client is walking through. `after`
/// walks in the list's direction, `before` against it.
fn beyond(cursor: Cursor, sort: Sort, descending: bool) -> Condition {
    let past = |column: ticket::Column, value: sea_orm::Value| {
        let (beyond, equal_then_id) = if descending {
            (
                Expr::col((ticket::Entity, column)).lt(value.clone()),
                ticket::Column::Id.lt(cursor.id),
            )
        } else {
            (
                Expr::col((ticket::Entity, column)).gt(value.clone()),
                ticket::Column::Id.gt(cursor.id),
            )
        };
        Condition::any().add(beyond).add(
            Condition::all()
                .add(Expr::col((ticket::Entity, column)).eq(value))
                .add(equal_then_id),
        )
    };
    match sort.field {
        SortField::Created if descending => Condition::all().add(ticket::Column::Id.lt(cursor.id)),
        SortField::Created => Condition::all().add(ticket::Column::Id.gt(cursor.id)),
        SortField::Updated => past(ticket::Column::UpdatedAt, cursor.updated_at.into()),
        SortField::Priority => past(ticket::Column::Priority, cursor.priority.into()),
    }
}

/// How many tickets a filter selects, by status and by priority.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub by_status: Vec<(String, i64)>,
    pub by_priority: Vec<(i16, i64)>,
}

/// The counts of the tickets the filter selects that `scope` may see.
pub async fn counts(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    filter: &TicketFilter,
) -> AppResult<Counts> {
    let condition = condition(conn, scope, filter).await?;
    let by_status: Vec<(String, i64)> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::Status)
        .column_as(ticket::Column::Id.count(), "count")
        .filter(condition.clone())
        .group_by(ticket::Column::Status)
        .into_tuple()
        .all(conn)
        .await?;
    let by_priority: Vec<(i16, i64)> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::Priority)
        .column_as(ticket::Column::Id.count(), "count")
        .filter(condition)
        .group_by(ticket::Column::Priority)
        .order_by_asc(ticket::Column::Priority)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(Counts {
        by_status,
        by_priority,
    })
}

/// A ticket by its number, if `scope` may see it.
pub async fn by_number(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    number: &str,
) -> AppResult<ticket::Model> {
    let number =
        crate::domain::input::identifier("number", "a ticket number such as INC0000001", number)?;
    let row = scope.check(
        ticket::Entity::find()
            .filter(ticket::Column::Number.eq(number.to_uppercase()))
            .one(conn)
            .await?,
        number,
    )?;
    // A merged duplicate's number finds the ticket that survived it, where the caller
    // may see that one (its requester follows it).
    let survivor = super::commands::survivor_of(conn, row.clone()).await?;
    Ok(if scope.allows(&survivor) {
        survivor
    } else {
        row
    })
}

/// A ticket by id, if `scope` may see it.
pub async fn by_id(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    id: i64,
) -> AppResult<ticket::Model> {
    scope.check(
        ticket::Entity::find_by_id(id).one(conn).await?,
        "with that id",
    )
}

/// A page of the ticket's comments, a list oldest first, in fetch order; internal notes only for those who may see them.
pub async fn comments(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    ticket_id: i64,
    window: &Window,
) -> AppResult<Vec<comment::Model>> {
    let mut query = comment::Entity::find().filter(comment::Column::TicketId.eq(ticket_id));
    // Checked here, not left to whoever reached the ticket: a ticket reached through an
    // event or a link must be one the caller may see now.
    if let Some(visible) = scope.visible_ids() {
        query = query.filter(comment::Column::TicketId.in_subquery(visible));
    }
    if !scope.sees_internal() {
        query = query.filter(comment::Column::Internal.eq(false));
    }
    Ok(window
        .apply(query, comment::Column::Id, Order::Asc)
        .all(conn)
        .await?)
}

/// A page of everything that happened to the ticket, a list oldest first from the event
/// log, in fetch order.
pub async fn history(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    ticket_id: i64,
    window: &Window,
) -> AppResult<Vec<event::Model>> {
    let mut query = event::Entity::find()
        .filter(event::Column::EntityType.eq("ticket"))
        .filter(event::Column::EntityId.eq(ticket_id));
    if let Some(visible) = scope.visible_ids() {
        query = query.filter(event::Column::EntityId.in_subquery(visible));
    }
    if !scope.sees_internal() {
        query = query.filter(event::Column::Internal.eq(false));
    }
    Ok(window
        .apply(query, event::Column::Id, Order::Asc)
        .all(conn)
        .await?)
}

/// How many open tickets of the group come before this one in the queue's working
/// order (priority, then oldest first); none if the ticket is not open in the queue.
pub async fn queue_position(
    conn: &impl ConnectionTrait,
    group_id: i64,
    priority: i16,
    ticket_id: i64,
) -> AppResult<Option<u64>> {
    use sea_orm::PaginatorTrait;
    let open: Vec<&str> = Status::OPEN.iter().map(|s| s.as_str()).collect();
    let still_there = ticket::Entity::find_by_id(ticket_id)
        .filter(ticket::Column::GroupId.eq(group_id))
        .filter(ticket::Column::Status.is_in(open.clone()))
        .count(conn)
        .await?;
    if still_there == 0 {
        return Ok(None);
    }
    let ahead = ticket::Entity::find()
        .filter(ticket::Column::GroupId.eq(group_id))
        .filter(ticket::Column::Status.is_in(open))
        .filter(
            Condition::any()
                .add(ticket::Column::Priority.lt(priority))
                .add(
                    Condition::all()
                        .add(ticket::Column::Priority.eq(priority))
                        .add(ticket::Column::Id.lt(ticket_id)),
                ),
        )
        .count(conn)
        .await?;
    Ok(Some(ahead))
}
