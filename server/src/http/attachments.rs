//! Attachments over plain HTTP: downloads (by a signed link, or with a token) and the
//! upload partner systems and scripts use, `POST /attachments?ticket=…&filename=…`
//! with the file as the body, which is simpler for them than a multipart form.
//!
//! Every download is served so that no uploaded file runs in the desk's origin: images
//! told by their bytes are shown in place, everything else is a download
//! (`Content-Disposition: attachment`, `application/octet-stream`), with
//! `X-Content-Type-Options: nosniff` and a CSP that sandboxes the response and allows
//! nothing to load or run.

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use entity::attachment;
use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::json;

use super::{Server, request_id_of};
use crate::{
    domain::attachments::{self, Incoming, Target, sniff},
    error::{AppError, app_error_to_client},
    graphql::ids,
};

/// Nothing loads, nothing runs, no form submits, no plugin: what a file may do in a
/// browser that opens it.
const SANDBOX: &str =
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

/// A signed link's query.
#[derive(Deserialize)]
pub struct Signed {
    expires: Option<i64>,
    signature: Option<String>,
}

/// `GET /attachments/{id}/{name}` (the name is for the browser's sake) or
/// `GET /attachments/{id}`: by a signed link, or with `Authorization: Bearer`.
pub async fn download_named(
    server: State<Server>,
    Path((id, _name)): Path<(String, String)>,
    signed: Query<Signed>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    download_inner(server, id, signed.0, headers, request).await
}

pub async fn download(
    server: State<Server>,
    Path(id): Path<String>,
    signed: Query<Signed>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    download_inner(server, id, signed.0, headers, request).await
}

async fn download_inner(
    State(server): State<Server>,
    id: String,
    signed: Signed,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let request_id = request_id_of(request.extensions());
    let found = find(&server, &id, signed, &headers).await;
    let row = match found {
        Ok(row) => row,
        Err(error) => return refusal(error, &request_id),
    };
    let stream = server.state.files.store.read(&server.state.db, &row.sha256);
    let image = sniff::is_image(&row.media_type);
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if image { "inline" } else { "attachment" },
        row.filename
            .replace(|c: char| !c.is_ascii() || c == '\\', "_"),
        percent_encoding::utf8_percent_encode(&row.filename, percent_encoding::NON_ALPHANUMERIC)
    );
    let mut response = Body::from_stream(stream).into_response();
    let set = response.headers_mut();
    set.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&row.media_type)
            .unwrap_or(HeaderValue::from_static(sniff::OCTET_STREAM)),
    );
    set.insert(header::CONTENT_LENGTH, HeaderValue::from(row.size as u64));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        set.insert(header::CONTENT_DISPOSITION, value);
    }
    set.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SANDBOX),
    );
    set.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    set.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=900"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", row.sha256)) {
        set.insert(header::ETAG, etag);
    }
    response
}

/// The attachment a download names, if this request may have it: a valid signed link,
/// or a caller who may see what it is on.
async fn find(
    server: &Server,
    id: &str,
    signed: Signed,
    headers: &HeaderMap,
) -> Result<attachment::Model, AppError> {
    let id = ids::decode_as(&async_graphql::ID::from(id), "Attachment", "id")?;
    let state = &server.state;
    if let (Some(expires), Some(signature)) = (signed.expires, signed.signature.as_deref()) {
        if !state
            .files
            .signer
            .verify(id, expires, signature, state.clock.now())
        {
            return Err(AppError::Forbidden(
                "this link has expired or is not one the desk made: ask for the file again".into(),
            ));
        }
        return attachment::Entity::find_by_id(id)
            .one(state.db.conn())
            .await?
            .ok_or_else(|| AppError::NotFound("the file has been removed".into()));
    }
    let caller = state
        .auth
        .authenticate(
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
        )
        .await?;
    attachments::downloadable(state.db.conn(), &caller, id).await
}

use sea_orm::EntityTrait;

/// What a plain upload names: exactly one of the three, and the file's name.
#[derive(Deserialize)]
pub struct Destination {
    ticket: Option<String>,
    comment: Option<String>,
    article: Option<String>,
    filename: Option<String>,
}

/// `POST /attachments?ticket=<id>&filename=<name>`, the file as the body, with
/// `Authorization: Bearer`: answers 201 with the attachment as JSON.
pub async fn upload(
    State(server): State<Server>,
    Query(destination): Query<Destination>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let request_id = request_id_of(request.extensions());
    let state = &server.state;
    let caller = match state
        .auth
        .authenticate(
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
        )
        .await
    {
        Ok(caller) => caller,
        Err(error) => return refusal(error, &request_id),
    };
    let target = match target_of(&destination) {
        Ok(target) => target,
        Err(error) => return refusal(error, &request_id),
    };
    if matches!(caller, crate::auth::Caller::Anonymous) {
        return refusal(crate::auth::not_signed_in(), &request_id);
    }
    let body = request
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    let mut reader = tokio_util::io::StreamReader::new(body);
    let limit = state.files.limits.per_file;
    let spooled = state.files.store.spool(&mut reader, limit, "body").await;
    let spooled = match spooled {
        Ok(spooled) => spooled,
        Err(error) => {
            drain(&mut reader, limit).await;
            return refusal(error, &request_id);
        }
    };
    let filename = destination.filename.unwrap_or_else(|| "file".into());
    let made = attachments::attach(
        &state.db,
        &state.files.store,
        state.files.limits,
        &caller,
        state.clock.now(),
        target,
        vec![Incoming { filename, spooled }],
    )
    .await;
    match made.map(|mut rows| rows.pop()) {
        Ok(Some(row)) => {
            let (expires, signature) = state.files.signer.sign(row.id, state.clock.now());
            let id = ids::encode("Attachment", row.id);
            let url = format!(
                "{}/attachments/{}/{}?expires={expires}&signature={signature}",
                state.config.public_url.as_deref().unwrap_or(""),
                id.as_str(),
                percent_encoding::utf8_percent_encode(
                    &row.filename,
                    percent_encoding::NON_ALPHANUMERIC
                ),
            );
            let body = json!({ "attachment": {
                "id": id.as_str(),
                "filename": row.filename,
                "size": row.size,
                "mediaType": row.media_type,
                "sha256": row.sha256,
                "url": url,
            }});
            (StatusCode::CREATED, axum::Json(body)).into_response()
        }
        Ok(None) => refusal(
            AppError::Internal("no attachment was made".into()),
            &request_id,
        ),
        Err(error) => refusal(error, &request_id),
    }
}

/// Reads and drops what is left of a refused upload's body (up to four times the
/// limit), so that the client, still sending, reads the refusal instead of a broken
/// connection. Past that the connection is closed.
pub(super) async fn drain(body: &mut (impl tokio::io::AsyncRead + Unpin), limit: u64) {
    let mut rest = tokio::io::AsyncReadExt::take(body, limit.saturating_mul(4));
    let _ = tokio::io::copy(&mut rest, &mut tokio::io::sink()).await;
}

fn target_of(destination: &Destination) -> Result<Target, AppError> {
    let decode = |id: &str, type_name: &str, field: &str| {
        ids::decode_as(&async_graphql::ID::from(id), type_name, field)
    };
    match (
        destination.ticket.as_deref(),
        destination.comment.as_deref(),
        destination.article.as_deref(),
    ) {
        (Some(id), None, None) => Ok(Target::Ticket(decode(id, "Ticket", "ticket")?)),
        (None, Some(id), None) => Ok(Target::Comment(decode(id, "Comment", "comment")?)),
        (None, None, Some(id)) => Ok(Target::Article(decode(id, "Article", "article")?)),
        _ => Err(AppError::bad_input(
            "ticket",
            "name exactly one of ticket, comment and article in the query string",
        )),
    }
}

/// An error as JSON, `{"errors":[…]}` with `extensions.code`, and the status it means.
pub(super) fn refusal(error: AppError, request_id: &str) -> Response {
    let status = match &error {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::BadUserInput { message, .. } if message.contains("larger than") => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) | AppError::Taken { .. } | AppError::InvalidTransition { .. } => {
            StatusCode::CONFLICT
        }
        AppError::RateLimited(_) | AppError::FellBehind(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let error = app_error_to_client(error, request_id);
    (status, axum::Json(json!({ "errors": [error] }))).into_response()
}
