//! Knowledge: articles, their versions, search and suggestions.

use crate::graphql::command::{acting, versioned};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{article, article_version};

use crate::domain::knowledge::types as vocabulary;
use crate::graphql::instant::Instant;
use crate::{
    domain::{
        knowledge::{self, ArticleFields, Reader},
        problems,
    },
    error::{AppError, AppResult},
    graphql::{
        caller, ids, loaders,
        pagination::{self, Page, PageArgs},
        problems::Problem,
        state, ticket_scope,
        tickets::Ticket,
    },
};

/// The review cycle of a knowledge article.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::ArticleStatus")]
pub enum ArticleStatus {
    /// Being written; only the knowledge team sees it.
    Draft,
    /// Waiting for review before it is published.
    Review,
    /// Published: readers see its published version.
    Published,
    /// Withdrawn; no longer shown to requesters.
    Retired,
}

/// Who may read an article once it is published.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::Visibility")]
pub enum ArticleVisibility {
    /// Agents only.
    Internal,
    /// Requesters too, once published.
    Public,
}

/// A knowledge article. Requesters see its published version; agents its working copy.
pub struct Article(pub article::Model);

impl Article {
    /// What the caller reads: the published version for requesters, else the working copy.
    async fn shown(&self, ctx: &Context<'_>) -> AppResult<(String, String)> {
        if Reader::of(caller(ctx))? == Reader::Public
            && let Some(version) = knowledge::published(state(ctx).db.conn(), &self.0).await?
        {
            return Ok((version.title, version.body));
        }
        Ok((self.0.title.clone(), self.0.body.clone()))
    }
}

/// A knowledge article: a working copy that the knowledge team edits, and the published
/// version readers see.
#[Object]
impl Article {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Article", self.0.id)
    }
    /// KB0000001.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// The title of the working copy (readers who may only see published versions get the
    /// published title).
    async fn title(&self, ctx: &Context<'_>) -> AppResult<String> {
        Ok(self.shown(ctx).await?.0)
    }
    /// Markdown.
    async fn body(&self, ctx: &Context<'_>) -> AppResult<String> {
        Ok(self.shown(ctx).await?.1)
    }
    /// Its files (screenshots, documents), oldest first.
    async fn attachments(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::attachments::Attachment>> {
        Box::pin(crate::graphql::attachments::of_article(ctx, self.0.id)).await
    }
    /// Where the article is in its review cycle.
    async fn status(&self) -> AppResult<ArticleStatus> {
        vocabulary::ArticleStatus::stored(&self.0.status).map(Into::into)
    }
    /// Who may read it: the working copy's for the desk, the published version's for
    /// requesters (the one that decides what they read).
    async fn visibility(&self, ctx: &Context<'_>) -> AppResult<ArticleVisibility> {
        let shown = match Reader::of(caller(ctx))? {
            Reader::Desk => self.0.visibility.as_str(),
            Reader::Public => self
                .0
                .published_visibility
                .as_deref()
                .unwrap_or(vocabulary::Visibility::Internal.as_str()),
        };
        vocabulary::Visibility::stored(shown).map(Into::into)
    }
    /// The visibility the version readers see was published with; null until published.
    async fn published_visibility(&self) -> AppResult<Option<ArticleVisibility>> {
        self.0
            .published_visibility
            .as_deref()
            .map(|v| vocabulary::Visibility::stored(v).map(Into::into))
            .transpose()
    }
    /// Free-text tags, for search.
    async fn tags(&self) -> Vec<String> {
        serde_json::from_value(self.0.tags.clone()).unwrap_or_default()
    }
    /// The category it is filed under, if any.
    async fn category(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::desk::Category>> {
        match self.0.category_id {
            Some(id) => Ok(ctx
                .data_unchecked::<loaders::Categories>()
                .load_one(id)
                .await?
                .map(crate::graphql::desk::Category)),
            None => Ok(None),
        }
    }
    /// The version readers see; none until first published.
    async fn published_version(&self) -> Option<i32> {
        self.0.published_version
    }
    /// Every published version, oldest first. Agents only.
    async fn versions(&self, ctx: &Context<'_>) -> AppResult<Vec<ArticleVersion>> {
        if Reader::of(caller(ctx))? != Reader::Desk {
            return Err(AppError::Forbidden(
                "earlier versions are for the desk".into(),
            ));
        }
        let rows = knowledge::versions(state(ctx).db.conn(), self.0.id).await?;
        Ok(rows.into_iter().map(ArticleVersion).collect())
    }
    /// "Was this helpful?" answers.
    async fn helpful_yes(&self) -> i32 {
        self.0.helpful_yes
    }
    /// How many readers said it did not help.
    async fn helpful_no(&self) -> i32 {
        self.0.helpful_no
    }
    /// When it last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
    /// Send it back with an edit; a stale one gets CONFLICT.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The incidents it is linked to that the caller may see. Agents only.
    async fn linked_incidents(&self, ctx: &Context<'_>) -> AppResult<Vec<Ticket>> {
        if Reader::of(caller(ctx))? != Reader::Desk {
            return Ok(vec![]);
        }
        let conn = state(ctx).db.conn();
        let links = knowledge::links(conn, self.0.id).await?;
        let ids: Vec<i64> = links.iter().filter_map(|l| l.ticket_id).collect();
        let scope = ticket_scope(ctx).await?;
        Ok(problems::visible_tickets(conn, scope, &ids)
            .await?
            .into_iter()
            .map(Ticket)
            .collect())
    }
    /// The problems it is linked to (a known error's draft is linked to its problem).
    /// Agents only.
    async fn linked_problems(&self, ctx: &Context<'_>) -> AppResult<Vec<Problem>> {
        if Reader::of(caller(ctx))? != Reader::Desk {
            return Ok(vec![]);
        }
        let conn = state(ctx).db.conn();
        let links = knowledge::links(conn, self.0.id).await?;
        let ids: Vec<i64> = links.iter().filter_map(|l| l.problem_id).collect();
        Ok(problems::find_many(conn, &ids)
            .await?
            .into_iter()
            .map(Problem)
            .collect())
    }
}

pub struct ArticleVersion(pub article_version::Model);

/// A published version of an article, kept when the next one is published.
#[Object]
impl ArticleVersion {
    /// 1 for the first published version, counting up.
    async fn number(&self) -> i32 {
        self.0.number
    }
    /// The title of this version.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The text of this version (Markdown).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When this version was published.
    async fn published_at(&self) -> Instant {
        Instant(self.0.published_at)
    }
    /// Who could read this version: the visibility it was published with.
    async fn visibility(&self) -> AppResult<ArticleVisibility> {
        vocabulary::Visibility::stored(&self.0.visibility).map(Into::into)
    }
}

/// An article found by search, with how well it matched.
#[derive(SimpleObject)]
pub struct ArticleMatch {
    /// The article found.
    pub article: Article,
    /// Relevance (BM25): only the order means anything.
    pub score: f64,
}

pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<Article> {
    let (row, _) = knowledge::readable(state(ctx).db.conn(), caller(ctx), id).await?;
    Ok(Article(row))
}

/// Published articles that may help with a ticket's words.
pub async fn suggestions(
    ctx: &Context<'_>,
    text: &str,
    first: i32,
) -> AppResult<Vec<ArticleMatch>> {
    let reader = Reader::of(caller(ctx))?;
    let found = knowledge::search(
        state(ctx).db.conn(),
        reader,
        text,
        first.clamp(1, 20) as usize,
    )
    .await?;
    Ok(found
        .into_iter()
        .map(|(article, score)| ArticleMatch {
            article: Article(article),
            score,
        })
        .collect())
}

#[derive(Default)]
pub struct KnowledgeQuery;

#[Object]
impl KnowledgeQuery {
    /// Published articles the caller may read, most relevant first.
    async fn search_articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words to look for in titles, bodies and tags.")] text: String,
        #[graphql(
            default = 10,
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: i32,
    ) -> AppResult<Vec<ArticleMatch>> {
        suggestions(ctx, &text, first).await
    }

    /// Articles newest first, by status: the knowledge team's list. Requesters see the
    /// published public ones.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(1) as usize * child_complexity")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Only articles in these statuses; all when empty.")] status: Vec<
            ArticleStatus,
        >,
        #[graphql(
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(
            desc = "How many items to take from the end of the list (before `before`), 0 to 100. Pass `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<Article>> {
        let reader = Reader::of(caller(ctx))?;
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let statuses: Vec<vocabulary::ArticleStatus> = status.into_iter().map(Into::into).collect();
        let rows = knowledge::list(state(ctx).db.conn(), reader, &statuses, &page).await?;
        Ok(pagination::connection(&page, rows, |a| a.id, Article))
    }
}

/// What `saveArticle` takes.
#[derive(InputObject)]
pub struct SaveArticleInput {
    /// Absent for a new article (a DRAFT).
    pub id: Option<ID>,
    /// The version you read, with an id.
    pub version: Option<i32>,
    /// The title.
    pub title: String,
    /// The text, in Markdown.
    #[graphql(default)]
    pub body: String,
    /// The id of the category.
    pub category_id: Option<ID>,
    /// Free-text tags, for search.
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Who may read it once published.
    #[graphql(default_with = "ArticleVisibility::Internal")]
    pub visibility: ArticleVisibility,
}

/// What `transitionArticle` takes.
#[derive(InputObject)]
pub struct TransitionArticleInput {
    /// The id of the article.
    pub id: ID,
    /// Send it back with an edit; a stale one gets CONFLICT.
    pub version: i32,
    /// The status to move to.
    pub to: ArticleStatus,
}

/// What `linkArticle` takes.
#[derive(InputObject)]
pub struct LinkArticleInput {
    /// The id of the article.
    pub article_id: ID,
    /// An incident, or
    pub ticket_id: Option<ID>,
    /// a problem.
    pub problem_id: Option<ID>,
}

/// What a mutation on an article returns: the article as it is after the change.
#[derive(SimpleObject)]
pub struct ArticlePayload {
    /// The article as it is after the change.
    pub article: Article,
}

#[derive(Default)]
pub struct KnowledgeMutation;

#[Object]
impl KnowledgeMutation {
    /// Writes a new article, or edits the working copy of one. Agents.
    async fn save_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: SaveArticleInput,
    ) -> AppResult<ArticlePayload> {
        let on = acting(ctx);
        let id = match (input.id, input.version) {
            (Some(id), Some(version)) => Some((ids::decode_as(&id, "Article", "id")?, version)),
            (Some(_), None) => {
                return Err(AppError::bad_input("version", "send the version you read"));
            }
            (None, _) => None,
        };
        let fields = ArticleFields {
            title: input.title,
            body: input.body,
            category_id: ids::decode_opt(input.category_id, "Category", "categoryId")?,
            tags: input.tags,
            visibility: input.visibility.into(),
        };
        let row = knowledge::save(on.db, on.caller, on.now, id, fields).await?;
        Ok(ArticlePayload {
            article: Article(row),
        })
    }

    /// DRAFT → REVIEW → PUBLISHED (a new version) → RETIRED.
    async fn transition_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: TransitionArticleInput,
    ) -> AppResult<ArticlePayload> {
        let on = acting(ctx);
        let target = versioned(&input.id, input.version, "Article")?;
        let row = knowledge::transition(
            on.db,
            on.caller,
            on.now,
            target.id,
            target.version,
            input.to.into(),
        )
        .await?;
        Ok(ArticlePayload {
            article: Article(row),
        })
    }

    /// "Was this helpful?": anyone who may read the article.
    async fn rate_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's id.")] id: ID,
        #[graphql(desc = "Whether the article helped.")] helpful: bool,
    ) -> AppResult<ArticlePayload> {
        let id = ids::decode_as(&id, "Article", "id")?;
        let row = knowledge::rate(&state(ctx).db, caller(ctx), id, helpful).await?;
        Ok(ArticlePayload {
            article: Article(row),
        })
    }

    /// Links a knowledge article to a ticket it helped with. Agents.
    async fn link_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: LinkArticleInput,
    ) -> AppResult<ArticlePayload> {
        let id = ids::decode_as(&input.article_id, "Article", "articleId")?;
        let ticket = ids::decode_opt(input.ticket_id, "Ticket", "ticketId")?;
        let problem = ids::decode_opt(input.problem_id, "Problem", "problemId")?;
        let row = knowledge::link(&state(ctx).db, caller(ctx), id, ticket, problem).await?;
        Ok(ArticlePayload {
            article: Article(row),
        })
    }
}
