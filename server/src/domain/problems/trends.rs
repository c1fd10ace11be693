//! Trend detection: incidents piling up on one item or in one category within the
//! desk's window become a proposal for a problem. It reads and writes proposals only,
//! so the ticket commands can call it without depending on problem management.

use chrono::{DateTime, Duration, Utc};
use entity::{problem_candidate, ticket, ticket_configuration_item};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;

use crate::domain::events::Topic;
use crate::domain::problems::types::{CandidateState, TrendBasis};
use crate::domain::{
    events::{self, Actor, NewEvent},
    settings,
    tickets::types::Kind,
};
use crate::error::AppResult;

/// Called when an incident is recorded: if it makes `N` incidents on one of its items,
/// or in its category, within the desk's window, propose a problem (once per item or
/// category while the proposal is open; later incidents join it).
pub async fn incident_recorded(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    incident: &ticket::Model,
    item_ids: &[i64],
) -> AppResult<()> {
    if incident.kind != Kind::Incident.as_str() {
        return Ok(());
    }
    let mut subjects: Vec<(TrendBasis, i64)> = item_ids
        .iter()
        .map(|&id| (TrendBasis::ConfigurationItem, id))
        .collect();
    if let Some(category) = incident.category_id {
        subjects.push((TrendBasis::Category, category));
    }
    if subjects.is_empty() {
        return Ok(());
    }
    let desk = settings::load(txn).await?;
    let since = now - Duration::hours(desk.problem_trend_window_hours);
    for (basis, subject) in subjects {
        let mut recent = ticket::Entity::find()
            .filter(ticket::Column::Kind.eq(Kind::Incident.as_str()))
            .filter(ticket::Column::CreatedAt.gte(since));
        recent = match basis {
            TrendBasis::Category => recent.filter(ticket::Column::CategoryId.eq(subject)),
            TrendBasis::ConfigurationItem => recent.filter(
                ticket::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(ticket_configuration_item::Column::TicketId)
                        .from(ticket_configuration_item::Entity)
                        .and_where(
                            ticket_configuration_item::Column::ConfigurationItemId.eq(subject),
                        )
                        .to_owned(),
                ),
            ),
        };
        let incidents: Vec<i64> = recent
            .order_by_asc(ticket::Column::Id)
            .all(txn)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        let open = problem_candidate::Entity::find()
            .filter(problem_candidate::Column::Basis.eq(basis))
            .filter(problem_candidate::Column::SubjectId.eq(subject))
            .filter(problem_candidate::Column::State.eq(CandidateState::Open))
            .one(txn)
            .await?;
        if let Some(open) = open {
            let mut known: Vec<i64> =
                serde_json::from_value(open.incident_ids.clone()).unwrap_or_default();
            if !known.contains(&incident.id) {
                known.push(incident.id);
                problem_candidate::ActiveModel {
                    id: Set(open.id),
                    incident_ids: Set(json!(known)),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(txn)
                .await?;
            }
            continue;
        }
        if (incidents.len() as i64) < desk.problem_trend_incidents {
            continue;
        }
        let candidate = problem_candidate::ActiveModel {
            basis: Set(basis.into()),
            subject_id: Set(subject),
            incident_ids: Set(json!(incidents)),
            state: Set(CandidateState::Open.into()),
            detected_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        events::append(
            txn,
            &Actor::system(),
            now,
            NewEvent {
                topic: Topic::ProblemProposed,
                entity_type: "problem_candidate",
                entity_id: candidate.id,
                internal: true,
                payload: json!({
                    "basis": basis,
                    "subjectId": subject,
                    "incidentIds": incidents,
                    "windowHours": desk.problem_trend_window_hours,
                }),
            },
        )
        .await?;
    }
    Ok(())
}
