//! What a message is, from its headers: mail no person wrote (auto-replies, bounces,
//! bulk mail), which must open nothing and never be answered, lest two robots write to
//! each other for ever; and the ticket a reply is about.

use std::sync::LazyLock;

use mail_parser::{HeaderValue, Message, MimeHeaders};
use regex::Regex;

/// Why a message was written by a machine, if it was (RFC 3834 `Auto-Submitted`,
/// `Precedence`, the common auto-responder headers, delivery reports, mailer daemons).
pub fn automatic(message: &Message<'_>) -> Option<String> {
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    if let Some(value) = header("Auto-Submitted")
        && !value.starts_with("no")
    {
        return Some(format!("an automatic message (Auto-Submitted: {value})"));
    }
    if let Some(value) = header("Precedence")
        && ["bulk", "junk", "list", "auto_reply"].contains(&value.as_str())
    {
        return Some(format!("bulk mail (Precedence: {value})"));
    }
    for name in [
        "X-Autoreply",
        "X-Autorespond",
        "X-Auto-Response-Suppress",
        "List-Id",
    ] {
        if header(name).is_some() {
            return Some(format!("an automatic or list message ({name})"));
        }
    }
    if let Some(content_type) = message.content_type()
        && content_type.c_type.eq_ignore_ascii_case("multipart")
        && content_type
            .c_subtype
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    {
        return Some("a delivery report (bounce)".into());
    }
    let sender = sender(message).unwrap_or_default().to_ascii_lowercase();
    let local = sender.split('@').next().unwrap_or_default();
    if [
        "mailer-daemon",
        "postmaster",
        "noreply",
        "no-reply",
        "donotreply",
    ]
    .contains(&local)
    {
        return Some(format!("sent by {sender}, which no person reads"));
    }
    None
}

/// The `From` address.
pub fn sender(message: &Message<'_>) -> Option<String> {
    message
        .from()?
        .first()?
        .address()
        .map(|a| a.trim().to_string())
        .filter(|a| a.contains('@'))
}

/// The display name in `From`, if any.
pub fn sender_name(message: &Message<'_>) -> Option<String> {
    message
        .from()?
        .first()?
        .name()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
}

static NUMBER_IN_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[((?:INC|REQ)\d{7})\]").expect("the pattern compiles"));

/// The ticket a reply is about: a number in brackets in the subject (`[INC0000123]`),
/// or a message the desk sent (whose Message-ID starts with the ticket's number) in
/// `In-Reply-To` or `References`.
pub fn ticket_number(message: &Message<'_>) -> Option<String> {
    if let Some(found) = message
        .subject()
        .and_then(|s| NUMBER_IN_SUBJECT.captures(s))
    {
        return Some(found[1].to_string());
    }
    let mut ids = Vec::new();
    for value in [message.in_reply_to(), message.references()] {
        match value {
            HeaderValue::Text(id) => ids.push(id.to_string()),
            HeaderValue::TextList(list) => ids.extend(list.iter().map(|id| id.to_string())),
            _ => {}
        }
    }
    ids.iter().find_map(|id| {
        let number = id.split(['.', '@']).next()?;
        let valid = number.len() == 10
            && (number.starts_with("INC") || number.starts_with("REQ"))
            && number[3..].chars().all(|c| c.is_ascii_digit());
        valid.then(|| number.to_string())
    })
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;

    use super::*;

    fn parse(raw: &str) -> Message<'_> {
        MessageParser::default().parse(raw.as_bytes()).unwrap()
    }

    #[test]
    fn robots_are_recognised_and_people_are_not() {
        let person = "From: Rita <rita@acme.test>\r\nSubject: Printer\r\n\r\nIt jams.\r\n";
        assert_eq!(automatic(&parse(person)), None);
        for robot in [
            "From: rita@acme.test\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nAway.\r\n",
            "From: news@acme.test\r\nPrecedence: bulk\r\nSubject: News\r\n\r\nNews.\r\n",
            "From: MAILER-DAEMON@acme.test\r\nSubject: Undelivered\r\n\r\nFailed.\r\n",
            "From: rita@acme.test\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
        ] {
            assert!(automatic(&parse(robot)).is_some(), "{robot}");
        }
        let declared = "From: rita@acme.test\r\nAuto-Submitted: no\r\nSubject: Hi\r\n\r\nHi.\r\n";
        assert_eq!(automatic(&parse(declared)), None);
    }

    #[test]
    fn replies_name_their_ticket() {
        let by_subject = "From: r@a.test\r\nSubject: Re: [INC0000042] Printer\r\n\r\nThanks\r\n";
        assert_eq!(
            ticket_number(&parse(by_subject)).as_deref(),
            Some("INC0000042")
        );
        let by_thread = "From: r@a.test\r\nSubject: Re: Printer\r\nIn-Reply-To: <REQ0000007.12@desk.test>\r\n\r\nOK\r\n";
        assert_eq!(
            ticket_number(&parse(by_thread)).as_deref(),
            Some("REQ0000007")
        );
        let new = "From: r@a.test\r\nSubject: [urgent] help\r\nIn-Reply-To: <abc@elsewhere>\r\n\r\nHelp\r\n";
        assert_eq!(ticket_number(&parse(new)), None);
    }
}
