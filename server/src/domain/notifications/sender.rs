//! Sending: every pending message handed to the SMTP server when due. A replica claims
//! one by counting the attempt and leasing it past the time a send may take (if the
//! replica dies mid-send, another tries again when the lease lapses), so two replicas
//! never send the same attempt. A temporary failure (a 4xx reply, a server that cannot
//! be reached) is tried again with growing waits for about two days; a permanent one
//! (5xx: no such mailbox) fails the message at once. Each outcome is in the message's
//! record for admins.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use entity::mail_delivery;
use futures::TryStreamExt;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Attachment, Mailbox, MultiPart, SinglePart,
        header::{ContentType, HeaderName, HeaderValue},
    },
};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use tokio::task::JoinSet;

use super::{outbox::Addressing, types::DeliveryState};
use crate::{
    clock::SharedClock,
    config::OutboxConfig,
    db::Db,
    domain::attachments::Files,
    error::{AppError, AppResult},
    metrics::Metrics,
};

/// The most bytes of files one mail carries; past it, the rest stay behind.
const MAX_MAIL_FILE_BYTES: i64 = 10 * 1024 * 1024;

/// Messages being sent at once.
const IN_FLIGHT: usize = 8;
/// How long one send may take before the SMTP client gives up.
const SEND_TIMEOUT: StdDuration = StdDuration::from_secs(60);

/// The waits after each temporary failure; after the last, the message has failed.
const WAITS: [i64; 8] = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600];

/// What sending needs: the database, the clock, the SMTP transport and the sender.
#[derive(Clone)]
pub struct Mailer {
    db: Db,
    /// Where the files some mails carry are read from.
    files: Arc<Files>,
    clock: SharedClock,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    addressing: Addressing,
    metrics: Arc<Metrics>,
}

impl Mailer {
    /// A mailer for the configured SMTP server; an error says what is wrong with it.
    pub fn new(
        config: &OutboxConfig,
        db: Db,
        files: Arc<Files>,
        clock: SharedClock,
        metrics: Arc<Metrics>,
    ) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.url)
            .map_err(|e| format!("SWITCHBOARD_SMTP_URL: {e}"))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("SWITCHBOARD_MAIL_FROM: {e}"))?;
        let addressing = Addressing {
            domain: config.domain.clone(),
            desk_name: from.name.clone().unwrap_or_else(|| "Service Desk".into()),
            public_url: config.public_url.clone(),
        };
        Ok(Mailer {
            db,
            files,
            clock,
            transport,
            from,
            addressing,
            metrics,
        })
    }

    /// Claims what is due, up to `room` messages, and starts sending each in `sending`;
    /// returns when the next pending one falls due.
    async fn round(
        &self,
        sending: &mut JoinSet<()>,
        room: usize,
    ) -> AppResult<Option<DateTime<Utc>>> {
        use mail_delivery::Column as D;
        let now = self.clock.now();
        let due = mail_delivery::Entity::find()
            .filter(D::State.eq(DeliveryState::Pending.as_str()))
            .filter(D::NextAttemptAt.lte(now))
            .order_by_asc(D::NextAttemptAt)
            .limit(room as u64)
            .all(self.db.conn())
            .await?;
        for delivery in due {
            if let Some(claimed) = self.claim(delivery, now).await? {
                let mailer = self.clone();
                sending.spawn(async move {
                    if let Err(error) = mailer.attempt(claimed).await {
                        tracing::warn!(%error, "a notification's attempt could not be recorded");
                    }
                });
            }
        }
        Ok(mail_delivery::Entity::find()
            .select_only()
            .column(D::NextAttemptAt)
            .filter(D::State.eq(DeliveryState::Pending.as_str()))
            .order_by_asc(D::NextAttemptAt)
            .limit(1)
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(self.db.conn())
            .await?
            .flatten())
    }

    /// Counts the attempt and leases it to this replica; none when another was first.
    async fn claim(
        &self,
        delivery: mail_delivery::Model,
        now: DateTime<Utc>,
    ) -> AppResult<Option<mail_delivery::Model>> {
        use mail_delivery::Column as D;
        let lease = now + Duration::from_std(SEND_TIMEOUT * 2).unwrap_or(Duration::minutes(2));
        let txn = self.db.begin_write().await?;
        let claimed = mail_delivery::Entity::update_many()
            .col_expr(D::Attempts, Expr::value(delivery.attempts + 1))
            .col_expr(D::NextAttemptAt, Expr::value(lease))
            .filter(D::Id.eq(delivery.id))
            .filter(D::Attempts.eq(delivery.attempts))
            .filter(D::State.eq(DeliveryState::Pending.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok((claimed.rows_affected == 1).then(|| mail_delivery::Model {
            attempts: delivery.attempts + 1,
            ..delivery
        }))
    }

    /// One send, and what it leads to.
    async fn attempt(&self, delivery: mail_delivery::Model) -> AppResult<()> {
        let files = self.files_of(&delivery).await?;
        let outcome = match self.message(&delivery, files) {
            Ok(message) => match self.transport.send(message).await {
                Ok(_) => Ok(()),
                Err(error) => Err(Failure {
                    permanent: error.is_permanent(),
                    why: describe(&error),
                }),
            },
            Err(why) => Err(Failure {
                permanent: true,
                why,
            }),
        };
        self.record(&delivery, outcome).await
    }

    /// The message as it goes out: threaded on its ticket, marked as sent by a machine
    /// (RFC 3834) so that auto-responders do not answer it.
    fn message(&self, d: &mail_delivery::Model, files: Vec<SinglePart>) -> Result<Message, String> {
        let to: Mailbox = d
            .to_address
            .parse()
            .map_err(|e| format!("'{}' is not a mail address: {e}", d.to_address))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(d.subject.clone())
            .message_id(Some(format!("<{}>", d.message_id)))
            .date(self.clock.now().into())
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
                "All".into(),
            ));
        if let Some(thread) = &d.references {
            builder = builder.references(format!("<{thread}>"));
        }
        let built = match (&d.html_body, files.is_empty()) {
            (Some(html), true) => builder.multipart(MultiPart::alternative_plain_html(
                d.text_body.clone(),
                html.clone(),
            )),
            (None, true) => builder
                .header(ContentType::TEXT_PLAIN)
                .body(d.text_body.clone()),
            (html, false) => {
                let mut mixed = match html {
                    Some(html) => MultiPart::mixed().multipart(MultiPart::alternative_plain_html(
                        d.text_body.clone(),
                        html.clone(),
                    )),
                    None => MultiPart::mixed().singlepart(SinglePart::plain(d.text_body.clone())),
                };
                for file in files {
                    mixed = mixed.singlepart(file);
                }
                builder.multipart(mixed)
            }
        };
        built.map_err(|e| format!("the message could not be built: {e}"))
    }

    /// The files a mail carries, read from the store as it is sent: those still
    /// attached, up to `MAX_MAIL_FILE_BYTES` in all (the rest are left out; the mail
    /// still says where they are).
    async fn files_of(&self, d: &mail_delivery::Model) -> AppResult<Vec<SinglePart>> {
        let Some(ids) = d
            .attachment_ids
            .as_deref()
            .and_then(|text| serde_json::from_str::<Vec<i64>>(text).ok())
        else {
            return Ok(vec![]);
        };
        let rows = entity::attachment::Entity::find()
            .filter(entity::attachment::Column::Id.is_in(ids))
            .order_by_asc(entity::attachment::Column::Id)
            .all(self.db.conn())
            .await?;
        let mut parts = Vec::new();
        let mut total = 0;
        for row in rows {
            total += row.size;
            if total > MAX_MAIL_FILE_BYTES {
                break;
            }
            let bytes: Vec<u8> = self
                .files
                .store
                .read(&self.db, &row.sha256)
                .try_fold(Vec::new(), |mut all, chunk| async move {
                    all.extend_from_slice(&chunk);
                    Ok(all)
                })
                .await
                .map_err(|e| AppError::Internal(format!("an attachment could not be read: {e}")))?;
            let kind = ContentType::parse(&row.media_type).unwrap_or_else(|_| {
                ContentType::parse("application/octet-stream").expect("a media type")
            });
            parts.push(Attachment::new(row.filename.clone()).body(bytes, kind));
        }
        Ok(parts)
    }

    /// Writes the outcome and moves the message on.
    async fn record(
        &self,
        delivery: &mail_delivery::Model,
        outcome: Result<(), Failure>,
    ) -> AppResult<()> {
        let now = self.clock.now();
        let mut changed = mail_delivery::ActiveModel {
            id: Set(delivery.id),
            ..Default::default()
        };
        let label = match &outcome {
            Ok(()) => {
                changed.state = Set(DeliveryState::Sent.as_str().into());
                changed.next_attempt_at = Set(None);
                changed.sent_at = Set(Some(now));
                changed.last_error = Set(None);
                "sent"
            }
            Err(failure) => {
                changed.last_error = Set(Some(failure.why.chars().take(500).collect()));
                match next_attempt(delivery.attempts, now).filter(|_| !failure.permanent) {
                    Some(at) => {
                        changed.next_attempt_at = Set(Some(at));
                        "retry"
                    }
                    None => {
                        changed.state = Set(DeliveryState::Failed.as_str().into());
                        changed.next_attempt_at = Set(None);
                        "failed"
                    }
                }
            }
        };
        let txn = self.db.begin_write().await?;
        changed.update(&txn).await?;
        txn.commit().await?;
        self.metrics.mail_attempt(label);
        if let Err(failure) = outcome {
            tracing::info!(delivery = delivery.id, to = %delivery.to_address, attempt = delivery.attempts, outcome = label, why = %failure.why, "a notification was not sent");
        }
        Ok(())
    }
}

/// Why a send failed, and whether trying again could help.
struct Failure {
    permanent: bool,
    why: String,
}

/// When to try again after `attempts` attempts; none when it has had them all.
fn next_attempt(attempts: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let wait = *WAITS.get(usize::try_from(attempts - 1).ok()?)?;
    let jitter = rand::rng().random_range(0..=wait * 100);
    Some(now + Duration::seconds(wait) + Duration::milliseconds(jitter))
}

/// An SMTP error in words for the record, with its causes.
fn describe(error: &lettre::transport::smtp::Error) -> String {
    crate::domain::outbound::with_causes(error.to_string(), error)
}

/// Queues and sends notification mail until the server stops.
pub async fn run(mailer: Mailer, stopping: tokio::sync::watch::Receiver<bool>) {
    crate::domain::outbound::run(mailer, stopping).await
}

impl crate::domain::outbound::Outbound for Mailer {
    const NAME: &'static str = "notifications";
    const IN_FLIGHT: usize = IN_FLIGHT;

    fn db(&self) -> &Db {
        &self.db
    }

    fn clock(&self) -> &SharedClock {
        &self.clock
    }

    async fn queue(&self) -> AppResult<bool> {
        Ok(
            super::outbox::queue_next(&self.db, &self.addressing, self.clock.now())
                .await?
                .1,
        )
    }

    async fn round(
        &self,
        sending: &mut JoinSet<()>,
        room: usize,
    ) -> AppResult<Option<DateTime<Utc>>> {
        Mailer::round(self, sending, room).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_failures_are_retried_for_about_two_days() {
        let now = Utc::now();
        let first = next_attempt(1, now).unwrap() - now;
        assert!(first >= Duration::seconds(60) && first <= Duration::seconds(66));
        let total: i64 = WAITS.iter().sum();
        assert!((36 * 3600..72 * 3600).contains(&total));
        assert!(next_attempt(WAITS.len() as i32 + 1, now).is_none());
    }
}
