//! A year's budgets against what the services actually cost, computed from the records
//! when read; the desk says so (`budget.threshold_passed`, once a budget) when spending
//! passes a budget's alert share.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::{budget, service};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use super::{model, report};
use crate::{
    auth::Caller,
    db::Db,
    domain::events::{self, Actor, NewEvent, Topic},
    error::AppResult,
};

/// A budget and its actuals so far.
#[derive(Clone, Debug)]
pub struct BudgetLine {
    pub budget: budget::Model,
    pub actual_cents: i64,
}

impl BudgetLine {
    pub fn variance_cents(&self) -> i64 {
        self.budget.amount_cents - self.actual_cents
    }
}

/// The year's span up to `now` (the whole year once it is over).
fn year_to_date(year: i32, now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let start = NaiveDate::from_ymd_opt(year, 1, 1).expect("a year's first day");
    let end = NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("a year's first day");
    let today = now.date_naive().succ_opt().unwrap_or(end);
    (start, end.min(today).max(start))
}

/// The budgets of `year`, with what each service has cost so far. Managers.
pub async fn of_year(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    year: i32,
    now: DateTime<Utc>,
) -> AppResult<Vec<BudgetLine>> {
    let budgets = model::budgets_of(conn, caller, year).await?;
    lines(conn, budgets, year, now).await
}

async fn lines(
    conn: &impl ConnectionTrait,
    budgets: Vec<budget::Model>,
    year: i32,
    now: DateTime<Utc>,
) -> AppResult<Vec<BudgetLine>> {
    if budgets.is_empty() {
        return Ok(vec![]);
    }
    let (from, to) = year_to_date(year, now);
    let costs = if to > from {
        report::compute(conn, from, to).await?.services
    } else {
        vec![]
    };
    Ok(budgets
        .into_iter()
        .map(|b| BudgetLine {
            actual_cents: costs
                .iter()
                .find(|c| c.service_id == b.service_id)
                .map_or(0, |c| c.total_cents()),
            budget: b,
        })
        .collect())
}

/// Announces the budgets of this year whose spending passed their alert share.
pub async fn announce_passed(db: &Db, now: DateTime<Utc>) -> AppResult<usize> {
    let year = now.year();
    let waiting = budget::Entity::find()
        .filter(budget::Column::Year.eq(year))
        .filter(budget::Column::AlertedAt.is_null())
        .all(db.conn())
        .await?;
    let mut announced = 0;
    for line in lines(db.conn(), waiting, year, now).await? {
        let threshold =
            line.budget.amount_cents as i128 * i128::from(line.budget.alert_percent) / 100;
        if i128::from(line.actual_cents) < threshold {
            continue;
        }
        let txn = db.begin_write().await?;
        let claimed = budget::Entity::update_many()
            .col_expr(budget::Column::AlertedAt, Expr::value(Some(now)))
            .filter(budget::Column::Id.eq(line.budget.id))
            .filter(budget::Column::AlertedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            let name = service::Entity::find_by_id(line.budget.service_id)
                .one(&txn)
                .await?
                .map_or_else(|| "a service".to_string(), |s| s.name);
            events::append(
                &txn,
                &Actor::system(),
                now,
                NewEvent {
                    topic: Topic::BudgetThresholdPassed,
                    entity_type: "service",
                    entity_id: line.budget.service_id,
                    internal: false,
                    payload: json!({
                        "serviceId": line.budget.service_id, "year": year,
                        "budgetCents": line.budget.amount_cents, "actualCents": line.actual_cents,
                        "alertPercent": line.budget.alert_percent,
                        "message": format!(
                            "{} has cost {}.{:02} of its {year} budget of {}.{:02}, past the {}% at which you asked to be told",
                            name,
                            line.actual_cents / 100,
                            line.actual_cents.rem_euclid(100),
                            line.budget.amount_cents / 100,
                            line.budget.amount_cents.rem_euclid(100),
                            line.budget.alert_percent,
                        ),
                    }),
                },
            )
            .await?;
            announced += 1;
        }
        txn.commit().await?;
    }
    Ok(announced)
}
