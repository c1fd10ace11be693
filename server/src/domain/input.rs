//! Checking what callers type, with errors that name the field and say what fits.

use crate::error::{AppError, AppResult};

/// `value` trimmed, if it has at most `max` characters (and at least one if required).
pub fn text(field: &str, value: &str, max: usize, required: bool) -> AppResult<String> {
    let value = value.trim();
    // PostgreSQL's text cannot hold a NUL, and no person types one: refuse it here
    // rather than let the database fail the write.
    if value.contains('\0') {
        return Err(AppError::bad_input(
            field,
            "the text contains a NUL character (\\u0000); remove it",
        ));
    }
    let chars = value.chars().count();
    if (required && chars == 0) || chars > max {
        let least = if required { 1 } else { 0 };
        return Err(AppError::bad_input(
            field,
            format!("give {least} to {max} characters (this has {chars})"),
        ));
    }
    Ok(value.to_string())
}

/// `value`, if it lies in the years 0001 to 9999: what RFC 3339 can write and both
/// databases can compare. GraphQL's `DateTime` accepts years far beyond (`+99999-…`),
/// which SQLite would compare as text and get wrong.
pub fn instant(
    field: &str,
    value: impl Into<chrono::DateTime<chrono::Utc>>,
) -> AppResult<chrono::DateTime<chrono::Utc>> {
    use chrono::Datelike;
    let value = value.into();
    if (1..=9999).contains(&value.year()) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            field,
            "give an instant between the years 0001 and 9999",
        ))
    }
}

/// [`instant`] for an optional value.
pub fn maybe_instant(
    field: &str,
    value: Option<impl Into<chrono::DateTime<chrono::Utc>>>,
) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    value.map(|v| instant(field, v)).transpose()
}

/// An identifier a client sends (a ticket number, an id, a key), trimmed: an empty or
/// blank one names nothing, and is said so, naming the argument, rather than looked up.
pub fn identifier<'a>(field: &str, what: &str, value: &'a str) -> AppResult<&'a str> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::bad_input(
            field,
            format!("this is empty: give {what}"),
        ));
    }
    Ok(value)
}
