//! The monthly service report's mailing (which services' owners asked for it, and the
//! last month sent, so that each month goes once whichever replica sends it) and its
//! index (a service's tickets of a month); and the people of a supplier: a user may
//! belong to a supplier, as to an organization, and then sees the tickets handed to it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServiceReportMailings {
    Table,
    ServiceId,
    LastSentMonth,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    SupplierId,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    ServiceId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceReportMailings::Table)
                    .col(big_integer(ServiceReportMailings::ServiceId).primary_key())
                    .col(string_null(ServiceReportMailings::LastSentMonth))
                    .col(timestamp_with_time_zone(ServiceReportMailings::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer_null(Users::SupplierId))
                    .to_owned(),
            )
            .await?;
        // A service's report reads its tickets of a month (and the SLA report its
        // tickets): no index served the service until now.
        manager
            .create_index(
                Index::create()
                    .name("idx_tickets_service")
                    .table(Tickets::Table)
                    .col(Tickets::ServiceId)
                    .col(Tickets::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tickets_service")
                    .table(Tickets::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::SupplierId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ServiceReportMailings::Table).to_owned())
            .await
    }
}
