//! Switchboard: a GraphQL backend for IT service management.
//!
//! Requests flow one way: `http` (axum) -> `graphql` (thin resolvers) -> `domain`
//! (the rules) -> the database, every change appending its event to the log, which
//! `events` relays live to subscribers. `app::start` builds it all from a `config::Config`.
// The schema merges one object per area; the merge nests deeper than the default.
#![recursion_limit = "256"]

pub mod app;
pub mod auth;
pub mod authenticator;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod html;
pub mod http;
pub mod jobs;
pub mod memory;
pub mod metrics;
pub mod network;
pub mod rate_limit;
pub mod state;
pub mod telemetry;

pub use app::{RunningServer, start};
pub use config::{Config, Settings};
