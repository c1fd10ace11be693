//! Who sees which tickets: requesters their own (and their organization's, where it
//! allows), agents their groups', managers and admins everything, partner tokens by scope.

use entity::{group_member, organization, ticket, user};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    auth::{Caller, Role, Scope as TokenScope, not_signed_in},
    error::{AppError, AppResult},
};

#[derive(Clone, Debug)]
pub enum Scope {
    Everything,
    Limited {
        user_id: i64,
        /// Another organization's tickets this requester may see, by the organization's choice.
        organization_id: Option<i64>,
        group_ids: Vec<i64>,
        agent: bool,
    },
}

impl Scope {
    pub async fn of(conn: &impl ConnectionTrait, caller: &Caller) -> AppResult<Scope> {
        match caller {
            Caller::Anonymous => Err(not_signed_in()),
            Caller::Partner(partner) => {
                partner.require_scope(TokenScope::TicketsRead)?;
                Ok(Scope::Everything)
            }
            Caller::Person(person) if person.has_role(Role::Manager) => Ok(Scope::Everything),
            Caller::Person(person) if person.has_role(Role::Agent) => {
                let group_ids = group_member::Entity::find()
                    .select_only()
                    .column(group_member::Column::GroupId)
                    .filter(group_member::Column::UserId.eq(person.user_id))
                    .into_tuple()
                    .all(conn)
                    .await?;
                Ok(Scope::Limited {
                    user_id: person.user_id,
                    organization_id: None,
                    group_ids,
                    agent: true,
                })
            }
            Caller::Person(person) => {
                let shared_organization: Option<i64> = user::Entity::find_by_id(person.user_id)
                    .select_only()
                    .column(organization::Column::Id)
                    .inner_join(organization::Entity)
                    .filter(organization::Column::RequestersSeeAllTickets.eq(true))
                    .into_tuple()
                    .one(conn)
                    .await?;
                Ok(Scope::Limited {
                    user_id: person.user_id,
                    organization_id: shared_organization,
                    group_ids: vec![],
                    agent: false,
                })
            }
        }
    }

    /// Agents, managers, admins and partner tokens read internal work notes.
    pub fn sees_internal(&self) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Limited { agent, .. } => *agent,
        }
    }

    pub fn condition(&self) -> Condition {
        match self {
            Scope::Everything => Condition::all(),
            Scope::Limited {
                user_id,
                organization_id,
                group_ids,
                agent,
            } => {
                let mut any = Condition::any().add(ticket::Column::RequesterId.eq(*user_id));
                if let Some(org) = organization_id {
                    any = any.add(ticket::Column::OrganizationId.eq(*org));
                }
                if *agent {
                    any = any.add(ticket::Column::AssigneeId.eq(*user_id));
                    if !group_ids.is_empty() {
                        any = any.add(ticket::Column::GroupId.is_in(group_ids.clone()));
                    }
                }
                any
            }
        }
    }

    pub fn allows(&self, row: &ticket::Model) -> bool {
        self.permits(
            row.requester_id,
            row.organization_id,
            row.assignee_id,
            row.group_id,
        )
    }

    /// The same rule for the ticket snapshot an event carries (`payload.ticket`).
    pub fn allows_snapshot(&self, ticket: &serde_json::Value) -> bool {
        let id = |key: &str| ticket[key].as_i64();
        self.permits(
            id("requesterId"),
            id("organizationId"),
            id("assigneeId"),
            id("groupId"),
        )
    }

    fn permits(
        &self,
        requester: Option<i64>,
        organization: Option<i64>,
        assignee: Option<i64>,
        group: Option<i64>,
    ) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Limited {
                user_id,
                organization_id,
                group_ids,
                agent,
            } => {
                requester == Some(*user_id)
                    || (organization_id.is_some() && organization == *organization_id)
                    || (*agent
                        && (assignee == Some(*user_id)
                            || group.is_some_and(|g| group_ids.contains(&g))))
            }
        }
    }

    /// Whether the caller works this group's queue (or sees every ticket).
    pub fn works_queue(&self, group_id: i64) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Limited {
                group_ids, agent, ..
            } => *agent && group_ids.contains(&group_id),
        }
    }

    /// The ticket, if this scope may see it; otherwise the same NOT_FOUND as for a ticket
    /// that does not exist, so that numbers cannot be probed.
    pub fn check(&self, row: Option<ticket::Model>, what: &str) -> AppResult<ticket::Model> {
        match row {
            Some(row) if self.allows(&row) => Ok(row),
            _ => Err(AppError::NotFound(format!(
                "there is no ticket {what} that you can see"
            ))),
        }
    }
}
