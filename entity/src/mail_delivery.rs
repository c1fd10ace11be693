use sea_orm::entity::prelude::*;

/// One notification to one person: rendered when it was queued from the event log, so
/// every retry sends the same message under the same `Message-ID`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The event it tells of.
    pub seq: i64,
    /// What it tells (`TICKET_RECEIVED`, `TICKET_ASSIGNED`…).
    pub kind: String,
    /// Who it is for.
    pub user_id: i64,
    /// Their address when it was queued.
    pub to_address: String,
    pub ticket_id: Option<i64>,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub text_body: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub html_body: Option<String>,
    /// The `Message-ID` header, without its angle brackets: `{number}.{seq}.{user}@{domain}`,
    /// so a reply names its ticket.
    pub message_id: String,
    /// The thread it belongs to (`{number}@{domain}`), for `References`.
    pub references: Option<String>,
    /// PENDING, SENT or FAILED.
    pub state: String,
    pub attempts: i32,
    /// When it is tried next (while PENDING); an attempt under way leases it past now.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// What the mail server said when it last refused, or why it could not be reached.
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// The files it carries: a JSON list of attachment ids, read as it is sent.
    pub attachment_ids: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
