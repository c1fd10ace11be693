//! IT financial management: hourly rates per group or role (valid from a date), costs
//! of configuration items and services (monthly or one-off), a charging policy per
//! service, and budgets per service and year. Actual costs are never stored: they are
//! computed from the records whenever they are read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CostRates {
    Table,
    Id,
    GroupId,
    Role,
    HourlyCents,
    ValidFrom,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CostItems {
    Table,
    Id,
    ConfigurationItemId,
    ServiceId,
    Kind,
    AmountCents,
    StartsOn,
    EndsOn,
    Description,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChargingPolicies {
    Table,
    ServiceId,
    Method,
    FixedCents,
    PerTicketCents,
    HourlyCents,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Budgets {
    Table,
    Id,
    ServiceId,
    Year,
    AmountCents,
    AlertPercent,
    AlertedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CostRates::Table)
                    .col(big_pk_auto(CostRates::Id))
                    .col(big_integer_null(CostRates::GroupId))
                    .col(string_null(CostRates::Role))
                    .col(big_integer(CostRates::HourlyCents))
                    .col(string(CostRates::ValidFrom))
                    .col(timestamp_with_time_zone(CostRates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CostItems::Table)
                    .col(big_pk_auto(CostItems::Id))
                    .col(big_integer_null(CostItems::ConfigurationItemId))
                    .col(big_integer_null(CostItems::ServiceId))
                    .col(string(CostItems::Kind))
                    .col(big_integer(CostItems::AmountCents))
                    .col(string(CostItems::StartsOn))
                    .col(string_null(CostItems::EndsOn))
                    .col(text(CostItems::Description))
                    .col(timestamp_with_time_zone(CostItems::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // A period's costs are read by when they start.
        manager
            .create_index(
                Index::create()
                    .name("idx_cost_items_starts")
                    .table(CostItems::Table)
                    .col(CostItems::StartsOn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChargingPolicies::Table)
                    .col(big_integer(ChargingPolicies::ServiceId).primary_key())
                    .col(string(ChargingPolicies::Method))
                    .col(big_integer(ChargingPolicies::FixedCents))
                    .col(json(ChargingPolicies::PerTicketCents))
                    .col(big_integer(ChargingPolicies::HourlyCents))
                    .col(timestamp_with_time_zone(ChargingPolicies::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Budgets::Table)
                    .col(big_pk_auto(Budgets::Id))
                    .col(big_integer(Budgets::ServiceId))
                    .col(integer(Budgets::Year))
                    .col(big_integer(Budgets::AmountCents))
                    .col(integer(Budgets::AlertPercent))
                    .col(timestamp_with_time_zone_null(Budgets::AlertedAt))
                    .col(timestamp_with_time_zone(Budgets::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_budgets_service_year")
                    .table(Budgets::Table)
                    .col(Budgets::ServiceId)
                    .col(Budgets::Year)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["budgets", "charging_policies", "cost_items", "cost_rates"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
