//! A page of tickets read for a client that selected only some of their fields: the
//! columns it shows, of the ticket and of the neighbours beside it, rather than whole
//! rows. A dashboard's `requester { name }` needs two of a person's twelve columns,
//! and a ticket's row carries two copies of its text for search that no page shows.
//!
//! The rows are the same tickets, in the same order, as `queries::list` reads for the
//! same caller, filter, order and window: both start from `queries::page_query`, where
//! the one visibility rule's condition is applied.

use entity::{category, group, organization, ticket, user};
use sea_orm::{ConnectionTrait, EntityTrait, QueryResult, QuerySelect, QueryTrait};

use crate::{domain::page::Window, error::AppResult};

use super::{
    beside::{self, join_columns},
    queries::{self, Sort, TicketFilter},
    visibility::Scope,
};

/// The columns a page reads. A neighbour with no columns is not joined; one with
/// columns should name its key first, so that a ticket without that neighbour is told
/// by a NULL there.
#[derive(Clone, Debug, Default)]
pub struct Wanted {
    pub ticket: Vec<ticket::Column>,
    pub requester: Vec<user::Column>,
    pub assignee: Vec<user::Column>,
    pub group: Vec<group::Column>,
    pub organization: Vec<organization::Column>,
    pub category: Vec<category::Column>,
}

/// Where each table's columns start in a row `page` reads: the ticket's first, then the
/// neighbours in the order of `Wanted`'s fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offsets {
    pub requester: usize,
    pub assignee: usize,
    pub group: usize,
    pub organization: usize,
    pub category: usize,
}

impl Wanted {
    pub fn offsets(&self) -> Offsets {
        let requester = self.ticket.len();
        let assignee = requester + self.requester.len();
        let group = assignee + self.assignee.len();
        let organization = group + self.group.len();
        let category = organization + self.organization.len();
        Offsets {
            requester,
            assignee,
            group,
            organization,
            category,
        }
    }
}

/// The window's tickets that `filter` selects and the caller may see, in `sort` order,
/// each row holding the `wanted` columns in the order `Wanted::offsets` describes.
pub async fn page(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    filter: &TicketFilter,
    sort: Sort,
    window: &Window<String>,
    wanted: &Wanted,
) -> AppResult<Vec<QueryResult>> {
    let mut query = queries::page_query(conn, scope, filter, sort, window)
        .await?
        .select_only()
        .columns(wanted.ticket.iter().copied());
    query = neighbour::<user::Entity>(
        query,
        beside::REQUESTER,
        ticket::Column::RequesterId,
        &wanted.requester,
    );
    query = neighbour::<user::Entity>(
        query,
        beside::ASSIGNEE,
        ticket::Column::AssigneeId,
        &wanted.assignee,
    );
    query =
        neighbour::<group::Entity>(query, beside::GROUP, ticket::Column::GroupId, &wanted.group);
    query = neighbour::<organization::Entity>(
        query,
        beside::ORGANIZATION,
        ticket::Column::OrganizationId,
        &wanted.organization,
    );
    query = neighbour::<category::Entity>(
        query,
        beside::CATEGORY,
        ticket::Column::CategoryId,
        &wanted.category,
    );
    let statement = queries::limited(query.build(conn.get_database_backend()), window);
    Ok(conn.query_all_raw(statement).await?)
}

fn neighbour<E: EntityTrait>(
    query: sea_orm::Select<ticket::Entity>,
    name: &str,
    on: ticket::Column,
    columns: &[E::Column],
) -> sea_orm::Select<ticket::Entity>
where
    E::Column: Copy,
{
    if columns.is_empty() {
        query
    } else {
        join_columns::<E>(query, name, on, columns.iter().copied())
    }
}
