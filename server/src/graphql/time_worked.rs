//! Time worked: recording it (alone, with a comment, or by a timer), a ticket's entries,
//! and the monthly totals managers read.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use entity::{time_entry, time_timer};

use crate::{
    domain::time_worked::{self, Activity, Grouping, NewEntry, Total},
    error::{AppError, AppResult},
    graphql::{
        caller,
        command::acting,
        ids,
        instant::Instant,
        loaders, state,
        tickets::{Ticket, visible},
    },
};

/// What time worked was spent on.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::time_worked::Activity")]
pub enum TimeActivity {
    /// Finding out what is wrong.
    Diagnosis,
    /// Fixing it, or fulfilling the request.
    Resolution,
    /// Talking to the requester, a supplier or another team.
    Communication,
    /// Going to where the work is.
    Travel,
    /// Meetings about the ticket.
    Meeting,
    /// Paperwork: orders, forms, records.
    Administration,
    /// Anything else.
    Other,
}

/// What the totals of time worked are grouped by, besides the month.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::time_worked::Grouping")]
pub enum TimeGrouping {
    /// By ticket.
    Ticket,
    /// By the group the ticket was with when the time was recorded.
    Group,
    /// By the ticket's organization (the customer).
    Organization,
    /// By the ticket's business service.
    Service,
    /// By who worked.
    Agent,
    /// By month alone.
    Month,
}

/// Time an agent worked on a ticket. Seen by the desk only, never by requesters.
pub struct TimeEntry(pub time_entry::Model);

/// Time an agent worked on a ticket. Seen by the desk only, never by requesters.
#[Object]
impl TimeEntry {
    /// The entry's id, for `removeTimeEntry`.
    async fn id(&self) -> ID {
        ids::encode("TimeEntry", self.0.id)
    }
    /// Minutes worked.
    async fn minutes(&self) -> i32 {
        self.0.minutes
    }
    /// The day worked, `YYYY-MM-DD`.
    async fn worked_on(&self) -> &str {
        &self.0.worked_on
    }
    /// What the time was spent on.
    async fn activity(&self) -> AppResult<TimeActivity> {
        Ok(Activity::stored(&self.0.activity)?.into())
    }
    /// Whether the customer may be charged for it.
    async fn billable(&self) -> bool {
        self.0.billable
    }
    /// What was done.
    async fn note(&self) -> &str {
        &self.0.note
    }
    /// Who worked, as shown: a person's name or an API token's.
    async fn worked_by_name(&self) -> &str {
        &self.0.user_name
    }
    /// Who worked, when it was a person.
    async fn worked_by(&self, ctx: &Context<'_>) -> AppResult<Option<crate::graphql::users::User>> {
        loaders::user(ctx, self.0.user_id).await
    }
    /// The ticket, if the caller may see it.
    async fn ticket(&self, ctx: &Context<'_>) -> AppResult<Option<Ticket>> {
        Box::pin(visible(ctx, self.0.ticket_id)).await
    }
    /// Whether it was recorded with a comment (`addComment` with `time`).
    async fn with_comment(&self) -> bool {
        self.0.comment_id.is_some()
    }
    /// When it was recorded.
    async fn recorded_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}

/// A timer running on a ticket; `stopTimer` records the time since it started.
pub struct TimeTimer(pub time_timer::Model);

/// A timer running on a ticket; `stopTimer` records the time since it started.
#[Object]
impl TimeTimer {
    /// The ticket, if the caller may still see it.
    async fn ticket(&self, ctx: &Context<'_>) -> AppResult<Option<Ticket>> {
        Box::pin(visible(ctx, self.0.ticket_id)).await
    }
    /// When it was started.
    async fn started_at(&self) -> Instant {
        Instant(self.0.started_at)
    }
}

/// One row of the totals of time worked: a month, and what the time went to.
#[derive(SimpleObject)]
pub struct TimeWorkedTotal {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The id of the ticket, group, organization, service or person the row is about;
    /// null when grouped by month, or for time with none (a ticket without a group).
    pub key: Option<ID>,
    /// Minutes worked.
    pub minutes: i64,
    /// Of those, the billable minutes.
    pub billable_minutes: i64,
    /// How many entries.
    pub entries: i64,
}

impl TimeWorkedTotal {
    fn of(total: Total, grouping: Grouping) -> TimeWorkedTotal {
        let type_name = match grouping {
            Grouping::Ticket => Some("Ticket"),
            Grouping::Group => Some("Group"),
            Grouping::Organization => Some("Organization"),
            Grouping::Service => Some("Service"),
            Grouping::Agent => Some("User"),
            Grouping::Month => None,
        };
        TimeWorkedTotal {
            month: total.month,
            key: type_name.zip(total.key).map(|(t, id)| ids::encode(t, id)),
            minutes: total.minutes,
            billable_minutes: total.billable_minutes,
            entries: total.entries,
        }
    }
}

/// Time worked, as `recordTime`, `stopTimer` and `addComment` take it.
#[derive(InputObject)]
pub struct TimeWorkedInput {
    /// Minutes worked: 1 to 1440 (a day). Required, except by `stopTimer`, which takes
    /// the timer's.
    pub minutes: Option<i32>,
    /// The day worked, `YYYY-MM-DD`; today (UTC) when left out.
    pub worked_on: Option<String>,
    /// What the time was spent on.
    #[graphql(default_with = "TimeActivity::Other")]
    pub activity: TimeActivity,
    /// Whether the customer may be charged for it.
    #[graphql(default)]
    pub billable: bool,
    /// What was done, up to 2,000 characters.
    #[graphql(default)]
    pub note: String,
}

impl TimeWorkedInput {
    /// The entry as recorded by hand: how many minutes must be said.
    pub fn into_domain(self) -> AppResult<NewEntry> {
        let minutes = self.minutes.ok_or_else(|| {
            AppError::bad_input("minutes", "say how many minutes were worked: 1 to 1440")
        })?;
        self.entry(minutes)
    }

    /// The entry a stopped timer records: its minutes are the timer's.
    fn for_timer(self) -> AppResult<NewEntry> {
        self.entry(0)
    }

    fn entry(self, minutes: i32) -> AppResult<NewEntry> {
        Ok(NewEntry {
            minutes,
            worked_on: self.worked_on.map(|d| day("workedOn", &d)).transpose()?,
            activity: self.activity.into(),
            billable: self.billable,
            note: self.note,
        })
    }
}

/// A day as a client writes it, `YYYY-MM-DD`; BAD_USER_INPUT naming `field` otherwise.
fn day(field: &str, text: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::bad_input(
            field,
            format!(
                "{} is not a day such as 2026-12-03",
                crate::error::quote(text)
            ),
        )
    })
}

/// What `recordTime` takes.
#[derive(InputObject)]
pub struct RecordTimeInput {
    /// The id of the ticket.
    pub ticket_id: ID,
    /// The time worked.
    pub time: TimeWorkedInput,
}

/// What `removeTimeEntry` takes.
#[derive(InputObject)]
pub struct RemoveTimeEntryInput {
    /// The id of the entry.
    pub id: ID,
}

/// What `startTimer` takes.
#[derive(InputObject)]
pub struct StartTimerInput {
    /// The id of the ticket.
    pub ticket_id: ID,
}

/// What `stopTimer` takes.
#[derive(InputObject)]
pub struct StopTimerInput {
    /// The id of the ticket.
    pub ticket_id: ID,
    /// The activity, billability and note of the time recorded; its minutes are the
    /// timer's.
    pub time: Option<TimeWorkedInput>,
}

/// What recording time returns: the entry.
#[derive(SimpleObject)]
pub struct TimeEntryPayload {
    /// The entry as recorded (or, for `removeTimeEntry`, as it was).
    pub time_entry: TimeEntry,
}

fn ticket_id(id: &ID) -> AppResult<i64> {
    ids::decode_as(id, "Ticket", "ticketId")
}

#[derive(Default)]
pub struct TimeWorkedQuery;

#[Object]
impl TimeWorkedQuery {
    /// The caller's running timers, oldest first.
    async fn my_timers(&self, ctx: &Context<'_>) -> AppResult<Vec<TimeTimer>> {
        let rows = time_worked::running_timers(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(TimeTimer).collect())
    }

    /// Minutes worked in a period (both days included), month by month and by what
    /// `by` says. Managers and admins; API tokens with `tickets:read`.
    async fn time_worked_totals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first day, `YYYY-MM-DD`.")] from: String,
        #[graphql(desc = "The last day, `YYYY-MM-DD`.")] to: String,
        #[graphql(desc = "What the totals are grouped by, besides the month.")] by: TimeGrouping,
    ) -> AppResult<Vec<TimeWorkedTotal>> {
        let grouping: Grouping = by.into();
        let totals = time_worked::totals(
            state(ctx).db.conn(),
            caller(ctx),
            day("from", &from)?,
            day("to", &to)?,
            grouping,
        )
        .await?;
        Ok(totals
            .into_iter()
            .map(|t| TimeWorkedTotal::of(t, grouping))
            .collect())
    }
}

#[derive(Default)]
pub struct TimeWorkedMutation;

#[Object]
impl TimeWorkedMutation {
    /// Records time worked on a ticket. Agents; API tokens with `tickets:write`.
    async fn record_time(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: RecordTimeInput,
    ) -> AppResult<TimeEntryPayload> {
        let ticket = ticket_id(&input.ticket_id)?;
        let entry = input.time.into_domain()?;
        let on = acting(ctx);
        let row = time_worked::record(on.db, on.caller, on.now, ticket, &entry).await?;
        Ok(TimeEntryPayload {
            time_entry: TimeEntry(row),
        })
    }

    /// Removes a time entry. Who recorded it, or a manager.
    async fn remove_time_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: RemoveTimeEntryInput,
    ) -> AppResult<TimeEntryPayload> {
        let id = ids::decode_as(&input.id, "TimeEntry", "id")?;
        let on = acting(ctx);
        let row = time_worked::remove(on.db, on.caller, on.now, id).await?;
        Ok(TimeEntryPayload {
            time_entry: TimeEntry(row),
        })
    }

    /// Starts the caller's timer on a ticket. Agents.
    async fn start_timer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: StartTimerInput,
    ) -> AppResult<TimeTimer> {
        let ticket = ticket_id(&input.ticket_id)?;
        let on = acting(ctx);
        Ok(TimeTimer(
            time_worked::start_timer(on.db, on.caller, on.now, ticket).await?,
        ))
    }

    /// Stops the caller's timer on a ticket and records the time since it started
    /// (a started minute counts; a day at most).
    async fn stop_timer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: StopTimerInput,
    ) -> AppResult<TimeEntryPayload> {
        let ticket = ticket_id(&input.ticket_id)?;
        let entry = match input.time {
            Some(time) => time.for_timer()?,
            None => NewEntry::default(),
        };
        let on = acting(ctx);
        let row = time_worked::stop_timer(on.db, on.caller, on.now, ticket, entry).await?;
        Ok(TimeEntryPayload {
            time_entry: TimeEntry(row),
        })
    }
}

/// A ticket's time entries, newest day first, for callers who see time worked.
pub async fn entries_of_ticket(
    ctx: &Context<'_>,
    ticket_id: i64,
) -> AppResult<Option<Vec<TimeEntry>>> {
    if !time_worked::may_see(caller(ctx)) {
        return Ok(None);
    }
    let rows = loaders::children_of::<loaders::EntriesByTicket, _>(ctx, ticket_id).await?;
    Ok(Some(rows.into_iter().map(TimeEntry).collect()))
}
