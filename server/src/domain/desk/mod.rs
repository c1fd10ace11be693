//! How the desk is organised, managed by admins: the organizations it serves, its
//! assignment groups and their members, the category tree, and the routing rules.

mod reads;

pub use reads::{assignment_rule, assignment_rules, categories, groups, organizations};

use chrono::{DateTime, Utc};
use entity::{assignment_rule, category, group, group_member, organization, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    QueryFilter, TryIntoModel,
};

use crate::domain::{
    lookup::referenced,
    page::Window,
    routing,
    tickets::types::{AgentStrategy, Kind},
    users::roles_of,
};
use crate::{
    auth::{Caller, Role},
    db::Db,
    error::{AppError, AppResult, quote},
};

const MAX_NAME_CHARS: usize = 100;

fn clean_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.contains(" / ") {
        return Err(AppError::bad_input(
            field,
            format!("give a name of 1 to {MAX_NAME_CHARS} characters, without ' / '"),
        ));
    }
    Ok(name.to_string())
}

/// A row's id, for the helpers that list what refers to a row.
pub trait ModelId {
    fn model_id(&self) -> i64;
}

impl ModelId for organization::Model {
    fn model_id(&self) -> i64 {
        self.id
    }
}

impl ModelId for group::Model {
    fn model_id(&self) -> i64 {
        self.id
    }
}

/// Only admins organise the desk.
pub fn require_admin(caller: &Caller) -> AppResult<()> {
    caller.require_role(Role::Admin).map(|_| ())
}

/// Records a customer organization.
///
/// # Errors
/// BAD_USER_INPUT for a name that does not fit or is taken.
pub async fn create_organization(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    name: &str,
    requesters_see_all_tickets: bool,
) -> AppResult<organization::Model> {
    require_admin(caller)?;
    let name = clean_name("name", name)?;
    let txn = db.begin_write().await?;
    let row = organization::ActiveModel {
        name: Set(name),
        requesters_see_all_tickets: Set(requesters_see_all_tickets),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Renames an organization or changes its details.
///
/// # Errors
/// BAD_USER_INPUT as for `create_organization`, or when there is no such organization.
pub async fn update_organization(
    db: &Db,
    caller: &Caller,
    id: i64,
    name: Option<&str>,
    requesters_see_all_tickets: Option<bool>,
) -> AppResult<organization::Model> {
    require_admin(caller)?;
    let txn = db.begin_write().await?;
    let row = referenced::<organization::Entity>(&txn, id, "id", "organization").await?;
    let mut active: organization::ActiveModel = row.into();
    if let Some(name) = name {
        let name = clean_name("name", name)?;
        active.name = Set(name);
    }
    if let Some(see_all) = requesters_see_all_tickets {
        active.requesters_see_all_tickets = Set(see_all);
    }
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// Puts a person in an organization (or none).
pub async fn set_user_organization(
    db: &Db,
    caller: &Caller,
    user_id: i64,
    organization_id: Option<i64>,
) -> AppResult<user::Model> {
    require_admin(caller)?;
    let txn = db.begin_write().await?;
    let row = referenced::<user::Entity>(&txn, user_id, "userId", "user").await?;
    if let Some(org) = organization_id {
        referenced::<organization::Entity>(&txn, org, "organizationId", "organization").await?;
    }
    let mut active: user::ActiveModel = row.into();
    active.organization_id = Set(organization_id);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// Names the person's manager: who approves their orders that need a manager's approval.
pub async fn set_user_manager(
    db: &Db,
    caller: &Caller,
    user_id: i64,
    manager_id: Option<i64>,
) -> AppResult<user::Model> {
    require_admin(caller)?;
    if manager_id == Some(user_id) {
        return Err(AppError::bad_input(
            "managerId",
            "a person cannot be their own manager",
        ));
    }
    let txn = db.begin_write().await?;
    let row = referenced::<user::Entity>(&txn, user_id, "userId", "user").await?;
    if let Some(manager) = manager_id {
        referenced::<user::Entity>(&txn, manager, "managerId", "user").await?;
    }
    let mut active: user::ActiveModel = row.into();
    active.manager_id = Set(manager_id);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// Says whether routing may hand a person new tickets.
///
/// # Errors
/// BAD_USER_INPUT when there is no such person.
pub async fn set_availability(db: &Db, user_id: i64, available: bool) -> AppResult<user::Model> {
    let txn = db.begin_write().await?;
    let row = referenced::<user::Entity>(&txn, user_id, "userId", "user").await?;
    let mut active: user::ActiveModel = row.into();
    active.available = Set(available);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// What an admin writes for a group; `None` keeps what is there.
pub struct GroupFields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tier: Option<i16>,
    /// `Some(None)` clears it.
    pub manager_id: Option<Option<i64>>,
    pub escalation_group_id: Option<Option<i64>>,
}

/// Creates a group (no id) or changes one.
///
/// # Errors
/// BAD_USER_INPUT for a name that does not fit or is taken, an escalation group that
/// does not exist, or a manager who does not exist or lacks the manager role.
pub async fn save_group(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: GroupFields,
) -> AppResult<group::Model> {
    require_admin(caller)?;
    let txn = db.begin_write().await?;
    let mut active = match id {
        Some(id) => referenced::<group::Entity>(&txn, id, "id", "group")
            .await?
            .into(),
        None => {
            let name = fields
                .name
                .as_deref()
                .ok_or_else(|| AppError::bad_input("name", "a group needs a name"))?;
            group::ActiveModel {
                name: Set(clean_name("name", name)?),
                description: Set(String::new()),
                tier: Set(1),
                manager_id: Set(None),
                escalation_group_id: Set(None),
                last_assigned_user_id: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
        }
    };
    if let Some(name) = &fields.name {
        let name = clean_name("name", name)?;
        active.name = Set(name);
    }
    if let Some(description) = fields.description {
        if description.chars().count() > 2000 {
            return Err(AppError::bad_input(
                "description",
                "at most 2000 characters",
            ));
        }
        active.description = Set(description.trim().to_string());
    }
    if let Some(tier) = fields.tier {
        if !(1..=5).contains(&tier) {
            return Err(AppError::bad_input("tier", "tiers are 1 (front line) to 5"));
        }
        active.tier = Set(tier);
    }
    if let Some(manager_id) = fields.manager_id {
        if let Some(manager) = manager_id {
            let person = referenced::<user::Entity>(&txn, manager, "managerId", "user").await?;
            if !roles_of(&person)
                .iter()
                .any(|r| matches!(r, Role::Manager | Role::Admin))
            {
                return Err(AppError::bad_input(
                    "managerId",
                    format!("{} does not have the manager role", person.name),
                ));
            }
        }
        active.manager_id = Set(manager_id);
    }
    if let Some(target) = fields.escalation_group_id {
        if let Some(target) = target {
            if Some(target) == id {
                return Err(AppError::bad_input(
                    "escalationGroupId",
                    "a group cannot escalate to itself",
                ));
            }
            referenced::<group::Entity>(&txn, target, "escalationGroupId", "group").await?;
        }
        active.escalation_group_id = Set(target);
    }
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}

/// Adds a person to a group.
///
/// # Errors
/// BAD_USER_INPUT when the group or the person does not exist.
pub async fn add_member(
    db: &Db,
    caller: &Caller,
    group_id: i64,
    user_id: i64,
) -> AppResult<group::Model> {
    require_admin(caller)?;
    let txn = db.begin_write().await?;
    let group = referenced::<group::Entity>(&txn, group_id, "groupId", "group").await?;
    let person = referenced::<user::Entity>(&txn, user_id, "userId", "user").await?;
    if !roles_of(&person).iter().any(|r| *r != Role::Requester) {
        return Err(AppError::bad_input(
            "userId",
            format!(
                "{} is not an agent: groups are teams of agents",
                person.name
            ),
        ));
    }
    if group_member::Entity::find_by_id((group_id, user_id))
        .one(&txn)
        .await?
        .is_none()
    {
        group_member::ActiveModel {
            group_id: Set(group_id),
            user_id: Set(user_id),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(group)
}

/// Takes a person out of a group.
///
/// # Errors
/// BAD_USER_INPUT when the group does not exist.
pub async fn remove_member(
    db: &Db,
    caller: &Caller,
    group_id: i64,
    user_id: i64,
) -> AppResult<group::Model> {
    require_admin(caller)?;
    let txn = db.begin_write().await?;
    let group = referenced::<group::Entity>(&txn, group_id, "groupId", "group").await?;
    group_member::Entity::delete_by_id((group_id, user_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(group)
}

/// A page of the group's members, a list by user id, in fetch order.
pub async fn members(
    conn: &impl ConnectionTrait,
    group_id: i64,
    window: &Window,
) -> AppResult<Vec<user::Model>> {
    let query = user::Entity::find().filter(
        user::Column::Id.in_subquery(
            sea_orm::sea_query::Query::select()
                .column(group_member::Column::UserId)
                .from(group_member::Entity)
                .and_where(group_member::Column::GroupId.eq(group_id))
                .to_owned(),
        ),
    );
    Ok(window
        .apply(query, user::Column::Id, Order::Asc)
        .all(conn)
        .await?)
}

/// Adds a category under its parent (none: at the top).
///
/// # Errors
/// BAD_USER_INPUT for a name that does not fit or is taken under that parent.
pub async fn create_category(
    db: &Db,
    caller: &Caller,
    name: &str,
    parent_id: Option<i64>,
) -> AppResult<category::Model> {
    require_admin(caller)?;
    let name = clean_name("name", name)?;
    let txn = db.begin_write().await?;
    let path = match parent_id {
        Some(parent) => format!(
            "{} / {name}",
            referenced::<category::Entity>(&txn, parent, "parentId", "category")
                .await?
                .path
        ),
        None => name.clone(),
    };
    // The unique column is the path the name makes; the client wrote the name.
    let taken = AppError::Taken {
        field: "name".into(),
        message: format!("the category {} exists already", quote(&path)),
    };
    let row = category::ActiveModel {
        name: Set(name),
        parent_id: Set(parent_id),
        path: Set(path),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Taken { .. } => taken,
        other => other,
    })?;
    txn.commit().await?;
    Ok(row)
}

/// What an admin writes for a routing rule.
pub struct RuleFields {
    pub name: String,
    pub position: i32,
    pub active: bool,
    pub kind: Option<Kind>,
    pub category_id: Option<i64>,
    pub priority: Option<i16>,
    pub organization_id: Option<i64>,
    pub title_words: Option<String>,
    pub group_id: i64,
    pub agent_strategy: AgentStrategy,
    pub flag_manager: bool,
}

/// Creates a rule, or replaces rule `id`'s definition.
pub async fn save_rule(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: RuleFields,
) -> AppResult<assignment_rule::Model> {
    require_admin(caller)?;
    let name = clean_name("name", &fields.name)?;
    let title_words = fields
        .title_words
        .as_deref()
        .map(routing::parse_title_words)
        .transpose()?
        .flatten();
    if fields.priority.is_some_and(|p| !(1..=4).contains(&p)) {
        return Err(AppError::bad_input("priority", "priorities are 1 to 4"));
    }
    let txn = db.begin_write().await?;
    referenced::<group::Entity>(&txn, fields.group_id, "groupId", "group").await?;
    if let Some(category) = fields.category_id {
        referenced::<category::Entity>(&txn, category, "categoryId", "category").await?;
    }
    if let Some(org) = fields.organization_id {
        referenced::<organization::Entity>(&txn, org, "organizationId", "organization").await?;
    }
    let mut active = match id {
        Some(id) => referenced::<assignment_rule::Entity>(&txn, id, "id", "assignment rule")
            .await?
            .into(),
        None => assignment_rule::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.name = Set(name);
    active.position = Set(fields.position);
    active.active = Set(fields.active);
    active.match_kind = Set(fields.kind.map(|k| k.as_str().to_string()));
    active.match_category_id = Set(fields.category_id);
    active.match_service_id = Set(None);
    active.match_configuration_item_id = Set(None);
    active.match_priority = Set(fields.priority);
    active.match_organization_id = Set(fields.organization_id);
    active.match_title_words = Set(title_words);
    active.group_id = Set(fields.group_id);
    active.agent_strategy = Set(fields.agent_strategy.as_str().to_string());
    active.flag_manager = Set(fields.flag_manager);
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}

/// Deletes a routing rule.
///
/// # Errors
/// NOT_FOUND when there is no such rule.
pub async fn delete_rule(db: &Db, caller: &Caller, id: i64) -> AppResult<()> {
    require_admin(caller)?;
    let txn = db.begin_write().await?;
    let result = assignment_rule::Entity::delete_by_id(id).exec(&txn).await?;
    if result.rows_affected == 0 {
        return Err(AppError::NotFound(
            "there is no assignment rule with that id".into(),
        ));
    }
    txn.commit().await?;
    Ok(())
}
