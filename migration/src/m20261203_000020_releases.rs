//! Release and deployment management: releases that group changes, their items (the
//! configuration items they move from one version to another, in a deployment order
//! the CMDB's dependencies decide), the business services they touch, and the incidents
//! of their early life.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Releases {
    Table,
    Id,
    Number,
    Name,
    VersionLabel,
    ReleaseType,
    Status,
    OwnerId,
    VerifierId,
    PlannedStart,
    PlannedEnd,
    ActualStart,
    ActualEnd,
    EarlyLifeDays,
    VerifiedAt,
    VerifiedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum ReleaseServices {
    Table,
    ReleaseId,
    ServiceId,
}

#[derive(DeriveIden)]
enum ReleaseItems {
    Table,
    Id,
    ReleaseId,
    Position,
    ConfigurationItemId,
    FromVersion,
    ToVersion,
    Artefacts,
    Environment,
    AssigneeId,
    ExpectedMinutes,
    State,
    StartedAt,
    FinishedAt,
    DoneBy,
    Note,
}

#[derive(DeriveIden)]
enum ReleaseIncidents {
    Table,
    ReleaseId,
    TicketId,
    LinkedAt,
}

#[derive(DeriveIden)]
enum Changes {
    Table,
    ReleaseId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Releases::Table)
                    .col(big_pk_auto(Releases::Id))
                    .col(string(Releases::Number).unique_key())
                    .col(string(Releases::Name))
                    .col(string(Releases::VersionLabel))
                    .col(string(Releases::ReleaseType))
                    .col(string(Releases::Status))
                    .col(big_integer_null(Releases::OwnerId))
                    .col(big_integer_null(Releases::VerifierId))
                    .col(timestamp_with_time_zone_null(Releases::PlannedStart))
                    .col(timestamp_with_time_zone_null(Releases::PlannedEnd))
                    .col(timestamp_with_time_zone_null(Releases::ActualStart))
                    .col(timestamp_with_time_zone_null(Releases::ActualEnd))
                    .col(integer(Releases::EarlyLifeDays))
                    .col(timestamp_with_time_zone_null(Releases::VerifiedAt))
                    .col(string_null(Releases::VerifiedBy))
                    .col(timestamp_with_time_zone(Releases::CreatedAt))
                    .col(timestamp_with_time_zone(Releases::UpdatedAt))
                    .col(integer(Releases::Version))
                    .to_owned(),
            )
            .await?;
        // The calendar reads releases by when they are planned.
        manager
            .create_index(
                Index::create()
                    .name("idx_releases_planned_start")
                    .table(Releases::Table)
                    .col(Releases::PlannedStart)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReleaseServices::Table)
                    .col(big_integer(ReleaseServices::ReleaseId))
                    .col(big_integer(ReleaseServices::ServiceId))
                    .primary_key(
                        Index::create()
                            .col(ReleaseServices::ReleaseId)
                            .col(ReleaseServices::ServiceId),
                    )
                    .to_owned(),
            )
            .await?;
        // Early life: which releases touch the service an incident was raised on.
        manager
            .create_index(
                Index::create()
                    .name("idx_release_services_service")
                    .table(ReleaseServices::Table)
                    .col(ReleaseServices::ServiceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReleaseItems::Table)
                    .col(big_pk_auto(ReleaseItems::Id))
                    .col(big_integer(ReleaseItems::ReleaseId))
                    .col(integer(ReleaseItems::Position))
                    .col(big_integer(ReleaseItems::ConfigurationItemId))
                    .col(string_null(ReleaseItems::FromVersion))
                    .col(string(ReleaseItems::ToVersion))
                    .col(text(ReleaseItems::Artefacts))
                    .col(string(ReleaseItems::Environment))
                    .col(big_integer_null(ReleaseItems::AssigneeId))
                    .col(integer(ReleaseItems::ExpectedMinutes))
                    .col(string(ReleaseItems::State))
                    .col(timestamp_with_time_zone_null(ReleaseItems::StartedAt))
                    .col(timestamp_with_time_zone_null(ReleaseItems::FinishedAt))
                    .col(string_null(ReleaseItems::DoneBy))
                    .col(text_null(ReleaseItems::Note))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_release_items_release")
                    .table(ReleaseItems::Table)
                    .col(ReleaseItems::ReleaseId)
                    .col(ReleaseItems::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReleaseIncidents::Table)
                    .col(big_integer(ReleaseIncidents::ReleaseId))
                    .col(big_integer(ReleaseIncidents::TicketId))
                    .col(timestamp_with_time_zone(ReleaseIncidents::LinkedAt))
                    .primary_key(
                        Index::create()
                            .col(ReleaseIncidents::ReleaseId)
                            .col(ReleaseIncidents::TicketId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Changes::Table)
                    .add_column(big_integer_null(Changes::ReleaseId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_changes_release")
                    .table(Changes::Table)
                    .col(Changes::ReleaseId)
                    .to_owned(),
            )
            .await?;
        // Releases are numbered REL0000001 on, like tickets, problems and changes.
        let counter = Query::insert()
            .into_table(Alias::new("ticket_counters"))
            .columns([Alias::new("kind"), Alias::new("last_number")])
            .values_panic(["RELEASE".into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(counter).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ReleaseIncidents::Table.into_iden(),
            ReleaseItems::Table.into_iden(),
            ReleaseServices::Table.into_iden(),
            Releases::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
