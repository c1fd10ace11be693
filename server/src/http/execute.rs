//! What HTTP and WebSocket share: checks before the schema runs, the caller attached,
//! and every error mapped once to what the client sees.

use async_graphql::{
    Request, Response, ServerError, Value,
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
    },
};

use crate::{
    config::Limits,
    error::{Stage, edge_error, to_client_error},
};

/// A request that parsed, names an operation that exists and stays within the limits
/// the schema does not check itself.
pub struct Prepared {
    pub request: Request,
    pub operation: OperationType,
}

pub fn prepare(
    mut request: Request,
    limits: &Limits,
    request_id: &str,
) -> Result<Prepared, ServerError> {
    let operation_name = request.operation_name.clone();
    let doc = request.parsed_query().map_err(|error| {
        edge_error(
            format!("The query does not parse: {}", error.message),
            "GRAPHQL_PARSE_FAILED",
            request_id,
        )
    })?;
    let operation = select_operation(doc, operation_name.as_deref())
        .map_err(|message| edge_error(message, "GRAPHQL_VALIDATION_FAILED", request_id))?;
    let aliases = count_aliases(doc);
    if aliases > limits.max_aliases {
        return Err(edge_error(
            format!(
                "The query uses {aliases} aliases; the limit is {} (SWITCHBOARD_MAX_ALIASES)",
                limits.max_aliases
            ),
            "GRAPHQL_VALIDATION_FAILED",
            request_id,
        ));
    }
    Ok(Prepared { request, operation })
}

/// Maps the response's errors for the client. Returns whether it is a request error
/// (nothing executed: the document does not fit the schema or its limits).
pub fn finish(mut response: Response, limits: &Limits, request_id: &str) -> (Response, bool) {
    let request_error = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|mut error| {
            let stage = if error.path.is_empty() {
                Stage::Validation
            } else {
                Stage::Execution
            };
            error.message = explain_limit(&error.message, limits).unwrap_or(error.message);
            to_client_error(error, stage, request_id)
        })
        .collect();
    (response, request_error)
}

fn explain_limit(message: &str, limits: &Limits) -> Option<String> {
    match message {
        "Query is nested too deep." => Some(format!(
            "The query is nested too deep: the limit is {} levels (SWITCHBOARD_MAX_DEPTH)",
            limits.max_depth
        )),
        "Query is too complex." => Some(format!(
            "The query is too complex: the limit is {} (SWITCHBOARD_MAX_COMPLEXITY); ask for fewer fields or smaller pages",
            limits.max_complexity
        )),
        _ => None,
    }
}

fn select_operation(doc: &ExecutableDocument, name: Option<&str>) -> Result<OperationType, String> {
    match (&doc.operations, name) {
        // An anonymous operation runs whatever operationName says, as async-graphql does.
        (DocumentOperations::Single(op), _) => Ok(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .get(name)
            .map(|op| op.node.ty)
            .ok_or_else(|| format!("The document has no operation named '{name}'")),
        (DocumentOperations::Multiple(_), None) => {
            Err("The document has several operations: name the one to run in operationName".into())
        }
    }
}

fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn in_set(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + in_set(&field.node.selection_set.node)
                }
                Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let operations: usize = doc
        .operations
        .iter()
        .map(|(_, op)| in_set(&op.node.selection_set.node))
        .sum();
    let fragments: usize = doc
        .fragments
        .values()
        .map(|f| in_set(&f.node.selection_set.node))
        .sum();
    operations + fragments
}
