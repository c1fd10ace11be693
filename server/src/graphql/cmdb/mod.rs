//! The CMDB: classes, configuration items, relationships, impact analysis, bulk import.
//!
//! The enums and objects are here; impact analysis and the graph in `analysis`, the
//! queries in `query`, the mutations in `mutation` and the bulk import's inputs and
//! report in `bulk`.

mod analysis;
mod bulk;
mod mutation;
mod query;

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use entity::{ci_class, ci_relationship, configuration_item as ci, relationship_type};
use serde_json::Value;

use crate::domain::cmdb::types as vocabulary;
use crate::graphql::instant::Instant;
use crate::{
    domain::{
        cmdb::{
            self,
            attributes::{AttributeDefinition, AttributeKind},
            impact::{self, MAX_DEPTH, MAX_GRAPH_DEPTH},
        },
        events,
        tickets::{
            queries::{self, TicketFilter},
            types::Status,
        },
    },
    error::{AppError, AppResult},
    graphql::{
        catalog::Service,
        desk::{Group, Organization},
        ids, loaders,
        pagination::{self, Page, PageArgs},
        state, ticket_scope,
        tickets::{HistoryEntry, Ticket, TicketOrder},
    },
};

pub use analysis::{
    CiGraph, CiGraphNode, Impact, ImpactedItem, impact_of_ticket, items_of_service,
    items_of_ticket, load_node,
};
pub use bulk::{
    CiImportItem, CiImportRelationship, ImportConfigurationItemsInput, ImportRejection,
    ImportReport, ImportSection,
};
pub use mutation::{
    CiClassPayload, CiRelationshipPayload, CmdbMutation, ConfigurationItemPayload,
    CreateConfigurationItemInput, RelateConfigurationItemsInput, RelationshipTypePayload,
    SaveCiClassInput, SaveRelationshipTypeInput, SetTicketConfigurationItemsInput,
    UpdateConfigurationItemInput,
};
pub use query::{CiAttributeFilter, CmdbQuery, ConfigurationItemFilter};

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
    /// A capacity measure: a number in `unit` that should stay under `threshold`, its
    /// values recorded over time and forecast (see `capacityReport`).
    Measure,
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
    /// MEASURE: the unit of its values ("%", "GB", "seats").
    pub unit: Option<String>,
    /// MEASURE: the value it should stay under.
    pub threshold: Option<f64>,
}

impl From<AttributeDefinition> for CiAttributeDefinition {
    fn from(d: AttributeDefinition) -> Self {
        CiAttributeDefinition {
            name: d.name,
            kind: d.kind.into(),
            required: d.required,
            choices: d.choices,
            reference_class_id: d.reference_class_id.map(|id| ids::encode("CiClass", id)),
            unit: d.unit,
            threshold: d.threshold,
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
    /// A pool: the source fails only when every item it relates to by this type has
    /// failed (BALANCED_ACROSS), not when one has.
    async fn redundant(&self) -> bool {
        self.0.redundant
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
