//! Major incidents: an incident a manager declared major, with its coordinator, the
//! updates published to the people it affects, and the review it closes with.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MajorIncidents {
    Table,
    Id,
    TicketId,
    Status,
    CoordinatorId,
    DeclaredBy,
    DeclaredAt,
    ResolvedAt,
    ClosedAt,
    Cause,
    Actions,
    ProblemId,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MajorIncidentUpdates {
    Table,
    Id,
    MajorIncidentId,
    Body,
    PublishedById,
    PublishedBy,
    PublishedAt,
    Recipients,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MajorIncidents::Table)
                    .col(big_pk_auto(MajorIncidents::Id))
                    // One major incident per incident ticket.
                    .col(big_integer(MajorIncidents::TicketId).unique_key())
                    .col(string(MajorIncidents::Status))
                    .col(big_integer_null(MajorIncidents::CoordinatorId))
                    .col(string(MajorIncidents::DeclaredBy))
                    .col(timestamp_with_time_zone(MajorIncidents::DeclaredAt))
                    .col(timestamp_with_time_zone_null(MajorIncidents::ResolvedAt))
                    .col(timestamp_with_time_zone_null(MajorIncidents::ClosedAt))
                    .col(text_null(MajorIncidents::Cause))
                    .col(text_null(MajorIncidents::Actions))
                    .col(big_integer_null(MajorIncidents::ProblemId))
                    .col(integer(MajorIncidents::Version))
                    .col(timestamp_with_time_zone(MajorIncidents::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MajorIncidents::Table, MajorIncidents::TicketId)
                            .to(Tickets::Table, Tickets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The dashboard lists the ones under way.
        manager
            .create_index(
                Index::create()
                    .name("idx_major_incidents_status")
                    .table(MajorIncidents::Table)
                    .col(MajorIncidents::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MajorIncidentUpdates::Table)
                    .col(big_pk_auto(MajorIncidentUpdates::Id))
                    .col(big_integer(MajorIncidentUpdates::MajorIncidentId))
                    .col(text(MajorIncidentUpdates::Body))
                    .col(big_integer_null(MajorIncidentUpdates::PublishedById))
                    .col(string(MajorIncidentUpdates::PublishedBy))
                    .col(timestamp_with_time_zone(MajorIncidentUpdates::PublishedAt))
                    // How many people it was published to.
                    .col(integer(MajorIncidentUpdates::Recipients))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                MajorIncidentUpdates::Table,
                                MajorIncidentUpdates::MajorIncidentId,
                            )
                            .to(MajorIncidents::Table, MajorIncidents::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_major_incident_updates_incident")
                    .table(MajorIncidentUpdates::Table)
                    .col(MajorIncidentUpdates::MajorIncidentId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MajorIncidentUpdates::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MajorIncidents::Table).to_owned())
            .await?;
        Ok(())
    }
}
