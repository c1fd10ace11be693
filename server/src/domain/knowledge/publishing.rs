//! Moving an article through review: publishing keeps the working copy as the next
//! numbered version, which is what readers see.

use chrono::{DateTime, Utc};
use entity::{article, article_version};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;

use crate::domain::events::Topic;
use crate::domain::events::{Actor, change};
use crate::domain::knowledge::types::ArticleStatus::{self, *};
use crate::domain::versioned;
use crate::{auth::Caller, db::Db, error::AppResult};

use super::{LIFECYCLE, record, require_author};

/// Moves an article on. Publishing keeps the working copy as the next version.
pub async fn transition(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    to: ArticleStatus,
) -> AppResult<article::Model> {
    require_author(caller)?;
    let actor = Actor::of(caller);
    let txn = db.begin_write().await?;
    let row = versioned::current::<article::Entity>(&txn, id, version).await?;
    let from = ArticleStatus::stored(&row.status)?;
    LIFECYCLE.check(from, to)?;
    let mut changed = article::ActiveModel {
        status: Set(to.into()),
        ..Default::default()
    };
    let mut payload = json!({ "changes": [change("status", from, to)] });
    if to == Published {
        let number = row.published_version.unwrap_or(0) + 1;
        article_version::ActiveModel {
            article_id: Set(row.id),
            number: Set(number),
            title: Set(row.title.clone()),
            body: Set(row.body.clone()),
            search_text: Set(row.search_text.clone()),
            visibility: Set(row.visibility.clone()),
            published_by: Set(actor.user_id),
            published_at: Set(now),
        }
        .insert(&txn)
        .await?;
        changed.published_version = Set(Some(number));
        changed.published_visibility = Set(Some(row.visibility.clone()));
        payload["publishedVersion"] = json!(number);
    }
    let saved = versioned::save::<article::Entity>(&txn, &row, changed, now).await?;
    record(
        &txn,
        &actor,
        now,
        Topic::ArticleStatusChanged,
        &saved,
        payload,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The version readers see, if the article was ever published.
pub async fn published(
    conn: &impl ConnectionTrait,
    row: &article::Model,
) -> AppResult<Option<article_version::Model>> {
    match row.published_version {
        Some(number) => Ok(article_version::Entity::find_by_id((row.id, number))
            .one(conn)
            .await?),
        None => Ok(None),
    }
}

/// Every published version of an article, oldest first.
pub async fn versions(
    conn: &impl ConnectionTrait,
    article_id: i64,
) -> AppResult<Vec<article_version::Model>> {
    Ok(article_version::Entity::find()
        .filter(article_version::Column::ArticleId.eq(article_id))
        .order_by_asc(article_version::Column::Number)
        .all(conn)
        .await?)
}
