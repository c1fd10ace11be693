//! The email channel. Mail in (`inbound`): every message recorded by its Message-ID,
//! then made a ticket, a comment on the ticket it answers, ignored (auto-replies,
//! bounces, bulk mail: `classify`), or set aside with the reason; and the record of it
//! people read (`messages`).

pub mod classify;
pub mod inbound;
pub mod messages;
pub mod types;
