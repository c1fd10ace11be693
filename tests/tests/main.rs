//! Every end-to-end test, linked into one binary.
//!
//! Each file beside this one is one area's tests. They are modules of one test binary rather
//! than a binary each because every binary links the whole server with its debug
//! information (about half a gigabyte apiece): thirty-five of them filled the disk of a CI
//! machine, and linking them took longer than running them. One binary also shares one
//! PostgreSQL server across every test. Run one area with `cargo test --test end_to_end sla::`.

mod agreements;
mod attachments;
mod auth;
mod automation;
mod backups;
mod catalog;
mod changes;
mod cli;
mod client_errors;
mod clock_jumps;
mod cmdb;
mod continuity;
mod conventions;
mod costs;
mod disk_full;
mod documents;
mod faults;
mod fuzz;
mod hardening;
mod http;
mod idle;
mod knowledge;
mod live;
mod live_desk;
mod mail;
mod major_incidents;
mod merging;
mod monitoring;
mod notifications;
mod paging;
mod planned;
mod problems;
mod rate_limits;
mod readiness;
mod releases;
mod replicas;
mod satisfaction;
mod service_desk;
mod service_reports;
mod sla;
mod ticket_links;
mod ticket_lists;
mod time_worked;
mod upgrades;
mod webhooks;
mod websocket;
