//! SeaORM entities: one module per table, no business rules.

pub mod api_token;
pub mod assignment_rule;
pub mod calendar;
pub mod catalog_item;
pub mod catalog_request;
pub mod category;
pub mod ci_attribute_value;
pub mod ci_class;
pub mod ci_relationship;
pub mod comment;
pub mod configuration_item;
pub mod desk_settings;
pub mod event;
pub mod group;
pub mod group_member;
pub mod organization;
pub mod relationship_type;
pub mod relay_state;
pub mod service;
pub mod sla_clock;
pub mod sla_clock_segment;
pub mod sla_policy;
pub mod ticket;
pub mod ticket_configuration_item;
pub mod user;
