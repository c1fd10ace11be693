//! A published article version carries the visibility it was published with. Readers
//! are served the published version, so the working copy's visibility (which an author
//! may change while revising) must not decide who reads it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Articles {
    Table,
    Visibility,
    Status,
    PublishedVersion,
    PublishedVisibility,
}

#[derive(DeriveIden)]
enum ArticleVersions {
    Table,
    Visibility,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Versions published before this step: which visibility they went out with was
        // not kept. INTERNAL is the safe answer; an author republishes to make one public.
        manager
            .alter_table(
                Table::alter()
                    .table(ArticleVersions::Table)
                    .add_column(string(ArticleVersions::Visibility).default("INTERNAL"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Articles::Table)
                    .add_column(string_null(Articles::PublishedVisibility))
                    .to_owned(),
            )
            .await?;
        // An article whose working copy is the published one (no revision under way)
        // was published with the visibility it shows now.
        let backfill = Query::update()
            .table(Articles::Table)
            .value(
                Articles::PublishedVisibility,
                Expr::col(Articles::Visibility),
            )
            .and_where(Expr::col(Articles::PublishedVersion).is_not_null())
            .and_where(Expr::col(Articles::Status).eq("PUBLISHED"))
            .to_owned();
        manager.exec_stmt(backfill).await?;
        let internal = Query::update()
            .table(Articles::Table)
            .value(Articles::PublishedVisibility, "INTERNAL")
            .and_where(Expr::col(Articles::PublishedVersion).is_not_null())
            .and_where(Expr::col(Articles::PublishedVisibility).is_null())
            .to_owned();
        manager.exec_stmt(internal).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_published_visibility")
                    .table(Articles::Table)
                    .col(Articles::PublishedVisibility)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_articles_published_visibility")
                    .table(Articles::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Articles::Table)
                    .drop_column(Articles::PublishedVisibility)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ArticleVersions::Table)
                    .drop_column(ArticleVersions::Visibility)
                    .to_owned(),
            )
            .await
    }
}
