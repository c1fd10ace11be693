//! Attachments: files on tickets, on their comments (as internal as an internal note),
//! and on knowledge articles. The bytes are kept once by SHA-256 however often they are
//! attached (`store`), read only by whoever may see what they are on (`reads`, through
//! the tickets' one visibility rule and the knowledge reader), opened in a browser with
//! a signed link (`signed`), and shown in place only when their bytes say they are an
//! image (`sniff`). Attaching and removing are events in the ticket's history.

mod attach;
mod reads;
pub mod signed;
pub mod sniff;
pub mod store;

pub use attach::{Incoming, Target, attach, insert_on_ticket, remove, undo};
pub use reads::{downloadable, of_articles, of_tickets, of_tickets_all, on_ticket};
pub use signed::Signer;
pub use store::{Kept, Spooled, Store};

/// How much the desk takes: a file, and all the files on one ticket (a setting).
pub use crate::config::AttachmentLimits as Limits;

/// Where attachments are kept, what signs their links, and how much is taken: made once
/// at start and shared by every request and the mail intake.
#[derive(Debug)]
pub struct Files {
    pub store: Store,
    pub signer: Signer,
    pub limits: Limits,
}

/// The most files one request may carry.
pub const MAX_FILES_PER_REQUEST: usize = 10;

/// The longest file name kept, in characters.
pub const MAX_FILENAME_CHARS: usize = 200;

/// A file name as shown and sent back: its last path segment, without control
/// characters or quotes, never empty.
pub fn clean_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(MAX_FILENAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::clean_filename;

    #[test]
    fn file_names_keep_their_last_segment_and_lose_what_could_break_a_header() {
        assert_eq!(clean_filename("C:\\Users\\me\\shot.png"), "shot.png");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\"b\r\n.txt"), "ab.txt");
        assert_eq!(clean_filename(""), "file");
        assert_eq!(clean_filename(".."), "file");
    }
}
