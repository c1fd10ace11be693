//! Early-life support: an incident raised on a service a release touched (or about an
//! item it deployed) within the release's early-life period after it deployed is linked
//! to it, as ITIL counts a change that caused an incident.

use chrono::{DateTime, Duration, Utc};
use entity::{release, release_incident, release_item, release_service, ticket};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    sea_query::OnConflict,
};
use serde_json::json;

use super::{ReleaseStatus, record};
use crate::{
    domain::{
        events::{Actor, Topic},
        tickets::types::Kind,
    },
    error::AppResult,
};

/// Links a new incident to the releases in whose early life it falls, in the
/// transaction that raises it; `items` are the configuration items it was linked to.
///
/// # Errors
/// INTERNAL when the database fails.
pub async fn incident_raised(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    incident: &ticket::Model,
    items: &[i64],
) -> AppResult<()> {
    if Kind::parse(&incident.kind, "kind")? != Kind::Incident {
        return Ok(());
    }
    let mut candidates: Vec<i64> = Vec::new();
    if let Some(service) = incident.service_id {
        candidates.extend(
            release_service::Entity::find()
                .select_only()
                .column(release_service::Column::ReleaseId)
                .filter(release_service::Column::ServiceId.eq(service))
                .into_tuple::<i64>()
                .all(txn)
                .await?,
        );
    }
    if !items.is_empty() {
        candidates.extend(
            release_item::Entity::find()
                .select_only()
                .column(release_item::Column::ReleaseId)
                .filter(release_item::Column::ConfigurationItemId.is_in(items))
                .into_tuple::<i64>()
                .all(txn)
                .await?,
        );
    }
    if candidates.is_empty() {
        return Ok(());
    }
    candidates.sort_unstable();
    candidates.dedup();
    let live = [
        ReleaseStatus::Deployed.as_str(),
        ReleaseStatus::Verified.as_str(),
        ReleaseStatus::Closed.as_str(),
    ];
    for row in release::Entity::find()
        .filter(release::Column::Id.is_in(candidates))
        .filter(release::Column::Status.is_in(live))
        .all(txn)
        .await?
    {
        let Some(deployed) = row.actual_end else {
            continue;
        };
        if now < deployed || now > deployed + Duration::days(i64::from(row.early_life_days)) {
            continue;
        }
        release_incident::Entity::insert(release_incident::ActiveModel {
            release_id: Set(row.id),
            ticket_id: Set(incident.id),
            linked_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                release_incident::Column::ReleaseId,
                release_incident::Column::TicketId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        record(
            txn,
            &Actor::system(),
            now,
            Topic::ReleaseIncidentLinked,
            &row,
            json!({ "ticketId": incident.id, "ticketNumber": incident.number }),
        )
        .await?;
    }
    Ok(())
}
