//! The automation consumer: reads the event log in seq order and, for each event, tries
//! the enabled rules that answer it, in position order. A page of events and every
//! action taken for them commit with the automation cursor's claim (see `consumers`),
//! so each event's rules act exactly once, whichever replica runs them.
//!
//! Rules never loop: the events a rule's actions write carry the rule and the depth of
//! the chain (see `events::active`); a rule is not set off by its own changes, and a
//! chain of rules setting each other off stops at `MAX_DEPTH` with an event saying so.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use entity::{alert, automation_rule, event, problem_incident, ticket, user};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde_json::json;
use tokio::sync::watch;

use super::{
    actions, rules,
    types::{Action, Trigger},
};
use crate::{
    auth::{ByRule, Caller},
    clock::SharedClock,
    db::Db,
    domain::{
        consumers::{self, Consumer},
        events::{self, Actor, NewEvent, Topic},
        monitoring::incidents::{self, Raise},
        users, webhooks,
    },
    error::{AppError, AppResult},
    metrics::Metrics,
};

/// How many rules deep a chain may go before it is stopped.
pub const MAX_DEPTH: u32 = 5;
/// How long commits gather after one wakes the consumer.
const GATHER: Duration = Duration::from_millis(20);
/// Events handled per claim: every action of a page runs in the claim's transaction,
/// which on SQLite holds the one writer, so pages stay short.
const PAGE: u64 = 25;

/// The rule and depth an event's actions came from, if a rule wrote it.
fn written_by(event: &event::Model) -> Option<(i64, u32)> {
    let by = event.payload.get("automation")?;
    Some((by["ruleId"].as_i64()?, by["depth"].as_u64()? as u32))
}

/// The person a rule runs as, with today's roles, marked with the rule.
async fn acting_person(
    txn: &DatabaseTransaction,
    rule: &automation_rule::Model,
    depth: u32,
) -> AppResult<Caller> {
    let row = user::Entity::find_by_id(rule.run_as_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::Forbidden("the rule's person no longer exists".into()))?;
    let by_rule = ByRule {
        rule_id: rule.id,
        name: rule.name.clone(),
        depth,
    };
    Ok(users::acting_as(&row, Some(by_rule)))
}

/// The tickets an event's actions apply to: the ticket itself, a problem's incidents,
/// the incidents a change caused, or those of a release's early life.
async fn targets(txn: &DatabaseTransaction, event: &event::Model) -> AppResult<Vec<i64>> {
    Ok(match event.entity_type.as_str() {
        "ticket" => vec![event.entity_id],
        "problem" => {
            problem_incident::Entity::find()
                .select_only()
                .column(problem_incident::Column::TicketId)
                .filter(problem_incident::Column::ProblemId.eq(event.entity_id))
                .into_tuple()
                .all(txn)
                .await?
        }
        "change" => {
            ticket::Entity::find()
                .select_only()
                .column(ticket::Column::Id)
                .filter(ticket::Column::CausedByChangeId.eq(event.entity_id))
                .into_tuple()
                .all(txn)
                .await?
        }
        "release" => crate::domain::releases::incidents_of(txn, event.entity_id).await?,
        _ => vec![],
    })
}

/// Writes an internal event on the ticket about the automation itself.
async fn note(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    topic: Topic,
    ticket_id: i64,
    payload: serde_json::Value,
) -> AppResult<()> {
    events::append(
        txn,
        &Actor::system(),
        now,
        NewEvent {
            topic,
            entity_type: "ticket",
            entity_id: ticket_id,
            internal: true,
            payload,
        },
    )
    .await?;
    Ok(())
}

/// Handles the next page of events; whether more wait.
pub async fn handle_next(db: &Db, metrics: &Metrics, now: DateTime<Utc>) -> AppResult<bool> {
    let rules = automation_rule::Entity::find()
        .filter(automation_rule::Column::Enabled.eq(true))
        .order_by_asc(automation_rule::Column::Position)
        .order_by_asc(automation_rule::Column::Id)
        .all(db.conn())
        .await?;
    if rules.is_empty() {
        consumers::skip_idle(db, Consumer::Automation).await?;
        return Ok(false);
    }
    let from = consumers::position(db.conn(), Consumer::Automation).await?;
    let page = consumers::next_events(db.conn(), from, PAGE).await?;
    let Some(to) = page.last().and_then(|e| e.seq) else {
        return Ok(false);
    };
    let more = page.len() as u64 == PAGE;
    let txn = db.begin_write().await?;
    if !consumers::claim(&txn, Consumer::Automation, from, to).await? {
        return Ok(more);
    }
    for event in &page {
        handle(&txn, &rules, event, now, metrics).await?;
    }
    txn.commit().await?;
    Ok(more)
}

async fn handle(
    txn: &DatabaseTransaction,
    rules: &[automation_rule::Model],
    event: &event::Model,
    now: DateTime<Utc>,
    metrics: &Metrics,
) -> AppResult<()> {
    let Some(trigger) = Trigger::of(Topic::parse(&event.topic)) else {
        return Ok(());
    };
    let seq = event.seq.unwrap_or_default();
    let (by_rule, depth) = written_by(event).map_or((None, 0), |(r, d)| (Some(r), d));
    let answering: Vec<_> = rules
        .iter()
        .filter(|r| r.trigger == trigger.as_str() && seq > r.start_seq && Some(r.id) != by_rule)
        .collect();
    if answering.is_empty() {
        return Ok(());
    }
    if matches!(
        event.entity_type.as_str(),
        "alert" | "service" | "configuration_item"
    ) {
        if depth < MAX_DEPTH {
            handle_subject(txn, &answering, event, now, metrics, depth).await?;
        }
        return Ok(());
    }
    let tickets = targets(txn, event).await?;
    if depth >= MAX_DEPTH {
        for ticket_id in tickets {
            note(txn, now, Topic::AutomationChainStopped, ticket_id, json!({
                "seq": seq, "depth": depth,
                "message": format!("{depth} rules set each other off; the chain was stopped there"),
            }))
            .await?;
        }
        return Ok(());
    }
    for ticket_id in tickets {
        for rule in &answering {
            let (_, conditions, actions) = rules::parts(rule)?;
            let Some(ticket) = ticket::Entity::find_by_id(ticket_id).one(txn).await? else {
                break;
            };
            if !conditions.hold(&ticket, event) {
                continue;
            }
            let caller = acting_person(txn, rule, depth + 1).await;
            for action in &actions {
                let done = match &caller {
                    Ok(caller) => {
                        actions::apply(txn, caller, now, ticket_id, action, event, &rule.name).await
                    }
                    Err(refusal) => Err(refusal.clone()),
                };
                match done {
                    Ok(()) => metrics.automation_action("done"),
                    Err(AppError::Internal(why)) => return Err(AppError::Internal(why)),
                    Err(refusal) => {
                        metrics.automation_action("refused");
                        tracing::info!(rule = rule.id, ticket = ticket_id, action = action.name(), %refusal, "an automation action was refused");
                        note(
                            txn,
                            now,
                            Topic::AutomationActionRefused,
                            ticket_id,
                            json!({
                                "ruleId": rule.id, "rule": rule.name, "action": action.name(),
                                "code": refusal.code(), "message": refusal.to_string(), "seq": seq,
                            }),
                        )
                        .await?;
                    }
                }
            }
            if rule.stop_processing {
                break;
            }
        }
    }
    Ok(())
}

/// An event about no ticket yet (an alert, a service's availability, an item's
/// capacity): the event's own conditions decide, `RAISE_INCIDENT` makes (or finds) the
/// incident, and the other ticket actions apply to it (for an alert, to the incident
/// it is attached to already).
async fn handle_subject(
    txn: &DatabaseTransaction,
    rules: &[&automation_rule::Model],
    event: &event::Model,
    now: DateTime<Utc>,
    metrics: &Metrics,
    depth: u32,
) -> AppResult<()> {
    for rule in rules {
        let (_, conditions, actions) = rules::parts(rule)?;
        if !conditions.hold_for_event(event) {
            continue;
        }
        let caller = match acting_person(txn, rule, depth + 1).await {
            Ok(caller) => caller,
            Err(refusal) => {
                metrics.automation_action("refused");
                tracing::info!(rule = rule.id, %refusal, "an automation rule could not act");
                continue;
            }
        };
        let mut ticket_id = match event.entity_type.as_str() {
            "alert" => alert::Entity::find_by_id(event.entity_id)
                .one(txn)
                .await?
                .and_then(|a| a.ticket_id),
            _ => None,
        };
        for action in &actions {
            let done = match action {
                Action::RaiseIncident { priority, group_id } => {
                    let raise = Raise {
                        priority: *priority,
                        group_id: *group_id,
                        rule_id: Some(rule.id),
                    };
                    // A savepoint: a refused raise leaves nothing half-written behind.
                    let attempt = async {
                        let savepoint = txn.begin().await?;
                        let raised =
                            incidents::raise_for_event(&savepoint, &caller, now, event, raise)
                                .await?;
                        savepoint.commit().await?;
                        Ok::<_, AppError>(raised)
                    };
                    attempt.await.map(|raised| ticket_id = raised.or(ticket_id))
                }
                Action::NotifyWebhook { endpoint_id } => {
                    let seq = event.seq.unwrap_or_default();
                    webhooks::endpoints::notify(txn, *endpoint_id, seq, now)
                        .await
                        .map(|_| ())
                }
                other => match ticket_id {
                    Some(ticket_id) => {
                        actions::apply(txn, &caller, now, ticket_id, other, event, &rule.name).await
                    }
                    None => Ok(()),
                },
            };
            match done {
                Ok(()) => metrics.automation_action("done"),
                Err(AppError::Internal(why)) => return Err(AppError::Internal(why)),
                Err(refusal) => {
                    metrics.automation_action("refused");
                    tracing::info!(rule = rule.id, action = action.name(), %refusal, "an automation action was refused");
                }
            }
        }
        if rule.stop_processing {
            break;
        }
    }
    Ok(())
}

/// Runs the consumer until the server stops, woken by commits.
pub async fn run(
    db: Db,
    clock: SharedClock,
    metrics: Arc<Metrics>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut commits = db.commits();
    loop {
        let more = match handle_next(&db, &metrics, clock.now()).await {
            Ok(more) => more,
            Err(error) => {
                tracing::warn!(%error, "automation: could not handle events; trying again");
                false
            }
        };
        if more {
            continue;
        }
        let woken_by_commit = tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => false,
            Ok(()) = commits.changed() => true,
            _ = stopping.wait_for(|s| *s) => return,
        };
        if woken_by_commit {
            // Further commits gather a moment: a busy desk is read a few dozen times a
            // second, not once per commit.
            tokio::time::sleep(GATHER).await;
        }
    }
}
