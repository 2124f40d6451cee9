//! Substring tests on users' folded keys (`search_key`, `name_key`,
//! `email_key`, `user_name_key`) that use an index on both backends.
//!
//! `LIKE '%carol%'` can use no B-tree. PostgreSQL's `pg_trgm` GIN indexes
//! serve it as written. SQLite keeps the keys in the FTS5 table
//! `users_trigram` (trigram tokenizer, case-sensitive, kept by triggers;
//! migrations/sqlite/..._users_trigram, with the users' rowids): there the
//! test becomes `users.rowid IN (SELECT rowid FROM users_trigram WHERE
//! users_trigram MATCH '{key} : "carol"')`, which finds the same rows,
//! since the keys and the value are folded alike. Matching rowids come in
//! table order, so even a broad match reads the table about as a scan
//! would (by id, each match was a random lookup: twenty times slower at a
//! quarter of a million users). A value shorter than three characters has
//! no trigram and keeps the `LIKE` scan.

use diesel::sql_types::{Nullable, Text};

use super::compare::{self, Term};
use super::sql::{full_text, like};
use super::{Dialect, Operand, Predicate};
use crate::db::schema::users;
use crate::domain::filter::CompareOp;
use crate::repo::like_contains;

const TABLE: &str = "users_trigram";

/// `key` (one of the table's columns, by name) contains `v`, through the
/// trigram table where there is one and `v` has a trigram.
fn indexed<DB: Dialect>(key: &str, v: &str) -> Option<Predicate<users::table, DB>> {
    // FTS5 reads its query as C text: a NUL would end it early, so such a
    // value keeps the scan, which compares it whole.
    if !DB::TRIGRAM_TABLE || v.chars().count() < 3 || v.contains('\0') {
        return None;
    }
    // An FTS5 string: in double quotes, each one inside doubled.
    let query = format!("{{{key}}} : \"{}\"", v.replace('"', "\"\""));
    Some(full_text("users", TABLE, query))
}

/// The native list's `search`: `column` (the key named `key`) contains
/// the folded `term`.
pub fn search<DB: Dialect>(
    column: impl Operand<users::table, DB, Text>,
    key: &str,
    term: &str,
) -> Predicate<users::table, DB> {
    indexed(key, term).unwrap_or_else(|| Box::new(like(column, like_contains(term))))
}

/// [`compare::text`] on a users key named `key`, indexed for `co`.
pub fn text<DB: Dialect>(
    column: impl Operand<users::table, DB, Nullable<Text>>,
    key: &str,
    op: CompareOp,
    v: String,
) -> Predicate<users::table, DB> {
    match op {
        CompareOp::Co => indexed(key, &v),
        _ => None,
    }
    .unwrap_or_else(|| compare::text(column, op, v))
}

/// [`compare::keyed_text`] with the users key named `key`, indexed for a
/// case-insensitive `co`.
pub fn keyed_text<DB: Dialect>(
    raw: impl Operand<users::table, DB, Nullable<Text>>,
    column: impl Operand<users::table, DB, Nullable<Text>>,
    key: &str,
    term: Term<'_>,
) -> Result<Predicate<users::table, DB>, String> {
    let (v, exact) = term.text()?;
    match exact {
        true => compare::keyed_text(raw, column, term),
        false => Ok(text(column, key, term.op, v)),
    }
}
