//! The email channel's vocabulary.

use crate::domain::named::named_enum;

named_enum!(
    /// What became of a message received.
    MessageState {
        /// Recorded, not yet processed (or processing was cut short: it is processed
        /// again when it comes again).
        Received = "RECEIVED",
        /// It opened a ticket.
        TicketCreated = "TICKET_CREATED",
        /// It was a reply: a public comment on its ticket.
        Commented = "COMMENTED",
        /// An auto-reply, bounce or bulk mail: nothing to do.
        Ignored = "IGNORED",
        /// It could not be processed; `reason` says why. It never blocks the next one.
        SetAside = "SET_ASIDE",
    }
);

named_enum!(
    /// How a message came in.
    Source {
        /// Piped by the mail server to `switchboard mail-gateway`.
        Gateway = "GATEWAY",
        /// Fetched from the desk's IMAP mailbox.
        Imap = "IMAP",
    }
);
