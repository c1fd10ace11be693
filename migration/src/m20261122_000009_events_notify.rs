//! On PostgreSQL, every commit that appends to the event log notifies the channel
//! `switchboard_events`, so that the relay on every replica wakes at once instead of at
//! its next poll. A trigger rather than a statement in the application: any writer (a
//! bulk import, a script) wakes the relay too, and PostgreSQL folds a transaction's
//! notifications into one, delivered only if it commits. SQLite has no such thing; there
//! the one process wakes its relay itself.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The channel the trigger notifies; the relay listens on it.
pub const CHANNEL: &str = "switchboard_events";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "CREATE OR REPLACE FUNCTION switchboard_events_notify() RETURNS trigger AS $$
             BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END
             $$ LANGUAGE plpgsql"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER events_notify AFTER INSERT ON events
             FOR EACH STATEMENT EXECUTE FUNCTION switchboard_events_notify()",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("DROP TRIGGER IF EXISTS events_notify ON events")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS switchboard_events_notify()")
            .await?;
        Ok(())
    }
}
