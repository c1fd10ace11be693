//! SLAs: business calendars, SLA policies, and each ticket's clocks with the ledger of
//! their running and paused segments.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Calendars {
    Table,
    Id,
    Name,
    TimeZone,
    Week,
    Holidays,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SlaPolicies {
    Table,
    Id,
    Position,
    Name,
    Active,
    MatchKind,
    MatchPriority,
    MatchServiceId,
    MatchCategoryId,
    MatchOrganizationId,
    CalendarId,
    ResponseMinutes,
    ResolutionMinutes,
    WarnPercents,
    PauseReasons,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SlaClocks {
    Table,
    Id,
    TicketId,
    Metric,
    PolicyId,
    CalendarId,
    TargetSeconds,
    WarnPercents,
    State,
    ElapsedMs,
    RunningSince,
    DueAt,
    NextAlertAt,
    AlertsSent,
    BreachedAt,
    StoppedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SlaClockSegments {
    Table,
    Id,
    ClockId,
    State,
    Reason,
    StartedAt,
    EndedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Calendars::Table)
                    .col(big_pk_auto(Calendars::Id))
                    .col(string(Calendars::Name).unique_key())
                    .col(string(Calendars::TimeZone))
                    .col(json(Calendars::Week))
                    .col(json(Calendars::Holidays))
                    .col(timestamp_with_time_zone(Calendars::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SlaPolicies::Table)
                    .col(big_pk_auto(SlaPolicies::Id))
                    .col(integer(SlaPolicies::Position))
                    .col(string(SlaPolicies::Name))
                    .col(boolean(SlaPolicies::Active).default(true))
                    .col(string_null(SlaPolicies::MatchKind))
                    .col(small_integer_null(SlaPolicies::MatchPriority))
                    .col(big_integer_null(SlaPolicies::MatchServiceId))
                    .col(big_integer_null(SlaPolicies::MatchCategoryId))
                    .col(big_integer_null(SlaPolicies::MatchOrganizationId))
                    // No calendar: the built-in 24x7.
                    .col(big_integer_null(SlaPolicies::CalendarId))
                    .col(integer_null(SlaPolicies::ResponseMinutes))
                    .col(integer_null(SlaPolicies::ResolutionMinutes))
                    .col(json(SlaPolicies::WarnPercents))
                    .col(json(SlaPolicies::PauseReasons))
                    .col(timestamp_with_time_zone(SlaPolicies::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SlaPolicies::Table, SlaPolicies::CalendarId)
                            .to(Calendars::Table, Calendars::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SlaClocks::Table)
                    .col(big_pk_auto(SlaClocks::Id))
                    .col(big_integer(SlaClocks::TicketId))
                    .col(string(SlaClocks::Metric))
                    .col(big_integer(SlaClocks::PolicyId))
                    .col(big_integer_null(SlaClocks::CalendarId))
                    .col(big_integer(SlaClocks::TargetSeconds))
                    .col(json(SlaClocks::WarnPercents))
                    .col(string(SlaClocks::State))
                    .col(big_integer(SlaClocks::ElapsedMs))
                    .col(timestamp_with_time_zone_null(SlaClocks::RunningSince))
                    .col(timestamp_with_time_zone_null(SlaClocks::DueAt))
                    .col(timestamp_with_time_zone_null(SlaClocks::NextAlertAt))
                    .col(integer(SlaClocks::AlertsSent))
                    .col(timestamp_with_time_zone_null(SlaClocks::BreachedAt))
                    .col(timestamp_with_time_zone_null(SlaClocks::StoppedAt))
                    .col(timestamp_with_time_zone(SlaClocks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SlaClocks::Table, SlaClocks::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SlaClocks::Table, SlaClocks::PolicyId)
                            .to(SlaPolicies::Table, SlaPolicies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sla_clocks_ticket")
                    .table(SlaClocks::Table)
                    .col(SlaClocks::TicketId)
                    .col(SlaClocks::Metric)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The SLA engine reads only the clocks whose next alert is due: this index.
        manager
            .create_index(
                Index::create()
                    .name("idx_sla_clocks_next_alert")
                    .table(SlaClocks::Table)
                    .col(SlaClocks::NextAlertAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SlaClockSegments::Table)
                    .col(big_pk_auto(SlaClockSegments::Id))
                    .col(big_integer(SlaClockSegments::ClockId))
                    .col(string(SlaClockSegments::State))
                    .col(string(SlaClockSegments::Reason))
                    .col(timestamp_with_time_zone(SlaClockSegments::StartedAt))
                    .col(timestamp_with_time_zone_null(SlaClockSegments::EndedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SlaClockSegments::Table, SlaClockSegments::ClockId)
                            .to(SlaClocks::Table, SlaClocks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sla_clock_segments_clock")
                    .table(SlaClockSegments::Table)
                    .col(SlaClockSegments::ClockId)
                    .col(SlaClockSegments::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SlaClockSegments::Table.into_iden(),
            SlaClocks::Table.into_iden(),
            SlaPolicies::Table.into_iden(),
            Calendars::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
