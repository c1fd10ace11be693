//! Agreements of three kinds on the SLA clock engine: a policy is an SLA (with a
//! customer, or for everyone), an OLA (with an internal support group: its clock runs
//! while the ticket sits with that group) or an underpinning contract (with a supplier:
//! its clock runs while the ticket is handed to the supplier). Agreements have a
//! validity period, a review date and a document; suppliers are a new party, with
//! contacts and a manager; a clock says which agreement, group or supplier it counts
//! for.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Suppliers {
    Table,
    Id,
    Name,
    Description,
    ManagerId,
    Contacts,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum SlaPolicies {
    Table,
    Agreement,
    MatchGroupId,
    SupplierId,
    ValidFrom,
    ValidUntil,
    ReviewAt,
    ReviewAnnounced,
    DocumentUrl,
}

#[derive(DeriveIden)]
enum SlaClocks {
    Table,
    TicketId,
    Metric,
    Agreement,
    GroupId,
    SupplierId,
    PartyId,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    SupplierId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Suppliers::Table)
                    .col(big_pk_auto(Suppliers::Id))
                    .col(string(Suppliers::Name).unique_key())
                    .col(text(Suppliers::Description))
                    .col(big_integer_null(Suppliers::ManagerId))
                    .col(json(Suppliers::Contacts))
                    .col(timestamp_with_time_zone(Suppliers::CreatedAt))
                    .col(timestamp_with_time_zone(Suppliers::UpdatedAt))
                    .col(integer(Suppliers::Version))
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement.
        for column in [
            string(SlaPolicies::Agreement).default("SLA").to_owned(),
            big_integer_null(SlaPolicies::MatchGroupId),
            big_integer_null(SlaPolicies::SupplierId),
            timestamp_with_time_zone_null(SlaPolicies::ValidFrom),
            timestamp_with_time_zone_null(SlaPolicies::ValidUntil),
            timestamp_with_time_zone_null(SlaPolicies::ReviewAt),
            boolean(SlaPolicies::ReviewAnnounced)
                .default(false)
                .to_owned(),
            string_null(SlaPolicies::DocumentUrl),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SlaPolicies::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            string(SlaClocks::Agreement).default("SLA").to_owned(),
            big_integer_null(SlaClocks::GroupId),
            big_integer_null(SlaClocks::SupplierId),
            big_integer(SlaClocks::PartyId).default(0).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SlaClocks::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // One clock a metric for the customer and one for each group or supplier the
        // ticket reaches: the party (0 for the customer) is part of the key.
        // (Raw, as both databases say it: SQLite's DROP INDEX names no table.)
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_sla_clocks_ticket")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sla_clocks_party")
                    .table(SlaClocks::Table)
                    .col(SlaClocks::TicketId)
                    .col(SlaClocks::Metric)
                    .col(SlaClocks::Agreement)
                    .col(SlaClocks::PartyId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tickets::Table)
                    .add_column(big_integer_null(Tickets::SupplierId))
                    .to_owned(),
            )
            .await?;
        // A supplier's open tickets.
        manager
            .create_index(
                Index::create()
                    .name("idx_tickets_supplier")
                    .table(Tickets::Table)
                    .col(Tickets::SupplierId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tickets_supplier")
                    .table(Tickets::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tickets::Table)
                    .drop_column(Tickets::SupplierId)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_sla_clocks_party")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sla_clocks_ticket")
                    .table(SlaClocks::Table)
                    .col(SlaClocks::TicketId)
                    .col(SlaClocks::Metric)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for column in [
            SlaClocks::Agreement,
            SlaClocks::GroupId,
            SlaClocks::SupplierId,
            SlaClocks::PartyId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SlaClocks::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            SlaPolicies::Agreement,
            SlaPolicies::MatchGroupId,
            SlaPolicies::SupplierId,
            SlaPolicies::ValidFrom,
            SlaPolicies::ValidUntil,
            SlaPolicies::ReviewAt,
            SlaPolicies::ReviewAnnounced,
            SlaPolicies::DocumentUrl,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SlaPolicies::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Suppliers::Table).to_owned())
            .await
    }
}
