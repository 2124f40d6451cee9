//! Filters into SQL: `domain::filter::Filter` becomes a diesel predicate on
//! the table of the resource listed.
//!
//! The way of a filter: a dialect parses its query text into the AST
//! (`api/scim/filter.rs`, `api/jsonapi/query.rs`) and hands it on as a
//! [`FilterSpec`], with the attribute kinds it was written against. A
//! repository's list calls [`predicate`] for its table inside `with_conn!`,
//! where the connection fixes the backend. The table's [`Filterable`]
//! impl (below) picks the vocabulary, one module each: `users.rs` (SCIM's
//! User), `groups.rs` (SCIM's Group), `accounts.rs`, `organizations.rs`
//! and `sessions.rs` (JSON:API's). `translate` walks the tree (`and`, `or`,
//! `not`, `ne`) and asks the vocabulary what each presence test and
//! comparison means; `compare.rs` builds the comparisons on columns, and
//! `sql.rs` the few expressions diesel builds only for a known backend.
//!
//! Every predicate is two-valued: comparisons on nullable columns are
//! guarded by IS NOT NULL, multi-valued and side-table attributes are
//! `id IN (subquery)`, so NOT means what the reference evaluator
//! (`domain::filter::matches`) means, including for missing values.

mod accounts;
mod compare;
mod groups;
mod organizations;
mod sessions;
mod sql;
mod trigram;
mod users;

use diesel::dsl::not;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};

use crate::db::schema;
use crate::domain::filter::{
    AttrPath, Attributes, CompareOp, Filter, FilterSpec, Kind, Names, Value,
};
use crate::domain::Error;

use compare::Term;
pub use sql::{param, text_param, Dialect, Operand};
pub use trigram::search as search_users;

/// A boxed SQL predicate on table `T` for backend `DB`.
pub type Predicate<T, DB> = Box<dyn BoxableExpression<T, DB, SqlType = Nullable<Bool>>>;

/// A table whose lists take filters: how a [`FilterSpec`] becomes a
/// predicate on its rows, whatever the backend.
pub trait Filterable: Table + 'static {
    fn translate<DB: Dialect>(spec: FilterSpec<'_>) -> Result<Predicate<Self, DB>, String>;
}

/// The predicate `spec` means on `T`'s rows, for the backend of the query
/// it goes into. A filter the vocabulary does not allow is
/// `Error::InvalidFilter`.
pub fn predicate<T: Filterable, DB: Dialect>(
    spec: FilterSpec<'_>,
) -> Result<Predicate<T, DB>, Error> {
    T::translate(spec).map_err(Error::InvalidFilter)
}

/// [`predicate`] for a list's filter, if it has one.
pub fn optional<T: Filterable, DB: Dialect>(
    spec: Option<FilterSpec<'_>>,
) -> Result<Option<Predicate<T, DB>>, Error> {
    spec.map(predicate).transpose()
}

impl Filterable for schema::users::table {
    fn translate<DB: Dialect>(spec: FilterSpec<'_>) -> Result<Predicate<Self, DB>, String> {
        match spec.names {
            Names::Scim => translate::<users::ScimUser, DB>(spec.filter, spec.attrs),
            Names::Account => translate::<accounts::Account, DB>(spec.filter, spec.attrs),
        }
    }
}

impl Filterable for schema::groups::table {
    fn translate<DB: Dialect>(spec: FilterSpec<'_>) -> Result<Predicate<Self, DB>, String> {
        translate::<groups::ScimGroup, DB>(spec.filter, spec.attrs)
    }
}

impl Filterable for schema::organizations::table {
    fn translate<DB: Dialect>(spec: FilterSpec<'_>) -> Result<Predicate<Self, DB>, String> {
        translate::<organizations::Organization, DB>(spec.filter, spec.attrs)
    }
}

impl Filterable for schema::sessions::table {
    fn translate<DB: Dialect>(spec: FilterSpec<'_>) -> Result<Predicate<Self, DB>, String> {
        translate::<sessions::AccountSession, DB>(spec.filter, spec.attrs)
    }
}

/// One resource's attribute names: what a presence test, a comparison and
/// a value path (`emails[type eq "work"]`) mean on its table. Errors are
/// messages naming the attribute.
trait Vocabulary {
    type Table: Table + 'static;

    fn present<DB: Dialect>(path: &AttrPath) -> Result<Predicate<Self::Table, DB>, String>;

    /// `attrs` gives the kinds of other attributes than the term's own
    /// (the sub-attributes of `emails`...).
    fn compare<DB: Dialect>(
        term: Term<'_>,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<Self::Table, DB>, String>;

    fn value_path<DB: Dialect>(
        path: &AttrPath,
        _inner: &Filter,
        _attrs: &dyn Attributes,
    ) -> Result<Predicate<Self::Table, DB>, String> {
        Err(unsupported(path))
    }
}

/// `f` in vocabulary `V`. An attribute the dialect gives no kind cannot
/// be compared.
fn translate<V: Vocabulary, DB: Dialect>(
    f: &Filter,
    attrs: &dyn Attributes,
) -> Result<Predicate<V::Table, DB>, String> {
    combine(f, &|atom| match atom {
        Filter::Present(path) => V::present(path),
        Filter::Compare(path, op, value) => {
            let kind = attrs.kind(path).ok_or_else(|| unsupported(path))?;
            let term = Term {
                path,
                op: *op,
                value,
                kind,
            };
            V::compare(term, attrs)
        }
        Filter::ValuePath(path, inner) => V::value_path(path, inner, attrs),
        _ => unreachable!("combined"),
    })
}

/// The tree above the terms: `and`, `or` and `not` as in SQL, and `attr ne
/// v` as `not (attr eq v)`, "no value equals v", missing values included.
/// `atom` translates presence tests, comparisons and value paths.
fn combine<T: Table + 'static, DB: Dialect, F>(
    f: &Filter,
    atom: &F,
) -> Result<Predicate<T, DB>, String>
where
    F: Fn(&Filter) -> Result<Predicate<T, DB>, String>,
{
    match f {
        Filter::And(a, b) => Ok(Box::new(combine(a, atom)?.and(combine(b, atom)?))),
        Filter::Or(a, b) => Ok(Box::new(combine(a, atom)?.or(combine(b, atom)?))),
        Filter::Not(a) => Ok(Box::new(not(combine(a, atom)?))),
        Filter::Compare(path, CompareOp::Ne, value) => Ok(Box::new(not(atom(&Filter::Compare(
            path.clone(),
            CompareOp::Eq,
            value.clone(),
        ))?))),
        other => atom(other),
    }
}

/// What a term does with an attribute: compares it with a value, or
/// (`None`) tests that it is present.
type Comparison<'v> = Option<(CompareOp, &'v Value)>;

/// A term inside a value path (`emails[type eq "work"]`): the
/// sub-attribute it names (`emails.type`) and its comparison, if it is
/// not a presence test.
fn value_term<'f>(f: &'f Filter, parent: &AttrPath) -> Result<(AttrPath, Comparison<'f>), String> {
    match f {
        Filter::Present(p) => Ok((relative(p, parent), None)),
        Filter::Compare(p, op, v) => Ok((relative(p, parent), Some((*op, v)))),
        _ => Err(format!("{parent}: value paths do not nest")),
    }
}

/// A value path's term as a [`Term`], if it is a comparison. A
/// sub-attribute the dialect gives no kind compares as case-insensitive
/// text.
fn sub_term<'a>(
    path: &'a AttrPath,
    cmp: Comparison<'a>,
    attrs: &dyn Attributes,
) -> Option<Term<'a>> {
    let kind = attrs.kind(path).unwrap_or(Kind::Str { case_exact: false });
    cmp.map(|(op, value)| Term {
        path,
        op,
        value,
        kind,
    })
}

/// The sub-attribute a path names on a multi-valued attribute:
/// `emails` alone means `emails.value`.
fn relative(path: &AttrPath, parent: &AttrPath) -> AttrPath {
    AttrPath {
        schema: parent.schema.clone(),
        name: parent.name.clone(),
        sub: Some(path.name.clone()),
    }
}

/// The sub-attribute `path` names, `value` when none, in lowercase.
fn sub_name(path: &AttrPath) -> String {
    path.sub.as_deref().unwrap_or("value").to_ascii_lowercase()
}

fn unsupported(path: &AttrPath) -> String {
    format!("{path} cannot be used in a filter")
}

fn bad_operator(path: &AttrPath, op: CompareOp) -> String {
    format!("{path} does not support the {op:?} operator").to_lowercase()
}

/// A schema URN a path may carry: the core schema of the resource, or for
/// users the enterprise extension.
fn schema_ok(path: &AttrPath, core: &str, extension: Option<&str>) -> bool {
    match &path.schema {
        None => true,
        Some(s) => {
            s.eq_ignore_ascii_case(core) || extension.is_some_and(|e| s.eq_ignore_ascii_case(e))
        }
    }
}

/// For presence tests, where case does not matter.
struct NoKinds;

impl Attributes for NoKinds {
    fn kind(&self, _: &AttrPath) -> Option<Kind> {
        Some(Kind::Str { case_exact: false })
    }
    fn is_multi_valued(&self, _: &AttrPath) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::schema::users;
    use crate::domain::filter::{MAX_DEPTH, MAX_TERMS};

    fn email(i: usize) -> Filter {
        Filter::Compare(
            AttrPath::new("email"),
            CompareOp::Eq,
            Value::Str(format!("u{i}@a.example")),
        )
    }

    /// The deepest and the widest trees the parsers let through.
    fn worst_cases() -> Vec<Filter> {
        let mut deep = email(0);
        for i in 1..MAX_DEPTH {
            deep = if i % 2 == 0 {
                Filter::Not(Box::new(deep))
            } else {
                Filter::And(Box::new(deep), Box::new(email(i)))
            };
        }
        let wide = Filter::any((0..MAX_TERMS).map(email).collect()).unwrap();
        vec![deep, wide]
    }

    fn account_filter<DB: Dialect>(f: &Filter) -> Predicate<users::table, DB> {
        let spec = FilterSpec {
            filter: f,
            attrs: &NoKinds,
            names: Names::Account,
        };
        predicate(spec).unwrap()
    }

    /// Translating, rendering and dropping a filter at the limits fits in
    /// half a worker's stack, on both backends: the limits leave room.
    #[test]
    fn filters_at_the_limits_translate_on_a_small_stack() {
        crate::fuzz::on_small_stack(|| {
            for f in worst_cases() {
                assert_eq!(f.check_limits(), Ok(()));
                let pg = users::table.filter(account_filter(&f)).select(users::id);
                let sql = diesel::debug_query::<diesel::pg::Pg, _>(&pg).to_string();
                assert!(sql.contains("email_key"));
                let lite = users::table.filter(account_filter(&f)).select(users::id);
                let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&lite).to_string();
                assert!(sql.contains("email_key"));
                let doc = serde_json::json!({ "email": "u3@a.example" });
                let _ = crate::domain::filter::matches(&doc, &f, &NoKinds);
            }
        });
    }
}
