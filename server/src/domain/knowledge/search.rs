//! Ranked search over the published versions a reader may see.

use std::collections::{HashMap, HashSet};

use entity::{article, article_version};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, LikeExpr},
};

use crate::domain::knowledge::types::{ArticleStatus::*, Visibility};
use crate::error::AppResult;

use super::Reader;

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
