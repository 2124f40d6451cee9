//! Translates `domain::filter::Filter` into SQL predicates on users and
//! groups. Which column an attribute lives in is known here; how it
//! compares (case-exact or not, text, boolean, time) comes from the
//! dialect's `Attributes`, so one translator serves SCIM and JSON:API.
//!
//! Every predicate is two-valued: comparisons on nullable columns are
//! guarded by IS NOT NULL, multi-valued and side-table attributes are
//! `id IN (subquery)`, so NOT means what the reference evaluator
//! (`domain::filter::matches`) means, including for missing values.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};
use uuid::Uuid;

use super::like_contains;
use crate::db::fold;
use crate::db::schema::{
    account_tokens, group_members, groups, organizations, roles, sessions, user_attributes as ua,
    user_emails, user_phone_numbers, user_roles, users,
};
use crate::db::{SqliteConn, Ts, Uid};
use crate::domain::filter::{AttrPath, Attributes, CompareOp, Filter, Kind, Value};
use crate::domain::user::fold as fold_text;

/// A filter with the attribute kinds of the dialect that wrote it.
#[derive(Clone, Copy)]
pub struct FilterSpec<'a> {
    pub filter: &'a Filter,
    pub attrs: &'a (dyn Attributes + Sync),
    /// Whose attribute names the filter uses.
    pub names: Names,
}

/// The attribute vocabularies a user filter may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// SCIM's User (`userName`, `name.givenName`, `emails[...]`).
    Scim,
    /// Seed 002's account (`name`, `email`, `enabled`, `role_name`, ...).
    Account,
}

/// The account_tokens purpose whose tokens `password_reset_token` names.
pub const RESET_PURPOSE: &str = "password_reset";

/// A boxed SQL predicate on table `T` for backend `DB`.
pub type Predicate<T, DB> = Box<dyn BoxableExpression<T, DB, SqlType = Nullable<Bool>>>;

pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Filters per backend: implemented for each connection type, so that
/// repository code written once (`with_conn!`) picks the right one.
pub trait Translate {
    type Backend: diesel::backend::Backend;
    fn users(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<users::table, Self::Backend>, String>;
    fn groups(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<groups::table, Self::Backend>, String>;
    fn accounts(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<users::table, Self::Backend>, String>;
    fn organizations(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<organizations::table, Self::Backend>, String>;
    fn sessions(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<sessions::table, Self::Backend>, String>;
}

impl Translate for diesel_async::AsyncPgConnection {
    type Backend = diesel::pg::Pg;
    fn users(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<users::table, Self::Backend>, String> {
        pg::users(f, attrs)
    }
    fn groups(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<groups::table, Self::Backend>, String> {
        pg::groups(f, attrs)
    }
    fn accounts(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<users::table, Self::Backend>, String> {
        pg::accounts(f, attrs)
    }
    fn organizations(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<organizations::table, Self::Backend>, String> {
        pg::organizations(f, attrs)
    }
    fn sessions(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<sessions::table, Self::Backend>, String> {
        pg::sessions(f, attrs)
    }
}

impl Translate for SqliteConn {
    type Backend = diesel::sqlite::Sqlite;
    fn users(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<users::table, Self::Backend>, String> {
        sqlite::users(f, attrs)
    }
    fn groups(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<groups::table, Self::Backend>, String> {
        sqlite::groups(f, attrs)
    }
    fn accounts(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<users::table, Self::Backend>, String> {
        sqlite::accounts(f, attrs)
    }
    fn organizations(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<organizations::table, Self::Backend>, String> {
        sqlite::organizations(f, attrs)
    }
    fn sessions(
        f: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<sessions::table, Self::Backend>, String> {
        sqlite::sessions(f, attrs)
    }
}

/// `C::users(...)` for the connection in hand (type inference helper), in
/// the vocabulary the filter was written in.
pub fn user_predicate<C: Translate>(
    _: &C,
    spec: FilterSpec<'_>,
) -> Result<Predicate<users::table, C::Backend>, String> {
    match spec.names {
        Names::Scim => C::users(spec.filter, spec.attrs),
        Names::Account => C::accounts(spec.filter, spec.attrs),
    }
}

pub fn organization_predicate<C: Translate>(
    _: &C,
    spec: FilterSpec<'_>,
) -> Result<Predicate<organizations::table, C::Backend>, String> {
    C::organizations(spec.filter, spec.attrs)
}

pub fn session_predicate<C: Translate>(
    _: &C,
    spec: FilterSpec<'_>,
) -> Result<Predicate<sessions::table, C::Backend>, String> {
    C::sessions(spec.filter, spec.attrs)
}

pub fn group_predicate<C: Translate>(
    _: &C,
    f: &Filter,
    attrs: &dyn Attributes,
) -> Result<Predicate<groups::table, C::Backend>, String> {
    C::groups(f, attrs)
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

/// The string a comparison uses: folded for case-insensitive attributes.
fn text_value(value: &Value, kind: Kind, path: &AttrPath) -> Result<(String, bool), String> {
    match (value, kind) {
        (Value::Str(s), Kind::Str { case_exact }) => Ok((
            if case_exact { s.clone() } else { fold_text(s) },
            case_exact,
        )),
        _ => Err(format!("{path} compares with a string")),
    }
}

fn time_value(value: &Value, path: &AttrPath) -> Result<Ts, String> {
    match value {
        Value::Str(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Ts(t.with_timezone(&chrono::Utc)))
            .map_err(|_| format!("{path} compares with an RFC 3339 date-time")),
        _ => Err(format!("{path} compares with an RFC 3339 date-time")),
    }
}

/// `meta.version`: `W/"3"` (or `"3"`) names version 3; anything else none.
fn version_value(value: &Value, path: &AttrPath) -> Result<Option<i32>, String> {
    match value {
        Value::Str(s) => {
            let tag = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
            Ok(tag.parse().ok())
        }
        _ => Err(format!("{path} compares with a string")),
    }
}

/// A comparison on an attribute every resource of a type shares
/// (`meta.resourceType` is "User"), decided here by the reference
/// evaluator, so that both agree by construction.
fn constant_compare(
    path: &AttrPath,
    op: CompareOp,
    value: &Value,
    constant: &str,
    attrs: &dyn Attributes,
) -> Result<bool, String> {
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
    Ok(crate::domain::filter::matches(
        &doc,
        &Filter::Compare(bare, op, value.clone()),
        attrs,
    ))
}

/// An integer a number attribute compares with.
fn integer_value(value: &Value, path: &AttrPath) -> Result<i32, String> {
    match value {
        Value::Num(n) if n.fract() == 0.0 && n.abs() <= f64::from(i32::MAX) => Ok(*n as i32),
        _ => Err(format!("{path} compares with an integer")),
    }
}

fn uuid_value(value: &Value, path: &AttrPath) -> Result<Option<Uuid>, String> {
    match value {
        // Not a UUID: it names nothing.
        Value::Str(s) => Ok(Uuid::parse_str(s).ok()),
        _ => Err(format!("{path} compares with a string")),
    }
}

macro_rules! backend {
    ($module:ident, $db:ty) => {
        pub mod $module {
            use super::*;

            type DB = $db;

            /// A text comparison on `$col` (any Nullable<Text> expression),
            /// folded on the SQL side when `$fold`.
            macro_rules! text_cmp {
                ($col:expr, $op:expr, $v:expr, $path:expr) => {{
                    let v: String = $v;
                    let col = $col;
                    // Absent is NULL or '' (names are stored as ''): an
                    // absent attribute matches no comparison.
                    let present = col.is_not_null().and(col.ne(String::new()));
                    let p: Predicate<_, DB> = match $op {
                        CompareOp::Eq => Box::new(present.and(col.eq(v))),
                        CompareOp::Co => {
                            Box::new(present.and(col.like(like_contains(&v)).escape('\\')))
                        }
                        CompareOp::Sw => Box::new(
                            present.and(
                                col.like(format!("{}%", &like_contains(&v)[1..]))
                                    .escape('\\'),
                            ),
                        ),
                        CompareOp::Ew => {
                            let pattern = like_contains(&v);
                            Box::new(
                                present.and(
                                    col.like(pattern[..pattern.len() - 1].to_string())
                                        .escape('\\'),
                                ),
                            )
                        }
                        CompareOp::Gt => Box::new(present.and(col.gt(v))),
                        CompareOp::Ge => Box::new(present.and(col.ge(v))),
                        CompareOp::Lt => Box::new(present.and(col.lt(v))),
                        CompareOp::Le => Box::new(present.and(col.le(v))),
                        CompareOp::Ne => unreachable!("ne is not(eq)"),
                    };
                    let _ = $path;
                    p
                }};
            }

            /// A text column, compared per the attribute's case-exactness:
            /// `$key` is a column already folded (or None to fold in SQL).
            macro_rules! text_attr {
                ($raw:expr, $op:expr, $value:expr, $kind:expr, $path:expr) => {{
                    let (v, exact) = text_value($value, $kind, $path)?;
                    if exact {
                        text_cmp!($raw, $op, v, $path)
                    } else {
                        text_cmp!(fold($raw), $op, v, $path)
                    }
                }};
            }

            macro_rules! present {
                ($col:expr) => {{
                    let col = $col;
                    let p: Predicate<_, DB> =
                        Box::new(col.is_not_null().and(col.ne(String::new())));
                    p
                }};
            }

            macro_rules! time_cmp {
                ($col:expr, $op:expr, $value:expr, $path:expr) => {{
                    let t = time_value($value, $path)?;
                    let col = $col;
                    let p: Predicate<_, DB> = match $op {
                        CompareOp::Eq => Box::new(col.eq(t).nullable()),
                        CompareOp::Gt => Box::new(col.gt(t).nullable()),
                        CompareOp::Ge => Box::new(col.ge(t).nullable()),
                        CompareOp::Lt => Box::new(col.lt(t).nullable()),
                        CompareOp::Le => Box::new(col.le(t).nullable()),
                        other => return Err(bad_operator($path, other)),
                    };
                    p
                }};
            }

            /// `time_cmp!` on a nullable column: no value matches nothing.
            macro_rules! time_cmp_opt {
                ($col:expr, $op:expr, $value:expr, $path:expr) => {{
                    let t = time_value($value, $path)?;
                    let col = $col;
                    let set = col.is_not_null();
                    let p: Predicate<_, DB> = match $op {
                        CompareOp::Eq => Box::new(set.and(col.eq(t))),
                        CompareOp::Gt => Box::new(set.and(col.gt(t))),
                        CompareOp::Ge => Box::new(set.and(col.ge(t))),
                        CompareOp::Lt => Box::new(set.and(col.lt(t))),
                        CompareOp::Le => Box::new(set.and(col.le(t))),
                        other => return Err(bad_operator($path, other)),
                    };
                    p
                }};
            }

            macro_rules! int_cmp {
                ($col:expr, $op:expr, $value:expr, $path:expr) => {{
                    let n = integer_value($value, $path)?;
                    let col = $col;
                    let p: Predicate<_, DB> = match $op {
                        CompareOp::Eq => Box::new(col.eq(n).nullable()),
                        CompareOp::Gt => Box::new(col.gt(n).nullable()),
                        CompareOp::Ge => Box::new(col.ge(n).nullable()),
                        CompareOp::Lt => Box::new(col.lt(n).nullable()),
                        CompareOp::Le => Box::new(col.le(n).nullable()),
                        other => return Err(bad_operator($path, other)),
                    };
                    p
                }};
            }

            /// `$col = id` for `eq` with a UUID; a value that is no UUID
            /// names nothing (`$never`); other operators are refused.
            macro_rules! uuid_eq {
                ($col:expr, $never:expr, $op:expr, $value:expr, $path:expr) => {{
                    match ($op, uuid_value($value, $path)?) {
                        (CompareOp::Eq, Some(id)) => {
                            let p: Predicate<_, DB> = Box::new($col.eq(Uid(id)).nullable());
                            p
                        }
                        (CompareOp::Eq, None) => $never,
                        (op, _) => return Err(bad_operator($path, op)),
                    }
                }};
            }

            /// A text column whose folded form is stored in `$key`:
            /// case-insensitive attributes compare the key.
            macro_rules! keyed_text {
                ($raw:expr, $key:expr, $op:expr, $value:expr, $kind:expr, $path:expr) => {{
                    let (v, exact) = text_value($value, $kind, $path)?;
                    if exact {
                        text_cmp!($raw, $op, v, $path)
                    } else {
                        text_cmp!($key, $op, v, $path)
                    }
                }};
            }

            /// `attr ne v` means "no value equals v", missing values included.
            fn negate<T: 'static>(p: Predicate<T, DB>) -> Predicate<T, DB>
            where
                diesel::dsl::not<Predicate<T, DB>>:
                    BoxableExpression<T, DB, SqlType = Nullable<Bool>>,
            {
                Box::new(diesel::dsl::not(p))
            }

            fn combine<T: 'static, F>(f: &Filter, atom: &F) -> Result<Predicate<T, DB>, String>
            where
                F: Fn(&Filter) -> Result<Predicate<T, DB>, String>,
                Predicate<T, DB>: BoxableExpression<T, DB, SqlType = Nullable<Bool>>,
                diesel::dsl::And<Predicate<T, DB>, Predicate<T, DB>>:
                    BoxableExpression<T, DB, SqlType = Nullable<Bool>>,
                diesel::dsl::Or<Predicate<T, DB>, Predicate<T, DB>>:
                    BoxableExpression<T, DB, SqlType = Nullable<Bool>>,
                diesel::dsl::not<Predicate<T, DB>>:
                    BoxableExpression<T, DB, SqlType = Nullable<Bool>>,
            {
                match f {
                    Filter::And(a, b) => Ok(Box::new(combine(a, atom)?.and(combine(b, atom)?))),
                    Filter::Or(a, b) => Ok(Box::new(combine(a, atom)?.or(combine(b, atom)?))),
                    Filter::Not(a) => Ok(negate(combine(a, atom)?)),
                    Filter::Compare(path, CompareOp::Ne, value) => Ok(negate(atom(
                        &Filter::Compare(path.clone(), CompareOp::Eq, value.clone()),
                    )?)),
                    other => atom(other),
                }
            }

            // ---- users ----

            pub fn users(
                f: &Filter,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<users::table, DB>, String> {
                combine(f, &|atom| user_atom(atom, attrs))
            }

            fn user_atom(
                f: &Filter,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<users::table, DB>, String> {
                match f {
                    Filter::Present(path) => user_present(path),
                    Filter::Compare(path, op, value) => user_compare(path, *op, value, attrs),
                    Filter::ValuePath(path, inner) => {
                        let core = "urn:ietf:params:scim:schemas:core:2.0:User";
                        if !schema_ok(path, core, None) {
                            return Err(unsupported(path));
                        }
                        match path.name.to_ascii_lowercase().as_str() {
                            "emails" => {
                                let inner = combine(inner, &|a| email_atom(a, path, attrs))?;
                                Ok(Box::new(
                                    users::id
                                        .eq_any(
                                            user_emails::table
                                                .filter(inner)
                                                .select(user_emails::user_id)
                                                .into_boxed(),
                                        )
                                        .nullable(),
                                ))
                            }
                            "groups" => {
                                let inner =
                                    combine(inner, &|a| membership_atom(a, path, "direct", attrs))?;
                                Ok(Box::new(
                                    users::id
                                        .eq_any(
                                            group_members::table
                                                .filter(inner)
                                                .select(group_members::user_id)
                                                .into_boxed(),
                                        )
                                        .nullable(),
                                ))
                            }
                            "phonenumbers" => {
                                let inner = combine(inner, &|a| phone_atom(a, path, attrs))?;
                                Ok(Box::new(
                                    users::id
                                        .eq_any(
                                            user_phone_numbers::table
                                                .filter(inner)
                                                .select(user_phone_numbers::user_id)
                                                .into_boxed(),
                                        )
                                        .nullable(),
                                ))
                            }
                            _ => Err(unsupported(path)),
                        }
                    }
                    _ => unreachable!("combined"),
                }
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

            fn email_atom(
                f: &Filter,
                parent: &AttrPath,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<user_emails::table, DB>, String> {
                let (path, op, value) = match f {
                    Filter::Present(p) => (relative(p, parent), None, None),
                    Filter::Compare(p, op, v) => (relative(p, parent), Some(*op), Some(v)),
                    _ => return Err(format!("{parent}: value paths do not nest")),
                };
                email_sub(&path, op, value, attrs)
            }

            fn email_sub(
                path: &AttrPath,
                op: Option<CompareOp>,
                value: Option<&Value>,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<user_emails::table, DB>, String> {
                let sub = path.sub.as_deref().unwrap_or("value").to_ascii_lowercase();
                let kind = attrs.kind(path).unwrap_or(Kind::Str { case_exact: false });
                match (sub.as_str(), op, value) {
                    ("value", None, _) => Ok(present!(user_emails::value_key.nullable())),
                    ("value", Some(op), Some(v)) => {
                        let (v, exact) = text_value(v, kind, path)?;
                        if exact {
                            Ok(text_cmp!(user_emails::value.nullable(), op, v, path))
                        } else {
                            Ok(text_cmp!(user_emails::value_key.nullable(), op, v, path))
                        }
                    }
                    ("type", None, _) => Ok(present!(user_emails::kind)),
                    ("type", Some(op), Some(v)) => {
                        Ok(text_attr!(user_emails::kind, op, v, kind, path))
                    }
                    ("display", None, _) => Ok(present!(user_emails::display)),
                    ("display", Some(op), Some(v)) => {
                        Ok(text_attr!(user_emails::display, op, v, kind, path))
                    }
                    ("primary", None, _) => {
                        Ok(Box::new(user_emails::is_primary.eq(true).nullable()))
                    }
                    ("primary", Some(CompareOp::Eq), Some(Value::Bool(b))) => {
                        Ok(Box::new(user_emails::is_primary.eq(*b).nullable()))
                    }
                    _ => Err(unsupported(path)),
                }
            }

            fn phone_atom(
                f: &Filter,
                parent: &AttrPath,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<user_phone_numbers::table, DB>, String> {
                let (path, op, value) = match f {
                    Filter::Present(p) => (relative(p, parent), None, None),
                    Filter::Compare(p, op, v) => (relative(p, parent), Some(*op), Some(v)),
                    _ => return Err(format!("{parent}: value paths do not nest")),
                };
                phone_sub(&path, op, value, attrs)
            }

            fn phone_sub(
                path: &AttrPath,
                op: Option<CompareOp>,
                value: Option<&Value>,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<user_phone_numbers::table, DB>, String> {
                let sub = path.sub.as_deref().unwrap_or("value").to_ascii_lowercase();
                let kind = attrs.kind(path).unwrap_or(Kind::Str { case_exact: false });
                match (sub.as_str(), op, value) {
                    ("value", None, _) => Ok(present!(user_phone_numbers::value.nullable())),
                    ("value", Some(op), Some(v)) => Ok(text_attr!(
                        user_phone_numbers::value.nullable(),
                        op,
                        v,
                        kind,
                        path
                    )),
                    ("type", None, _) => Ok(present!(user_phone_numbers::kind)),
                    ("type", Some(op), Some(v)) => {
                        Ok(text_attr!(user_phone_numbers::kind, op, v, kind, path))
                    }
                    ("display", None, _) => Ok(present!(user_phone_numbers::display)),
                    ("display", Some(op), Some(v)) => {
                        Ok(text_attr!(user_phone_numbers::display, op, v, kind, path))
                    }
                    ("primary", None, _) => {
                        Ok(Box::new(user_phone_numbers::is_primary.eq(true).nullable()))
                    }
                    ("primary", Some(CompareOp::Eq), Some(Value::Bool(b))) => {
                        Ok(Box::new(user_phone_numbers::is_primary.eq(*b).nullable()))
                    }
                    _ => Err(unsupported(path)),
                }
            }

            /// One membership, seen from either side: `groups[...]` on a
            /// user (`value` is the group, `display` its name, `type`
            /// "direct") or `members[...]` on a group (`value` is the user,
            /// `type` "User").
            fn membership_atom(
                f: &Filter,
                parent: &AttrPath,
                kind_name: &str,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<group_members::table, DB>, String> {
                let (path, op, value) = match f {
                    Filter::Present(p) => (relative(p, parent), None, None),
                    Filter::Compare(p, op, v) => (relative(p, parent), Some(*op), Some(v)),
                    _ => return Err(format!("{parent}: value paths do not nest")),
                };
                let on_groups = parent.name.eq_ignore_ascii_case("groups");
                let always = || -> Predicate<group_members::table, DB> {
                    Box::new(group_members::user_id.eq(group_members::user_id).nullable())
                };
                let never = || -> Predicate<group_members::table, DB> {
                    Box::new(group_members::user_id.ne(group_members::user_id).nullable())
                };
                let sub = path.sub.as_deref().unwrap_or("value").to_ascii_lowercase();
                match (sub.as_str(), op, value) {
                    ("value" | "type", None, _) => Ok(always()),
                    ("value", Some(CompareOp::Eq), Some(v)) => match uuid_value(v, &path)? {
                        Some(id) if on_groups => {
                            Ok(Box::new(group_members::group_id.eq(Uid(id)).nullable()))
                        }
                        Some(id) => Ok(Box::new(group_members::user_id.eq(Uid(id)).nullable())),
                        None => Ok(never()),
                    },
                    ("type", Some(op), Some(v)) => {
                        if constant_compare(&path, op, v, kind_name, attrs)? {
                            Ok(always())
                        } else {
                            Ok(never())
                        }
                    }
                    ("display", Some(op), Some(v)) if on_groups => {
                        let kind = attrs.kind(&path).unwrap_or(Kind::Str { case_exact: false });
                        let (v, _) = text_value(v, kind, &path)?;
                        let named: Predicate<groups::table, DB> =
                            text_cmp!(groups::name_key.nullable(), op, v, &path);
                        Ok(Box::new(
                            group_members::group_id
                                .eq_any(groups::table.filter(named).select(groups::id).into_boxed())
                                .nullable(),
                        ))
                    }
                    ("display", None, _) if on_groups => Ok(always()),
                    (_, Some(op), Some(_)) if sub == "value" => Err(bad_operator(&path, op)),
                    _ => Err(unsupported(&path)),
                }
            }

            /// Users whose side-table row satisfies `p`.
            fn with_attributes(p: Predicate<ua::table, DB>) -> Predicate<users::table, DB> {
                Box::new(
                    users::id
                        .eq_any(ua::table.filter(p).select(ua::user_id).into_boxed())
                        .nullable(),
                )
            }

            fn side_column(
                name: &str,
            ) -> Option<Box<dyn Fn(Option<(CompareOp, String, bool)>) -> Predicate<ua::table, DB>>>
            {
                macro_rules! side {
                    ($col:expr) => {
                        Some(Box::new(
                            move |cmp: Option<(CompareOp, String, bool)>| match cmp {
                                None => present!($col),
                                Some((op, v, true)) => text_cmp!($col, op, v, ()),
                                Some((op, v, false)) => text_cmp!(fold($col), op, v, ()),
                            },
                        ))
                    };
                }
                match name {
                    "displayname" => side!(ua::display_name),
                    "nickname" => side!(ua::nick_name),
                    "title" => side!(ua::title),
                    "usertype" => side!(ua::user_type),
                    "preferredlanguage" => side!(ua::preferred_language),
                    "locale" => side!(ua::locale),
                    "timezone" => side!(ua::timezone),
                    "profileurl" => side!(ua::profile_url),
                    "employeenumber" => side!(ua::employee_number),
                    "costcenter" => side!(ua::cost_center),
                    "organization" => side!(ua::organization),
                    "division" => side!(ua::division),
                    "department" => side!(ua::department),
                    _ => None,
                }
            }

            fn user_present(path: &AttrPath) -> Result<Predicate<users::table, DB>, String> {
                let core = "urn:ietf:params:scim:schemas:core:2.0:User";
                if !schema_ok(path, core, Some(ENTERPRISE)) {
                    return Err(unsupported(path));
                }
                let key = path.key();
                Ok(match key.as_str() {
                    "id" | "username" | "active" | "meta.created" | "meta.lastmodified"
                    | "meta.resourcetype" | "meta.version" | "meta" => {
                        Box::new(users::id.eq(users::id).nullable())
                    }
                    "externalid" => present!(users::external_id),
                    "name" => Box::new(
                        users::first_name
                            .ne("")
                            .or(users::family_name.ne(""))
                            .or(users::father_name.ne(""))
                            .nullable(),
                    ),
                    "name.givenname" => present!(users::first_name.nullable()),
                    "name.familyname" => present!(users::family_name.nullable()),
                    "name.middlename" => present!(users::father_name.nullable()),
                    "name.formatted" => Box::new(
                        users::first_name
                            .ne("")
                            .or(users::family_name.ne(""))
                            .or(users::father_name.ne(""))
                            .nullable(),
                    ),
                    "emails" | "emails.value" => Box::new(
                        users::id
                            .eq_any(
                                user_emails::table
                                    .filter(user_emails::value_key.ne(""))
                                    .select(user_emails::user_id)
                                    .into_boxed(),
                            )
                            .nullable(),
                    ),
                    "phonenumbers" | "phonenumbers.value" => Box::new(
                        users::id
                            .eq_any(
                                user_phone_numbers::table
                                    .filter(user_phone_numbers::value.ne(""))
                                    .select(user_phone_numbers::user_id)
                                    .into_boxed(),
                            )
                            .nullable(),
                    ),
                    "groups" | "groups.value" => Box::new(
                        users::id
                            .eq_any(
                                group_members::table
                                    .select(group_members::user_id)
                                    .into_boxed(),
                            )
                            .nullable(),
                    ),
                    "manager" | "manager.value" => {
                        with_attributes(Box::new(ua::manager_id.is_not_null().nullable()))
                    }
                    _ if key.starts_with("emails.") => {
                        let p = email_sub(path, None, None, &NoKinds)?;
                        Box::new(
                            users::id
                                .eq_any(
                                    user_emails::table
                                        .filter(p)
                                        .select(user_emails::user_id)
                                        .into_boxed(),
                                )
                                .nullable(),
                        )
                    }
                    _ if key.starts_with("phonenumbers.") => {
                        let p = phone_sub(path, None, None, &NoKinds)?;
                        Box::new(
                            users::id
                                .eq_any(
                                    user_phone_numbers::table
                                        .filter(p)
                                        .select(user_phone_numbers::user_id)
                                        .into_boxed(),
                                )
                                .nullable(),
                        )
                    }
                    other => match side_column(other) {
                        Some(side) => with_attributes(side(None)),
                        None => return Err(unsupported(path)),
                    },
                })
            }

            fn user_compare(
                path: &AttrPath,
                op: CompareOp,
                value: &Value,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<users::table, DB>, String> {
                let core = "urn:ietf:params:scim:schemas:core:2.0:User";
                if !schema_ok(path, core, Some(ENTERPRISE)) {
                    return Err(unsupported(path));
                }
                let kind = attrs.kind(path).ok_or_else(|| unsupported(path))?;
                if let Value::Null = value {
                    return Err(format!(
                        "{path}: compare with null using 'pr' or 'not (... pr)'"
                    ));
                }
                let key = path.key();
                Ok(match key.as_str() {
                    "id" => uuid_eq!(
                        users::id,
                        Box::new(users::id.ne(users::id).nullable()),
                        op,
                        value,
                        path
                    ),
                    "username" => {
                        let (v, exact) = text_value(value, kind, path)?;
                        if exact {
                            text_cmp!(users::user_name.nullable(), op, v, path)
                        } else {
                            text_cmp!(users::user_name_key.nullable(), op, v, path)
                        }
                    }
                    "externalid" => text_attr!(users::external_id, op, value, kind, path),
                    "name.givenname" => {
                        text_attr!(users::first_name.nullable(), op, value, kind, path)
                    }
                    "name.familyname" => {
                        text_attr!(users::family_name.nullable(), op, value, kind, path)
                    }
                    "name.middlename" => {
                        text_attr!(users::father_name.nullable(), op, value, kind, path)
                    }
                    "active" => match (op, value) {
                        (CompareOp::Eq, Value::Bool(true)) => {
                            Box::new(users::status.eq("active").nullable())
                        }
                        (CompareOp::Eq, Value::Bool(false)) => {
                            Box::new(users::status.ne("active").nullable())
                        }
                        _ => {
                            return Err(format!("{path} compares with true or false using eq or ne"))
                        }
                    },
                    "meta.created" => time_cmp!(users::created_at, op, value, path),
                    "meta.lastmodified" => time_cmp!(users::updated_at, op, value, path),
                    "meta.resourcetype" => {
                        if constant_compare(path, op, value, "User", attrs)? {
                            Box::new(users::id.eq(users::id).nullable())
                        } else {
                            Box::new(users::id.ne(users::id).nullable())
                        }
                    }
                    "meta.version" => match (op, version_value(value, path)?) {
                        (CompareOp::Eq, Some(v)) => Box::new(users::version.eq(v).nullable()),
                        (CompareOp::Eq, None) => Box::new(users::id.ne(users::id).nullable()),
                        _ => return Err(bad_operator(path, op)),
                    },
                    "emails" | "emails.value" | "emails.type" | "emails.display"
                    | "emails.primary" => {
                        let sub = if key == "emails" {
                            relative(&AttrPath::new("value"), path)
                        } else {
                            path.clone()
                        };
                        let p = email_sub(&sub, Some(op), Some(value), attrs)?;
                        Box::new(
                            users::id
                                .eq_any(
                                    user_emails::table
                                        .filter(p)
                                        .select(user_emails::user_id)
                                        .into_boxed(),
                                )
                                .nullable(),
                        )
                    }
                    "phonenumbers"
                    | "phonenumbers.value"
                    | "phonenumbers.type"
                    | "phonenumbers.display"
                    | "phonenumbers.primary" => {
                        let sub = if key == "phonenumbers" {
                            relative(&AttrPath::new("value"), path)
                        } else {
                            path.clone()
                        };
                        let p = phone_sub(&sub, Some(op), Some(value), attrs)?;
                        Box::new(
                            users::id
                                .eq_any(
                                    user_phone_numbers::table
                                        .filter(p)
                                        .select(user_phone_numbers::user_id)
                                        .into_boxed(),
                                )
                                .nullable(),
                        )
                    }
                    "groups" | "groups.value" => match (op, uuid_value(value, path)?) {
                        (CompareOp::Eq, Some(g)) => Box::new(
                            users::id
                                .eq_any(
                                    group_members::table
                                        .filter(group_members::group_id.eq(Uid(g)))
                                        .select(group_members::user_id)
                                        .into_boxed(),
                                )
                                .nullable(),
                        ),
                        (CompareOp::Eq, None) => Box::new(users::id.ne(users::id).nullable()),
                        _ => return Err(bad_operator(path, op)),
                    },
                    "groups.display" => {
                        let (v, _) = text_value(value, kind, path)?;
                        let p: Predicate<groups::table, DB> =
                            text_cmp!(groups::name_key.nullable(), op, v, path);
                        Box::new(
                            users::id
                                .eq_any(
                                    group_members::table
                                        .filter(group_members::group_id.eq_any(
                                            groups::table.filter(p).select(groups::id).into_boxed(),
                                        ))
                                        .select(group_members::user_id)
                                        .into_boxed(),
                                )
                                .nullable(),
                        )
                    }
                    "manager" | "manager.value" => match (op, uuid_value(value, path)?) {
                        (CompareOp::Eq, Some(m)) => {
                            with_attributes(Box::new(ua::manager_id.eq(Uid(m))))
                        }
                        (CompareOp::Eq, None) => Box::new(users::id.ne(users::id).nullable()),
                        _ => return Err(bad_operator(path, op)),
                    },
                    other => match side_column(other) {
                        Some(side) => {
                            let (v, exact) = text_value(value, kind, path)?;
                            with_attributes(side(Some((op, v, exact))))
                        }
                        None => return Err(unsupported(path)),
                    },
                })
            }

            // ---- groups ----

            pub fn groups(
                f: &Filter,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<groups::table, DB>, String> {
                combine(f, &|atom| group_atom(atom, attrs))
            }

            fn group_atom(
                f: &Filter,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<groups::table, DB>, String> {
                let core = "urn:ietf:params:scim:schemas:core:2.0:Group";
                match f {
                    Filter::Present(path) => {
                        if !schema_ok(path, core, None) {
                            return Err(unsupported(path));
                        }
                        Ok(match path.key().as_str() {
                            "id" | "displayname" | "meta.created" | "meta.lastmodified"
                            | "meta.resourcetype" | "meta.version" => {
                                Box::new(groups::id.eq(groups::id).nullable())
                            }
                            "externalid" => present!(groups::external_id),
                            "members" | "members.value" => Box::new(
                                groups::id
                                    .eq_any(
                                        group_members::table
                                            .select(group_members::group_id)
                                            .into_boxed(),
                                    )
                                    .nullable(),
                            ),
                            _ => return Err(unsupported(path)),
                        })
                    }
                    Filter::Compare(path, op, value) => {
                        if !schema_ok(path, core, None) {
                            return Err(unsupported(path));
                        }
                        let kind = attrs.kind(path).ok_or_else(|| unsupported(path))?;
                        Ok(match path.key().as_str() {
                            "id" => uuid_eq!(
                                groups::id,
                                Box::new(groups::id.ne(groups::id).nullable()),
                                *op,
                                value,
                                path
                            ),
                            "displayname" => {
                                let (v, exact) = text_value(value, kind, path)?;
                                if exact {
                                    text_cmp!(groups::name.nullable(), *op, v, path)
                                } else {
                                    text_cmp!(groups::name_key.nullable(), *op, v, path)
                                }
                            }
                            "externalid" => text_attr!(groups::external_id, *op, value, kind, path),
                            "meta.created" => time_cmp!(groups::created_at, *op, value, path),
                            "meta.lastmodified" => time_cmp!(groups::updated_at, *op, value, path),
                            "meta.resourcetype" => {
                                if constant_compare(path, *op, value, "Group", attrs)? {
                                    Box::new(groups::id.eq(groups::id).nullable())
                                } else {
                                    Box::new(groups::id.ne(groups::id).nullable())
                                }
                            }
                            "meta.version" => match (op, version_value(value, path)?) {
                                (CompareOp::Eq, Some(v)) => {
                                    Box::new(groups::version.eq(v).nullable())
                                }
                                (CompareOp::Eq, None) => {
                                    Box::new(groups::id.ne(groups::id).nullable())
                                }
                                _ => return Err(bad_operator(path, *op)),
                            },
                            "members" | "members.value" => match (op, uuid_value(value, path)?) {
                                (CompareOp::Eq, Some(u)) => Box::new(
                                    groups::id
                                        .eq_any(
                                            group_members::table
                                                .filter(group_members::user_id.eq(Uid(u)))
                                                .select(group_members::group_id)
                                                .into_boxed(),
                                        )
                                        .nullable(),
                                ),
                                (CompareOp::Eq, None) => {
                                    Box::new(groups::id.ne(groups::id).nullable())
                                }
                                _ => return Err(bad_operator(path, *op)),
                            },
                            _ => return Err(unsupported(path)),
                        })
                    }
                    Filter::ValuePath(path, inner)
                        if schema_ok(path, core, None)
                            && path.name.eq_ignore_ascii_case("members") =>
                    {
                        let inner = combine(inner, &|a| membership_atom(a, path, "User", attrs))?;
                        Ok(Box::new(
                            groups::id
                                .eq_any(
                                    group_members::table
                                        .filter(inner)
                                        .select(group_members::group_id)
                                        .into_boxed(),
                                )
                                .nullable(),
                        ))
                    }
                    Filter::ValuePath(path, _) => Err(unsupported(path)),
                    _ => unreachable!("combined"),
                }
            }

            // ---- accounts (seed 002): users under their JSON:API names ----

            pub fn accounts(
                f: &Filter,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<users::table, DB>, String> {
                combine(f, &|atom| account_atom(atom, attrs))
            }

            /// Users holding a role (in any scope) whose row satisfies `p`.
            fn holding(p: Predicate<user_roles::table, DB>) -> Predicate<users::table, DB> {
                Box::new(
                    users::id
                        .eq_any(
                            user_roles::table
                                .filter(p)
                                .select(user_roles::user_id)
                                .into_boxed(),
                        )
                        .nullable(),
                )
            }

            /// Users with an unused password-reset token satisfying `p`.
            fn resetting(p: Predicate<account_tokens::table, DB>) -> Predicate<users::table, DB> {
                Box::new(
                    users::id
                        .eq_any(
                            account_tokens::table
                                .filter(account_tokens::purpose.eq(RESET_PURPOSE))
                                .filter(account_tokens::used_at.is_null())
                                .filter(p)
                                .select(account_tokens::user_id)
                                .into_boxed(),
                        )
                        .nullable(),
                )
            }

            fn account_atom(
                f: &Filter,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<users::table, DB>, String> {
                let always = || -> Predicate<users::table, DB> {
                    Box::new(users::id.eq(users::id).nullable())
                };
                let never = || -> Predicate<users::table, DB> {
                    Box::new(users::id.ne(users::id).nullable())
                };
                match f {
                    Filter::Present(path) => Ok(match path.key().as_str() {
                        "id" | "email" | "enabled" | "created_at" | "updated_at" => always(),
                        "name" => present!(users::name_key.nullable()),
                        "sso_channel" => present!(users::sso_channel),
                        "picture_url" => present!(users::picture_url),
                        "joined_at" => Box::new(users::joined_at.is_not_null().nullable()),
                        "invitation_expired_at" => {
                            Box::new(users::invitation_expires_at.is_not_null().nullable())
                        }
                        "role_name" | "role_scope" => holding(Box::new(
                            user_roles::user_id.eq(user_roles::user_id).nullable(),
                        )),
                        "password_reset_token" | "password_reset_token_expires_at" => {
                            resetting(Box::new(
                                account_tokens::user_id
                                    .eq(account_tokens::user_id)
                                    .nullable(),
                            ))
                        }
                        _ => return Err(unsupported(path)),
                    }),
                    Filter::Compare(path, op, value) => {
                        let op = *op;
                        let kind = attrs.kind(path).ok_or_else(|| unsupported(path))?;
                        Ok(match path.key().as_str() {
                            "id" => uuid_eq!(users::id, never(), op, value, path),
                            // Only the folded full name is stored: names
                            // compare without regard to case.
                            "name" => {
                                let ci = Kind::Str { case_exact: false };
                                let (v, _) = text_value(value, ci, path)?;
                                text_cmp!(users::name_key.nullable(), op, v, path)
                            }
                            "email" => keyed_text!(
                                users::email.nullable(),
                                users::email_key.nullable(),
                                op,
                                value,
                                kind,
                                path
                            ),
                            "sso_channel" => text_attr!(users::sso_channel, op, value, kind, path),
                            "picture_url" => text_attr!(users::picture_url, op, value, kind, path),
                            "enabled" => match (op, value) {
                                (CompareOp::Eq, Value::Bool(true)) => {
                                    Box::new(users::status.ne("suspended").nullable())
                                }
                                (CompareOp::Eq, Value::Bool(false)) => {
                                    Box::new(users::status.eq("suspended").nullable())
                                }
                                _ => return Err(format!("{path} compares with true or false")),
                            },
                            "role_name" => {
                                let (v, exact) = text_value(value, kind, path)?;
                                let named: Predicate<roles::table, DB> = if exact {
                                    text_cmp!(roles::name.nullable(), op, v, path)
                                } else {
                                    text_cmp!(roles::name_key.nullable(), op, v, path)
                                };
                                holding(Box::new(
                                    user_roles::role_id
                                        .eq_any(
                                            roles::table
                                                .filter(named)
                                                .select(roles::id)
                                                .into_boxed(),
                                        )
                                        .nullable(),
                                ))
                            }
                            "role_scope" => holding(text_attr!(
                                user_roles::scope.nullable(),
                                op,
                                value,
                                kind,
                                path
                            )),
                            "joined_at" => time_cmp_opt!(users::joined_at, op, value, path),
                            "invitation_expired_at" => {
                                time_cmp_opt!(users::invitation_expires_at, op, value, path)
                            }
                            "created_at" => time_cmp!(users::created_at, op, value, path),
                            "updated_at" => time_cmp!(users::updated_at, op, value, path),
                            // Only the hash of a token is stored: compare hashes.
                            "password_reset_token" => match (op, value) {
                                (CompareOp::Eq, Value::Str(token)) => resetting(Box::new(
                                    account_tokens::token_hash
                                        .eq(crate::domain::secret::hash_secret(token))
                                        .nullable(),
                                )),
                                (CompareOp::Eq, _) => {
                                    return Err(format!("{path} compares with a string"))
                                }
                                _ => return Err(bad_operator(path, op)),
                            },
                            "password_reset_token_expires_at" => {
                                resetting(time_cmp!(account_tokens::expires_at, op, value, path))
                            }
                            _ => return Err(unsupported(path)),
                        })
                    }
                    Filter::ValuePath(path, _) => Err(unsupported(path)),
                    _ => unreachable!("combined"),
                }
            }

            // ---- organizations (seed 002) ----

            pub fn organizations(
                f: &Filter,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<organizations::table, DB>, String> {
                combine(f, &|atom| organization_atom(atom, attrs))
            }

            fn organization_atom(
                f: &Filter,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<organizations::table, DB>, String> {
                match f {
                    Filter::Present(path) => match path.key().as_str() {
                        "id" | "name" | "created_at" | "updated_at" => {
                            Ok(Box::new(organizations::id.eq(organizations::id).nullable()))
                        }
                        _ => Err(unsupported(path)),
                    },
                    Filter::Compare(path, op, value) => {
                        let op = *op;
                        let kind = attrs.kind(path).ok_or_else(|| unsupported(path))?;
                        Ok(match path.key().as_str() {
                            "id" => uuid_eq!(
                                organizations::id,
                                Box::new(organizations::id.ne(organizations::id).nullable()),
                                op,
                                value,
                                path
                            ),
                            "name" => keyed_text!(
                                organizations::name.nullable(),
                                organizations::name_key.nullable(),
                                op,
                                value,
                                kind,
                                path
                            ),
                            "created_at" => time_cmp!(organizations::created_at, op, value, path),
                            "updated_at" => time_cmp!(organizations::updated_at, op, value, path),
                            _ => return Err(unsupported(path)),
                        })
                    }
                    Filter::ValuePath(path, _) => Err(unsupported(path)),
                    _ => unreachable!("combined"),
                }
            }

            // ---- account_sessions (seed 002): sessions ----

            pub fn sessions(
                f: &Filter,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<sessions::table, DB>, String> {
                combine(f, &|atom| session_atom(atom, attrs))
            }

            fn session_atom(
                f: &Filter,
                attrs: &dyn Attributes,
            ) -> Result<Predicate<sessions::table, DB>, String> {
                match f {
                    Filter::Present(path) => Ok(match path.key().as_str() {
                        "id" | "account_id" | "refresh_seq" | "created_at" => {
                            Box::new(sessions::id.eq(sessions::id).nullable())
                        }
                        "nonce" => present!(sessions::nonce.nullable()),
                        "user_agent" => present!(sessions::user_agent.nullable()),
                        "ip" => present!(sessions::ip_address),
                        _ => return Err(unsupported(path)),
                    }),
                    Filter::Compare(path, op, value) => {
                        let op = *op;
                        let kind = attrs.kind(path).ok_or_else(|| unsupported(path))?;
                        let never = || -> Predicate<sessions::table, DB> {
                            Box::new(sessions::id.ne(sessions::id).nullable())
                        };
                        Ok(match path.key().as_str() {
                            "id" => uuid_eq!(sessions::id, never(), op, value, path),
                            "account_id" => uuid_eq!(sessions::user_id, never(), op, value, path),
                            "refresh_seq" => int_cmp!(sessions::refresh_seq, op, value, path),
                            "nonce" => {
                                text_attr!(sessions::nonce.nullable(), op, value, kind, path)
                            }
                            "user_agent" => {
                                text_attr!(sessions::user_agent.nullable(), op, value, kind, path)
                            }
                            "ip" => text_attr!(sessions::ip_address, op, value, kind, path),
                            "created_at" => time_cmp!(sessions::created_at, op, value, path),
                            _ => return Err(unsupported(path)),
                        })
                    }
                    Filter::ValuePath(path, _) => Err(unsupported(path)),
                    _ => unreachable!("combined"),
                }
            }
        }
    };
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

backend!(pg, diesel::pg::Pg);
backend!(sqlite, diesel::sqlite::Sqlite);

#[cfg(test)]
mod tests {
    use super::*;
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

    /// Translating, rendering and dropping a filter at the limits fits in
    /// half a worker's stack, on both backends: the limits leave room.
    #[test]
    fn filters_at_the_limits_translate_on_a_small_stack() {
        crate::fuzz::on_small_stack(|| {
            for f in worst_cases() {
                assert_eq!(f.check_limits(), Ok(()));
                let pg = pg::accounts(&f, &NoKinds).unwrap();
                let sql = diesel::debug_query::<diesel::pg::Pg, _>(
                    &users::table.filter(pg).select(users::id),
                )
                .to_string();
                assert!(sql.contains("email_key"));
                let lite = sqlite::accounts(&f, &NoKinds).unwrap();
                let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(
                    &users::table.filter(lite).select(users::id),
                )
                .to_string();
                assert!(sql.contains("email_key"));
                let doc = serde_json::json!({ "email": "u3@a.example" });
                let _ = crate::domain::filter::matches(&doc, &f, &NoKinds);
            }
        });
    }
}
