//! Monitoring in: the alerts monitoring systems sent, their timeline, the rules that
//! tie them to configuration items, and `alertsChanged`, live. Alerts arrive over HTTP
//! (`/monitoring/alertmanager`, `/monitoring/alerts`), not through GraphQL.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject, Subscription};
use entity::{alert, alert_correlation, alert_transition};
use futures::Stream;

use crate::{
    domain::monitoring::{self, correlate::Correlation, reads::AlertFilter},
    error::AppResult,
    events::Shared,
    graphql::{
        caller,
        cmdb::ConfigurationItem,
        command::acting,
        ids,
        instant::Instant,
        live::follow,
        loaders,
        pagination::{self, Page, PageArgs},
        state,
        tickets::Ticket,
    },
};

/// Whether an alert is firing now.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::monitoring::AlertStatus")]
pub enum AlertStatus {
    /// The monitoring system says the condition holds.
    Firing,
    /// The monitoring system said it is over.
    Resolved,
}

/// Which intake an alert came through.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::monitoring::AlertSource")]
pub enum AlertSource {
    /// Prometheus Alertmanager's webhook.
    Alertmanager,
    /// The generic JSON alert.
    Generic,
}

/// What of a configuration item an alert's label is matched to.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::monitoring::MatchOn")]
pub enum AlertMatchOn {
    /// The item's name, in any case (for `host:port`, the host too).
    Name,
    /// The item's external key.
    ExternalKey,
    /// One of the item's attributes, named by the rule.
    Attribute,
}

/// An alert from a monitoring system: one per fingerprint, however often it was sent.
pub struct Alert(pub alert::Model);

/// An alert for `node(id:)`: the desk's.
pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<Alert> {
    monitoring::reads::get(state(ctx).db.conn(), caller(ctx), id)
        .await?
        .map(Alert)
        .ok_or_else(|| crate::error::AppError::NotFound("there is no alert with that id".into()))
}

/// An alert from a monitoring system: one per fingerprint, however often it was sent.
#[Object]
impl Alert {
    /// The globally unique id.
    pub async fn id(&self) -> ID {
        ids::encode("Alert", self.0.id)
    }
    /// What identifies it across deliveries (Alertmanager's, or one made of its labels).
    async fn fingerprint(&self) -> &str {
        &self.0.fingerprint
    }
    /// Its name (`alertname`).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Firing or resolved.
    async fn status(&self) -> AppResult<AlertStatus> {
        Ok(monitoring::AlertStatus::stored(&self.0.status)?.into())
    }
    /// Which intake it came through.
    async fn source(&self) -> AppResult<AlertSource> {
        Ok(monitoring::AlertSource::stored(&self.0.source)?.into())
    }
    /// Its severity as the monitoring system said it, lower case (`none` if it did not).
    async fn severity(&self) -> &str {
        &self.0.severity
    }
    /// Its summary annotation (or its name).
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// Its labels, as an object of strings.
    async fn labels(&self) -> Json<serde_json::Value> {
        Json(self.0.labels.clone())
    }
    /// Its annotations, as an object of strings.
    async fn annotations(&self) -> Json<serde_json::Value> {
        Json(self.0.annotations.clone())
    }
    /// The alert group it was sent in.
    async fn group_key(&self) -> &str {
        &self.0.group_key
    }
    /// The configuration item the correlation rules found for it.
    async fn configuration_item(&self, ctx: &Context<'_>) -> AppResult<Option<ConfigurationItem>> {
        let Some(id) = self.0.configuration_item_id else {
            return Ok(None);
        };
        Ok(ctx
            .data_unchecked::<loaders::ConfigurationItems>()
            .load_one(id)
            .await?
            .map(ConfigurationItem))
    }
    /// The incident it is attached to, if the caller may see it.
    async fn ticket(&self, ctx: &Context<'_>) -> AppResult<Option<Ticket>> {
        let Some(id) = self.0.ticket_id else {
            return Ok(None);
        };
        let scope = crate::graphql::ticket_scope(ctx).await?;
        Ok(ctx
            .data_unchecked::<loaders::Tickets>()
            .load_one(id)
            .await?
            .filter(|t| scope.allows(t))
            .map(Ticket))
    }
    /// When it (last) started firing.
    async fn starts_at(&self) -> Instant {
        Instant(self.0.starts_at)
    }
    /// When it was resolved; null while it fires.
    async fn ends_at(&self) -> Option<Instant> {
        self.0.ends_at.map(Instant)
    }
    /// When a delivery of it last arrived.
    async fn last_received_at(&self) -> Instant {
        Instant(self.0.last_received_at)
    }
    /// How many deliveries of it arrived: repeats are counted here, not stored again.
    async fn received_count(&self) -> i64 {
        self.0.received_count
    }
    /// It changes between firing and resolved too often (see the desk's
    /// `alertFlapChanges` and `alertFlapWindowMinutes`): its incident stays open.
    async fn flapping(&self) -> bool {
        self.0.flapping
    }
    /// Where the monitoring system shows it.
    async fn generator_url(&self) -> Option<&str> {
        self.0.generator_url.as_deref()
    }
    /// Its firing and resolving, oldest first (the latest 500).
    async fn timeline(&self, ctx: &Context<'_>) -> AppResult<Vec<AlertTransition>> {
        let rows = monitoring::reads::timeline(state(ctx).db.conn(), self.0.id).await?;
        Ok(rows.into_iter().map(AlertTransition).collect())
    }
}

/// An alert began firing or was resolved.
pub struct AlertTransition(alert_transition::Model);

/// An alert began firing or was resolved.
#[Object]
impl AlertTransition {
    /// What it became.
    async fn status(&self) -> AppResult<AlertStatus> {
        Ok(monitoring::AlertStatus::stored(&self.0.status)?.into())
    }
    /// When, as the monitoring system said.
    async fn at(&self) -> Instant {
        Instant(self.0.at)
    }
}

/// How alerts find their configuration item: a label's value matched to an item.
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "AlertCorrelationRuleInput")]
pub struct AlertCorrelationRule {
    /// The label whose value is matched (`instance`, `host`, `ci`…).
    pub label: String,
    /// What of the item it is matched to.
    pub match_on: AlertMatchOn,
    /// For ATTRIBUTE: the attribute's name.
    pub attribute: Option<String>,
}

impl From<alert_correlation::Model> for AlertCorrelationRule {
    fn from(row: alert_correlation::Model) -> Self {
        AlertCorrelationRule {
            label: row.label,
            match_on: monitoring::MatchOn::stored(&row.match_on)
                .unwrap_or(monitoring::MatchOn::Name)
                .into(),
            attribute: row.attribute,
        }
    }
}

#[derive(Default)]
pub struct MonitoringQuery;

#[Object]
impl MonitoringQuery {
    /// The alerts monitoring sent, newest first. The desk.
    #[allow(clippy::too_many_arguments)]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only firing, or only resolved, alerts.")] status: Option<AlertStatus>,
        #[graphql(desc = "Only the alerts about this configuration item.")]
        configuration_item_id: Option<ID>,
        #[graphql(desc = "Only the alerts attached to this incident.")] ticket_id: Option<ID>,
        #[graphql(desc = "Only flapping (or only steady) alerts.")] flapping: Option<bool>,
        #[graphql(desc = "How many to take from the start.")] first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(desc = "How many to take from the end.")] last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<Alert>> {
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let filter = AlertFilter {
            status: status.map(Into::into),
            configuration_item_id: ids::decode_opt(
                configuration_item_id,
                "ConfigurationItem",
                "configurationItemId",
            )?,
            ticket_id: ids::decode_opt(ticket_id, "Ticket", "ticketId")?,
            flapping,
        };
        let rows =
            monitoring::reads::list(state(ctx).db.conn(), caller(ctx), &filter, &page).await?;
        Ok(pagination::connection(&page, rows, |a| a.id, Alert))
    }

    /// One alert. The desk.
    async fn alert(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The alert's id.")] id: ID,
    ) -> AppResult<Option<Alert>> {
        let id = ids::decode_as(&id, "Alert", "id")?;
        Ok(
            monitoring::reads::get(state(ctx).db.conn(), caller(ctx), id)
                .await?
                .map(Alert),
        )
    }

    /// How alerts find their configuration item, in the order the rules are tried.
    /// The desk.
    async fn alert_correlation_rules(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<AlertCorrelationRule>> {
        monitoring::require_reader(caller(ctx))?;
        let rows = monitoring::correlate::rules(state(ctx).db.conn()).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct MonitoringMutation;

#[Object]
impl MonitoringMutation {
    /// Replaces the rules that tie alerts to configuration items (tried in order; the
    /// first that finds an item wins). Alerts already received keep their item. Admins.
    async fn set_alert_correlation_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rules, in the order they are tried.")] rules: Vec<
            AlertCorrelationRule,
        >,
    ) -> AppResult<Vec<AlertCorrelationRule>> {
        let on = acting(ctx);
        let given = rules
            .into_iter()
            .map(|r| Correlation {
                label: r.label,
                match_on: r.match_on.into(),
                attribute: r.attribute,
            })
            .collect();
        let saved = monitoring::correlate::replace(on.db, on.caller, on.now, given).await?;
        Ok(saved.into_iter().map(Into::into).collect())
    }
}

/// Something that happened to an alert.
pub struct AlertEvent(Shared);

/// Something that happened to an alert.
#[Object]
impl AlertEvent {
    /// The event's place in the log: resume from it with `after`.
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    /// `alert.fired`, `alert.resolved`, `alert.attached` or `alert.flapping`.
    async fn action(&self) -> &str {
        self.0.topic.as_str()
    }
    /// When it happened.
    async fn at(&self) -> Instant {
        Instant(self.0.at)
    }
    /// The alert's id.
    async fn alert_id(&self) -> ID {
        ids::encode("Alert", self.0.entity_id)
    }
    /// Its name.
    async fn name(&self) -> Option<&str> {
        self.0.payload["name"].as_str()
    }
    /// Where it stands after this.
    async fn status(&self) -> Option<AlertStatus> {
        self.0.payload["status"]
            .as_str()
            .and_then(|s| monitoring::AlertStatus::stored(s).ok())
            .map(Into::into)
    }
    /// Its severity.
    async fn severity(&self) -> Option<&str> {
        self.0.payload["severity"].as_str()
    }
    /// Whether it is flapping after this.
    async fn flapping(&self) -> Option<bool> {
        self.0.payload["flapping"].as_bool()
    }
    /// Its configuration item's id, if one was found.
    async fn configuration_item_id(&self) -> Option<ID> {
        self.0.payload["configurationItemId"]
            .as_i64()
            .map(|id| ids::encode("ConfigurationItem", id))
    }
    /// Its incident's id, once attached.
    async fn ticket_id(&self) -> Option<ID> {
        self.0.payload["ticketId"]
            .as_i64()
            .map(|id| ids::encode("Ticket", id))
    }
    /// The alert, as it is now.
    async fn alert(&self, ctx: &Context<'_>) -> AppResult<Option<Alert>> {
        Ok(
            monitoring::reads::get(state(ctx).db.conn(), caller(ctx), self.0.entity_id)
                .await?
                .map(Alert),
        )
    }
}

#[derive(Default)]
pub struct MonitoringSubscription;

#[Subscription]
impl MonitoringSubscription {
    /// Alerts as they fire, resolve, join an incident or start flapping: for a
    /// monitoring dashboard. The desk. With `after`, first what was missed.
    async fn alerts_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Take items after this cursor: the `seq` of the last event seen.")]
        after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = AppResult<AlertEvent>> + use<>> {
        monitoring::require_reader(caller(ctx))?;
        let stream = follow(ctx, after, |e| e.topic.is_alert());
        Ok(futures::StreamExt::map(stream, |e| e.map(AlertEvent)))
    }
}
