//! SCIM's Group (RFC 7643 4.2) on `groups`, and memberships
//! (`group_members`), which a user's `groups[...]` and a group's
//! `members[...]` both filter.

use diesel::prelude::*;

use super::compare::{
    always, constant, keyed_text, never, present, refers_to, text, text_attr, time, uuid_eq,
    uuid_value, version, Term,
};
use super::sql::{id_in, param, Dialect};
use super::{
    bad_operator, combine, schema_ok, sub_name, sub_term, unsupported, value_term, Predicate,
    Vocabulary,
};
use crate::db::schema::{group_members, groups};
use crate::db::Uid;
use crate::domain::filter::{AttrPath, Attributes, CompareOp, Filter};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// SCIM's Group vocabulary.
pub struct ScimGroup;

impl Vocabulary for ScimGroup {
    type Table = groups::table;

    fn present<DB: Dialect>(path: &AttrPath) -> Result<Predicate<groups::table, DB>, String> {
        if !schema_ok(path, GROUP, None) {
            return Err(unsupported(path));
        }
        Ok(match path.key().as_str() {
            "id" | "displayname" | "meta.created" | "meta.lastmodified" | "meta.resourcetype"
            | "meta.version" => always(groups::id),
            "externalid" => present(groups::external_id),
            "members" | "members.value" => id_in(groups::id, group_members::group_id, None),
            _ => return Err(unsupported(path)),
        })
    }

    fn compare<DB: Dialect>(
        term: Term<'_>,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<groups::table, DB>, String> {
        let path = term.path;
        if !schema_ok(path, GROUP, None) {
            return Err(unsupported(path));
        }
        match path.key().as_str() {
            "id" => uuid_eq(groups::id, never(groups::id), term),
            "displayname" => keyed_text(groups::name.nullable(), groups::name_key.nullable(), term),
            "externalid" => text_attr(groups::external_id, term),
            "meta.created" => time(groups::created_at, term),
            "meta.lastmodified" => time(groups::updated_at, term),
            "meta.resourcetype" => constant(groups::id, term, "Group", attrs),
            "meta.version" => version(groups::version, groups::id, term),
            "members" | "members.value" => refers_to(
                groups::id,
                group_members::group_id,
                group_members::user_id,
                term,
            ),
            _ => Err(unsupported(path)),
        }
    }

    fn value_path<DB: Dialect>(
        path: &AttrPath,
        inner: &Filter,
        attrs: &dyn Attributes,
    ) -> Result<Predicate<groups::table, DB>, String> {
        if !(schema_ok(path, GROUP, None) && path.name.eq_ignore_ascii_case("members")) {
            return Err(unsupported(path));
        }
        let members = combine(inner, &|term| membership(term, path, "User", attrs))?;
        Ok(id_in(groups::id, group_members::group_id, Some(members)))
    }
}

/// One term inside a value path over memberships, seen from either side:
/// `groups[...]` on a user (`value` is the group, `display` its name,
/// `type` "direct") or `members[...]` on a group (`value` is the user,
/// `type` "User"); `type_name` is that constant.
pub fn membership<DB: Dialect>(
    term: &Filter,
    parent: &AttrPath,
    type_name: &str,
    attrs: &dyn Attributes,
) -> Result<Predicate<group_members::table, DB>, String> {
    let (path, cmp) = value_term(term, parent)?;
    let on_groups = parent.name.eq_ignore_ascii_case("groups");
    match (sub_name(&path).as_str(), sub_term(&path, cmp, attrs)) {
        ("value" | "type", None) => Ok(always(group_members::user_id)),
        ("value", Some(term)) if term.op == CompareOp::Eq => {
            let Some(id) = uuid_value(term.value, &path)? else {
                return Ok(never(group_members::user_id));
            };
            let id = param(Uid(id));
            Ok(if on_groups {
                Box::new(group_members::group_id.eq(id).nullable())
            } else {
                Box::new(group_members::user_id.eq(id).nullable())
            })
        }
        ("type", Some(term)) => constant(group_members::user_id, term, type_name, attrs),
        ("display", Some(term)) if on_groups => {
            let (v, _) = term.text()?;
            Ok(named(term.op, v))
        }
        ("display", None) if on_groups => Ok(always(group_members::user_id)),
        ("value", Some(term)) => Err(bad_operator(&path, term.op)),
        _ => Err(unsupported(&path)),
    }
}

/// Memberships of groups whose folded name compares with `v` (folded when
/// the comparison ignores case).
pub fn named<DB: Dialect>(op: CompareOp, v: String) -> Predicate<group_members::table, DB> {
    let names = text(groups::name_key.nullable(), op, v);
    id_in(group_members::group_id, groups::id, Some(names))
}
