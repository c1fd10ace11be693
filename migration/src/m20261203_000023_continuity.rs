//! IT service continuity: recovery plans per business service (recovery time and point
//! objectives, the strategy, ordered recovery steps with owners, the items the plan
//! restores, whom to call) and the exercises that test them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContinuityPlans {
    Table,
    Id,
    ServiceId,
    Name,
    RtoMinutes,
    RpoMinutes,
    Strategy,
    Steps,
    ConfigurationItemIds,
    Contacts,
    ExerciseIntervalMonths,
    OverdueAnnouncedAt,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum ContinuityExercises {
    Table,
    Id,
    PlanId,
    ExercisedAt,
    Scope,
    Outcome,
    RecoveryMinutes,
    Findings,
    RecordedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContinuityPlans::Table)
                    .col(big_pk_auto(ContinuityPlans::Id))
                    .col(big_integer(ContinuityPlans::ServiceId))
                    .col(string(ContinuityPlans::Name))
                    .col(integer(ContinuityPlans::RtoMinutes))
                    .col(integer(ContinuityPlans::RpoMinutes))
                    .col(text(ContinuityPlans::Strategy))
                    .col(json(ContinuityPlans::Steps))
                    .col(json(ContinuityPlans::ConfigurationItemIds))
                    .col(json(ContinuityPlans::Contacts))
                    .col(integer(ContinuityPlans::ExerciseIntervalMonths))
                    .col(timestamp_with_time_zone_null(
                        ContinuityPlans::OverdueAnnouncedAt,
                    ))
                    .col(timestamp_with_time_zone(ContinuityPlans::CreatedAt))
                    .col(timestamp_with_time_zone(ContinuityPlans::UpdatedAt))
                    .col(integer(ContinuityPlans::Version))
                    .to_owned(),
            )
            .await?;
        // A service's plans, for its outages and major incidents.
        manager
            .create_index(
                Index::create()
                    .name("idx_continuity_plans_service")
                    .table(ContinuityPlans::Table)
                    .col(ContinuityPlans::ServiceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ContinuityExercises::Table)
                    .col(big_pk_auto(ContinuityExercises::Id))
                    .col(big_integer(ContinuityExercises::PlanId))
                    .col(timestamp_with_time_zone(ContinuityExercises::ExercisedAt))
                    .col(text(ContinuityExercises::Scope))
                    .col(string(ContinuityExercises::Outcome))
                    .col(integer_null(ContinuityExercises::RecoveryMinutes))
                    .col(text(ContinuityExercises::Findings))
                    .col(string(ContinuityExercises::RecordedBy))
                    .col(timestamp_with_time_zone(ContinuityExercises::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // A plan's exercises, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_continuity_exercises_plan")
                    .table(ContinuityExercises::Table)
                    .col(ContinuityExercises::PlanId)
                    .col(ContinuityExercises::ExercisedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContinuityExercises::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ContinuityPlans::Table).to_owned())
            .await
    }
}
