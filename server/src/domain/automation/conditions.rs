//! Whether a rule's conditions hold for a ticket and the event that set it off.

use entity::{event, ticket};

use super::types::Conditions;

impl Conditions {
    /// The conditions about the event itself (who did it, the alert's severity and
    /// name): all that apply to an event about no ticket (an alert, a service, an item).
    pub fn hold_for_event(&self, event: &event::Model) -> bool {
        let named = |wanted: &[String], value: Option<&str>| {
            wanted.is_empty()
                || value.is_some_and(|v| wanted.iter().any(|w| w.eq_ignore_ascii_case(v)))
        };
        (self.actor_ids.is_empty() || event.actor_id.is_some_and(|a| self.actor_ids.contains(&a)))
            && named(&self.severities, event.payload["severity"].as_str())
            && named(&self.alert_names, event.payload["name"].as_str())
    }

    /// All the conditions given hold for the ticket as it is now and for the event.
    pub fn hold(&self, ticket: &ticket::Model, event: &event::Model) -> bool {
        let any = |wanted: &[i64], value: Option<i64>| {
            wanted.is_empty() || value.is_some_and(|v| wanted.contains(&v))
        };
        let named = |wanted: &[String], value: &str| {
            wanted.is_empty() || wanted.iter().any(|w| w.eq_ignore_ascii_case(value))
        };
        let title = ticket.title.to_lowercase();
        let metric = event.payload["metric"].as_str().unwrap_or_default();
        let percent = event.payload["percent"].as_i64();
        (self.priorities.is_empty() || self.priorities.contains(&ticket.priority))
            && named(&self.kinds, &ticket.kind)
            && named(&self.statuses, &ticket.status)
            && any(&self.group_ids, ticket.group_id)
            && any(&self.organization_ids, ticket.organization_id)
            && any(&self.service_ids, ticket.service_id)
            && any(&self.category_ids, ticket.category_id)
            && (self.title_words.is_empty()
                || self
                    .title_words
                    .iter()
                    .any(|w| title.contains(&w.to_lowercase())))
            && named(&self.sla_metrics, metric)
            && self
                .sla_percent_at_least
                .is_none_or(|least| percent.is_some_and(|p| p >= i64::from(least)))
            && self.hold_for_event(event)
            && self.rating_at_most.is_none_or(|most| {
                event.payload["rating"]
                    .as_i64()
                    .is_some_and(|r| r <= i64::from(most))
            })
    }
}
