//! Which subscriptions may share one rendering. Two sockets may be sent the same bytes
//! when they ask the same thing (document, operation, variables: the socket layer
//! compares those) of the same kind of stream, and a query made by either at any moment
//! would show them the same: the same [`Audience`].

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection,
};
use sea_orm::ConnectionTrait;

use crate::{
    auth::{Caller, Role, Scope as TokenScope},
    domain::tickets::visibility::Scope,
    error::AppResult,
};

/// How a subscription's responses may be shared between the sockets that ask for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sharing {
    /// Rendered for this subscriber alone: it replays from `after` (its own past), asks
    /// for several root fields, or is something not known to be shareable.
    Alone,
    /// A stream of events: a newcomer takes the ones after it joined, as it would alone.
    Events,
    /// A stream of states (a dashboard's counts): a newcomer starts from the latest one,
    /// as it would alone, and a slow one may skip to the newest without missing anything.
    Latest,
}

/// How the operation `name` picks out of `doc` may be shared.
pub fn sharing(doc: &ExecutableDocument, name: Option<&str>) -> Sharing {
    let operation = match (&doc.operations, name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return Sharing::Alone,
        },
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().expect("one operation")
        }
        (DocumentOperations::Multiple(_), None) => return Sharing::Alone,
    };
    if operation.node.ty != OperationType::Subscription {
        return Sharing::Alone;
    }
    let mut fields = Vec::new();
    for selection in &operation.node.selection_set.node.items {
        match &selection.node {
            Selection::Field(field) if field.node.name.node == "__typename" => {}
            Selection::Field(field) => fields.push(&field.node),
            // A fragment at the root may hide anything: not worth reading through.
            _ => return Sharing::Alone,
        }
    }
    let [field] = fields.as_slice() else {
        return Sharing::Alone;
    };
    if field.get_argument("after").is_some() || !field.directives.is_empty() {
        return Sharing::Alone;
    }
    match field.name.node.as_str() {
        "dashboard" => Sharing::Latest,
        "queueChanged" | "ticketUpdated" | "slaAlerts" => Sharing::Events,
        _ => Sharing::Alone,
    }
}

/// Everything about a caller that what they are shown depends on.
///
/// People who see every ticket (managers, admins) see every person's details too, so
/// only their roles matter and they share with each other. Anyone else's view turns on
/// who they are (their own tickets, the ones assigned to them, their own record), so
/// they share only with their own other sockets, and only while their groups,
/// organization and supplier are what they were. A partner token shares with itself: its scopes are
/// its own, and so is its revocation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    Token(i64),
    SeesEverything {
        roles: Vec<Role>,
    },
    Person {
        user_id: i64,
        roles: Vec<Role>,
        organization_id: Option<i64>,
        supplier_id: Option<i64>,
        group_ids: Vec<i64>,
    },
}

impl Audience {
    /// The caller's audience as of now; none for a caller who may not subscribe to
    /// tickets at all (the subscription itself says why).
    pub async fn of(conn: &impl ConnectionTrait, caller: &Caller) -> AppResult<Option<Audience>> {
        let person = match caller {
            Caller::Anonymous => return Ok(None),
            Caller::Partner(partner) if partner.require_scope(TokenScope::TicketsRead).is_err() => {
                return Ok(None);
            }
            Caller::Partner(partner) => return Ok(Some(Audience::Token(partner.token_id))),
            Caller::Person(person) => person,
        };
        let mut roles = person.roles.clone();
        roles.sort();
        roles.dedup();
        Ok(Some(match Scope::of(conn, caller).await? {
            Scope::Everything => Audience::SeesEverything { roles },
            Scope::Limited {
                organization_id,
                supplier_id,
                mut group_ids,
                ..
            } => {
                group_ids.sort();
                Audience::Person {
                    user_id: person.user_id,
                    roles,
                    organization_id,
                    supplier_id,
                    group_ids,
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(query: &str, name: Option<&str>) -> Sharing {
        sharing(&async_graphql::parser::parse_query(query).unwrap(), name)
    }

    #[test]
    fn only_a_single_live_field_without_a_replay_is_shared() {
        let queue = "subscription { queueChanged(groupId: \"x\") { kind } }";
        assert_eq!(of(queue, None), Sharing::Events);
        assert_eq!(
            of("subscription Q { __typename dashboard { total } }", None),
            Sharing::Latest
        );
        assert_eq!(
            of(
                "subscription { queueChanged(groupId: \"x\", after: 3) { kind } }",
                None
            ),
            Sharing::Alone
        );
        assert_eq!(
            of(
                "subscription($a: Int) { slaAlerts(after: $a) { seq } }",
                None
            ),
            Sharing::Alone
        );
        assert_eq!(
            of(
                "subscription { a: dashboard { total } b: dashboard { total } }",
                None
            ),
            Sharing::Alone
        );
        assert_eq!(of("query { dashboard { total } }", None), Sharing::Alone);
        assert_eq!(
            of(
                "subscription A { dashboard { total } } query B { x }",
                Some("A")
            ),
            Sharing::Latest
        );
        assert_eq!(
            of("subscription A { dashboard { total } } query B { x }", None),
            Sharing::Alone
        );
    }
}
