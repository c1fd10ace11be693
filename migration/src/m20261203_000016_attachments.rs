//! Attachments: files on tickets, comments and knowledge articles. The bytes are kept
//! once per SHA-256 (`blobs`), however often they are attached; on PostgreSQL they live
//! in `blob_chunks`, so that every replica reads them, and on SQLite in files under the
//! data directory. `signing_keys` holds the key that signs download links, shared by
//! every replica because it is in the database.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Sha256,
    Size,
    MediaType,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BlobChunks {
    Table,
    Sha256,
    Seq,
    Data,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    TicketId,
    CommentId,
    ArticleId,
    Internal,
    Sha256,
    Filename,
    Size,
    MediaType,
    UploadedById,
    UploadedByName,
    CreatedAt,
    MovedFromTicketId,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Purpose,
    Secret,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Blobs::Table)
                    .col(string(Blobs::Sha256).primary_key())
                    .col(big_integer(Blobs::Size))
                    // What the first bytes say the file is (an image type, or
                    // application/octet-stream), never what its name says.
                    .col(string(Blobs::MediaType))
                    .col(timestamp_with_time_zone(Blobs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BlobChunks::Table)
                    .col(string(BlobChunks::Sha256))
                    .col(integer(BlobChunks::Seq))
                    .col(blob(BlobChunks::Data))
                    .primary_key(Index::create().col(BlobChunks::Sha256).col(BlobChunks::Seq))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Attachments::Table)
                    .col(big_pk_auto(Attachments::Id))
                    // The ticket a file is on, also when it came with one of its
                    // comments (then `comment_id` says which); or the article.
                    .col(big_integer_null(Attachments::TicketId))
                    .col(big_integer_null(Attachments::CommentId))
                    .col(big_integer_null(Attachments::ArticleId))
                    // As internal as the work note it came with.
                    .col(boolean(Attachments::Internal))
                    .col(string(Attachments::Sha256))
                    .col(string(Attachments::Filename))
                    .col(big_integer(Attachments::Size))
                    .col(string(Attachments::MediaType))
                    .col(big_integer_null(Attachments::UploadedById))
                    .col(string(Attachments::UploadedByName))
                    .col(timestamp_with_time_zone(Attachments::CreatedAt))
                    // The duplicate a merge moved it from, so that unmerging can move
                    // it back.
                    .col(big_integer_null(Attachments::MovedFromTicketId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::Sha256)
                            .to(Blobs::Table, Blobs::Sha256),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_attachments_ticket", Attachments::TicketId),
            ("idx_attachments_comment", Attachments::CommentId),
            ("idx_attachments_article", Attachments::ArticleId),
            ("idx_attachments_sha256", Attachments::Sha256),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Attachments::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string(SigningKeys::Purpose).primary_key())
                    .col(string(SigningKeys::Secret))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SigningKeys::Table.into_iden(),
            Attachments::Table.into_iden(),
            BlobChunks::Table.into_iden(),
            Blobs::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
