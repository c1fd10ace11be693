//! Business rules, one module per area. No GraphQL or HTTP types in here.

pub mod api_tokens;
pub mod users;
