//! What each live subscription passes on, pure: which events a scope may hear of, how
//! an event changes a queue, which SLA alerts a filter wants, and instants in payloads.

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::{domain::events::Topic, domain::tickets::visibility::Scope, events::Envelope};

/// How a queue changed.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum QueueChangeKind {
    /// The ticket came into the queue.
    Entered,
    /// It left the queue (escalated or reassigned elsewhere).
    Left,
    /// It changed while in the queue.
    Changed,
}

/// What every ticket subscription passes on: the event is about a ticket the caller may
/// see, and internal notes only to those who may read them.
pub(super) fn visible_to(scope: &Scope, envelope: &Envelope) -> bool {
    envelope.entity_type == "ticket"
        && (!envelope.internal || scope.sees_internal())
        && envelope
            .ticket
            .as_ref()
            .is_some_and(|ticket| scope.allows_snapshot(envelope.entity_id, ticket))
}

pub(super) fn group_change(envelope: &Envelope) -> Option<(Option<i64>, Option<i64>)> {
    envelope.payload["changes"]
        .as_array()?
        .iter()
        .find(|c| c["field"] == "groupId")
        .map(|c| (c["old"].as_i64(), c["new"].as_i64()))
}

pub(super) fn queue_change(group: i64, envelope: &Envelope) -> Option<QueueChangeKind> {
    let now_in = envelope
        .ticket
        .as_ref()
        .is_some_and(|ticket| ticket.group_id == Some(group));
    match group_change(envelope) {
        Some((old, _)) if !now_in && old == Some(group) => Some(QueueChangeKind::Left),
        Some((old, _)) if now_in && old != Some(group) => Some(QueueChangeKind::Entered),
        None if now_in && envelope.topic == Topic::TicketCreated => Some(QueueChangeKind::Entered),
        _ if now_in => Some(QueueChangeKind::Changed),
        _ => None,
    }
}

/// An `SlaAlertFilter` with its ids decoded: what `slaAlerts` passes on.
pub(super) struct AlertsWanted {
    pub(super) group: Option<i64>,
    pub(super) service: Option<i64>,
    pub(super) organization: Option<i64>,
    pub(super) priority: Option<i16>,
}

impl AlertsWanted {
    /// An SLA warning or breach about a ticket the scope may see, that every condition
    /// given holds for.
    pub(super) fn matches(&self, scope: &Scope, envelope: &Envelope) -> bool {
        let Some(ticket) = &envelope.ticket else {
            return false;
        };
        let is = |value: Option<i64>, wanted: Option<i64>| {
            wanted.is_none_or(|wanted| value == Some(wanted))
        };
        envelope.topic.is_sla_alert()
            && visible_to(scope, envelope)
            && is(ticket.group_id, self.group)
            && is(ticket.service_id, self.service)
            && is(ticket.organization_id, self.organization)
            && is(Some(ticket.priority.into()), self.priority.map(i64::from))
    }
}

/// An instant an event's payload carries as RFC 3339 text.
pub(super) fn instant_in(value: &Value) -> Option<DateTime<Utc>> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::domain::events::TicketSnapshot;

    fn ticket(group: Option<i64>) -> TicketSnapshot {
        TicketSnapshot {
            number: "INC0000001".into(),
            kind: "INCIDENT".into(),
            status: "NEW".into(),
            priority: 2,
            group_id: group,
            assignee_id: None,
            requester_id: Some(7),
            organization_id: Some(3),
            service_id: Some(5),
            supplier_id: None,
            version: 1,
        }
    }

    fn event(topic: Topic, ticket: TicketSnapshot, payload: Value) -> Envelope {
        Envelope {
            seq: 1,
            topic,
            entity_type: "ticket".into(),
            entity_id: 1,
            actor_id: None,
            actor_name: "system".into(),
            internal: false,
            payload,
            ticket: Some(ticket),
            at: Utc::now(),
        }
    }

    fn moved(from: Option<i64>, to: Option<i64>) -> Value {
        json!({ "changes": [{ "field": "groupId", "old": from, "new": to }] })
    }

    fn agent_of(groups: Vec<i64>) -> Scope {
        Scope::Limited {
            user_id: 1,
            organization_id: None,
            supplier_id: None,
            group_ids: groups,
            agent: true,
            followed: vec![],
        }
    }

    fn requester(user_id: i64) -> Scope {
        Scope::Limited {
            user_id,
            organization_id: None,
            supplier_id: None,
            group_ids: vec![],
            agent: false,
            followed: vec![],
        }
    }

    #[test]
    fn a_queue_hears_tickets_entering_changing_and_leaving_it() {
        let created = event(Topic::TicketCreated, ticket(Some(10)), json!({}));
        assert!(matches!(
            queue_change(10, &created),
            Some(QueueChangeKind::Entered)
        ));
        let edited = event(
            Topic::TicketUpdated,
            ticket(Some(10)),
            json!({ "changes": [] }),
        );
        assert!(matches!(
            queue_change(10, &edited),
            Some(QueueChangeKind::Changed)
        ));
        let arrived = event(
            Topic::TicketAssigned,
            ticket(Some(10)),
            moved(Some(20), Some(10)),
        );
        assert!(matches!(
            queue_change(10, &arrived),
            Some(QueueChangeKind::Entered)
        ));
        let gone = event(
            Topic::TicketAssigned,
            ticket(Some(20)),
            moved(Some(10), Some(20)),
        );
        assert!(matches!(
            queue_change(10, &gone),
            Some(QueueChangeKind::Left)
        ));
        assert!(
            queue_change(30, &gone).is_none(),
            "a queue the ticket never was in hears nothing"
        );
    }

    #[test]
    fn internal_notes_reach_only_the_desk() {
        let mut note = event(Topic::TicketCommented, ticket(Some(10)), json!({}));
        note.internal = true;
        assert!(visible_to(&agent_of(vec![10]), &note));
        assert!(
            !visible_to(&requester(7), &note),
            "the requester's own ticket, but internal"
        );
        note.internal = false;
        assert!(visible_to(&requester(7), &note));
        assert!(!visible_to(&requester(8), &note), "someone else's ticket");
        let mut not_a_ticket = note.clone();
        not_a_ticket.entity_type = "change".into();
        assert!(!visible_to(&Scope::Everything, &not_a_ticket));
    }

    #[test]
    fn sla_alerts_pass_when_every_condition_given_holds() {
        let warning = event(Topic::SlaWarning, ticket(Some(10)), json!({}));
        let everything = AlertsWanted {
            group: None,
            service: None,
            organization: None,
            priority: None,
        };
        assert!(everything.matches(&Scope::Everything, &warning));
        let narrow = AlertsWanted {
            group: Some(10),
            service: Some(5),
            organization: Some(3),
            priority: Some(2),
        };
        assert!(narrow.matches(&Scope::Everything, &warning));
        assert!(
            !AlertsWanted {
                priority: Some(1),
                ..narrow
            }
            .matches(&Scope::Everything, &warning)
        );
        assert!(
            !everything.matches(&agent_of(vec![20]), &warning),
            "another group's ticket stays hidden"
        );
        let not_an_alert = event(Topic::TicketUpdated, ticket(Some(10)), json!({}));
        assert!(!everything.matches(&Scope::Everything, &not_an_alert));
    }

    #[test]
    fn instants_in_payloads_read_as_rfc_3339_or_not_at_all() {
        assert_eq!(
            instant_in(&json!("2026-11-23T09:00:00+01:00")).map(|at| at.to_rfc3339()),
            Some("2026-11-23T08:00:00+00:00".to_string())
        );
        assert_eq!(instant_in(&json!("tomorrow")), None);
        assert_eq!(instant_in(&json!(42)), None);
    }
}
