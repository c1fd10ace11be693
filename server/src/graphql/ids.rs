//! Opaque global ids for the `Node` interface: `Type:id`, base64url-encoded.

use async_graphql::{ID, MaybeUndefined};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{
    domain::input::identifier,
    error::{AppError, AppResult, quote},
};

pub fn encode(type_name: &str, id: i64) -> ID {
    ID(crate::domain::global_id::of(type_name, id))
}

/// The type name and row id inside a global id.
pub fn decode(id: &ID) -> AppResult<(String, i64)> {
    identifier("id", "an id this server issued", &id.0)?;
    let not_ours = || {
        AppError::bad_input(
            "id",
            format!("{} is not an id this server issued", quote(&id.0)),
        )
    };
    let raw = URL_SAFE_NO_PAD
        .decode(id.0.as_bytes())
        .map_err(|_| not_ours())?;
    let text = String::from_utf8(raw).map_err(|_| not_ours())?;
    let (type_name, number) = text.split_once(':').ok_or_else(not_ours)?;
    let number = number.parse::<i64>().map_err(|_| not_ours())?;
    Ok((type_name.to_string(), number))
}

/// The row id inside a global id that must be of `type_name`.
pub fn decode_as(id: &ID, type_name: &str, field: &str) -> AppResult<i64> {
    identifier(field, &format!("the id of a {type_name}"), &id.0)?;
    match decode(id) {
        Ok((found, number)) if found == type_name => Ok(number),
        Ok((found, _)) => Err(AppError::bad_input(
            field,
            format!(
                "{} is the id of a {found}, not of a {type_name}",
                quote(&id.0)
            ),
        )),
        Err(_) => Err(AppError::bad_input(
            field,
            format!("{} is not an id this server issued", quote(&id.0)),
        )),
    }
}

/// `decode_as` for an optional input.
pub fn decode_opt(id: Option<ID>, type_name: &str, field: &str) -> AppResult<Option<i64>> {
    id.map(|id| decode_as(&id, type_name, field)).transpose()
}

/// `decode_as` for a list input.
pub fn decode_all(ids: &[ID], type_name: &str, field: &str) -> AppResult<Vec<i64>> {
    ids.iter()
        .map(|id| decode_as(id, type_name, field))
        .collect()
}

/// A nullable input, as a change: None when absent (keep what is there), Some(None)
/// when null (clear it).
pub fn change_of<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => Some(Some(value)),
    }
}

/// `change_of` for an id that must be of `type_name`.
pub fn decode_maybe(
    value: MaybeUndefined<ID>,
    type_name: &str,
    field: &str,
) -> AppResult<Option<Option<i64>>> {
    change_of(value)
        .map(|id| id.map(|id| decode_as(&id, type_name, field)).transpose())
        .transpose()
}
