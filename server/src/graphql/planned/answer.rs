//! Answering a request with its plan: the arguments read as the resolvers read them,
//! each list read in one statement of the columns the plan wants, and the rows written
//! straight into the response.

use async_graphql::{InputType, Name, Value, Variables};
use sea_orm::QueryResult;

use crate::{
    auth::Caller,
    domain::{
        page::Window,
        positional::column,
        tickets::{
            partial,
            queries::{self, Sort, TicketFilter},
            visibility::Scope,
        },
    },
    error::{AppError, AppResult},
    graphql::{
        pagination::PageArgs,
        tickets::{TicketFilterInput, TicketOrder, TicketStatus},
    },
    state::AppState,
};

use super::{
    plan::{
        Connection, EdgeField, Leaf, List, Neighbour, Node, PageInfoField, Plan, Root, Source,
        TicketField,
    },
    write::Out,
};

/// Why a request goes the ordinary way after all: its variables do not coerce, it is
/// over the complexity limit, or something failed. The ordinary path then gives the
/// error it always gives, in its own words.
#[derive(Debug)]
pub struct Fallback(pub String);

impl From<AppError> for Fallback {
    fn from(error: AppError) -> Self {
        Fallback(error.to_string())
    }
}

/// One list's arguments, read.
struct Asked {
    filter: TicketFilter,
    sort: Sort,
    window: Window<String>,
}

/// The response to `plan` for `caller` with `variables`: `{"data":{…}}`.
pub async fn answer(
    plan: &Plan,
    variables: &Variables,
    caller: &Caller,
    state: &AppState,
) -> Result<Vec<u8>, Fallback> {
    let mut asked = Vec::new();
    let mut complexity = plan.fixed_complexity;
    for (_, root) in &plan.root {
        if let Root::List(list) = root {
            let (read, size) = arguments(plan, list, variables, caller)?;
            complexity += size * list.child_complexity;
            asked.push(read);
        }
    }
    if complexity > state.config.limits.max_complexity {
        return Err(Fallback(format!("complexity {complexity} over the limit")));
    }
    let conn = state.db.conn();
    let scope = if asked.is_empty() {
        None
    } else {
        Some(Scope::of(conn, caller).await?)
    };
    let mut pages = Vec::with_capacity(asked.len());
    for read in &asked {
        let scope = scope.as_ref().expect("read when a list is asked for");
        let rows = partial::page(
            conn,
            scope,
            &read.filter,
            read.sort,
            &read.window,
            &plan.wanted,
        )
        .await?;
        pages.push(rows);
    }
    let mut out = Out::with_capacity(512 + pages.iter().map(Vec::len).sum::<usize>() * 256);
    out.open_object();
    out.key("data");
    out.open_object();
    let mut pages = pages.into_iter().zip(&asked);
    for (key, root) in &plan.root {
        out.key(key);
        match root {
            Root::Typename => out.name("Query"),
            Root::List(list) => {
                let (rows, read) = pages.next().expect("one page per list");
                connection(plan, list, rows, read, caller, &mut out)?;
            }
        }
    }
    out.close_object();
    out.close_object();
    Ok(out.into_bytes())
}

/// The list's arguments with the request's variables, coerced by the same input types
/// the resolver takes, and the page size the complexity rule counts.
fn arguments(
    plan: &Plan,
    list: &List,
    variables: &Variables,
    caller: &Caller,
) -> Result<(Asked, usize), Fallback> {
    let value = |name: &str| -> Result<Option<Value>, Fallback> {
        let Some(argument) = list.field.get_argument(name) else {
            return Ok(None);
        };
        // A variable the operation defines, given or with its default; the ordinary
        // path refuses any other, and so it answers that request.
        argument
            .node
            .clone()
            .into_const_with(|variable: Name| {
                plan.variables
                    .iter()
                    .find(|d| d.node.name.node == variable)
                    .and_then(|d| {
                        variables
                            .get(&variable)
                            .or_else(|| d.node.default_value())
                            .cloned()
                    })
                    .ok_or(())
            })
            .map(Some)
            .map_err(|()| Fallback(format!("a variable of {name} is not given")))
    };
    fn parse<T: InputType>(name: &str, value: Option<Value>) -> Result<T, Fallback> {
        T::parse(value).map_err(|_| Fallback(format!("{name} does not coerce")))
    }
    let first: Option<i32> = parse("first", value("first")?)?;
    let last: Option<i32> = parse("last", value("last")?)?;
    let after: Option<String> = parse("after", value("after")?)?;
    let before: Option<String> = parse("before", value("before")?)?;
    let order: Option<TicketOrder> = parse("orderBy", value("orderBy")?)?;
    let filter = match list.source {
        Source::Tickets => {
            let filter: Option<TicketFilterInput> = parse("filter", value("filter")?)?;
            filter.unwrap_or_default().into_domain()?
        }
        Source::Mine => {
            let statuses: Option<Vec<TicketStatus>> = parse("status", value("status")?)?;
            crate::graphql::tickets::mine(caller, statuses)?
        }
    };
    // As the field's complexity attribute counts it.
    let size = first.or(last).unwrap_or(20).max(0) as usize;
    let sort = order.unwrap_or_default().into_domain();
    let window = PageArgs::new(first, after, last, before).texts()?;
    Ok((
        Asked {
            filter,
            sort,
            window,
        },
        size,
    ))
}

/// Writes one list's connection, as `pagination::connection_with` builds it.
fn connection(
    plan: &Plan,
    list: &List,
    rows: Vec<QueryResult>,
    read: &Asked,
    caller: &Caller,
    out: &mut Out,
) -> AppResult<()> {
    let window = &read.window;
    let (rows, more) = window.settle(rows);
    let (has_previous, has_next) = if window.from_end {
        (more, window.before.is_some())
    } else {
        (window.after.is_some(), more)
    };
    let cursor = |row: &QueryResult| -> AppResult<String> {
        let [id, priority, updated_at] = plan.cursor_at;
        Ok(queries::cursor_at(
            column(row, id)?,
            column(row, priority)?,
            column(row, updated_at)?,
            read.sort,
        ))
    };
    out.open_object();
    for (key, field) in &list.connection {
        out.key(key);
        match field {
            Connection::Typename => out.name("TicketConnection"),
            Connection::Nodes(node) => {
                out.open_array();
                for row in &rows {
                    out.item();
                    ticket(plan, node, row, caller, out)?;
                }
                out.close_array();
            }
            Connection::Edges(edge) => {
                out.open_array();
                for row in &rows {
                    out.item();
                    out.open_object();
                    for (key, field) in edge {
                        out.key(key);
                        match field {
                            EdgeField::Typename => out.name("TicketEdge"),
                            EdgeField::Cursor => out.string(&cursor(row)?),
                            EdgeField::Node(node) => ticket(plan, node, row, caller, out)?,
                        }
                    }
                    out.close_object();
                }
                out.close_array();
            }
            Connection::PageInfo(info) => {
                out.open_object();
                for (key, field) in info {
                    out.key(key);
                    match field {
                        PageInfoField::Typename => out.name("PageInfo"),
                        PageInfoField::HasNextPage => out.boolean(has_next),
                        PageInfoField::HasPreviousPage => out.boolean(has_previous),
                        PageInfoField::StartCursor => match rows.first() {
                            Some(row) => out.string(&cursor(row)?),
                            None => out.null(),
                        },
                        PageInfoField::EndCursor => match rows.last() {
                            Some(row) => out.string(&cursor(row)?),
                            None => out.null(),
                        },
                    }
                }
                out.close_object();
            }
        }
    }
    out.close_object();
    Ok(())
}

/// Writes one ticket of a page.
fn ticket(
    plan: &Plan,
    node: &Node,
    row: &QueryResult,
    caller: &Caller,
    out: &mut Out,
) -> AppResult<()> {
    let offsets = &plan.offsets;
    out.open_object();
    for (key, field) in node {
        out.key(key);
        match field {
            TicketField::Typename => out.name("Ticket"),
            TicketField::Scalar(scalar, at) => scalar.write(row, *at, out)?,
            TicketField::Requester(person) | TicketField::Assignee(person) => {
                let start = if matches!(field, TicketField::Requester(_)) {
                    offsets.requester
                } else {
                    offsets.assignee
                };
                // The person's id decides what of them this caller may see.
                neighbour(row, start, "User", person, out, |id, f, at, out| {
                    f.write(row, at, id, caller, out)
                })?
            }
            TicketField::Group(group) => {
                neighbour(row, offsets.group, "Group", group, out, |_, f, at, out| {
                    f.write(row, at, out)
                })?
            }
            TicketField::Organization(organization) => neighbour(
                row,
                offsets.organization,
                "Organization",
                organization,
                out,
                |_, f, at, out| f.write(row, at, out),
            )?,
            TicketField::Category(category) => neighbour(
                row,
                offsets.category,
                "Category",
                category,
                out,
                |_, f, at, out| f.write(row, at, out),
            )?,
        }
    }
    out.close_object();
    Ok(())
}

/// Writes a neighbour whose columns start at `start`: null when the ticket has none.
/// `write` gets the neighbour's id, the field and its column.
fn neighbour<F: Copy>(
    row: &QueryResult,
    start: usize,
    type_name: &str,
    planned: &Neighbour<F>,
    out: &mut Out,
    write: impl Fn(i64, F, usize, &mut Out) -> AppResult<()>,
) -> AppResult<()> {
    let Some(id) = column::<Option<i64>>(row, start + planned.key_at)? else {
        out.null();
        return Ok(());
    };
    out.open_object();
    for (key, leaf) in &planned.leaves {
        out.key(key);
        match leaf {
            Leaf::Typename => out.name(type_name),
            Leaf::Field(field, at) => write(id, *field, start + at, out)?,
        }
    }
    out.close_object();
    Ok(())
}
