//! Reading attachments: what a caller may see of them, through the tickets' one
//! visibility rule (internal files for the desk only) and the knowledge reader.

use std::collections::HashMap;

use entity::{attachment, ticket};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    auth::Caller,
    domain::{knowledge, tickets::visibility::Scope},
    error::{AppError, AppResult},
};

/// The files on these tickets (their comments' too), internal ones included, oldest
/// first, by ticket: for a loader whose reader then applies `Scope::sees_internal`.
///
/// # Errors
/// INTERNAL when the database fails.
pub async fn of_tickets_all(
    conn: &impl ConnectionTrait,
    ticket_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<attachment::Model>>> {
    of_tickets(conn, &Scope::Everything, ticket_ids).await
}

/// The files on these tickets (their comments' too) that `scope` may see, oldest first,
/// by ticket: the tickets themselves were read through the same scope.
///
/// # Errors
/// INTERNAL when the database fails.
pub async fn of_tickets(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    ticket_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<attachment::Model>>> {
    let mut query = attachment::Entity::find()
        .filter(attachment::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .order_by_asc(attachment::Column::Id);
    if !scope.sees_internal() {
        query = query.filter(attachment::Column::Internal.eq(false));
    }
    let mut by_ticket: HashMap<i64, Vec<attachment::Model>> = HashMap::new();
    for row in query.all(conn).await? {
        if let Some(ticket_id) = row.ticket_id {
            by_ticket.entry(ticket_id).or_default().push(row);
        }
    }
    Ok(by_ticket)
}

/// The files on one ticket the caller may see.
///
/// # Errors
/// NOT_FOUND for a ticket the caller may not see.
pub async fn on_ticket(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    ticket_id: i64,
) -> AppResult<Vec<attachment::Model>> {
    let scope = Scope::of(conn, caller).await?;
    scope.check(
        ticket::Entity::find_by_id(ticket_id).one(conn).await?,
        "with that id",
    )?;
    Ok(of_tickets(conn, &scope, &[ticket_id])
        .await?
        .remove(&ticket_id)
        .unwrap_or_default())
}

/// The files on these articles, by article: the articles were read through the
/// knowledge reader, and an article's files are as visible as the article.
///
/// # Errors
/// INTERNAL when the database fails.
pub async fn of_articles(
    conn: &impl ConnectionTrait,
    article_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<attachment::Model>>> {
    let mut by_article: HashMap<i64, Vec<attachment::Model>> = HashMap::new();
    for row in attachment::Entity::find()
        .filter(attachment::Column::ArticleId.is_in(article_ids.iter().copied()))
        .order_by_asc(attachment::Column::Id)
        .all(conn)
        .await?
    {
        if let Some(article_id) = row.article_id {
            by_article.entry(article_id).or_default().push(row);
        }
    }
    Ok(by_article)
}

/// One attachment, if the caller may see what it is on: what a download with a token
/// (rather than a signed link) is checked against, and what a link is made for.
///
/// # Errors
/// NOT_FOUND, the same for a file that is not there and one the caller may not see.
pub async fn downloadable(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<attachment::Model> {
    let missing =
        || AppError::NotFound("there is no attachment with that id that you can see".into());
    let row = attachment::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(missing)?;
    if let Some(ticket_id) = row.ticket_id {
        let scope = Scope::of(conn, caller).await?;
        let ticket = ticket::Entity::find_by_id(ticket_id).one(conn).await?;
        if !ticket.is_some_and(|t| scope.allows(&t)) || (row.internal && !scope.sees_internal()) {
            return Err(missing());
        }
    } else if let Some(article_id) = row.article_id {
        knowledge::readable(conn, caller, article_id)
            .await
            .map_err(|_| missing())?;
    } else {
        return Err(missing());
    }
    Ok(row)
}
