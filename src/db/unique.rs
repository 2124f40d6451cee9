//! Unique violations by index name, on both backends. PostgreSQL names the
//! violated constraint; SQLite names the index's columns instead ("UNIQUE
//! constraint failed: users.tenant_id, users.email_key"). What SQLite would
//! name for each unique index is read from the schema once the migrations
//! have run, so an index a migration adds is known without an entry here.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use diesel::sql_types::{Nullable, Text};
use diesel::{QueryResult, QueryableByName, RunQueryDsl, SqliteConnection};

/// Is this error a violation of the named unique index?
pub fn is_unique_violation(e: &diesel::result::Error, index: &str) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name() == Some(index)
                || info.message().contains(index)
                || sqlite_names(info.message(), index)
        }
        _ => false,
    }
}

/// What SQLite's violation message names, by unique index: its columns as
/// `table.column, ...` or, for an index on expressions, `index 'name'`.
/// Every SQLite database this binary opens is migrated to the same schema,
/// so the first one read stands for all.
static SQLITE_UNIQUE: OnceLock<HashMap<String, String>> = OnceLock::new();

/// Does SQLite's `message` name what it names for `index`?
fn sqlite_names(message: &str, index: &str) -> bool {
    let Some(named) = message.strip_prefix("UNIQUE constraint failed: ") else {
        return false;
    };
    SQLITE_UNIQUE
        .get()
        .and_then(|indexes| indexes.get(index))
        .is_some_and(|expected| expected == named)
}

/// One column of a unique index, in index order; no name for an expression.
#[derive(QueryableByName)]
struct IndexColumn {
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    column_name: Option<String>,
}

const UNIQUE_INDEX_COLUMNS: &str = "\
    SELECT i.name AS index_name, t.name AS table_name, c.name AS column_name \
    FROM sqlite_master AS t, pragma_index_list(t.name) AS i, pragma_index_info(i.name) AS c \
    WHERE t.type = 'table' AND i.\"unique\" = 1 \
    ORDER BY i.name, c.seqno";

/// Reads the unique indexes of a migrated SQLite database, once.
pub(super) fn read_sqlite_schema(conn: &mut SqliteConnection) -> QueryResult<()> {
    if SQLITE_UNIQUE.get().is_none() {
        let columns = diesel::sql_query(UNIQUE_INDEX_COLUMNS).load(conn)?;
        // Another database read meanwhile has the same schema.
        let _ = SQLITE_UNIQUE.set(as_sqlite_names(columns));
    }
    Ok(())
}

/// Each index as SQLite's `sqlite3UniqueConstraint` names it.
fn as_sqlite_names(columns: Vec<IndexColumn>) -> HashMap<String, String> {
    let mut indexes: BTreeMap<String, (String, Vec<Option<String>>)> = BTreeMap::new();
    for c in columns {
        let (_, names) = indexes
            .entry(c.index_name)
            .or_insert_with(|| (c.table_name, Vec::new()));
        names.push(c.column_name);
    }
    indexes
        .into_iter()
        .map(|(index, (table, columns))| {
            let columns: Option<Vec<String>> = columns
                .into_iter()
                .map(|c| c.map(|c| format!("{table}.{c}")))
                .collect();
            let named = match columns {
                Some(columns) => columns.join(", "),
                None => format!("index '{index}'"),
            };
            (index, named)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};

    fn column(index: &str, table: &str, name: Option<&str>) -> IndexColumn {
        IndexColumn {
            index_name: index.into(),
            table_name: table.into(),
            column_name: name.map(str::to_string),
        }
    }

    #[test]
    fn names_columns_in_index_order_or_the_index_of_an_expression() {
        let names = as_sqlite_names(vec![
            column("users_tenant_email_key", "users", Some("tenant_id")),
            column("users_tenant_email_key", "users", Some("email_key")),
            column("tenants_slug_key", "tenants", Some("slug")),
            column("by_lower", "users", Some("tenant_id")),
            column("by_lower", "users", None),
        ]);
        assert_eq!(
            names["users_tenant_email_key"],
            "users.tenant_id, users.email_key"
        );
        assert_eq!(names["tenants_slug_key"], "tenants.slug");
        assert_eq!(names["by_lower"], "index 'by_lower'");
    }

    struct Info(&'static str, Option<&'static str>);

    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.1
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn violation(message: &'static str, constraint: Option<&'static str>) -> DieselError {
        DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new(Info(message, constraint)),
        )
    }

    /// The migrated schema of both backends names the same unique indexes
    /// (tests/api/system.rs compares them); SQLite's message and
    /// PostgreSQL's constraint name lead to the same index.
    #[test]
    fn both_backends_name_the_same_index() {
        let mut conn: SqliteConnection = diesel::Connection::establish(":memory:").unwrap();
        super::super::migrate_sqlite(&mut conn).unwrap();
        read_sqlite_schema(&mut conn).unwrap();
        let lite = violation(
            "UNIQUE constraint failed: users.tenant_id, users.email_key",
            None,
        );
        let pg = violation(
            "duplicate key value violates unique constraint \"users_tenant_email_key\"",
            Some("users_tenant_email_key"),
        );
        for e in [&lite, &pg] {
            assert!(is_unique_violation(e, "users_tenant_email_key"));
            assert!(!is_unique_violation(e, "users_tenant_user_name_key"));
        }
        let partial = violation("UNIQUE constraint failed: tenant_domains.name", None);
        assert!(is_unique_violation(
            &partial,
            "tenant_domains_verified_name_key"
        ));
        assert!(!is_unique_violation(
            &partial,
            "tenant_domains_tenant_name_key"
        ));
        // Every unique index the migrations create is known.
        let known = SQLITE_UNIQUE.get().unwrap();
        for index in [
            "tenants_slug_key",
            "roles_tenant_builtin",
            "scim_tokens_hash",
            "policies_tenant_triple",
            "user_identities_user",
        ] {
            assert!(known.contains_key(index), "{index}: {known:?}");
        }
    }
}
