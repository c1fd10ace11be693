//! The fields a plan writes itself: for each, the column it reads and how the ordinary
//! resolver writes its value (the same conversions, called the same way), so that the
//! two paths cannot give different text for the same row.

use async_graphql::resolver_utils::EnumType;
use chrono::{DateTime, Utc};
use entity::{category, group, organization, ticket, user};
use sea_orm::QueryResult;

use crate::{
    auth::Caller,
    domain::{global_id, positional::column, tickets::types, users::may_see_details},
    error::AppResult,
    graphql::tickets::{Channel, Level, PendingReason, TicketKind, TicketStatus},
};

use super::write::Out;

/// A ticket's own fields that come straight from its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketScalar {
    Id,
    Number,
    Kind,
    Status,
    Title,
    Description,
    Impact,
    Urgency,
    Priority,
    Channel,
    PendingReason,
    ResolutionCode,
    ResolutionNotes,
    EscalationLevel,
    ManagerFlaggedAt,
    CreatedAt,
    UpdatedAt,
    FirstResponseAt,
    ResolvedAt,
    ClosedAt,
    Version,
}

impl TicketScalar {
    pub fn named(name: &str) -> Option<Self> {
        use TicketScalar::*;
        Some(match name {
            "id" => Id,
            "number" => Number,
            "kind" => Kind,
            "status" => Status,
            "title" => Title,
            "description" => Description,
            "impact" => Impact,
            "urgency" => Urgency,
            "priority" => Priority,
            "channel" => Channel,
            "pendingReason" => PendingReason,
            "resolutionCode" => ResolutionCode,
            "resolutionNotes" => ResolutionNotes,
            "escalationLevel" => EscalationLevel,
            "managerFlaggedAt" => ManagerFlaggedAt,
            "createdAt" => CreatedAt,
            "updatedAt" => UpdatedAt,
            "firstResponseAt" => FirstResponseAt,
            "resolvedAt" => ResolvedAt,
            "closedAt" => ClosedAt,
            "version" => Version,
            _ => return None,
        })
    }

    pub fn column(self) -> ticket::Column {
        use ticket::Column as C;
        match self {
            Self::Id => C::Id,
            Self::Number => C::Number,
            Self::Kind => C::Kind,
            Self::Status => C::Status,
            Self::Title => C::Title,
            Self::Description => C::Description,
            Self::Impact => C::Impact,
            Self::Urgency => C::Urgency,
            Self::Priority => C::Priority,
            Self::Channel => C::Channel,
            Self::PendingReason => C::PendingReason,
            Self::ResolutionCode => C::ResolutionCode,
            Self::ResolutionNotes => C::ResolutionNotes,
            Self::EscalationLevel => C::EscalationLevel,
            Self::ManagerFlaggedAt => C::ManagerFlaggedAt,
            Self::CreatedAt => C::CreatedAt,
            Self::UpdatedAt => C::UpdatedAt,
            Self::FirstResponseAt => C::FirstResponseAt,
            Self::ResolvedAt => C::ResolvedAt,
            Self::ClosedAt => C::ClosedAt,
            Self::Version => C::Version,
        }
    }

    /// Writes the value of column `at` of `row` as the field's resolver would.
    pub fn write(self, row: &QueryResult, at: usize, out: &mut Out) -> AppResult<()> {
        use TicketScalar::*;
        match self {
            Id => out.string(&global_id::of("Ticket", column::<i64>(row, at)?)),
            Number | Title | Description => out.string(&column::<String>(row, at)?),
            ResolutionCode | ResolutionNotes => {
                out.optional_string(column::<Option<String>>(row, at)?.as_deref())
            }
            Kind => out.name(name_of::<TicketKind>(
                types::Kind::parse(&column::<String>(row, at)?, "kind").map_err(stored)?,
            )),
            Status => out.name(name_of::<TicketStatus>(
                types::Status::parse(&column::<String>(row, at)?, "status").map_err(stored)?,
            )),
            Impact | Urgency => out.name(name_of::<Level>(
                types::Level::parse(&column::<String>(row, at)?, "level").map_err(stored)?,
            )),
            Channel => out.name(name_of::<self::Channel>(
                types::Channel::parse(&column::<String>(row, at)?, "channel").map_err(stored)?,
            )),
            PendingReason => match column::<Option<String>>(row, at)? {
                Some(reason) => out.name(name_of::<self::PendingReason>(
                    types::PendingReason::parse(&reason, "pendingReason").map_err(stored)?,
                )),
                None => out.null(),
            },
            Priority => out.name(enum_name(crate::graphql::tickets::Priority::from_number(
                column::<i16>(row, at)?,
            ))),
            EscalationLevel | Version => out.number(i64::from(column::<i32>(row, at)?)),
            CreatedAt | UpdatedAt => out.instant(column::<DateTime<Utc>>(row, at)?),
            ManagerFlaggedAt | FirstResponseAt | ResolvedAt | ClosedAt => {
                match column::<Option<DateTime<Utc>>>(row, at)? {
                    Some(at) => out.instant(at),
                    None => out.null(),
                }
            }
        }
        Ok(())
    }
}

/// A person's fields, as `graphql::users::User` writes them: the name for anyone who
/// meets them on a ticket, the directory details only for whom `may_see_details` allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonField {
    Id,
    Name,
    Subject,
    Email,
    Available,
    CreatedAt,
    UpdatedAt,
}

impl PersonField {
    pub fn named(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Self::Id,
            "name" => Self::Name,
            "subject" => Self::Subject,
            "email" => Self::Email,
            "available" => Self::Available,
            "createdAt" => Self::CreatedAt,
            "updatedAt" => Self::UpdatedAt,
            _ => return None,
        })
    }

    pub fn column(self) -> user::Column {
        match self {
            Self::Id => user::Column::Id,
            Self::Name => user::Column::Name,
            Self::Subject => user::Column::Subject,
            Self::Email => user::Column::Email,
            Self::Available => user::Column::Available,
            Self::CreatedAt => user::Column::CreatedAt,
            Self::UpdatedAt => user::Column::UpdatedAt,
        }
    }

    /// Writes the field of the person whose id is `person`.
    pub fn write(
        self,
        row: &QueryResult,
        at: usize,
        person: i64,
        caller: &Caller,
        out: &mut Out,
    ) -> AppResult<()> {
        let details = || may_see_details(caller, person);
        match self {
            Self::Id => out.string(&global_id::of("User", person)),
            Self::Name => out.string(&column::<String>(row, at)?),
            Self::Subject if details() => out.string(&column::<String>(row, at)?),
            Self::Email if details() => {
                out.optional_string(column::<Option<String>>(row, at)?.as_deref())
            }
            Self::Available if details() => out.boolean(column::<bool>(row, at)?),
            Self::Subject | Self::Email | Self::Available => out.null(),
            Self::CreatedAt | Self::UpdatedAt => out.instant(column::<DateTime<Utc>>(row, at)?),
        }
        Ok(())
    }
}

/// An assignment group's fields that come from its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupField {
    Id,
    Name,
    Description,
    Tier,
}

impl GroupField {
    pub fn named(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Self::Id,
            "name" => Self::Name,
            "description" => Self::Description,
            "tier" => Self::Tier,
            _ => return None,
        })
    }

    pub fn column(self) -> group::Column {
        match self {
            Self::Id => group::Column::Id,
            Self::Name => group::Column::Name,
            Self::Description => group::Column::Description,
            Self::Tier => group::Column::Tier,
        }
    }

    pub fn write(self, row: &QueryResult, at: usize, out: &mut Out) -> AppResult<()> {
        match self {
            Self::Id => out.string(&global_id::of("Group", column::<i64>(row, at)?)),
            Self::Name | Self::Description => out.string(&column::<String>(row, at)?),
            Self::Tier => out.number(i64::from(column::<i16>(row, at)?)),
        }
        Ok(())
    }
}

/// An organization's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrganizationField {
    Id,
    Name,
    RequestersSeeAllTickets,
    CreatedAt,
}

impl OrganizationField {
    pub fn named(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Self::Id,
            "name" => Self::Name,
            "requestersSeeAllTickets" => Self::RequestersSeeAllTickets,
            "createdAt" => Self::CreatedAt,
            _ => return None,
        })
    }

    pub fn column(self) -> organization::Column {
        match self {
            Self::Id => organization::Column::Id,
            Self::Name => organization::Column::Name,
            Self::RequestersSeeAllTickets => organization::Column::RequestersSeeAllTickets,
            Self::CreatedAt => organization::Column::CreatedAt,
        }
    }

    pub fn write(self, row: &QueryResult, at: usize, out: &mut Out) -> AppResult<()> {
        match self {
            Self::Id => out.string(&global_id::of("Organization", column::<i64>(row, at)?)),
            Self::Name => out.string(&column::<String>(row, at)?),
            Self::RequestersSeeAllTickets => out.boolean(column::<bool>(row, at)?),
            Self::CreatedAt => out.instant(column::<DateTime<Utc>>(row, at)?),
        }
        Ok(())
    }
}

/// A category's fields that come from its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CategoryField {
    Id,
    Name,
    Path,
}

impl CategoryField {
    pub fn named(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Self::Id,
            "name" => Self::Name,
            "path" => Self::Path,
            _ => return None,
        })
    }

    pub fn column(self) -> category::Column {
        match self {
            Self::Id => category::Column::Id,
            Self::Name => category::Column::Name,
            Self::Path => category::Column::Path,
        }
    }

    pub fn write(self, row: &QueryResult, at: usize, out: &mut Out) -> AppResult<()> {
        match self {
            Self::Id => out.string(&global_id::of("Category", column::<i64>(row, at)?)),
            Self::Name | Self::Path => out.string(&column::<String>(row, at)?),
        }
        Ok(())
    }
}

/// The GraphQL name of a stored value, through the API's own enum.
fn name_of<E: EnumType + PartialEq>(value: impl Into<E>) -> &'static str {
    enum_name(value.into())
}

fn enum_name<E: EnumType + PartialEq>(value: E) -> &'static str {
    E::items()
        .iter()
        .find(|item| item.value == value)
        .map(|item| item.name)
        .expect("every value of an API enum has a name")
}

/// As the ordinary resolvers say of a stored value that does not parse (`stored`).
fn stored(error: crate::error::AppError) -> crate::error::AppError {
    crate::error::AppError::Internal(format!("a stored ticket value does not parse: {error}"))
}
