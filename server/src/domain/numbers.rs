//! Human numbers (INC0000001, PRB0000001, CHG0000001, KB0000001): per-kind counters
//! advanced inside the creating transaction, so a number is never given twice and one
//! refused by a rollback is not lost.

use sea_orm::{
    ConnectionTrait, DatabaseTransaction,
    sea_query::{Alias, Expr, ExprTrait, Query},
};

use crate::error::{AppError, AppResult};

/// The next number of `counter` ("INCIDENT", "PROBLEM", "CHANGE", "ARTICLE"…),
/// written with `prefix` and seven digits.
pub async fn next(txn: &DatabaseTransaction, counter: &str, prefix: &str) -> AppResult<String> {
    let statement = Query::update()
        .table(Alias::new("ticket_counters"))
        .value(
            Alias::new("last_number"),
            Expr::col(Alias::new("last_number")).add(1),
        )
        .and_where(Expr::col(Alias::new("kind")).eq(counter))
        .returning_col(Alias::new("last_number"))
        .to_owned();
    let row = txn
        .query_one(&statement)
        .await?
        .ok_or_else(|| AppError::Internal(format!("no counter for {counter}")))?;
    let n: i64 = row.try_get("", "last_number")?;
    Ok(format!("{prefix}{n:07}"))
}
