//! The people and places a list shows beside each ticket (its requester, assignee,
//! group, organization and category), read in the list's own statement when asked for.
//!
//! Looked up after the page, each relation was a statement of its own with an
//! `id IN (…)` list of the page's ids (and, on SQLite, an ephemeral b-tree to hold the
//! list): a 50-ticket dashboard page with its four relations took five statements, three
//! pool connections and three spawned tasks. Joined on their primary keys, they cost the
//! page's statement a few index probes per row. Each joined table's columns follow the
//! ticket's, whole, in the order of its entity, and are read by position (see
//! `domain::positional`): the rows beside a ticket are complete, whatever the client
//! selects of them.
//!
//! The rows are the ones the lookups would have loaded: what a caller may see of a
//! person or a group is decided where they are shown, not here.

use entity::{category, group, organization, ticket, user};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, Iterable, PrimaryKeyToColumn, QueryResult, QueryTrait, Select,
    sea_query::{Alias, Expr, ExprTrait, JoinType},
};

use crate::domain::positional::Positional;

/// Which of a ticket's neighbours a list brings with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Beside {
    pub requester: bool,
    pub assignee: bool,
    pub group: bool,
    pub organization: bool,
    pub category: bool,
}

/// A ticket of a list, with the neighbours that were asked for, when it has them.
#[derive(Debug)]
pub struct Listed {
    pub ticket: ticket::Model,
    pub requester: Option<user::Model>,
    pub assignee: Option<user::Model>,
    pub group: Option<group::Model>,
    pub organization: Option<organization::Model>,
    pub category: Option<category::Model>,
}

/// The joined tables' names in the statement.
pub(super) const REQUESTER: &str = "requester";
pub(super) const ASSIGNEE: &str = "assignee";
pub(super) const GROUP: &str = "group";
pub(super) const ORGANIZATION: &str = "organization";
pub(super) const CATEGORY: &str = "category";

impl Beside {
    /// `query` with a LEFT JOIN, and the columns, of each neighbour asked for, in the
    /// order `read` reads them.
    pub(super) fn join(self, mut query: Select<ticket::Entity>) -> Select<ticket::Entity> {
        if self.requester {
            query = join::<user::Entity>(query, REQUESTER, ticket::Column::RequesterId);
        }
        if self.assignee {
            query = join::<user::Entity>(query, ASSIGNEE, ticket::Column::AssigneeId);
        }
        if self.group {
            query = join::<group::Entity>(query, GROUP, ticket::Column::GroupId);
        }
        if self.organization {
            query =
                join::<organization::Entity>(query, ORGANIZATION, ticket::Column::OrganizationId);
        }
        if self.category {
            query = join::<category::Entity>(query, CATEGORY, ticket::Column::CategoryId);
        }
        query
    }

    /// One row of a query `join` made.
    pub(super) fn read(self, row: &QueryResult) -> Result<Listed, DbErr> {
        let at = &mut 0;
        Ok(Listed {
            ticket: ticket::Model::read(row, at)?,
            requester: beside(self.requester, row, at)?,
            assignee: beside(self.assignee, row, at)?,
            group: beside(self.group, row, at)?,
            organization: beside(self.organization, row, at)?,
            category: beside(self.category, row, at)?,
        })
    }
}

fn join<E: EntityTrait>(
    query: Select<ticket::Entity>,
    name: &str,
    on: ticket::Column,
) -> Select<ticket::Entity> {
    join_columns::<E>(query, name, on, E::Column::iter())
}

/// `query` LEFT JOINed to `E` (named `name` in the statement) on `E`'s key equal to the
/// ticket's `on`, selecting `columns` of it after those already selected.
pub(super) fn join_columns<E: EntityTrait>(
    mut query: Select<ticket::Entity>,
    name: &str,
    on: ticket::Column,
    columns: impl IntoIterator<Item = E::Column>,
) -> Select<ticket::Entity> {
    let key = E::PrimaryKey::iter()
        .next()
        .expect("every table has a primary key")
        .into_column();
    let statement = QueryTrait::query(&mut query);
    statement.join_as(
        JoinType::LeftJoin,
        E::default(),
        Alias::new(name),
        Expr::col((Alias::new(name), key)).equals((ticket::Entity, on)),
    );
    for column in columns {
        statement.expr(column.select_as(Expr::col((Alias::new(name), column))));
    }
    query
}

/// The neighbour whose columns come next, if it was joined and found.
fn beside<M: Positional>(
    joined: bool,
    row: &QueryResult,
    at: &mut usize,
) -> Result<Option<M>, DbErr> {
    if joined {
        M::read_optional(row, at)
    } else {
        Ok(None)
    }
}
