//! Webhooks and automation rules: the endpoints partner systems register, each delivery
//! and its attempts, the desk's rules, and where each consumer of the event log stands.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
}

#[derive(DeriveIden)]
enum ConsumerCursors {
    Table,
    Name,
    Seq,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Description,
    Topics,
    Filter,
    Enabled,
    DisabledReason,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    OwnerUserId,
    OwnerTokenId,
    StartSeq,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    Seq,
    Topic,
    MessageId,
    Body,
    State,
    Attempts,
    NextAttemptAt,
    LastStatus,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    StatusCode,
    DurationMs,
    Error,
    ResponseExcerpt,
}

#[derive(DeriveIden)]
enum AutomationRules {
    Table,
    Id,
    Name,
    Description,
    Position,
    Enabled,
    StopProcessing,
    Trigger,
    Conditions,
    Actions,
    RunAsId,
    StartSeq,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsumerCursors::Table)
                    .col(string(ConsumerCursors::Name).primary_key())
                    .col(big_integer(ConsumerCursors::Seq))
                    .to_owned(),
            )
            .await?;
        // The consumers start at the end of the log as it is now: rules and endpoints
        // act on what happens from their creation, not on years of history.
        for consumer in ["webhooks", "automation"] {
            let start = Query::select()
                .expr(Expr::cust(format!("'{consumer}'")))
                .expr(Func::coalesce([
                    Expr::col(Events::Seq).max(),
                    Expr::val(0).into(),
                ]))
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
        }
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(big_pk_auto(WebhookEndpoints::Id))
                    .col(string(WebhookEndpoints::Url))
                    .col(string(WebhookEndpoints::Description))
                    .col(json(WebhookEndpoints::Topics))
                    .col(json(WebhookEndpoints::Filter))
                    .col(boolean(WebhookEndpoints::Enabled))
                    .col(string_null(WebhookEndpoints::DisabledReason))
                    .col(string(WebhookEndpoints::Secret))
                    .col(string_null(WebhookEndpoints::PreviousSecret))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::PreviousSecretUntil,
                    ))
                    .col(big_integer_null(WebhookEndpoints::OwnerUserId))
                    .col(big_integer_null(WebhookEndpoints::OwnerTokenId))
                    .col(big_integer(WebhookEndpoints::StartSeq))
                    .col(integer(WebhookEndpoints::Version))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookEndpoints::Table, WebhookEndpoints::OwnerUserId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookEndpoints::Table, WebhookEndpoints::OwnerTokenId)
                            .to(ApiTokens::Table, ApiTokens::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(big_pk_auto(WebhookDeliveries::Id))
                    .col(big_integer(WebhookDeliveries::EndpointId))
                    .col(big_integer_null(WebhookDeliveries::Seq))
                    .col(string(WebhookDeliveries::Topic))
                    .col(string(WebhookDeliveries::MessageId))
                    .col(text(WebhookDeliveries::Body))
                    .col(string(WebhookDeliveries::State))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::NextAttemptAt,
                    ))
                    .col(integer_null(WebhookDeliveries::LastStatus))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(WebhookDeliveries::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                            .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // An endpoint's log, newest first, and the head of its queue (oldest pending).
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_endpoint")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::EndpointId)
                    .col(WebhookDeliveries::State)
                    .col(WebhookDeliveries::Id)
                    .to_owned(),
            )
            .await?;
        // The sender reads only the deliveries whose next attempt is due.
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(big_pk_auto(WebhookAttempts::Id))
                    .col(big_integer(WebhookAttempts::DeliveryId))
                    .col(timestamp_with_time_zone(WebhookAttempts::AttemptedAt))
                    .col(integer_null(WebhookAttempts::StatusCode))
                    .col(integer(WebhookAttempts::DurationMs))
                    .col(string_null(WebhookAttempts::Error))
                    .col(text_null(WebhookAttempts::ResponseExcerpt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_attempts_delivery")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::DeliveryId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AutomationRules::Table)
                    .col(big_pk_auto(AutomationRules::Id))
                    .col(string(AutomationRules::Name))
                    .col(string(AutomationRules::Description))
                    .col(integer(AutomationRules::Position))
                    .col(boolean(AutomationRules::Enabled))
                    .col(boolean(AutomationRules::StopProcessing))
                    .col(string(AutomationRules::Trigger))
                    .col(json(AutomationRules::Conditions))
                    .col(json(AutomationRules::Actions))
                    .col(big_integer(AutomationRules::RunAsId))
                    .col(big_integer(AutomationRules::StartSeq))
                    .col(integer(AutomationRules::Version))
                    .col(timestamp_with_time_zone(AutomationRules::CreatedAt))
                    .col(timestamp_with_time_zone(AutomationRules::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AutomationRules::Table, AutomationRules::RunAsId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AutomationRules::Table.into_iden(),
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
            ConsumerCursors::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
