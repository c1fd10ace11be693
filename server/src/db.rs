//! Database connection: SQLite (embedded default) or PostgreSQL, and write transactions
//! that never fail with "database is locked".

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use prometheus_client::metrics::{counter::Counter, gauge::Gauge};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tokio::sync::watch;

use crate::{
    config::DatabaseConfig,
    metrics::{Held, PoolStatus},
};

tokio::task_local! {
    /// The statements of the request being served, when there is one: what its
    /// `Server-Timing` header reports, unmixed with what background tasks run meanwhile.
    static REQUEST_STATEMENTS: Arc<AtomicU64>;
}

/// Runs `work`, counting its SQL statements into `counter`. Tasks it spawns count too
/// when spawned through `spawn_counted` with the same counter.
pub fn counted<F: Future>(counter: Arc<AtomicU64>, work: F) -> impl Future<Output = F::Output> {
    REQUEST_STATEMENTS.scope(counter, work)
}

pub fn spawn_counted<F>(counter: &Arc<AtomicU64>, work: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(counted(counter.clone(), work))
}

/// Any number, the same for every replica: the key of the migration lock.
const MIGRATION_LOCK: i64 = 0x5357_4954_4348;

#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// Where write transactions begin: on SQLite a pool of one connection, on
    /// PostgreSQL the same pool as `conn`.
    writer: DatabaseConnection,
    /// What the background tasks read through (see [`Db::for_background`]): on SQLite a
    /// pool of two connections, on PostgreSQL the same pool as `conn`.
    background: DatabaseConnection,
    /// SQL statements run so far, for /metrics: what "no N+1" is checked against.
    statements: Counter,
    /// Write transactions asked for and not yet begun.
    writes_waiting: Gauge,
    /// Counts the commits that may have written events or SLA clocks: what the relay
    /// and the SLA engine wait on instead of polling.
    committed: Arc<watch::Sender<u64>>,
}

/// Write transactions running at once on PostgreSQL (SQLite has one).
const POSTGRES_WRITERS: u32 = 4;

/// SQLite connections that serve requests' reads, at most; each is a thread of the
/// driver's with its own copy of the schema and its own page cache.
const SQLITE_READERS: u32 = 8;

/// SQLite connections the background tasks read through.
const SQLITE_BACKGROUND_READERS: u32 = 2;

impl Db {
    pub async fn connect(config: &DatabaseConfig) -> Result<Db, DbErr> {
        let committed = Arc::new(watch::Sender::new(0u64));
        let (mut conn, mut writer, mut background) = match config {
            DatabaseConfig::Sqlite { path, reader_idle } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        DbErr::Custom(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let sqlite = |connections: u32| {
                    let mut options = ConnectOptions::new(format!("sqlite://{}", path.display()));
                    // No ping on each acquire: a connection to a file in this process
                    // cannot have been hung up on, and on SQLite every ping is a round
                    // trip through the driver's thread, two context switches, for each
                    // query a request makes outside a transaction.
                    options
                        .max_connections(connections)
                        .acquire_timeout(Duration::from_secs(30))
                        .test_before_acquire(false)
                        .sqlx_logging(false)
                        .map_sqlx_sqlite_opts(|o| {
                            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                            // WAL lets readers run beside the one writer; the busy timeout
                            // makes a writer outside the write pool wait for the lock
                            // instead of failing at once.
                            o.create_if_missing(true)
                                .journal_mode(SqliteJournalMode::Wal)
                                .synchronous(SqliteSynchronous::Normal)
                                .busy_timeout(Duration::from_secs(10))
                                .foreign_keys(true)
                        });
                    options
                };
                // SQLite has one writer at a time. Write transactions take the one
                // connection of their own pool, so that waiting writers queue in order
                // for it, holding nothing, instead of each holding a reader's connection
                // and sleeping in SQLite's busy handler until the lock happens to be free.
                //
                // Requests' readers are opened as a burst needs them and closed once it
                // is over. The pool hands out its idle connections in turn, oldest
                // first, so any steady trickle of reads keeps every connection it ever
                // opened in use and none idles out: the background tasks, which start
                // together and read each second, held all eight open on an idle server.
                // They read through a small pool of their own instead.
                let mut readers = sqlite(SQLITE_READERS);
                readers.idle_timeout(*reader_idle);
                let readers = Database::connect(readers).await?;
                let background = Database::connect(sqlite(SQLITE_BACKGROUND_READERS)).await?;
                // The writer's connection comes back after each commit: that wakes the
                // relay, with no poll (SQLite cannot notify another connection).
                let woken = committed.clone();
                let mut writer = sqlite(1);
                writer.map_sqlx_sqlite_pool_opts(move |options| {
                    let woken = woken.clone();
                    options.after_release(move |conn, _| {
                        woken.send_modify(|commits| *commits = commits.wrapping_add(1));
                        Box::pin(async move { Ok(left_clean(conn).await) })
                    })
                });
                let writer = Database::connect(writer).await?;
                (readers, writer, background)
            }
            DatabaseConfig::Postgres { url } => {
                let mut options = ConnectOptions::new(url.clone());
                // A connection is pinged before use only when it sat idle a while: one
                // used a moment ago answered a moment ago, and a ping on every acquire
                // is a round trip for each query a request makes outside a transaction.
                options
                    .max_connections(32)
                    .min_connections(2)
                    .connect_timeout(Duration::from_secs(5))
                    .acquire_timeout(Duration::from_secs(5))
                    .test_before_acquire_if_idle_for(Duration::from_secs(5))
                    .sqlx_logging(false)
                    // No memoized lookups on the inner side of a join. The desk reads in
                    // keyset pages of at most a hundred rows, whose requesters, assignees
                    // and groups seldom repeat within a page; the planner, counting on
                    // repeats over the whole table, put a cache in front of each of the
                    // page's four joins that every row missed. Without it the page's
                    // statement runs a quarter faster on PostgreSQL (BENCHMARKS.md). Set
                    // when the connection starts, so it costs no round trip.
                    .map_sqlx_postgres_opts(|o| o.options([("enable_memoize", "off")]));
                let conn = Database::connect(options.clone()).await?;
                // Writers contend for the same rows (the number counters, a queue's hot
                // tickets): past a few at once they only wait on each other's locks
                // inside PostgreSQL, each holding a connection, and are woken in no
                // particular order. A pool of their own lets the rest wait in the pool's
                // queue instead, holding nothing.
                options.max_connections(POSTGRES_WRITERS).min_connections(1);
                let writer = Database::connect(options).await?;
                (conn.clone(), writer, conn)
            }
        };
        let statements = Counter::default();
        for connection in [&mut conn, &mut writer, &mut background] {
            let counter = statements.clone();
            connection.set_metric_callback(move |_| {
                counter.inc();
                let _ =
                    REQUEST_STATEMENTS.try_with(|request| request.fetch_add(1, Ordering::Relaxed));
            });
        }
        Ok(Db {
            conn,
            writer,
            background,
            statements,
            writes_waiting: Gauge::default(),
            committed,
        })
    }

    pub fn statements_counter(&self) -> Counter {
        self.statements.clone()
    }

    pub fn writes_waiting(&self) -> Gauge {
        self.writes_waiting.clone()
    }

    pub fn pool_status(&self) -> PoolStatus {
        let (max, size, idle) = match self.conn.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (
                    pool.options().get_max_connections(),
                    pool.size(),
                    pool.num_idle(),
                )
            }
            _ => {
                let pool = self.conn.get_sqlite_connection_pool();
                (
                    pool.options().get_max_connections(),
                    pool.size(),
                    pool.num_idle(),
                )
            }
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
        PoolStatus {
            max,
            in_use: size - idle,
            idle,
        }
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// The same database for a background task: its reads go through the background
    /// pool (on SQLite; on PostgreSQL that is the one pool), so that what an idle server
    /// does each second keeps two connections open rather than every one a burst of
    /// requests opened. Writes begin where everyone's do.
    pub fn for_background(&self) -> Db {
        Db {
            conn: self.background.clone(),
            ..self.clone()
        }
    }

    /// Changes when a write may have committed events or clocks (on PostgreSQL, when
    /// `events::wake` hears the database's notification).
    pub fn commits(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }

    /// Says that a write may have committed, to whoever waits on [`Db::commits`].
    pub fn note_commit(&self) {
        self.committed
            .send_modify(|commits| *commits = commits.wrapping_add(1));
    }

    /// The PostgreSQL pool, to listen for notifications on; none on SQLite.
    pub fn postgres_pool(&self) -> Option<sea_orm::sqlx::PgPool> {
        (self.conn.get_database_backend() == DbBackend::Postgres)
            .then(|| self.conn.get_postgres_connection_pool().clone())
    }

    /// Applies pending migrations. On PostgreSQL, replicas starting together take turns:
    /// an advisory lock held by the migrating transaction makes the others wait.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        if self.conn.get_database_backend() != DbBackend::Postgres {
            // Through the background tasks' pool, whose connections stay open anyway: a
            // connection goes back to its pool a moment after its statement, so the
            // migrator's statements one after another open a connection or two more
            // than they use at once, which in the requests' pool would be kept.
            refuse_newer(&self.background).await?;
            return Migrator::up(&self.background, None).await;
        }
        let txn = self.conn.begin().await?;
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await?;
        refuse_newer(&txn).await?;
        Migrator::up(&txn, None).await?;
        txn.commit().await
    }

    /// A transaction for a change. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes would fail
    /// at once with "database is locked" when another writer got there first.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        let _waiting = Held::new(&self.writes_waiting);
        self.writer
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// Whether the database answers: what `/readyz` reports.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}

/// Whether the writer's connection may serve the next write. A full disk (or another
/// I/O failure) can make the driver's `ROLLBACK` fail, and then it goes on counting the
/// transaction as open: the next `BEGIN` becomes a savepoint inside a transaction that
/// is never committed, and every later write is acknowledged and kept nowhere (the
/// disk-full test saw exactly that). Such a connection is closed, and the pool opens a
/// fresh one.
///
/// The driver's thread lowers its count of open transactions once a `COMMIT` or
/// `ROLLBACK` has run, before it answers. After a commit (every write that went well)
/// the count is already zero: nothing more to ask that thread, whose every question is a
/// round trip. Otherwise a dropped transaction's rollback may still be queued, and
/// locking the handle waits until the thread has run it.
async fn left_clean(conn: &mut sea_orm::sqlx::SqliteConnection) -> bool {
    use sea_orm::sqlx::Connection;
    if !conn.is_in_transaction() {
        return true;
    }
    if conn.lock_handle().await.is_err() {
        return false;
    }
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!(
            "the writer's connection was left inside a transaction a failed rollback could not end; opening a fresh one"
        );
    }
    clean
}

/// Where a command's write transaction begins: on the database, a transaction of its
/// own; inside a transaction already open, a savepoint of it. Automation carries out the
/// commands a person uses inside the transaction that claims the event, so the event's
/// actions and its claim commit together or not at all, and an action that fails rolls
/// back only itself.
pub trait Writes: Sync {
    fn begin_write(&self) -> impl Future<Output = Result<DatabaseTransaction, DbErr>> + Send;
}

impl Writes for Db {
    fn begin_write(&self) -> impl Future<Output = Result<DatabaseTransaction, DbErr>> + Send {
        Db::begin_write(self)
    }
}

impl Writes for DatabaseTransaction {
    fn begin_write(&self) -> impl Future<Output = Result<DatabaseTransaction, DbErr>> + Send {
        sea_orm::TransactionTrait::begin(self)
    }
}

/// Refuses a database that a newer Switchboard has migrated: this one would not know
/// its tables, and a database is never migrated backwards.
async fn refuse_newer(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    let known: std::collections::HashSet<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let newer: Vec<String> = Migrator::get_migration_models(conn)
        .await?
        .into_iter()
        .map(|m| m.version)
        .filter(|name| !known.contains(name))
        .collect();
    match newer.first() {
        None => Ok(()),
        Some(first) => Err(DbErr::Custom(format!(
            "the database is newer than this Switchboard: a later version migrated it ({} it does not know, the first {first}). Run that version or a newer one; a database is never migrated backwards",
            if newer.len() == 1 {
                "a migration".to_string()
            } else {
                format!("{} migrations", newer.len())
            }
        ))),
    }
}
