//! Business rules, one module per area. No GraphQL or HTTP types in here.

pub mod api_tokens;
pub mod calendar;
pub mod catalog;
pub mod cmdb;
pub mod desk;
pub mod events;
pub mod lookup;
pub mod routing;
pub mod settings;
pub mod sla;
pub mod tickets;
pub mod users;
