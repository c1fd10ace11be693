//! Cost and charging: the cost model (admins), a period's costs per service and ticket
//! and charges per organization, and a year's budgets against actuals (managers).
//! Amounts are whole cents.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;

use crate::{
    auth::Role,
    domain::costs::{
        self, budgets,
        model::{self, Charging, NewCost},
        report,
    },
    error::{AppError, AppResult},
    graphql::{caller, command::acting, ids, now, state},
};

/// How a cost recurs.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::costs::CostKind")]
pub enum CostKind {
    /// Every month from its start (until its end), prorated by days.
    Monthly,
    /// Once, on its day.
    OneOff,
}

/// How a service is charged to its customers.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::costs::ChargingMethod")]
pub enum ChargingMethod {
    /// Not charged.
    NotCharged,
    /// A fixed monthly price to each organization that used it in the period.
    Fixed,
    /// A price per ticket raised, by priority.
    PerTicket,
    /// A price per hour of billable work.
    PerHour,
}

/// The role a rate is for, when no group's rate covers the work.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum RateRole {
    /// Agents' work.
    Agent,
    /// Managers' work.
    Manager,
    /// Admins' work.
    Admin,
}

/// What `addCostRate` takes: a group's rate, or a role's.
#[derive(InputObject)]
pub struct AddCostRateInput {
    /// The group whose work it prices.
    pub group_id: Option<ID>,
    /// Or the role whose work it prices, where no group rate does.
    pub role: Option<RateRole>,
    /// Cents an hour.
    pub hourly_cents: i64,
    /// From this day on (YYYY-MM-DD).
    pub valid_from: String,
}

/// What `addCost` takes: a cost of a configuration item or of a service.
#[derive(InputObject)]
pub struct AddCostInput {
    /// The item it is a cost of (shared by the services that depend on it).
    pub configuration_item_id: Option<ID>,
    /// Or the service it is a fixed cost of.
    pub service_id: Option<ID>,
    /// Monthly or one-off.
    pub kind: CostKind,
    /// Cents a month, or once.
    pub amount_cents: i64,
    /// Its first day (the day of a one-off), YYYY-MM-DD.
    pub starts_on: String,
    /// Its last day, for a monthly cost that ends.
    pub ends_on: Option<String>,
    /// What it is: "licence", "hosting".
    #[graphql(default)]
    pub description: String,
}

/// A price per ticket for a priority.
#[derive(InputObject, SimpleObject, Clone)]
#[graphql(input_name = "TicketPriceInput")]
pub struct TicketPrice {
    /// 1 to 4, or 0 for MAJOR.
    pub priority: i32,
    /// Cents a ticket.
    pub cents: i64,
}

/// What `setChargingPolicy` takes.
#[derive(InputObject)]
pub struct SetChargingPolicyInput {
    /// The service.
    pub service_id: ID,
    /// How it is charged.
    pub method: ChargingMethod,
    /// FIXED: cents a month to each organization that used it.
    #[graphql(default)]
    pub fixed_cents: i64,
    /// PER_TICKET: the price by priority.
    #[graphql(default)]
    pub per_ticket: Vec<TicketPrice>,
    /// PER_HOUR: cents an hour of billable work.
    #[graphql(default)]
    pub hourly_cents: i64,
}

/// What a service cost in a period.
#[derive(SimpleObject)]
pub struct ServiceCost {
    /// The service.
    pub service_id: ID,
    /// The service's name.
    pub service_name: String,
    /// Time worked on its tickets, at the rates in force.
    pub labour_cents: i64,
    /// Its share of the costs of the configuration items it depends on.
    pub configuration_item_cents: i64,
    /// Its own costs.
    pub fixed_cents: i64,
    /// All three.
    pub total_cents: i64,
}

impl ServiceCost {
    /// A service's cost as the report computed it, with the service's name.
    pub fn of(cost: &report::ServiceCost, name: String) -> ServiceCost {
        ServiceCost {
            service_id: ids::encode("Service", cost.service_id),
            service_name: name,
            labour_cents: cost.labour_cents,
            configuration_item_cents: cost.item_cents,
            fixed_cents: cost.fixed_cents,
            total_cents: cost.total_cents(),
        }
    }
}

/// What a ticket's work cost in a period.
#[derive(SimpleObject)]
pub struct TicketCost {
    /// The ticket.
    pub ticket_id: ID,
    /// Minutes worked.
    pub minutes: i64,
    /// Of those, billable.
    pub billable_minutes: i64,
    /// What they cost.
    pub cents: i64,
}

/// What an organization is charged for a service in a period.
#[derive(SimpleObject)]
pub struct Charge {
    /// The organization.
    pub organization_id: ID,
    /// The service.
    pub service_id: ID,
    /// Under which policy.
    pub method: ChargingMethod,
    /// Tickets it raised on the service in the period.
    pub tickets: i64,
    /// Billable minutes worked on its tickets of the service.
    pub billable_minutes: i64,
    /// The charge.
    pub cents: i64,
}

impl From<&report::Charge> for Charge {
    fn from(c: &report::Charge) -> Charge {
        Charge {
            organization_id: ids::encode("Organization", c.organization_id),
            service_id: ids::encode("Service", c.service_id),
            method: c.method.into(),
            tickets: c.tickets,
            billable_minutes: c.billable_minutes,
            cents: c.cents,
        }
    }
}

/// A period's costs and charges, computed from the records as they are now.
#[derive(SimpleObject)]
pub struct CostReport {
    /// The period's first day.
    pub from: String,
    /// The day after its last.
    pub to: String,
    /// What each service cost.
    pub services: Vec<ServiceCost>,
    /// What each ticket's work cost.
    pub tickets: Vec<TicketCost>,
    /// What each organization is charged, by service.
    pub charges: Vec<Charge>,
}

/// A service's budget for a year against what it has cost so far.
#[derive(SimpleObject)]
pub struct BudgetLine {
    /// The service.
    pub service_id: ID,
    /// The year.
    pub year: i32,
    /// The budget.
    pub budget_cents: i64,
    /// What the service has cost this year so far, from the records.
    pub actual_cents: i64,
    /// Budget less actual (negative when over).
    pub variance_cents: i64,
    /// Actual as a share of the budget, in percent.
    pub used_percent: f64,
    /// The share at which the desk says so.
    pub alert_percent: i32,
}

fn day(field: &str, text: &str) -> AppResult<NaiveDate> {
    model::day(field, text)
}

#[derive(Default)]
pub struct CostQuery;

#[Object]
impl CostQuery {
    /// The costs per service and ticket and the charges per organization of the days
    /// `from` (included) to `to` (excluded), as YYYY-MM-DD. Managers.
    async fn cost_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first day.")] from: String,
        #[graphql(desc = "The day after the last.")] to: String,
    ) -> AppResult<CostReport> {
        let (from_day, to_day) = (day("from", &from)?, day("to", &to)?);
        let conn = state(ctx).db.conn();
        let report = report::costs(conn, caller(ctx), from_day, to_day).await?;
        let names: std::collections::HashMap<i64, String> =
            <entity::service::Entity as sea_orm::EntityTrait>::find()
                .all(conn)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
        Ok(CostReport {
            from,
            to,
            services: report
                .services
                .iter()
                .map(|s| ServiceCost::of(s, names.get(&s.service_id).cloned().unwrap_or_default()))
                .collect(),
            tickets: report
                .tickets
                .iter()
                .map(|t| TicketCost {
                    ticket_id: ids::encode("Ticket", t.ticket_id),
                    minutes: t.minutes,
                    billable_minutes: t.billable_minutes,
                    cents: t.cents,
                })
                .collect(),
            charges: report.charges.iter().map(Charge::from).collect(),
        })
    }

    /// The budgets of a year against what each service has cost so far. Managers.
    async fn budgets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year.")] year: i32,
    ) -> AppResult<Vec<BudgetLine>> {
        let lines = budgets::of_year(state(ctx).db.conn(), caller(ctx), year, now(ctx)).await?;
        Ok(lines
            .into_iter()
            .map(|l| BudgetLine {
                service_id: ids::encode("Service", l.budget.service_id),
                year: l.budget.year,
                budget_cents: l.budget.amount_cents,
                actual_cents: l.actual_cents,
                variance_cents: l.variance_cents(),
                used_percent: if l.budget.amount_cents > 0 {
                    l.actual_cents as f64 * 100.0 / l.budget.amount_cents as f64
                } else {
                    0.0
                },
                alert_percent: l.budget.alert_percent,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct CostMutation;

#[Object]
impl CostMutation {
    /// Adds an hourly rate for a group (or a role), from a day on. Admins. Returns its
    /// id.
    async fn add_cost_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rate.")] input: AddCostRateInput,
    ) -> AppResult<ID> {
        let on = acting(ctx);
        let role = input.role.map(|r| match r {
            RateRole::Agent => Role::Agent,
            RateRole::Manager => Role::Manager,
            RateRole::Admin => Role::Admin,
        });
        let group = ids::decode_opt(input.group_id, "Group", "groupId")?;
        let row = model::add_rate(
            on.db,
            on.caller,
            on.now,
            group,
            role,
            input.hourly_cents,
            &input.valid_from,
        )
        .await?;
        Ok(ids::encode("CostRate", row.id))
    }

    /// Adds a cost of a configuration item or a service. Admins. Returns its id.
    async fn add_cost(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cost.")] input: AddCostInput,
    ) -> AppResult<ID> {
        let on = acting(ctx);
        let new = NewCost {
            configuration_item_id: ids::decode_opt(
                input.configuration_item_id,
                "ConfigurationItem",
                "configurationItemId",
            )?,
            service_id: ids::decode_opt(input.service_id, "Service", "serviceId")?,
            kind: input.kind.into(),
            amount_cents: input.amount_cents,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            description: input.description,
        };
        let row = model::add_cost(on.db, on.caller, on.now, new).await?;
        Ok(ids::encode("CostItem", row.id))
    }

    /// Sets how a service is charged to its customers. Admins.
    async fn set_charging_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The policy.")] input: SetChargingPolicyInput,
    ) -> AppResult<ChargingMethod> {
        let on = acting(ctx);
        let service = ids::decode_as(&input.service_id, "Service", "serviceId")?;
        let mut per_ticket = std::collections::BTreeMap::new();
        for price in input.per_ticket {
            let priority = i16::try_from(price.priority)
                .map_err(|_| AppError::bad_input("perTicket", "priorities are 0 to 4"))?;
            per_ticket.insert(priority, price.cents);
        }
        let row = model::set_charging(
            on.db,
            on.caller,
            on.now,
            service,
            Charging {
                method: input.method.into(),
                fixed_cents: input.fixed_cents,
                per_ticket_cents: per_ticket,
                hourly_cents: input.hourly_cents,
            },
        )
        .await?;
        Ok(costs::ChargingMethod::stored(&row.method)?.into())
    }

    /// Sets a service's budget for a year, and the share of it at which the desk says
    /// so. Admins.
    async fn set_budget(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] service_id: ID,
        #[graphql(desc = "The year.")] year: i32,
        #[graphql(desc = "The budget, in cents.")] amount_cents: i64,
        #[graphql(
            desc = "The share of it, in percent, at which `budget.threshold_passed` goes out.",
            default = 90
        )]
        alert_percent: i32,
    ) -> AppResult<i64> {
        let on = acting(ctx);
        let service = ids::decode_as(&service_id, "Service", "serviceId")?;
        let row = model::set_budget(
            on.db,
            on.caller,
            on.now,
            service,
            year,
            amount_cents,
            alert_percent,
        )
        .await?;
        Ok(row.amount_cents)
    }
}
