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

/// How long a browser may keep a file without asking again.
#[derive(Clone, Copy)]
pub enum Keep {
    /// A day: pinned third-party builds, which change only when they are upgraded.
    ADay,
    /// Not without asking: files written here, which change with the server, so that a
    /// page never runs last week's script against this week's API.
    Never,
}

/// The file of that name among `files`; `what` names the set in the 404.
pub fn serve(files: &[Asset], name: &str, what: &str, keep: Keep) -> Response {
    let cache_control = match keep {
        Keep::ADay => "public, max-age=86400",
        Keep::Never => "no-cache",
    };
    match files.iter().find(|file| file.name == name) {
        Some(file) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(file.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(cache_control),
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
