//! SeaORM entities: one module per table, no business rules.

pub mod api_token;
pub mod user;
