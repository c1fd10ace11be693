//! The notifications' vocabulary: what a notification tells, and where its delivery stands.

use crate::domain::named::named_enum;

named_enum!(
    /// What a notification tells, and so who receives it and with which template.
    NotificationKind {
        /// To the requester: their ticket was recorded, with its number.
        TicketReceived = "TICKET_RECEIVED",
        /// To the requester and the assignee (not the author): a comment they may read.
        TicketCommented = "TICKET_COMMENTED",
        /// To the requester: the desk waits on them.
        TicketWaiting = "TICKET_WAITING",
        /// To the requester: their ticket was resolved, with the resolution.
        TicketResolved = "TICKET_RESOLVED",
        /// To an agent: a ticket was assigned to them.
        TicketAssigned = "TICKET_ASSIGNED",
        /// To the group's manager: a ticket of the group was escalated or breached its SLA.
        TicketFlagged = "TICKET_FLAGGED",
        /// To the approvers: a catalog order or a change waits on their decision.
        ApprovalRequested = "APPROVAL_REQUESTED",
        /// To the requester of a resolved ticket: how satisfied are they? With the
        /// survey's link.
        SurveyRequested = "SURVEY_REQUESTED",
        /// To the requester of a duplicate: it was merged into another ticket, which
        /// they now follow. One line, whatever moved.
        TicketMerged = "TICKET_MERGED",
        /// To everyone a major incident affects: an update its coordinator published.
        MajorIncidentUpdate = "MAJOR_INCIDENT_UPDATE",
        /// To a release's owner and the managers of the groups that own its services:
        /// it deployed, was verified, or was rolled back.
        ReleaseChanged = "RELEASE_CHANGED",
        /// To the group that owns a service or a configuration item, and its manager:
        /// the service spent its month's downtime budget, or a capacity measure of the
        /// item went over its threshold or is forecast to.
        ServiceNotice = "SERVICE_NOTICE",
        /// To the manager of the group that owns a service, early each month if they
        /// asked for it: last month's service report, its page as the mail's HTML.
        ServiceReport = "SERVICE_REPORT",
    }
);

impl NotificationKind {
    /// What it is, for the person choosing which ones they want.
    pub fn description(self) -> &'static str {
        match self {
            NotificationKind::TicketReceived => {
                "When a ticket you requested is recorded, with its number."
            }
            NotificationKind::TicketCommented => {
                "When someone else comments on a ticket you requested or are assigned."
            }
            NotificationKind::TicketWaiting => "When the desk waits on your answer.",
            NotificationKind::TicketResolved => "When a ticket you requested is resolved.",
            NotificationKind::TicketAssigned => "When a ticket is assigned to you.",
            NotificationKind::TicketFlagged => {
                "When a ticket of a group you manage is escalated or breaches its SLA."
            }
            NotificationKind::ApprovalRequested => {
                "When a catalog order or a change waits on your approval."
            }
            NotificationKind::SurveyRequested => {
                "When a ticket you requested is resolved and the desk asks how it went."
            }
            NotificationKind::MajorIncidentUpdate => {
                "When a major incident affects you and its coordinator publishes an update."
            }
            NotificationKind::ReleaseChanged => {
                "When a release you own, or one touching a service your group owns, deploys, is verified or is rolled back."
            }
            NotificationKind::TicketMerged => {
                "When a ticket you requested is merged into another one, which you then follow."
            }
            NotificationKind::ServiceNotice => {
                "When a service or item your group owns misses its availability target, runs out of capacity, passes its budget's alert share or has an overdue continuity exercise."
            }
            NotificationKind::ServiceReport => {
                "Each month, the report of a service your group owns, if its monthly mailing is on."
            }
        }
    }
}

named_enum!(
    /// Where a notification's delivery stands.
    DeliveryState {
        /// Queued, or waiting to be tried again after a temporary failure.
        Pending = "PENDING",
        /// The mail server accepted it.
        Sent = "SENT",
        /// The mail server refused it for good, or every attempt failed.
        Failed = "FAILED",
    }
);
