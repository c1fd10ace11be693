//! The service desk core: organizations, groups, categories, tickets, comments,
//! assignment rules, desk settings, and the event log every change is appended to.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    OrganizationId,
    Available,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    RequestersSeeAllTickets,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    Name,
    Description,
    Tier,
    ManagerId,
    EscalationGroupId,
    LastAssignedUserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    GroupId,
    UserId,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    Name,
    ParentId,
    Path,
}

#[derive(DeriveIden)]
enum TicketCounters {
    Table,
    Kind,
    LastNumber,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    Number,
    Kind,
    Status,
    Title,
    Description,
    Impact,
    Urgency,
    Priority,
    CategoryId,
    RequesterId,
    OrganizationId,
    GroupId,
    AssigneeId,
    Channel,
    ServiceId,
    PendingReason,
    ResolutionCode,
    ResolutionNotes,
    EscalationLevel,
    ManagerFlaggedAt,
    RoutedByRuleId,
    SearchText,
    InternalSearchText,
    CreatedAt,
    UpdatedAt,
    FirstResponseAt,
    ResolvedAt,
    ClosedAt,
    Version,
}

#[derive(DeriveIden)]
enum TicketConfigurationItems {
    Table,
    TicketId,
    ConfigurationItemId,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    TicketId,
    AuthorId,
    AuthorName,
    Body,
    Internal,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AssignmentRules {
    Table,
    Id,
    Position,
    Name,
    Active,
    MatchKind,
    MatchCategoryId,
    MatchServiceId,
    MatchConfigurationItemId,
    MatchPriority,
    MatchOrganizationId,
    MatchTitleWords,
    GroupId,
    AgentStrategy,
    FlagManager,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DeskSettings {
    Table,
    Id,
    Settings,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Topic,
    EntityType,
    EntityId,
    ActorId,
    ActorName,
    Internal,
    Payload,
    CreatedAt,
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
                    .table(Organizations::Table)
                    .col(big_pk_auto(Organizations::Id))
                    .col(string(Organizations::Name).unique_key())
                    .col(boolean(Organizations::RequestersSeeAllTickets).default(false))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer_null(Users::OrganizationId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(boolean(Users::Available).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_users_organization",
                Users::Table,
                &["organization_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(big_pk_auto(Groups::Id))
                    .col(string(Groups::Name).unique_key())
                    .col(string(Groups::Description).default(""))
                    .col(small_integer(Groups::Tier).default(1))
                    .col(big_integer_null(Groups::ManagerId))
                    .col(big_integer_null(Groups::EscalationGroupId))
                    .col(big_integer_null(Groups::LastAssignedUserId))
                    .col(timestamp_with_time_zone(Groups::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Groups::Table, Groups::ManagerId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Groups::Table, Groups::EscalationGroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMembers::Table)
                    .col(big_integer(GroupMembers::GroupId))
                    .col(big_integer(GroupMembers::UserId))
                    .primary_key(
                        Index::create()
                            .col(GroupMembers::GroupId)
                            .col(GroupMembers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_group_members_user",
                GroupMembers::Table,
                &["user_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(big_pk_auto(Categories::Id))
                    .col(string(Categories::Name))
                    .col(big_integer_null(Categories::ParentId))
                    .col(string(Categories::Path).unique_key())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Categories::Table, Categories::ParentId)
                            .to(Categories::Table, Categories::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketCounters::Table)
                    .col(string(TicketCounters::Kind).primary_key())
                    .col(big_integer(TicketCounters::LastNumber).default(0))
                    .to_owned(),
            )
            .await?;
        let mut seed = Query::insert();
        seed.into_table(TicketCounters::Table)
            .columns([TicketCounters::Kind, TicketCounters::LastNumber]);
        for kind in ["INCIDENT", "SERVICE_REQUEST", "PROBLEM", "CHANGE"] {
            seed.values_panic([kind.into(), 0i64.into()]);
        }
        manager.exec_stmt(seed).await?;

        manager
            .create_table(
                Table::create()
                    .table(Tickets::Table)
                    .col(big_pk_auto(Tickets::Id))
                    .col(string(Tickets::Number).unique_key())
                    .col(string(Tickets::Kind))
                    .col(string(Tickets::Status))
                    .col(string(Tickets::Title))
                    .col(text(Tickets::Description))
                    .col(string(Tickets::Impact))
                    .col(string(Tickets::Urgency))
                    .col(small_integer(Tickets::Priority))
                    .col(big_integer_null(Tickets::CategoryId))
                    .col(big_integer_null(Tickets::RequesterId))
                    .col(big_integer_null(Tickets::OrganizationId))
                    .col(big_integer_null(Tickets::GroupId))
                    .col(big_integer_null(Tickets::AssigneeId))
                    .col(string(Tickets::Channel))
                    .col(big_integer_null(Tickets::ServiceId))
                    .col(string_null(Tickets::PendingReason))
                    .col(string_null(Tickets::ResolutionCode))
                    .col(text_null(Tickets::ResolutionNotes))
                    .col(integer(Tickets::EscalationLevel).default(0))
                    .col(timestamp_with_time_zone_null(Tickets::ManagerFlaggedAt))
                    .col(big_integer_null(Tickets::RoutedByRuleId))
                    .col(text(Tickets::SearchText))
                    .col(text(Tickets::InternalSearchText))
                    .col(timestamp_with_time_zone(Tickets::CreatedAt))
                    .col(timestamp_with_time_zone(Tickets::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Tickets::FirstResponseAt))
                    .col(timestamp_with_time_zone_null(Tickets::ResolvedAt))
                    .col(timestamp_with_time_zone_null(Tickets::ClosedAt))
                    .col(integer(Tickets::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tickets::Table, Tickets::CategoryId)
                            .to(Categories::Table, Categories::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tickets::Table, Tickets::RequesterId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tickets::Table, Tickets::OrganizationId)
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tickets::Table, Tickets::GroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tickets::Table, Tickets::AssigneeId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One index per filter and sort a client can ask for; the id breaks ties in keyset order.
        for (name, columns) in [
            ("idx_tickets_status", &["status", "id"][..]),
            ("idx_tickets_kind", &["kind", "id"]),
            ("idx_tickets_priority", &["priority", "id"]),
            ("idx_tickets_group", &["group_id", "id"]),
            ("idx_tickets_assignee", &["assignee_id", "status"]),
            ("idx_tickets_requester", &["requester_id", "id"]),
            ("idx_tickets_organization", &["organization_id", "id"]),
            ("idx_tickets_category", &["category_id", "id"]),
            ("idx_tickets_created", &["created_at", "id"]),
            ("idx_tickets_updated", &["updated_at", "id"]),
            ("idx_tickets_resolved", &["status", "resolved_at"]),
        ] {
            manager
                .create_index(index(name, Tickets::Table, columns))
                .await?;
        }
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            // Substring search (LIKE '%word%') needs trigram indexes on PostgreSQL.
            let db = manager.get_connection();
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await?;
            db.execute_unprepared(
                "CREATE INDEX idx_tickets_search ON tickets USING gin (search_text gin_trgm_ops)",
            )
            .await?;
            db.execute_unprepared(
                "CREATE INDEX idx_tickets_internal_search ON tickets USING gin (internal_search_text gin_trgm_ops)",
            )
            .await?;
        }

        // Tickets reference configuration items; the CMDB that owns them comes later.
        manager
            .create_table(
                Table::create()
                    .table(TicketConfigurationItems::Table)
                    .col(big_integer(TicketConfigurationItems::TicketId))
                    .col(big_integer(TicketConfigurationItems::ConfigurationItemId))
                    .primary_key(
                        Index::create()
                            .col(TicketConfigurationItems::TicketId)
                            .col(TicketConfigurationItems::ConfigurationItemId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                TicketConfigurationItems::Table,
                                TicketConfigurationItems::TicketId,
                            )
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(big_pk_auto(Comments::Id))
                    .col(big_integer(Comments::TicketId))
                    .col(big_integer_null(Comments::AuthorId))
                    .col(string(Comments::AuthorName))
                    .col(text(Comments::Body))
                    .col(boolean(Comments::Internal))
                    .col(timestamp_with_time_zone(Comments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Comments::Table, Comments::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Comments::Table, Comments::AuthorId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_comments_ticket",
                Comments::Table,
                &["ticket_id", "id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AssignmentRules::Table)
                    .col(big_pk_auto(AssignmentRules::Id))
                    .col(integer(AssignmentRules::Position))
                    .col(string(AssignmentRules::Name))
                    .col(boolean(AssignmentRules::Active).default(true))
                    .col(string_null(AssignmentRules::MatchKind))
                    .col(big_integer_null(AssignmentRules::MatchCategoryId))
                    .col(big_integer_null(AssignmentRules::MatchServiceId))
                    .col(big_integer_null(AssignmentRules::MatchConfigurationItemId))
                    .col(small_integer_null(AssignmentRules::MatchPriority))
                    .col(big_integer_null(AssignmentRules::MatchOrganizationId))
                    .col(string_null(AssignmentRules::MatchTitleWords))
                    .col(big_integer(AssignmentRules::GroupId))
                    .col(string(AssignmentRules::AgentStrategy))
                    .col(boolean(AssignmentRules::FlagManager).default(false))
                    .col(timestamp_with_time_zone(AssignmentRules::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssignmentRules::Table, AssignmentRules::GroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_assignment_rules_position",
                AssignmentRules::Table,
                &["position", "id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DeskSettings::Table)
                    .col(integer(DeskSettings::Id).primary_key())
                    .col(json(DeskSettings::Settings))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(big_pk_auto(Events::Id))
                    .col(string(Events::Topic))
                    .col(string(Events::EntityType))
                    .col(big_integer(Events::EntityId))
                    .col(big_integer_null(Events::ActorId))
                    .col(string(Events::ActorName))
                    .col(boolean(Events::Internal).default(false))
                    .col(json(Events::Payload))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_events_entity",
                Events::Table,
                &["entity_type", "entity_id", "id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Events::Table.into_iden(),
            DeskSettings::Table.into_iden(),
            AssignmentRules::Table.into_iden(),
            Comments::Table.into_iden(),
            TicketConfigurationItems::Table.into_iden(),
            Tickets::Table.into_iden(),
            TicketCounters::Table.into_iden(),
            Categories::Table.into_iden(),
            GroupMembers::Table.into_iden(),
            Groups::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_users_organization")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Users::OrganizationId, Users::Available] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Organizations::Table).to_owned())
            .await
    }
}
