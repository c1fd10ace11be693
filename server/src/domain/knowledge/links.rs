//! Articles linked to the incidents and problems they help with.

use entity::{article, article_link, problem};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::domain::lookup::referenced;
use crate::{
    auth::Caller,
    db::Db,
    error::{AppError, AppResult},
};

use super::{find, require_author};

/// Links an article to an incident or a problem (agents).
pub async fn link(
    db: &Db,
    caller: &Caller,
    article_id: i64,
    ticket_id: Option<i64>,
    problem_id: Option<i64>,
) -> AppResult<article::Model> {
    require_author(caller)?;
    if ticket_id.is_some() == problem_id.is_some() {
        return Err(AppError::bad_input(
            "ticketId",
            "give either a ticketId or a problemId",
        ));
    }
    let txn = db.begin_write().await?;
    let row = find(&txn, article_id).await?;
    if let Some(id) = ticket_id {
        // Only a ticket the author may see: a hidden one is NOT_FOUND like a missing one.
        let scope = crate::domain::tickets::visibility::Scope::of(&txn, caller).await?;
        crate::domain::tickets::queries::by_id(&txn, &scope, id).await?;
    }
    if let Some(id) = problem_id {
        referenced::<problem::Entity>(&txn, id, "problemId", "problem").await?;
    }
    let exists = article_link::Entity::find()
        .filter(article_link::Column::ArticleId.eq(row.id))
        .filter(match ticket_id {
            Some(id) => article_link::Column::TicketId.eq(id),
            None => article_link::Column::ProblemId.eq(problem_id),
        })
        .one(&txn)
        .await?;
    if exists.is_none() {
        article_link::ActiveModel {
            article_id: Set(row.id),
            ticket_id: Set(ticket_id),
            problem_id: Set(problem_id),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(row)
}

/// The incidents and problems an article is linked to.
pub async fn links(
    conn: &impl ConnectionTrait,
    article_id: i64,
) -> AppResult<Vec<article_link::Model>> {
    Ok(article_link::Entity::find()
        .filter(article_link::Column::ArticleId.eq(article_id))
        .order_by_asc(article_link::Column::Id)
        .all(conn)
        .await?)
}

/// The articles linked to a problem, oldest first.
pub async fn articles_of_problem(
    conn: &impl ConnectionTrait,
    problem_id: i64,
) -> AppResult<Vec<article::Model>> {
    let ids: Vec<i64> = article_link::Entity::find()
        .filter(article_link::Column::ProblemId.eq(problem_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.article_id)
        .collect();
    Ok(article::Entity::find()
        .filter(article::Column::Id.is_in(ids))
        .order_by_asc(article::Column::Id)
        .all(conn)
        .await?)
}
