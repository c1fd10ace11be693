//! The email channel. Mail in (`inbound`), whether a mail server pipes it to the
//! gateway or the desk fetches it from its IMAP mailbox (`mailbox`): every message
//! recorded by its Message-ID, then made a ticket, a comment on the ticket it answers,
//! ignored (auto-replies, bounces, bulk mail: `classify`), or set aside with the reason;
//! and the record of it people read (`messages`).

pub mod classify;
pub mod inbound;
pub mod mailbox;
pub mod messages;
pub mod types;
