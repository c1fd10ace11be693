//! The response's JSON, written as it is produced: no tree of values between the rows
//! and the bytes. Text is escaped by serde_json, as the ordinary path's serializer
//! escapes it.

use chrono::{DateTime, Utc};

/// A JSON document being written. Objects and arrays put their own commas: `key` and
/// `item` before each member say where one begins.
pub struct Out {
    bytes: Vec<u8>,
    /// Whether the innermost open object or array has a member yet.
    started: Vec<bool>,
}

impl Out {
    pub fn with_capacity(capacity: usize) -> Out {
        Out {
            bytes: Vec::with_capacity(capacity),
            started: Vec::with_capacity(8),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        debug_assert!(self.started.is_empty(), "every object and array closed");
        self.bytes
    }

    pub fn open_object(&mut self) {
        self.bytes.push(b'{');
        self.started.push(false);
    }

    pub fn close_object(&mut self) {
        self.started.pop();
        self.bytes.push(b'}');
    }

    pub fn open_array(&mut self) {
        self.bytes.push(b'[');
        self.started.push(false);
    }

    pub fn close_array(&mut self) {
        self.started.pop();
        self.bytes.push(b']');
    }

    /// Begins a member of the open object. A response key is a GraphQL name
    /// (`[_A-Za-z][_0-9A-Za-z]*`): nothing in it needs escaping.
    pub fn key(&mut self, key: &str) {
        self.comma();
        self.bytes.push(b'"');
        self.bytes.extend_from_slice(key.as_bytes());
        self.bytes.extend_from_slice(b"\":");
    }

    /// Begins an element of the open array.
    pub fn item(&mut self) {
        self.comma();
    }

    fn comma(&mut self) {
        if let Some(started) = self.started.last_mut() {
            if *started {
                self.bytes.push(b',');
            }
            *started = true;
        }
    }

    pub fn string(&mut self, text: &str) {
        serde_json::to_writer(&mut self.bytes, text).expect("writing to memory cannot fail");
    }

    pub fn optional_string(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.string(text),
            None => self.null(),
        }
    }

    /// An enum value's name, or `__typename`'s: a GraphQL name, written as it is.
    pub fn name(&mut self, name: &str) {
        self.bytes.push(b'"');
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(b'"');
    }

    pub fn number(&mut self, number: i64) {
        serde_json::to_writer(&mut self.bytes, &number).expect("writing to memory cannot fail");
    }

    pub fn boolean(&mut self, value: bool) {
        self.bytes
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    pub fn instant(&mut self, at: DateTime<Utc>) {
        self.string(&instant_text(at));
    }

    pub fn null(&mut self) {
        self.bytes.extend_from_slice(b"null");
    }
}

/// The instant as the `DateTime` scalar writes it.
fn instant_text(at: DateTime<Utc>) -> String {
    match async_graphql::ScalarType::to_value(&crate::graphql::instant::Instant(at)) {
        async_graphql::Value::String(text) => text,
        _ => unreachable!("the DateTime scalar is a string"),
    }
}
