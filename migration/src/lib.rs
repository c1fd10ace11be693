//! Schema migrations, one file per step; each runs on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_users_and_api_tokens;
mod m20261121_000002_service_desk;
mod m20261121_000003_sla;
mod m20261121_000004_catalog;
mod m20261121_000005_event_sequence;
mod m20261121_000006_cmdb;
mod m20261121_000007_problems_changes_knowledge;
mod m20261122_000008_published_visibility;
pub mod m20261122_000009_events_notify;
mod m20261122_000010_webhooks_and_automation;
mod m20261122_000011_mail_messages;
mod m20261122_000012_notifications;
mod m20261203_000013_time_worked;
mod m20261203_000014_ticket_links;
mod m20261203_000015_surveys;
mod m20261203_000016_attachments;
mod m20261203_000017_merging;
mod m20261203_000018_major_incidents;
mod m20261203_000019_mail_attachments;
mod m20261203_000020_releases;
mod m20261203_000021_monitoring_availability_capacity;
mod m20261203_000022_agreements;
mod m20261203_000023_continuity;
mod m20261203_000024_costs;
mod m20261203_000025_service_reports;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_users_and_api_tokens::Migration),
            Box::new(m20261121_000002_service_desk::Migration),
            Box::new(m20261121_000003_sla::Migration),
            Box::new(m20261121_000004_catalog::Migration),
            Box::new(m20261121_000005_event_sequence::Migration),
            Box::new(m20261121_000006_cmdb::Migration),
            Box::new(m20261121_000007_problems_changes_knowledge::Migration),
            Box::new(m20261122_000008_published_visibility::Migration),
            Box::new(m20261122_000009_events_notify::Migration),
            Box::new(m20261122_000010_webhooks_and_automation::Migration),
            Box::new(m20261122_000011_mail_messages::Migration),
            Box::new(m20261122_000012_notifications::Migration),
            Box::new(m20261203_000013_time_worked::Migration),
            Box::new(m20261203_000014_ticket_links::Migration),
            Box::new(m20261203_000015_surveys::Migration),
            Box::new(m20261203_000016_attachments::Migration),
            Box::new(m20261203_000017_merging::Migration),
            Box::new(m20261203_000018_major_incidents::Migration),
            Box::new(m20261203_000019_mail_attachments::Migration),
            Box::new(m20261203_000020_releases::Migration),
            Box::new(m20261203_000021_monitoring_availability_capacity::Migration),
            Box::new(m20261203_000022_agreements::Migration),
            Box::new(m20261203_000023_continuity::Migration),
            Box::new(m20261203_000024_costs::Migration),
            Box::new(m20261203_000025_service_reports::Migration),
        ]
    }
}
