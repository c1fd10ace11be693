//! Field errors as the GraphQL specification says: a field that fails is `null` beside
//! its error, and the `null` of a non-null field goes up to the nearest nullable field.
//!
//! async-graphql 7 drops a failed field from its parent instead (and answers
//! `"data": null` when that was the only field), so Relay and Apollo, which read
//! `data.node` as present and null, see a malformed response. The engine's result is
//! put right here, once, from the schema's field types and the document: the errors'
//! paths say which fields failed, and nothing is done for a response without any.

use std::collections::HashMap;

use async_graphql::{
    Name, PathSegment, Positioned, ServerError, Value,
    parser::types::{
        BaseType, DocumentOperations, ExecutableDocument, Field, OperationType, Selection,
        SelectionSet, Type, TypeKind, TypeSystemDefinition,
    },
};

/// The type of every field of every object and interface, read once from the schema.
pub struct FieldTypes {
    fields: HashMap<String, HashMap<String, Type>>,
    roots: [String; 3],
}

impl FieldTypes {
    pub fn from_sdl(sdl: &str) -> FieldTypes {
        let mut fields = HashMap::new();
        let mut roots = [
            "Query".to_string(),
            "Mutation".to_string(),
            "Subscription".to_string(),
        ];
        // The SDL is the schema's own export: it always parses.
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            return FieldTypes { fields, roots };
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    for (slot, name) in [schema.query, schema.mutation, schema.subscription]
                        .into_iter()
                        .enumerate()
                    {
                        if let Some(name) = name {
                            roots[slot] = name.node.to_string();
                        }
                    }
                }
                TypeSystemDefinition::Type(ty) => {
                    let ty = ty.node;
                    let list = match ty.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => interface.fields,
                        _ => continue,
                    };
                    let by_name = list
                        .into_iter()
                        .map(|f| (f.node.name.node.to_string(), f.node.ty.node))
                        .collect();
                    fields.insert(ty.name.node.to_string(), by_name);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        FieldTypes { fields, roots }
    }

    fn field(&self, parent: &str, name: &str) -> Option<&Type> {
        self.fields.get(parent)?.get(name)
    }
}

/// Puts `data` right for `errors`, given the document (its text) that ran.
pub fn propagate(
    data: &mut Value,
    errors: &[ServerError],
    query: &str,
    operation_name: Option<&str>,
    types: &FieldTypes,
) {
    if errors.iter().all(|e| e.path.is_empty()) {
        return;
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return;
    };
    let Some((root, selection)) = operation(&document, operation_name, types) else {
        return;
    };
    let walk = Walk {
        document: &document,
        types,
    };
    let mut targets: Vec<Target> = errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .filter_map(|e| walk.target(root, selection, &e.path))
        .collect();
    // Outer first, so that what an outer null covers is not written again inside it.
    targets.sort_by_key(|t| t.path.len());
    let mut done: Vec<Vec<PathSegment>> = Vec::new();
    for target in targets {
        if done.iter().any(|d| target.path.starts_with(d)) {
            continue;
        }
        if target.path.is_empty() {
            *data = Value::Null;
        } else {
            write_null(data, &target);
        }
        done.push(target.path);
    }
}

/// Where a `null` goes for one error, and the order of the keys around it.
struct Target {
    path: Vec<PathSegment>,
    /// The response keys the parent object's selection asks for, in order.
    siblings: Vec<Name>,
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    types: &'a FieldTypes,
}

impl<'a> Walk<'a> {
    /// The deepest nullable position on `path` (the root itself when there is none).
    fn target(
        &self,
        root: &str,
        selection: &'a SelectionSet,
        path: &[PathSegment],
    ) -> Option<Target> {
        let mut sets: Vec<(&'a SelectionSet, String)> = vec![(selection, root.to_string())];
        let mut current: Option<Type> = None;
        let mut best = Target {
            path: Vec::new(),
            siblings: Vec::new(),
        };
        for (depth, segment) in path.iter().enumerate() {
            let (nullable, siblings) = match segment {
                PathSegment::Field(key) => {
                    // The object's own type, or where a field came from a fragment, its
                    // type condition.
                    let mut found = Vec::new();
                    let mut keys = Vec::new();
                    for (set, parent) in &sets {
                        self.collect(set, parent, key, &mut found, &mut keys);
                    }
                    let (field, parent) = found.first()?;
                    let ty = self.types.field(parent, &field.node.name.node)?.clone();
                    let named = named(&ty).to_string();
                    sets = found
                        .iter()
                        .map(|(f, _)| (&f.node.selection_set.node, named.clone()))
                        .collect();
                    let nullable = ty.nullable;
                    current = Some(ty);
                    (nullable, keys)
                }
                PathSegment::Index(_) => {
                    let Some(BaseType::List(item)) = current.as_ref().map(|t| &t.base) else {
                        return None;
                    };
                    let item = (**item).clone();
                    let nullable = item.nullable;
                    current = Some(item);
                    (nullable, Vec::new())
                }
            };
            if nullable {
                best = Target {
                    path: path[..=depth].to_vec(),
                    siblings,
                };
            }
        }
        Some(best)
    }

    /// The fields of `set` answering to `key`, with the type each is a field of, and
    /// every response key of the set in order.
    fn collect(
        &self,
        set: &'a SelectionSet,
        parent: &str,
        key: &str,
        found: &mut Vec<(&'a Positioned<Field>, String)>,
        keys: &mut Vec<Name>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let response_key = field.node.response_key().node.clone();
                    if response_key.as_str() == key {
                        found.push((field, parent.to_string()));
                    }
                    if !keys.contains(&response_key) {
                        keys.push(response_key);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let parent = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.to_string())
                        .unwrap_or_else(|| parent.to_string());
                    self.collect(&fragment.node.selection_set.node, &parent, key, found, keys);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        let parent = fragment.node.type_condition.node.on.node.to_string();
                        self.collect(&fragment.node.selection_set.node, &parent, key, found, keys);
                    }
                }
            }
        }
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(item) => named(item),
    }
}

/// The operation that ran: its root type and selection.
fn operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
    types: &'a FieldTypes,
) -> Option<(&'a str, &'a SelectionSet)> {
    let op = match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
        (DocumentOperations::Multiple(ops), None) => ops.values().next()?,
    };
    let root = match op.node.ty {
        OperationType::Query => &types.roots[0],
        OperationType::Mutation => &types.roots[1],
        OperationType::Subscription => &types.roots[2],
    };
    Some((root.as_str(), &op.node.selection_set.node))
}

/// Writes `null` at the target, creating the key (in its selection's place) where the
/// engine dropped it, and the objects on the way where the engine left `null` for an
/// object all of whose fields failed.
fn write_null(data: &mut Value, target: &Target) {
    let Some((last, way)) = target.path.split_last() else {
        return;
    };
    let mut at = data;
    for segment in way {
        at = match (segment, at) {
            (PathSegment::Field(key), at) => {
                if *at == Value::Null {
                    *at = Value::Object(Default::default());
                }
                let Value::Object(object) = at else { return };
                match object.get_mut(key.as_str()) {
                    Some(next) => next,
                    None => return,
                }
            }
            (PathSegment::Index(i), Value::List(items)) => match items.get_mut(*i) {
                Some(next) => next,
                None => return,
            },
            _ => return,
        };
    }
    match last {
        PathSegment::Field(key) => {
            if *at == Value::Null {
                *at = Value::Object(Default::default());
            }
            let Value::Object(object) = at else { return };
            let key = Name::new(key);
            if let Some(value) = object.get_mut(&key) {
                *value = Value::Null;
                return;
            }
            // Its place: after the keys that come before it in the selection.
            let rank = |k: &Name| target.siblings.iter().position(|s| s == k);
            let mine = rank(&key).unwrap_or(usize::MAX);
            let index = object
                .keys()
                .take_while(|k| rank(k).is_some_and(|r| r < mine))
                .count();
            object.shift_insert(index, key, Value::Null);
        }
        PathSegment::Index(i) => {
            if let Value::List(items) = at
                && let Some(item) = items.get_mut(*i)
            {
                *item = Value::Null;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SDL: &str = "
        type Query { node(id: ID!): Node viewer: Viewer! items: [Item!]! maybe: [Item] }
        interface Node { id: ID! }
        type Item implements Node { id: ID! name: String! note: String }
        type Viewer { name: String secret: String! }
    ";

    fn run(query: &str, data: serde_json::Value, paths: &[serde_json::Value]) -> serde_json::Value {
        let types = FieldTypes::from_sdl(SDL);
        let mut data = Value::from_json(data).unwrap();
        let errors: Vec<ServerError> = paths
            .iter()
            .map(|path| {
                let mut error = ServerError::new("failed", None);
                error.path = serde_json::from_value(path.clone()).unwrap();
                error
            })
            .collect();
        propagate(&mut data, &errors, query, None, &types);
        data.into_json().unwrap()
    }

    #[test]
    fn a_failed_nullable_field_is_present_and_null_in_its_place() {
        let query = "{ node(id: \"x\") { id } }";
        assert_eq!(
            run(query, json!(null), &[json!(["node"])]),
            json!({ "node": null })
        );
        let query = "{ node(id: \"x\") { id } viewer { name } }";
        let data = run(
            query,
            json!({ "viewer": { "name": "a" } }),
            &[json!(["node"])],
        );
        assert_eq!(data, json!({ "node": null, "viewer": { "name": "a" } }));
        let keys: Vec<_> = data.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            ["node", "viewer"],
            "the key keeps its place in the selection"
        );
    }

    #[test]
    fn fields_of_fragments_and_aliases_are_found() {
        let query = "{ a: node(id: \"x\") { ... on Item { note } id } } ";
        let data = run(
            query,
            json!({ "a": { "id": "1" } }),
            &[json!(["a", "note"])],
        );
        assert_eq!(data, json!({ "a": { "note": null, "id": "1" } }));
        let query = "query { viewer { ...V } } fragment V on Viewer { name }";
        // An object all of whose fields failed comes back as null from the engine.
        let data = run(
            query,
            json!({ "viewer": null }),
            &[json!(["viewer", "name"])],
        );
        assert_eq!(data, json!({ "viewer": { "name": null } }));
    }

    #[test]
    fn a_failed_non_null_field_nulls_the_nearest_nullable_parent() {
        let query = "{ maybe { id name } }";
        let data = run(
            query,
            json!({ "maybe": [{ "id": "1", "name": "a" }, { "id": "2" }] }),
            &[json!(["maybe", 1, "name"])],
        );
        assert_eq!(data, json!({ "maybe": [{ "id": "1", "name": "a" }, null] }));
        // Nothing nullable on the way: the whole of data is null.
        let query = "{ items { id name } }";
        let data = run(
            query,
            json!({ "items": [{ "id": "1" }] }),
            &[json!(["items", 0, "name"])],
        );
        assert_eq!(data, json!(null));
        let query = "{ viewer { secret } node(id: \"x\") { id } }";
        let data = run(
            query,
            json!({ "node": { "id": "1" } }),
            &[json!(["viewer", "secret"])],
        );
        assert_eq!(data, json!(null));
    }

    #[test]
    fn an_inner_error_under_a_nulled_field_changes_nothing_more() {
        let query = "{ node(id: \"x\") { ... on Item { name } } viewer { name } }";
        let data = run(
            query,
            json!({ "viewer": { "name": "v" } }),
            &[json!(["node", "name"]), json!(["node"])],
        );
        assert_eq!(data, json!({ "node": null, "viewer": { "name": "v" } }));
    }
}
