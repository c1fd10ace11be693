//! Reading how the desk is organised.

use async_graphql::{Context, Object};

use crate::{
    auth::Role,
    domain::{desk, settings},
    error::{AppError, AppResult},
    graphql::{caller, loaders, state},
};

use super::{AssignmentRule, Category, DeskSettingsView, Group, Organization};

#[derive(Default)]
pub struct DeskQuery;

#[Object]
impl DeskQuery {
    /// Every customer organization, by name. Agents.
    async fn organizations(&self, ctx: &Context<'_>) -> AppResult<Vec<Organization>> {
        let rows = desk::organizations(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(Organization).collect())
    }
    /// Every group, by name.
    async fn groups(&self, ctx: &Context<'_>) -> AppResult<Vec<Group>> {
        let rows = desk::groups(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(Group).collect())
    }
    /// The category tree, in path order.
    async fn categories(&self, ctx: &Context<'_>) -> AppResult<Vec<Category>> {
        let rows = desk::categories(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(Category).collect())
    }
    /// Routing rules in the order they are tried. Admins only.
    async fn assignment_rules(&self, ctx: &Context<'_>) -> AppResult<Vec<AssignmentRule>> {
        let rows = desk::assignment_rules(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(AssignmentRule).collect())
    }
    /// The desk's settings (the priority matrix). Agents.
    async fn desk_settings(&self, ctx: &Context<'_>) -> AppResult<DeskSettingsView> {
        caller(ctx).require_role(Role::Agent)?;
        Ok(DeskSettingsView::of(
            &settings::load(state(ctx).db.conn()).await?,
        ))
    }
}

pub async fn load_node(
    ctx: &Context<'_>,
    type_name: &str,
    id: i64,
) -> AppResult<Option<crate::graphql::node::Node>> {
    use crate::graphql::node::Node;
    caller(ctx).person()?;
    let not_found = || AppError::NotFound(format!("there is no {type_name} with that id"));
    let node = match type_name {
        "Organization" => {
            caller(ctx).require_role(Role::Agent)?;
            let row = ctx
                .data_unchecked::<loaders::Organizations>()
                .load_one(id)
                .await?
                .ok_or_else(not_found)?;
            Node::Organization(Organization(row))
        }
        "Group" => Node::Group(Group(
            ctx.data_unchecked::<loaders::Groups>()
                .load_one(id)
                .await?
                .ok_or_else(not_found)?,
        )),
        "Category" => Node::Category(Category(
            ctx.data_unchecked::<loaders::Categories>()
                .load_one(id)
                .await?
                .ok_or_else(not_found)?,
        )),
        "AssignmentRule" => {
            let row = desk::assignment_rule(state(ctx).db.conn(), caller(ctx), id)
                .await?
                .ok_or_else(not_found)?;
            Node::AssignmentRule(AssignmentRule(row))
        }
        _ => return Ok(None),
    };
    Ok(Some(node))
}
