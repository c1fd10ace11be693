//! A value a unique column holds already: the database's refusal, read once for both
//! backends and said as `CONFLICT` naming the field, instead of an internal error.
//!
//! Checking for a taken name before writing cannot be trusted (two admins saving at
//! once both pass the check), and each area would write its own; the unique index is
//! what decides, so its refusal is what is mapped.

use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};

/// The table and columns of a unique index that refused a write.
#[derive(Debug, PartialEq, Eq)]
pub struct Clash {
    pub table: String,
    pub columns: Vec<String>,
}

impl Clash {
    /// The clash behind `error`, when it is a unique violation.
    pub fn of(error: &DbErr) -> Option<Clash> {
        let Some(SqlErr::UniqueConstraintViolation(message)) = error.sql_err() else {
            return None;
        };
        postgres(error).or_else(|| sqlite(&message)).or(Some(Clash {
            table: String::new(),
            columns: Vec::new(),
        }))
    }

    /// The field a client sent, as GraphQL names it: the index's last column (the name
    /// within its parent, where the index also holds the parent's id).
    pub fn field(&self) -> String {
        self.columns
            .last()
            .map(|c| camel_case(c))
            .unwrap_or_default()
    }

    /// A sentence a person can act on: what exists already and what to change.
    pub fn message(&self) -> String {
        let thing = noun(&self.table);
        let words: Vec<String> = self.columns.iter().map(|c| column_words(c)).collect();
        if words.is_empty() {
            return "That exists already: a value that must be unique is taken".to_string();
        }
        let what = join_words(&words);
        let article = if thing.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
            "An"
        } else {
            "A"
        };
        if words.len() == 1 {
            format!("{article} {thing} with this {what} exists already: choose another {what}")
        } else {
            format!("{article} {thing} with this {what} exists already")
        }
    }
}

/// PostgreSQL names the table and, in its detail, the columns: `Key (name)=(x) already exists.`
fn postgres(error: &DbErr) -> Option<Clash> {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = error
    else {
        return None;
    };
    let sqlx::Error::Database(database) = e.as_ref() else {
        return None;
    };
    let pg = database.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    let detail = pg.detail()?;
    let columns = detail.strip_prefix("Key (")?.split(")=(").next()?;
    Some(Clash {
        table: pg.table().unwrap_or_default().to_string(),
        columns: columns.split(", ").map(str::to_string).collect(),
    })
}

/// SQLite says `UNIQUE constraint failed: table.a, table.b`.
fn sqlite(message: &str) -> Option<Clash> {
    let list = message.split("UNIQUE constraint failed: ").nth(1)?;
    let mut table = String::new();
    let mut columns = Vec::new();
    for qualified in list.split(", ") {
        let (t, column) = qualified.trim().split_once('.')?;
        table = t.to_string();
        columns.push(column.to_string());
    }
    Some(Clash { table, columns })
}

fn camel_case(column: &str) -> String {
    let mut out = String::with_capacity(column.len());
    let mut upper = false;
    for c in column.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `type_id` reads as "type", `external_key` as "external key".
fn column_words(column: &str) -> String {
    column
        .strip_suffix("_id")
        .unwrap_or(column)
        .replace('_', " ")
}

/// `ci_relationships` reads as "CI relationship", `categories` as "category".
fn noun(table: &str) -> String {
    let singular = if let Some(stem) = table.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = table.strip_suffix("sses") {
        format!("{stem}ss")
    } else {
        table.strip_suffix('s').unwrap_or(table).to_string()
    };
    let words: Vec<String> = singular
        .split('_')
        .map(|word| match word {
            "ci" | "sla" | "api" | "ola" => word.to_uppercase(),
            _ => word.to_string(),
        })
        .collect();
    words.join(" ")
}

fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_the_table_and_columns() {
        let clash = sqlite("UNIQUE constraint failed: change_templates.name").unwrap();
        assert_eq!(clash.field(), "name");
        assert_eq!(
            clash.message(),
            "A change template with this name exists already: choose another name"
        );
        let clash = sqlite(
            "UNIQUE constraint failed: ci_relationships.source_id, ci_relationships.target_id, ci_relationships.type_id",
        )
        .unwrap();
        assert_eq!(clash.field(), "typeId");
        assert_eq!(
            clash.message(),
            "A CI relationship with this source, target and type exists already"
        );
        let clash = sqlite("UNIQUE constraint failed: configuration_items.external_key").unwrap();
        assert_eq!(clash.field(), "externalKey");
        assert!(
            clash
                .message()
                .starts_with("A configuration item with this external key")
        );
        let clash = sqlite("UNIQUE constraint failed: organizations.name").unwrap();
        assert!(
            clash
                .message()
                .starts_with("An organization with this name")
        );
        let clash = sqlite("UNIQUE constraint failed: categories.path").unwrap();
        assert!(clash.message().starts_with("A category with this path"));
        let clash = sqlite("UNIQUE constraint failed: ci_classes.name").unwrap();
        assert!(clash.message().starts_with("A CI class with this name"));
    }
}
