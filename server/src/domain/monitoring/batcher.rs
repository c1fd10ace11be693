//! Group commit for the intake: requests hand their alerts to one writer task, which
//! takes whatever has queued (up to `MOST_A_BATCH` alerts) into one transaction and
//! answers every request in it once it has committed. A storm of deliveries costs a
//! few commits a second instead of one per request, so the desk's own writes keep
//! their turn at the database; and a request is answered only once its alerts are
//! stored, so a monitoring system that was told "stored" never has to send again.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use super::{IncomingAlert, record};
use crate::{
    clock::SharedClock,
    db::Db,
    domain::events::Actor,
    error::{AppError, AppResult},
};

/// Requests waiting for the writer before a new one waits to queue.
const QUEUE: usize = 256;
/// The most alerts one transaction takes.
const MOST_A_BATCH: usize = 5_000;

/// What one delivery's alerts became.
pub type Receipt = record::Outcome;

struct Job {
    actor: Actor,
    alerts: Vec<IncomingAlert>,
    done: oneshot::Sender<AppResult<Receipt>>,
}

/// The intake's handle, shared by every request.
#[derive(Clone)]
pub struct Intake {
    jobs: mpsc::Sender<Job>,
}

impl Intake {
    /// Starts the writer among the server's background tasks; it stops when the
    /// server does.
    pub fn start(
        db: Db,
        clock: SharedClock,
        stopping: watch::Receiver<bool>,
        background: &mut tokio::task::JoinSet<()>,
    ) -> Intake {
        let (jobs, queue) = mpsc::channel(QUEUE);
        background.spawn(write(db, clock, queue, stopping));
        Intake { jobs }
    }

    /// Stores `alerts` with the next batch; answers once they are committed.
    ///
    /// # Errors
    /// INTERNAL while the server stops; what the batch's transaction met otherwise.
    pub async fn submit(&self, actor: Actor, alerts: Vec<IncomingAlert>) -> AppResult<Receipt> {
        let (done, answer) = oneshot::channel();
        let stopping = || AppError::Internal("the desk is stopping; send the alerts again".into());
        self.jobs
            .send(Job {
                actor,
                alerts,
                done,
            })
            .await
            .map_err(|_| stopping())?;
        answer.await.map_err(|_| stopping())?
    }
}

async fn write(
    db: Db,
    clock: SharedClock,
    mut queue: mpsc::Receiver<Job>,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            job = queue.recv() => match job { Some(job) => job, None => return },
            _ = stopping.wait_for(|s| *s) => return,
        };
        let mut jobs = vec![first];
        let mut count = jobs[0].alerts.len();
        while count < MOST_A_BATCH {
            match queue.try_recv() {
                Ok(job) => {
                    count += job.alerts.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let answers = commit(&db, &clock, &jobs).await;
        for (job, answer) in jobs.into_iter().zip(answers) {
            let _ = job.done.send(answer);
        }
    }
}

/// Times a batch is tried when it meets another writer: the database rolled it back to
/// let the other go first (a deadlock), or an alert changed under it (automation raising
/// an incident for an alert attaches the alert, in a transaction of its own). Nothing of
/// the batch was kept, and trying again is what the senders would do, a round trip
/// later and all together.
const ATTEMPTS: usize = 3;

/// One transaction for every job; each job's own outcome, or the error for all.
async fn commit(db: &Db, clock: &SharedClock, jobs: &[Job]) -> Vec<AppResult<Receipt>> {
    let mut result = attempt(db, clock, jobs).await;
    for retry in 1..ATTEMPTS {
        if !matches!(
            result,
            Err(AppError::Unavailable(_) | AppError::Conflict(_))
        ) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10 * retry as u64)).await;
        result = attempt(db, clock, jobs).await;
    }
    match result {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(error) => {
            tracing::warn!(%error, jobs = jobs.len(), "a batch of alerts could not be stored");
            // Give the monitoring systems a short pause before they retry.
            tokio::time::sleep(Duration::from_millis(50)).await;
            jobs.iter().map(|_| Err(error.clone())).collect()
        }
    }
}

/// The batch in one transaction: each job's outcome, or nothing kept.
async fn attempt(db: &Db, clock: &SharedClock, jobs: &[Job]) -> AppResult<Vec<Receipt>> {
    let txn = db.begin_write().await?;
    let now = clock.now();
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        outcomes.push(record::apply(&txn, &job.actor, now, job.alerts.clone()).await?);
    }
    txn.commit().await?;
    Ok(outcomes)
}
