//! The GraphQL schema: thin resolvers, one module per area, assembled here.

pub mod api_tokens;
pub mod ids;
pub mod node;
pub mod pagination;
pub mod users;
pub mod viewer;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema};

use crate::{app::AppState, auth::Caller, config::Limits};

#[derive(MergedObject, Default)]
pub struct Query(
    viewer::ViewerQuery,
    node::NodeQuery,
    users::UserQuery,
    api_tokens::ApiTokenQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(api_tokens::ApiTokenMutation);

#[derive(MergedSubscription, Default)]
pub struct Subscription(api_tokens::ApiTokenSubscription);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema with its limits. `state` is absent only when exporting the SDL.
pub fn build_schema(limits: &Limits, state: Option<AppState>) -> AppSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .register_output_type::<node::Node>()
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_directives(limits.max_directives)
    .with_sorted_fields()
    .with_sorted_enums();
    if let Some(state) = state {
        builder = builder.data(state);
    }
    builder.finish()
}

/// The public contract, exactly as `schema.graphql` holds it.
pub fn sdl() -> String {
    let schema = build_schema(&crate::config::Config::default_limits(), None);
    format!("{}\n", schema.sdl().trim_end())
}

pub fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

pub fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    ctx.data::<Caller>().unwrap_or(&Caller::Anonymous)
}
