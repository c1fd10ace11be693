//! A property-based fuzzer of the whole schema, generated from the server's own
//! introspection: every query and mutation field, with arguments generated well-formed
//! and malformed (wrong types, empty and enormous strings, NUL bytes, ids of other types,
//! extreme numbers, unknown enum values), sent as each of the callers given. Whatever it
//! sends, the server must answer below 500, never with `INTERNAL`, and with an
//! `extensions.code` on every error; [`run`] returns every answer that did not.
//!
//! The cases are drawn from a seed, so a failure names the seed, field and case that
//! reproduce it. The test suite runs two cases per field and caller
//! (`tests/tests/fuzz.rs`); the load generator runs as many as it is told against the
//! release server (`./bench.sh --fuzz CASES`).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::rng::Rng;

/// What a run sent, and every answer that broke the rules.
pub struct Outcome {
    pub sent: usize,
    pub failures: Vec<String>,
}

/// Sends `cases` generated operations per query and mutation field and caller to the
/// GraphQL endpoint at `url`. `callers` are (who, bearer token); the first must be an
/// admin, whose introspection the generator reads.
pub async fn run(
    http: &reqwest::Client,
    url: &str,
    callers: &[(&str, String)],
    cases: usize,
    seed: u64,
) -> Outcome {
    let introspection = http
        .post(url)
        .bearer_auth(&callers[0].1)
        .json(&json!({ "query": INTROSPECTION }))
        .send()
        .await
        .expect("the server answers introspection")
        .json::<Value>()
        .await
        .expect("introspection is JSON");
    let schema = Schema::of(&introspection["data"]);
    let mut rng = Rng(seed);
    let mut sent = 0;
    let mut failures = Vec::new();
    for (kind, root) in [("query", "Query"), ("mutation", "Mutation")] {
        for field in schema.fields(root) {
            for case in 0..cases {
                for (who, token) in callers {
                    let (query, variables) = operation(&schema, kind, &field, &mut rng);
                    let response = http
                        .post(url)
                        .bearer_auth(token)
                        .json(&json!({ "query": query, "variables": variables }))
                        .send()
                        .await;
                    sent += 1;
                    let what = format!("{} case {case} as {who}", field["name"]);
                    let Ok(response) = response else {
                        failures.push(format!("{what}: no answer: {query}"));
                        continue;
                    };
                    let status = response.status().as_u16();
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    let codes: Vec<Option<&str>> = body["errors"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|e| e["extensions"]["code"].as_str())
                        .collect();
                    if status >= 500
                        || codes.iter().any(|c| {
                            c.is_none()
                                || *c == Some("INTERNAL")
                                || *c == Some("INTERNAL_SERVER_ERROR")
                        })
                    {
                        failures.push(format!(
                            "{what}: status {status}, {}\n  {query}\n  variables {}",
                            body["errors"],
                            serde_json::to_string(&variables)
                                .unwrap()
                                .chars()
                                .take(400)
                                .collect::<String>()
                        ));
                    }
                }
            }
        }
    }
    Outcome { sent, failures }
}

const INTROSPECTION: &str = "{ __schema { queryType { name } mutationType { name }
  types { kind name
    fields { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } }
    enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

struct Schema {
    types: HashMap<String, Value>,
}

impl Schema {
    fn of(data: &Value) -> Schema {
        let types = data["__schema"]["types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["name"].as_str().unwrap().to_string(), t.clone()))
            .collect();
        Schema { types }
    }

    fn fields(&self, type_name: &str) -> Vec<Value> {
        self.types[type_name]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// A type reference as GraphQL writes it: `[ID!]!`.
fn written(t: &Value) -> String {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", written(&t["ofType"])),
        "LIST" => format!("[{}]", written(&t["ofType"])),
        _ => t["name"].as_str().unwrap().to_string(),
    }
}

/// Ids of every type the desk has, and ones that name nothing: what an `ID` may be.
fn an_id(rng: &mut Rng) -> Value {
    use base64::Engine;
    let types = [
        "Ticket",
        "User",
        "Group",
        "Organization",
        "Service",
        "Problem",
        "Change",
        "Article",
        "ConfigurationItem",
        "Release",
        "Supplier",
        "SlaPolicy",
        "Category",
        "Outage",
        "ContinuityPlan",
        "Attachment",
        "Alert",
        "Nothing",
    ];
    match rng.below(6) {
        0 => json!(""),
        1 => json!("not an id at all"),
        2 => json!("\u{0}"),
        _ => {
            let raw = format!(
                "{}:{}",
                types[rng.below(types.len())],
                rng.below(4) as i64 - 1
            );
            json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
        }
    }
}

fn a_string(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 => json!(""),
        1 => json!("   "),
        2 => json!("x".repeat(20_000)),
        3 => json!("nul \u{0} inside"),
        4 => json!("<script>alert(1)</script>"),
        5 => json!("2026-13-45"),
        6 => json!("https://example.com/doc.pdf"),
        7 => json!("ünïcødé ✓ 🚀"),
        _ => json!(format!("fuzz {}", rng.next_u64() % 1000)),
    }
}

/// A value for a type: mostly of the right shape, sometimes not (`wrong`).
fn value(schema: &Schema, t: &Value, rng: &mut Rng, depth: usize) -> Value {
    match t["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("a type reference without its kind: {t}"))
    {
        "NON_NULL" => value(schema, &t["ofType"], rng, depth),
        "LIST" => {
            let n = if depth > 3 { 0 } else { rng.below(3) };
            Value::Array(
                (0..n)
                    .map(|_| value(schema, &t["ofType"], rng, depth + 1))
                    .collect(),
            )
        }
        _ => {
            let name = t["name"].as_str().unwrap();
            if rng.chance(8) {
                // The wrong shape: the server must refuse it, not fall over.
                return [json!(null), json!(12), json!("x"), json!({}), json!([1])][rng.below(5)]
                    .clone();
            }
            match name {
                "ID" => an_id(rng),
                "String" => a_string(rng),
                "Int" => [
                    json!(0),
                    json!(1),
                    json!(-1),
                    json!(i32::MAX),
                    json!(i32::MIN),
                    json!(25),
                ][rng.below(6)]
                .clone(),
                "Float" => {
                    [json!(0.0), json!(99.9), json!(-1.5), json!(1e300)][rng.below(4)].clone()
                }
                "Boolean" => json!(rng.chance(50)),
                "DateTime" => [
                    json!("2026-12-03T10:00:00Z"),
                    json!("1900-01-01T00:00:00Z"),
                    json!("9999-12-31T23:59:59Z"),
                    json!("yesterday"),
                ][rng.below(4)]
                .clone(),
                "JSON" => [
                    json!({}),
                    json!([]),
                    json!({ "a": [1, { "b": null }] }),
                    json!("text"),
                ][rng.below(4)]
                .clone(),
                "Upload" => json!(null),
                _ => {
                    let described = &schema.types[name];
                    match described["kind"].as_str().unwrap() {
                        "ENUM" => {
                            let values = described["enumValues"].as_array().unwrap();
                            if rng.chance(10) {
                                json!("NOT_A_VALUE")
                            } else {
                                values[rng.below(values.len())]["name"].clone()
                            }
                        }
                        "INPUT_OBJECT" => {
                            let mut object = Map::new();
                            if depth < 4 {
                                for field in described["inputFields"].as_array().unwrap() {
                                    let required = field["type"]["kind"] == "NON_NULL";
                                    if required || rng.chance(50) {
                                        object.insert(
                                            field["name"].as_str().unwrap().into(),
                                            value(schema, &field["type"], rng, depth + 1),
                                        );
                                    }
                                }
                            }
                            Value::Object(object)
                        }
                        _ => a_string(rng),
                    }
                }
            }
        }
    }
}

/// The innermost named type of a reference.
fn named(t: &Value) -> &str {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" | "LIST" => named(&t["ofType"]),
        _ => t["name"].as_str().unwrap(),
    }
}

/// One operation calling `field`, its arguments in variables.
fn operation(schema: &Schema, kind: &str, field: &Value, rng: &mut Rng) -> (String, Value) {
    let name = field["name"].as_str().unwrap();
    let mut declared = Vec::new();
    let mut passed = Vec::new();
    let mut variables = Map::new();
    for (i, arg) in field["args"].as_array().unwrap().iter().enumerate() {
        let required = arg["type"]["kind"] == "NON_NULL";
        if !required && rng.chance(50) {
            continue;
        }
        declared.push(format!("$a{i}: {}", written(&arg["type"])));
        passed.push(format!("{}: $a{i}", arg["name"].as_str().unwrap()));
        variables.insert(format!("a{i}"), value(schema, &arg["type"], rng, 0));
    }
    let returns = named(&field["type"]);
    let selection = match schema
        .types
        .get(returns)
        .map(|t| t["kind"].as_str().unwrap())
    {
        Some("OBJECT" | "INTERFACE" | "UNION") => " { __typename }",
        _ => "",
    };
    let head = if declared.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}({})", declared.join(", "))
    };
    let call = if passed.is_empty() {
        name.to_string()
    } else {
        format!("{name}({})", passed.join(", "))
    };
    (
        format!("{head} {{ {call}{selection} }}"),
        Value::Object(variables),
    )
}
