//! The GraphQL schema: thin resolvers, one module per area, assembled here.

pub mod api_tokens;
pub mod attachments;
pub mod audience;
pub mod automation;
pub mod availability;
pub mod capacity;
pub mod catalog;
pub mod changes;
pub mod cmdb;
pub mod command;
pub mod continuity;
pub mod costs;
pub mod desk;
pub mod ids;
pub mod instant;
pub mod knowledge;
pub mod live;
pub mod loaders;
pub mod mail;
pub mod major_incidents;
pub mod monitoring;
pub mod node;
pub mod notifications;
pub mod pagination;
pub mod planned;
pub mod problems;
pub mod releases;
pub mod satisfaction;
pub mod service_report;
pub mod sla;
pub mod suppliers;
pub mod tickets;
pub mod time_worked;
pub mod users;
pub mod viewer;
pub mod webhooks;

use std::sync::{Arc, atomic::AtomicU64};

use async_graphql::{
    Context, MergedObject, MergedSubscription, Schema,
    parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition},
};
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

use crate::{
    auth::Caller, config::Limits, domain::tickets::visibility::Scope, error::AppResult,
    state::AppState,
};

/// Everything that reads the desk. Each field shows only what the caller may see.
#[derive(MergedObject, Default)]
pub struct Query(
    viewer::ViewerQuery,
    node::NodeQuery,
    tickets::TicketQuery,
    desk::DeskQuery,
    sla::SlaQuery,
    sla::SlaReportQuery,
    catalog::CatalogQuery,
    cmdb::CmdbQuery,
    problems::ProblemQuery,
    changes::ChangeQuery,
    knowledge::KnowledgeQuery,
    users::UserQuery,
    api_tokens::ApiTokenQuery,
    webhooks::WebhookQuery,
    automation::AutomationQuery,
    mail::MailQuery,
    notifications::NotificationQuery,
    live::LiveQuery,
    time_worked::TimeWorkedQuery,
    satisfaction::SatisfactionQuery,
    major_incidents::MajorIncidentQuery,
    releases::ReleaseQuery,
    monitoring::MonitoringQuery,
    availability::AvailabilityQuery,
    capacity::CapacityQuery,
    suppliers::SupplierQuery,
    continuity::ContinuityQuery,
    costs::CostQuery,
    service_report::ServiceReportQuery,
);

/// Everything that changes the desk. Every mutation takes one `input` and returns a payload
/// with what it changed.
#[derive(MergedObject, Default)]
pub struct Mutation(
    tickets::TicketMutation,
    desk::DeskMutation,
    sla::SlaMutation,
    catalog::CatalogMutation,
    cmdb::CmdbMutation,
    problems::ProblemMutation,
    changes::ChangeMutation,
    knowledge::KnowledgeMutation,
    api_tokens::ApiTokenMutation,
    webhooks::WebhookMutation,
    automation::AutomationMutation,
    notifications::NotificationMutation,
    time_worked::TimeWorkedMutation,
    tickets::TicketLinkMutation,
    satisfaction::SatisfactionMutation,
    attachments::AttachmentMutation,
    tickets::TicketMergeMutation,
    major_incidents::MajorIncidentMutation,
    releases::ReleaseMutation,
    monitoring::MonitoringMutation,
    availability::AvailabilityMutation,
    capacity::CapacityMutation,
    suppliers::SupplierMutation,
    continuity::ContinuityMutation,
    costs::CostMutation,
    service_report::ServiceReportMutation,
);

/// What changes live, over the WebSocket at /graphql/ws (graphql-transport-ws). Each
/// subscription shows only what the caller may see.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    live::LiveSubscription,
    api_tokens::ApiTokenSubscription,
    major_incidents::MajorIncidentSubscription,
    releases::ReleaseSubscription,
    monitoring::MonitoringSubscription,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema with its limits. `state` is absent only when exporting the SDL.
pub fn build_schema(limits: &Limits, state: Option<AppState>) -> AppSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .register_output_type::<node::Node>()
    // Depth is measured at the edge (`http::execute`), where introspection is exempt.
    .limit_complexity(limits.max_complexity)
    .limit_directives(limits.max_directives)
    .with_sorted_fields()
    .with_sorted_enums();
    if let Some(state) = state {
        builder = builder.data(state);
    }
    builder.finish()
}

/// The public contract, exactly as `schema.graphql` holds it.
pub fn sdl() -> String {
    let schema = build_schema(&crate::config::Config::default_limits(), None);
    // With `@specifiedBy`, as introspection shows it: the contract says which format a
    // custom scalar follows.
    let options = async_graphql::SDLExportOptions::new().include_specified_by();
    format!("{}\n", schema.sdl_with_options(options).trim_end())
}

/// The operation a request runs: the one `name` names, or the document's only one.
pub fn chosen_operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Result<&'d OperationDefinition, String> {
    match (&doc.operations, name) {
        // An anonymous operation runs whatever operationName says, as async-graphql does.
        (DocumentOperations::Single(op), _) => Ok(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .get(name)
            .map(|op| &op.node)
            .ok_or_else(|| format!("The document has no operation named '{name}'")),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .values()
            .next()
            .map(|op| &op.node)
            .ok_or_else(|| "The document has no operation".into()),
        (DocumentOperations::Multiple(_), None) => {
            Err("The document has several operations: name the one to run in operationName".into())
        }
    }
}

pub fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

pub fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    ctx.data::<Caller>().unwrap_or(&Caller::Anonymous)
}

pub fn now(ctx: &Context<'_>) -> DateTime<Utc> {
    state(ctx).clock.now()
}

/// Which tickets the caller may see, worked out once per request.
#[derive(Default)]
pub struct ScopeCell(OnceCell<Scope>);

pub async fn ticket_scope<'a>(ctx: &Context<'a>) -> AppResult<&'a Scope> {
    let cell = ctx.data_unchecked::<ScopeCell>();
    cell.0
        .get_or_try_init(|| Scope::of(state(ctx).db.conn(), caller(ctx)))
        .await
}

/// What every request carries besides its document: the caller, a fresh set of
/// DataLoaders (their batches counting into `statements`), and room for the caller's
/// ticket scope.
pub fn attach(
    request: async_graphql::Request,
    caller: Caller,
    state: &AppState,
    statements: &Arc<AtomicU64>,
    lasting: loaders::Lasting,
) -> async_graphql::Request {
    loaders::attach(
        request.data(caller).data(ScopeCell::default()),
        &state.db,
        statements,
        lasting,
    )
}
