//! Who sees which tickets: requesters their own (and their organization's, where it
//! allows), a supplier's people the tickets handed to it, agents their groups', managers
//! and admins everything, partner tokens by scope.

use entity::{group_member, organization, ticket, ticket_follower, user};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};

use crate::{
    auth::{Caller, Role, Scope as TokenScope, not_signed_in},
    domain::events::TicketSnapshot,
    error::{AppError, AppResult},
};

/// What a person's scope is made of, read in one statement.
struct Standing {
    /// The groups they work in (agents).
    groups: Vec<i64>,
    /// The organization whose tickets they may all see (requesters).
    organization: Option<i64>,
    /// The supplier they work for: they see the tickets handed to it.
    supplier: Option<i64>,
    /// The tickets they follow.
    followed: Vec<i64>,
}

/// The person's standing, in one statement: each row is a kind (`g`, `o`, `s` or `f`)
/// and an id.
async fn standing(conn: &impl ConnectionTrait, user_id: i64, agent: bool) -> AppResult<Standing> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, UnionType};

    let mut first = if agent {
        Query::select()
            .expr_as(Expr::val("g"), Alias::new("kind"))
            .expr_as(Expr::col(group_member::Column::GroupId), Alias::new("id"))
            .from(group_member::Entity)
            .and_where(Expr::col(group_member::Column::UserId).eq(user_id))
            .to_owned()
    } else {
        Query::select()
            .expr_as(Expr::val("o"), Alias::new("kind"))
            .expr_as(
                Expr::col((organization::Entity, organization::Column::Id)),
                Alias::new("id"),
            )
            .from(user::Entity)
            .inner_join(
                organization::Entity,
                Expr::col((organization::Entity, organization::Column::Id))
                    .equals((user::Entity, user::Column::OrganizationId)),
            )
            .and_where(Expr::col((user::Entity, user::Column::Id)).eq(user_id))
            .and_where(
                Expr::col((
                    organization::Entity,
                    organization::Column::RequestersSeeAllTickets,
                ))
                .eq(true),
            )
            .to_owned()
    };
    let follows = Query::select()
        .expr_as(Expr::val("f"), Alias::new("kind"))
        .expr_as(
            Expr::col(ticket_follower::Column::TicketId),
            Alias::new("id"),
        )
        .from(ticket_follower::Entity)
        .and_where(Expr::col(ticket_follower::Column::UserId).eq(user_id))
        .to_owned();
    let supplier = Query::select()
        .expr_as(Expr::val("s"), Alias::new("kind"))
        .expr_as(Expr::col(user::Column::SupplierId), Alias::new("id"))
        .from(user::Entity)
        .and_where(Expr::col(user::Column::Id).eq(user_id))
        .and_where(Expr::col(user::Column::SupplierId).is_not_null())
        .to_owned();
    first.union(UnionType::All, follows);
    first.union(UnionType::All, supplier);
    let rows = conn
        .query_all_raw(conn.get_database_backend().build(&first))
        .await?;
    let mut standing = Standing {
        groups: Vec::new(),
        organization: None,
        supplier: None,
        followed: Vec::new(),
    };
    for row in rows {
        let kind: String = row.try_get("", "kind")?;
        let id: i64 = row.try_get("", "id")?;
        match kind.as_str() {
            "g" => standing.groups.push(id),
            "o" => standing.organization = Some(id),
            "s" => standing.supplier = Some(id),
            _ => standing.followed.push(id),
        }
    }
    Ok(standing)
}

/// Which tickets a caller may see: the one visibility rule, used by every read.
#[derive(Clone, Debug)]
pub enum Scope {
    Everything,
    Limited {
        user_id: i64,
        /// Another organization's tickets this requester may see, by the organization's choice.
        organization_id: Option<i64>,
        /// The supplier whose handed-over tickets this person sees, as its people.
        supplier_id: Option<i64>,
        group_ids: Vec<i64>,
        agent: bool,
        /// The tickets they follow besides: a merged duplicate's requester follows the
        /// survivor.
        followed: Vec<i64>,
    },
}

impl Scope {
    /// The caller's scope, with the groups they belong to.
    ///
    /// # Errors
    /// UNAUTHENTICATED for an anonymous caller; FORBIDDEN for a token without `tickets:read`.
    pub async fn of(conn: &impl ConnectionTrait, caller: &Caller) -> AppResult<Scope> {
        match caller {
            Caller::Anonymous => Err(not_signed_in()),
            Caller::Partner(partner) => {
                partner.require_scope(TokenScope::TicketsRead)?;
                Ok(Scope::Everything)
            }
            Caller::Person(person) if person.has_role(Role::Manager) => Ok(Scope::Everything),
            Caller::Person(person) => {
                let agent = person.has_role(Role::Agent);
                let standing = standing(conn, person.user_id, agent).await?;
                Ok(Scope::Limited {
                    user_id: person.user_id,
                    organization_id: standing.organization,
                    supplier_id: standing.supplier,
                    group_ids: standing.groups,
                    agent,
                    followed: standing.followed,
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

    /// The scope as a SQL condition on tickets.
    pub fn condition(&self) -> Condition {
        match self {
            Scope::Everything => Condition::all(),
            Scope::Limited {
                user_id,
                organization_id,
                supplier_id,
                group_ids,
                agent,
                followed,
            } => {
                let mut any = Condition::any().add(ticket::Column::RequesterId.eq(*user_id));
                if !followed.is_empty() {
                    any = any.add(ticket::Column::Id.is_in(followed.clone()));
                }
                if let Some(org) = organization_id {
                    any = any.add(ticket::Column::OrganizationId.eq(*org));
                }
                if let Some(supplier) = supplier_id {
                    any = any.add(ticket::Column::SupplierId.eq(*supplier));
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

    /// The ids of the tickets this scope may see, as a subquery for rows that hang off
    /// a ticket (comments, history, links); none when it sees everything.
    pub fn visible_ids(&self) -> Option<sea_orm::sea_query::SelectStatement> {
        match self {
            Scope::Everything => None,
            Scope::Limited { .. } => Some(
                sea_orm::sea_query::Query::select()
                    .column(ticket::Column::Id)
                    .from(ticket::Entity)
                    .cond_where(self.condition())
                    .to_owned(),
            ),
        }
    }

    /// The scope as a check on one ticket row; selects exactly what `condition` does.
    pub fn allows(&self, row: &ticket::Model) -> bool {
        self.permits(
            row.id,
            row.requester_id,
            row.organization_id,
            row.supplier_id,
            row.assignee_id,
            row.group_id,
        )
    }

    /// The rule applied to the ticket an event carries (`payload.ticket`), as it was
    /// then; `ticket_id` is the event's entity.
    pub fn allows_snapshot(&self, ticket_id: i64, ticket: &TicketSnapshot) -> bool {
        self.permits(
            ticket_id,
            ticket.requester_id,
            ticket.organization_id,
            ticket.supplier_id,
            ticket.assignee_id,
            ticket.group_id,
        )
    }

    fn permits(
        &self,
        id: i64,
        requester: Option<i64>,
        organization: Option<i64>,
        supplier: Option<i64>,
        assignee: Option<i64>,
        group: Option<i64>,
    ) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Limited {
                user_id,
                organization_id,
                supplier_id,
                group_ids,
                agent,
                followed,
            } => {
                requester == Some(*user_id)
                    || followed.contains(&id)
                    || (organization_id.is_some() && organization == *organization_id)
                    || (supplier_id.is_some() && supplier == *supplier_id)
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

#[cfg(test)]
mod tests {
    //! The rule exists twice, as SQL for lists and as a row check for single rows and
    //! events: these tests hold the two to the same answer on generated tickets and
    //! callers, against a real (in-memory) SQLite with the real schema.

    use std::collections::BTreeSet;

    use chrono::Utc;
    use migration::{Migrator, MigratorTrait};
    use proptest::prelude::*;
    use sea_orm::{
        ActiveModelTrait, ActiveValue::Set, ConnectOptions, ConnectionTrait, Database,
        DatabaseConnection, EntityTrait, QueryFilter,
    };

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    async fn database() -> DatabaseConnection {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).min_connections(1);
        let conn = Database::connect(options).await.unwrap();
        Migrator::up(&conn, None).await.unwrap();
        // The generated tickets point at people, groups and organizations by id only.
        conn.execute_unprepared("PRAGMA foreign_keys = OFF")
            .await
            .unwrap();
        conn
    }

    #[derive(Clone, Debug)]
    struct Row {
        requester: Option<i64>,
        organization: Option<i64>,
        supplier: Option<i64>,
        group: Option<i64>,
        assignee: Option<i64>,
    }

    fn some_of(max: i64) -> impl Strategy<Value = Option<i64>> {
        prop::option::of(1..=max)
    }

    fn rows() -> impl Strategy<Value = Vec<Row>> {
        prop::collection::vec(
            (some_of(4), some_of(2), some_of(2), some_of(3), some_of(4)).prop_map(
                |(requester, organization, supplier, group, assignee)| Row {
                    requester,
                    organization,
                    supplier,
                    group,
                    assignee,
                },
            ),
            0..25,
        )
    }

    fn scopes() -> impl Strategy<Value = Scope> {
        prop_oneof![
            Just(Scope::Everything),
            (
                1..=4i64,
                some_of(2),
                some_of(2),
                prop::collection::btree_set(1..=3i64, 0..=3),
                any::<bool>(),
                prop::collection::btree_set(1..=25i64, 0..=3),
            )
                .prop_map(
                    |(user_id, organization_id, supplier_id, groups, agent, followed)| {
                        Scope::Limited {
                            user_id,
                            organization_id,
                            supplier_id,
                            group_ids: groups.into_iter().collect(),
                            agent,
                            followed: followed.into_iter().collect(),
                        }
                    }
                ),
        ]
    }

    async fn store(conn: &DatabaseConnection, rows: &[Row]) {
        ticket::Entity::delete_many().exec(conn).await.unwrap();
        let now = Utc::now();
        for (n, row) in rows.iter().enumerate() {
            ticket::ActiveModel {
                number: Set(format!("INC{n:07}")),
                kind: Set("INCIDENT".into()),
                status: Set("NEW".into()),
                title: Set("generated".into()),
                description: Set(String::new()),
                impact: Set("LOW".into()),
                urgency: Set("LOW".into()),
                priority: Set(4),
                requester_id: Set(row.requester),
                organization_id: Set(row.organization),
                supplier_id: Set(row.supplier),
                group_id: Set(row.group),
                assignee_id: Set(row.assignee),
                channel: Set("PORTAL".into()),
                escalation_level: Set(0),
                search_text: Set(String::new()),
                internal_search_text: Set(String::new()),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                ..Default::default()
            }
            .insert(conn)
            .await
            .unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn the_sql_condition_and_the_row_check_agree(rows in rows(), scope in scopes()) {
            let rt = runtime();
            let (by_sql, by_row, by_snapshot) = rt.block_on(async {
                let conn = database().await;
                store(&conn, &rows).await;
                let all = ticket::Entity::find().all(&conn).await.unwrap();
                let by_sql: BTreeSet<i64> = ticket::Entity::find()
                    .filter(scope.condition())
                    .all(&conn)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|t| t.id)
                    .collect();
                let by_row: BTreeSet<i64> =
                    all.iter().filter(|t| scope.allows(t)).map(|t| t.id).collect();
                // Events carry the same fields as a snapshot: the third form of the rule.
                let by_snapshot: BTreeSet<i64> = all
                    .iter()
                    .filter(|t| {
                        scope.allows_snapshot(t.id, &TicketSnapshot::of(t))
                    })
                    .map(|t| t.id)
                    .collect();
                (by_sql, by_row, by_snapshot)
            });
            prop_assert_eq!(&by_sql, &by_row);
            prop_assert_eq!(&by_row, &by_snapshot);
        }
    }

    #[test]
    fn a_requester_sees_their_own_and_an_agent_their_groups() {
        let mine = |requester, group| Row {
            requester,
            organization: None,
            supplier: None,
            group,
            assignee: None,
        };
        let rt = runtime();
        rt.block_on(async {
            let conn = database().await;
            store(&conn, &[mine(Some(1), None), mine(Some(2), Some(3))]).await;
            let requester = Scope::Limited {
                user_id: 1,
                organization_id: None,
                supplier_id: None,
                group_ids: vec![3],
                agent: false,
                followed: vec![],
            };
            let seen = ticket::Entity::find()
                .filter(requester.condition())
                .all(&conn)
                .await
                .unwrap();
            assert_eq!(seen.len(), 1, "a requester's groups give them nothing");
            let agent = Scope::Limited {
                user_id: 1,
                organization_id: None,
                supplier_id: None,
                group_ids: vec![3],
                agent: true,
                followed: vec![],
            };
            let seen = ticket::Entity::find()
                .filter(agent.condition())
                .all(&conn)
                .await
                .unwrap();
            assert_eq!(seen.len(), 2, "an agent also sees their group's queue");
        });
    }
}
