//! The one error type. Domain code and resolvers return `AppError`; the GraphQL edge
//! (`to_client_error`) turns it into what a client sees, with `extensions.code`.

mod clash;

use async_graphql::{ErrorExtensionValues, ServerError, Value};

pub use clash::Clash;

#[derive(Clone, Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{field}: {message}")]
    BadUserInput { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A value a unique field holds already (a name taken): `CONFLICT`, naming the field.
    #[error("{field}: {message}")]
    Taken { field: String, message: String },
    #[error("{message}")]
    InvalidTransition {
        message: String,
        allowed: Vec<String>,
    },
    #[error("{0}")]
    RateLimited(String),
    /// A subscriber that fell too far behind the live stream: it resumes from this seq.
    #[error("you fell too far behind; reconnect and subscribe again with after: {0}")]
    FellBehind(i64),
    /// The database cannot be reached just now (restarting, failing over): the client
    /// should try again shortly. `SERVICE_UNAVAILABLE`, HTTP 503 when nothing else ran.
    #[error("{0}")]
    Unavailable(String),
    /// The database's disk is full: writes cannot be kept until an operator frees
    /// space, while reads go on. `STORAGE_FULL`, HTTP 507 when nothing else ran.
    #[error("{0}")]
    StorageFull(String),
    /// Anything the client did not cause. Logged in full; the client sees only a request id.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::BadUserInput { .. } => "BAD_USER_INPUT",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::Conflict(_) | AppError::Taken { .. } => "CONFLICT",
            AppError::InvalidTransition { .. } => "INVALID_TRANSITION",
            AppError::RateLimited(_) | AppError::FellBehind(_) => "RATE_LIMITED",
            AppError::Unavailable(_) => "SERVICE_UNAVAILABLE",
            AppError::StorageFull(_) => "STORAGE_FULL",
            AppError::Internal(_) => "INTERNAL",
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    /// A unique index's refusal is the client's doing (a name taken); anything else the
    /// database says is ours.
    fn from(error: sea_orm::DbErr) -> Self {
        if let Some(clash) = Clash::of(&error) {
            return AppError::Taken {
                field: clash.field(),
                message: clash.message(),
            };
        }
        if unreachable(&error) {
            tracing::warn!(%error, "the database cannot be reached");
            return AppError::Unavailable(
                "The database cannot be reached just now; nothing was changed. Try again in a few seconds.".into(),
            );
        }
        if gave_way(&error) {
            tracing::warn!(%error, "the database rolled a transaction back to let another go first");
            return AppError::Unavailable(
                "The database stopped this change to let another one finish first (a deadlock between writers); nothing was changed. Try again.".into(),
            );
        }
        if storage_full(&error) {
            tracing::error!(%error, "the database's disk is full: writes are refused until space is freed");
            return AppError::StorageFull(
                "The desk's storage is full, so nothing was saved; reading goes on. An operator must free space on the database's disk, then try again.".into(),
            );
        }
        AppError::Internal(format!("database: {error}"))
    }
}

/// Whether the database refused a write for want of space: SQLite's `SQLITE_FULL` (13)
/// or PostgreSQL's `disk_full` (53100).
fn storage_full(error: &sea_orm::DbErr) -> bool {
    database_code(error).is_some_and(|code| code == "13" || code == "53100")
}

/// Whether PostgreSQL rolled the transaction back to resolve a conflict with another
/// (class 40: a deadlock, a serialization failure): nothing of it was kept, and the
/// same change may simply be tried again.
fn gave_way(error: &sea_orm::DbErr) -> bool {
    database_code(error).is_some_and(|code| code.starts_with("40"))
}

/// The database's own code for what it refused (SQLite's result code, PostgreSQL's
/// SQLSTATE), when it answered with one.
fn database_code(error: &sea_orm::DbErr) -> Option<std::borrow::Cow<'_, str>> {
    match driver_error(error)? {
        sea_orm::sqlx::Error::Database(db) => db.code(),
        _ => None,
    }
}

/// The driver's own error under sea-orm's, when there is one.
fn driver_error(error: &sea_orm::DbErr) -> Option<&sea_orm::sqlx::Error> {
    use sea_orm::{DbErr, RuntimeErr};
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        _ => None,
    }
}

/// Whether the database failed to answer at all (down, restarting, shutting its
/// connections), rather than refusing what was asked.
fn unreachable(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, sqlx};
    let Some(sqlx_error) = driver_error(error) else {
        return matches!(error, DbErr::ConnectionAcquire(_) | DbErr::Conn(_));
    };
    match sqlx_error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's classes 08 (connection exception) and 57P (operator
        // intervention: shutting down, crash recovery).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(error: sea_orm::TransactionError<AppError>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

/// Where in handling a request an error without an `AppError` behind it arose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The document did not parse.
    Parse,
    /// It parsed but does not fit the schema or the limits.
    Validation,
    /// During execution: async-graphql's own errors there are bad argument values.
    Execution,
}

/// The single mapping from any GraphQL error to what the client sees.
pub fn to_client_error(mut error: ServerError, stage: Stage, request_id: &str) -> ServerError {
    let mut extensions = error.extensions.take().unwrap_or_default();
    let code = match error.source::<AppError>().cloned() {
        Some(app) => {
            match &app {
                AppError::Internal(detail) => {
                    tracing::error!(request_id, error = %detail, "internal error");
                    error.message = format!(
                        "Something went wrong on our side; it has been logged with request id {request_id}."
                    );
                }
                // A clash whose columns could not be read names no field.
                AppError::BadUserInput { field, .. } | AppError::Taken { field, .. }
                    if !field.is_empty() =>
                {
                    extensions.set("field", field.clone());
                }
                AppError::FellBehind(after) => extensions.set("resumeAfter", *after),
                AppError::InvalidTransition { allowed, .. } => {
                    extensions.set(
                        "allowed",
                        Value::List(allowed.iter().map(|s| Value::from(s.as_str())).collect()),
                    );
                }
                _ => {}
            }
            app.code()
        }
        None => match stage {
            Stage::Parse => "GRAPHQL_PARSE_FAILED",
            Stage::Validation => match invalid_argument(&error.message) {
                // A value that does not fit its type (an unknown enum value, say) is bad
                // input, not a malformed document: name the field like our own errors do.
                Some(field) => {
                    extensions.set("field", field);
                    "BAD_USER_INPUT"
                }
                None => "GRAPHQL_VALIDATION_FAILED",
            },
            Stage::Execution => "BAD_USER_INPUT",
        },
    };
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    extensions.set("requestId", request_id);
    error.extensions = Some(extensions);
    error.message = bounded(error.message);
    error
}

/// The longest message a client is sent. Parser and validation messages quote the
/// document, and a document may be a megabyte: echoing it back helps nobody.
const MAX_MESSAGE_CHARS: usize = 500;

fn bounded(message: String) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message;
    }
    let cut: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}… (message shortened)")
}

/// A client's value as an error message quotes it: at most a short prefix, so that a
/// large value is not sent back.
pub fn quote(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        format!("'{value}'")
    } else {
        let prefix: String = value.chars().take(MAX).collect();
        format!("'{prefix}…'")
    }
}

/// The field named by async-graphql's `Invalid value for argument "input.kind", …`.
fn invalid_argument(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Invalid value for argument \"")?;
    let path = rest.split('"').next()?;
    Some(path.rsplit('.').next().unwrap_or(path).to_string())
}

/// An error made at the edge itself (before the schema runs), already in client form.
pub fn edge_error(message: impl Into<String>, code: &str, request_id: &str) -> ServerError {
    let mut error = ServerError::new(bounded(message.into()), None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    extensions.set("requestId", request_id);
    error.extensions = Some(extensions);
    error
}

/// An `AppError` raised outside the schema (authentication at the edge), in client form.
pub fn app_error_to_client(error: AppError, request_id: &str) -> ServerError {
    let error = async_graphql::Error::new_with_source(error);
    let server_error = ServerError {
        message: error.message,
        source: error.source,
        locations: vec![],
        path: vec![],
        extensions: None,
    };
    to_client_error(server_error, Stage::Execution, request_id)
}

#[cfg(test)]
mod tests {
    use std::{borrow::Cow, sync::Arc};

    use sea_orm::{DbErr, RuntimeErr, sqlx};

    use super::AppError;

    /// What the driver hands up when the database refuses a statement with `code`.
    #[derive(Debug)]
    struct Refused(&'static str);

    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "refused with {}", self.0)
        }
    }

    impl std::error::Error for Refused {}

    impl sqlx::error::DatabaseError for Refused {
        fn message(&self) -> &str {
            "refused"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn refused(code: &'static str) -> AppError {
        let error = sqlx::Error::Database(Box::new(Refused(code)));
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error))).into()
    }

    #[test]
    fn what_the_database_refused_is_said_by_its_code() {
        // PostgreSQL's deadlock and serialization failure: nothing kept, try again.
        for code in ["40P01", "40001"] {
            let error = refused(code);
            assert_eq!(error.code(), "SERVICE_UNAVAILABLE", "{code}");
            assert!(error.to_string().contains("nothing was changed"), "{error}");
        }
        // A full disk, on either backend.
        for code in ["13", "53100"] {
            assert_eq!(refused(code).code(), "STORAGE_FULL", "{code}");
        }
        // PostgreSQL shutting down.
        assert_eq!(refused("57P01").code(), "SERVICE_UNAVAILABLE");
        // Anything else is ours.
        assert_eq!(refused("XX000").code(), "INTERNAL");
    }
}
