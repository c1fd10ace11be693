//! The globally unique ids clients know rows by (`Type:id`, base64url): what GraphQL's
//! `Node` ids are and what webhook bodies carry, so a partner can pass either to
//! `node(id:)`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// The global id of row `id` of the GraphQL type `type_name`.
pub fn of(type_name: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}
