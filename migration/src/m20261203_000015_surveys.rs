//! Satisfaction surveys: one per resolved ticket at most, offered to its requester with a
//! link that works without signing in, once, until it expires. The ticket's group,
//! assignee, organization and service are kept as they were at resolution, for the
//! reports.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Surveys {
    Table,
    Id,
    TicketId,
    RequesterId,
    TokenHash,
    GroupId,
    AssigneeId,
    OrganizationId,
    ServiceId,
    OfferedAt,
    ExpiresAt,
    AnsweredAt,
    Rating,
    Comment,
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
                    .table(Surveys::Table)
                    .col(big_pk_auto(Surveys::Id))
                    // At most one survey per ticket, however often it is resolved.
                    .col(big_integer(Surveys::TicketId).unique_key())
                    .col(big_integer(Surveys::RequesterId))
                    // The SHA-256 of the link's token, made when the mail carrying it
                    // is queued; the token itself is only in that mail.
                    .col(string_null(Surveys::TokenHash).unique_key())
                    .col(big_integer_null(Surveys::GroupId))
                    .col(big_integer_null(Surveys::AssigneeId))
                    .col(big_integer_null(Surveys::OrganizationId))
                    .col(big_integer_null(Surveys::ServiceId))
                    .col(timestamp_with_time_zone(Surveys::OfferedAt))
                    .col(timestamp_with_time_zone(Surveys::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Surveys::AnsweredAt))
                    .col(small_integer_null(Surveys::Rating))
                    .col(text_null(Surveys::Comment))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Surveys::Table, Surveys::TicketId)
                            .to(Tickets::Table, Tickets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The reports read a period's surveys by when they were offered.
        manager
            .create_index(
                Index::create()
                    .name("idx_surveys_offered_at")
                    .table(Surveys::Table)
                    .col(Surveys::OfferedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Surveys::Table).to_owned())
            .await?;
        Ok(())
    }
}
