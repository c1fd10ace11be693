//! Writing articles: new drafts, edits of the working copy, and the draft a known
//! error writes for itself.

use chrono::{DateTime, Utc};
use entity::{article, article_link, category, problem};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde_json::json;

use crate::domain::events::Topic;
use crate::domain::knowledge::types::{ArticleStatus::*, Visibility};
use crate::domain::versioned;
use crate::domain::{
    events::{Actor, change},
    lookup::referenced,
    numbers,
};
use crate::{
    auth::Caller,
    db::Db,
    error::{AppError, AppResult},
};

use super::{record, require_author, searchable};

/// What an author writes for an article.
pub struct ArticleFields {
    pub title: String,
    pub body: String,
    pub category_id: Option<i64>,
    pub tags: Vec<String>,
    pub visibility: Visibility,
}

fn clean(fields: ArticleFields) -> AppResult<ArticleFields> {
    let title = fields.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::bad_input("title", "give 1 to 200 characters"));
    }
    if fields.body.chars().count() > 100_000 {
        return Err(AppError::bad_input(
            "body",
            "keep the body under 100,000 characters",
        ));
    }
    let mut tags: Vec<String> = fields
        .tags
        .iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    tags.dedup();
    if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 50) {
        return Err(AppError::bad_input(
            "tags",
            "give up to 20 tags of up to 50 characters",
        ));
    }
    Ok(ArticleFields {
        title,
        body: fields.body,
        category_id: fields.category_id,
        tags,
        visibility: fields.visibility,
    })
}

async fn insert(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    fields: ArticleFields,
) -> AppResult<article::Model> {
    let fields = clean(fields)?;
    if let Some(id) = fields.category_id {
        referenced::<category::Entity>(txn, id, "categoryId", "category").await?;
    }
    let row = article::ActiveModel {
        number: Set(numbers::next(txn, "ARTICLE", "KB").await?),
        search_text: Set(searchable(&fields.title, &fields.body, &fields.tags)),
        title: Set(fields.title),
        body: Set(fields.body),
        category_id: Set(fields.category_id),
        tags: Set(json!(fields.tags)),
        status: Set(Draft.into()),
        visibility: Set(fields.visibility.into()),
        published_version: Set(None),
        published_visibility: Set(None),
        helpful_yes: Set(0),
        helpful_no: Set(0),
        author_id: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    record(
        txn,
        actor,
        now,
        Topic::ArticleCreated,
        &row,
        json!({ "title": row.title }),
    )
    .await?;
    Ok(row)
}

/// Writes a new article (no id) as a DRAFT, or edits the working copy of one.
pub async fn save(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<(i64, i32)>,
    fields: ArticleFields,
) -> AppResult<article::Model> {
    require_author(caller)?;
    let actor = Actor::of(caller);
    let txn = db.begin_write().await?;
    let Some((id, version)) = id else {
        let row = insert(&txn, &actor, now, fields).await?;
        txn.commit().await?;
        return Ok(row);
    };
    let row = versioned::current::<article::Entity>(&txn, id, version).await?;
    let fields = clean(fields)?;
    if let Some(id) = fields.category_id {
        referenced::<category::Entity>(&txn, id, "categoryId", "category").await?;
    }
    let mut changes = Vec::new();
    if fields.title != row.title {
        changes.push(change("title", row.title.clone(), fields.title.clone()));
    }
    if fields.body != row.body {
        changes.push(change("body", json!(null), json!("edited")));
    }
    if fields.visibility.as_str() != row.visibility {
        changes.push(change(
            "visibility",
            row.visibility.clone(),
            fields.visibility,
        ));
    }
    if json!(fields.tags) != row.tags {
        changes.push(change("tags", row.tags.clone(), json!(fields.tags)));
    }
    if fields.category_id != row.category_id {
        changes.push(change("categoryId", row.category_id, fields.category_id));
    }
    if changes.is_empty() {
        return Ok(row);
    }
    let changed = article::ActiveModel {
        search_text: Set(searchable(&fields.title, &fields.body, &fields.tags)),
        title: Set(fields.title),
        body: Set(fields.body),
        category_id: Set(fields.category_id),
        tags: Set(json!(fields.tags)),
        visibility: Set(fields.visibility.into()),
        ..Default::default()
    };
    let saved = versioned::save::<article::Entity>(&txn, &row, changed, now).await?;
    record(
        &txn,
        &actor,
        now,
        Topic::ArticleUpdated,
        &saved,
        json!({ "changes": changes }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// A known error's record for the knowledge base: an internal draft with the symptoms,
/// root cause and workaround, linked to the problem. Once per problem.
pub async fn draft_for_known_error(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    problem: &problem::Model,
) -> AppResult<()> {
    let linked = article_link::Entity::find()
        .filter(article_link::Column::ProblemId.eq(problem.id))
        .one(txn)
        .await?;
    if linked.is_some() {
        return Ok(());
    }
    let body = format!(
        "## Symptoms\n\n{}\n\n## Root cause\n\n{}\n\n## Workaround\n\n{}\n",
        problem.description, problem.root_cause, problem.workaround
    );
    let row = insert(
        txn,
        actor,
        now,
        ArticleFields {
            title: format!("Known error: {}", problem.title),
            body,
            category_id: None,
            tags: vec!["known-error".into(), problem.number.to_lowercase()],
            visibility: Visibility::Internal,
        },
    )
    .await?;
    article_link::ActiveModel {
        article_id: Set(row.id),
        ticket_id: Set(None),
        problem_id: Set(Some(problem.id)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}
