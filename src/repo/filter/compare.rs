//! One comparison on one column, shared by every vocabulary: the value a
//! filter compares with, read for the attribute's kind, and the predicate
//! on text, time, integer and id columns.
//!
//! Absent is NULL or '' (names are stored as ''): an absent attribute
//! matches no comparison, so text comparisons are guarded by [`present`].
//! Case-insensitive comparisons fold the value in Rust
//! (`domain::user::fold`) and the column in SQL (`ithbat_fold`), or compare
//! a `*_key` column stored folded.

use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::sql_types::{Integer, Nullable, Text};
use uuid::Uuid;

use super::sql::{id_in, infix, like, param, Dialect, Operand};
use super::{bad_operator, Predicate};
use crate::db::fold;
use crate::db::types::{DbTimestamptz, DbUuid};
use crate::db::{Ts, Uid};
use crate::domain::filter::{AttrPath, Attributes, CompareOp, Filter, Kind, Value};
use crate::domain::user::fold as fold_text;
use crate::repo::like_contains;

/// One comparison of a filter, `path op value`, with the kind the
/// filter's dialect gives the attribute. `op` is never `ne`.
#[derive(Clone, Copy)]
pub struct Term<'a> {
    pub path: &'a AttrPath,
    pub op: CompareOp,
    pub value: &'a Value,
    pub kind: Kind,
}

impl Term<'_> {
    /// The string the term compares with, folded for case-insensitive
    /// attributes, and whether the attribute is case-exact.
    pub fn text(&self) -> Result<(String, bool), String> {
        match (self.value, self.kind) {
            (Value::Str(s), Kind::Str { case_exact }) => Ok((
                if case_exact { s.clone() } else { fold_text(s) },
                case_exact,
            )),
            _ => Err(format!("{} compares with a string", self.path)),
        }
    }

    fn time(&self) -> Result<Ts, String> {
        let time = match self.value {
            Value::Str(s) => chrono::DateTime::parse_from_rfc3339(s).ok(),
            _ => None,
        };
        time.map(|t| Ts(t.with_timezone(&chrono::Utc)))
            .ok_or_else(|| format!("{} compares with an RFC 3339 date-time", self.path))
    }

    fn integer(&self) -> Result<i32, String> {
        match self.value {
            Value::Num(n) if n.fract() == 0.0 && n.abs() <= f64::from(i32::MAX) => Ok(*n as i32),
            _ => Err(format!("{} compares with an integer", self.path)),
        }
    }

    /// `meta.version`: `W/"3"` (or `"3"`) names version 3; anything else
    /// none.
    fn version(&self) -> Result<Option<i32>, String> {
        match self.value {
            Value::Str(s) => {
                let tag = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
                Ok(tag.parse().ok())
            }
            _ => Err(format!("{} compares with a string", self.path)),
        }
    }

    /// The SQL operator of `eq`, `gt`, `ge`, `lt` and `le`; the others are
    /// refused.
    fn ordering(&self) -> Result<&'static str, String> {
        operator(self.op).ok_or_else(|| bad_operator(self.path, self.op))
    }
}

/// The id a value names; a string that is no UUID names nothing.
pub fn uuid_value(value: &Value, path: &AttrPath) -> Result<Option<Uuid>, String> {
    match value {
        Value::Str(s) => Ok(Uuid::parse_str(s).ok()),
        _ => Err(format!("{path} compares with a string")),
    }
}

fn operator(op: CompareOp) -> Option<&'static str> {
    match op {
        CompareOp::Eq => Some("="),
        CompareOp::Gt => Some(">"),
        CompareOp::Ge => Some(">="),
        CompareOp::Lt => Some("<"),
        CompareOp::Le => Some("<="),
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => None,
    }
}

/// The `LIKE` pattern of `co`, `sw` and `ew` with `v`.
fn like_pattern(op: CompareOp, v: &str) -> Option<String> {
    let contains = || like_contains(v);
    match op {
        CompareOp::Co => Some(contains()),
        CompareOp::Sw => Some(format!("{}%", &contains()[1..])),
        CompareOp::Ew => {
            let pattern = contains();
            Some(pattern[..pattern.len() - 1].to_string())
        }
        _ => None,
    }
}

/// Every row (`id` is the table's key): attributes every resource has.
pub fn always<T: Table + 'static, DB: Dialect>(
    id: impl Operand<T, DB, DbUuid>,
) -> Predicate<T, DB> {
    Box::new(id.clone().eq(id).nullable())
}

/// No row: a value that names nothing.
pub fn never<T: Table + 'static, DB: Dialect>(id: impl Operand<T, DB, DbUuid>) -> Predicate<T, DB> {
    Box::new(id.clone().ne(id).nullable())
}

/// [`always`] or [`never`]: a comparison with a value every row shares
/// (`meta.resourceType` is "User"), decided by the reference evaluator,
/// so that both agree by construction.
pub fn constant<T: Table + 'static, DB: Dialect>(
    id: impl Operand<T, DB, DbUuid>,
    term: Term<'_>,
    constant: &str,
    attrs: &dyn Attributes,
) -> Result<Predicate<T, DB>, String> {
    let Term {
        path, op, value, ..
    } = term;
    if !matches!(value, Value::Str(_)) {
        return Err(format!("{path} compares with a string"));
    }
    let leaf = serde_json::json!(constant);
    let doc = match &path.sub {
        Some(sub) => serde_json::json!({ path.name.clone(): { sub.clone(): leaf } }),
        None => serde_json::json!({ path.name.clone(): leaf }),
    };
    let bare = AttrPath {
        schema: None,
        ..path.clone()
    };
    let holds = Filter::Compare(bare, op, value.clone());
    Ok(if crate::domain::filter::matches(&doc, &holds, attrs) {
        always(id)
    } else {
        never(id)
    })
}

/// The row has the attribute: not NULL and not ''.
pub fn present<T: Table + 'static, DB: Dialect>(
    column: impl Operand<T, DB, Nullable<Text>>,
) -> Predicate<T, DB> {
    Box::new(
        column
            .clone()
            .is_not_null()
            .and(column.ne(param(String::new()))),
    )
}

/// A text comparison on `column` with `v` as it stands (already folded
/// when the comparison ignores case).
pub fn text<T: Table + 'static, DB: Dialect>(
    column: impl Operand<T, DB, Nullable<Text>>,
    op: CompareOp,
    v: String,
) -> Predicate<T, DB> {
    let present = present(column.clone());
    match like_pattern(op, &v) {
        Some(pattern) => Box::new(present.and(like(column, pattern))),
        None => {
            let operator = operator(op).expect("ne is not (eq)");
            Box::new(present.and(infix(column, operator, v)))
        }
    }
}

/// A text column compared per the attribute's case-exactness: exactly, or
/// folded on both sides.
pub fn text_attr<T: Table + 'static, DB: Dialect>(
    column: impl Operand<T, DB, Nullable<Text>>,
    term: Term<'_>,
) -> Result<Predicate<T, DB>, String> {
    keyed_text(column.clone(), fold(column), term)
}

/// A text column whose folded form is `key` (a column stored folded, or
/// the column folded in SQL): case-insensitive attributes compare the key.
pub fn keyed_text<T: Table + 'static, DB: Dialect>(
    raw: impl Operand<T, DB, Nullable<Text>>,
    key: impl Operand<T, DB, Nullable<Text>>,
    term: Term<'_>,
) -> Result<Predicate<T, DB>, String> {
    let (v, exact) = term.text()?;
    Ok(if exact {
        text(raw, term.op, v)
    } else {
        text(key, term.op, v)
    })
}

/// A comparison on a time column.
pub fn time<T: Table + 'static, DB: Dialect>(
    column: impl Operand<T, DB, DbTimestamptz>,
    term: Term<'_>,
) -> Result<Predicate<T, DB>, String> {
    let t = term.time()?;
    Ok(Box::new(infix(column, term.ordering()?, t)))
}

/// [`time`] on a nullable column: no value matches nothing.
pub fn optional_time<T: Table + 'static, DB: Dialect>(
    column: impl Operand<T, DB, Nullable<DbTimestamptz>>,
    term: Term<'_>,
) -> Result<Predicate<T, DB>, String> {
    let t = term.time()?;
    let set = column.clone().is_not_null();
    Ok(Box::new(set.and(infix(column, term.ordering()?, t))))
}

/// A comparison on an integer column.
pub fn integer<T: Table + 'static, DB: Dialect>(
    column: impl Operand<T, DB, Integer>,
    term: Term<'_>,
) -> Result<Predicate<T, DB>, String> {
    let n = term.integer()?;
    Ok(Box::new(infix(column, term.ordering()?, n)))
}

/// `column = id` for `eq` with a UUID; a value that is no UUID names
/// nothing (`nothing`); other operators are refused.
pub fn uuid_eq<T: Table + 'static, DB: Dialect>(
    column: impl Operand<T, DB, DbUuid>,
    nothing: Predicate<T, DB>,
    term: Term<'_>,
) -> Result<Predicate<T, DB>, String> {
    match (term.op, uuid_value(term.value, term.path)?) {
        (CompareOp::Eq, Some(id)) => Ok(Box::new(column.eq(param(Uid(id))).nullable())),
        (CompareOp::Eq, None) => Ok(nothing),
        (op, _) => Err(bad_operator(term.path, op)),
    }
}

/// `meta.version eq W/"3"`: the row at that version.
pub fn version<T: Table + 'static, DB: Dialect>(
    version: impl Operand<T, DB, Integer>,
    id: impl Operand<T, DB, DbUuid>,
    term: Term<'_>,
) -> Result<Predicate<T, DB>, String> {
    match (term.op, term.version()?) {
        (CompareOp::Eq, Some(v)) => Ok(Box::new(version.eq(param(v)).nullable())),
        (CompareOp::Eq, None) => Ok(never(id)),
        (op, _) => Err(bad_operator(term.path, op)),
    }
}

/// The rows a side table refers to the id the term names from: `id IN
/// (SELECT key FROM side WHERE reference = value)` (`groups eq` on a user,
/// `members eq` on a group). A value that is no UUID names nothing.
pub fn refers_to<T: Table + 'static, DB, K>(
    id: impl Operand<T, DB, DbUuid>,
    key: K,
    reference: impl Operand<K::Table, DB, DbUuid>,
    term: Term<'_>,
) -> Result<Predicate<T, DB>, String>
where
    DB: Dialect,
    K: Operand<K::Table, DB, DbUuid> + Column,
    K::Table: QueryFragment<DB> + Default + Send,
{
    match (term.op, uuid_value(term.value, term.path)?) {
        (CompareOp::Eq, Some(target)) => {
            let refers = reference.eq(param(Uid(target))).nullable();
            Ok(id_in(id, key, Some(Box::new(refers))))
        }
        (CompareOp::Eq, None) => Ok(never(id)),
        (op, _) => Err(bad_operator(term.path, op)),
    }
}
