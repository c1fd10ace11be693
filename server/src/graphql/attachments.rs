//! Attachments: files sent with the GraphQL multipart request specification (the
//! `Upload` scalar), shown on tickets, comments and articles with a link a browser can
//! open as it is, and removed again.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};
use entity::attachment;

use crate::{
    domain::attachments::{self, Incoming, MAX_FILES_PER_REQUEST, Target, sniff},
    error::{AppError, AppResult},
    graphql::{command::acting, ids, instant::Instant, loaders, state, ticket_scope},
};

/// A file on a ticket, one of its comments, or a knowledge article.
pub struct Attachment(pub attachment::Model);

/// A file on a ticket, one of its comments, or a knowledge article.
#[Object]
impl Attachment {
    /// The globally unique id.
    async fn id(&self) -> ID {
        ids::encode("Attachment", self.0.id)
    }
    /// The file's name as it was sent (its last path segment).
    async fn filename(&self) -> &str {
        &self.0.filename
    }
    /// Its size in bytes.
    async fn size(&self) -> i64 {
        self.0.size
    }
    /// What its bytes say it is: image/png, image/jpeg, image/gif or image/webp, which a
    /// browser shows in place; application/octet-stream for anything else, which is
    /// always downloaded.
    async fn media_type(&self) -> &str {
        &self.0.media_type
    }
    /// Whether it is an image a browser may show (`<img src="{url}">`).
    async fn is_image(&self) -> bool {
        sniff::is_image(&self.0.media_type)
    }
    /// The SHA-256 of its bytes, in hex: the same file attached twice has the same one,
    /// and is kept once.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    /// It came with an internal work note: agents only.
    async fn internal(&self) -> bool {
        self.0.internal
    }
    /// Who attached it, as shown: a person's name, or the API token's.
    async fn uploaded_by(&self) -> &str {
        &self.0.uploaded_by_name
    }
    /// When it was attached.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// The comment it came with, if it came with one.
    async fn comment_id(&self) -> Option<ID> {
        self.0.comment_id.map(|id| ids::encode("Comment", id))
    }
    /// A link to its bytes that works without a token for a quarter of an hour or so
    /// (`<img src>`, `<a href>`): made only for a caller who may see the file. Absolute
    /// when the server knows its public address (`SWITCHBOARD_PUBLIC_URL`).
    async fn url(&self, ctx: &Context<'_>) -> String {
        let state = state(ctx);
        let (expires, signature) = state.files.signer.sign(self.0.id, state.clock.now());
        let name = percent_encoding::utf8_percent_encode(
            &self.0.filename,
            percent_encoding::NON_ALPHANUMERIC,
        );
        format!(
            "{}/attachments/{}/{name}?expires={expires}&signature={signature}",
            state.config.public_url.as_deref().unwrap_or(""),
            ids::encode("Attachment", self.0.id).as_str(),
        )
    }
}

/// Reads each upload to its end into the store's spool, checking its size: before the
/// command's transaction begins.
///
/// # Errors
/// BAD_USER_INPUT for more than ten files, or one that is empty or too large.
pub async fn spool(ctx: &Context<'_>, uploads: Vec<Upload>) -> AppResult<Vec<Incoming>> {
    if uploads.len() > MAX_FILES_PER_REQUEST {
        return Err(AppError::bad_input(
            "files",
            format!("send at most {MAX_FILES_PER_REQUEST} files at once"),
        ));
    }
    let files = &state(ctx).files;
    let mut incoming = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let value = upload.value(ctx).map_err(|_| {
            AppError::bad_input(
                "files",
                "a file named in the request's map was not sent with it",
            )
        })?;
        let spooled = files
            .store
            .spool(
                tokio::fs::File::from_std(value.content),
                files.limits.per_file,
                "files",
            )
            .await?;
        incoming.push(Incoming {
            filename: value.filename,
            spooled,
        });
    }
    Ok(incoming)
}

/// The files the caller may see on a ticket, its comments' included.
pub async fn of_ticket(ctx: &Context<'_>, ticket_id: i64) -> AppResult<Vec<Attachment>> {
    let scope = ticket_scope(ctx).await?;
    let rows = loaders::children_of::<loaders::AttachmentsByTicket, _>(ctx, ticket_id).await?;
    Ok(rows
        .into_iter()
        .filter(|row| scope.sees_internal() || !row.internal)
        .map(Attachment)
        .collect())
}

/// The files that came with one comment (which the caller was shown already).
pub async fn of_comment(
    ctx: &Context<'_>,
    ticket_id: i64,
    comment_id: i64,
) -> AppResult<Vec<Attachment>> {
    Ok(of_ticket(ctx, ticket_id)
        .await?
        .into_iter()
        .filter(|a| a.0.comment_id == Some(comment_id))
        .collect())
}

/// The files on an article (which the caller was shown already).
pub async fn of_article(ctx: &Context<'_>, article_id: i64) -> AppResult<Vec<Attachment>> {
    let rows = loaders::children_of::<loaders::AttachmentsByArticle, _>(ctx, article_id).await?;
    Ok(rows.into_iter().map(Attachment).collect())
}

/// What `attachFiles` takes: the files, and exactly one of what they go on.
#[derive(InputObject)]
pub struct AttachFilesInput {
    /// A ticket the caller may see.
    pub ticket_id: Option<ID>,
    /// A comment: the caller's own, or any the desk may see. Files on an internal note
    /// are internal.
    pub comment_id: Option<ID>,
    /// A knowledge article. Agents.
    pub article_id: Option<ID>,
    /// One to ten files, sent as the GraphQL multipart request specification says.
    pub files: Vec<Upload>,
}

/// What `attachFiles` returns.
#[derive(SimpleObject)]
pub struct AttachFilesPayload {
    /// The files as attached, in the order sent.
    pub attachments: Vec<Attachment>,
}

/// What `removeAttachment` takes.
#[derive(InputObject)]
pub struct RemoveAttachmentInput {
    /// The attachment.
    pub id: ID,
}

/// What `removeAttachment` returns.
#[derive(SimpleObject)]
pub struct RemoveAttachmentPayload {
    /// The id of the attachment that was removed.
    pub removed_id: ID,
}

#[derive(Default)]
pub struct AttachmentMutation;

#[Object]
impl AttachmentMutation {
    /// Attaches files to a ticket, a comment or an article, in one step: all of them or
    /// none. Each is in the ticket's (or article's) history.
    async fn attach_files(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: AttachFilesInput,
    ) -> AppResult<AttachFilesPayload> {
        let target = target_of(&input)?;
        if input.files.is_empty() {
            return Err(AppError::bad_input("files", "send at least one file"));
        }
        let incoming = spool(ctx, input.files).await?;
        let on = acting(ctx);
        let made = attachments::attach(
            on.db,
            &on.files.store,
            on.files.limits,
            on.caller,
            on.now,
            target,
            incoming,
        )
        .await?;
        Ok(AttachFilesPayload {
            attachments: made.into_iter().map(Attachment).collect(),
        })
    }

    /// Removes a file: its uploader may, and the desk. Its bytes go when nothing else
    /// refers to them.
    async fn remove_attachment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: RemoveAttachmentInput,
    ) -> AppResult<RemoveAttachmentPayload> {
        let id = ids::decode_as(&input.id, "Attachment", "id")?;
        let on = acting(ctx);
        let row = attachments::remove(on.db, &on.files.store, on.caller, on.now, id).await?;
        Ok(RemoveAttachmentPayload {
            removed_id: ids::encode("Attachment", row.id),
        })
    }
}

fn target_of(input: &AttachFilesInput) -> AppResult<Target> {
    let given = [&input.ticket_id, &input.comment_id, &input.article_id]
        .iter()
        .filter(|id| id.is_some())
        .count();
    if given != 1 {
        return Err(AppError::bad_input(
            "ticketId",
            "give exactly one of ticketId, commentId and articleId",
        ));
    }
    Ok(if let Some(id) = &input.ticket_id {
        Target::Ticket(ids::decode_as(id, "Ticket", "ticketId")?)
    } else if let Some(id) = &input.comment_id {
        Target::Comment(ids::decode_as(id, "Comment", "commentId")?)
    } else {
        let id = input
            .article_id
            .as_ref()
            .expect("one of the three is given");
        Target::Article(ids::decode_as(id, "Article", "articleId")?)
    })
}
