//! What an operator scrapes at `/metrics`, in the OpenMetrics text format that
//! Prometheus reads, encoded by `prometheus-client`. One registry per server, so that
//! servers sharing a process (the tests) keep their figures apart.
//!
//! Each figure is kept where the work happens (a counter bumped, a gauge set) except
//! the database pool's, which the scrape reads from the pool and hands in. The database
//! module records into this one, never the other way round.

use std::{
    collections::HashSet,
    sync::{Mutex, atomic::AtomicU64},
    time::Duration,
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::{Registry, Unit},
};

/// Distinct operation names given their own series; later ones count as `other`, so a
/// client inventing names cannot grow the scrape without bound.
const MAX_OPERATION_NAMES: usize = 200;

/// A gauge holding seconds.
pub type Seconds = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route matched (`/graphql`, `/metrics`…), never the raw path.
    pub route: String,
    /// `query`, `mutation`, `subscription`, or empty when no operation was read.
    pub operation_type: String,
    /// The operation's name, empty when anonymous, `other` past the bound.
    pub operation_name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    /// The error's `extensions.code`.
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WakeLabels {
    /// `commit` (a commit woke it) or `poll` (its safety-net timer did).
    pub woken_by: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// How it went, e.g. `delivered`, `failed`, `refused`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `in_use` or `idle`.
    pub state: String,
}

/// The pool's connections as of now.
pub struct PoolStatus {
    pub max: u32,
    pub in_use: u32,
    pub idle: u32,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Histogram>,
    pub graphql_errors: Family<CodeLabels, Counter>,
    pub websocket_connections: Gauge,
    pub subscriptions: Gauge,
    /// Subscription renderings running, each shared by the sockets that ask the same.
    pub renderings: Gauge,
    pub events_relayed: Counter,
    relay_rounds: Family<WakeLabels, Counter>,
    /// Events committed that the relay has not published yet, as of its last round.
    pub relay_backlog: Gauge,
    /// How long the oldest event the relay found unpublished had waited, at its last round.
    pub relay_lag: Seconds,
    /// This replica's hub: the newest sequence number it passed on.
    pub hub_last_seq: Gauge,
    /// This replica's hub: from an event's commit to its arrival here, for the latest.
    pub hub_lag: Seconds,
    /// How late the oldest SLA alert still due was when the engine last looked.
    pub sla_engine_lag: Seconds,
    pub redis_reconnects: Counter,
    webhook_attempts: Family<OutcomeLabels, Counter>,
    mail_attempts: Family<OutcomeLabels, Counter>,
    /// 1 when the last fetch from the IMAP mailbox worked, 0 when it failed.
    pub mailbox_up: Gauge,
    automation_actions: Family<OutcomeLabels, Counter>,
    alerts_received: Counter,
    planned_reads: Family<OutcomeLabels, Counter>,
    db_pool: Family<PoolLabels, Gauge>,
    db_pool_max: Gauge,
    operation_names: Mutex<HashSet<String>>,
}

impl Metrics {
    /// The registry, with the database's own counters (kept by `Db`) in it.
    pub fn new(sql_statements: Counter, writes_waiting: Gauge) -> Metrics {
        let mut registry = Registry::with_prefix("switchboard");
        let http_requests = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            // 1 ms to about 16 s.
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, by route and GraphQL operation",
            Unit::Seconds,
            http_requests.clone(),
        );
        let graphql_errors = Family::<CodeLabels, Counter>::default();
        registry.register(
            "graphql_errors",
            "Errors sent to clients, over HTTP and WebSocket, by extensions.code",
            graphql_errors.clone(),
        );
        registry.register(
            "sql_statements",
            "SQL statements executed by this process",
            sql_statements,
        );
        registry.register(
            "db_write_transactions_waiting",
            "Write transactions waiting to begin (for a connection, or SQLite's write lock)",
            writes_waiting,
        );
        let db_pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Connections of the requests' database pool open, by state, when scraped",
            db_pool.clone(),
        );
        let db_pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The most connections the requests' database pool will open",
            db_pool_max.clone(),
        );
        let websocket_connections = Gauge::default();
        registry.register(
            "websocket_connections",
            "WebSocket connections open on this replica",
            websocket_connections.clone(),
        );
        let subscriptions = Gauge::default();
        registry.register(
            "subscriptions",
            "GraphQL subscriptions running on this replica",
            subscriptions.clone(),
        );
        let renderings = Gauge::default();
        registry.register(
            "subscription_renderings",
            "Subscription renderings running on this replica: each runs once per event for every socket that asked the same thing and may see the same",
            renderings.clone(),
        );
        let relay_rounds = Family::<WakeLabels, Counter>::default();
        registry.register(
            "relay_rounds",
            "Rounds of the event relay, by what woke it: a commit, or the poll that catches anything a wake missed",
            relay_rounds.clone(),
        );
        let events_relayed = Counter::default();
        registry.register(
            "events_relayed",
            "Events this replica's relay published to the bus",
            events_relayed.clone(),
        );
        let relay_backlog = Gauge::default();
        registry.register(
            "relay_backlog_events",
            "Events committed but not yet published, as of the relay's last round",
            relay_backlog.clone(),
        );
        let relay_lag = Seconds::default();
        registry.register_with_unit(
            "relay_lag",
            "Age of the oldest unpublished event at the relay's last round",
            Unit::Seconds,
            relay_lag.clone(),
        );
        let hub_last_seq = Gauge::default();
        registry.register(
            "hub_last_sequence",
            "The newest event sequence number this replica's hub passed to subscribers",
            hub_last_seq.clone(),
        );
        let hub_lag = Seconds::default();
        registry.register_with_unit(
            "hub_lag",
            "From the newest event's commit to its arrival at this replica's hub",
            Unit::Seconds,
            hub_lag.clone(),
        );
        let sla_engine_lag = Seconds::default();
        registry.register_with_unit(
            "sla_engine_lag",
            "How late the oldest SLA alert still due was when the engine last looked (0 when none)",
            Unit::Seconds,
            sla_engine_lag.clone(),
        );
        let redis_reconnects = Counter::default();
        registry.register(
            "redis_reconnects",
            "Times this replica's event listener lost Redis and subscribed again",
            redis_reconnects.clone(),
        );
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook requests sent by this replica, by outcome: delivered (2xx), failed (will be retried), gave_up (the delivery failed for good)",
            webhook_attempts.clone(),
        );
        let mail_attempts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "mail_attempts",
            "Notifications handed to the SMTP server by this replica, by outcome: sent, retry (a temporary failure; tried again later), failed (refused for good, or out of attempts)",
            mail_attempts.clone(),
        );
        let automation_actions = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "automation_actions",
            "Automation rules' actions carried out by this replica, by outcome: done, or refused (recorded on the ticket)",
            automation_actions.clone(),
        );
        let alerts_received = Counter::default();
        registry.register(
            "alerts_received",
            "Alerts delivered to the intake (/monitoring/...) on this replica, repeats included: the storm before deduplication",
            alerts_received.clone(),
        );
        let planned_reads = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "planned_reads",
            "Requests with a proven plan (the ticket list, see graphql::planned), by outcome: answered by the plan, or ordinary (the request did not fit it and the resolvers answered)",
            planned_reads.clone(),
        );
        let mailbox_up = Gauge::default();
        registry.register(
            "mailbox_up",
            "1 when the last fetch from the desk's IMAP mailbox worked, 0 while it fails (it is retried with backoff) or when no mailbox is configured",
            mailbox_up.clone(),
        );
        Metrics {
            registry,
            mailbox_up,
            webhook_attempts,
            mail_attempts,
            automation_actions,
            alerts_received,
            planned_reads,
            http_requests,
            graphql_errors,
            websocket_connections,
            subscriptions,
            renderings,
            events_relayed,
            relay_rounds,
            relay_backlog,
            relay_lag,
            hub_last_seq,
            hub_lag,
            sla_engine_lag,
            redis_reconnects,
            db_pool,
            db_pool_max,
            operation_names: Mutex::new(HashSet::new()),
        }
    }

    /// Counts one webhook attempt's outcome.
    pub fn webhook_attempt(&self, outcome: &str) {
        self.webhook_attempts
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Counts one attempt to send a notification, by outcome.
    pub fn mail_attempt(&self, outcome: &str) {
        self.mail_attempts
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Counts alerts delivered to the intake.
    pub fn alerts_received(&self, count: usize) {
        self.alerts_received.inc_by(count as u64);
    }

    /// Counts a request that had a proven plan: `answered` by it, or `ordinary`.
    pub fn planned_read(&self, outcome: &str) {
        self.planned_reads
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Counts one automation action's outcome.
    pub fn automation_action(&self, outcome: &str) {
        self.automation_actions
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// The counter of the relay's rounds woken by `woken_by` (`commit` or `poll`).
    pub fn relay_rounds(&self, woken_by: &str) -> Counter {
        self.relay_rounds
            .get_or_create(&WakeLabels {
                woken_by: woken_by.to_string(),
            })
            .clone()
    }

    pub fn observe_request(
        &self,
        route: &str,
        operation_type: &str,
        operation_name: Option<&str>,
        took: Duration,
    ) {
        let labels = RequestLabels {
            route: route.to_string(),
            operation_type: operation_type.to_string(),
            operation_name: operation_name.map_or_else(String::new, |n| self.bounded_name(n)),
        };
        self.http_requests
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Counts errors sent to a client, by code.
    pub fn count_errors<'a>(&self, codes: impl IntoIterator<Item = &'a str>) {
        for code in codes {
            self.graphql_errors
                .get_or_create(&CodeLabels {
                    code: code.to_string(),
                })
                .inc();
        }
    }

    fn bounded_name(&self, name: &str) -> String {
        let name: String = name.chars().take(64).collect();
        let mut known = self.operation_names.lock().expect("never poisoned");
        if known.contains(&name) {
            name
        } else if known.len() < MAX_OPERATION_NAMES {
            known.insert(name.clone());
            name
        } else {
            "other".to_string()
        }
    }

    /// The scrape: the pool as read now, everything else as last recorded.
    pub fn render(&self, pool: PoolStatus) -> String {
        self.db_pool_max.set(i64::from(pool.max));
        for (state, count) in [("in_use", pool.in_use), ("idle", pool.idle)] {
            self.db_pool
                .get_or_create(&PoolLabels {
                    state: state.to_string(),
                })
                .set(count as i64);
        }
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

/// Holds a gauge one higher while it lives: a connection or subscription counted from
/// its start to whenever it ends, however it ends (aborted tasks included).
pub struct Held(Gauge);

impl Held {
    pub fn new(gauge: &Gauge) -> Held {
        gauge.inc();
        Held(gauge.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}
