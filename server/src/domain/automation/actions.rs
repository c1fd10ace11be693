//! Carrying out a rule's action on a ticket: through the command a person would use,
//! with the rule's person as the caller (so their rights decide), inside the event's
//! transaction.

use chrono::{DateTime, Utc};
use entity::{event, ticket};
use minijinja::Environment;
use sea_orm::{DatabaseTransaction, EntityTrait};
use serde_json::json;

use super::types::Action;
use crate::{
    auth::Caller,
    domain::{
        settings,
        tickets::{
            commands::{self, Escalation, TicketChanges, Transition},
            types::{Level, Status},
        },
        webhooks,
    },
    error::{AppError, AppResult},
};

/// A template's mistakes, as a person writing one needs to hear them.
pub fn check_template(template: &str) -> AppResult<()> {
    if template.trim().is_empty() || template.chars().count() > 5000 {
        return Err(AppError::bad_input(
            "template",
            "write between 1 and 5,000 characters",
        ));
    }
    Environment::new()
        .template_from_str(template)
        .map(|_| ())
        .map_err(|e| AppError::bad_input("template", format!("the template does not read: {e}")))
}

/// The text of a note or comment: the template with `ticket`, `event` and `rule`.
fn render(
    template: &str,
    ticket: &ticket::Model,
    event: &event::Model,
    rule: &str,
) -> AppResult<String> {
    let context = json!({
        "ticket": {
            "number": ticket.number, "title": ticket.title, "status": ticket.status,
            "priority": ticket.priority, "kind": ticket.kind,
        },
        "event": {
            "topic": event.topic, "actor": event.actor_name,
            "metric": event.payload.get("metric"), "percent": event.payload.get("percent"),
            "dueAt": event.payload.get("dueAt"),
        },
        "rule": { "name": rule },
    });
    Environment::new()
        .render_str(template, context)
        .map_err(|e| AppError::bad_input("template", format!("the template failed: {e}")))
}

/// The impact and urgency that give `priority` on the desk's matrix, changing as little
/// of the ticket as it can: its impact kept if possible, else its urgency.
async fn levels_for(
    txn: &DatabaseTransaction,
    ticket: &ticket::Model,
    priority: i16,
) -> AppResult<(Level, Level)> {
    let desk = settings::load(txn).await?;
    let impact = Level::stored(&ticket.impact)?;
    let urgency = Level::stored(&ticket.urgency)?;
    let pairs = Level::ALL
        .iter()
        .flat_map(|&i| Level::ALL.iter().map(move |&u| (i, u)))
        .filter(|&(i, u)| desk.priority(i, u) == priority)
        .collect::<Vec<_>>();
    pairs
        .iter()
        .find(|(i, _)| *i == impact)
        .or_else(|| pairs.iter().find(|(_, u)| *u == urgency))
        .or_else(|| pairs.first())
        .copied()
        .ok_or_else(|| {
            AppError::bad_input(
                "priority",
                format!("the priority matrix gives no P{priority}"),
            )
        })
}

/// Carries out one action on the ticket as `caller`.
pub async fn apply(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    action: &Action,
    event: &event::Model,
    rule: &str,
) -> AppResult<()> {
    let ticket = ticket::Entity::find_by_id(ticket_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("the ticket is gone".into()))?;
    let version = ticket.version;
    match action {
        Action::SetGroup { group_id } => {
            commands::assign(txn, caller, now, ticket_id, version, Some(*group_id), None).await?;
        }
        Action::SetAssignee { user_id } => {
            commands::assign(txn, caller, now, ticket_id, version, None, Some(*user_id)).await?;
        }
        Action::SetPriority { priority } => {
            let (impact, urgency) = levels_for(txn, &ticket, *priority).await?;
            let changes = TicketChanges {
                impact: Some(impact),
                urgency: Some(urgency),
                ..Default::default()
            };
            commands::update(txn, caller, now, ticket_id, version, changes).await?;
        }
        Action::SetCategory { category_id } => {
            let changes = TicketChanges {
                category_id: Some(Some(*category_id)),
                ..Default::default()
            };
            commands::update(txn, caller, now, ticket_id, version, changes).await?;
        }
        Action::SetStatus { status } => {
            let transition = Transition {
                to: Status::parse(status, "status")?,
                pending_reason: None,
                resolution_code: None,
                resolution_notes: Some(format!("Resolved by the rule '{rule}'.")),
            };
            commands::transition(txn, caller, now, ticket_id, version, transition).await?;
        }
        Action::Escalate { level, reason } => {
            let level = if level == "HIERARCHICAL" {
                Escalation::Hierarchical
            } else {
                Escalation::Functional
            };
            commands::escalate(txn, caller, now, ticket_id, version, level, reason).await?;
        }
        Action::AddNote { template } | Action::AddComment { template } => {
            let body = render(template, &ticket, event, rule)?;
            let internal = matches!(action, Action::AddNote { .. });
            commands::add_comment(txn, caller, now, ticket_id, &body, internal, None, None).await?;
        }
        Action::NotifyWebhook { endpoint_id } => {
            let seq = event.seq.unwrap_or_default();
            webhooks::endpoints::notify(txn, *endpoint_id, seq, now).await?;
        }
        // Raising is for events about no ticket yet (`run::handle_subject`); on a ticket
        // there is nothing to raise.
        Action::RaiseIncident { .. } => {}
    }
    Ok(())
}
