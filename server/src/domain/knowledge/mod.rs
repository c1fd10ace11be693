//! Knowledge: articles written, reviewed and published, every published version kept;
//! search ranked by relevance over what readers may see; suggestions for a ticket from
//! its words; "was this helpful" counts.
//!
//! The article row is the working copy that authors edit. Readers see the latest
//! published version (`article_versions`), so a revision under review never shows
//! half-done.

pub mod types;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{article, article_link, article_version, category, problem};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LikeExpr},
};
use serde_json::json;

use self::types::{
    ArticleStatus::{self, *},
    Visibility,
};
use super::{
    events::{self, Actor, NewEvent, change},
    lookup::{newest_first, referenced},
    numbers,
    page::Window,
    workflow::Machine,
};
use crate::domain::events::Topic;
use crate::domain::versioned;
use crate::{
    auth::{Caller, Role, Scope},
    db::Db,
    error::{AppError, AppResult},
};

/// The article's table of moves.
pub const LIFECYCLE: Machine<ArticleStatus> = Machine {
    subject: "article",
    moves: &[
        (Draft, &[Review, Retired]),
        // Back to DRAFT is "needs work"; PUBLISHED makes a new version.
        (Review, &[Draft, Published]),
        // A revision goes to REVIEW while the published version stays readable.
        (Published, &[Review, Retired]),
        (Retired, &[Draft]),
    ],
};

/// Who reads knowledge, and what of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Agents and `tickets:read` tokens: internal articles too, and working copies.
    Desk,
    /// Requesters: published public articles only.
    Public,
}

impl Reader {
    pub fn of(caller: &Caller) -> AppResult<Reader> {
        match caller {
            Caller::Partner(partner) => {
                partner.require_scope(Scope::TicketsRead)?;
                Ok(Reader::Desk)
            }
            _ => {
                let person = caller.person()?;
                Ok(if person.has_role(Role::Agent) {
                    Reader::Desk
                } else {
                    Reader::Public
                })
            }
        }
    }

    /// Whether this reader may see the article at all.
    pub fn may_read(self, row: &article::Model) -> bool {
        match self {
            Reader::Desk => true,
            Reader::Public => {
                row.published_visibility.as_deref() == Some(Visibility::Public.as_str())
                    && row.status != Retired.as_str()
            }
        }
    }
}

fn require_author(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsWrite)
}

fn searchable(title: &str, body: &str, tags: &[String]) -> String {
    format!("{}\n{}\n{}", title, tags.join(" "), body).to_lowercase()
}

async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &article::Model,
    payload: serde_json::Value,
) -> AppResult<()> {
    let mut payload = payload;
    payload["number"] = json!(row.number);
    events::append(
        txn,
        actor,
        now,
        NewEvent {
            topic,
            entity_type: "article",
            entity_id: row.id,
            internal: row.visibility != Visibility::Public.as_str(),
            payload,
        },
    )
    .await?;
    Ok(())
}

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

pub async fn find(conn: &impl ConnectionTrait, id: i64) -> AppResult<article::Model> {
    versioned::find::<article::Entity>(conn, id).await
}

/// The article if this caller may read it; NOT_FOUND otherwise, as if it were not there.
pub async fn readable(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<(article::Model, Reader)> {
    let reader = Reader::of(caller)?;
    let row = find(conn, id).await?;
    if !reader.may_read(&row) {
        return Err(AppError::NotFound(
            "there is no article with that id".into(),
        ));
    }
    Ok((row, reader))
}

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
        let scope = super::tickets::visibility::Scope::of(&txn, caller).await?;
        super::tickets::queries::by_id(&txn, &scope, id).await?;
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

// ---- search ---------------------------------------------------------------------

const STOP_WORDS: [&str; 40] = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "cannot", "do", "does", "for",
    "from", "has", "have", "i", "in", "is", "it", "its", "my", "no", "not", "of", "on", "or",
    "our", "so", "that", "the", "this", "to", "was", "we", "when", "with", "you", "your",
];

/// The words a text is searched by: lower-cased, without stop words, each once.
pub fn terms(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2 && !STOP_WORDS.contains(w))
        .filter(|w| seen.insert(w.to_string()))
        .take(30)
        .map(str::to_string)
        .collect()
}

/// One searchable document: a published version's words.
pub struct Document {
    pub article_id: i64,
    pub title: String,
    pub text: String,
}

/// Ranks documents for the terms, best first: BM25 over the candidates, with words in
/// the title counting three times. Documents matching no term are dropped.
pub fn rank(terms: &[String], documents: &[Document]) -> Vec<(i64, f64)> {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    let tokenized: Vec<(Vec<String>, Vec<String>)> = documents
        .iter()
        .map(|d| {
            let words = |s: &str| {
                s.to_lowercase()
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            (words(&d.title), words(&d.text))
        })
        .collect();
    let n = documents.len() as f64;
    let average = tokenized.iter().map(|(_, t)| t.len()).sum::<usize>() as f64 / n.max(1.0);
    let mut scores: Vec<(i64, f64)> = Vec::new();
    for (document, (title, text)) in documents.iter().zip(&tokenized) {
        let mut score = 0.0;
        for term in terms {
            let df = tokenized
                .iter()
                .filter(|(title, text)| title.contains(term) || text.contains(term))
                .count() as f64;
            if df == 0.0 {
                continue;
            }
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            let tf = text.iter().filter(|w| *w == term).count() as f64
                + 2.0 * title.iter().filter(|w| *w == term).count() as f64;
            if tf == 0.0 {
                continue;
            }
            let length = text.len() as f64 / average.max(1.0);
            score += idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length));
        }
        if score > 0.0 {
            scores.push((document.article_id, score));
        }
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scores
}

/// Published articles the reader may see, ranked for `text`, at most `limit`.
pub async fn search(
    conn: &impl ConnectionTrait,
    reader: Reader,
    text: &str,
    limit: usize,
) -> AppResult<Vec<(article::Model, f64)>> {
    let terms = terms(text);
    if terms.is_empty() {
        return Ok(vec![]);
    }
    // Candidates: versions of readable articles containing any term; of those, each
    // article's published one is ranked.
    let mut any = Condition::any();
    for term in &terms {
        let escaped = term
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        any = any.add(
            Expr::col((article_version::Entity, article_version::Column::SearchText))
                .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }
    let mut visible = Condition::all()
        .add(article::Column::Status.ne(Retired))
        .add(article::Column::PublishedVersion.is_not_null());
    if reader == Reader::Public {
        visible = visible.add(article::Column::PublishedVisibility.eq(Visibility::Public));
    }
    let readable = sea_orm::sea_query::Query::select()
        .column(article::Column::Id)
        .from(article::Entity)
        .cond_where(visible)
        .to_owned();
    let versions = article_version::Entity::find()
        .filter(any)
        .filter(article_version::Column::ArticleId.in_subquery(readable))
        .limit(2000)
        .all(conn)
        .await?;
    let found: HashSet<i64> = versions.iter().map(|v| v.article_id).collect();
    let articles: HashMap<i64, article::Model> = article::Entity::find()
        .filter(article::Column::Id.is_in(found))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let documents: Vec<Document> = versions
        .into_iter()
        .filter(|v| {
            articles
                .get(&v.article_id)
                .and_then(|a| a.published_version)
                == Some(v.number)
        })
        .map(|v| Document {
            article_id: v.article_id,
            title: v.title,
            text: v.search_text,
        })
        .collect();
    Ok(rank(&terms, &documents)
        .into_iter()
        .take(limit)
        .filter_map(|(id, score)| articles.get(&id).cloned().map(|a| (a, score)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::assert_table;

    #[test]
    fn the_article_lifecycle_allows_exactly_its_moves() {
        assert_table(
            &LIFECYCLE,
            &[
                (Draft, &[Review, Retired]),
                (Review, &[Draft, Published]),
                (Published, &[Review, Retired]),
                (Retired, &[Draft]),
            ],
        );
    }

    fn doc(id: i64, title: &str, text: &str) -> Document {
        Document {
            article_id: id,
            title: title.into(),
            text: format!("{title}\n{text}").to_lowercase(),
        }
    }

    #[test]
    fn the_article_about_the_words_ranks_first() {
        let documents = [
            doc(
                1,
                "Printing from a laptop",
                "Choose the printer, then print. The VPN is not needed.",
            ),
            doc(
                2,
                "VPN drops every hour",
                "The VPN client loses its certificate after an hour: restart the VPN client and renew the certificate.",
            ),
            doc(3, "Resetting a password", "Use the portal."),
        ];
        let ranked = rank(&terms("vpn certificate drops"), &documents);
        assert_eq!(ranked[0].0, 2);
        assert_eq!(ranked.len(), 2, "the article sharing no word is left out");
    }

    #[test]
    fn terms_drop_stop_words_and_repeats() {
        assert_eq!(terms("The VPN is down, the VPN!"), ["vpn", "down"]);
    }
}
