//! Mail out with files: a notification template may say that its mail carries the
//! files of the comment it tells of, and a queued mail names those files.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NotificationTemplates {
    Table,
    IncludeAttachments,
}

#[derive(DeriveIden)]
enum MailDeliveries {
    Table,
    AttachmentIds,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationTemplates::Table)
                    .add_column(boolean_null(NotificationTemplates::IncludeAttachments))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MailDeliveries::Table)
                    // A JSON list of attachment ids, read when the mail is sent.
                    .add_column(text_null(MailDeliveries::AttachmentIds))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
