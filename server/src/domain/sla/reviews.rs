//! Agreements come up for review with the other party: `agreement.review_due` goes out
//! once, `NOTICE_DAYS` before an agreement's review date (again if the date is moved),
//! whichever replica sees it first.

use chrono::{DateTime, Duration, Utc};
use entity::sla_policy;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use crate::{
    db::Db,
    domain::events::{self, Actor, NewEvent, Topic},
    error::AppResult,
};

/// How long before its review date an agreement is announced.
pub const NOTICE_DAYS: i64 = 30;

/// Announces every review coming due by `now`; how many.
pub async fn announce_due(db: &Db, now: DateTime<Utc>) -> AppResult<usize> {
    let due = sla_policy::Entity::find()
        .filter(sla_policy::Column::ReviewAnnounced.eq(false))
        .filter(sla_policy::Column::ReviewAt.lte(now + Duration::days(NOTICE_DAYS)))
        .all(db.conn())
        .await?;
    let mut announced = 0;
    for policy in due {
        let txn = db.begin_write().await?;
        let claimed = sla_policy::Entity::update_many()
            .col_expr(sla_policy::Column::ReviewAnnounced, Expr::value(true))
            .filter(sla_policy::Column::Id.eq(policy.id))
            .filter(sla_policy::Column::ReviewAnnounced.eq(false))
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            events::append(
                &txn,
                &Actor::system(),
                now,
                NewEvent {
                    topic: Topic::AgreementReviewDue,
                    entity_type: "sla_policy",
                    entity_id: policy.id,
                    internal: false,
                    payload: json!({
                        "policyId": policy.id,
                        "name": policy.name,
                        "agreement": policy.agreement,
                        "reviewAt": policy.review_at,
                        "groupId": policy.match_group_id,
                        "supplierId": policy.supplier_id,
                        "documentUrl": policy.document_url,
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
