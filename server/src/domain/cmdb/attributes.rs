//! A class's attribute definitions and the checking of a CI's attribute values against
//! them. Pure: references to other CIs are returned for the caller to look up.

use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};

/// The kind of value an attribute of a class holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttributeKind {
    String,
    Number,
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of the definition's choices.
    Enum,
    /// Another configuration item, by its external key.
    Reference,
    /// A capacity measure (CPU, disk, licences, seats, bandwidth): a number in `unit`,
    /// with a `threshold` it should stay under. Its values are recorded over time
    /// (alerts and the API send them) and forecast; an item may also give it directly.
    Measure,
}

/// One attribute a class gives its items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDefinition {
    pub name: String,
    pub kind: AttributeKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// References: the class the referenced item must have, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_class_id: Option<i64>,
    /// Measures: the unit of its values ("%", "GB", "seats").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Measures: the value it should stay under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

/// A reference attribute's value, for the caller to resolve.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    pub attribute: String,
    pub external_key: String,
    pub class_id: Option<i64>,
}

/// Checks a class's definitions before they are saved.
pub fn check_definitions(definitions: &[AttributeDefinition]) -> AppResult<()> {
    let identifier = Regex::new("^[A-Za-z][A-Za-z0-9_]{0,62}$").expect("a valid pattern");
    for (i, definition) in definitions.iter().enumerate() {
        let field = format!("attributes.{i}");
        if !identifier.is_match(&definition.name) {
            return Err(AppError::bad_input(
                &format!("{field}.name"),
                format!(
                    "'{}' is not an attribute name: start with a letter, then letters, digits or _",
                    definition.name
                ),
            ));
        }
        if definitions[..i].iter().any(|d| d.name == definition.name) {
            return Err(AppError::bad_input(
                &format!("{field}.name"),
                format!("'{}' is defined twice", definition.name),
            ));
        }
        if definition.kind == AttributeKind::Measure
            && (definition
                .unit
                .as_deref()
                .is_none_or(|u| u.trim().is_empty() || u.len() > 40)
                || !definition.threshold.is_some_and(f64::is_finite))
        {
            return Err(AppError::bad_input(
                &format!("{field}.threshold"),
                format!(
                    "MEASURE attribute '{}' needs its unit (up to 40 characters) and its threshold",
                    definition.name
                ),
            ));
        }
        if definition.kind == AttributeKind::Enum && definition.choices.is_empty() {
            return Err(AppError::bad_input(
                &format!("{field}.choices"),
                format!("ENUM attribute '{}' needs its choices", definition.name),
            ));
        }
    }
    Ok(())
}

/// Checks `values` against the class's definitions: every name defined, every value of
/// its kind, every required one present. Returns the values to store (nulls dropped)
/// and the references to resolve.
pub fn check_values(
    class_name: &str,
    definitions: &[AttributeDefinition],
    values: &Map<String, Value>,
) -> AppResult<(Map<String, Value>, Vec<Reference>)> {
    let mut stored = Map::new();
    let mut references = Vec::new();
    for (name, value) in values {
        let field = format!("attributes.{name}");
        let Some(definition) = definitions.iter().find(|d| &d.name == name) else {
            let known: Vec<&str> = definitions.iter().map(|d| d.name.as_str()).collect();
            return Err(AppError::bad_input(
                &field,
                format!(
                    "class '{class_name}' has no attribute '{name}'; its attributes are: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        };
        if value.is_null() {
            continue;
        }
        let wrong = |expected: &str| {
            AppError::bad_input(
                &field,
                format!("attribute '{name}' of class '{class_name}' takes {expected}, not {value}"),
            )
        };
        match definition.kind {
            AttributeKind::String if !value.is_string() => return Err(wrong("text")),
            AttributeKind::Number | AttributeKind::Measure
                if !value.as_f64().is_some_and(f64::is_finite) =>
            {
                return Err(wrong("a number"));
            }
            AttributeKind::Boolean if !value.is_boolean() => return Err(wrong("true or false")),
            AttributeKind::Date
                if !value
                    .as_str()
                    .is_some_and(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()) =>
            {
                return Err(wrong("a date written YYYY-MM-DD"));
            }
            AttributeKind::Enum
                if !value
                    .as_str()
                    .is_some_and(|s| definition.choices.iter().any(|c| c == s)) =>
            {
                return Err(wrong(&format!("one of {}", definition.choices.join(", "))));
            }
            AttributeKind::Reference => match value.as_str().map(str::trim) {
                Some(key) if !key.is_empty() => references.push(Reference {
                    attribute: name.clone(),
                    external_key: key.to_string(),
                    class_id: definition.reference_class_id,
                }),
                _ => return Err(wrong("the external key of another configuration item")),
            },
            _ => {}
        }
        stored.insert(name.clone(), value.clone());
    }
    if let Some(missing) = definitions
        .iter()
        .find(|d| d.required && !stored.contains_key(&d.name))
    {
        return Err(AppError::bad_input(
            &format!("attributes.{}", missing.name),
            format!("class '{class_name}' requires attribute '{}'", missing.name),
        ));
    }
    Ok((stored, references))
}

/// A value as the filter index keeps it: text lower-cased, whole numbers without a
/// fraction, so that `cpus = "16"` finds 16 and 16.0 alike.
pub fn indexed_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim().to_lowercase(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            Some(f) => f.to_string(),
            None => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// How a filter's value is compared with `indexed_text`.
pub fn filter_text(value: &str) -> String {
    let value = value.trim();
    match value.parse::<f64>() {
        Ok(number) if number.is_finite() => indexed_text(&serde_json::json!(number)),
        _ => value.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn server_class() -> Vec<AttributeDefinition> {
        serde_json::from_value(json!([
            { "name": "hostname", "kind": "STRING", "required": true },
            { "name": "cpus", "kind": "NUMBER" },
            { "name": "virtual", "kind": "BOOLEAN" },
            { "name": "warrantyEnds", "kind": "DATE" },
            { "name": "tier", "kind": "ENUM", "choices": ["GOLD", "SILVER"] },
            { "name": "rack", "kind": "REFERENCE", "referenceClassId": 7 },
        ]))
        .unwrap()
    }

    fn check(values: Value) -> AppResult<(Map<String, Value>, Vec<Reference>)> {
        check_values("Server", &server_class(), values.as_object().unwrap())
    }

    fn refused_field(values: Value) -> (String, String) {
        match check(values) {
            Err(AppError::BadUserInput { field, message }) => (field, message),
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn values_of_their_kinds_are_kept_and_references_returned() {
        let (stored, references) = check(json!({
            "hostname": "db-01", "cpus": 16, "virtual": null, "warrantyEnds": "2027-03-31",
            "tier": "GOLD", "rack": "rack-7"
        }))
        .unwrap();
        assert_eq!(stored.len(), 5, "a null is no value");
        assert!(!stored.contains_key("virtual"));
        assert_eq!(
            references,
            vec![Reference {
                attribute: "rack".into(),
                external_key: "rack-7".into(),
                class_id: Some(7)
            }]
        );
    }

    #[test]
    fn a_wrong_type_is_refused_naming_the_attribute() {
        let (field, message) = refused_field(json!({ "hostname": "a", "cpus": "four" }));
        assert_eq!(field, "attributes.cpus");
        assert!(message.contains("a number"), "{message}");
        let (field, _) = refused_field(json!({ "hostname": "a", "warrantyEnds": "31/03/2027" }));
        assert_eq!(field, "attributes.warrantyEnds");
        let (field, message) = refused_field(json!({ "hostname": "a", "tier": "BRONZE" }));
        assert_eq!(field, "attributes.tier");
        assert!(message.contains("GOLD, SILVER"), "{message}");
    }

    #[test]
    fn an_unknown_attribute_is_refused_naming_it_and_the_known_ones() {
        let (field, message) = refused_field(json!({ "hostname": "a", "colour": "red" }));
        assert_eq!(field, "attributes.colour");
        assert!(message.contains("hostname, cpus"), "{message}");
    }

    #[test]
    fn a_required_attribute_must_be_there() {
        let (field, _) = refused_field(json!({ "cpus": 4 }));
        assert_eq!(field, "attributes.hostname");
    }

    #[test]
    fn the_filter_index_compares_numbers_and_text_loosely() {
        assert_eq!(indexed_text(&json!(16.0)), filter_text("16"));
        assert_eq!(indexed_text(&json!("Ubuntu")), filter_text(" ubuntu "));
        assert_eq!(indexed_text(&json!(true)), filter_text("true"));
    }

    #[test]
    fn definitions_need_names_and_enum_choices() {
        let twice: Vec<AttributeDefinition> = serde_json::from_value(json!([
            { "name": "a", "kind": "STRING" }, { "name": "a", "kind": "NUMBER" }
        ]))
        .unwrap();
        assert!(check_definitions(&twice).is_err());
        let no_choices: Vec<AttributeDefinition> =
            serde_json::from_value(json!([{ "name": "a", "kind": "ENUM" }])).unwrap();
        assert!(check_definitions(&no_choices).is_err());
        assert!(check_definitions(&server_class()).is_ok());
    }
}
