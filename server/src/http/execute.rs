//! What HTTP and WebSocket share: checks before the schema runs, the caller attached,
//! and every error mapped once to what the client sees.

use async_graphql::{
    Request, Response, ServerError, Value,
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
    },
};

use super::nulls::FieldTypes;
use crate::{
    config::Limits,
    error::{AppError, Stage, app_error_to_client, edge_error, to_client_error},
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
    if let Some(depth) = too_deeply_nested(&request.query) {
        return Err(edge_error(
            format!(
                "The query nests brackets more than {MAX_NESTING} levels deep (found {depth}): no GraphQL operation needs that many; flatten the value or pass it in variables"
            ),
            "GRAPHQL_PARSE_FAILED",
            request_id,
        ));
    }
    // PostgreSQL stores no NUL in text, and no text in the desk needs one: refused
    // here, once, naming the field, rather than failing deep in whichever write or
    // lookup meets it.
    if let Some(field) = request
        .variables
        .iter()
        .find_map(|(name, value)| nul_field(name.as_str(), value))
    {
        return Err(app_error_to_client(
            AppError::bad_input(
                field.clone(),
                format!(
                    "{field} holds the NUL character (U+0000), which no text in the desk may contain: remove it"
                ),
            ),
            request_id,
        ));
    }
    // GraphQL writes an escaped NUL only as `\u0000` (a lowercase `u`, four digits).
    if request.query.contains('\0') || request.query.contains("\\u0000") {
        return Err(edge_error(
            "The query holds the NUL character (U+0000), which no text in the desk may contain: remove it",
            "BAD_USER_INPUT",
            request_id,
        ));
    }
    let doc = request.parsed_query().map_err(|error| {
        edge_error(
            format!("The query does not parse: {}", error.message),
            "GRAPHQL_PARSE_FAILED",
            request_id,
        )
    })?;
    let operation = select_operation(doc, operation_name.as_deref())
        .map_err(|message| edge_error(message, "GRAPHQL_VALIDATION_FAILED", request_id))?;
    // A document with one named operation runs it when no operationName is sent, as
    // the GraphQL-over-HTTP spec says (Relay and codegen send only the query);
    // async-graphql keeps such a document as "several" and would refuse it.
    let only_name = match (&doc.operations, &operation_name) {
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.keys().next().map(|name| name.to_string())
        }
        _ => None,
    };

    let depth = selection_depth(doc);
    if depth > limits.max_depth {
        return Err(edge_error(
            format!(
                "The query is nested too deep: {depth} levels, the limit is {} (SWITCHBOARD_MAX_DEPTH)",
                limits.max_depth
            ),
            "GRAPHQL_VALIDATION_FAILED",
            request_id,
        ));
    }
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
    if only_name.is_some() {
        request.operation_name = only_name;
    }
    Ok(Prepared { request, operation })
}

/// The field (the innermost input field, or the variable) whose text holds a NUL.
fn nul_field(name: &str, value: &Value) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(|| name.to_string()),
        Value::List(items) => items.iter().find_map(|item| nul_field(name, item)),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(key, item)| nul_field(key.as_str(), item)),
        _ => None,
    }
}

/// Notes the operation in the request's log line. A client names its operations, so
/// the name is cut short: a log line is no place for a megabyte.
pub fn record_operation(span: &tracing::Span, prepared: &Prepared) {
    let kind = match prepared.operation {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    span.record("operation_type", kind);
    let name = prepared
        .request
        .operation_name
        .as_ref()
        .map(|name| name.chars().take(100).collect::<String>());
    if let Some(name) = &name {
        span.record("operation_name", name.as_str());
    }
    super::observe::operation(kind, name.as_deref());
}

/// The errors' codes (`extensions.code`), one per error.
pub fn error_codes(errors: &[ServerError]) -> Vec<String> {
    errors
        .iter()
        .filter_map(|e| match e.extensions.as_ref()?.get("code")? {
            Value::String(code) => Some(code.clone()),
            _ => None,
        })
        .collect()
}

/// Notes the errors' codes in the request's log line (once each) and its metrics.
pub fn record_errors(span: &tracing::Span, errors: &[ServerError]) {
    let codes = error_codes(errors);
    super::observe::errors(&codes);
    let mut distinct = codes;
    distinct.sort();
    distinct.dedup();
    if !distinct.is_empty() {
        span.record("error_codes", distinct.join(",").as_str());
    }
}

/// The document that ran, for putting its response right (`nulls`).
pub struct Ran<'a> {
    pub query: &'a str,
    pub operation_name: Option<&'a str>,
    pub types: &'a FieldTypes,
}

/// Maps the response's errors for the client, and puts failed fields' nulls where the
/// specification says. Returns whether it is a request error (nothing executed: the
/// document does not fit the schema or its limits).
pub fn finish(
    mut response: Response,
    ran: &Ran<'_>,
    limits: &Limits,
    request_id: &str,
) -> (Response, bool) {
    super::nulls::propagate(
        &mut response.data,
        &response.errors,
        ran.query,
        ran.operation_name,
        ran.types,
    );
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
        "Query is too complex." => Some(format!(
            "The query is too complex: the limit is {} (SWITCHBOARD_MAX_COMPLEXITY); ask for fewer fields or smaller pages",
            limits.max_complexity
        )),
        _ => None,
    }
}

fn select_operation(doc: &ExecutableDocument, name: Option<&str>) -> Result<OperationType, String> {
    crate::graphql::chosen_operation(doc, name).map(|op| op.ty)
}

/// The deepest nesting of `{`, `[` and `(` any document may have. The parser recurses
/// once per level of a value or selection, and a few thousand levels overflow a
/// thread's stack and abort the whole process, before authentication. Selection depth
/// is limited separately (SWITCHBOARD_MAX_DEPTH); the standard introspection query
/// nests about a dozen levels.
pub const MAX_NESTING: usize = 64;

/// Scans the document's text before it is parsed: the depth of brackets outside
/// strings and comments, if it goes beyond [`MAX_NESTING`]. Linear, no recursion.
fn too_deeply_nested(query: &str) -> Option<usize> {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // A block string ends at the next unescaped """.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_NESTING {
                    return Some(deepest);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// How deeply the operations nest fields, fragments inlined, as async-graphql counts
/// it, except that an introspection field (`__schema`, `__type`) counts as one level
/// whatever it holds: GraphiQL's and codegen's standard introspection query nests
/// `ofType` a dozen levels and must run under the default limit. What introspection may
/// cost is still bounded by [`MAX_NESTING`] and the complexity limit.
fn selection_depth(doc: &ExecutableDocument) -> usize {
    fn in_set<'a>(
        set: &'a SelectionSet,
        doc: &'a ExecutableDocument,
        spreading: &mut Vec<&'a str>,
    ) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) if field.node.name.node.starts_with("__") => 1,
                Selection::Field(field) => {
                    1 + in_set(&field.node.selection_set.node, doc, spreading)
                }
                Selection::InlineFragment(fragment) => {
                    in_set(&fragment.node.selection_set.node, doc, spreading)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    // A cycle is refused by validation later; here it ends the walk.
                    if spreading.contains(&name) {
                        return 0;
                    }
                    let Some(fragment) = doc.fragments.get(name) else {
                        return 0;
                    };
                    spreading.push(name);
                    let depth = in_set(&fragment.node.selection_set.node, doc, spreading);
                    spreading.pop();
                    depth
                }
            })
            .max()
            .unwrap_or(0)
    }
    doc.operations
        .iter()
        .map(|(_, op)| in_set(&op.node.selection_set.node, doc, &mut Vec::new()))
        .max()
        .unwrap_or(0)
}

/// Aliases in the operations, counting a fragment's aliases each time it is spread (a
/// fragment of 30 aliases spread ten times costs 300). Cycles, which validation refuses
/// later, count once.
fn count_aliases(doc: &ExecutableDocument) -> usize {
    use std::collections::HashMap;

    fn in_set<'a>(
        set: &'a SelectionSet,
        doc: &'a ExecutableDocument,
        fragments: &mut HashMap<&'a str, Option<usize>>,
    ) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => usize::from(field.node.alias.is_some())
                    .saturating_add(in_set(&field.node.selection_set.node, doc, fragments)),
                Selection::InlineFragment(fragment) => {
                    in_set(&fragment.node.selection_set.node, doc, fragments)
                }
                Selection::FragmentSpread(spread) => {
                    in_fragment(spread.node.fragment_name.node.as_str(), doc, fragments)
                }
            })
            .fold(0, usize::saturating_add)
    }

    fn in_fragment<'a>(
        name: &'a str,
        doc: &'a ExecutableDocument,
        fragments: &mut HashMap<&'a str, Option<usize>>,
    ) -> usize {
        match fragments.get(name) {
            Some(Some(known)) => return *known,
            // Being counted further up: a cycle.
            Some(None) => return 0,
            None => {}
        }
        let Some((key, fragment)) = doc.fragments.get_key_value(name) else {
            return 0;
        };
        fragments.insert(key.as_str(), None);
        let count = in_set(&fragment.node.selection_set.node, doc, fragments);
        fragments.insert(key.as_str(), Some(count));
        count
    }

    let mut fragments = HashMap::new();
    doc.operations
        .iter()
        .map(|(_, op)| in_set(&op.node.selection_set.node, doc, &mut fragments))
        .fold(0, usize::saturating_add)
}

/// The response keys of the operation's root fields, in the order the document asks
/// for them, fragments spread where they stand; empty when there is only one.
pub fn root_keys(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Vec<async_graphql::Name> {
    fn collect(doc: &ExecutableDocument, set: &SelectionSet, keys: &mut Vec<async_graphql::Name>) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = &field.node.response_key().node;
                    if !keys.contains(key) {
                        keys.push(key.clone());
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                        collect(doc, &fragment.node.selection_set.node, keys);
                    }
                }
                Selection::InlineFragment(inline) => {
                    collect(doc, &inline.node.selection_set.node, keys);
                }
            }
        }
    }
    let mut keys = Vec::new();
    if let Ok(operation) = crate::graphql::chosen_operation(doc, operation_name) {
        collect(doc, &operation.selection_set.node, &mut keys);
    }
    if keys.len() < 2 {
        keys.clear();
    }
    keys
}

/// Puts the root fields of `data` in the order the document asked for them. The engine
/// resolves a query's root fields together and writes each as it finishes, so two
/// lists could come back in either order; the specification, and a client comparing
/// responses, expect the document's. (Below the root, the fields a page shows are ready
/// at once, and keep their order.)
pub fn in_selection_order(data: &mut Value, keys: &[async_graphql::Name]) {
    if keys.is_empty() {
        return;
    }
    if let Value::Object(fields) = data {
        fields.sort_by_cached_key(|key, _| keys.iter().position(|k| k == key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert_eq!(too_deeply_nested("{ viewer { id } }"), None);
        let deep = format!(
            "{{ viewer(x: {}1{}) {{ id }} }}",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(too_deeply_nested(&deep).is_some());
        let quoted = format!("{{ a(x: \"{}\") }} # {}", "[".repeat(500), "{".repeat(500));
        assert_eq!(too_deeply_nested(&quoted), None);
        let block = format!("{{ a(x: \"\"\"{}\\\"\"\"\"\"\") }}", "(".repeat(500));
        assert_eq!(too_deeply_nested(&block), None);
    }

    #[test]
    fn depth_counts_fields_through_fragments_but_not_introspection() {
        let depth = |q: &str| selection_depth(&async_graphql::parser::parse_query(q).unwrap());
        assert_eq!(depth("{ viewer { id } }"), 2);
        assert_eq!(depth("{ a { ...F } } fragment F on T { b { c } }"), 3);
        assert_eq!(
            depth("{ __schema { types { fields { type { ofType { name } } } } } }"),
            1
        );
        assert_eq!(depth("{ a { ...F } } fragment F on T { ...F b }"), 2);
    }

    #[test]
    fn aliases_count_each_time_their_fragment_is_spread() {
        let doc = async_graphql::parser::parse_query(
            "query { ...F ...F ...F } fragment F on Query { a: x b: y ...G } fragment G on Query { c: z ...F }",
        )
        .unwrap();
        // F holds 2 aliases and G's 1 (its spread back to F is a cycle): 3, three times.
        assert_eq!(count_aliases(&doc), 9);
    }
}
