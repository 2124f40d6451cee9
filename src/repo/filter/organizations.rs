//! JSON:API organizations.

use diesel::prelude::*;

use super::compare::{always, keyed_text, never, time, uuid_eq, Term};
use super::sql::Dialect;
use super::{unsupported, Predicate, Vocabulary};
use crate::db::schema::organizations;
use crate::domain::filter::{AttrPath, Attributes};

/// The organization vocabulary.
pub struct Organization;

impl Vocabulary for Organization {
    type Table = organizations::table;

    fn present<DB: Dialect>(
        path: &AttrPath,
    ) -> Result<Predicate<organizations::table, DB>, String> {
        match path.key().as_str() {
            "id" | "name" | "created_at" | "updated_at" => Ok(always(organizations::id)),
            _ => Err(unsupported(path)),
        }
    }

    fn compare<DB: Dialect>(
        term: Term<'_>,
        _: &dyn Attributes,
    ) -> Result<Predicate<organizations::table, DB>, String> {
        match term.path.key().as_str() {
            "id" => uuid_eq(organizations::id, never(organizations::id), term),
            "name" => keyed_text(
                organizations::name.nullable(),
                organizations::name_key.nullable(),
                term,
            ),
            "created_at" => time(organizations::created_at, term),
            "updated_at" => time(organizations::updated_at, term),
            _ => Err(unsupported(term.path)),
        }
    }
}
