//! The versioned write, once for every record people edit concurrently (tickets,
//! problems, changes, articles, configuration items).
//!
//! A client sends the `version` it read; the command loads the row and refuses a stale
//! version before it changes anything ([`current`]), and the write itself happens only
//! where the row is still at that version ([`save`]), so two editors who both read
//! version 3 cannot both write version 4: the second gets CONFLICT and reloads.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};

use crate::error::{AppError, AppResult};

/// A table whose rows carry a `version` that every write bumps, and an `updated_at`.
pub trait Versioned: EntityTrait {
    /// What a row is called in messages: "ticket", "change".
    const SUBJECT: &'static str;

    fn id_column() -> Self::Column;
    fn version_column() -> Self::Column;
    fn id_of(row: &Self::Model) -> i64;
    fn version_of(row: &Self::Model) -> i32;
    /// How people know the row: its number, or its name in quotes.
    fn label(row: &Self::Model) -> String;
    /// Sets the new version and the time of the write on a change.
    fn stamp(changed: &mut Self::ActiveModel, version: i32, now: DateTime<Utc>);
}

/// Loads a row by id.
///
/// # Errors
/// NOT_FOUND naming the subject when there is no such row.
pub async fn find<E: Versioned>(conn: &impl ConnectionTrait, id: i64) -> AppResult<E::Model> {
    E::find()
        .filter(E::id_column().eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no {} with that id", E::SUBJECT)))
}

/// The CONFLICT a client gets for a version that is no longer current.
pub fn stale<E: Versioned>(row: &E::Model, sent: i32) -> AppError {
    AppError::Conflict(format!(
        "{} was changed by someone else since you read it (you sent version {sent}, it is now {}); reload it and try again",
        E::label(row),
        E::version_of(row)
    ))
}

/// Refuses a version the client read before someone else's write.
///
/// # Errors
/// CONFLICT when `sent` is not the row's version.
pub fn check<E: Versioned>(row: &E::Model, sent: i32) -> AppResult<()> {
    if E::version_of(row) == sent {
        Ok(())
    } else {
        Err(stale::<E>(row, sent))
    }
}

/// Loads the row the client means to change, at the version it read.
///
/// # Errors
/// NOT_FOUND when there is no such row, CONFLICT when its version has moved on.
pub async fn current<E: Versioned>(
    conn: &impl ConnectionTrait,
    id: i64,
    sent: i32,
) -> AppResult<E::Model> {
    let row = find::<E>(conn, id).await?;
    check::<E>(&row, sent)?;
    Ok(row)
}

/// Writes `changed` over `row` if the row is still at `row`'s version, with the next
/// version and `now` as its time, and returns the row as written.
///
/// # Errors
/// CONFLICT when someone committed a write since `row` was read (PostgreSQL re-checks
/// the version after waiting on the row's lock, so the loser of a race lands here).
pub async fn save<E: Versioned>(
    txn: &DatabaseTransaction,
    row: &E::Model,
    mut changed: E::ActiveModel,
    now: DateTime<Utc>,
) -> AppResult<E::Model>
where
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let (id, version) = (E::id_of(row), E::version_of(row));
    E::stamp(&mut changed, version + 1, now);
    let result = E::update_many()
        .set(changed)
        .filter(E::id_column().eq(id))
        .filter(E::version_column().eq(version))
        .exec(txn)
        .await?;
    if result.rows_affected == 0 {
        let now_row = find::<E>(txn, id).await?;
        return Err(stale::<E>(&now_row, version));
    }
    find::<E>(txn, id).await
}

/// Declares a table versioned: `versioned!(ticket, "ticket", |row| row.number.clone())`.
macro_rules! versioned {
    ($entity:ident, $subject:literal, $label:expr) => {
        impl $crate::domain::versioned::Versioned for entity::$entity::Entity {
            const SUBJECT: &'static str = $subject;

            fn id_column() -> entity::$entity::Column {
                entity::$entity::Column::Id
            }
            fn version_column() -> entity::$entity::Column {
                entity::$entity::Column::Version
            }
            fn id_of(row: &entity::$entity::Model) -> i64 {
                row.id
            }
            fn version_of(row: &entity::$entity::Model) -> i32 {
                row.version
            }
            fn label(row: &entity::$entity::Model) -> String {
                let label: fn(&entity::$entity::Model) -> String = $label;
                label(row)
            }
            fn stamp(
                changed: &mut entity::$entity::ActiveModel,
                version: i32,
                now: chrono::DateTime<chrono::Utc>,
            ) {
                changed.version = sea_orm::ActiveValue::Set(version);
                changed.updated_at = sea_orm::ActiveValue::Set(now);
            }
        }
    };
}

versioned!(ticket, "ticket", |row| row.number.clone());
versioned!(problem, "problem", |row| row.number.clone());
versioned!(change, "change", |row| row.number.clone());
versioned!(article, "article", |row| row.number.clone());
versioned!(release, "release", |row| row.number.clone());
versioned!(major_incident, "major incident", |row| format!(
    "major incident {}",
    row.id
));
versioned!(continuity_plan, "continuity plan", |row| format!(
    "continuity plan '{}'",
    row.name
));
versioned!(supplier, "supplier", |row| format!(
    "supplier '{}'",
    row.name
));
versioned!(alert, "alert", |row| format!("alert '{}'", row.name));
versioned!(outage, "outage", |row| format!("outage {}", row.id));
versioned!(configuration_item, "configuration item", |row| format!(
    "'{}'",
    row.name
));
versioned!(webhook_endpoint, "webhook endpoint", |row| format!(
    "'{}'",
    row.url
));
versioned!(automation_rule, "automation rule", |row| format!(
    "'{}'",
    row.name
));
