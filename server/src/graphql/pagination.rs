//! Relay cursor connections over keyset pagination: a cursor is the sort key of the
//! last row seen, never an offset, so pages stay stable while rows are added.

use async_graphql::connection::{Connection, Edge};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE_SIZE: i32 = 20;
pub const MAX_PAGE_SIZE: i32 = 100;

pub struct Page {
    pub after_id: Option<i64>,
    pub size: u64,
}

pub fn page(first: Option<i32>, after: Option<String>) -> AppResult<Page> {
    let size = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(0..=MAX_PAGE_SIZE).contains(&size) {
        return Err(AppError::bad_input(
            "first",
            format!("ask for 0 to {MAX_PAGE_SIZE} items at a time, not {size}"),
        ));
    }
    let after_id = after.map(|cursor| decode_cursor(&cursor)).transpose()?;
    Ok(Page {
        after_id,
        size: size as u64,
    })
}

pub fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("k:{id}"))
}

fn decode_cursor(cursor: &str) -> AppResult<i64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.strip_prefix("k:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| {
            AppError::bad_input(
                "after",
                "not a cursor from this list: pass an endCursor you were given",
            )
        })
}

/// Builds a connection from up to `page.size + 1` rows (the extra one tells whether
/// there is a next page).
pub fn connection<Row, Node: async_graphql::OutputType>(
    page: &Page,
    mut rows: Vec<Row>,
    id_of: impl Fn(&Row) -> i64,
    to_node: impl Fn(Row) -> Node,
) -> Connection<String, Node> {
    let has_next = rows.len() as u64 > page.size;
    rows.truncate(page.size as usize);
    let mut connection = Connection::new(page.after_id.is_some(), has_next);
    connection.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(encode_cursor(id_of(&row)), to_node(row))),
    );
    connection
}
