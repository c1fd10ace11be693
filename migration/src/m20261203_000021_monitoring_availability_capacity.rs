//! Monitoring in, availability and capacity: alerts from the monitoring systems (one row
//! per fingerprint, with its firing/resolved history), the rules that tie an alert to a
//! configuration item, outages on items (unplanned from incidents, planned from changes
//! and releases), availability targets of services and the breaches already announced,
//! and the recorded history of capacity measures.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Alerts {
    Table,
    Id,
    Fingerprint,
    Source,
    Name,
    Status,
    Severity,
    Summary,
    Labels,
    Annotations,
    GroupKey,
    ConfigurationItemId,
    TicketId,
    RuleId,
    StartsAt,
    EndsAt,
    LastReceivedAt,
    ReceivedCount,
    Flapping,
    GeneratorUrl,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AlertTransitions {
    Table,
    Id,
    AlertId,
    Status,
    At,
}

#[derive(DeriveIden)]
enum AlertCorrelations {
    Table,
    Id,
    Position,
    Label,
    MatchOn,
    Attribute,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outages {
    Table,
    Id,
    ConfigurationItemId,
    Kind,
    Severity,
    TicketId,
    ChangeId,
    ReleaseId,
    StartedAt,
    EndedAt,
    Description,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AvailabilityTargets {
    Table,
    ServiceId,
    TargetPercent,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AvailabilityBreaches {
    Table,
    Id,
    ServiceId,
    Period,
    SpentAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CapacitySamples {
    Table,
    Id,
    ConfigurationItemId,
    Measure,
    Value,
    At,
}

#[derive(DeriveIden)]
enum CapacityStates {
    Table,
    ConfigurationItemId,
    Measure,
    OverThreshold,
    ForecastWarned,
}

#[derive(DeriveIden)]
enum RelationshipTypes {
    Table,
    Name,
    ForwardLabel,
    ReverseLabel,
    Impact,
    Redundant,
    CreatedAt,
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &str,
    columns: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for column in columns {
        index.col(Alias::new(*column));
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alerts::Table)
                    .col(big_pk_auto(Alerts::Id))
                    .col(string(Alerts::Fingerprint))
                    .col(string(Alerts::Source))
                    .col(string(Alerts::Name))
                    .col(string(Alerts::Status))
                    .col(string(Alerts::Severity))
                    .col(text(Alerts::Summary))
                    .col(json(Alerts::Labels))
                    .col(json(Alerts::Annotations))
                    .col(string(Alerts::GroupKey))
                    .col(big_integer_null(Alerts::ConfigurationItemId))
                    .col(big_integer_null(Alerts::TicketId))
                    .col(big_integer_null(Alerts::RuleId))
                    .col(timestamp_with_time_zone(Alerts::StartsAt))
                    .col(timestamp_with_time_zone_null(Alerts::EndsAt))
                    .col(timestamp_with_time_zone(Alerts::LastReceivedAt))
                    .col(big_integer(Alerts::ReceivedCount))
                    .col(boolean(Alerts::Flapping))
                    .col(string_null(Alerts::GeneratorUrl))
                    .col(integer(Alerts::Version))
                    .col(timestamp_with_time_zone(Alerts::CreatedAt))
                    .col(timestamp_with_time_zone(Alerts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // One row per alert, found by the fingerprint every delivery carries.
        index(
            manager,
            "idx_alerts_fingerprint",
            "alerts",
            &["fingerprint"],
            true,
        )
        .await?;
        // The list by state, newest first, and the alerts of an item or an incident.
        index(
            manager,
            "idx_alerts_status",
            "alerts",
            &["status", "id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_alerts_item",
            "alerts",
            &["configuration_item_id", "id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_alerts_ticket",
            "alerts",
            &["ticket_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AlertTransitions::Table)
                    .col(big_pk_auto(AlertTransitions::Id))
                    .col(big_integer(AlertTransitions::AlertId))
                    .col(string(AlertTransitions::Status))
                    .col(timestamp_with_time_zone(AlertTransitions::At))
                    .to_owned(),
            )
            .await?;
        // An alert's timeline, and its recent changes when flapping is judged.
        index(
            manager,
            "idx_alert_transitions_alert",
            "alert_transitions",
            &["alert_id", "at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AlertCorrelations::Table)
                    .col(big_pk_auto(AlertCorrelations::Id))
                    .col(integer(AlertCorrelations::Position))
                    .col(string(AlertCorrelations::Label))
                    .col(string(AlertCorrelations::MatchOn))
                    .col(string_null(AlertCorrelations::Attribute))
                    .col(timestamp_with_time_zone(AlertCorrelations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        let now = chrono::Utc::now();
        let mut correlations = Query::insert();
        correlations.into_table(AlertCorrelations::Table).columns([
            AlertCorrelations::Position,
            AlertCorrelations::Label,
            AlertCorrelations::MatchOn,
            AlertCorrelations::CreatedAt,
        ]);
        // What most Prometheus set-ups carry: an explicit `ci` label, else the scraped
        // `instance` (host:port) or a `host`, matched to an item's name.
        for (position, label) in ["ci", "instance", "host"].into_iter().enumerate() {
            correlations.values_panic([
                (position as i32).into(),
                label.into(),
                "NAME".into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(correlations).await?;

        manager
            .create_table(
                Table::create()
                    .table(Outages::Table)
                    .col(big_pk_auto(Outages::Id))
                    .col(big_integer(Outages::ConfigurationItemId))
                    .col(string(Outages::Kind))
                    .col(string(Outages::Severity))
                    .col(big_integer_null(Outages::TicketId))
                    .col(big_integer_null(Outages::ChangeId))
                    .col(big_integer_null(Outages::ReleaseId))
                    .col(timestamp_with_time_zone(Outages::StartedAt))
                    .col(timestamp_with_time_zone_null(Outages::EndedAt))
                    .col(text(Outages::Description))
                    .col(integer(Outages::Version))
                    .col(timestamp_with_time_zone(Outages::CreatedAt))
                    .col(timestamp_with_time_zone(Outages::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // A period's outages are read by when they started; an incident's by its ticket.
        index(
            manager,
            "idx_outages_started",
            "outages",
            &["started_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_outages_ongoing",
            "outages",
            &["ended_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_outages_ticket",
            "outages",
            &["ticket_id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_outages_item",
            "outages",
            &["configuration_item_id", "started_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AvailabilityTargets::Table)
                    .col(big_integer(AvailabilityTargets::ServiceId).primary_key())
                    .col(double(AvailabilityTargets::TargetPercent))
                    .col(timestamp_with_time_zone(AvailabilityTargets::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AvailabilityBreaches::Table)
                    .col(big_pk_auto(AvailabilityBreaches::Id))
                    .col(big_integer(AvailabilityBreaches::ServiceId))
                    .col(string(AvailabilityBreaches::Period))
                    .col(timestamp_with_time_zone(AvailabilityBreaches::SpentAt))
                    .col(timestamp_with_time_zone(AvailabilityBreaches::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // A month's breach is announced once, whichever replica sees it first.
        index(
            manager,
            "idx_availability_breaches_once",
            "availability_breaches",
            &["service_id", "period"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CapacitySamples::Table)
                    .col(big_pk_auto(CapacitySamples::Id))
                    .col(big_integer(CapacitySamples::ConfigurationItemId))
                    .col(string(CapacitySamples::Measure))
                    .col(double(CapacitySamples::Value))
                    .col(timestamp_with_time_zone(CapacitySamples::At))
                    .to_owned(),
            )
            .await?;
        // The forecast reads a measure's last points, newest first.
        index(
            manager,
            "idx_capacity_samples_series",
            "capacity_samples",
            &["configuration_item_id", "measure", "at"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(CapacityStates::Table)
                    .col(big_integer(CapacityStates::ConfigurationItemId))
                    .col(string(CapacityStates::Measure))
                    .col(boolean(CapacityStates::OverThreshold))
                    .col(boolean(CapacityStates::ForecastWarned))
                    .primary_key(
                        Index::create()
                            .col(CapacityStates::ConfigurationItemId)
                            .col(CapacityStates::Measure),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(RelationshipTypes::Table)
                    .add_column(boolean(RelationshipTypes::Redundant).default(false))
                    .to_owned(),
            )
            .await?;
        // A service spread over a load-balanced pair: it fails only when every item it
        // relates to by this type has failed.
        let mut redundant = Query::insert();
        redundant
            .into_table(RelationshipTypes::Table)
            .columns([
                RelationshipTypes::Name,
                RelationshipTypes::ForwardLabel,
                RelationshipTypes::ReverseLabel,
                RelationshipTypes::Impact,
                RelationshipTypes::Redundant,
                RelationshipTypes::CreatedAt,
            ])
            .values_panic([
                "BALANCED_ACROSS".into(),
                "balanced across".into(),
                "one of the pool of".into(),
                "TO_SOURCE".into(),
                true.into(),
                now.into(),
            ]);
        manager.exec_stmt(redundant).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(RelationshipTypes::Table)
                    .and_where(Expr::col(RelationshipTypes::Name).eq("BALANCED_ACROSS"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RelationshipTypes::Table)
                    .drop_column(RelationshipTypes::Redundant)
                    .to_owned(),
            )
            .await?;
        for table in [
            Alias::new("capacity_states"),
            Alias::new("capacity_samples"),
            Alias::new("availability_breaches"),
            Alias::new("availability_targets"),
            Alias::new("outages"),
            Alias::new("alert_correlations"),
            Alias::new("alert_transitions"),
            Alias::new("alerts"),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
