//! Mail out: the notifications queued from the event log and their delivery record, the
//! templates admins changed, the notifications people turned off, and the outbox's
//! cursor on the log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailDeliveries {
    Table,
    Id,
    Seq,
    Kind,
    UserId,
    ToAddress,
    TicketId,
    Subject,
    TextBody,
    HtmlBody,
    MessageId,
    References,
    State,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum NotificationTemplates {
    Table,
    Kind,
    Subject,
    TextBody,
    HtmlBody,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum NotificationOptOuts {
    Table,
    UserId,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConsumerCursors {
    Table,
    Name,
    Seq,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailDeliveries::Table)
                    .col(big_pk_auto(MailDeliveries::Id))
                    .col(big_integer(MailDeliveries::Seq))
                    .col(string(MailDeliveries::Kind))
                    .col(big_integer(MailDeliveries::UserId))
                    .col(string(MailDeliveries::ToAddress))
                    .col(big_integer_null(MailDeliveries::TicketId))
                    .col(string(MailDeliveries::Subject))
                    .col(text(MailDeliveries::TextBody))
                    .col(text_null(MailDeliveries::HtmlBody))
                    .col(string(MailDeliveries::MessageId))
                    .col(string_null(MailDeliveries::References))
                    .col(string(MailDeliveries::State))
                    .col(integer(MailDeliveries::Attempts))
                    .col(timestamp_with_time_zone_null(MailDeliveries::NextAttemptAt))
                    .col(string_null(MailDeliveries::LastError))
                    .col(timestamp_with_time_zone(MailDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(MailDeliveries::SentAt))
                    .to_owned(),
            )
            .await?;
        // One notification of a kind per person per event, whatever happens.
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_deliveries_once")
                    .table(MailDeliveries::Table)
                    .col(MailDeliveries::Seq)
                    .col(MailDeliveries::Kind)
                    .col(MailDeliveries::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // What the sender looks for: the pending ones falling due.
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_deliveries_due")
                    .table(MailDeliveries::Table)
                    .col(MailDeliveries::State)
                    .col(MailDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationTemplates::Table)
                    .col(string(NotificationTemplates::Kind).primary_key())
                    .col(string(NotificationTemplates::Subject))
                    .col(text(NotificationTemplates::TextBody))
                    .col(text_null(NotificationTemplates::HtmlBody))
                    .col(timestamp_with_time_zone(NotificationTemplates::UpdatedAt))
                    .col(big_integer_null(NotificationTemplates::UpdatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationOptOuts::Table)
                    .col(big_integer(NotificationOptOuts::UserId))
                    .col(string(NotificationOptOuts::Kind))
                    .col(timestamp_with_time_zone(NotificationOptOuts::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(NotificationOptOuts::UserId)
                            .col(NotificationOptOuts::Kind),
                    )
                    .to_owned(),
            )
            .await?;
        // The outbox starts at the end of the log: a desk that turns mail on is not
        // sent its whole history.
        let start = Query::select()
            .expr(Expr::cust("'notifications'"))
            .expr(Func::coalesce([Expr::col(Events::Seq).max(), Expr::val(0)]))
            .from(Events::Table)
            .to_owned();
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ConsumerCursors::Table)
                    .columns([ConsumerCursors::Name, ConsumerCursors::Seq])
                    .select_from(start)
                    .map_err(|e| DbErr::Migration(e.to_string()))?
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(ConsumerCursors::Table)
                    .and_where(Expr::col(ConsumerCursors::Name).eq("notifications"))
                    .to_owned(),
            )
            .await?;
        for table in [
            MailDeliveries::Table.into_iden(),
            NotificationTemplates::Table.into_iden(),
            NotificationOptOuts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
