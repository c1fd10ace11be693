//! Reading the CMDB: items by filter, and the tickets and relationships around them.

use std::collections::HashMap;

use entity::{
    ci_attribute_value, ci_relationship, configuration_item as ci, ticket,
    ticket_configuration_item,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, LikeExpr},
};

use crate::auth::Caller;
use crate::domain::cmdb::attributes;
use crate::domain::cmdb::types::CiStatus;
use crate::domain::{page::Window, tickets::types::Status};
use crate::error::{AppError, AppResult};
use entity::{ci_class, relationship_type};

use super::{relationships::relationships_of, require_reader};

/// Which items a list shows; every field given must match.
#[derive(Default)]
pub struct ItemFilter {
    pub class_id: Option<i64>,
    pub status: Option<CiStatus>,
    pub organization_id: Option<i64>,
    pub service_id: Option<i64>,
    /// Every word must appear in the name.
    pub search: Option<String>,
    /// An attribute's value, compared as `attributes::filter_text` says.
    pub attribute: Option<(String, String)>,
}

/// A page of the items, a list by name, in fetch order.
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &ItemFilter,
    window: &Window,
) -> AppResult<Vec<ci::Model>> {
    let mut query = ci::Entity::find();
    if let Some(class) = filter.class_id {
        query = query.filter(ci::Column::ClassId.eq(class));
    }
    if let Some(status) = filter.status {
        query = query.filter(ci::Column::Status.eq(status));
    }
    if let Some(organization) = filter.organization_id {
        query = query.filter(ci::Column::OrganizationId.eq(organization));
    }
    if let Some(service) = filter.service_id {
        query = query.filter(ci::Column::ServiceId.eq(service));
    }
    if let Some(words) = filter.search.as_deref() {
        for word in words.split_whitespace().take(10) {
            let escaped = word
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            query = query.filter(
                Expr::col(ci::Column::NameLower)
                    .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
            );
        }
    }
    if let Some((name, value)) = &filter.attribute {
        query = query.filter(
            ci::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(ci_attribute_value::Column::ConfigurationItemId)
                    .from(ci_attribute_value::Entity)
                    .and_where(ci_attribute_value::Column::Name.eq(name.as_str()))
                    .and_where(ci_attribute_value::Column::Value.eq(attributes::filter_text(value)))
                    .to_owned(),
            ),
        );
    }
    // The list runs by name, then id; a cursor is an item's id, its name read back.
    let bound = |id: i64, argument: &'static str| async move {
        ci::Entity::find_by_id(id)
            .one(conn)
            .await?
            .ok_or_else(|| AppError::bad_input(argument, "that item is gone: start the list again"))
    };
    let past = |item: ci::Model, upward: bool| {
        let (name, id) = if upward {
            (
                ci::Column::NameLower.gt(item.name_lower.clone()),
                ci::Column::Id.gt(item.id),
            )
        } else {
            (
                ci::Column::NameLower.lt(item.name_lower.clone()),
                ci::Column::Id.lt(item.id),
            )
        };
        Condition::any().add(name).add(
            Condition::all()
                .add(ci::Column::NameLower.eq(item.name_lower))
                .add(id),
        )
    };
    if let Some(after) = window.after {
        query = query.filter(past(bound(after, "after").await?, true));
    }
    if let Some(before) = window.before {
        query = query.filter(past(bound(before, "before").await?, false));
    }
    let order = window.fetch_order(Order::Asc);
    Ok(query
        .order_by(ci::Column::NameLower, order.clone())
        .order_by(ci::Column::Id, order)
        .limit(window.fetch())
        .all(conn)
        .await?)
}

/// Each item's open tickets, newest first, for a page of items.
pub async fn open_tickets_by_item(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<ticket::Model>>> {
    let links = ticket_configuration_item::Entity::find()
        .filter(ticket_configuration_item::Column::ConfigurationItemId.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    let tickets: HashMap<i64, ticket::Model> = open_tickets_about(conn, ids)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut by_item: HashMap<i64, Vec<ticket::Model>> = HashMap::new();
    for link in links {
        if let Some(ticket) = tickets.get(&link.ticket_id) {
            by_item
                .entry(link.configuration_item_id)
                .or_default()
                .push(ticket.clone());
        }
    }
    for list in by_item.values_mut() {
        list.sort_by_key(|t| std::cmp::Reverse(t.id));
    }
    Ok(by_item)
}

/// The open tickets about any of `ids`, newest first.
pub async fn open_tickets_about(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<ticket::Model>> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(500) {
        rows.extend(
            ticket::Entity::find()
                .filter(
                    ticket::Column::Id.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(ticket_configuration_item::Column::TicketId)
                            .from(ticket_configuration_item::Entity)
                            .and_where(
                                ticket_configuration_item::Column::ConfigurationItemId
                                    .is_in(chunk.iter().copied()),
                            )
                            .to_owned(),
                    ),
                )
                .filter(ticket::Column::Status.is_in(Status::OPEN.iter().map(|s| s.as_str())))
                .all(conn)
                .await?,
        );
    }
    rows.sort_by_key(|t| std::cmp::Reverse(t.id));
    rows.dedup_by_key(|t| t.id);
    Ok(rows)
}

/// Each item's relationships, either way, for a page of items.
pub async fn relationships_by_item(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<ci_relationship::Model>>> {
    let mut by_item: HashMap<i64, Vec<ci_relationship::Model>> = HashMap::new();
    for edge in relationships_of(conn, ids).await? {
        for end in [edge.source_id, edge.target_id] {
            if ids.contains(&end) {
                by_item.entry(end).or_default().push(edge.clone());
            }
        }
    }
    Ok(by_item)
}

/// The configuration items each ticket is about, in one query.
pub async fn items_of_tickets(
    conn: &impl ConnectionTrait,
    ticket_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<ci::Model>>> {
    let links = ticket_configuration_item::Entity::find()
        .filter(ticket_configuration_item::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .all(conn)
        .await?;
    let items: HashMap<i64, ci::Model> = ci::Entity::find()
        .filter(ci::Column::Id.is_in(links.iter().map(|l| l.configuration_item_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|item| (item.id, item))
        .collect();
    let mut by_ticket: HashMap<i64, Vec<ci::Model>> = HashMap::new();
    for link in links {
        if let Some(item) = items.get(&link.configuration_item_id) {
            by_ticket
                .entry(link.ticket_id)
                .or_default()
                .push(item.clone());
        }
    }
    for items in by_ticket.values_mut() {
        items.sort_by(|a, b| a.name_lower.cmp(&b.name_lower));
    }
    Ok(by_ticket)
}

/// The classes, by name, with their attribute definitions.
///
/// # Errors
/// FORBIDDEN for anyone who may not read the CMDB.
pub async fn classes(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<ci_class::Model>> {
    require_reader(caller)?;
    Ok(ci_class::Entity::find()
        .order_by_asc(ci_class::Column::Name)
        .all(conn)
        .await?)
}

/// One class, if there is one with that id.
///
/// # Errors
/// FORBIDDEN for anyone who may not read the CMDB.
pub async fn class(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<Option<ci_class::Model>> {
    require_reader(caller)?;
    Ok(ci_class::Entity::find_by_id(id).one(conn).await?)
}

/// The ids of the classes whose items are business services: where impact analysis
/// says what the business feels.
pub async fn business_service_classes(conn: &impl ConnectionTrait) -> AppResult<Vec<i64>> {
    Ok(ci_class::Entity::find()
        .filter(ci_class::Column::BusinessService.eq(true))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// The relationship types, by name.
///
/// # Errors
/// FORBIDDEN for anyone who may not read the CMDB.
pub async fn relationship_types(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<relationship_type::Model>> {
    require_reader(caller)?;
    Ok(relationship_type::Entity::find()
        .order_by_asc(relationship_type::Column::Name)
        .all(conn)
        .await?)
}

/// The items delivering a catalog service, by name.
///
/// # Errors
/// FORBIDDEN for anyone who may not read the CMDB.
pub async fn items_of_service(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service_id: i64,
) -> AppResult<Vec<ci::Model>> {
    require_reader(caller)?;
    Ok(ci::Entity::find()
        .filter(ci::Column::ServiceId.eq(service_id))
        .order_by_asc(ci::Column::NameLower)
        .all(conn)
        .await?)
}

/// The item a discovery tool or partner system knows by `key`.
///
/// # Errors
/// FORBIDDEN for anyone who may not read the CMDB.
pub async fn item_by_key(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    key: &str,
) -> AppResult<Option<ci::Model>> {
    require_reader(caller)?;
    let key = crate::domain::input::identifier("externalKey", "the item's external key", key)?;
    Ok(ci::Entity::find()
        .filter(ci::Column::ExternalKey.eq(key))
        .one(conn)
        .await?)
}
