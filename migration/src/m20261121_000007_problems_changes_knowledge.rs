//! Problem, change and knowledge management: problems with their incidents and the
//! candidates trend detection proposes; changes with templates, approval policies and
//! votes, freezes and service change windows; articles with their published versions.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    CausedByChangeId,
}

#[derive(DeriveIden)]
enum TicketCounters {
    Table,
    Kind,
    LastNumber,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    ChangeCalendarId,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ConfigurationItems {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Problems {
    Table,
    Id,
    Number,
    Title,
    Description,
    Status,
    Priority,
    RootCause,
    Workaround,
    GroupId,
    AssigneeId,
    CreatedBy,
    KnownErrorAt,
    ResolvedAt,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProblemIncidents {
    Table,
    ProblemId,
    TicketId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProblemConfigurationItems {
    Table,
    ProblemId,
    ConfigurationItemId,
}

#[derive(DeriveIden)]
enum ProblemCandidates {
    Table,
    Id,
    Basis,
    SubjectId,
    IncidentIds,
    State,
    ProblemId,
    DetectedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Changes {
    Table,
    Id,
    Number,
    Title,
    Description,
    ChangeType,
    Status,
    TemplateId,
    Reason,
    ImplementationPlan,
    RollbackPlan,
    TestPlan,
    PlannedStart,
    PlannedEnd,
    Risk,
    RiskAnswers,
    RiskReasons,
    ApprovalGroupId,
    ApprovalRole,
    Quorum,
    GroupId,
    AssigneeId,
    RequestedBy,
    Outcome,
    Review,
    FreezeOverride,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChangeConfigurationItems {
    Table,
    ChangeId,
    ConfigurationItemId,
}

#[derive(DeriveIden)]
enum ChangeTemplates {
    Table,
    Id,
    Name,
    Description,
    ImplementationPlan,
    RollbackPlan,
    TestPlan,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChangeApprovalPolicies {
    Table,
    Id,
    ChangeType,
    Risk,
    ApproverGroupId,
    ApproverRole,
    Quorum,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChangeVotes {
    Table,
    Id,
    ChangeId,
    VoterId,
    Approve,
    Comment,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChangeFreezes {
    Table,
    Id,
    Name,
    StartsAt,
    EndsAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
    Number,
    Title,
    Body,
    CategoryId,
    Tags,
    Status,
    Visibility,
    SearchText,
    PublishedVersion,
    HelpfulYes,
    HelpfulNo,
    AuthorId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum ArticleVersions {
    Table,
    ArticleId,
    Number,
    Title,
    Body,
    SearchText,
    PublishedBy,
    PublishedAt,
}

#[derive(DeriveIden)]
enum ArticleLinks {
    Table,
    Id,
    ArticleId,
    TicketId,
    ProblemId,
}

fn link_table(
    table: impl IntoIden + Copy + 'static,
    left: impl IntoIden + Copy + 'static,
    left_to: (impl IntoIden + 'static, impl IntoIden + 'static),
    right: impl IntoIden + Copy + 'static,
    right_to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(big_integer(left))
        .col(big_integer(right))
        .primary_key(Index::create().col(left).col(right))
        .foreign_key(
            ForeignKey::create()
                .from(table, left)
                .to(left_to.0, left_to.1)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(table, right)
                .to(right_to.0, right_to.1)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: Vec<Alias>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // ---- problems
        manager
            .create_table(
                Table::create()
                    .table(Problems::Table)
                    .col(big_pk_auto(Problems::Id))
                    .col(string(Problems::Number).unique_key())
                    .col(string(Problems::Title))
                    .col(text(Problems::Description))
                    .col(string(Problems::Status))
                    .col(small_integer(Problems::Priority))
                    .col(text(Problems::RootCause))
                    .col(text(Problems::Workaround))
                    .col(big_integer_null(Problems::GroupId))
                    .col(big_integer_null(Problems::AssigneeId))
                    .col(big_integer_null(Problems::CreatedBy))
                    .col(timestamp_with_time_zone_null(Problems::KnownErrorAt))
                    .col(timestamp_with_time_zone_null(Problems::ResolvedAt))
                    .col(timestamp_with_time_zone_null(Problems::ClosedAt))
                    .col(timestamp_with_time_zone(Problems::CreatedAt))
                    .col(timestamp_with_time_zone(Problems::UpdatedAt))
                    .col(integer(Problems::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Problems::Table, Problems::GroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Problems::Table, Problems::AssigneeId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_problems_status",
                Problems::Table,
                vec![Alias::new("status"), Alias::new("id")],
            ))
            .await?;
        manager
            .create_table(link_table(
                ProblemIncidents::Table,
                ProblemIncidents::ProblemId,
                (Problems::Table, Problems::Id),
                ProblemIncidents::TicketId,
                (Tickets::Table, Tickets::Id),
            ))
            .await?;
        manager
            .create_index(index(
                "idx_problem_incidents_ticket",
                ProblemIncidents::Table,
                vec![Alias::new("ticket_id"), Alias::new("problem_id")],
            ))
            .await?;
        manager
            .create_table(link_table(
                ProblemConfigurationItems::Table,
                ProblemConfigurationItems::ProblemId,
                (Problems::Table, Problems::Id),
                ProblemConfigurationItems::ConfigurationItemId,
                (ConfigurationItems::Table, ConfigurationItems::Id),
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProblemCandidates::Table)
                    .col(big_pk_auto(ProblemCandidates::Id))
                    .col(string(ProblemCandidates::Basis))
                    .col(big_integer(ProblemCandidates::SubjectId))
                    .col(json(ProblemCandidates::IncidentIds))
                    .col(string(ProblemCandidates::State))
                    .col(big_integer_null(ProblemCandidates::ProblemId))
                    .col(timestamp_with_time_zone(ProblemCandidates::DetectedAt))
                    .col(timestamp_with_time_zone(ProblemCandidates::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_problem_candidates_subject",
                ProblemCandidates::Table,
                vec![
                    Alias::new("basis"),
                    Alias::new("subject_id"),
                    Alias::new("state"),
                ],
            ))
            .await?;

        // ---- changes
        manager
            .create_table(
                Table::create()
                    .table(ChangeTemplates::Table)
                    .col(big_pk_auto(ChangeTemplates::Id))
                    .col(string(ChangeTemplates::Name).unique_key())
                    .col(text(ChangeTemplates::Description))
                    .col(text(ChangeTemplates::ImplementationPlan))
                    .col(text(ChangeTemplates::RollbackPlan))
                    .col(text(ChangeTemplates::TestPlan))
                    .col(boolean(ChangeTemplates::Active))
                    .col(timestamp_with_time_zone(ChangeTemplates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Changes::Table)
                    .col(big_pk_auto(Changes::Id))
                    .col(string(Changes::Number).unique_key())
                    .col(string(Changes::Title))
                    .col(text(Changes::Description))
                    .col(string(Changes::ChangeType))
                    .col(string(Changes::Status))
                    .col(big_integer_null(Changes::TemplateId))
                    .col(text(Changes::Reason))
                    .col(text(Changes::ImplementationPlan))
                    .col(text(Changes::RollbackPlan))
                    .col(text(Changes::TestPlan))
                    .col(timestamp_with_time_zone_null(Changes::PlannedStart))
                    .col(timestamp_with_time_zone_null(Changes::PlannedEnd))
                    .col(string_null(Changes::Risk))
                    .col(json_null(Changes::RiskAnswers))
                    .col(json_null(Changes::RiskReasons))
                    .col(big_integer_null(Changes::ApprovalGroupId))
                    .col(string_null(Changes::ApprovalRole))
                    .col(integer_null(Changes::Quorum))
                    .col(big_integer_null(Changes::GroupId))
                    .col(big_integer_null(Changes::AssigneeId))
                    .col(big_integer_null(Changes::RequestedBy))
                    .col(string_null(Changes::Outcome))
                    .col(text_null(Changes::Review))
                    .col(boolean(Changes::FreezeOverride).default(false))
                    .col(timestamp_with_time_zone_null(Changes::ClosedAt))
                    .col(timestamp_with_time_zone(Changes::CreatedAt))
                    .col(timestamp_with_time_zone(Changes::UpdatedAt))
                    .col(integer(Changes::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Changes::Table, Changes::TemplateId)
                            .to(ChangeTemplates::Table, ChangeTemplates::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Changes::Table, Changes::GroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Changes::Table, Changes::AssigneeId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The change calendar: changes overlapping a period.
        manager
            .create_index(index(
                "idx_changes_planned",
                Changes::Table,
                vec![Alias::new("planned_start"), Alias::new("planned_end")],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_changes_status",
                Changes::Table,
                vec![Alias::new("status"), Alias::new("id")],
            ))
            .await?;
        // The change report: changes closed in a period.
        manager
            .create_index(index(
                "idx_changes_closed",
                Changes::Table,
                vec![Alias::new("status"), Alias::new("closed_at")],
            ))
            .await?;
        manager
            .create_table(link_table(
                ChangeConfigurationItems::Table,
                ChangeConfigurationItems::ChangeId,
                (Changes::Table, Changes::Id),
                ChangeConfigurationItems::ConfigurationItemId,
                (ConfigurationItems::Table, ConfigurationItems::Id),
            ))
            .await?;
        manager
            .create_index(index(
                "idx_change_cis_by_ci",
                ChangeConfigurationItems::Table,
                vec![Alias::new("configuration_item_id"), Alias::new("change_id")],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChangeApprovalPolicies::Table)
                    .col(big_pk_auto(ChangeApprovalPolicies::Id))
                    .col(string(ChangeApprovalPolicies::ChangeType))
                    .col(string_null(ChangeApprovalPolicies::Risk))
                    .col(big_integer_null(ChangeApprovalPolicies::ApproverGroupId))
                    .col(string_null(ChangeApprovalPolicies::ApproverRole))
                    .col(integer(ChangeApprovalPolicies::Quorum))
                    .col(timestamp_with_time_zone(ChangeApprovalPolicies::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ChangeApprovalPolicies::Table,
                                ChangeApprovalPolicies::ApproverGroupId,
                            )
                            .to(Groups::Table, Groups::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChangeVotes::Table)
                    .col(big_pk_auto(ChangeVotes::Id))
                    .col(big_integer(ChangeVotes::ChangeId))
                    .col(big_integer(ChangeVotes::VoterId))
                    .col(boolean(ChangeVotes::Approve))
                    .col(text(ChangeVotes::Comment))
                    .col(timestamp_with_time_zone(ChangeVotes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChangeVotes::Table, ChangeVotes::ChangeId)
                            .to(Changes::Table, Changes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChangeVotes::Table, ChangeVotes::VoterId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_change_votes_once",
                    ChangeVotes::Table,
                    vec![Alias::new("change_id"), Alias::new("voter_id")],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChangeFreezes::Table)
                    .col(big_pk_auto(ChangeFreezes::Id))
                    .col(string(ChangeFreezes::Name))
                    .col(timestamp_with_time_zone(ChangeFreezes::StartsAt))
                    .col(timestamp_with_time_zone(ChangeFreezes::EndsAt))
                    .col(timestamp_with_time_zone(ChangeFreezes::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_change_freezes_period",
                ChangeFreezes::Table,
                vec![Alias::new("starts_at"), Alias::new("ends_at")],
            ))
            .await?;
        // A service's change window: a calendar whose open hours allow changes.
        manager
            .alter_table(
                Table::alter()
                    .table(Services::Table)
                    .add_column(big_integer_null(Services::ChangeCalendarId))
                    .to_owned(),
            )
            .await?;
        // The change that caused an incident.
        manager
            .alter_table(
                Table::alter()
                    .table(Tickets::Table)
                    .add_column(big_integer_null(Tickets::CausedByChangeId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_tickets_caused_by_change",
                Tickets::Table,
                vec![Alias::new("caused_by_change_id")],
            ))
            .await?;

        // ---- knowledge
        manager
            .create_table(
                Table::create()
                    .table(Articles::Table)
                    .col(big_pk_auto(Articles::Id))
                    .col(string(Articles::Number).unique_key())
                    .col(string(Articles::Title))
                    .col(text(Articles::Body))
                    .col(big_integer_null(Articles::CategoryId))
                    .col(json(Articles::Tags))
                    .col(string(Articles::Status))
                    .col(string(Articles::Visibility))
                    .col(text(Articles::SearchText))
                    .col(integer_null(Articles::PublishedVersion))
                    .col(integer(Articles::HelpfulYes).default(0))
                    .col(integer(Articles::HelpfulNo).default(0))
                    .col(big_integer_null(Articles::AuthorId))
                    .col(timestamp_with_time_zone(Articles::CreatedAt))
                    .col(timestamp_with_time_zone(Articles::UpdatedAt))
                    .col(integer(Articles::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_articles_status",
                Articles::Table,
                vec![Alias::new("status"), Alias::new("visibility")],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ArticleVersions::Table)
                    .col(big_integer(ArticleVersions::ArticleId))
                    .col(integer(ArticleVersions::Number))
                    .col(string(ArticleVersions::Title))
                    .col(text(ArticleVersions::Body))
                    .col(text(ArticleVersions::SearchText))
                    .col(big_integer_null(ArticleVersions::PublishedBy))
                    .col(timestamp_with_time_zone(ArticleVersions::PublishedAt))
                    .primary_key(
                        Index::create()
                            .col(ArticleVersions::ArticleId)
                            .col(ArticleVersions::Number),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ArticleVersions::Table, ArticleVersions::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ArticleLinks::Table)
                    .col(big_pk_auto(ArticleLinks::Id))
                    .col(big_integer(ArticleLinks::ArticleId))
                    .col(big_integer_null(ArticleLinks::TicketId))
                    .col(big_integer_null(ArticleLinks::ProblemId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ArticleLinks::Table, ArticleLinks::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_article_links_article", "article_id"),
            ("idx_article_links_ticket", "ticket_id"),
            ("idx_article_links_problem", "problem_id"),
        ] {
            manager
                .create_index(index(name, ArticleLinks::Table, vec![Alias::new(col)]))
                .await?;
        }
        let mut counter = Query::insert();
        counter
            .into_table(TicketCounters::Table)
            .columns([TicketCounters::Kind, TicketCounters::LastNumber])
            .values_panic(["ARTICLE".into(), 0i64.into()]);
        manager.exec_stmt(counter).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ArticleLinks::Table.into_iden(),
            ArticleVersions::Table.into_iden(),
            Articles::Table.into_iden(),
            ChangeFreezes::Table.into_iden(),
            ChangeVotes::Table.into_iden(),
            ChangeApprovalPolicies::Table.into_iden(),
            ChangeConfigurationItems::Table.into_iden(),
            Changes::Table.into_iden(),
            ChangeTemplates::Table.into_iden(),
            ProblemCandidates::Table.into_iden(),
            ProblemConfigurationItems::Table.into_iden(),
            ProblemIncidents::Table.into_iden(),
            Problems::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
