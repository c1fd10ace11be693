//! `switchboard backup` and `switchboard restore`: a consistent copy of the desk's
//! database taken while the server runs, and that copy brought back.
//!
//! - **SQLite**: `VACUUM INTO` writes the database as one read transaction sees it, so
//!   the copy is consistent however busy the writers are (they go on meanwhile; the
//!   copy simply ends at the last commit before it began). Restoring checks the copy
//!   (`PRAGMA integrity_check`, a Switchboard database no newer than this version) and
//!   puts it in place of the configured file, which must not be in use (a server would
//!   go on with the old file open): replacing one takes `--replace`.
//! - **PostgreSQL**: `pg_dump`'s custom format, which is itself one consistent
//!   snapshot, and `pg_restore` into the configured database. Both tools come with
//!   PostgreSQL's client package and must be on the `PATH`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::config::{Config, DatabaseConfig};

/// Writes a consistent copy of the configured database to `out`.
pub async fn backup(config: &Config, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        bail!(
            "{} exists already: a backup never overwrites a file; name a new one",
            out.display()
        );
    }
    match &config.database {
        DatabaseConfig::Sqlite { path, .. } => {
            let conn = open_sqlite(path).await?;
            let target = out.to_str().context("the backup's path is not UTF-8")?;
            conn.execute_unprepared(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
                .await
                .with_context(|| format!("cannot write the backup to {}", out.display()))?;
        }
        DatabaseConfig::Postgres { url } => {
            run(
                "pg_dump",
                &[
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    &format!("--file={}", out.display()),
                    url,
                ],
            )?;
        }
    }
    Ok(())
}

/// Puts the backup at `from` in place of the configured database: an existing one only
/// with `replace` (every server using it stopped first).
pub async fn restore(config: &Config, from: &Path, replace: bool) -> anyhow::Result<()> {
    if !from.is_file() {
        bail!("there is no backup at {}", from.display());
    }
    match &config.database {
        DatabaseConfig::Sqlite { path, .. } => {
            let copy = open_sqlite(from).await?;
            let check = copy
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Sqlite,
                    "PRAGMA integrity_check",
                ))
                .await?
                .and_then(|row| row.try_get_by_index::<String>(0).ok());
            if check.as_deref() != Some("ok") {
                bail!(
                    "{} is damaged ({}); it is not restored",
                    from.display(),
                    check.unwrap_or_default()
                );
            }
            refuse_newer(&copy, from).await?;
            copy.close().await?;
            if path.exists() && !replace {
                bail!(
                    "{} exists: stop every server using it, then restore with --replace",
                    path.display()
                );
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let staged = sibling(path, "restoring");
            std::fs::copy(from, &staged)
                .with_context(|| format!("cannot copy the backup to {}", staged.display()))?;
            for stale in [sibling(path, "db-wal"), sibling(path, "db-shm")] {
                let _ = std::fs::remove_file(stale);
            }
            std::fs::rename(&staged, path)
                .with_context(|| format!("cannot put the backup in place of {}", path.display()))?;
        }
        DatabaseConfig::Postgres { url } => {
            run(
                "pg_restore",
                &[
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    &format!("--dbname={url}"),
                    &from.display().to_string(),
                ],
            )?;
        }
    }
    Ok(())
}

async fn open_sqlite(path: &Path) -> anyhow::Result<DatabaseConnection> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let url = if path.exists() {
        url
    } else {
        url.replace("mode=ro", "mode=rwc")
    };
    Database::connect(&url)
        .await
        .with_context(|| format!("cannot open {}", path.display()))
}

/// `path` with its extension replaced: `switchboard.db-wal` beside `switchboard.db`.
fn sibling(path: &Path, extension: &str) -> PathBuf {
    path.with_extension(extension)
}

/// A backup a newer version made cannot be restored under this one.
async fn refuse_newer(copy: &DatabaseConnection, from: &Path) -> anyhow::Result<()> {
    use migration::MigratorTrait;
    let known: std::collections::HashSet<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let rows = copy
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .with_context(|| format!("{} is not a Switchboard database", from.display()))?;
    for row in rows {
        let version: String = row.try_get_by_index(0)?;
        if !known.contains(&version) {
            bail!(
                "{} was made by a newer Switchboard ({version}): restore it with that version or a newer one",
                from.display()
            );
        }
    }
    Ok(())
}

fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .with_context(|| {
            format!("cannot run {program}: install PostgreSQL's client tools, which it comes with")
        })?;
    if !output.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
