//! Typed links between tickets: a child and its parent, an incident and what caused it,
//! a duplicate and its original, and tickets that are related.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TicketLinks {
    Table,
    Id,
    SourceId,
    TargetId,
    Kind,
    CreatedBy,
    CreatedAt,
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
                    .table(TicketLinks::Table)
                    .col(big_pk_auto(TicketLinks::Id))
                    .col(big_integer(TicketLinks::SourceId))
                    .col(big_integer(TicketLinks::TargetId))
                    .col(string(TicketLinks::Kind))
                    .col(string(TicketLinks::CreatedBy))
                    .col(timestamp_with_time_zone(TicketLinks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketLinks::Table, TicketLinks::SourceId)
                            .to(Tickets::Table, Tickets::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketLinks::Table, TicketLinks::TargetId)
                            .to(Tickets::Table, Tickets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A pair is linked once by each kind; each end finds its links by index.
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_links_once")
                    .table(TicketLinks::Table)
                    .col(TicketLinks::SourceId)
                    .col(TicketLinks::TargetId)
                    .col(TicketLinks::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_links_target")
                    .table(TicketLinks::Table)
                    .col(TicketLinks::TargetId)
                    .col(TicketLinks::Kind)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TicketLinks::Table).to_owned())
            .await?;
        Ok(())
    }
}
