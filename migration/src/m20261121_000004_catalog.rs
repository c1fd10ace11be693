//! The service catalog: services, orderable items with their forms, the answers stored
//! with each request, and approvals.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    ManagerId,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
    Name,
    Description,
    Category,
    OwnerGroupId,
    SupportGroupId,
    Lifecycle,
    Criticality,
    CalendarId,
    Price,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CatalogItems {
    Table,
    Id,
    ServiceId,
    Name,
    Description,
    FulfillmentGroupId,
    Approval,
    ApprovalGroupId,
    Variables,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CatalogRequests {
    Table,
    TicketId,
    ItemId,
    Answers,
    ApprovalState,
    ApproverUserId,
    ApproverGroupId,
    DecidedBy,
    DecidedAt,
    Decision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer_null(Users::ManagerId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Services::Table)
                    .col(big_pk_auto(Services::Id))
                    .col(string(Services::Name).unique_key())
                    .col(text(Services::Description))
                    .col(string(Services::Category))
                    .col(big_integer_null(Services::OwnerGroupId))
                    .col(big_integer_null(Services::SupportGroupId))
                    .col(string(Services::Lifecycle))
                    .col(string(Services::Criticality))
                    .col(big_integer_null(Services::CalendarId))
                    .col(string(Services::Price))
                    .col(timestamp_with_time_zone(Services::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Services::Table, Services::OwnerGroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Services::Table, Services::SupportGroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_services_lifecycle")
                    .table(Services::Table)
                    .col(Services::Lifecycle)
                    .col(Services::Name)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CatalogItems::Table)
                    .col(big_pk_auto(CatalogItems::Id))
                    .col(big_integer(CatalogItems::ServiceId))
                    .col(string(CatalogItems::Name))
                    .col(text(CatalogItems::Description))
                    .col(big_integer(CatalogItems::FulfillmentGroupId))
                    .col(string(CatalogItems::Approval))
                    .col(big_integer_null(CatalogItems::ApprovalGroupId))
                    .col(json(CatalogItems::Variables))
                    .col(boolean(CatalogItems::Active).default(true))
                    .col(timestamp_with_time_zone(CatalogItems::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CatalogItems::Table, CatalogItems::ServiceId)
                            .to(Services::Table, Services::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CatalogItems::Table, CatalogItems::FulfillmentGroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CatalogItems::Table, CatalogItems::ApprovalGroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_catalog_items_service")
                    .table(CatalogItems::Table)
                    .col(CatalogItems::ServiceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CatalogRequests::Table)
                    .col(big_integer(CatalogRequests::TicketId).primary_key())
                    .col(big_integer(CatalogRequests::ItemId))
                    .col(json(CatalogRequests::Answers))
                    .col(string(CatalogRequests::ApprovalState))
                    .col(big_integer_null(CatalogRequests::ApproverUserId))
                    .col(big_integer_null(CatalogRequests::ApproverGroupId))
                    .col(big_integer_null(CatalogRequests::DecidedBy))
                    .col(timestamp_with_time_zone_null(CatalogRequests::DecidedAt))
                    .col(text_null(CatalogRequests::Decision))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CatalogRequests::Table, CatalogRequests::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CatalogRequests::Table, CatalogRequests::ItemId)
                            .to(CatalogItems::Table, CatalogItems::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            (
                "idx_catalog_requests_approver_user",
                CatalogRequests::ApproverUserId,
            ),
            (
                "idx_catalog_requests_approver_group",
                CatalogRequests::ApproverGroupId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(CatalogRequests::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CatalogRequests::Table.into_iden(),
            CatalogItems::Table.into_iden(),
            Services::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::ManagerId)
                    .to_owned(),
            )
            .await
    }
}
