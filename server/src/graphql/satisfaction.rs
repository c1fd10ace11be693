//! Customer satisfaction: answering a survey (by its link's token, or signed in as the
//! requester), a ticket's survey, and the report managers read.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::survey;

use crate::{
    domain::satisfaction::{self, Answer, Grouping, Row},
    error::AppResult,
    graphql::{caller, command::acting, ids, instant::Instant, state},
};

/// What the satisfaction report is grouped by.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::satisfaction::Grouping")]
pub enum SatisfactionGrouping {
    /// By the group that resolved the ticket.
    Group,
    /// By the agent the ticket was assigned to.
    Agent,
    /// By the ticket's business service.
    Service,
    /// By the requester's organization.
    Organization,
    /// By the month the survey was offered.
    Month,
}

/// The survey offered to a ticket's requester when it was resolved.
pub struct Survey(pub survey::Model);

/// The survey offered to a ticket's requester when it was resolved.
#[Object]
impl Survey {
    /// When it was offered.
    async fn offered_at(&self) -> Instant {
        Instant(self.0.offered_at)
    }
    /// Until when it may be answered.
    async fn expires_at(&self) -> Instant {
        Instant(self.0.expires_at)
    }
    /// When it was answered; null while it waits.
    async fn answered_at(&self) -> Option<Instant> {
        self.0.answered_at.map(Instant)
    }
    /// 1 (very unhappy) to 5 (very happy); null while unanswered.
    async fn rating(&self) -> Option<i32> {
        self.0.rating.map(i32::from)
    }
    /// What the requester wrote.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
}

/// A comment from a survey, with its rating.
#[derive(SimpleObject)]
pub struct SurveyComment {
    /// 1 to 5.
    pub rating: i32,
    /// What the requester wrote.
    pub comment: String,
}

/// One row of the satisfaction report.
#[derive(SimpleObject)]
pub struct SatisfactionRow {
    /// The group, agent, service or organization; null by month, or for tickets
    /// without one.
    pub key: Option<ID>,
    /// By month: the month offered, `YYYY-MM`.
    pub month: Option<String>,
    /// Surveys offered.
    pub offered: i64,
    /// Surveys answered.
    pub answered: i64,
    /// Answered over offered, 0 to 1.
    pub response_rate: f64,
    /// The mean rating; null without answers.
    pub average_rating: Option<f64>,
    /// How many rated 1, 2, 3, 4 and 5.
    pub ratings: Vec<i64>,
    /// What requesters wrote, newest first (twenty at most).
    pub comments: Vec<SurveyComment>,
}

impl SatisfactionRow {
    pub fn of(row: Row, grouping: Grouping) -> SatisfactionRow {
        let type_name = match grouping {
            Grouping::Group => Some("Group"),
            Grouping::Agent => Some("User"),
            Grouping::Service => Some("Service"),
            Grouping::Organization => Some("Organization"),
            Grouping::Month => None,
        };
        SatisfactionRow {
            key: type_name.zip(row.key).map(|(t, id)| ids::encode(t, id)),
            response_rate: row.response_rate(),
            average_rating: row.average(),
            ratings: row.ratings.to_vec(),
            comments: row
                .comments
                .iter()
                .map(|(rating, comment)| SurveyComment {
                    rating: i32::from(*rating),
                    comment: comment.clone(),
                })
                .collect(),
            month: row.month,
            offered: row.offered,
            answered: row.answered,
        }
    }
}

/// What `answerSurvey` takes: the token from the survey's link, no sign-in needed.
#[derive(InputObject)]
pub struct AnswerSurveyInput {
    /// The last part of the survey's link.
    pub token: String,
    /// 1 (very unhappy) to 5 (very happy).
    pub rating: i32,
    /// Anything to tell the desk, up to 2,000 characters.
    pub comment: Option<String>,
    /// The problem is still there: open the ticket again (within the reopen window).
    #[graphql(default)]
    pub reopen: bool,
}

/// What `rateTicket` takes: the requester, signed in, answering their ticket's survey.
#[derive(InputObject)]
pub struct RateTicketInput {
    /// The id of the ticket.
    pub ticket_id: ID,
    /// 1 (very unhappy) to 5 (very happy).
    pub rating: i32,
    /// Anything to tell the desk, up to 2,000 characters.
    pub comment: Option<String>,
    /// The problem is still there: open the ticket again (within the reopen window).
    #[graphql(default)]
    pub reopen: bool,
}

fn answer(rating: i32, comment: Option<String>, reopen: bool) -> Answer {
    Answer {
        // Out of i16's range is out of 1 to 5 as well: refused as such.
        rating: i16::try_from(rating).unwrap_or(0),
        comment,
        reopen,
    }
}

#[derive(Default)]
pub struct SatisfactionQuery;

#[Object]
impl SatisfactionQuery {
    /// For the surveys offered in a period: how many were answered, the ratings and
    /// what was written, by group, agent, service, organization or month. Managers;
    /// API tokens with `tickets:read`.
    async fn satisfaction_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The start of the period.")] from: Instant,
        #[graphql(desc = "The end of the period (excluded).")] to: Instant,
        #[graphql(desc = "What the rows are grouped by.")] by: SatisfactionGrouping,
    ) -> AppResult<Vec<SatisfactionRow>> {
        let grouping: Grouping = by.into();
        let from = crate::domain::input::instant("from", from)?;
        let to = crate::domain::input::instant("to", to)?;
        let rows =
            satisfaction::report(state(ctx).db.conn(), caller(ctx), from, to, grouping).await?;
        Ok(rows
            .into_iter()
            .map(|row| SatisfactionRow::of(row, grouping))
            .collect())
    }
}

#[derive(Default)]
pub struct SatisfactionMutation;

#[Object]
impl SatisfactionMutation {
    /// Answers a satisfaction survey with the token from its link; no sign-in needed.
    /// Once, before it expires.
    async fn answer_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: AnswerSurveyInput,
    ) -> AppResult<Survey> {
        let on = acting(ctx);
        let answer = answer(input.rating, input.comment, input.reopen);
        Ok(Survey(
            satisfaction::answer_by_token(on.db, on.now, &input.token, &answer).await?,
        ))
    }

    /// Answers the survey of a ticket, signed in as its requester. Once, before it
    /// expires.
    async fn rate_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: RateTicketInput,
    ) -> AppResult<Survey> {
        let ticket = ids::decode_as(&input.ticket_id, "Ticket", "ticketId")?;
        let on = acting(ctx);
        let answer = answer(input.rating, input.comment, input.reopen);
        Ok(Survey(
            satisfaction::answer_as_requester(on.db, on.caller, on.now, ticket, &answer).await?,
        ))
    }
}

/// A ticket's survey, for its requester and the desk.
pub async fn survey_of_ticket(ctx: &Context<'_>, ticket_id: i64) -> AppResult<Option<Survey>> {
    Ok(
        satisfaction::survey_of(state(ctx).db.conn(), caller(ctx), ticket_id)
            .await?
            .map(Survey),
    )
}
