//! The notifications' templates: built into the desk for every kind, changed by admins
//! (a changed template is checked against an example before it is saved), rendered with
//! minijinja. A subject and a plain-text body, and an optional HTML part (escaped as
//! HTML). Templates see `recipient`, `desk`, `actor`, `ticket`, `comment`, `change`,
//! `order` and `reason`; what a kind has no use for is `none`.

use chrono::{DateTime, Utc};
use entity::notification_template;
use minijinja::{Environment, UndefinedBehavior};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};
use serde::Serialize;

use super::types::NotificationKind as Kind;
use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::input::text,
    error::{AppError, AppResult},
};

/// A template: what an admin edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub kind: Kind,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// Its mail carries the files of the comment it tells of (`TICKET_COMMENTED`).
    pub include_attachments: bool,
    /// Changed by an admin (when), or the desk's own.
    pub updated_at: Option<DateTime<Utc>>,
}

/// A notification as rendered for one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// Someone named in a notification.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PersonView {
    pub name: String,
    pub email: Option<String>,
}

/// A release as notifications show it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReleaseView {
    pub number: String,
    pub name: String,
    pub version: String,
    pub status: String,
}

/// A month's service report, as its mail carries it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReportView {
    pub service: String,
    /// `YYYY-MM`.
    pub month: String,
    /// The headline figures, a line each.
    pub summary: String,
    /// The whole report as its HTML page (already escaped: use it with `|safe`).
    pub page: String,
}

/// The ticket as notifications show it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TicketView {
    pub number: String,
    pub title: String,
    pub description: String,
    /// `INCIDENT` or `SERVICE_REQUEST`.
    pub kind: String,
    pub status: String,
    /// `P1` to `P4`.
    pub priority: String,
    pub requester: Option<String>,
    pub assignee: Option<String>,
    pub resolution_code: Option<String>,
    pub resolution_notes: Option<String>,
}

/// A comment as notifications show it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CommentView {
    pub author: String,
    pub body: String,
}

/// A change awaiting approval.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ChangeView {
    pub number: String,
    pub title: String,
    pub risk: Option<String>,
    pub planned_start: Option<String>,
}

/// A catalog order awaiting approval.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OrderView {
    pub item: String,
}

/// A satisfaction survey's link, and until when it may be answered.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SurveyView {
    pub url: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
}

/// Everything a template may use.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Context {
    pub recipient: PersonView,
    pub desk: DeskView,
    /// Who did what the notification tells of.
    pub actor: String,
    pub ticket: Option<TicketView>,
    pub comment: Option<CommentView>,
    pub change: Option<ChangeView>,
    pub order: Option<OrderView>,
    /// Why a ticket was flagged: `escalated` or `breached its SLA`.
    pub reason: Option<String>,
    /// For `SURVEY_REQUESTED`: the survey's link.
    pub survey: Option<SurveyView>,
    /// For `TICKET_MERGED`: the number of the ticket it was merged into.
    pub merged_into: Option<String>,
    /// For `MAJOR_INCIDENT_UPDATE`: what the coordinator published.
    pub update: Option<String>,
    /// For `RELEASE_CHANGED`: the release.
    pub release: Option<ReleaseView>,
    /// For `SERVICE_NOTICE`: what happened to the service or item, in a sentence.
    pub notice: Option<String>,
    /// For `SERVICE_REPORT`: the month's report.
    pub report: Option<ReportView>,
}

/// The desk as notifications sign it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeskView {
    pub name: String,
}

const SIGNATURE: &str = "\n\n-- \n{{ desk.name }}\n";
const REPLY_HINT: &str =
    "\n\nReply to this message to add to the ticket; keep {{ ticket.number }} in the subject.";

/// The desk's own template for a kind.
pub fn built_in(kind: Kind) -> Template {
    let (subject, body): (&str, String) = match kind {
        Kind::TicketReceived => (
            "[{{ ticket.number }}] Received: {{ ticket.title }}",
            format!(
                "Hello {{{{ recipient.name }}}},\n\nWe have recorded your request as {{{{ ticket.number }}}} ({{{{ ticket.priority }}}}):\n\n  {{{{ ticket.title }}}}\n\nWe will tell you here as it moves on.{REPLY_HINT}"
            ),
        ),
        Kind::TicketCommented => (
            "[{{ ticket.number }}] {{ comment.author }} commented: {{ ticket.title }}",
            format!(
                "Hello {{{{ recipient.name }}}},\n\n{{{{ comment.author }}}} wrote on {{{{ ticket.number }}}}:\n\n{{{{ comment.body }}}}{REPLY_HINT}"
            ),
        ),
        Kind::TicketWaiting => (
            "[{{ ticket.number }}] We need your answer: {{ ticket.title }}",
            format!(
                "Hello {{{{ recipient.name }}}},\n\n{{{{ ticket.number }}}} waits on you: please answer the desk's last question so that we can go on.{REPLY_HINT}"
            ),
        ),
        Kind::TicketResolved => (
            "[{{ ticket.number }}] Resolved: {{ ticket.title }}",
            format!(
                "Hello {{{{ recipient.name }}}},\n\n{{{{ ticket.number }}}} is resolved ({{{{ ticket.resolution_code }}}}).{{% if ticket.resolution_notes %}}\n\n{{{{ ticket.resolution_notes }}}}{{% endif %}}\n\nIf the problem is still there, reply to this message and the ticket opens again.{REPLY_HINT}"
            ),
        ),
        Kind::TicketAssigned => (
            "[{{ ticket.number }}] Assigned to you: {{ ticket.title }}",
            "Hello {{ recipient.name }},\n\n{{ ticket.number }} ({{ ticket.priority }}, {{ ticket.status }}) is assigned to you:\n\n  {{ ticket.title }}{% if ticket.requester %}\n\nRequested by {{ ticket.requester }}.{% endif %}".to_string(),
        ),
        Kind::TicketFlagged => (
            "[{{ ticket.number }}] {{ reason | capitalize }}: {{ ticket.title }}",
            "Hello {{ recipient.name }},\n\n{{ ticket.number }} ({{ ticket.priority }}, {{ ticket.status }}) of a group you manage {{ reason }}.\n\n  {{ ticket.title }}{% if ticket.assignee %}\n\nAssigned to {{ ticket.assignee }}.{% endif %}".to_string(),
        ),
        Kind::ApprovalRequested => (
            "{% if change %}[{{ change.number }}] Your approval: {{ change.title }}{% else %}[{{ ticket.number }}] Your approval: {{ order.item }}{% endif %}",
            "Hello {{ recipient.name }},\n\n{% if change %}{{ change.number }}, {{ change.title }}{% if change.risk %} ({{ change.risk }} risk){% endif %}, waits on the approvers' votes.{% else %}{{ ticket.requester }} ordered {{ order.item }} ({{ ticket.number }}), and it waits on your approval.{% endif %}".to_string(),
        ),
        Kind::SurveyRequested => (
            "[{{ ticket.number }}] How did we do? {{ ticket.title }}",
            "Hello {{ recipient.name }},\n\n{{ ticket.number }} is resolved. How satisfied are you with how the desk handled it? One click rates it, and you may say why:\n\n  {{ survey.url }}\n\nThe link works until {{ survey.expires }}, once. If the problem is still there, the same page opens the ticket again.".to_string(),
        ),
        Kind::TicketMerged => (
            "[{{ ticket.number }}] Merged into {{ merged_into }}: {{ ticket.title }}",
            "Hello {{ recipient.name }},\n\n{{ ticket.number }} is the same request as {{ merged_into }}, so the desk has merged the two: everything you wrote is on {{ merged_into }} now, and you will hear of it from there. Replies to either number reach it.".to_string(),
        ),
        Kind::ReleaseChanged => (
            "[{{ release.number }}] {{ release.name }} {{ release.version }}: {{ release.status }}",
            "Hello {{ recipient.name }},\n\nRelease {{ release.number }}, {{ release.name }} {{ release.version }}, is {{ release.status }} ({{ actor }}).".to_string(),
        ),
        Kind::ServiceNotice => (
            "Service notice: {{ notice }}",
            "Hello {{ recipient.name }},\n\n{{ notice }}.\n\nYou receive this because your group owns it.".to_string(),
        ),
        Kind::ServiceReport => (
            "Service report: {{ report.service }}, {{ report.month }}",
            "Hello {{ recipient.name }},\n\nHere is the report of {{ report.service }} for {{ report.month }}:\n\n{{ report.summary }}\n\nThe whole report, with its charts, is this message's HTML part. You receive it because you manage the group that owns the service and its monthly mailing is on.".to_string(),
        ),
        Kind::MajorIncidentUpdate => (
            "[{{ ticket.number }}] Major incident update: {{ ticket.title }}",
            "Hello {{ recipient.name }},\n\nThe desk is working on a major incident that affects you:\n\n  {{ ticket.title }}\n\n{{ update }}\n\nYou will hear from us again as it moves on.".to_string(),
        ),
    };
    Template {
        kind,
        subject: subject.into(),
        text: format!("{body}{SIGNATURE}"),
        // The report's page is its mail's HTML part: the figures with their charts.
        html: (kind == Kind::ServiceReport).then(|| "{{ report.page|safe }}".to_string()),
        // A reply's screenshot reaches whoever is told of the reply.
        include_attachments: kind == Kind::TicketCommented,
        updated_at: None,
    }
}

/// A kind's template as the desk uses it: an admin's, else the desk's own.
pub async fn effective(conn: &impl ConnectionTrait, kind: Kind) -> AppResult<Template> {
    Ok(notification_template::Entity::find_by_id(kind.as_str())
        .one(conn)
        .await?
        .map_or_else(|| built_in(kind), |row| from_row(kind, row)))
}

fn from_row(kind: Kind, row: notification_template::Model) -> Template {
    Template {
        kind,
        subject: row.subject,
        text: row.text_body,
        html: row.html_body,
        include_attachments: row
            .include_attachments
            .unwrap_or_else(|| built_in(kind).include_attachments),
        updated_at: Some(row.updated_at),
    }
}

/// Every kind's template as the desk uses it. Admins only.
pub async fn list(db: &Db, caller: &Caller) -> AppResult<Vec<Template>> {
    caller.require_role(Role::Admin)?;
    let mut out = Vec::with_capacity(Kind::ALL.len());
    for kind in Kind::ALL {
        out.push(effective(db.conn(), *kind).await?);
    }
    Ok(out)
}

/// Replaces a kind's template, once it renders an example of that kind. Admins only.
#[allow(clippy::too_many_arguments)]
pub async fn update(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    kind: Kind,
    subject: &str,
    text_body: &str,
    html_body: Option<&str>,
    include_attachments: Option<bool>,
) -> AppResult<Template> {
    let admin = caller.require_role(Role::Admin)?;
    let subject = text("subject", subject, 1_000, true)?;
    let text_body = text("text", text_body, 50_000, true)?;
    let html_body = html_body
        .map(|h| text("html", h, 100_000, false))
        .transpose()?
        .filter(|h| !h.trim().is_empty());
    let template = Template {
        kind,
        subject,
        text: text_body,
        html: html_body,
        include_attachments: include_attachments
            .unwrap_or_else(|| built_in(kind).include_attachments),
        updated_at: Some(now),
    };
    render(&template, &example(kind)).map_err(|(part, why)| AppError::bad_input(part, why))?;
    let txn = db.begin_write().await?;
    notification_template::Entity::insert(notification_template::ActiveModel {
        kind: Set(kind.as_str().into()),
        subject: Set(template.subject.clone()),
        text_body: Set(template.text.clone()),
        html_body: Set(template.html.clone()),
        include_attachments: Set(Some(template.include_attachments)),
        updated_at: Set(now),
        updated_by: Set(Some(admin.user_id)),
    })
    .on_conflict(
        OnConflict::column(notification_template::Column::Kind)
            .update_columns([
                notification_template::Column::Subject,
                notification_template::Column::TextBody,
                notification_template::Column::HtmlBody,
                notification_template::Column::IncludeAttachments,
                notification_template::Column::UpdatedAt,
                notification_template::Column::UpdatedBy,
            ])
            .to_owned(),
    )
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok(template)
}

/// Goes back to the desk's own template for a kind. Admins only.
pub async fn reset(db: &Db, caller: &Caller, kind: Kind) -> AppResult<Template> {
    caller.require_role(Role::Admin)?;
    let txn = db.begin_write().await?;
    notification_template::Entity::delete_by_id(kind.as_str())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(built_in(kind))
}

/// Renders a template; on failure, which part failed and why.
pub fn render(template: &Template, context: &Context) -> Result<Rendered, (&'static str, String)> {
    let mut env = Environment::new();
    // A misspelt name fails when the admin saves the template, not as a blank in mail.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    let one = |env: &mut Environment<'_>, name: &'static str, part: &'static str, source: &str| {
        env.template_from_named_str(name, source)
            .and_then(|t| t.render(context))
            .map_err(|e| (part, describe(&e)))
    };
    let subject = one(&mut env, "subject.txt", "subject", &template.subject)?;
    // A subject is one line: whatever a value brings in, it cannot add headers.
    let subject: String = subject
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(250)
        .collect();
    let text = one(&mut env, "body.txt", "text", &template.text)?;
    let html = template
        .html
        .as_deref()
        .map(|source| one(&mut env, "body.html", "html", source))
        .transpose()?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

/// A template error as an admin can act on it: what went wrong and on which line.
fn describe(error: &minijinja::Error) -> String {
    match error.line() {
        Some(line) => format!(
            "{} (line {line})",
            error.detail().unwrap_or(&error.to_string())
        ),
        None => error.to_string(),
    }
}

/// What a kind's notification is about, as an example to check a template against.
pub fn example(kind: Kind) -> Context {
    let ticket = TicketView {
        number: "INC0000123".into(),
        title: "The printer on floor 3 jams".into(),
        description: "Every second page jams.".into(),
        kind: "INCIDENT".into(),
        status: "IN_PROGRESS".into(),
        priority: "P3".into(),
        requester: Some("Rita Requester".into()),
        assignee: Some("Alex Agent".into()),
        resolution_code: Some("FIXED".into()),
        resolution_notes: Some("Replaced the fuser.".into()),
    };
    let mut context = Context {
        recipient: PersonView {
            name: "Rita Requester".into(),
            email: Some("rita@example.com".into()),
        },
        desk: DeskView {
            name: "Service Desk".into(),
        },
        actor: "Alex Agent".into(),
        ticket: Some(ticket),
        ..Context::default()
    };
    match kind {
        Kind::TicketCommented => {
            context.comment = Some(CommentView {
                author: "Alex Agent".into(),
                body: "Could you tell us the printer's number?".into(),
            });
        }
        Kind::TicketFlagged => context.reason = Some("breached its SLA".into()),
        Kind::ApprovalRequested => {
            context.order = Some(OrderView {
                item: "Laptop".into(),
            });
        }
        Kind::TicketMerged => context.merged_into = Some("INC0000042".into()),
        Kind::ReleaseChanged => {
            context.release = Some(ReleaseView {
                number: "REL0000007".into(),
                name: "Orders".into(),
                version: "3.0".into(),
                status: "DEPLOYED".into(),
            });
        }
        Kind::MajorIncidentUpdate => {
            context.update = Some("Mail is back for most offices; the rest by noon.".into());
        }
        Kind::ServiceNotice => {
            context.notice = Some(
                "Shop spent its downtime budget for 2026-11 at 2026-11-11 12:19:48 UTC: it is below its 99% target"
                    .into(),
            );
        }
        Kind::ServiceReport => {
            context.report = Some(ReportView {
                service: "Shop".into(),
                month: "2026-11".into(),
                summary: "SLA attainment: 97.5% of 40 targets met".into(),
                page: "<h1>Shop</h1>".into(),
            });
        }
        Kind::SurveyRequested => {
            context.survey = Some(SurveyView {
                url: "https://desk.example.com/survey/Z3VpZGU".into(),
                expires: "2026-12-17".into(),
            });
        }
        _ => {}
    }
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_template_renders_its_example() {
        for kind in Kind::ALL {
            let rendered = render(&built_in(*kind), &example(*kind)).unwrap();
            // A release's mail names the release, a service notice its service; every
            // other names its ticket.
            let number = match kind {
                Kind::ReleaseChanged => "REL0000007",
                Kind::ServiceNotice | Kind::ServiceReport => "Shop",
                _ => "INC0000123",
            };
            assert!(
                rendered.subject.contains(number),
                "{kind}: {}",
                rendered.subject
            );
            assert!(!rendered.text.is_empty());
        }
    }

    #[test]
    fn a_misspelt_name_is_refused_with_its_line() {
        let mut template = built_in(Kind::TicketReceived);
        template.text = "Hello\n{{ tikcet.number }}".into();
        let (part, why) = render(&template, &example(Kind::TicketReceived)).unwrap_err();
        assert_eq!(part, "text");
        assert!(why.contains("line 2"), "{why}");
    }

    #[test]
    fn html_is_escaped_and_subjects_stay_one_line() {
        let mut template = built_in(Kind::TicketReceived);
        template.html = Some("<p>{{ ticket.title }}</p>".into());
        let mut context = example(Kind::TicketReceived);
        context.ticket.as_mut().unwrap().title = "<b>x</b>\r\nBcc: all@example.com".into();
        let rendered = render(&template, &context).unwrap();
        assert!(rendered.html.unwrap().contains("&lt;b&gt;"));
        assert!(!rendered.subject.contains('\n'));
    }
}
