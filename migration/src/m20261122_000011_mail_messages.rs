//! The email channel's inbound record: every message received, recorded by its
//! Message-ID before it is processed, with what became of it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailMessages {
    Table,
    Id,
    MessageId,
    Source,
    Sender,
    Subject,
    State,
    Reason,
    TicketId,
    Size,
    Raw,
    ReceivedAt,
    ProcessedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailMessages::Table)
                    .col(big_pk_auto(MailMessages::Id))
                    .col(string(MailMessages::MessageId))
                    .col(string(MailMessages::Source))
                    .col(string(MailMessages::Sender))
                    .col(string(MailMessages::Subject))
                    .col(string(MailMessages::State))
                    .col(string_null(MailMessages::Reason))
                    .col(big_integer_null(MailMessages::TicketId))
                    .col(integer(MailMessages::Size))
                    .col(text(MailMessages::Raw))
                    .col(timestamp_with_time_zone(MailMessages::ReceivedAt))
                    .col(timestamp_with_time_zone_null(MailMessages::ProcessedAt))
                    .to_owned(),
            )
            .await?;
        // A message seen twice (fetched again, piped again) is found, not made twice.
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_messages_message_id")
                    .table(MailMessages::Table)
                    .col(MailMessages::MessageId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // What admins look through: the messages set aside.
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_messages_state")
                    .table(MailMessages::Table)
                    .col(MailMessages::State)
                    .col(MailMessages::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MailMessages::Table).to_owned())
            .await
    }
}
