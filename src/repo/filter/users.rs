//! SCIM's User (RFC 7643 4.1, with the enterprise extension of 4.3) on
//! `users` and its side tables: `user_emails`, `user_phone_numbers`,
//! `group_members` and `user_attributes` (the simple attributes SCIM adds).

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};

use super::compare::{
    always, constant, keyed_text, never, present, refers_to, text_attr, time, uuid_eq, uuid_value,
    version, Term,
};
use super::groups::{membership, named};
use super::sql::{id_in, param, text_param, Dialect, Operand};
use super::trigram;
use super::{
    bad_operator, combine, relative, schema_ok, sub_name, sub_term, unsupported, value_term,
    Comparison, NoKinds, Predicate, Vocabulary,
};
use crate::db::schema::{
    group_members, user_attributes as ua, user_emails, user_phone_numbers, users,
};
use crate::db::Uid;
use crate::domain::filter::{AttrPath, Attributes, CompareOp, Filter, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// SCIM's User vocabulary.
pub struct ScimUser;

impl Vocabulary for ScimUser {
    type Table = users::table;

    fn present<DB: Dialect>(path: &AttrPath) -> Result<Predicate<users::table, DB>, String> {
        if !schema_ok(path, USER, Some(ENTERPRISE)) {
            return Err(unsupported(path));
        }
        let key = path.key();
        Ok(match key.as_str() {
            "id" | "username" | "active" | "meta.created" | "meta.lastmodified"
            | "meta.resourcetype" | "meta.version" | "meta" => always(users::id),
            "externalid" => present(users::external_id),
            "name" | "name.formatted" => Box::new(
                users::first_name
                    .ne(text_param(""))
                    .or(users::family_name.ne(text_param("")))
                    .or(users::father_name.ne(text_param("")))
                    .nullable(),
            ),
            "name.givenname" => present(users::first_name.nullable()),
            "name.familyname" => present(users::family_name.nullable()),
            "name.middlename" => present(users::father_name.nullable()),
            "emails" | "emails.value" => with_emails(Box::new(
                user_emails::value_key.ne(text_param("")).nullable(),
            )),
            "phonenumbers" | "phonenumbers.value" => with_phones(Box::new(
                user_phone_numbers::value.ne(text_param("")).nullable(),
            )),
            "groups" | "groups.value" => id_in(users::id, group_members::user_id, None),
            "manager" | "manager.value" => {
                with_attributes(Box::new(ua::manager_id.is_not_null().nullable()))
            }
            _ if key.starts_with("emails.") => with_emails(email(path, None, &NoKinds)?),
            _ if key.starts_with("phonenumbers.") => with_phones(phone(path, None, &NoKinds)?),
            other => with_attributes(side_attribute(other, None, path)?),
        })
    }

    fn compare<DB: Dialect>(
        term: Term<'_>,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<users::table, DB>, String> {
        let Term {
            path, op, value, ..
        } = term;
        if !schema_ok(path, USER, Some(ENTERPRISE)) {
            return Err(unsupported(path));
        }
        if let Value::Null = value {
            return Err(format!(
                "{path}: compare with null using 'pr' or 'not (... pr)'"
            ));
        }
        let key = path.key();
        match key.as_str() {
            "id" => uuid_eq(users::id, never(users::id), term),
            "username" => trigram::keyed_text(
                users::user_name.nullable(),
                users::user_name_key.nullable(),
                "user_name_key",
                term,
            ),
            "externalid" => text_attr(users::external_id, term),
            "name.givenname" => text_attr(users::first_name.nullable(), term),
            "name.familyname" => text_attr(users::family_name.nullable(), term),
            "name.middlename" => text_attr(users::father_name.nullable(), term),
            "active" => match (op, value) {
                (CompareOp::Eq, Value::Bool(true)) => {
                    Ok(Box::new(users::status.eq(text_param("active")).nullable()))
                }
                (CompareOp::Eq, Value::Bool(false)) => {
                    Ok(Box::new(users::status.ne(text_param("active")).nullable()))
                }
                _ => Err(format!("{path} compares with true or false using eq or ne")),
            },
            "meta.created" => time(users::created_at, term),
            "meta.lastmodified" => time(users::updated_at, term),
            "meta.resourcetype" => constant(users::id, term, "User", attrs),
            "meta.version" => version(users::version, users::id, term),
            "emails" | "emails.value" | "emails.type" | "emails.display" | "emails.primary" => {
                let sub = value_of(path, &key, "emails");
                Ok(with_emails(email(&sub, Some((op, value)), attrs)?))
            }
            "phonenumbers"
            | "phonenumbers.value"
            | "phonenumbers.type"
            | "phonenumbers.display"
            | "phonenumbers.primary" => {
                let sub = value_of(path, &key, "phonenumbers");
                Ok(with_phones(phone(&sub, Some((op, value)), attrs)?))
            }
            "groups" | "groups.value" => refers_to(
                users::id,
                group_members::user_id,
                group_members::group_id,
                term,
            ),
            "groups.display" => {
                let (v, _) = term.text()?;
                Ok(in_groups(named(op, v)))
            }
            "manager" | "manager.value" => match (op, uuid_value(value, path)?) {
                (CompareOp::Eq, Some(m)) => {
                    let managed = ua::manager_id.eq(param(Uid(m)));
                    Ok(with_attributes(Box::new(managed)))
                }
                (CompareOp::Eq, None) => Ok(never(users::id)),
                _ => Err(bad_operator(path, op)),
            },
            other => Ok(with_attributes(side_attribute(other, Some(term), path)?)),
        }
    }

    fn value_path<DB: Dialect>(
        path: &AttrPath,
        inner: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<users::table, DB>, String> {
        if !schema_ok(path, USER, None) {
            return Err(unsupported(path));
        }
        match path.name.to_ascii_lowercase().as_str() {
            "emails" => Ok(with_emails(combine(inner, &|term| {
                let (sub, cmp) = value_term(term, path)?;
                email(&sub, cmp, attrs)
            })?)),
            "groups" => Ok(in_groups(combine(inner, &|term| {
                membership(term, path, "direct", attrs)
            })?)),
            "phonenumbers" => Ok(with_phones(combine(inner, &|term| {
                let (sub, cmp) = value_term(term, path)?;
                phone(&sub, cmp, attrs)
            })?)),
            _ => Err(unsupported(path)),
        }
    }
}

/// `emails` alone compares `emails.value`.
fn value_of(path: &AttrPath, key: &str, attribute: &str) -> AttrPath {
    if key == attribute {
        relative(&AttrPath::new("value"), path)
    } else {
        path.clone()
    }
}

/// Users with an email satisfying `p`.
fn with_emails<DB: Dialect>(p: Predicate<user_emails::table, DB>) -> Predicate<users::table, DB> {
    id_in(users::id, user_emails::user_id, Some(p))
}

/// Users with a phone number satisfying `p`.
fn with_phones<DB: Dialect>(
    p: Predicate<user_phone_numbers::table, DB>,
) -> Predicate<users::table, DB> {
    id_in(users::id, user_phone_numbers::user_id, Some(p))
}

/// Users with a membership satisfying `p`.
fn in_groups<DB: Dialect>(p: Predicate<group_members::table, DB>) -> Predicate<users::table, DB> {
    id_in(users::id, group_members::user_id, Some(p))
}

/// Users whose side-table row satisfies `p`.
fn with_attributes<DB: Dialect>(p: Predicate<ua::table, DB>) -> Predicate<users::table, DB> {
    id_in(users::id, ua::user_id, Some(p))
}

/// A comparison (or, with `cmp` None, a presence test) on a sub-attribute
/// of `emails`. Case-insensitive values compare the folded `value_key`.
fn email<DB: Dialect>(
    path: &AttrPath,
    cmp: Comparison<'_>,
    attrs: &dyn Attributes,
) -> Result<Predicate<user_emails::table, DB>, String> {
    let value_key = user_emails::value_key.nullable();
    match (sub_name(path).as_str(), sub_term(path, cmp, attrs)) {
        ("value", None) => Ok(present(value_key)),
        ("value", Some(term)) => keyed_text(user_emails::value.nullable(), value_key, term),
        (sub, term) => {
            let columns = (
                user_emails::kind,
                user_emails::display,
                user_emails::is_primary,
            );
            plural(columns, sub, term, path)
        }
    }
}

/// [`email`] for `phoneNumbers`, whose values compare folded in SQL.
fn phone<DB: Dialect>(
    path: &AttrPath,
    cmp: Comparison<'_>,
    attrs: &dyn Attributes,
) -> Result<Predicate<user_phone_numbers::table, DB>, String> {
    use user_phone_numbers as phones;
    match (sub_name(path).as_str(), sub_term(path, cmp, attrs)) {
        ("value", None) => Ok(present(phones::value.nullable())),
        ("value", Some(term)) => text_attr(phones::value.nullable(), term),
        (sub, term) => plural(
            (phones::kind, phones::display, phones::is_primary),
            sub,
            term,
            path,
        ),
    }
}

/// `type`, `display` and `primary` of a multi-valued attribute's row
/// (RFC 7643 2.4), given as those three columns.
fn plural<S: Table + 'static, DB: Dialect>(
    (kind, display, primary): (
        impl Operand<S, DB, Nullable<Text>>,
        impl Operand<S, DB, Nullable<Text>>,
        impl Operand<S, DB, Bool>,
    ),
    sub: &str,
    term: Option<Term<'_>>,
    path: &AttrPath,
) -> Result<Predicate<S, DB>, String> {
    match (sub, term) {
        ("type", None) => Ok(present(kind)),
        ("type", Some(term)) => text_attr(kind, term),
        ("display", None) => Ok(present(display)),
        ("display", Some(term)) => text_attr(display, term),
        ("primary", None) => Ok(Box::new(primary.eq(param(true)).nullable())),
        ("primary", Some(term)) => match (term.op, term.value) {
            (CompareOp::Eq, Value::Bool(b)) => Ok(Box::new(primary.eq(param(*b)).nullable())),
            _ => Err(unsupported(path)),
        },
        _ => Err(unsupported(path)),
    }
}

/// A simple attribute kept in `user_attributes` (`title`, `locale`, the
/// enterprise extension's `department`...): a presence test, or with
/// `term` a comparison.
fn side_attribute<DB: Dialect>(
    name: &str,
    term: Option<Term<'_>>,
    path: &AttrPath,
) -> Result<Predicate<ua::table, DB>, String> {
    match name {
        "displayname" => side(ua::display_name, term),
        "nickname" => side(ua::nick_name, term),
        "title" => side(ua::title, term),
        "usertype" => side(ua::user_type, term),
        "preferredlanguage" => side(ua::preferred_language, term),
        "locale" => side(ua::locale, term),
        "timezone" => side(ua::timezone, term),
        "profileurl" => side(ua::profile_url, term),
        "employeenumber" => side(ua::employee_number, term),
        "costcenter" => side(ua::cost_center, term),
        "organization" => side(ua::organization, term),
        "division" => side(ua::division, term),
        "department" => side(ua::department, term),
        _ => Err(unsupported(path)),
    }
}

fn side<DB: Dialect>(
    column: impl Operand<ua::table, DB, Nullable<Text>>,
    term: Option<Term<'_>>,
) -> Result<Predicate<ua::table, DB>, String> {
    match term {
        None => Ok(present(column)),
        Some(term) => text_attr(column, term),
    }
}
