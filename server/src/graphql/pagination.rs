//! Relay cursor connections over keyset pagination: a cursor is the sort key of the
//! last row seen, never an offset, so pages stay stable while rows are added. Every
//! connection pages both ways: `first`/`after` from the start, `last`/`before` from the
//! end, the same rows in the same order either way.

use std::borrow::Cow;

use async_graphql::{
    ContextSelectionSet, OutputType, Positioned, ServerResult, Value,
    connection::{Connection, Edge},
    parser::types::Field,
    registry::{MetaType, Registry},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{
    domain::page::Window,
    error::{AppError, AppResult},
};

pub const DEFAULT_PAGE_SIZE: i32 = 20;
pub const MAX_PAGE_SIZE: i32 = 100;

/// The four Relay arguments of a connection field, as the client sent them.
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }

    /// The window for a list in id order, `DEFAULT_PAGE_SIZE` rows unless asked.
    pub fn keyed(self) -> AppResult<Window<i64>> {
        self.keyed_or(DEFAULT_PAGE_SIZE)
    }

    /// The window for a list in id order, `default` rows unless asked.
    pub fn keyed_or(self, default: i32) -> AppResult<Window<i64>> {
        let window = self.texts_or(default)?;
        Ok(Window {
            after: window
                .after
                .map(|cursor| decode_cursor(&cursor, "after"))
                .transpose()?,
            before: window
                .before
                .map(|cursor| decode_cursor(&cursor, "before"))
                .transpose()?,
            from_end: window.from_end,
            size: window.size,
        })
    }

    /// The window with its cursors as given, for lists whose cursors the domain reads.
    pub fn texts(self) -> AppResult<Window<String>> {
        self.texts_or(DEFAULT_PAGE_SIZE)
    }

    fn texts_or(self, default: i32) -> AppResult<Window<String>> {
        let (size, argument, from_end) = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_input(
                    "last",
                    "pass first (to page forward) or last (to page backward), not both",
                ));
            }
            (first, None) => (first.unwrap_or(default), "first", false),
            (None, Some(last)) => (last, "last", true),
        };
        if !(0..=MAX_PAGE_SIZE).contains(&size) {
            return Err(AppError::bad_input(
                argument,
                format!("ask for 0 to {MAX_PAGE_SIZE} items at a time, not {size}"),
            ));
        }
        Ok(Window {
            after: self.after,
            before: self.before,
            from_end,
            size: size as u64,
        })
    }
}

pub fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("k:{id}"))
}

fn decode_cursor(cursor: &str, argument: &str) -> AppResult<i64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.strip_prefix("k:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| {
            AppError::bad_input(
                argument,
                "not a cursor from this list: pass a startCursor or endCursor you were given",
            )
        })
}

/// A Relay connection of `Node`: async-graphql's own `Connection`, which leaves the
/// connection type undescribed, with a description added when it is registered (every
/// schema element is described for the person building a frontend).
pub struct Page<Node: OutputType>(pub Connection<String, Node>);

impl<Node: OutputType> OutputType for Page<Node> {
    fn type_name() -> Cow<'static, str> {
        Connection::<String, Node>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let qualified = Connection::<String, Node>::create_type_info(registry);
        let name = Self::type_name();
        if let Some(MetaType::Object { description, .. }) = registry.types.get_mut(name.as_ref())
            && description.is_none()
        {
            *description = Some(format!(
                "A page of {} in a Relay connection: `edges` with their cursors, or just \
                 `nodes`, and `pageInfo` to page forward (`first`/`after`) or backward \
                 (`last`/`before`).",
                Node::type_name()
            ));
        }
        qualified
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        self.0.resolve(ctx, field).await
    }
}

/// Builds a connection of a list in id order from the rows its window fetched.
pub fn connection<Row, Node: async_graphql::OutputType>(
    window: &Window<i64>,
    rows: Vec<Row>,
    id_of: impl Fn(&Row) -> i64,
    to_node: impl Fn(Row) -> Node,
) -> Page<Node> {
    connection_with(window, rows, |row| encode_cursor(id_of(row)), to_node)
}

/// Builds a connection from up to `window.fetch()` rows in fetch order; the extra row
/// only tells whether there is more on the side the page was read from.
pub fn connection_with<K, Row, Node: async_graphql::OutputType>(
    window: &Window<K>,
    rows: Vec<Row>,
    cursor_of: impl Fn(&Row) -> String,
    to_node: impl Fn(Row) -> Node,
) -> Page<Node> {
    let (rows, more) = window.settle(rows);
    let (has_previous, has_next) = if window.from_end {
        (more, window.before.is_some())
    } else {
        (window.after.is_some(), more)
    };
    let mut connection = Connection::new(has_previous, has_next);
    connection.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(cursor_of(&row), to_node(row))),
    );
    Page(connection)
}
