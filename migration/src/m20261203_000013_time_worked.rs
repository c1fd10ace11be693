//! Time worked on tickets: the entries agents record (with the ticket's group,
//! organization and service as they were, so that monthly totals and the cost of a
//! service never drift when a ticket moves later), and the timers running now.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TimeEntries {
    Table,
    Id,
    TicketId,
    UserId,
    UserName,
    Minutes,
    WorkedOn,
    Month,
    Activity,
    Billable,
    Note,
    GroupId,
    OrganizationId,
    ServiceId,
    CommentId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TimeTimers {
    Table,
    Id,
    TicketId,
    UserId,
    StartedAt,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
}

fn index(name: &str, table: impl IntoIden, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TimeEntries::Table)
                    .col(big_pk_auto(TimeEntries::Id))
                    .col(big_integer(TimeEntries::TicketId))
                    .col(big_integer_null(TimeEntries::UserId))
                    .col(string(TimeEntries::UserName))
                    .col(integer(TimeEntries::Minutes))
                    // `YYYY-MM-DD` and `YYYY-MM`: the same text on both backends, compared
                    // and grouped as text.
                    .col(string_len(TimeEntries::WorkedOn, 10))
                    .col(string_len(TimeEntries::Month, 7))
                    .col(string(TimeEntries::Activity))
                    .col(boolean(TimeEntries::Billable))
                    .col(text(TimeEntries::Note))
                    .col(big_integer_null(TimeEntries::GroupId))
                    .col(big_integer_null(TimeEntries::OrganizationId))
                    .col(big_integer_null(TimeEntries::ServiceId))
                    .col(big_integer_null(TimeEntries::CommentId))
                    .col(timestamp_with_time_zone(TimeEntries::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TimeEntries::Table, TimeEntries::TicketId)
                            .to(Tickets::Table, Tickets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A ticket's entries; and each dimension the monthly totals group by, with the
        // day worked, for a period's report.
        for (name, columns) in [
            ("idx_time_entries_ticket", &["ticket_id", "id"][..]),
            ("idx_time_entries_worked_on", &["worked_on"][..]),
            ("idx_time_entries_group", &["group_id", "worked_on"][..]),
            (
                "idx_time_entries_organization",
                &["organization_id", "worked_on"][..],
            ),
            ("idx_time_entries_service", &["service_id", "worked_on"][..]),
            ("idx_time_entries_user", &["user_id", "worked_on"][..]),
        ] {
            manager
                .create_index(index(name, TimeEntries::Table, columns))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(TimeTimers::Table)
                    .col(big_pk_auto(TimeTimers::Id))
                    .col(big_integer(TimeTimers::TicketId))
                    .col(big_integer(TimeTimers::UserId))
                    .col(timestamp_with_time_zone(TimeTimers::StartedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TimeTimers::Table, TimeTimers::TicketId)
                            .to(Tickets::Table, Tickets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One running timer per person and ticket.
        manager
            .create_index(
                index(
                    "idx_time_timers_once",
                    TimeTimers::Table,
                    &["user_id", "ticket_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TimeTimers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TimeEntries::Table).to_owned())
            .await?;
        Ok(())
    }
}
