//! A period's costs and charges, from the records as they are now.
//!
//! - **Labour**: each time entry worked in the period costs its minutes at the hourly
//!   rate in force on its day for the group it was recorded in (or, with no group
//!   rate, for the worker's role); a ticket's labour is the sum, rounded once.
//! - **Items**: a configuration item's costs (monthly ones prorated by days, one-off
//!   ones on their day) are shared equally by the services that depend on it: those
//!   whose items are, or run on, it through the CMDB.
//! - **Fixed**: a service's own costs, the same way.
//! - **Charges**, by each service's policy, to the organizations of its tickets: a
//!   monthly price prorated by days (FIXED), a price per ticket raised by priority
//!   (PER_TICKET), or billable minutes at an hourly price (PER_HOUR).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use entity::{
    charging_policy, configuration_item as ci, cost_item, cost_rate, service, ticket, time_entry,
    user,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{ChargingMethod, CostKind, money, require_reader};
use crate::{
    auth::{Caller, Role},
    domain::{cmdb::impact, users::roles_of},
    error::{AppError, AppResult},
};

/// How far down a service's dependencies its items' costs are followed.
const DEPTH: usize = 10;

/// What a service cost in the period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceCost {
    pub service_id: i64,
    pub labour_cents: i64,
    pub item_cents: i64,
    pub fixed_cents: i64,
}

impl ServiceCost {
    pub fn total_cents(&self) -> i64 {
        self.labour_cents + self.item_cents + self.fixed_cents
    }
}

/// What a ticket's work cost in the period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketCost {
    pub ticket_id: i64,
    pub service_id: Option<i64>,
    pub minutes: i64,
    pub billable_minutes: i64,
    pub cents: i64,
}

/// What an organization is charged for a service in the period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub organization_id: i64,
    pub service_id: i64,
    pub method: ChargingMethod,
    pub tickets: i64,
    pub billable_minutes: i64,
    pub cents: i64,
}

/// A period's costs and charges.
#[derive(Clone, Debug, Default)]
pub struct CostReport {
    pub services: Vec<ServiceCost>,
    pub tickets: Vec<TicketCost>,
    pub charges: Vec<Charge>,
}

/// The rate in force on `day` for work in `group` (else for `roles`), in cents an hour.
fn rate_on(rates: &[cost_rate::Model], group: Option<i64>, roles: &[Role], day: &str) -> i64 {
    let latest = |matching: &dyn Fn(&cost_rate::Model) -> bool| {
        rates
            .iter()
            .filter(|r| matching(r) && r.valid_from.as_str() <= day)
            .max_by(|a, b| a.valid_from.cmp(&b.valid_from).then(a.id.cmp(&b.id)))
            .map(|r| r.hourly_cents)
    };
    if let Some(group) = group
        && let Some(rate) = latest(&|r| r.group_id == Some(group))
    {
        return rate;
    }
    // The highest role held decides.
    for role in [Role::Admin, Role::Manager, Role::Agent] {
        if roles.contains(&role)
            && let Some(rate) = latest(&|r| r.role.as_deref() == Some(role.as_str()))
        {
            return rate;
        }
    }
    0
}

/// The costs and charges of `[from, to)`. Managers.
///
/// # Errors
/// BAD_USER_INPUT for a period that ends before it starts or lasts more than 5 years.
pub async fn costs(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<CostReport> {
    require_reader(caller)?;
    if to <= from || (to - from).num_days() > 5 * 366 {
        return Err(AppError::bad_input(
            "to",
            "give a period that ends after it starts, of at most five years",
        ));
    }
    compute(conn, from, to).await
}

/// The report, without asking who wants it (budgets' watcher).
pub async fn compute(
    conn: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<CostReport> {
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let entries = time_entry::Entity::find()
        .filter(time_entry::Column::WorkedOn.gte(from_s.clone()))
        .filter(time_entry::Column::WorkedOn.lt(to_s.clone()))
        .all(conn)
        .await?;
    let rates = cost_rate::Entity::find().all(conn).await?;
    let mut people: Vec<i64> = entries.iter().filter_map(|e| e.user_id).collect();
    people.sort_unstable();
    people.dedup();
    let roles: HashMap<i64, Vec<Role>> = user::Entity::find()
        .filter(user::Column::Id.is_in(people))
        .all(conn)
        .await?
        .iter()
        .map(|u| (u.id, roles_of(u)))
        .collect();

    // Labour, by ticket.
    let mut by_ticket: BTreeMap<i64, (Option<i64>, i64, i64, i128)> = BTreeMap::new();
    for entry in &entries {
        let held = entry
            .user_id
            .and_then(|u| roles.get(&u))
            .cloned()
            .unwrap_or_default();
        let rate = rate_on(&rates, entry.group_id, &held, &entry.worked_on);
        let line = by_ticket
            .entry(entry.ticket_id)
            .or_insert((entry.service_id, 0, 0, 0));
        line.0 = line.0.or(entry.service_id);
        line.1 += i64::from(entry.minutes);
        if entry.billable {
            line.2 += i64::from(entry.minutes);
        }
        line.3 += money::cent_minutes(i64::from(entry.minutes), rate);
    }
    let tickets: Vec<TicketCost> = by_ticket
        .into_iter()
        .map(
            |(ticket_id, (service_id, minutes, billable_minutes, cm))| TicketCost {
                ticket_id,
                service_id,
                minutes,
                billable_minutes,
                cents: money::cents_of(cm),
            },
        )
        .collect();
    let mut services: BTreeMap<i64, ServiceCost> = BTreeMap::new();
    for t in &tickets {
        if let Some(service) = t.service_id {
            let line = services.entry(service).or_insert_with(|| ServiceCost {
                service_id: service,
                ..Default::default()
            });
            line.labour_cents += t.cents;
        }
    }

    // Costs of items and services in the period.
    let costs = cost_item::Entity::find()
        .filter(cost_item::Column::StartsOn.lt(to_s.clone()))
        .all(conn)
        .await?;
    let amount_in = |c: &cost_item::Model| -> AppResult<i64> {
        let starts: NaiveDate = c
            .starts_on
            .parse()
            .map_err(|_| AppError::Internal(format!("cost {} has no start", c.id)))?;
        let ends: Option<NaiveDate> = c.ends_on.as_deref().and_then(|e| e.parse().ok());
        Ok(match CostKind::stored(&c.kind)? {
            CostKind::Monthly => money::prorate_monthly(c.amount_cents, starts, ends, from, to),
            CostKind::OneOff if starts >= from && starts < to => c.amount_cents,
            CostKind::OneOff => 0,
        })
    };
    let all_services: Vec<i64> = service::Entity::find()
        .select_only()
        .column(service::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let item_costs: Vec<&cost_item::Model> = costs
        .iter()
        .filter(|c| c.configuration_item_id.is_some())
        .collect();
    if !item_costs.is_empty() {
        // Which services each item serves: what delivers each service, down its
        // dependencies.
        let mut users_of: HashMap<i64, Vec<i64>> = HashMap::new();
        for &service in &all_services {
            let direct: Vec<i64> = ci::Entity::find()
                .select_only()
                .column(ci::Column::Id)
                .filter(ci::Column::ServiceId.eq(service))
                .into_tuple()
                .all(conn)
                .await?;
            if direct.is_empty() {
                continue;
            }
            for item in impact::providers(conn, direct, DEPTH, 10_000).await? {
                users_of.entry(item).or_default().push(service);
            }
        }
        for cost in item_costs {
            let item = cost.configuration_item_id.expect("filtered on items");
            let Some(served) = users_of.get(&item) else {
                continue;
            };
            let total = amount_in(cost)?;
            for &service in served {
                let line = services.entry(service).or_insert_with(|| ServiceCost {
                    service_id: service,
                    ..Default::default()
                });
                line.item_cents += money::divide(i128::from(total), served.len() as i128);
            }
        }
    }
    for cost in costs.iter().filter(|c| c.service_id.is_some()) {
        let service = cost.service_id.expect("filtered on services");
        let total = amount_in(cost)?;
        let line = services.entry(service).or_insert_with(|| ServiceCost {
            service_id: service,
            ..Default::default()
        });
        line.fixed_cents += total;
    }

    // Charges.
    let policies = charging_policy::Entity::find().all(conn).await?;
    let mut charges = Vec::new();
    for policy in policies {
        let method = ChargingMethod::stored(&policy.method)?;
        let mut by_org: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for entry in entries
            .iter()
            .filter(|e| e.service_id == Some(policy.service_id))
        {
            if let Some(org) = entry.organization_id {
                let line = by_org.entry(org).or_default();
                if entry.billable {
                    line.1 += i64::from(entry.minutes);
                }
            }
        }
        let raised: Vec<ticket::Model> = ticket::Entity::find()
            .filter(ticket::Column::ServiceId.eq(policy.service_id))
            .filter(
                ticket::Column::CreatedAt
                    .gte(from.and_hms_opt(0, 0, 0).expect("midnight").and_utc()),
            )
            .filter(
                ticket::Column::CreatedAt.lt(to.and_hms_opt(0, 0, 0).expect("midnight").and_utc()),
            )
            .all(conn)
            .await?;
        let prices: BTreeMap<String, i64> =
            serde_json::from_value(policy.per_ticket_cents.clone()).unwrap_or_default();
        let mut per_ticket: BTreeMap<i64, i64> = BTreeMap::new();
        for t in &raised {
            if let Some(org) = t.organization_id {
                by_org.entry(org).or_default().0 += 1;
                *per_ticket.entry(org).or_default() +=
                    prices.get(&t.priority.to_string()).copied().unwrap_or(0);
            }
        }
        for (org, (count, billable)) in by_org {
            let cents = match method {
                ChargingMethod::NotCharged => 0,
                ChargingMethod::Fixed => {
                    money::prorate_monthly(policy.fixed_cents, from, None, from, to)
                }
                ChargingMethod::PerTicket => per_ticket.get(&org).copied().unwrap_or(0),
                ChargingMethod::PerHour => {
                    money::cents_of(money::cent_minutes(billable, policy.hourly_cents))
                }
            };
            charges.push(Charge {
                organization_id: org,
                service_id: policy.service_id,
                method,
                tickets: count,
                billable_minutes: billable,
                cents,
            });
        }
    }
    Ok(CostReport {
        services: services.into_values().collect(),
        tickets,
        charges,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn rate(
        id: i64,
        group: Option<i64>,
        role: Option<&str>,
        cents: i64,
        from: &str,
    ) -> cost_rate::Model {
        cost_rate::Model {
            id,
            group_id: group,
            role: role.map(Into::into),
            hourly_cents: cents,
            valid_from: from.into(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn the_rate_in_force_for_the_group_else_the_role() {
        let rates = vec![
            rate(1, Some(7), None, 8_000, "2026-01-01"),
            rate(2, Some(7), None, 9_000, "2026-11-15"),
            rate(3, None, Some("agent"), 5_000, "2026-01-01"),
        ];
        assert_eq!(
            rate_on(&rates, Some(7), &[Role::Agent], "2026-11-14"),
            8_000
        );
        assert_eq!(
            rate_on(&rates, Some(7), &[Role::Agent], "2026-11-15"),
            9_000
        );
        assert_eq!(
            rate_on(&rates, Some(8), &[Role::Agent], "2026-11-15"),
            5_000
        );
        assert_eq!(rate_on(&rates, None, &[], "2026-11-15"), 0);
        assert_eq!(rate_on(&rates, Some(7), &[], "2025-12-31"), 0);
    }
}
