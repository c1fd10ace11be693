//! The CMDB: classes, configuration items, relationships, impact analysis, bulk import.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{Context, Enum, ID, InputObject, Json, MaybeUndefined, Object, SimpleObject};
use entity::{ci_class, ci_relationship, configuration_item as ci, relationship_type};
use serde_json::{Map, Value};

use crate::domain::cmdb::types as vocabulary;
use crate::graphql::instant::Instant;
use crate::{
    domain::{
        cmdb::{
            self, ClassFields, Draft, ItemChanges, ItemFilter, RelationshipTypeFields,
            attributes::{AttributeDefinition, AttributeKind},
            impact::{self, MAX_DEPTH, MAX_GRAPH_DEPTH},
            import::{self, ImportFile, ItemRow, RelationshipRow, Section},
        },
        desk::require_admin,
        events,
        tickets::{
            commands,
            queries::{self, TicketFilter},
            types::Status,
        },
    },
    error::{AppError, AppResult},
    graphql::{
        caller,
        catalog::Service,
        desk::{Group, Organization},
        ids, loaders, now,
        pagination::{self, Page, PageArgs},
        state, ticket_scope,
        tickets::{HistoryEntry, Ticket, TicketOrder, TicketPayload},
    },
};

/// The lifecycle of a configuration item.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::CiStatus")]
pub enum CiStatus {
    /// Not yet in service.
    Planned,
    /// In service.
    Active,
    /// Under maintenance.
    Maintenance,
    /// Out of service; kept for the record.
    Retired,
}

/// The kind of value a configuration-item attribute holds.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "AttributeKind")]
pub enum CiAttributeKind {
    /// Text.
    String,
    /// A number.
    Number,
    /// true or false.
    Boolean,
    /// A calendar date, YYYY-MM-DD.
    Date,
    /// One of the definition's choices.
    Enum,
    /// Another configuration item, by its external key.
    Reference,
}

/// Whose failure reaches whom along a relationship.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::ImpactDirection")]
pub enum ImpactDirection {
    /// The source suffers when the target fails (an application depends on its database).
    ToSource,
    /// Either end suffers when the other fails.
    Both,
    /// Neither: the relationship is for information.
    None,
}

/// One attribute items of a class carry.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "CiAttributeDefinitionInput")]
pub struct CiAttributeDefinition {
    /// The attribute's name, as used in `attributes` JSON.
    pub name: String,
    /// The kind of value it holds.
    pub kind: CiAttributeKind,
    /// Every item of the class must give it.
    #[graphql(default)]
    pub required: bool,
    /// ENUM: the allowed values.
    #[graphql(default)]
    pub choices: Vec<String>,
    /// REFERENCE: the class the referenced item must have, if any.
    pub reference_class_id: Option<ID>,
}

impl From<AttributeDefinition> for CiAttributeDefinition {
    fn from(d: AttributeDefinition) -> Self {
        CiAttributeDefinition {
            name: d.name,
            kind: d.kind.into(),
            required: d.required,
            choices: d.choices,
            reference_class_id: d.reference_class_id.map(|id| ids::encode("CiClass", id)),
        }
    }
}

/// A kind of configuration item.
pub struct CiClass(pub ci_class::Model);

/// A kind of configuration item (Server, Database, Application…), with the attributes its
/// items carry.
#[Object]
impl CiClass {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("CiClass", self.0.id)
    }
    /// The class name, e.g. "Server".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What items of this class are.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Its items are business services: impact analysis lists them as such.
    async fn business_service(&self) -> bool {
        self.0.business_service
    }
    /// The attributes its items carry.
    async fn attributes(&self) -> AppResult<Vec<CiAttributeDefinition>> {
        Ok(cmdb::definitions(&self.0)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

pub struct RelationshipType(pub relationship_type::Model);

/// A kind of relationship between configuration items, e.g. "runs on", with the way failure
/// spreads along it.
#[Object]
impl RelationshipType {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    async fn id(&self) -> ID {
        ids::encode("RelationshipType", self.0.id)
    }
    /// DEPENDS_ON, RUNS_ON, PART_OF, CONNECTS_TO, or one an admin added.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Read from source to target: "depends on".
    async fn forward_label(&self) -> &str {
        &self.0.forward_label
    }
    /// Read from target to source: "used by".
    async fn reverse_label(&self) -> &str {
        &self.0.reverse_label
    }
    /// Which way failure spreads along relationships of this type.
    async fn impact(&self) -> AppResult<ImpactDirection> {
        vocabulary::ImpactDirection::stored(&self.0.impact).map(Into::into)
    }
}

/// Something the desk manages and that can fail.
pub struct ConfigurationItem(pub ci::Model);

/// Something the CMDB tracks (a server, database, application…), with its attributes and
/// relationships.
#[Object]
impl ConfigurationItem {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("ConfigurationItem", self.0.id)
    }
    /// Its name, unique within nothing: use the id or external key to tell items apart.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its class, which decides its attributes.
    async fn class(&self, ctx: &Context<'_>) -> AppResult<CiClass> {
        ctx.data_unchecked::<loaders::CiClasses>()
            .load_one(self.0.class_id)
            .await?
            .map(CiClass)
            .ok_or_else(|| AppError::Internal(format!("class {} is gone", self.0.class_id)))
    }
    /// Its lifecycle status.
    async fn status(&self) -> AppResult<CiStatus> {
        vocabulary::CiStatus::stored(&self.0.status).map(Into::into)
    }
    /// PRODUCTION, STAGING, TEST… as free text.
    async fn environment(&self) -> &str {
        &self.0.environment
    }
    /// The group responsible for it.
    async fn owner_group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        loaders::group(ctx, self.0.owner_group_id).await
    }
    /// The organization it belongs to, if any.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Option<Organization>> {
        match self.0.organization_id {
            Some(id) => Ok(ctx
                .data_unchecked::<loaders::Organizations>()
                .load_one(id)
                .await?
                .map(Organization)),
            None => Ok(None),
        }
    }
    /// The catalog service it delivers or represents.
    async fn service(&self, ctx: &Context<'_>) -> AppResult<Option<Service>> {
        match self.0.service_id {
            Some(id) => Ok(ctx
                .data_unchecked::<loaders::Services>()
                .load_one(id)
                .await?
                .map(Service)),
            None => Ok(None),
        }
    }
    /// Attribute values by name.
    async fn attributes(&self) -> Json<Value> {
        Json(self.0.attributes.clone())
    }
    /// The key a discovery tool or partner system knows it by.
    async fn external_key(&self) -> Option<&str> {
        self.0.external_key.as_deref()
    }
    /// Send it back with a change: a stale one is refused with CONFLICT.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When it last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
    /// Its relationships, both ways.
    async fn relationships(&self, ctx: &Context<'_>) -> AppResult<Vec<CiRelationship>> {
        let rows = loaders::children_of::<loaders::RelationshipsByItem, _>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(CiRelationship).collect())
    }
    /// The open tickets about it that the caller may see, newest first unless
    /// `orderBy` says otherwise.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn open_tickets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Newest first unless given.")] order_by: Option<TicketOrder>,
        #[graphql(
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(
            desc = "How many items to take from the end of the list (before `before`), 0 to 100. Pass `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<Ticket>> {
        let page = PageArgs::new(first, after, last, before);
        let first_page = page.after.is_none() && page.before.is_none() && order_by.is_none();
        if first_page {
            // The first page of each item in a list comes from one batched load of
            // their open tickets, checked against the caller's scope row by row.
            let window = page.texts()?;
            let scope = ticket_scope(ctx).await?;
            let mut rows: Vec<_> =
                loaders::children_of::<loaders::OpenTicketsByItem, _>(ctx, self.0.id)
                    .await?
                    .into_iter()
                    .filter(|row| scope.allows(row))
                    .collect();
            if window.from_end {
                rows.reverse();
            }
            rows.truncate(window.fetch() as usize);
            let sort = TicketOrder::default().into_domain();
            return Ok(pagination::connection_with(
                &window,
                rows,
                |row| queries::cursor_of(row, sort),
                Ticket,
            ));
        }
        let filter = TicketFilter {
            configuration_item_ids: vec![self.0.id],
            statuses: Status::OPEN.to_vec(),
            ..Default::default()
        };
        crate::graphql::tickets::ticket_page(ctx, filter, order_by, page).await
    }
    /// What suffers when it fails: every item that depends on it, transitively, with
    /// the shortest path; the business services among them; the catalog services they
    /// deliver; and the open tickets about any of them.
    async fn impact(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 10,
            desc = "How far to follow dependencies, 1 to the server's limit."
        )]
        max_depth: i32,
    ) -> AppResult<Impact> {
        let depth = impact::check_depth("maxDepth", max_depth, MAX_DEPTH)?;
        Impact::of(ctx, &[self.0.id], depth).await
    }
    /// The items within `depth` relationships of it, either way, and the relationships
    /// between them: ready to draw.
    async fn graph(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 2,
            desc = "How many relationships to follow, either way, 1 to the server's limit."
        )]
        depth: i32,
    ) -> AppResult<CiGraph> {
        let depth = impact::check_depth("depth", depth, MAX_GRAPH_DEPTH)?;
        let graph = impact::graph(state(ctx).db.conn(), self.0.id, depth).await?;
        Ok(CiGraph {
            nodes: graph
                .nodes
                .into_iter()
                .map(|(item, distance)| CiGraphNode {
                    configuration_item: ConfigurationItem(item),
                    distance: distance as i32,
                })
                .collect(),
            edges: graph.edges.into_iter().map(CiRelationship).collect(),
            truncated: graph.truncated,
        })
    }
    /// The changes that touch it, newest first.
    async fn changes(&self, ctx: &Context<'_>) -> AppResult<Vec<crate::graphql::changes::Change>> {
        crate::graphql::changes::changes_of_item(ctx, self.0.id).await
    }
    /// Every change to it, oldest first: `ci.created`, `ci.updated`, `ci.related`,
    /// `ci.unrelated`.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(
            desc = "How many items to take from the end of the list (before `before`), 0 to 100. Pass `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<HistoryEntry>> {
        let page = PageArgs::new(first, after, last, before).keyed_or(50)?;
        let rows = events::history_of(state(ctx).db.conn(), "configuration_item", self.0.id, &page)
            .await?;
        Ok(pagination::connection(&page, rows, |e| e.id, HistoryEntry))
    }
}

async fn visible_tickets(ctx: &Context<'_>, item_ids: &[i64]) -> AppResult<Vec<Ticket>> {
    let scope = ticket_scope(ctx).await?;
    let rows = cmdb::open_tickets_about(state(ctx).db.conn(), item_ids).await?;
    Ok(rows
        .into_iter()
        .filter(|row| scope.allows(row))
        .map(Ticket)
        .collect())
}

pub struct CiRelationship(pub ci_relationship::Model);

/// A directed relationship between two configuration items, e.g. an application runs on a
/// server.
#[Object]
impl CiRelationship {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    async fn id(&self) -> ID {
        ids::encode("CiRelationship", self.0.id)
    }
    /// What the relationship means, and which way failure spreads along it.
    async fn r#type(&self, ctx: &Context<'_>) -> AppResult<RelationshipType> {
        ctx.data_unchecked::<loaders::RelationshipTypes>()
            .load_one(self.0.type_id)
            .await?
            .map(RelationshipType)
            .ok_or_else(|| AppError::Internal("relationship type is gone".into()))
    }
    /// The item at the arrow's tail (e.g. the application that runs on a server).
    async fn source(&self, ctx: &Context<'_>) -> AppResult<ConfigurationItem> {
        item(ctx, self.0.source_id).await
    }
    /// The item at the arrow's head (e.g. the server).
    async fn target(&self, ctx: &Context<'_>) -> AppResult<ConfigurationItem> {
        item(ctx, self.0.target_id).await
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}

async fn item(ctx: &Context<'_>, id: i64) -> AppResult<ConfigurationItem> {
    ctx.data_unchecked::<loaders::ConfigurationItems>()
        .load_one(id)
        .await?
        .map(ConfigurationItem)
        .ok_or_else(|| AppError::Internal(format!("configuration item {id} is gone")))
}

/// Loads the relations the page selected for all its rows at once, so that a page
/// costs the same statements whatever its size (not left to the batching timer).
async fn prime_relations(ctx: &Context<'_>, rows: &[ci::Model]) -> AppResult<()> {
    let look = ctx.look_ahead();
    let selected = |field: &str| {
        look.field("nodes").field(field).exists()
            || look.field("edges").field("node").field(field).exists()
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    if selected("relationships") {
        let edges = ctx
            .data_unchecked::<loaders::ItemRelationships>()
            .load_many(ids.clone())
            .await?;
        let edges = edges.values().flatten();
        let ends: Vec<i64> = edges
            .clone()
            .flat_map(|e| [e.source_id, e.target_id])
            .collect();
        let types: Vec<i64> = edges.map(|e| e.type_id).collect();
        ctx.data_unchecked::<loaders::ConfigurationItems>()
            .load_many(ends)
            .await?;
        ctx.data_unchecked::<loaders::RelationshipTypes>()
            .load_many(types)
            .await?;
    }
    if selected("openTickets") {
        ctx.data_unchecked::<loaders::ItemOpenTickets>()
            .load_many(ids.clone())
            .await?;
    }
    if selected("changes") {
        ctx.data_unchecked::<loaders::ItemChanges>()
            .load_many(ids.clone())
            .await?;
    }
    if selected("class") {
        let classes: Vec<i64> = rows.iter().map(|r| r.class_id).collect();
        ctx.data_unchecked::<loaders::CiClasses>()
            .load_many(classes)
            .await?;
    }
    if selected("ownerGroup") {
        let groups: Vec<i64> = rows.iter().filter_map(|r| r.owner_group_id).collect();
        ctx.data_unchecked::<loaders::Groups>()
            .load_many(groups)
            .await?;
    }
    Ok(())
}

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
) -> AppResult<super::node::Node> {
    cmdb::require_reader(caller(ctx))?;
    let conn = state(ctx).db.conn();
    let gone = || AppError::NotFound("nothing has that id".into());
    Ok(match type_name {
        "ConfigurationItem" => {
            super::node::Node::ConfigurationItem(ConfigurationItem(cmdb::find(conn, id).await?))
        }
        _ => super::node::Node::CiClass(CiClass(
            cmdb::class(conn, caller(ctx), id).await?.ok_or_else(gone)?,
        )),
    })
}

/// Items whose attribute has a value.
#[derive(InputObject, Default)]
pub struct CiAttributeFilter {
    /// The attribute's name.
    pub name: String,
    /// Compared without regard to case; numbers by value ("16" finds 16.0).
    pub value: String,
}

/// Which configuration items to list; every condition given must hold.
#[derive(InputObject, Default)]
pub struct ConfigurationItemFilter {
    /// Only items of this class.
    pub class_id: Option<ID>,
    /// Only items in this status.
    pub status: Option<CiStatus>,
    /// Only items of this organization.
    pub organization_id: Option<ID>,
    /// Only items of this service.
    pub service_id: Option<ID>,
    /// Words that must all appear in the name.
    pub search: Option<String>,
    /// Only items whose attribute has this value.
    pub attribute: Option<CiAttributeFilter>,
}

#[derive(Default)]
pub struct CmdbQuery;

#[Object]
impl CmdbQuery {
    /// Configuration item classes with their attributes. Agents.
    async fn ci_classes(&self, ctx: &Context<'_>) -> AppResult<Vec<CiClass>> {
        let rows = cmdb::classes(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(CiClass).collect())
    }

    /// The kinds of relationship between configuration items. Agents.
    async fn relationship_types(&self, ctx: &Context<'_>) -> AppResult<Vec<RelationshipType>> {
        let rows = cmdb::relationship_types(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(RelationshipType).collect())
    }

    /// Configuration items by name, filtered.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(1) as usize * child_complexity")]
    async fn configuration_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Which items to list; all when left out.")]
        filter: ConfigurationItemFilter,
        #[graphql(
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(
            desc = "How many items to take from the end of the list (before `before`), 0 to 100. Pass `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<ConfigurationItem>> {
        cmdb::require_reader(caller(ctx))?;
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let filter = ItemFilter {
            class_id: ids::decode_opt(filter.class_id, "CiClass", "filter.classId")?,
            status: filter.status.map(Into::into),
            organization_id: ids::decode_opt(
                filter.organization_id,
                "Organization",
                "filter.organizationId",
            )?,
            service_id: ids::decode_opt(filter.service_id, "Service", "filter.serviceId")?,
            search: filter.search,
            attribute: filter.attribute.map(|a| (a.name, a.value)),
        };
        let rows = cmdb::list(state(ctx).db.conn(), &filter, &page).await?;
        prime_relations(ctx, &rows).await?;
        Ok(pagination::connection(
            &page,
            rows,
            |c| c.id,
            ConfigurationItem,
        ))
    }

    /// The item a discovery tool or partner system knows by this key.
    async fn configuration_item_by_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key the item was imported or created with.")] external_key: String,
    ) -> AppResult<Option<ConfigurationItem>> {
        Ok(
            cmdb::item_by_key(state(ctx).db.conn(), caller(ctx), &external_key)
                .await?
                .map(ConfigurationItem),
        )
    }
}

/// What `saveCiClass` takes.
#[derive(InputObject)]
pub struct SaveCiClassInput {
    /// The id of the ci class to change; leave it out to create one.
    pub id: Option<ID>,
    /// The class name, e.g. "Server".
    pub name: String,
    /// What items of this class are.
    #[graphql(default)]
    pub description: String,
    /// Its items are business services: impact analysis lists them as such.
    #[graphql(default)]
    pub business_service: bool,
    /// The attributes its items carry.
    #[graphql(default)]
    pub attributes: Vec<CiAttributeDefinition>,
}

/// What a mutation on a configuration item class returns: the class as it is after the change.
#[derive(SimpleObject)]
pub struct CiClassPayload {
    /// The ci class as it is after the change.
    pub ci_class: CiClass,
}

/// What `saveRelationshipType` takes.
#[derive(InputObject)]
pub struct SaveRelationshipTypeInput {
    /// The id of the relationship type to change; leave it out to create one.
    pub id: Option<ID>,
    /// Stored upper-case with underscores: "Backs up" becomes BACKS_UP.
    pub name: String,
    /// How the relationship reads from source to target, e.g. "runs on".
    pub forward_label: String,
    /// How it reads from target to source, e.g. "hosts".
    pub reverse_label: String,
    /// Which way failure spreads along relationships of this type.
    #[graphql(default_with = "ImpactDirection::ToSource")]
    pub impact: ImpactDirection,
}

/// What a mutation on a relationship type returns: the type as it is after the change.
#[derive(SimpleObject)]
pub struct RelationshipTypePayload {
    /// The relationship type as it is after the change.
    pub relationship_type: RelationshipType,
}

/// What `createConfigurationItem` takes.
#[derive(InputObject)]
pub struct CreateConfigurationItemInput {
    /// The id of the class.
    pub class_id: ID,
    /// Its name, unique within nothing: use the id or external key to tell items apart.
    pub name: String,
    /// Its lifecycle status.
    #[graphql(default_with = "CiStatus::Active")]
    pub status: CiStatus,
    /// PRODUCTION, STAGING, TEST…: free text, up to 50 characters.
    #[graphql(default)]
    pub environment: String,
    /// The id of the owner group.
    pub owner_group_id: Option<ID>,
    /// The id of the organization.
    pub organization_id: Option<ID>,
    /// The id of the service.
    pub service_id: Option<ID>,
    /// Values by attribute name, checked against the class.
    #[graphql(default)]
    pub attributes: Json<Map<String, Value>>,
    /// The key a discovery tool or partner system knows it by, unique; imports match on it.
    pub external_key: Option<String>,
}

/// What `updateConfigurationItem` takes.
#[derive(InputObject)]
pub struct UpdateConfigurationItemInput {
    /// The id of the configuration item.
    pub id: ID,
    /// The version you read.
    pub version: i32,
    /// The id of the class.
    pub class_id: Option<ID>,
    /// Its name, unique within nothing: use the id or external key to tell items apart.
    pub name: Option<String>,
    /// Its lifecycle status.
    pub status: Option<CiStatus>,
    /// PRODUCTION, STAGING, TEST… as free text.
    pub environment: Option<String>,
    /// Null clears it.
    pub owner_group_id: MaybeUndefined<ID>,
    /// The id of the organization.
    pub organization_id: MaybeUndefined<ID>,
    /// The id of the service.
    pub service_id: MaybeUndefined<ID>,
    /// Replaces all attribute values.
    pub attributes: Option<Json<Map<String, Value>>>,
    /// The key a discovery tool or partner system knows it by.
    pub external_key: MaybeUndefined<String>,
}

/// What a mutation on a configuration item returns: the item as it is after the change.
#[derive(SimpleObject)]
pub struct ConfigurationItemPayload {
    /// The configuration item as it is after the change.
    pub configuration_item: ConfigurationItem,
}

/// What `relateConfigurationItems` takes.
#[derive(InputObject)]
pub struct RelateConfigurationItemsInput {
    /// The id of the source.
    pub source_id: ID,
    /// The id of the target.
    pub target_id: ID,
    /// A relationship type's name: "source DEPENDS_ON target".
    pub r#type: String,
}

/// What relating configuration items returns: the relationship made.
#[derive(SimpleObject)]
pub struct CiRelationshipPayload {
    /// The relationship as it is after the change.
    pub relationship: CiRelationship,
}

/// One item of an import, matched on its external key.
#[derive(InputObject)]
pub struct CiImportItem {
    /// What the item is matched by: rows with a stored key update that item.
    pub external_key: String,
    /// The class's name, e.g. "Server".
    pub class: String,
    /// The item's name.
    pub name: String,
    /// Its lifecycle status.
    #[graphql(default_with = "CiStatus::Active")]
    pub status: CiStatus,
    /// PRODUCTION, STAGING, TEST… as free text.
    #[graphql(default)]
    pub environment: String,
    /// Names, not ids: what a discovery tool knows.
    pub owner_group: Option<String>,
    /// The owning organization's name, if any.
    pub organization: Option<String>,
    /// The name of the service it belongs to, if any.
    pub service: Option<String>,
    /// Attribute values by name, checked against the class.
    #[graphql(default)]
    pub attributes: Json<Map<String, Value>>,
}

/// One relationship of an import, between items named by external key.
#[derive(InputObject)]
pub struct CiImportRelationship {
    /// External keys of the two ends, in this batch or already stored.
    pub source: String,
    /// The external key of the item at the arrow's head.
    pub target: String,
    /// A relationship type's name, e.g. DEPENDS_ON.
    pub r#type: String,
}

/// What `importConfigurationItems` takes.
#[derive(InputObject)]
pub struct ImportConfigurationItemsInput {
    /// The items to create or update, matched on external key.
    #[graphql(default)]
    pub items: Vec<CiImportItem>,
    /// The relationships to make between items, by external key.
    #[graphql(default)]
    pub relationships: Vec<CiImportRelationship>,
    /// When some rows are rejected: false (the default) writes nothing; true writes
    /// the valid rows.
    #[graphql(default)]
    pub apply_valid: bool,
}

/// Which list of an import a row was in.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ImportSection {
    /// The items.
    Items,
    /// The relationships.
    Relationships,
}

/// An import row refused, and why.
#[derive(SimpleObject)]
pub struct ImportRejection {
    /// Which list the row was in.
    pub section: ImportSection,
    /// The row's position in its list, from 0.
    pub row: i32,
    /// The rejected row's external key.
    pub external_key: Option<String>,
    /// The field at fault, e.g. `attributes.cpus`.
    pub field: String,
    /// Why it was rejected.
    pub reason: String,
}

/// What an import did: counts of items and relationships, and the rows it refused.
#[derive(SimpleObject)]
pub struct ImportReport {
    /// Whether anything was written.
    pub applied: bool,
    /// Items created.
    pub created: i32,
    /// Items changed.
    pub updated: i32,
    /// Items that matched the file already.
    pub unchanged: i32,
    /// Relationships created.
    pub relationships_created: i32,
    /// Relationships that existed already.
    pub relationships_unchanged: i32,
    /// Rows refused, with the reason; any rejection stops the whole batch.
    pub rejected: Vec<ImportRejection>,
}

impl From<import::Report> for ImportReport {
    fn from(report: import::Report) -> Self {
        ImportReport {
            applied: report.applied,
            created: report.created as i32,
            updated: report.updated as i32,
            unchanged: report.unchanged as i32,
            relationships_created: report.relationships_created as i32,
            relationships_unchanged: report.relationships_unchanged as i32,
            rejected: report
                .rejected
                .into_iter()
                .map(|r| ImportRejection {
                    section: match r.section {
                        Section::Items => ImportSection::Items,
                        Section::Relationships => ImportSection::Relationships,
                    },
                    row: r.row as i32,
                    external_key: r.external_key,
                    field: r.field,
                    reason: r.reason,
                })
                .collect(),
        }
    }
}

/// What `setTicketConfigurationItems` takes.
#[derive(InputObject)]
pub struct SetTicketConfigurationItemsInput {
    /// The id of the ticket.
    pub ticket_id: ID,
    /// The version you read.
    pub version: i32,
    /// The whole set: items left out are unlinked.
    pub configuration_item_ids: Vec<ID>,
}

#[derive(Default)]
pub struct CmdbMutation;

#[Object]
impl CmdbMutation {
    /// Adds a class (no id) or redefines one. Admins only.
    async fn save_ci_class(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: SaveCiClassInput,
    ) -> AppResult<CiClassPayload> {
        require_admin(caller(ctx))?;
        let attributes = input
            .attributes
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                Ok(AttributeDefinition {
                    name: a.name,
                    kind: a.kind.into(),
                    required: a.required,
                    choices: a.choices,
                    reference_class_id: ids::decode_opt(
                        a.reference_class_id,
                        "CiClass",
                        &format!("attributes.{i}.referenceClassId"),
                    )?,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let fields = ClassFields {
            name: input.name,
            description: input.description,
            business_service: input.business_service,
            attributes,
        };
        let id = ids::decode_opt(input.id, "CiClass", "id")?;
        Ok(CiClassPayload {
            ci_class: CiClass(cmdb::save_class(&state(ctx).db, now(ctx), id, fields).await?),
        })
    }

    /// Adds a relationship type (no id) or changes one. Admins only.
    async fn save_relationship_type(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SaveRelationshipTypeInput,
    ) -> AppResult<RelationshipTypePayload> {
        require_admin(caller(ctx))?;
        let fields = RelationshipTypeFields {
            name: input.name,
            forward_label: input.forward_label,
            reverse_label: input.reverse_label,
            impact: input.impact.into(),
        };
        let id = ids::decode_opt(input.id, "RelationshipType", "id")?;
        Ok(RelationshipTypePayload {
            relationship_type: RelationshipType(
                cmdb::save_relationship_type(&state(ctx).db, now(ctx), id, fields).await?,
            ),
        })
    }

    /// Admins, and tokens with `cmdb:write`.
    async fn create_configuration_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: CreateConfigurationItemInput,
    ) -> AppResult<ConfigurationItemPayload> {
        let draft = Draft {
            class_id: ids::decode_as(&input.class_id, "CiClass", "classId")?,
            name: input.name,
            status: input.status.into(),
            environment: input.environment,
            owner_group_id: ids::decode_opt(input.owner_group_id, "Group", "ownerGroupId")?,
            organization_id: ids::decode_opt(
                input.organization_id,
                "Organization",
                "organizationId",
            )?,
            service_id: ids::decode_opt(input.service_id, "Service", "serviceId")?,
            attributes: input.attributes.0,
            external_key: input.external_key,
        };
        let row = cmdb::create_item(&state(ctx).db, caller(ctx), now(ctx), draft).await?;
        Ok(ConfigurationItemPayload {
            configuration_item: ConfigurationItem(row),
        })
    }

    /// Admins, and tokens with `cmdb:write`.
    async fn update_configuration_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: UpdateConfigurationItemInput,
    ) -> AppResult<ConfigurationItemPayload> {
        let id = ids::decode_as(&input.id, "ConfigurationItem", "id")?;
        let changes = ItemChanges {
            class_id: ids::decode_opt(input.class_id, "CiClass", "classId")?,
            name: input.name,
            status: input.status.map(Into::into),
            environment: input.environment,
            owner_group_id: ids::decode_maybe(input.owner_group_id, "Group", "ownerGroupId")?,
            organization_id: ids::decode_maybe(
                input.organization_id,
                "Organization",
                "organizationId",
            )?,
            service_id: ids::decode_maybe(input.service_id, "Service", "serviceId")?,
            attributes: input.attributes.map(|a| a.0),
            external_key: ids::change_of(input.external_key),
        };
        let row = cmdb::update_item(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            id,
            input.version,
            changes,
        )
        .await?;
        Ok(ConfigurationItemPayload {
            configuration_item: ConfigurationItem(row),
        })
    }

    /// Admins, and tokens with `cmdb:write`.
    async fn relate_configuration_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: RelateConfigurationItemsInput,
    ) -> AppResult<CiRelationshipPayload> {
        let source = ids::decode_as(&input.source_id, "ConfigurationItem", "sourceId")?;
        let target = ids::decode_as(&input.target_id, "ConfigurationItem", "targetId")?;
        let row = cmdb::relate(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            source,
            target,
            &input.r#type,
        )
        .await?;
        Ok(CiRelationshipPayload {
            relationship: CiRelationship(row),
        })
    }

    /// Removes a relationship; returns it as it was.
    async fn unrelate_configuration_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relationship's id.")] relationship_id: ID,
    ) -> AppResult<CiRelationshipPayload> {
        let id = ids::decode_as(&relationship_id, "CiRelationship", "relationshipId")?;
        let row = cmdb::unrelate(&state(ctx).db, caller(ctx), now(ctx), id).await?;
        Ok(CiRelationshipPayload {
            relationship: CiRelationship(row),
        })
    }

    /// Upserts many items and relationships by external key, for discovery tools and
    /// partner systems. Every row is checked first; with rejected rows nothing is
    /// written unless `applyValid` is true. Admins, and tokens with `cmdb:write`.
    async fn import_configuration_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: ImportConfigurationItemsInput,
    ) -> AppResult<ImportReport> {
        let file = ImportFile {
            items: input
                .items
                .into_iter()
                .map(|row| ItemRow {
                    external_key: row.external_key,
                    class: row.class,
                    name: row.name,
                    status: vocabulary::CiStatus::from(row.status).into(),
                    environment: row.environment,
                    owner_group: row.owner_group,
                    organization: row.organization,
                    service: row.service,
                    attributes: row.attributes.0,
                })
                .collect(),
            relationships: input
                .relationships
                .into_iter()
                .map(|row| RelationshipRow {
                    source: row.source,
                    target: row.target,
                    kind: row.r#type,
                })
                .collect(),
        };
        let report = import::run(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            file,
            input.apply_valid,
        )
        .await?;
        Ok(report.into())
    }

    /// Sets the configuration items a ticket is about. Agents and `tickets:write` tokens.
    async fn set_ticket_configuration_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SetTicketConfigurationItemsInput,
    ) -> AppResult<TicketPayload> {
        let ticket_id = ids::decode_as(&input.ticket_id, "Ticket", "ticketId")?;
        let items = ids::decode_all(
            &input.configuration_item_ids,
            "ConfigurationItem",
            "configurationItemIds",
        )?;
        let row = commands::link_configuration_items(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            ticket_id,
            input.version,
            &items,
        )
        .await?;
        Ok(TicketPayload {
            ticket: Ticket(row),
        })
    }
}
