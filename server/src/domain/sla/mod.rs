//! SLAs: which policy a ticket falls under, its clocks (first response and resolution)
//! as ledgers of running and paused segments, and the alerts their stored instants drive.

pub mod clocks;
pub mod countdown;
pub mod engine;
pub mod reads;
pub mod report;
pub mod reviews;
pub mod setup;

use chrono::{DateTime, Utc};
use entity::sla_policy;

use super::tickets::types::{Kind, PendingReason};
use crate::domain::{named::named_enum, users::strings};

named_enum!(
    /// Whom a policy is agreed with, and so when its clocks run.
    Agreement {
        /// A service level agreement with the customer (an organization, or everyone):
        /// its clocks run from the ticket's creation.
        Sla = "SLA",
        /// An operational level agreement with an internal support group: its clocks
        /// run while the ticket sits with that group.
        Ola = "OLA",
        /// An underpinning contract with a supplier: its clock runs while the ticket is
        /// handed to that supplier.
        UnderpinningContract = "UNDERPINNING_CONTRACT",
    }
);

/// Whether a policy is in force at `at`: within its validity period.
pub fn in_force(policy: &sla_policy::Model, at: DateTime<Utc>) -> bool {
    policy.valid_from.is_none_or(|from| from <= at)
        && policy.valid_until.is_none_or(|until| at < until)
}

/// What an SLA clock measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    Response,
    Resolution,
}

impl Metric {
    /// Both metrics, response first.
    pub const ALL: [Metric; 2] = [Metric::Response, Metric::Resolution];

    /// The stored and sent name.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Response => "RESPONSE",
            Metric::Resolution => "RESOLUTION",
        }
    }

    /// The policy's target for this metric, in business minutes, if it sets one.
    pub fn target_minutes(self, policy: &sla_policy::Model) -> Option<i32> {
        match self {
            Metric::Response => policy.response_minutes,
            Metric::Resolution => policy.resolution_minutes,
        }
    }
}

/// What policies match on, taken from the ticket.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub kind: Option<Kind>,
    pub priority: i16,
    pub service_id: Option<i64>,
    /// The ticket's category and its ancestors.
    pub category_ids: Vec<i64>,
    pub organization_id: Option<i64>,
}

/// Every condition a policy sets must hold; unset ones match anything.
pub fn matches(policy: &sla_policy::Model, facts: &Facts) -> bool {
    policy.active
        && policy
            .match_kind
            .as_deref()
            .is_none_or(|k| facts.kind.is_some_and(|kind| kind.as_str() == k))
        && policy.match_priority.is_none_or(|p| p == facts.priority)
        && policy
            .match_service_id
            .is_none_or(|s| facts.service_id == Some(s))
        && policy
            .match_category_id
            .is_none_or(|c| facts.category_ids.contains(&c))
        && policy
            .match_organization_id
            .is_none_or(|o| facts.organization_id == Some(o))
}

/// The first policy, in order, that matches the ticket.
pub fn first_match<'p>(
    policies: &'p [sla_policy::Model],
    facts: &Facts,
) -> Option<&'p sla_policy::Model> {
    policies.iter().find(|p| matches(p, facts))
}

/// Warning thresholds in percent, ascending, then the breach at 100.
pub fn thresholds(warn_percents: &serde_json::Value) -> Vec<i64> {
    let mut percents: Vec<i64> = warn_percents
        .as_array()
        .map(|values| {
            values
                .iter()
                .filter_map(|v| v.as_i64())
                .filter(|p| (1..100).contains(p))
                .collect()
        })
        .unwrap_or_default();
    percents.sort();
    percents.dedup();
    percents.push(100);
    percents
}

/// Whether a ticket pending for this reason stops the clock: the policy's reasons, and
/// always an approval the desk is waiting for (the desk cannot act on it yet).
pub fn pauses_for(policy: &sla_policy::Model, pending_reason: Option<&str>) -> bool {
    pending_reason.is_some_and(|reason| {
        reason == PendingReason::AwaitingApproval.as_str()
            || strings(&policy.pause_reasons).iter().any(|r| r == reason)
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    fn policy(id: i64) -> sla_policy::Model {
        sla_policy::Model {
            id,
            position: id as i32,
            name: format!("policy {id}"),
            active: true,
            match_kind: None,
            match_priority: None,
            match_service_id: None,
            match_category_id: None,
            match_organization_id: None,
            calendar_id: None,
            response_minutes: Some(15),
            resolution_minutes: Some(120),
            warn_percents: json!([90, 75]),
            pause_reasons: json!(["AWAITING_CUSTOMER"]),
            created_at: Utc::now(),
            agreement: "SLA".into(),
            match_group_id: None,
            supplier_id: None,
            valid_from: None,
            valid_until: None,
            review_at: None,
            review_announced: false,
            document_url: None,
        }
    }

    #[test]
    fn customer_contracts_come_before_the_general_policy() {
        let acme_p1 = sla_policy::Model {
            match_organization_id: Some(7),
            match_priority: Some(1),
            ..policy(1)
        };
        let p1 = sla_policy::Model {
            match_priority: Some(1),
            ..policy(2)
        };
        let rest = policy(3);
        let policies = vec![acme_p1, p1, rest];
        let facts = Facts {
            priority: 1,
            organization_id: Some(7),
            ..Default::default()
        };
        assert_eq!(first_match(&policies, &facts).unwrap().id, 1);
        let facts = Facts {
            organization_id: Some(8),
            ..facts
        };
        assert_eq!(first_match(&policies, &facts).unwrap().id, 2);
        let facts = Facts {
            priority: 3,
            ..facts
        };
        assert_eq!(first_match(&policies, &facts).unwrap().id, 3);
    }

    #[test]
    fn thresholds_are_sorted_warnings_then_the_breach() {
        assert_eq!(thresholds(&json!([90, 75])), vec![75, 90, 100]);
        assert_eq!(thresholds(&json!([])), vec![100]);
        assert!(pauses_for(&policy(1), Some("AWAITING_CUSTOMER")));
        assert!(!pauses_for(&policy(1), Some("AWAITING_VENDOR")));
        assert!(!pauses_for(&policy(1), None));
    }
}
