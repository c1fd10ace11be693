//! Mail in and out: the desk's IMAP mailbox and the SMTP server notifications leave by.

use std::time::Duration;

use super::{ConfigError, Settings, invalid, seconds};

/// `SWITCHBOARD_IMAP_URL` with its poll interval; none by default.
pub(super) fn mailbox(s: &Settings) -> Result<Option<MailboxConfig>, ConfigError> {
    s.imap_url
        .as_deref()
        .map(|url| {
            let every = seconds(
                s.imap_poll_seconds.as_deref(),
                "SWITCHBOARD_IMAP_POLL_SECONDS",
                30,
            )?;
            MailboxConfig::parse(url, every)
                .map_err(|problem| invalid("SWITCHBOARD_IMAP_URL", problem))
        })
        .transpose()
}

/// `SWITCHBOARD_SMTP_URL` with `SWITCHBOARD_MAIL_FROM`; none by default.
pub(super) fn outbox(s: &Settings) -> Result<Option<OutboxConfig>, ConfigError> {
    s.smtp_url
        .as_deref()
        .filter(|url| !url.trim().is_empty())
        .map(|url| {
            let mut outbox = OutboxConfig::parse(url.trim(), s.mail_from.as_deref())?;
            outbox.public_url = public_url(s)?;
            Ok(outbox)
        })
        .transpose()
}

/// `SWITCHBOARD_PUBLIC_URL` without a trailing slash, or `http://` and the bind address.
fn public_url(s: &Settings) -> Result<String, ConfigError> {
    let Some(url) = s
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    else {
        let bind = s
            .bind
            .as_deref()
            .unwrap_or(super::server::DEFAULT_BIND)
            .trim();
        return Ok(format!("http://{bind}"));
    };
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| invalid("SWITCHBOARD_PUBLIC_URL", format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid(
            "SWITCHBOARD_PUBLIC_URL",
            "give where people reach the desk, such as https://desk.acme.example",
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Where the mailbox is: `imap://user:password@host:port/INBOX`, or `imaps://` for TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxConfig {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub folder: String,
    /// Time between fetches.
    pub every: Duration,
}

impl MailboxConfig {
    /// Parses `imap://` or `imaps://` with credentials, host, port and folder.
    pub fn parse(url: &str, every: Duration) -> Result<MailboxConfig, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        let tls = match parsed.scheme() {
            "imap" => false,
            "imaps" => true,
            other => return Err(format!("use imap:// or imaps://, not {other}://")),
        };
        let host = parsed.host_str().ok_or("the URL has no host")?.to_string();
        let user = percent_decode(parsed.username());
        if user.is_empty() {
            return Err("give the mailbox's user: imap://user:password@host/INBOX".into());
        }
        let folder = parsed.path().trim_start_matches('/');
        Ok(MailboxConfig {
            tls,
            port: parsed.port().unwrap_or(if tls { 993 } else { 143 }),
            host,
            user,
            password: percent_decode(parsed.password().unwrap_or_default()),
            folder: if folder.is_empty() {
                "INBOX".into()
            } else {
                percent_decode(folder)
            },
            every,
        })
    }
}

/// Where notifications are sent, and from whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxConfig {
    /// The SMTP URL as lettre reads it (`smtp://`, `smtps://`, `?tls=required`).
    pub url: String,
    /// `Name <address>` or an address.
    pub from: String,
    /// The domain of the sender's address: the right-hand side of every Message-ID.
    pub domain: String,
    /// Where people reach the desk: the start of every link in its mail.
    pub public_url: String,
}

impl OutboxConfig {
    /// Checks the URL's scheme and host, and that the sender is an address.
    pub fn parse(url: &str, from: Option<&str>) -> Result<OutboxConfig, ConfigError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| invalid("SWITCHBOARD_SMTP_URL", format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") {
            return Err(invalid(
                "SWITCHBOARD_SMTP_URL",
                format!("use smtp:// or smtps://, not {}://", parsed.scheme()),
            ));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(invalid("SWITCHBOARD_SMTP_URL", "the URL has no host"));
        }
        let from = from.map(str::trim).filter(|f| !f.is_empty()).ok_or_else(|| {
            invalid(
                "SWITCHBOARD_MAIL_FROM",
                "say who notifications come from, for example 'Service Desk <desk@acme.example>'",
            )
        })?;
        let mailbox: lettre::message::Mailbox = from
            .parse()
            .map_err(|e| invalid("SWITCHBOARD_MAIL_FROM", format!("not a mail address: {e}")))?;
        Ok(OutboxConfig {
            url: url.to_string(),
            from: from.to_string(),
            domain: mailbox.email.domain().to_string(),
            public_url: format!("http://{}", super::server::DEFAULT_BIND),
        })
    }
}

/// A URL part as written before percent-encoding (`desk%40acme.test` is `desk@acme.test`).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::MailboxConfig;

    #[test]
    fn reads_the_mailbox_url() {
        let every = Duration::from_secs(30);
        let c = MailboxConfig::parse(
            "imaps://desk%40acme.test:p%40ss@mail.acme.test/Support",
            every,
        )
        .unwrap();
        assert_eq!(
            (
                c.tls,
                c.host.as_str(),
                c.port,
                c.user.as_str(),
                c.password.as_str(),
                c.folder.as_str()
            ),
            (
                true,
                "mail.acme.test",
                993,
                "desk@acme.test",
                "p@ss",
                "Support"
            )
        );
        let plain = MailboxConfig::parse("imap://desk:secret@127.0.0.1:1143", every).unwrap();
        assert_eq!(
            (plain.tls, plain.port, plain.folder.as_str()),
            (false, 1143, "INBOX")
        );
        assert!(MailboxConfig::parse("pop3://desk@mail", every).is_err());
        assert!(MailboxConfig::parse("imap://mail.acme.test", every).is_err());
    }
}
