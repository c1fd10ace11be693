//! What readers do with articles: list them and say whether one helped.

use entity::article;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use crate::domain::knowledge::types::{
    ArticleStatus::{self, *},
    Visibility,
};
use crate::domain::{lookup::newest_first, page::Window};
use crate::{auth::Caller, db::Db, error::AppResult};

use super::{Reader, find, readable};

/// Counts a reader's "was this helpful" answer.
pub async fn rate(db: &Db, caller: &Caller, id: i64, helpful: bool) -> AppResult<article::Model> {
    let txn = db.begin_write().await?;
    let (row, _) = readable(&txn, caller, id).await?;
    let column = if helpful {
        article::Column::HelpfulYes
    } else {
        article::Column::HelpfulNo
    };
    article::Entity::update_many()
        .col_expr(column, Expr::col(column).add(1))
        .filter(article::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    let saved = find(&txn, row.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Articles by their working status, newest first (for the knowledge team).
pub async fn list(
    conn: &impl ConnectionTrait,
    reader: Reader,
    statuses: &[ArticleStatus],
    window: &Window,
) -> AppResult<Vec<article::Model>> {
    let mut query = article::Entity::find();
    if reader == Reader::Public {
        query = query
            .filter(article::Column::PublishedVisibility.eq(Visibility::Public))
            .filter(article::Column::Status.ne(Retired));
    }
    let columns = (article::Column::Id, article::Column::Status);
    newest_first(conn, query, columns, statuses, window).await
}
