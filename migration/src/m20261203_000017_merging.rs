//! Merging duplicates: a merged ticket names its survivor, and remembers the status it
//! had so that a manager can undo the merge; comments remember the ticket a merge moved
//! them from; and followers, the people besides the requester who are told of a
//! ticket and may read it (a merged duplicate's requester follows the survivor).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    MergedIntoId,
    StatusBeforeMerge,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    MovedFromTicketId,
}

#[derive(DeriveIden)]
enum TicketFollowers {
    Table,
    TicketId,
    UserId,
    FromTicketId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Tickets::Table)
                    .add_column(big_integer_null(Tickets::MergedIntoId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tickets::Table)
                    .add_column(string_null(Tickets::StatusBeforeMerge))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tickets_merged_into")
                    .table(Tickets::Table)
                    .col(Tickets::MergedIntoId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Comments::Table)
                    .add_column(big_integer_null(Comments::MovedFromTicketId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TicketFollowers::Table)
                    .col(big_integer(TicketFollowers::TicketId))
                    .col(big_integer(TicketFollowers::UserId))
                    // The duplicate whose merge made them a follower; none when they
                    // were added otherwise.
                    .col(big_integer_null(TicketFollowers::FromTicketId))
                    .col(timestamp_with_time_zone(TicketFollowers::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(TicketFollowers::TicketId)
                            .col(TicketFollowers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketFollowers::Table, TicketFollowers::TicketId)
                            .to(Tickets::Table, Tickets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The visibility rule asks which tickets a person follows on every request.
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_followers_user")
                    .table(TicketFollowers::Table)
                    .col(TicketFollowers::UserId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TicketFollowers::Table).to_owned())
            .await?;
        Ok(())
    }
}
