//! Catalog item forms: typed questions, and the validation of a requester's answers.

use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};

/// The kind of answer a form question takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VariableKind {
    Text,
    Number,
    Choice,
    MultiChoice,
    Date,
    Boolean,
    /// A person, by their User id.
    User,
}

/// Checked answers, and the (field, User id) pairs still to look up.
pub type Checked = (Map<String, Value>, Vec<(String, String)>);

/// One question of a form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    /// The key of the answer: letters, digits and underscores.
    pub name: String,
    pub label: String,
    pub kind: VariableKind,
    #[serde(default)]
    pub required: bool,
    /// Numbers: the smallest value; text: the fewest characters; multi-choice: the fewest picks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Text: a regular expression the whole answer must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Choice and multi-choice: the allowed values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// Checks a form an admin defines.
pub fn check_form(variables: &[Variable]) -> AppResult<()> {
    let bad = |message: String| Err(AppError::bad_input("variables", message));
    for (i, v) in variables.iter().enumerate() {
        let valid_name = !v.name.is_empty()
            && v.name.len() <= 50
            && v.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return bad(format!(
                "'{}' is not a variable name: use 1 to 50 letters, digits or underscores",
                v.name
            ));
        }
        if variables[..i].iter().any(|other| other.name == v.name) {
            return bad(format!("two variables are named '{}'", v.name));
        }
        if matches!(v.kind, VariableKind::Choice | VariableKind::MultiChoice)
            && v.choices.is_empty()
        {
            return bad(format!("'{}' is a choice: give its choices", v.name));
        }
        if let (Some(min), Some(max)) = (v.min, v.max)
            && min > max
        {
            return bad(format!("'{}' has a minimum above its maximum", v.name));
        }
        if let Some(pattern) = &v.pattern
            && Regex::new(pattern).is_err()
        {
            return bad(format!(
                "the pattern of '{}' is not a valid regular expression",
                v.name
            ));
        }
    }
    Ok(())
}

/// The answers, checked against the form: every required question answered, every
/// answer of the right type and within its limits, nothing the form does not ask.
/// Returns the answers to store and the User ids that must exist (with their field).
pub fn check_answers(variables: &[Variable], answers: &Map<String, Value>) -> AppResult<Checked> {
    if let Some(unknown) = answers
        .keys()
        .find(|k| !variables.iter().any(|v| &v.name == *k))
    {
        return Err(AppError::bad_input(
            format!("answers.{unknown}"),
            "the form has no such question",
        ));
    }
    let mut kept = Map::new();
    let mut users = Vec::new();
    for v in variables {
        let field = format!("answers.{}", v.name);
        let bad =
            |message: String| AppError::bad_input(field.clone(), format!("{}: {message}", v.label));
        let answer = answers
            .get(&v.name)
            .filter(|a| !a.is_null() && *a != &Value::String(String::new()));
        let Some(answer) = answer else {
            if v.required {
                return Err(bad("an answer is required".into()));
            }
            continue;
        };
        match v.kind {
            VariableKind::Text => {
                let text = answer.as_str().ok_or_else(|| bad("give text".into()))?;
                let chars = text.chars().count() as f64;
                if v.min.is_some_and(|min| chars < min)
                    || v.max.is_some_and(|max| chars > max)
                    || chars > 10_000.0
                {
                    return Err(bad(format!(
                        "give {} to {} characters",
                        v.min.unwrap_or(0.0),
                        v.max.unwrap_or(10_000.0)
                    )));
                }
                if let Some(pattern) = &v.pattern {
                    let whole = Regex::new(&format!("^(?:{pattern})$"))
                        .map_err(|_| bad("the form's pattern is broken".into()))?;
                    if !whole.is_match(text) {
                        return Err(bad(format!("'{text}' does not have the expected form")));
                    }
                }
            }
            VariableKind::Number => {
                let n = answer.as_f64().ok_or_else(|| bad("give a number".into()))?;
                if v.min.is_some_and(|min| n < min) || v.max.is_some_and(|max| n > max) {
                    let range = match (v.min, v.max) {
                        (Some(min), Some(max)) => format!("from {min} to {max}"),
                        (Some(min), None) => format!("of at least {min}"),
                        (None, Some(max)) => format!("of at most {max}"),
                        (None, None) => String::new(),
                    };
                    return Err(bad(format!(
                        "{n} is outside the allowed range: give a number {range}"
                    )));
                }
            }
            VariableKind::Choice => {
                let choice = answer
                    .as_str()
                    .ok_or_else(|| bad("pick one of the choices".into()))?;
                if !v.choices.iter().any(|c| c == choice) {
                    return Err(bad(format!(
                        "'{choice}' is not one of {}",
                        v.choices.join(", ")
                    )));
                }
            }
            VariableKind::MultiChoice => {
                let picks = answer
                    .as_array()
                    .ok_or_else(|| bad("give a list of choices".into()))?;
                for pick in picks {
                    let pick = pick.as_str().unwrap_or_default();
                    if !v.choices.iter().any(|c| c == pick) {
                        return Err(bad(format!(
                            "'{pick}' is not one of {}",
                            v.choices.join(", ")
                        )));
                    }
                }
                let count = picks.len() as f64;
                if v.min.is_some_and(|min| count < min)
                    || v.max.is_some_and(|max| count > max)
                    || (v.required && count == 0.0)
                {
                    return Err(bad(format!(
                        "pick {} to {}",
                        v.min.unwrap_or(1.0),
                        v.max.unwrap_or(v.choices.len() as f64)
                    )));
                }
            }
            VariableKind::Date => {
                let date = answer
                    .as_str()
                    .ok_or_else(|| bad("give a date such as 2026-12-01".into()))?;
                NaiveDate::parse_from_str(date, "%Y-%m-%d")
                    .map_err(|_| bad(format!("'{date}' is not a date such as 2026-12-01")))?;
            }
            VariableKind::Boolean => {
                answer
                    .as_bool()
                    .ok_or_else(|| bad("answer true or false".into()))?;
            }
            VariableKind::User => {
                let id = answer
                    .as_str()
                    .ok_or_else(|| bad("give a person's id".into()))?;
                users.push((field.clone(), id.to_string()));
            }
        }
        kept.insert(v.name.clone(), answer.clone());
    }
    Ok((kept, users))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form() -> Vec<Variable> {
        serde_json::from_value(json!([
            { "name": "model", "label": "Model", "kind": "CHOICE", "required": true, "choices": ["13 inch", "15 inch"] },
            { "name": "memory_gb", "label": "Memory", "kind": "NUMBER", "min": 8, "max": 64 },
            { "name": "cost_center", "label": "Cost center", "kind": "TEXT", "required": true, "pattern": "CC-[0-9]{4}" },
            { "name": "extras", "label": "Extras", "kind": "MULTI_CHOICE", "choices": ["dock", "mouse"] },
            { "name": "needed_by", "label": "Needed by", "kind": "DATE" },
            { "name": "urgent", "label": "Urgent", "kind": "BOOLEAN" }
        ]))
        .unwrap()
    }

    fn field_of(result: AppResult<Checked>) -> String {
        match result.unwrap_err() {
            AppError::BadUserInput { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn good_answers_are_kept() {
        let answers = json!({ "model": "13 inch", "memory_gb": 16, "cost_center": "CC-1234", "extras": ["dock"], "needed_by": "2026-12-01", "urgent": false });
        let (kept, _) = check_answers(&form(), answers.as_object().unwrap()).unwrap();
        assert_eq!(kept.len(), 6);
    }

    #[test]
    fn each_bad_answer_names_its_question() {
        let base = json!({ "model": "13 inch", "cost_center": "CC-1234" });
        let with = |key: &str, value: Value| {
            let mut answers = base.as_object().unwrap().clone();
            answers.insert(key.into(), value);
            answers
        };
        let mut missing = base.as_object().unwrap().clone();
        missing.remove("model");
        assert_eq!(field_of(check_answers(&form(), &missing)), "answers.model");
        assert_eq!(
            field_of(check_answers(&form(), &with("memory_gb", json!(128)))),
            "answers.memory_gb"
        );
        assert_eq!(
            field_of(check_answers(&form(), &with("memory_gb", json!("lots")))),
            "answers.memory_gb"
        );
        assert_eq!(
            field_of(check_answers(&form(), &with("cost_center", json!("1234")))),
            "answers.cost_center"
        );
        assert_eq!(
            field_of(check_answers(&form(), &with("model", json!("17 inch")))),
            "answers.model"
        );
        assert_eq!(
            field_of(check_answers(&form(), &with("extras", json!(["printer"])))),
            "answers.extras"
        );
        assert_eq!(
            field_of(check_answers(&form(), &with("needed_by", json!("soon")))),
            "answers.needed_by"
        );
        assert_eq!(
            field_of(check_answers(&form(), &with("urgent", json!("yes")))),
            "answers.urgent"
        );
        assert_eq!(
            field_of(check_answers(&form(), &with("colour", json!("red")))),
            "answers.colour"
        );
    }

    #[test]
    fn broken_forms_are_refused() {
        let mut form = form();
        form[1].min = Some(100.0);
        assert!(check_form(&form).is_err());
        let mut form = self::tests::form();
        form[2].pattern = Some("(".into());
        assert!(check_form(&form).is_err());
        let mut form = self::tests::form();
        form[0].choices.clear();
        assert!(check_form(&form).is_err());
    }
}
