//! The live pipeline: a gap-free sequence number given to each event when the relay
//! publishes it, and the relay's own position.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
}

#[derive(DeriveIden)]
enum RelayState {
    Table,
    Id,
    LastSeq,
    PublishedSeq,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(big_integer_null(Events::Seq))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_events_seq")
                    .table(Events::Table)
                    .col(Events::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RelayState::Table)
                    .col(integer(RelayState::Id).primary_key())
                    .col(big_integer(RelayState::LastSeq))
                    .col(big_integer(RelayState::PublishedSeq))
                    .to_owned(),
            )
            .await?;
        let seed = Query::insert()
            .into_table(RelayState::Table)
            .columns([
                RelayState::Id,
                RelayState::LastSeq,
                RelayState::PublishedSeq,
            ])
            .values_panic([1.into(), 0i64.into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RelayState::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_events_seq")
                    .table(Events::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::Seq)
                    .to_owned(),
            )
            .await
    }
}
