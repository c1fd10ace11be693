//! Impact analysis in the API: what a failure reaches, the business services and
//! catalog services it touches, and the graph around an item.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{Context, Object, SimpleObject};
use entity::configuration_item as ci;

use crate::{
    domain::cmdb::{
        self,
        impact::{self, MAX_DEPTH},
    },
    error::{AppError, AppResult},
    graphql::{caller, catalog::Service, loaders, state, tickets::Ticket},
};

use super::{CiClass, CiRelationship, ConfigurationItem, visible_tickets};

/// An item reached by impact analysis.
pub struct ImpactedItem {
    reached: impact::Reached,
    items: Arc<HashMap<i64, ci::Model>>,
}

/// An item affected by a failure, with how it is reached.
#[Object]
impl ImpactedItem {
    /// The affected item.
    async fn configuration_item(&self) -> AppResult<ConfigurationItem> {
        self.items
            .get(&self.reached.id)
            .cloned()
            .map(ConfigurationItem)
            .ok_or_else(|| AppError::Internal(format!("item {} is gone", self.reached.id)))
    }
    /// Steps from the failed item: 1 for a direct dependant.
    async fn depth(&self) -> i32 {
        self.reached.depth as i32
    }
    /// A shortest path from the failed item to this one, both included.
    async fn path(&self) -> Vec<ConfigurationItem> {
        self.reached
            .path
            .iter()
            .filter_map(|id| self.items.get(id).cloned().map(ConfigurationItem))
            .collect()
    }
    /// How each step of the path relates, e.g. ["depends on", "runs on"]: read
    /// "<next> <label> <previous>".
    async fn via(&self) -> &[String] {
        &self.reached.via
    }
}

pub struct Impact {
    affected: Vec<ImpactedItem>,
    truncated: bool,
    /// The failed items and all affected ones.
    all_ids: Vec<i64>,
    items: Arc<HashMap<i64, ci::Model>>,
}

impl Impact {
    pub async fn of(ctx: &Context<'_>, failed: &[i64], depth: u32) -> AppResult<Impact> {
        let analysis = impact::analyse(state(ctx).db.conn(), failed, depth).await?;
        let items = Arc::new(analysis.items);
        let mut all_ids: Vec<i64> = failed.to_vec();
        all_ids.extend(analysis.reached.iter().map(|r| r.id));
        Ok(Impact {
            affected: analysis
                .reached
                .into_iter()
                .map(|reached| ImpactedItem {
                    reached,
                    items: items.clone(),
                })
                .collect(),
            truncated: analysis.truncated,
            all_ids,
            items,
        })
    }
}

/// What suffers when configuration items fail.
#[Object]
impl Impact {
    /// Every item that depends on the failed ones, nearest first, each once.
    async fn affected(&self) -> &[ImpactedItem] {
        &self.affected
    }
    /// How many items are affected.
    async fn affected_count(&self) -> i32 {
        self.affected.len() as i32
    }
    /// The affected items whose class is a business service.
    async fn business_services(&self, ctx: &Context<'_>) -> AppResult<Vec<&ImpactedItem>> {
        let classes = cmdb::business_service_classes(state(ctx).db.conn()).await?;
        Ok(self
            .affected
            .iter()
            .filter(|a| {
                self.items
                    .get(&a.reached.id)
                    .is_some_and(|item| classes.contains(&item.class_id))
            })
            .collect())
    }
    /// The catalog services delivered by the failed or affected items.
    async fn services(&self, ctx: &Context<'_>) -> AppResult<Vec<Service>> {
        let mut service_ids: Vec<i64> = self
            .all_ids
            .iter()
            .filter_map(|id| self.items.get(id).and_then(|i| i.service_id))
            .collect();
        service_ids.sort_unstable();
        service_ids.dedup();
        let found = ctx
            .data_unchecked::<loaders::Services>()
            .load_many(service_ids.iter().copied())
            .await?;
        let mut services: Vec<_> = found.into_values().collect();
        services.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(services.into_iter().map(Service).collect())
    }
    /// Open tickets about the failed or affected items, that the caller may see.
    async fn open_tickets(&self, ctx: &Context<'_>) -> AppResult<Vec<Ticket>> {
        visible_tickets(ctx, &self.all_ids).await
    }
    /// Changes not yet finished that touch the failed or affected items.
    async fn open_changes(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::changes::Change>> {
        crate::graphql::changes::open_changes_touching(ctx, &self.all_ids).await
    }
    /// More items lie beyond the depth limit.
    async fn truncated(&self) -> bool {
        self.truncated
    }
}

pub async fn items_of_ticket(
    ctx: &Context<'_>,
    ticket_id: i64,
) -> AppResult<Vec<ConfigurationItem>> {
    cmdb::require_reader(caller(ctx))?;
    let rows = ctx
        .data_unchecked::<loaders::TicketItems>()
        .load_one(ticket_id)
        .await?
        .unwrap_or_default();
    Ok(rows.into_iter().map(ConfigurationItem).collect())
}

pub async fn impact_of_ticket(
    ctx: &Context<'_>,
    ticket_id: i64,
    max_depth: i32,
) -> AppResult<Impact> {
    cmdb::require_reader(caller(ctx))?;
    let depth = impact::check_depth("maxDepth", max_depth, MAX_DEPTH)?;
    let items = ctx
        .data_unchecked::<loaders::TicketItems>()
        .load_one(ticket_id)
        .await?
        .unwrap_or_default();
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    Impact::of(ctx, &ids, depth).await
}

/// The configuration items delivering a catalog service.
pub async fn items_of_service(
    ctx: &Context<'_>,
    service_id: i64,
) -> AppResult<Vec<ConfigurationItem>> {
    let rows = cmdb::items_delivering(state(ctx).db.conn(), caller(ctx), service_id).await?;
    Ok(rows.into_iter().map(ConfigurationItem).collect())
}

/// An item in a graph, with its distance from the start.
#[derive(SimpleObject)]
pub struct CiGraphNode {
    /// The item.
    pub configuration_item: ConfigurationItem,
    /// Relationships between it and the centre.
    pub distance: i32,
}

/// The items around one item and the relationships between them, ready to draw.
#[derive(SimpleObject)]
pub struct CiGraph {
    /// The items, each with its distance from the start.
    pub nodes: Vec<CiGraphNode>,
    /// The relationships between the items.
    pub edges: Vec<CiRelationship>,
    /// The drawing was cut at 1,000 items.
    pub truncated: bool,
}

pub async fn load_node(
    ctx: &Context<'_>,
    type_name: &str,
    id: i64,
) -> AppResult<crate::graphql::node::Node> {
    cmdb::require_reader(caller(ctx))?;
    let conn = state(ctx).db.conn();
    let gone = || AppError::NotFound("nothing has that id".into());
    Ok(match type_name {
        "ConfigurationItem" => crate::graphql::node::Node::ConfigurationItem(ConfigurationItem(
            cmdb::find(conn, id).await?,
        )),
        _ => crate::graphql::node::Node::CiClass(CiClass(
            cmdb::class(conn, caller(ctx), id).await?.ok_or_else(gone)?,
        )),
    })
}
