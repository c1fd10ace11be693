//! Which notifications a person wants: all, unless they turned some off. Each person
//! chooses for themselves.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::notification_opt_out;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::types::NotificationKind as Kind;
use crate::{auth::Caller, db::Db, error::AppResult};

/// One kind, and whether the person receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preference {
    pub kind: Kind,
    pub enabled: bool,
}

/// The caller's choices, one per kind.
pub async fn mine(db: &Db, caller: &Caller) -> AppResult<Vec<Preference>> {
    let me = caller.person()?;
    let off = turned_off(db.conn(), &[me.user_id]).await?;
    Ok(Kind::ALL
        .iter()
        .map(|kind| Preference {
            kind: *kind,
            enabled: !off.contains(&(me.user_id, *kind)),
        })
        .collect())
}

/// Turns one kind on or off for the caller; their choices after.
pub async fn set(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    kind: Kind,
    enabled: bool,
) -> AppResult<Vec<Preference>> {
    let me = caller.person()?;
    let txn = db.begin_write().await?;
    if enabled {
        notification_opt_out::Entity::delete_many()
            .filter(notification_opt_out::Column::UserId.eq(me.user_id))
            .filter(notification_opt_out::Column::Kind.eq(kind.as_str()))
            .exec(&txn)
            .await?;
    } else {
        notification_opt_out::Entity::insert(notification_opt_out::ActiveModel {
            user_id: Set(me.user_id),
            kind: Set(kind.as_str().into()),
            created_at: Set(now),
        })
        .on_conflict_do_nothing_on([
            notification_opt_out::Column::UserId,
            notification_opt_out::Column::Kind,
        ])
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    mine(db, caller).await
}

/// Of these people, who turned off which kinds.
pub async fn turned_off(
    conn: &impl ConnectionTrait,
    user_ids: &[i64],
) -> AppResult<HashSet<(i64, Kind)>> {
    if user_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = notification_opt_out::Entity::find()
        .filter(notification_opt_out::Column::UserId.is_in(user_ids.iter().copied()))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.user_id, Kind::stored(&row.kind).ok()?)))
        .collect())
}
