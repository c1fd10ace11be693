//! Routing: the first matching assignment rule picks the group, and its strategy picks
//! the agent among the group's available members.

use entity::{assignment_rule, group, group_member, ticket, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, Order, QueryFilter, QueryOrder,
    QuerySelect, RelationDef,
    sea_query::{Expr, ExprTrait, IntoCondition},
};

use super::tickets::types::{AgentStrategy, Kind, Status};
use crate::error::{AppError, AppResult};

/// What rules match on, taken from the ticket being routed.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub kind: Option<Kind>,
    pub category_ids: Vec<i64>,
    pub service_id: Option<i64>,
    pub configuration_item_ids: Vec<i64>,
    pub priority: i16,
    pub organization_id: Option<i64>,
    pub title: String,
}

/// Every condition a rule sets must hold; conditions it leaves unset match anything.
/// `category_ids` holds the ticket's category and its ancestors, so a rule on
/// "Hardware" also routes "Hardware / Laptop".
pub fn matches(rule: &assignment_rule::Model, facts: &Facts) -> bool {
    let title = facts.title.to_lowercase();
    rule.active
        && rule
            .match_kind
            .as_deref()
            .is_none_or(|k| facts.kind.is_some_and(|kind| kind.as_str() == k))
        && rule
            .match_category_id
            .is_none_or(|c| facts.category_ids.contains(&c))
        && rule
            .match_service_id
            .is_none_or(|s| facts.service_id == Some(s))
        && rule
            .match_configuration_item_id
            .is_none_or(|ci| facts.configuration_item_ids.contains(&ci))
        && rule.match_priority.is_none_or(|p| facts.priority == p)
        && rule
            .match_organization_id
            .is_none_or(|o| facts.organization_id == Some(o))
        && rule
            .match_title_words
            .as_deref()
            .is_none_or(|words| words.split_whitespace().all(|w| title.contains(w)))
}

/// The first rule, in order, that matches the ticket.
pub fn first_match<'r>(
    rules: &'r [assignment_rule::Model],
    facts: &Facts,
) -> Option<&'r assignment_rule::Model> {
    rules.iter().find(|rule| matches(rule, facts))
}

/// The enabled routing rules, in the order they are tried.
pub async fn active_rules(conn: &impl ConnectionTrait) -> AppResult<Vec<assignment_rule::Model>> {
    Ok(assignment_rule::Entity::find()
        .filter(assignment_rule::Column::Active.eq(true))
        .order_by_asc(assignment_rule::Column::Position)
        .order_by_asc(assignment_rule::Column::Id)
        .all(conn)
        .await?)
}

fn members_join() -> RelationDef {
    group_member::Entity::belongs_to(user::Entity)
        .from(group_member::Column::UserId)
        .to(user::Column::Id)
        .into()
}

/// The agent the strategy picks in `group`, if any member is available.
pub async fn pick_agent(
    conn: &impl ConnectionTrait,
    group: &group::Model,
    strategy: AgentStrategy,
) -> AppResult<Option<i64>> {
    match strategy {
        AgentStrategy::Queue => Ok(None),
        AgentStrategy::LeastOpen => least_open(conn, group.id).await,
        AgentStrategy::RoundRobin => {
            let members: Vec<i64> = group_member::Entity::find()
                .select_only()
                .column(group_member::Column::UserId)
                .join(JoinType::InnerJoin, members_join())
                .filter(group_member::Column::GroupId.eq(group.id))
                .filter(user::Column::Available.eq(true))
                .order_by_asc(group_member::Column::UserId)
                .into_tuple()
                .all(conn)
                .await?;
            let next = match group.last_assigned_user_id {
                Some(last) => members
                    .iter()
                    .copied()
                    .find(|&m| m > last)
                    .or(members.first().copied()),
                None => members.first().copied(),
            };
            if let Some(next) = next {
                let mut active: group::ActiveModel = group.clone().into();
                active.last_assigned_user_id = Set(Some(next));
                active.update(conn).await?;
            }
            Ok(next)
        }
    }
}

/// The available member with the fewest open tickets assigned; the longest-standing
/// member among equals. One query, whatever the group's size.
async fn least_open(conn: &impl ConnectionTrait, group_id: i64) -> AppResult<Option<i64>> {
    let open: Vec<&str> = Status::OPEN.iter().map(|s| s.as_str()).collect();
    let open_tickets = group_member::Entity::belongs_to(ticket::Entity)
        .from(group_member::Column::UserId)
        .to(ticket::Column::AssigneeId)
        .on_condition(move |_, right| {
            Expr::col((right, ticket::Column::Status))
                .is_in(open.clone())
                .into_condition()
        });
    let picked: Option<(i64, i64)> = group_member::Entity::find()
        .select_only()
        .column(group_member::Column::UserId)
        .column_as(
            Expr::col((ticket::Entity, ticket::Column::Id)).count(),
            "open_count",
        )
        .join(JoinType::InnerJoin, members_join())
        .join(JoinType::LeftJoin, open_tickets.into())
        .filter(group_member::Column::GroupId.eq(group_id))
        .filter(user::Column::Available.eq(true))
        .group_by(group_member::Column::UserId)
        .order_by(
            Expr::col(sea_orm::sea_query::Alias::new("open_count")),
            Order::Asc,
        )
        .order_by_asc(group_member::Column::UserId)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(picked.map(|(user_id, _)| user_id))
}

/// The words a rule looks for in titles, lower case.
pub fn parse_title_words(words: &str) -> AppResult<Option<String>> {
    let words: Vec<String> = words.split_whitespace().map(str::to_lowercase).collect();
    if words.iter().any(|w| w.chars().count() > 50) {
        return Err(AppError::bad_input(
            "titleWords",
            "each word may be at most 50 characters",
        ));
    }
    Ok((!words.is_empty()).then(|| words.join(" ")))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn rule(id: i64) -> assignment_rule::Model {
        assignment_rule::Model {
            id,
            position: id as i32,
            name: format!("rule {id}"),
            active: true,
            match_kind: None,
            match_category_id: None,
            match_service_id: None,
            match_configuration_item_id: None,
            match_priority: None,
            match_organization_id: None,
            match_title_words: None,
            group_id: 1,
            agent_strategy: "QUEUE".into(),
            flag_manager: false,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn the_first_rule_whose_conditions_all_hold_wins() {
        let network = assignment_rule::Model {
            match_kind: Some("INCIDENT".into()),
            match_title_words: Some("vpn down".into()),
            ..rule(1)
        };
        let p1 = assignment_rule::Model {
            match_priority: Some(1),
            ..rule(2)
        };
        let laptops = assignment_rule::Model {
            match_category_id: Some(7),
            ..rule(3)
        };
        let rules = vec![network, p1, laptops, rule(4)];
        let facts = Facts {
            kind: Some(Kind::Incident),
            title: "The VPN is DOWN again".into(),
            priority: 3,
            ..Default::default()
        };
        assert_eq!(first_match(&rules, &facts).unwrap().id, 1);
        let facts = Facts {
            title: "VPN slow".into(),
            priority: 1,
            ..facts
        };
        assert_eq!(first_match(&rules, &facts).unwrap().id, 2);
        let facts = Facts {
            priority: 3,
            category_ids: vec![7, 2],
            ..facts
        };
        assert_eq!(first_match(&rules, &facts).unwrap().id, 3);
        let facts = Facts {
            category_ids: vec![],
            ..facts
        };
        assert_eq!(first_match(&rules, &facts).unwrap().id, 4);
        let inactive = vec![assignment_rule::Model {
            active: false,
            ..rule(9)
        }];
        assert!(first_match(&inactive, &facts).is_none());
    }
}
