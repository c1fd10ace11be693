//! Incidents and service requests: their vocabulary, lifecycle, visibility, the
//! commands that change them and the queries that read them.

pub mod beside;
pub mod commands;
pub mod lifecycle;
pub mod links;
pub mod partial;
pub mod queries;
pub mod types;
pub mod visibility;
