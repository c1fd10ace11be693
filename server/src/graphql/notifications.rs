//! Notifications by mail: the templates admins edit, the record of what was sent, and
//! each person's choice of what they receive.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::mail_delivery;

use crate::{
    domain::notifications::{
        log, preferences,
        templates::{self, Template},
        types::{DeliveryState, NotificationKind as Kind},
    },
    error::AppResult,
    graphql::{
        caller, ids,
        instant::Instant,
        now,
        pagination::{self, Page, PageArgs},
        state,
    },
};

/// What a notification tells, and so who receives it.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Kind")]
pub enum NotificationKind {
    /// To the requester: their ticket was recorded, with its number.
    TicketReceived,
    /// To the requester and the assignee (not the author): a comment they may read.
    TicketCommented,
    /// To the requester: the desk waits on their answer.
    TicketWaiting,
    /// To the requester: their ticket was resolved, with the resolution.
    TicketResolved,
    /// To an agent: a ticket was assigned to them.
    TicketAssigned,
    /// To the group's manager: a ticket of the group was escalated or breached its SLA.
    TicketFlagged,
    /// To the approvers: a catalog order or a change waits on their decision.
    ApprovalRequested,
    /// To the requester of a resolved ticket: how satisfied are they? With the link.
    SurveyRequested,
    /// To the requester of a duplicate: it was merged into another ticket, which they
    /// now follow.
    TicketMerged,
    /// To everyone a major incident affects: an update its coordinator published.
    MajorIncidentUpdate,
    /// To a release's owner and the managers of the groups owning its services: it
    /// deployed, was verified, or was rolled back.
    ReleaseChanged,
    /// To the group owning a service or item and its manager: the service spent its
    /// month's downtime budget, or a capacity measure went over (or is forecast to go
    /// over) its threshold.
    ServiceNotice,
    /// To the manager of the group owning a service, once a month if they asked: the
    /// month's service report.
    ServiceReport,
}

/// Where a notification's delivery stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DeliveryState")]
pub enum NotificationState {
    /// Queued, or waiting to be tried again after a temporary failure.
    Pending,
    /// The mail server accepted it.
    Sent,
    /// The mail server refused it for good, or every attempt failed; `lastError` says why.
    Failed,
}

/// A notification's template. Templates are minijinja: they see `recipient`
/// (`name`, `email`), `desk` (`name`), `actor` (who did it), `ticket` (`number`,
/// `title`, `description`, `kind`, `status`, `priority`, `requester`, `assignee`,
/// `resolution_code`, `resolution_notes`), `comment` (`author`, `body`), `change`
/// (`number`, `title`, `risk`, `planned_start`), `order` (`item`) and `reason`; what a
/// kind has no use for is `none`.
pub struct NotificationTemplate(Template);

/// A notification's template, as the desk uses it now.
#[Object]
impl NotificationTemplate {
    /// What it tells.
    async fn kind(&self) -> NotificationKind {
        self.0.kind.into()
    }
    /// The subject's template; keep the ticket's number in `[…]` so replies thread.
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// The plain-text body's template.
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// The HTML part's template (values escaped as HTML), if the mail has one.
    async fn html(&self) -> Option<&str> {
        self.0.html.as_deref()
    }
    /// Whether its mail carries the files of the comment it tells of.
    async fn include_attachments(&self) -> bool {
        self.0.include_attachments
    }
    /// Whether an admin changed it (else it is the desk's own).
    async fn customized(&self) -> bool {
        self.0.updated_at.is_some()
    }
    /// When an admin last changed it.
    async fn updated_at(&self) -> Option<Instant> {
        self.0.updated_at.map(Instant)
    }
}

/// One kind of notification, and whether the viewer receives it.
#[derive(SimpleObject)]
pub struct NotificationPreference {
    /// The kind.
    pub kind: NotificationKind,
    /// What it is, in a sentence for a settings page.
    pub description: String,
    /// Whether the viewer receives it.
    pub enabled: bool,
}

impl From<preferences::Preference> for NotificationPreference {
    fn from(p: preferences::Preference) -> Self {
        NotificationPreference {
            kind: p.kind.into(),
            description: p.kind.description().into(),
            enabled: p.enabled,
        }
    }
}

/// One notification to one person, and how sending it went.
pub struct Notification(pub mail_delivery::Model);

/// One notification to one person, and how sending it went.
#[Object]
impl Notification {
    /// The globally unique id (Relay `Node`): pass it to `node(id:)` to fetch it again.
    pub async fn id(&self) -> ID {
        ids::encode("Notification", self.0.id)
    }
    /// What it tells.
    async fn kind(&self) -> AppResult<NotificationKind> {
        Ok(Kind::stored(&self.0.kind)?.into())
    }
    /// The event it tells of (its `seq` in the event log).
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    /// The person it is for.
    async fn recipient_id(&self) -> ID {
        ids::encode("User", self.0.user_id)
    }
    /// The address it was sent to.
    async fn to(&self) -> &str {
        &self.0.to_address
    }
    /// The ticket it is about.
    async fn ticket_id(&self) -> Option<ID> {
        self.0.ticket_id.map(|id| ids::encode("Ticket", id))
    }
    /// The subject, as rendered.
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// The plain-text body, as rendered.
    async fn text(&self) -> &str {
        &self.0.text_body
    }
    /// The HTML part, as rendered.
    async fn html(&self) -> Option<&str> {
        self.0.html_body.as_deref()
    }
    /// Its `Message-ID` (without angle brackets): a reply naming it lands on the ticket.
    async fn message_id(&self) -> &str {
        &self.0.message_id
    }
    /// Where sending stands.
    async fn state(&self) -> AppResult<NotificationState> {
        Ok(DeliveryState::stored(&self.0.state)?.into())
    }
    /// How many times it was handed to the mail server.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// What the mail server last said when it refused, or why it could not be reached.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When it is tried next, while pending.
    async fn next_attempt_at(&self) -> Option<Instant> {
        self.0.next_attempt_at.map(Instant)
    }
    /// When it was queued.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the mail server accepted it.
    async fn sent_at(&self) -> Option<Instant> {
        self.0.sent_at.map(Instant)
    }
}

/// A notification by id, for `node(id:)`.
pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<Notification> {
    Ok(Notification(
        log::find(&state(ctx).db, caller(ctx), id).await?,
    ))
}

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// Every kind's template as the desk uses it now. Admins only.
    async fn notification_templates(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<NotificationTemplate>> {
        Ok(templates::list(&state(ctx).db, caller(ctx))
            .await?
            .into_iter()
            .map(NotificationTemplate)
            .collect())
    }

    /// The viewer's choice of notifications, one entry per kind. People only.
    async fn my_notification_preferences(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<NotificationPreference>> {
        Ok(preferences::mine(&state(ctx).db, caller(ctx))
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Notifications queued, newest first, in one state or all, about one ticket or
    /// all: look here for what failed and why. Admins only.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "state", desc = "Only notifications in this state.")] only: Option<
            NotificationState,
        >,
        #[graphql(desc = "Only notifications about this ticket.")] ticket_id: Option<ID>,
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
    ) -> AppResult<Page<Notification>> {
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let ticket_id = ticket_id
            .map(|id| ids::decode_as(&id, "Ticket", "ticketId"))
            .transpose()?;
        let rows = log::list(
            &state(ctx).db,
            caller(ctx),
            only.map(Into::into),
            ticket_id,
            &page,
        )
        .await?;
        Ok(pagination::connection(
            &page,
            rows,
            |row| row.id,
            Notification,
        ))
    }
}

/// What `updateNotificationTemplate` takes.
#[derive(InputObject)]
pub struct UpdateNotificationTemplateInput {
    /// The kind whose template to replace.
    pub kind: NotificationKind,
    /// The subject's template (one line once rendered).
    pub subject: String,
    /// The plain-text body's template.
    pub text: String,
    /// The HTML part's template; none or empty for plain-text mail.
    pub html: Option<String>,
    /// Whether its mail carries the files of the comment it tells of (up to 10 MiB in
    /// all); the kind's default when not given (on for `TICKET_COMMENTED`).
    pub include_attachments: Option<bool>,
}

/// What `resetNotificationTemplate` takes.
#[derive(InputObject)]
pub struct ResetNotificationTemplateInput {
    /// The kind whose template goes back to the desk's own.
    pub kind: NotificationKind,
}

/// What `setNotificationPreference` takes.
#[derive(InputObject)]
pub struct SetNotificationPreferenceInput {
    /// The kind to turn on or off.
    pub kind: NotificationKind,
    /// Whether the viewer wants it.
    pub enabled: bool,
}

/// What the template mutations return.
#[derive(SimpleObject)]
pub struct NotificationTemplatePayload {
    /// The template as the desk uses it after the change.
    pub notification_template: NotificationTemplate,
}

/// What `setNotificationPreference` returns.
#[derive(SimpleObject)]
pub struct NotificationPreferencesPayload {
    /// The viewer's choices after the change, one per kind.
    pub preferences: Vec<NotificationPreference>,
}

#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Replaces a kind's template. It is checked by rendering an example first: a
    /// misspelt name or a syntax error is refused (BAD_USER_INPUT) with its line.
    /// Admins only.
    async fn update_notification_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: UpdateNotificationTemplateInput,
    ) -> AppResult<NotificationTemplatePayload> {
        let template = templates::update(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            input.kind.into(),
            &input.subject,
            &input.text,
            input.html.as_deref(),
            input.include_attachments,
        )
        .await?;
        Ok(NotificationTemplatePayload {
            notification_template: NotificationTemplate(template),
        })
    }

    /// Goes back to the desk's own template for a kind. Admins only.
    async fn reset_notification_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: ResetNotificationTemplateInput,
    ) -> AppResult<NotificationTemplatePayload> {
        let template = templates::reset(&state(ctx).db, caller(ctx), input.kind.into()).await?;
        Ok(NotificationTemplatePayload {
            notification_template: NotificationTemplate(template),
        })
    }

    /// Turns one kind of notification on or off for the viewer.
    async fn set_notification_preference(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SetNotificationPreferenceInput,
    ) -> AppResult<NotificationPreferencesPayload> {
        let preferences = preferences::set(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            input.kind.into(),
            input.enabled,
        )
        .await?;
        Ok(NotificationPreferencesPayload {
            preferences: preferences.into_iter().map(Into::into).collect(),
        })
    }
}
