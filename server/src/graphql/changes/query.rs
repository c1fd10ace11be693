//! Reading changes: one, a page, the calendar, the report and the set-up.

use async_graphql::{Context, Object};

use crate::graphql::instant::Instant;
use crate::{
    auth::Role,
    domain::changes::{self, schedule, types as vocabulary},
    domain::input::instant,
    error::{AppError, AppResult},
    graphql::{
        caller,
        pagination::{self, Page, PageArgs},
        state,
    },
};

use super::{
    CalendarEntry, Change, ChangeApprovalPolicy, ChangeConflict, ChangeFreeze, ChangeReport,
    ChangeStatus, ChangeTemplate,
};

#[derive(Default)]
pub struct ChangeQuery;

#[Object]
impl ChangeQuery {
    /// Changes, newest first.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(1) as usize * child_complexity")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Only changes in these statuses; all when empty.")] status: Vec<
            ChangeStatus,
        >,
        #[graphql(
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(
            desc = "How many items to take from the end of the list (before `before`), 0 to 100. Pass `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<Change>> {
        changes::require_reader(caller(ctx))?;
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let statuses: Vec<vocabulary::ChangeStatus> = status.into_iter().map(Into::into).collect();
        let rows = changes::list(state(ctx).db.conn(), &statuses, &page).await?;
        Ok(pagination::connection(&page, rows, |c| c.id, Change))
    }

    /// The change calendar: changes holding a slot that overlaps `[from, to)`, by start,
    /// each with its conflicts. At most 31 days at a time.
    async fn change_calendar(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The start of the period.")] from: Instant,
        #[graphql(desc = "The end of the period.")] to: Instant,
    ) -> AppResult<Vec<CalendarEntry>> {
        changes::require_reader(caller(ctx))?;
        let (from, to) = (instant("from", from)?, instant("to", to)?);
        if to <= from || to - from > chrono::Duration::days(31) {
            return Err(AppError::bad_input(
                "to",
                "give a period of up to 31 days, ending after it starts",
            ));
        }
        let conn = state(ctx).db.conn();
        let rows = schedule::overlapping(conn, from, to, None).await?;
        let items =
            schedule::items_of(conn, &rows.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let mine = items.get(&row.id).cloned().unwrap_or_default();
            let conflicts = schedule::conflicts(conn, &row, &mine).await?;
            entries.push(CalendarEntry {
                change: Change(row),
                conflicts: conflicts.into_iter().map(ChangeConflict).collect(),
            });
        }
        Ok(entries)
    }

    /// How the changes closed in `[from, to)` went. Managers.
    async fn change_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The start of the period.")] from: Instant,
        #[graphql(desc = "The end of the period.")] to: Instant,
    ) -> AppResult<ChangeReport> {
        caller(ctx).require_role(Role::Manager)?;
        let (from, to) = (instant("from", from)?, instant("to", to)?);
        let report = changes::report(state(ctx).db.conn(), from, to).await?;
        Ok(ChangeReport {
            closed: report.closed as i32,
            successful: report.successful as i32,
            failed: report.failed as i32,
            backed_out: report.backed_out as i32,
            success_rate: (report.closed > 0)
                .then(|| report.successful as f64 / report.closed as f64),
            changes_causing_incidents: report.causing_incidents as i32,
            incidents_caused: report.incidents_caused as i32,
        })
    }

    /// Standard change templates. Agents.
    async fn change_templates(&self, ctx: &Context<'_>) -> AppResult<Vec<ChangeTemplate>> {
        let rows = changes::templates(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(ChangeTemplate).collect())
    }

    /// Who approves each change type. Agents.
    async fn change_approval_policies(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<ChangeApprovalPolicy>> {
        let rows = changes::policies(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(ChangeApprovalPolicy).collect())
    }

    /// Periods when changes may not be scheduled. Agents.
    async fn change_freezes(&self, ctx: &Context<'_>) -> AppResult<Vec<ChangeFreeze>> {
        let rows = changes::freezes(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(ChangeFreeze).collect())
    }
}
