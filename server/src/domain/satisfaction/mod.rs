//! Customer satisfaction: when a ticket is resolved, its requester may be asked (by mail,
//! with a link that works without signing in, and through GraphQL) to rate the desk's
//! work from 1 to 5 and say why, once, before the survey expires; from the same place
//! they may reopen the ticket within the reopen window.
//!
//! Which resolutions are surveyed is the desk's setting: a share of them, the same
//! tickets however often it is asked (sampled by the ticket's number), never the
//! customers or services it leaves out, at most once a ticket, and never a requester
//! about their own work. Answers are in the reports by group, agent, service,
//! organization and month, and set off automation rules (`SURVEY_ANSWERED`).

mod answer;
mod offer;
mod report;

pub use answer::{Answer, answer_as_requester, answer_by_token, by_token, still_open, survey_of};
pub use offer::{link_token, offer};
pub use report::{Grouping, Row, compute as compute_report, report};

/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;
