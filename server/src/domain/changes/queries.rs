//! Reading changes and what hangs off them, a page at a time.

use std::collections::HashMap;

use entity::{change, change_configuration_item, change_vote, configuration_item};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::changes::schedule;
use crate::domain::changes::types::ChangeStatus;
use crate::domain::{lookup::newest_first, page::Window};
use crate::error::AppResult;

/// Each change's configuration items, by name, for a page of changes.
pub async fn items_by_change(
    conn: &impl ConnectionTrait,
    change_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<configuration_item::Model>>> {
    let ids = schedule::items_of(conn, change_ids).await?;
    let all: Vec<i64> = ids.values().flatten().copied().collect();
    let items = crate::domain::cmdb::impact::load(conn, &all).await?;
    Ok(ids
        .into_iter()
        .map(|(change, item_ids)| {
            let mut list: Vec<configuration_item::Model> = item_ids
                .iter()
                .filter_map(|id| items.get(id).cloned())
                .collect();
            list.sort_by(|a, b| a.name_lower.cmp(&b.name_lower));
            (change, list)
        })
        .collect())
}

/// Each change's votes, oldest first, for a page of changes.
pub async fn votes_by_change(
    conn: &impl ConnectionTrait,
    change_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<change_vote::Model>>> {
    let mut by_change: HashMap<i64, Vec<change_vote::Model>> = HashMap::new();
    for vote in change_vote::Entity::find()
        .filter(change_vote::Column::ChangeId.is_in(change_ids.iter().copied()))
        .order_by_asc(change_vote::Column::Id)
        .all(conn)
        .await?
    {
        by_change.entry(vote.change_id).or_default().push(vote);
    }
    Ok(by_change)
}

/// Changes, newest first, optionally in some statuses.
pub async fn list(
    conn: &impl ConnectionTrait,
    statuses: &[ChangeStatus],
    window: &Window,
) -> AppResult<Vec<change::Model>> {
    let columns = (change::Column::Id, change::Column::Status);
    newest_first(conn, change::Entity::find(), columns, statuses, window).await
}

/// The changes touching each of a page of configuration items, newest first.
pub async fn changes_by_item(
    conn: &impl ConnectionTrait,
    item_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<change::Model>>> {
    let links = change_configuration_item::Entity::find()
        .filter(
            change_configuration_item::Column::ConfigurationItemId.is_in(item_ids.iter().copied()),
        )
        .all(conn)
        .await?;
    let changes: HashMap<i64, change::Model> = change::Entity::find()
        .filter(change::Column::Id.is_in(links.iter().map(|l| l.change_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut by_item: HashMap<i64, Vec<change::Model>> = HashMap::new();
    for link in links {
        if let Some(change) = changes.get(&link.change_id) {
            by_item
                .entry(link.configuration_item_id)
                .or_default()
                .push(change.clone());
        }
    }
    for list in by_item.values_mut() {
        list.sort_by_key(|c| std::cmp::Reverse(c.id));
    }
    Ok(by_item)
}

/// Changes not yet finished (from DRAFT to REVIEW) that touch any of `item_ids`, by
/// planned start.
pub async fn open_changes_touching(
    conn: &impl ConnectionTrait,
    item_ids: &[i64],
) -> AppResult<Vec<change::Model>> {
    let mut rows: Vec<change::Model> = Vec::new();
    for chunk in item_ids.chunks(500) {
        rows.extend(
            change::Entity::find()
                .filter(
                    change::Column::Id.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(change_configuration_item::Column::ChangeId)
                            .from(change_configuration_item::Entity)
                            .and_where(
                                change_configuration_item::Column::ConfigurationItemId
                                    .is_in(chunk.iter().copied()),
                            )
                            .to_owned(),
                    ),
                )
                .filter(change::Column::Status.is_not_in(ChangeStatus::ENDED.iter().copied()))
                .all(conn)
                .await?,
        );
    }
    rows.sort_by_key(|c| (c.planned_start, c.id));
    rows.dedup_by_key(|c| c.id);
    Ok(rows)
}
