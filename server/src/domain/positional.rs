//! Rows read by position, for the statements a busy desk runs most: a page of tickets
//! and the people and places beside them.
//!
//! sea-orm's derived models read each column by name, and the profile of the ticket page
//! found that a third of the server's time went there: a name is looked up in a hash
//! map per column per row, a prefixed name (`requester__name`) is formatted first, and
//! every NULL read into an `Option` formats an error message that is thrown away (a
//! ticket row has a dozen columns that are usually NULL). Here a model is read from
//! consecutive columns, in the order its entity selects them, with sqlx's own decoders:
//! the same values, without the detours.
//!
//! The order is checked against the entity's columns on every read in debug builds, so
//! the test suite catches a field list that falls out of step with its entity.

use entity::{category, group, organization, ticket, user};
use sea_orm::{
    DbErr, QueryResult,
    sqlx::{self, Decode, Postgres, Row, Sqlite, Type},
};

/// A model that can be read from consecutive columns of a row.
pub trait Positional: Sized {
    /// How many columns it takes.
    const COLUMNS: usize;

    /// Reads it from the columns starting at `*at`, and moves `*at` past them.
    fn read(row: &QueryResult, at: &mut usize) -> Result<Self, DbErr>;

    /// Reads it when its key (its first column) is not NULL, as after a LEFT JOIN that
    /// found nothing; moves `*at` past its columns either way.
    fn read_optional(row: &QueryResult, at: &mut usize) -> Result<Option<Self>, DbErr> {
        let key: Option<i64> = column(row, *at)?;
        if key.is_none() {
            *at += Self::COLUMNS;
            return Ok(None);
        }
        Self::read(row, at).map(Some)
    }
}

/// The value of column `index`, decoded as sea-orm would decode it for a field of type `T`.
pub fn column<T>(row: &QueryResult, index: usize) -> Result<T, DbErr>
where
    T: for<'r> Decode<'r, Postgres> + Type<Postgres> + for<'r> Decode<'r, Sqlite> + Type<Sqlite>,
{
    let decoded = if let Some(row) = row.try_as_pg_row() {
        row.try_get::<T, _>(index)
    } else if let Some(row) = row.try_as_sqlite_row() {
        row.try_get::<T, _>(index)
    } else {
        return Err(DbErr::Type(
            "rows are read by position from PostgreSQL and SQLite only".into(),
        ));
    };
    decoded.map_err(|error: sqlx::Error| DbErr::Type(format!("column {index}: {error}")))
}

/// Implements `Positional` for an entity's model from its fields in column order.
macro_rules! positional {
    ($entity:ident { $($field:ident),* $(,)? }) => {
        impl Positional for $entity::Model {
            const COLUMNS: usize = [$(stringify!($field)),*].len();

            fn read(row: &QueryResult, at: &mut usize) -> Result<Self, DbErr> {
                #[cfg(debug_assertions)]
                {
                    use sea_orm::{IdenStatic, Iterable};
                    let columns: Vec<&str> =
                        $entity::Column::iter().map(|c| c.as_str()).collect();
                    debug_assert_eq!(
                        columns,
                        [$(stringify!($field)),*],
                        concat!("the fields of ", stringify!($entity), " in column order"),
                    );
                }
                // A struct's fields are evaluated in the order they are written.
                let mut index = *at;
                let mut next = || {
                    index += 1;
                    index - 1
                };
                let model = $entity::Model {
                    $($field: column(row, next())?),*
                };
                *at += Self::COLUMNS;
                Ok(model)
            }
        }
    };
}

positional!(ticket {
    id,
    number,
    kind,
    status,
    title,
    description,
    impact,
    urgency,
    priority,
    category_id,
    requester_id,
    organization_id,
    group_id,
    assignee_id,
    channel,
    supplier_id,
    service_id,
    pending_reason,
    resolution_code,
    resolution_notes,
    escalation_level,
    manager_flagged_at,
    routed_by_rule_id,
    caused_by_change_id,
    search_text,
    internal_search_text,
    created_at,
    updated_at,
    first_response_at,
    resolved_at,
    closed_at,
    merged_into_id,
    status_before_merge,
    version,
});

positional!(user {
    id,
    subject,
    name,
    email,
    roles,
    groups,
    created_at,
    updated_at,
    organization_id,
    available,
    manager_id,
    supplier_id,
});

positional!(group {
    id,
    name,
    description,
    tier,
    manager_id,
    escalation_group_id,
    last_assigned_user_id,
    created_at,
});

positional!(organization {
    id,
    name,
    requesters_see_all_tickets,
    created_at,
});

positional!(category {
    id,
    name,
    parent_id,
    path
});
