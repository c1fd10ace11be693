//! The service catalog: services, orderable items with their forms, orders and approvals.

use crate::graphql::command::acting;
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use entity::{catalog_item, catalog_request, service};

use crate::domain::catalog::types as vocabulary;
use crate::graphql::instant::Instant;
use crate::{
    domain::catalog::{
        self, ItemFields, ServiceFields,
        forms::{Variable, VariableKind},
    },
    error::{AppError, AppResult},
    graphql::{caller, desk::Group, ids, loaders, state, tickets::Ticket},
};

/// The lifecycle of a service.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::ServiceLifecycle")]
pub enum ServiceLifecycle {
    /// Planned, not yet delivered.
    Pipeline,
    /// Delivered now.
    Live,
    /// No longer delivered.
    Retired,
}

/// How much the business depends on a service.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::Criticality")]
pub enum Criticality {
    /// Little harm without it.
    Low,
    /// Some harm without it.
    Medium,
    /// Serious harm without it.
    High,
    /// The business stops without it.
    Critical,
}

/// Whether ordering a catalog item needs someone's approval first.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::Approval")]
pub enum Approval {
    /// Orders go straight to fulfillment.
    None,
    /// The requester's manager approves.
    Manager,
    /// Any member of the approval group approves.
    Group,
}

/// The kind of answer an order-form question takes.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "VariableKind")]
pub enum CatalogVariableKind {
    /// Free text.
    Text,
    /// A number, within `max` if set.
    Number,
    /// One of the listed choices.
    Choice,
    /// Any number of the listed choices.
    MultiChoice,
    /// A date, YYYY-MM-DD.
    Date,
    /// Yes or no.
    Boolean,
    /// A person, by their User id.
    User,
}

/// A service the desk offers.
pub struct Service(pub service::Model);

/// A service the organization delivers, in the catalog and in the CMDB.
#[Object]
impl Service {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Service", self.0.id)
    }
    /// The service's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it provides.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// A grouping for the catalog, e.g. "Workplace".
    async fn category(&self) -> &str {
        &self.0.category
    }
    /// Whether it is planned, live or retired.
    async fn lifecycle(&self) -> AppResult<ServiceLifecycle> {
        vocabulary::ServiceLifecycle::stored(&self.0.lifecycle).map(Into::into)
    }
    /// How much the business depends on it.
    async fn criticality(&self) -> AppResult<Criticality> {
        vocabulary::Criticality::stored(&self.0.criticality).map(Into::into)
    }
    /// Price or cost, as text.
    async fn price(&self) -> &str {
        &self.0.price
    }
    /// The group accountable for it.
    async fn owner_group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        loaders::group(ctx, self.0.owner_group_id).await
    }
    /// The group that fixes it.
    async fn support_group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        loaders::group(ctx, self.0.support_group_id).await
    }
    /// Its service hours; none means around the clock.
    async fn calendar(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::sla::Calendar>> {
        match self.0.calendar_id {
            Some(id) => Ok(ctx
                .data_unchecked::<loaders::Calendars>()
                .load_one(id)
                .await?
                .map(crate::graphql::sla::Calendar)),
            None => Ok(None),
        }
    }
    /// The configuration items that deliver it. CMDB readers only.
    async fn configuration_items(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::cmdb::ConfigurationItem>> {
        crate::graphql::cmdb::items_of_service(ctx, self.0.id).await
    }
    /// Its change window: changes are scheduled in this calendar's open hours.
    async fn change_window(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::sla::Calendar>> {
        match self.0.change_calendar_id {
            Some(id) => Ok(ctx
                .data_unchecked::<loaders::Calendars>()
                .load_one(id)
                .await?
                .map(crate::graphql::sla::Calendar)),
            None => Ok(None),
        }
    }
    /// What can be ordered under it (active items only, for requesters).
    async fn items(&self, ctx: &Context<'_>) -> AppResult<Vec<CatalogItem>> {
        let rows = catalog::items_of_service(state(ctx).db.conn(), caller(ctx), self.0.id).await?;
        Ok(rows.into_iter().map(CatalogItem).collect())
    }
}

/// One question of an item's form.
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "CatalogVariableInput")]
pub struct CatalogVariable {
    /// The key of the answer.
    pub name: String,
    /// The question as the requester reads it.
    pub label: String,
    /// What kind of answer it takes.
    pub kind: CatalogVariableKind,
    /// An order must answer it.
    #[graphql(default)]
    pub required: bool,
    /// Numbers: the smallest value; text: the fewest characters; multi-choice: the fewest picks.
    pub min: Option<f64>,
    /// The largest number allowed, for NUMBER questions.
    pub max: Option<f64>,
    /// Text: a regular expression the whole answer must match.
    pub pattern: Option<String>,
    /// Choice and multi-choice: the allowed values.
    #[graphql(default)]
    pub choices: Vec<String>,
}

impl From<Variable> for CatalogVariable {
    fn from(v: Variable) -> Self {
        CatalogVariable {
            name: v.name,
            label: v.label,
            kind: v.kind.into(),
            required: v.required,
            min: v.min,
            max: v.max,
            pattern: v.pattern,
            choices: v.choices,
        }
    }
}

impl From<CatalogVariable> for Variable {
    fn from(v: CatalogVariable) -> Self {
        Variable {
            name: v.name,
            label: v.label,
            kind: v.kind.into(),
            required: v.required,
            min: v.min,
            max: v.max,
            pattern: v.pattern,
            choices: v.choices,
        }
    }
}

/// Something requesters order, with its form.
pub struct CatalogItem(pub catalog_item::Model);

/// Something requesters can order from the service catalog, with the questions the order
/// form asks.
#[Object]
impl CatalogItem {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("CatalogItem", self.0.id)
    }
    /// The name shown in the catalog.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the requester gets, shown on the order form.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Inactive items cannot be ordered.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Whether an order waits for approval before it is fulfilled.
    async fn approval(&self) -> AppResult<Approval> {
        vocabulary::Approval::stored(&self.0.approval).map(Into::into)
    }
    /// The questions the order form asks, in order.
    async fn variables(&self) -> AppResult<Vec<CatalogVariable>> {
        Ok(catalog::form_of(&self.0)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
    /// The service it belongs to.
    async fn service(&self, ctx: &Context<'_>) -> AppResult<Option<Service>> {
        Ok(ctx
            .data_unchecked::<loaders::Services>()
            .load_one(self.0.service_id)
            .await?
            .map(Service))
    }
    /// The group whose queue receives the orders.
    async fn fulfillment_group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        loaders::group(ctx, Some(self.0.fulfillment_group_id)).await
    }
}

/// Where an order's approval stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::ApprovalState")]
pub enum ApprovalState {
    /// The item needs no approval.
    NotRequired,
    /// Waiting for an approver's decision.
    Pending,
    /// Approved: the order went to fulfilment.
    Approved,
    /// Rejected: the order was cancelled.
    Rejected,
}

/// What was ordered with a service request, and its approval.
pub struct CatalogRequest(pub catalog_request::Model);

/// An order of a catalog item: the answers given and where its approval stands.
#[Object]
impl CatalogRequest {
    /// The item ordered.
    async fn item(&self, ctx: &Context<'_>) -> AppResult<Option<CatalogItem>> {
        Ok(catalog::ordered_item(state(ctx).db.conn(), &self.0)
            .await?
            .map(CatalogItem))
    }
    /// The answers, keyed by variable name.
    async fn answers(&self) -> Json<serde_json::Value> {
        Json(self.0.answers.clone())
    }
    /// Where the order's approval stands.
    async fn approval_state(&self) -> AppResult<ApprovalState> {
        vocabulary::ApprovalState::stored(&self.0.approval_state).map(Into::into)
    }
    /// When it was approved or rejected; null while pending or when no approval is needed.
    async fn decided_at(&self) -> Option<Instant> {
        self.0.decided_at.map(Instant)
    }
    /// The approver's comment.
    async fn decision_comment(&self) -> Option<&str> {
        self.0.decision.as_deref()
    }
    /// The request's ticket, if the caller may see it.
    async fn ticket(&self, ctx: &Context<'_>) -> AppResult<Option<Ticket>> {
        crate::graphql::tickets::visible(ctx, self.0.ticket_id).await
    }
}

pub async fn request_of(ctx: &Context<'_>, ticket_id: i64) -> AppResult<Option<CatalogRequest>> {
    Ok(catalog::request_of(state(ctx).db.conn(), ticket_id)
        .await?
        .map(CatalogRequest))
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Services by name, optionally searched by words in their name, description or
    /// category. Requesters see the LIVE ones.
    async fn services(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only services whose name contains this text.")] search: Option<String>,
    ) -> AppResult<Vec<Service>> {
        let rows = catalog::services(state(ctx).db.conn(), caller(ctx), search.as_deref()).await?;
        Ok(rows.into_iter().map(Service).collect())
    }

    /// Orders waiting for the caller's approval.
    async fn approvals_awaiting_me(&self, ctx: &Context<'_>) -> AppResult<Vec<CatalogRequest>> {
        Ok(catalog::awaiting(state(ctx).db.conn(), caller(ctx))
            .await?
            .into_iter()
            .map(CatalogRequest)
            .collect())
    }
}

/// What `saveService` takes.
#[derive(InputObject)]
pub struct SaveServiceInput {
    /// The id of the service to change; leave it out to create one.
    pub id: Option<ID>,
    /// The service's name.
    pub name: String,
    /// What it provides.
    #[graphql(default)]
    pub description: String,
    /// A grouping for the catalog, e.g. "Workplace".
    #[graphql(default)]
    pub category: String,
    /// The id of the owner group.
    pub owner_group_id: Option<ID>,
    /// The id of the support group.
    pub support_group_id: Option<ID>,
    /// Whether it is planned, live or retired.
    #[graphql(default_with = "ServiceLifecycle::Pipeline")]
    pub lifecycle: ServiceLifecycle,
    /// How much the business depends on it.
    #[graphql(default_with = "Criticality::Medium")]
    pub criticality: Criticality,
    /// The id of the calendar.
    pub calendar_id: Option<ID>,
    /// Its change window: a calendar whose open hours allow changes to what delivers it.
    pub change_calendar_id: Option<ID>,
    /// What an order costs, as free text, e.g. "€40 / month".
    #[graphql(default)]
    pub price: String,
}

/// What a mutation on a service returns: the service as it is after the change.
#[derive(SimpleObject)]
pub struct ServicePayload {
    /// The service as it is after the change.
    pub service: Service,
}

/// What `saveCatalogItem` takes.
#[derive(InputObject)]
pub struct SaveCatalogItemInput {
    /// The id of the catalog item to change; leave it out to create one.
    pub id: Option<ID>,
    /// The id of the service.
    pub service_id: ID,
    /// The name shown in the catalog.
    pub name: String,
    /// What the requester gets, shown on the order form.
    #[graphql(default)]
    pub description: String,
    /// The id of the fulfillment group.
    pub fulfillment_group_id: ID,
    /// Whether an order waits for approval before it is fulfilled.
    #[graphql(default_with = "Approval::None")]
    pub approval: Approval,
    /// The id of the approval group.
    pub approval_group_id: Option<ID>,
    /// The questions the order form asks, in order.
    #[graphql(default)]
    pub variables: Vec<CatalogVariable>,
    /// Inactive items cannot be ordered.
    #[graphql(default = true)]
    pub active: bool,
}

/// What a mutation on a catalog item returns: the catalog item as it is after the change.
#[derive(SimpleObject)]
pub struct CatalogItemPayload {
    /// The catalog item as it is after the change.
    pub catalog_item: CatalogItem,
}

/// What `orderCatalogItem` takes.
#[derive(InputObject)]
pub struct OrderCatalogItemInput {
    /// The id of the item.
    pub item_id: ID,
    /// Answers keyed by variable name, e.g. {"model": "13 inch", "memory_gb": 16}.
    pub answers: Json<serde_json::Map<String, serde_json::Value>>,
    /// Anything else the fulfillers should know.
    pub note: Option<String>,
}

/// What ordering a catalog item (or deciding an order) returns: the ticket that carries the order.
#[derive(SimpleObject)]
pub struct OrderPayload {
    /// The ticket as it is after the change.
    pub ticket: Ticket,
}

/// What `decideCatalogOrder` takes.
#[derive(InputObject)]
pub struct DecideCatalogOrderInput {
    /// The id of the ticket.
    pub ticket_id: ID,
    /// True to approve, false to reject.
    pub approve: bool,
    /// Required to reject.
    pub comment: Option<String>,
}

#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Creates a service (no id) or changes one. Admins only.
    async fn save_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: SaveServiceInput,
    ) -> AppResult<ServicePayload> {
        let on = acting(ctx);
        let fields = ServiceFields {
            name: input.name,
            description: input.description,
            category: input.category,
            owner_group_id: ids::decode_opt(input.owner_group_id, "Group", "ownerGroupId")?,
            support_group_id: ids::decode_opt(input.support_group_id, "Group", "supportGroupId")?,
            lifecycle: input.lifecycle.into(),
            criticality: input.criticality.into(),
            calendar_id: ids::decode_opt(input.calendar_id, "Calendar", "calendarId")?,
            change_calendar_id: ids::decode_opt(
                input.change_calendar_id,
                "Calendar",
                "changeCalendarId",
            )?,
            price: input.price,
        };
        let id = ids::decode_opt(input.id, "Service", "id")?;
        Ok(ServicePayload {
            service: Service(catalog::save_service(on.db, on.caller, on.now, id, fields).await?),
        })
    }

    /// Creates a catalog item (no id) or changes one. Admins only.
    async fn save_catalog_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SaveCatalogItemInput,
    ) -> AppResult<CatalogItemPayload> {
        let on = acting(ctx);
        let fields = ItemFields {
            service_id: ids::decode_as(&input.service_id, "Service", "serviceId")?,
            name: input.name,
            description: input.description,
            fulfillment_group_id: ids::decode_as(
                &input.fulfillment_group_id,
                "Group",
                "fulfillmentGroupId",
            )?,
            approval: input.approval.into(),
            approval_group_id: ids::decode_opt(
                input.approval_group_id,
                "Group",
                "approvalGroupId",
            )?,
            variables: input.variables.into_iter().map(Into::into).collect(),
            active: input.active,
        };
        let id = ids::decode_opt(input.id, "CatalogItem", "id")?;
        Ok(CatalogItemPayload {
            catalog_item: CatalogItem(
                catalog::save_item(on.db, on.caller, on.now, id, fields).await?,
            ),
        })
    }

    /// Orders an item: the answers are checked against its form, and a service request
    /// is raised for its fulfillment group (held first when it needs approval).
    async fn order_catalog_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: OrderCatalogItemInput,
    ) -> AppResult<OrderPayload> {
        let on = acting(ctx);
        let item_id = ids::decode_as(&input.item_id, "CatalogItem", "itemId")?;
        let (row, _) = catalog::order(
            on.db,
            on.caller,
            on.now,
            item_id,
            &input.answers.0,
            input.note,
            &|id, field| ids::decode_as(&ID(id.to_string()), "User", field),
        )
        .await?;
        Ok(OrderPayload {
            ticket: Ticket(row),
        })
    }

    /// Approves or rejects a held order. Its approver (the requester's manager or a
    /// member of the approval group) only.
    async fn decide_catalog_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: DecideCatalogOrderInput,
    ) -> AppResult<OrderPayload> {
        let on = acting(ctx);
        let ticket_id = ids::decode_as(&input.ticket_id, "Ticket", "ticketId")?;
        let row = catalog::decide(
            on.db,
            on.caller,
            on.now,
            ticket_id,
            input.approve,
            input.comment,
        )
        .await?;
        Ok(OrderPayload {
            ticket: Ticket(row),
        })
    }
}

/// A service or catalog item by id: requesters see only what they may order (LIVE
/// services, their active items); agents see everything.
pub async fn load_node(
    ctx: &Context<'_>,
    type_name: &str,
    id: i64,
) -> AppResult<crate::graphql::node::Node> {
    use crate::graphql::node::Node;
    let (db, caller) = (state(ctx).db.conn(), caller(ctx));
    let not_found = || AppError::NotFound(format!("there is no {type_name} with that id"));
    if type_name == "Service" {
        let row = catalog::service(db, caller, id)
            .await?
            .ok_or_else(not_found)?;
        return Ok(Node::Service(Service(row)));
    }
    let item = catalog::item(db, caller, id).await?.ok_or_else(not_found)?;
    Ok(Node::CatalogItem(CatalogItem(item)))
}
