use sea_orm::entity::prelude::*;

/// One mail received by the desk, recorded before it is processed, and what became of
/// it: a ticket, a comment, nothing (an auto-reply), or set aside with the reason.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The `Message-ID` header, or a digest of the message when it has none.
    pub message_id: String,
    /// GATEWAY (piped by the mail server) or IMAP.
    pub source: String,
    /// The `From` address, as written.
    pub sender: String,
    pub subject: String,
    /// RECEIVED, TICKET_CREATED, COMMENTED, IGNORED or SET_ASIDE.
    pub state: String,
    /// Why it was ignored or set aside.
    pub reason: Option<String>,
    /// The ticket it made or commented on.
    pub ticket_id: Option<i64>,
    /// The message's size in bytes.
    pub size: i32,
    /// The message as received (lossy UTF-8), for whoever looks into one set aside.
    #[sea_orm(column_type = "Text")]
    pub raw: String,
    pub received_at: DateTimeUtc,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
