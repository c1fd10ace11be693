//! Files compiled into the binary and served as they are: the pages' scripts and styles,
//! so that GraphiQL and the live desk work on a machine with no internet access.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// One embedded file.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// The file of that name among `files`. They never change within a build, so browsers
/// may keep them for a day; `what` names the set in the 404.
pub fn serve(files: &[Asset], name: &str, what: &str) -> Response {
    match files.iter().find(|file| file.name == name) {
        Some(file) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(file.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            file.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, format!("no such {what} asset")).into_response(),
    }
}

pub const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";
