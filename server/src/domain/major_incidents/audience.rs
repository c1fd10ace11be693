//! Whom a major incident affects: the people its updates reach. Worked out once per
//! event (and carried in the event), never once per subscriber.
//!
//! - the requester and followers of the incident itself, and of its children (tickets
//!   linked to it as CHILD_OF: the same outage, reported again);
//! - everyone whose service is impacted through the CMDB: the incident's configuration
//!   items and everything that depends on them (the CMDB's impact analysis), then the
//!   people of the organizations those items serve, and the requesters of open tickets
//!   about those items or their services.

use std::collections::BTreeSet;

use entity::{
    configuration_item, ticket, ticket_configuration_item, ticket_follower, ticket_link, user,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    domain::{
        cmdb::impact,
        tickets::{links::LinkKind, types::Status},
    },
    error::AppResult,
};

/// How deep the impact of the incident's items is followed.
const IMPACT_DEPTH: u32 = 10;

/// The ids of the people a major incident on `incident` affects, sorted.
///
/// # Errors
/// INTERNAL when the database fails.
pub async fn affected(
    conn: &impl ConnectionTrait,
    incident: &ticket::Model,
) -> AppResult<Vec<i64>> {
    let mut people = BTreeSet::new();
    let children: Vec<i64> = ticket_link::Entity::find()
        .select_only()
        .column(ticket_link::Column::SourceId)
        .filter(ticket_link::Column::TargetId.eq(incident.id))
        .filter(ticket_link::Column::Kind.eq(LinkKind::ChildOf.as_str()))
        .into_tuple()
        .all(conn)
        .await?;
    let mut tickets = children;
    tickets.push(incident.id);
    let requesters: Vec<Option<i64>> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::RequesterId)
        .filter(ticket::Column::Id.is_in(tickets.clone()))
        .into_tuple()
        .all(conn)
        .await?;
    people.extend(requesters.into_iter().flatten());
    let followers: Vec<i64> = ticket_follower::Entity::find()
        .select_only()
        .column(ticket_follower::Column::UserId)
        .filter(ticket_follower::Column::TicketId.is_in(tickets))
        .into_tuple()
        .all(conn)
        .await?;
    people.extend(followers);

    let failed: Vec<i64> = ticket_configuration_item::Entity::find()
        .select_only()
        .column(ticket_configuration_item::Column::ConfigurationItemId)
        .filter(ticket_configuration_item::Column::TicketId.eq(incident.id))
        .into_tuple()
        .all(conn)
        .await?;
    if !failed.is_empty() {
        let reached = impact::analyse(conn, &failed, IMPACT_DEPTH).await?;
        let mut items: Vec<i64> = reached.reached.iter().map(|r| r.id).collect();
        items.extend(failed);
        let served: Vec<(Option<i64>, Option<i64>)> = configuration_item::Entity::find()
            .select_only()
            .column(configuration_item::Column::OrganizationId)
            .column(configuration_item::Column::ServiceId)
            .filter(configuration_item::Column::Id.is_in(items.clone()))
            .into_tuple()
            .all(conn)
            .await?;
        let organizations: BTreeSet<i64> = served.iter().filter_map(|(o, _)| *o).collect();
        let services: BTreeSet<i64> = served.iter().filter_map(|(_, s)| *s).collect();
        if !organizations.is_empty() {
            let members: Vec<i64> = user::Entity::find()
                .select_only()
                .column(user::Column::Id)
                .filter(user::Column::OrganizationId.is_in(organizations))
                .into_tuple()
                .all(conn)
                .await?;
            people.extend(members);
        }
        let about_items: Vec<i64> = ticket_configuration_item::Entity::find()
            .select_only()
            .column(ticket_configuration_item::Column::TicketId)
            .filter(ticket_configuration_item::Column::ConfigurationItemId.is_in(items))
            .into_tuple()
            .all(conn)
            .await?;
        let open: Vec<&str> = Status::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str())
            .collect();
        let mut requesters = ticket::Entity::find()
            .select_only()
            .column(ticket::Column::RequesterId)
            .filter(ticket::Column::Status.is_in(open));
        requesters = requesters.filter(
            sea_orm::Condition::any()
                .add(ticket::Column::Id.is_in(about_items))
                .add(ticket::Column::ServiceId.is_in(services)),
        );
        let requesters: Vec<Option<i64>> = requesters.into_tuple().all(conn).await?;
        people.extend(requesters.into_iter().flatten());
    }
    Ok(people.into_iter().collect())
}
