//! Where attachments' bytes live. On SQLite (one server, one data directory) they are
//! files under `<data dir>/attachments`, named by their SHA-256: the database stays
//! small and a backup of the directory holds both. On PostgreSQL every replica must read
//! every file, and a database the replicas already share needs no new service to run:
//! the bytes go into `blob_chunks`, 256 KiB a row, in the transaction that attaches them.
//!
//! Either way an upload is first spooled to a temporary file while it is hashed and
//! counted, so that no file is ever whole in memory and one over the limit is refused
//! before anything is written where it would stay.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use entity::{blob, blob_chunk};
use futures::{Stream, StreamExt};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::sniff;
use crate::{
    config::DatabaseConfig,
    db::Db,
    error::{AppError, AppResult},
};

/// How much of a blob one `blob_chunks` row holds.
const CHUNK_BYTES: usize = 256 * 1024;

#[derive(Clone, Debug)]
pub enum Store {
    /// Files under this directory (SQLite, the embedded default).
    Files(PathBuf),
    /// Rows of `blob_chunks` (PostgreSQL).
    Database,
}

/// An upload read to its end into a temporary file: its hash, size and what it is.
pub struct Spooled {
    file: tempfile::NamedTempFile,
    pub sha256: String,
    pub size: u64,
    /// What the first bytes say the file is.
    pub media_type: &'static str,
}

/// What keeping a spooled file did: a file it put into the store, to be taken away
/// again if the transaction that refers to it does not commit.
#[must_use]
pub struct Kept {
    pub blob: blob::Model,
    placed: Option<PathBuf>,
}

impl Kept {
    /// Takes away the file this placed, for a transaction that did not commit.
    pub fn undo(self) {
        if let Some(path) = self.placed {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Store {
    /// The store for this database: files beside SQLite, rows in PostgreSQL.
    pub fn for_database(database: &DatabaseConfig, data_dir: &Path) -> Store {
        match database {
            DatabaseConfig::Sqlite { .. } => Store::Files(data_dir.join("attachments")),
            DatabaseConfig::Postgres { .. } => Store::Database,
        }
    }

    /// Where spooled files are written: inside the store's directory, so that keeping
    /// one is a rename.
    fn spool_dir(&self) -> PathBuf {
        match self {
            Store::Files(root) => root.join("incoming"),
            Store::Database => std::env::temp_dir(),
        }
    }

    /// Reads `body` to its end into a temporary file, hashing it as it goes.
    ///
    /// # Errors
    /// BAD_USER_INPUT (naming `field`) when it is empty or larger than `limit` bytes:
    /// nothing is left behind; INTERNAL when the disk fails.
    pub async fn spool(
        &self,
        mut body: impl AsyncRead + Unpin,
        limit: u64,
        field: &str,
    ) -> AppResult<Spooled> {
        let dir = self.spool_dir();
        tokio::fs::create_dir_all(&dir).await.map_err(disk)?;
        let file = tempfile::NamedTempFile::new_in(&dir).map_err(disk)?;
        let mut writer = tokio::fs::File::from_std(file.reopen().map_err(disk)?);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut head = Vec::with_capacity(sniff::HEAD_BYTES);
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = body.read(&mut buffer).await.map_err(|e| {
                AppError::bad_input(field, format!("the file could not be read to its end: {e}"))
            })?;
            if read == 0 {
                break;
            }
            size += read as u64;
            if size > limit {
                return Err(AppError::bad_input(
                    field,
                    format!(
                        "the file is larger than {}, the most the desk takes (SWITCHBOARD_MAX_ATTACHMENT_BYTES)",
                        human(limit)
                    ),
                ));
            }
            let chunk = &buffer[..read];
            let wanted = sniff::HEAD_BYTES.saturating_sub(head.len());
            head.extend_from_slice(&chunk[..wanted.min(read)]);
            hasher.update(chunk);
            writer.write_all(chunk).await.map_err(disk)?;
        }
        if size == 0 {
            return Err(AppError::bad_input(field, "the file is empty"));
        }
        writer.flush().await.map_err(disk)?;
        writer.sync_data().await.map_err(disk)?;
        Ok(Spooled {
            file,
            sha256: hex::encode(hasher.finalize()),
            size,
            media_type: sniff::media_type(&head),
        })
    }

    /// Keeps the spooled bytes under their hash, unless they are kept already, and
    /// records the blob, in the transaction that attaches it.
    ///
    /// # Errors
    /// INTERNAL when the disk or the database fails.
    pub async fn keep(
        &self,
        txn: &DatabaseTransaction,
        spooled: Spooled,
        now: DateTime<Utc>,
    ) -> AppResult<Kept> {
        let inserted = blob::Entity::insert(blob::ActiveModel {
            sha256: Set(spooled.sha256.clone()),
            size: Set(spooled.size as i64),
            media_type: Set(spooled.media_type.to_string()),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(blob::Column::Sha256)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        let fresh = inserted == 1;
        let mut placed = None;
        match self {
            Store::Files(root) => {
                let path = path_of(root, &spooled.sha256);
                if fresh || !path.exists() {
                    if let Some(dir) = path.parent() {
                        tokio::fs::create_dir_all(dir).await.map_err(disk)?;
                    }
                    spooled.file.persist(&path).map_err(|e| disk(e.error))?;
                    placed = fresh.then_some(path);
                }
            }
            Store::Database if fresh => {
                let mut reader = tokio::fs::File::from_std(spooled.file.reopen().map_err(disk)?);
                reader.rewind().await.map_err(disk)?;
                let mut seq = 0;
                loop {
                    let mut data = Vec::with_capacity(CHUNK_BYTES);
                    (&mut reader)
                        .take(CHUNK_BYTES as u64)
                        .read_to_end(&mut data)
                        .await
                        .map_err(disk)?;
                    if data.is_empty() {
                        break;
                    }
                    blob_chunk::Entity::insert(blob_chunk::ActiveModel {
                        sha256: Set(spooled.sha256.clone()),
                        seq: Set(seq),
                        data: Set(data),
                    })
                    .exec_without_returning(txn)
                    .await?;
                    seq += 1;
                }
            }
            Store::Database => {}
        }
        let blob = blob::Entity::find_by_id(spooled.sha256.clone())
            .one(txn)
            .await?
            .ok_or_else(|| AppError::Internal("a kept blob is not in the database".into()))?;
        Ok(Kept { blob, placed })
    }

    /// Forgets a blob nothing refers to any more, in the transaction that removed the
    /// last reference; returns the file to delete once it has committed.
    ///
    /// # Errors
    /// INTERNAL when the database fails.
    pub async fn forget_unused(
        &self,
        txn: &DatabaseTransaction,
        sha256: &str,
    ) -> AppResult<Option<PathBuf>> {
        let used = entity::attachment::Entity::find()
            .filter(entity::attachment::Column::Sha256.eq(sha256))
            .select_only()
            .column(entity::attachment::Column::Id)
            .into_tuple::<i64>()
            .one(txn)
            .await?
            .is_some();
        if used {
            return Ok(None);
        }
        blob_chunk::Entity::delete_many()
            .filter(blob_chunk::Column::Sha256.eq(sha256))
            .exec(txn)
            .await?;
        blob::Entity::delete_by_id(sha256.to_string())
            .exec(txn)
            .await?;
        Ok(match self {
            Store::Files(root) => Some(path_of(root, sha256)),
            Store::Database => None,
        })
    }

    /// The bytes of a blob, as a stream of pieces: read from the disk or the database as
    /// they are sent, never whole in memory.
    pub fn read(
        &self,
        db: &Db,
        sha256: &str,
    ) -> impl Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static + use<> {
        let source = match self {
            Store::Files(root) => Source::File(path_of(root, sha256)),
            Store::Database => Source::Rows(db.clone(), sha256.to_string()),
        };
        match source {
            Source::File(path) => futures::stream::once(async move {
                tokio::fs::File::open(path)
                    .await
                    .map(tokio_util::io::ReaderStream::new)
            })
            .map(|opened| match opened {
                Ok(stream) => stream.left_stream(),
                Err(error) => futures::stream::once(async { Err(error) }).right_stream(),
            })
            .flatten()
            .left_stream(),
            Source::Rows(db, sha256) => futures::stream::unfold(0, move |seq| {
                let (db, sha256) = (db.clone(), sha256.clone());
                async move {
                    let row = blob_chunk::Entity::find()
                        .filter(blob_chunk::Column::Sha256.eq(&sha256))
                        .filter(blob_chunk::Column::Seq.eq(seq))
                        .one(db.conn())
                        .await;
                    match row {
                        Ok(Some(chunk)) => Some((Ok(bytes::Bytes::from(chunk.data)), seq + 1)),
                        Ok(None) => None,
                        Err(error) => Some((Err(std::io::Error::other(error)), i32::MAX)),
                    }
                }
            })
            .right_stream(),
        }
    }

    /// How many chunks a blob has in the database: for the tests of what is kept.
    pub async fn chunk_count(conn: &impl ConnectionTrait, sha256: &str) -> AppResult<u64> {
        use sea_orm::PaginatorTrait;
        Ok(blob_chunk::Entity::find()
            .filter(blob_chunk::Column::Sha256.eq(sha256))
            .order_by_asc(blob_chunk::Column::Seq)
            .count(conn)
            .await?)
    }
}

enum Source {
    File(PathBuf),
    Rows(Db, String),
}

/// `<root>/ab/abcdef…`: a directory per first byte keeps directories small.
fn path_of(root: &Path, sha256: &str) -> PathBuf {
    root.join(&sha256[..2]).join(sha256)
}

fn disk(error: std::io::Error) -> AppError {
    AppError::Internal(format!("the attachment store failed: {error}"))
}

/// A size as people write it: 25 MiB, 512 KiB.
pub fn human(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}
