//! Who is calling: people with JWTs, partner systems with API tokens, and what each may do.

pub mod api_token;
pub mod jwt;

use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};

/// What a person may do, from their token's roles. Each role includes the ones before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, async_graphql::Enum)]
pub enum Role {
    /// Raises and follows their own tickets.
    Requester,
    /// Works tickets in their groups' queues.
    Agent,
    /// Sees every queue and the reports; approves.
    Manager,
    /// Configures the desk: groups, rules, SLAs, catalog, CMDB, tokens.
    Admin,
}

impl Role {
    pub fn parse(name: &str) -> Option<Role> {
        match name.trim().to_ascii_lowercase().as_str() {
            "requester" => Some(Role::Requester),
            "agent" => Some(Role::Agent),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

/// What a partner's API token may do. Written `area:action` on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    TicketsRead,
    TicketsWrite,
    CatalogRead,
    CatalogWrite,
    CmdbRead,
    CmdbWrite,
    UsersRead,
    EventsSubscribe,
    /// Registers and manages the token's own webhook endpoints.
    WebhooksManage,
    /// Hands the desk mail received (`switchboard mail-gateway`).
    MailIngest,
    /// Hands the desk alerts and metric values from a monitoring system.
    AlertsIngest,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::TicketsRead,
        Scope::TicketsWrite,
        Scope::CatalogRead,
        Scope::CatalogWrite,
        Scope::CmdbRead,
        Scope::CmdbWrite,
        Scope::UsersRead,
        Scope::EventsSubscribe,
        Scope::WebhooksManage,
        Scope::MailIngest,
        Scope::AlertsIngest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::TicketsRead => "tickets:read",
            Scope::TicketsWrite => "tickets:write",
            Scope::CatalogRead => "catalog:read",
            Scope::CatalogWrite => "catalog:write",
            Scope::CmdbRead => "cmdb:read",
            Scope::CmdbWrite => "cmdb:write",
            Scope::UsersRead => "users:read",
            Scope::EventsSubscribe => "events:subscribe",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::MailIngest => "mail:ingest",
            Scope::AlertsIngest => "alerts:ingest",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name.trim())
    }

    /// Whether holding this scope allows what `wanted` allows. A write scope reads what
    /// it writes: a token cannot change a ticket it may not load, nor send back the
    /// `version` it never read.
    pub fn grants(self, wanted: Scope) -> bool {
        self == wanted
            || matches!(
                (self, wanted),
                (Scope::TicketsWrite, Scope::TicketsRead)
                    | (Scope::CatalogWrite, Scope::CatalogRead)
                    | (Scope::CmdbWrite, Scope::CmdbRead)
            )
    }
}

/// A person, from a valid JWT, with their user row.
#[derive(Clone, Debug)]
pub struct Person {
    pub user_id: i64,
    pub subject: String,
    pub name: String,
    pub email: Option<String>,
    pub roles: Vec<Role>,
    pub groups: Vec<String>,
    pub expires_at: DateTime<Utc>,
    /// Set when an automation rule acts with this person's rights.
    pub by_rule: Option<ByRule>,
}

/// An automation rule acting with the rights of the person it runs as: history names the
/// rule, and the events its actions write do not set it off again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByRule {
    pub rule_id: i64,
    pub name: String,
    /// How many rules' actions led here: 1 for a rule answering a person's change.
    pub depth: u32,
}

/// A partner system, from a valid API token.
#[derive(Clone, Debug)]
pub struct Partner {
    pub token_id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub enum Caller {
    Anonymous,
    Person(Person),
    Partner(Partner),
}

impl Person {
    /// Admins may do anything; managers anything an agent may.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|&held| {
            held == role
                || held == Role::Admin
                || (held == Role::Manager && role == Role::Agent)
                || role == Role::Requester
        })
    }
}

impl Caller {
    pub fn person(&self) -> AppResult<&Person> {
        match self {
            Caller::Person(person) => Ok(person),
            Caller::Partner(partner) => Err(AppError::Forbidden(format!(
                "API token '{}' cannot do this: it is for people signed in with a JWT",
                partner.name
            ))),
            Caller::Anonymous => Err(not_signed_in()),
        }
    }

    /// A person holding `role` (or a higher one).
    pub fn require_role(&self, role: Role) -> AppResult<&Person> {
        let person = self.person()?;
        if person.has_role(role) {
            Ok(person)
        } else {
            Err(AppError::Forbidden(format!(
                "this needs the '{}' role; you have {}",
                role.as_str(),
                describe_roles(&person.roles)
            )))
        }
    }

    /// A person holding `role`, or a partner token holding `scope`.
    pub fn require_role_or_scope(&self, role: Role, scope: Scope) -> AppResult<()> {
        match self {
            Caller::Partner(partner) => partner.require_scope(scope),
            _ => self.require_role(role).map(|_| ()),
        }
    }
}

impl Partner {
    pub fn require_scope(&self, scope: Scope) -> AppResult<()> {
        if self.scopes.iter().any(|held| held.grants(scope)) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "API token '{}' lacks the '{}' scope",
                self.name,
                scope.as_str()
            )))
        }
    }
}

fn describe_roles(roles: &[Role]) -> String {
    if roles.is_empty() {
        return "none".to_string();
    }
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn not_signed_in() -> AppError {
    AppError::Unauthenticated(
        "sign in first: send 'Authorization: Bearer <token>' with a JWT or an API token"
            .to_string(),
    )
}
