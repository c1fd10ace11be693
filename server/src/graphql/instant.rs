//! The `DateTime` scalar: an instant, written as RFC 3339 in UTC. Switchboard's own
//! rather than async-graphql's, so that its description speaks to the person building a
//! frontend and its `@specifiedBy` names the format exactly.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, Utc};

/// An instant, as the `DateTime` scalar carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub DateTime<Utc>);

/// An instant in time as an RFC 3339 string, always in UTC on output
/// (`2026-11-22T09:30:00.123+00:00`). Inputs may carry any offset and are read as the
/// same instant; dates outside the years 0001 to 9999 are refused.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for Instant {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => text.parse::<DateTime<Utc>>().map(Instant).map_err(|_| {
                InputValueError::custom(
                    "not an RFC 3339 date-time: write it like 2026-11-22T09:30:00Z",
                )
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

/// What the domain takes: `domain::input::instant` checks the year range on the way in.
impl From<Instant> for DateTime<Utc> {
    fn from(at: Instant) -> Self {
        at.0
    }
}
