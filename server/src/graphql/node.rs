use async_graphql::{Context, ID, Interface, Object};

use crate::{
    error::{AppError, AppResult},
    graphql::{
        api_tokens, automation, availability, catalog, changes, cmdb, continuity, desk, ids,
        knowledge, mail, monitoring, notifications, problems, releases, sla, suppliers, tickets,
        users, webhooks,
    },
};

/// Anything with a global id, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The globally unique id: pass it to `node(id:)` to fetch the object again."
))]
pub enum Node {
    User(users::User),
    ApiToken(api_tokens::ApiToken),
    Ticket(tickets::Ticket),
    Organization(desk::Organization),
    Group(desk::Group),
    Category(desk::Category),
    AssignmentRule(desk::AssignmentRule),
    Calendar(sla::Calendar),
    SlaPolicy(sla::SlaPolicy),
    Service(catalog::Service),
    CatalogItem(catalog::CatalogItem),
    ConfigurationItem(cmdb::ConfigurationItem),
    CiClass(cmdb::CiClass),
    Problem(problems::Problem),
    Change(changes::Change),
    Article(knowledge::Article),
    WebhookEndpoint(webhooks::WebhookEndpoint),
    AutomationRule(automation::AutomationRule),
    MailMessage(mail::MailMessage),
    Notification(notifications::Notification),
    Release(releases::Release),
    Alert(monitoring::Alert),
    Outage(availability::Outage),
    Supplier(suppliers::Supplier),
    ContinuityPlan(continuity::ContinuityPlan),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Whatever the global id names, if the caller may read it. Nullable, as Relay
    /// expects: an id that names nothing the caller may see gives `null` with a
    /// NOT_FOUND error, and leaves the rest of the response whole.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id from any `id` field.")] id: ID,
    ) -> AppResult<Option<Node>> {
        Self::find(ctx, id).await.map(Some)
    }
}

impl NodeQuery {
    async fn find(ctx: &Context<'_>, id: ID) -> AppResult<Node> {
        let (type_name, number) = ids::decode(&id)?;
        match type_name.as_str() {
            "User" => users::load(ctx, number).await.map(Node::User),
            "ApiToken" => api_tokens::load(ctx, number).await.map(Node::ApiToken),
            "Ticket" => tickets::load_node(ctx, number).await.map(Node::Ticket),
            "Calendar" | "SlaPolicy" => sla::load_node(ctx, &type_name, number).await,
            "Service" | "CatalogItem" => catalog::load_node(ctx, &type_name, number).await,
            "ConfigurationItem" | "CiClass" => cmdb::load_node(ctx, &type_name, number).await,
            "Problem" => problems::load_node(ctx, number).await.map(Node::Problem),
            "Change" => changes::load_node(ctx, number).await.map(Node::Change),
            "Article" => knowledge::load_node(ctx, number).await.map(Node::Article),
            "WebhookEndpoint" => webhooks::load_node(ctx, number)
                .await
                .map(Node::WebhookEndpoint),
            "AutomationRule" => automation::load_node(ctx, number)
                .await
                .map(Node::AutomationRule),
            "MailMessage" => mail::load_node(ctx, number).await.map(Node::MailMessage),
            "Notification" => notifications::load_node(ctx, number)
                .await
                .map(Node::Notification),
            "Release" => releases::load_node(ctx, number).await.map(Node::Release),
            "Alert" => monitoring::load_node(ctx, number).await.map(Node::Alert),
            "Outage" => availability::load_node(ctx, number).await.map(Node::Outage),
            "Supplier" => suppliers::load_node(ctx, number).await.map(Node::Supplier),
            "ContinuityPlan" => continuity::load_node(ctx, number)
                .await
                .map(Node::ContinuityPlan),
            other => desk::load_node(ctx, other, number).await?.ok_or_else(|| {
                AppError::NotFound(format!("nothing has the id {}", crate::error::quote(&id.0)))
            }),
        }
    }
}
