//! The domain's enumerations: statuses, kinds, levels. Each is a Rust enum whose values
//! are stored and sent as their upper-case names (`IN_PROGRESS`), declared once with
//! [`named_enum!`] and mirrored into GraphQL with `#[graphql(remote = "…")]`, so the
//! stored text, the domain's value and the schema's value cannot drift apart.

use std::fmt::Display;

/// What every enumeration declared with [`named_enum!`] can do; what the generic
/// transition table (`workflow::Machine`) needs of a status.
pub trait Named: Copy + Eq + Display + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// The stored and sent name.
    fn as_str(self) -> &'static str;
}

/// Declares an enumeration with its stored name for each variant:
/// `named_enum!(Status { New = "NEW", Closed = "CLOSED" })`.
///
/// Each gets `ALL`, `as_str`, `Display`, `parse` (for what a client sends: a
/// BAD_USER_INPUT naming the field and the values there are) and `stored` (for what the
/// database holds: a value that does not parse is our bug, so INTERNAL).
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and sent name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a client-given name; `field` names the input in the error.
            pub fn parse(text: &str, field: &str) -> $crate::error::AppResult<$name> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::AppError::bad_input(field, format!(
                        "'{text}' is not one of {}",
                        [$($text),+].join(", ")
                    ))),
                }
            }

            /// Parses a stored name.
            pub fn stored(text: &str) -> $crate::error::AppResult<$name> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::AppError::Internal(format!(
                        "a stored {} '{text}' is not one of {}",
                        stringify!($name),
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl $crate::domain::named::Named for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_string()
            }
        }

        impl From<$name> for serde_json::Value {
            fn from(value: $name) -> serde_json::Value {
                serde_json::Value::from(value.as_str())
            }
        }

        impl From<$name> for sea_orm::Value {
            fn from(value: $name) -> sea_orm::Value {
                sea_orm::Value::from(value.as_str())
            }
        }
    };
}

pub(crate) use named_enum;
