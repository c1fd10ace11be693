//! Business rules, one module per area. No GraphQL or HTTP types in here.

pub mod api_tokens;
pub mod automation;
pub mod calendar;
pub mod catalog;
pub mod changes;
pub mod cmdb;
pub mod consumers;
pub mod desk;
pub mod events;
pub mod global_id;
pub mod input;
pub mod knowledge;
pub mod lookup;
pub mod mail;
pub mod named;
pub mod numbers;
pub mod page;
pub mod problems;
pub mod routing;
pub mod settings;
pub mod sla;
pub mod tickets;
pub mod users;
pub mod versioned;
pub mod webhooks;
pub mod workflow;
