//! SCIM PATCH (RFC 7644 3.5.2). A user's operations are applied to its
//! JSON representation, which then replaces the user through the same
//! path as PUT; a group's become set-based membership changes, so that
//! ten thousand members are a few statements. All operations or none.
//!
//! Accepted beside the RFC's letter, because identity providers send them:
//! capitalised op names ("Replace"), values without a path whose keys are
//! paths ("name.givenName"), extension attributes without their URN
//! ("manager"), booleans as strings ("False"), members removed
//! by a value array, and add or replace through a value filter that matches
//! nothing (it creates the value the filter describes). Read-only
//! attributes inside a value without a path (Okta repeats the `id`) are
//! skipped; named by a path, they are a `mutability` error.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::error::{ScimError, ScimResult};
use super::filter;
use super::resources::{get, member_ids};
use super::schema::{ScimAttributes, ENTERPRISE, PATCH_OP, USER};
use crate::domain::filter::{AttrPath, Attributes, CompareOp, Filter, Value as FValue};
use crate::service::provisioning::GroupChange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub op: Op,
    pub path: Option<Path>,
    pub value: Option<Value>,
}

/// `attr[filter].sub`, parsed.
#[derive(Debug, Clone)]
pub struct Path {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter.
    pub sub: Option<String>,
}

fn invalid_path(detail: impl Into<String>) -> ScimError {
    ScimError::new(400, "invalidPath", detail)
}

/// Parses `attr[filter].sub`. The path's length and nesting are checked
/// before its filter is parsed, so a path too deep is an `invalidPath`.
pub fn parse_path(raw: &str) -> ScimResult<Path> {
    let raw = raw.trim();
    filter::check_text(raw, "path").map_err(invalid_path)?;
    match raw.find('[') {
        None => Ok(Path {
            attr: filter::attr_path(raw).map_err(invalid_path)?,
            filter: None,
            sub: None,
        }),
        Some(open) => {
            let close = raw
                .rfind(']')
                .ok_or_else(|| invalid_path(format!("{raw}: unclosed '['")))?;
            let attr = filter::attr_path(&raw[..open]).map_err(invalid_path)?;
            let inner = filter::parse(&raw[open + 1..close])
                .map_err(|e| ScimError::new(400, "invalidFilter", e))?;
            let rest = &raw[close + 1..];
            let sub = match rest.strip_prefix('.') {
                Some(s)
                    if !s.is_empty()
                        && s.chars().all(|c| {
                            c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$'
                        }) =>
                {
                    Some(s.to_string())
                }
                None if rest.is_empty() => None,
                _ => return Err(invalid_path(format!("{raw} is not a path"))),
            };
            Ok(Path {
                attr,
                filter: Some(inner),
                sub,
            })
        }
    }
}

/// Reads a PatchOp request.
pub fn parse(body: &Value) -> ScimResult<Vec<Operation>> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    }
    super::resources::check_schemas(body, PATCH_OP, &[PATCH_OP])?;
    let Some(Value::Array(ops)) = get(body, "Operations") else {
        return Err(ScimError::invalid_value(
            "Operations: must be an array of operations",
        ));
    };
    if ops.is_empty() {
        return Err(ScimError::invalid_value("Operations: must not be empty"));
    }
    ops.iter()
        .enumerate()
        .map(|(i, o)| {
            let op = match get(o, "op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("add") => Op::Add,
                Some("replace") => Op::Replace,
                Some("remove") => Op::Remove,
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "Operations[{i}].op: must be add, replace or remove"
                    )))
                }
            };
            let path = match get(o, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if p.trim().is_empty() => None,
                Some(Value::String(p)) => Some(parse_path(p)?),
                Some(_) => {
                    return Err(invalid_path(format!(
                        "Operations[{i}].path: must be a string"
                    )))
                }
            };
            let value = get(o, "value").cloned();
            if op != Op::Remove && value.is_none() {
                return Err(ScimError::invalid_value(
                    format!("Operations[{i}].value: is required for {op:?}").to_lowercase(),
                ));
            }
            if op == Op::Remove && path.is_none() {
                return Err(ScimError::new(
                    400,
                    "noTarget",
                    format!("Operations[{i}]: remove needs a path"),
                ));
            }
            Ok(Operation { op, path, value })
        })
        .collect()
}

// ---- users: operations on the JSON representation ----

const READ_ONLY: [&str; 3] = ["id", "meta", "groups"];

fn key_of(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// The object holding `path`'s attribute: the resource, or the extension
/// object its URN names (created when adding).
fn holder<'a>(
    resource: &'a mut Map<String, Value>,
    attr: &AttrPath,
    create: bool,
) -> ScimResult<Option<&'a mut Map<String, Value>>> {
    match &attr.schema {
        None => Ok(Some(resource)),
        Some(urn) if urn.eq_ignore_ascii_case(USER) => Ok(Some(resource)),
        Some(urn) if urn.eq_ignore_ascii_case(ENTERPRISE) => {
            let key = key_of(resource, ENTERPRISE).unwrap_or_else(|| ENTERPRISE.to_string());
            if !resource.contains_key(&key) {
                if !create {
                    return Ok(None);
                }
                resource.insert(key.clone(), json!({}));
                add_schema(resource, ENTERPRISE);
            }
            match resource.get_mut(&key) {
                Some(Value::Object(o)) => Ok(Some(o)),
                _ => Err(ScimError::invalid_value(format!(
                    "{ENTERPRISE}: must be an object"
                ))),
            }
        }
        Some(urn) => Err(invalid_path(format!(
            "{urn} is not a schema of this resource"
        ))),
    }
}

fn add_schema(resource: &mut Map<String, Value>, urn: &str) {
    if let Some(Value::Array(s)) = resource.get_mut("schemas") {
        if !s
            .iter()
            .any(|v| v.as_str().is_some_and(|x| x.eq_ignore_ascii_case(urn)))
        {
            s.push(json!(urn));
        }
    }
}

fn multi_valued(attrs: &dyn Attributes, attr: &AttrPath) -> bool {
    attrs.is_multi_valued(&AttrPath {
        sub: None,
        ..attr.clone()
    })
}

/// The attribute a user path names, its schema made explicit: an
/// unqualified name of the enterprise extension is the extension's, as in
/// filters (RFC 7644 3.10 asks clients to qualify extension attributes;
/// older Entra ID requests name `manager` bare). A path no schema of the
/// resource defines, down to its sub-attribute, is an invalidPath rather
/// than a change that silently does nothing.
fn resolve(path: &Path, attrs: &ScimAttributes) -> ScimResult<Path> {
    let attr = &path.attr;
    // externalId is a common attribute (RFC 7643 3.1), in no schema.
    if attr.schema.is_none() && attr.is("externalId", None) && path.sub.is_none() {
        return Ok(path.clone());
    }
    let schemas: Vec<&str> = match &attr.schema {
        None => vec![USER, ENTERPRISE],
        Some(urn) => vec![urn.as_str()],
    };
    let defines = |schema: &str, sub: Option<&String>| {
        attrs
            .definition(&AttrPath {
                schema: Some(schema.to_string()),
                name: attr.name.clone(),
                sub: sub.cloned(),
            })
            .is_some()
    };
    let schema = schemas
        .iter()
        .find(|s| defines(s, None))
        .ok_or_else(|| invalid_path(format!("{attr} is not an attribute of a User")))?;
    for sub in [&attr.sub, &path.sub].into_iter().flatten() {
        if !defines(schema, Some(sub)) {
            return Err(invalid_path(format!(
                "{}.{sub} is not an attribute of a User",
                attr.name
            )));
        }
    }
    let mut resolved = path.clone();
    if schema.eq_ignore_ascii_case(ENTERPRISE) {
        resolved.attr.schema = Some(ENTERPRISE.to_string());
    }
    Ok(resolved)
}

/// Applies operations to a user's representation.
pub fn apply_to_user(
    resource: &mut Value,
    ops: &[Operation],
    attrs: &ScimAttributes,
) -> ScimResult<()> {
    let Value::Object(map) = resource else {
        return Err(ScimError::invalid_syntax("not an object"));
    };
    for op in ops {
        match &op.path {
            None => {
                // A value without a path: each key is a path of its own.
                let Some(Value::Object(value)) = &op.value else {
                    return Err(ScimError::invalid_value(
                        "an operation without a path needs an object value",
                    ));
                };
                for (key, v) in value {
                    // Okta repeats the id (and others the meta) in the value.
                    if key.eq_ignore_ascii_case("schemas")
                        || READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(key))
                    {
                        continue;
                    }
                    if key.eq_ignore_ascii_case(ENTERPRISE) {
                        // The extension's attributes, one by one.
                        let Value::Object(ext) = v else {
                            return Err(ScimError::invalid_value(format!(
                                "{ENTERPRISE}: must be an object"
                            )));
                        };
                        for (k, ev) in ext {
                            let path = parse_path(&format!("{ENTERPRISE}:{k}"))?;
                            apply_one(map, op.op, &path, Some(ev), attrs)?;
                        }
                        continue;
                    }
                    let path = parse_path(key)?;
                    apply_one(map, op.op, &path, Some(v), attrs)?;
                }
            }
            Some(path) => apply_one(map, op.op, path, op.value.as_ref(), attrs)?,
        }
    }
    Ok(())
}

/// Applies one operation to the attribute `path` names.
fn apply_one(
    resource: &mut Map<String, Value>,
    op: Op,
    path: &Path,
    value: Option<&Value>,
    attrs: &ScimAttributes,
) -> ScimResult<()> {
    let attr = &path.attr;
    if attr.schema.is_none() && READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(&attr.name)) {
        return Err(ScimError::new(
            400,
            "mutability",
            format!("{} is read-only", attr.name),
        ));
    }
    if attr.schema.is_none() && attr.name.eq_ignore_ascii_case("schemas") {
        return Ok(());
    }
    let path = &resolve(path, attrs)?;
    let attr = &path.attr;
    let multi = multi_valued(attrs, attr);
    let Some(target) = holder(resource, attr, op != Op::Remove)? else {
        return Ok(());
    };
    let key = key_of(target, &attr.name).unwrap_or_else(|| attr.name.clone());
    match (&path.filter, &attr.sub) {
        // name.givenName: a sub-attribute of a single complex attribute.
        (None, Some(_)) if multi => Err(invalid_path(format!(
            "{attr}: use a value filter to select values of {}",
            attr.name
        ))),
        (None, Some(sub)) => {
            apply_to_sub_attribute(target, key, sub, op, value);
            Ok(())
        }
        // emails, title, name: a whole attribute.
        (None, None) => apply_to_attribute(target, key, op, value, multi, attr),
        // emails[type eq "work"] or emails[type eq "work"].value
        (Some(_), None) if !multi => Err(invalid_path(format!(
            "{}: value filters apply to multi-valued attributes",
            attr.name
        ))),
        (Some(filter), None) => {
            let items = array_at(target, key);
            let selected = Selected {
                matching: matching_values(items, filter, attr, attrs),
                filter,
                sub: path.sub.as_deref(),
            };
            apply_to_selected(items, &selected, op, value, attr)
        }
        (Some(_), Some(_)) => Err(invalid_path(format!("{attr} is not a path"))),
    }
}

/// The object at `key`, made one if it is anything else.
fn object_at(target: &mut Map<String, Value>, key: String) -> &mut Map<String, Value> {
    let entry = target.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("object")
}

/// The array at `key`, made one if it is anything else.
fn array_at(target: &mut Map<String, Value>, key: String) -> &mut Vec<Value> {
    let entry = target.entry(key).or_insert_with(|| json!([]));
    if !entry.is_array() {
        *entry = json!([]);
    }
    entry.as_array_mut().expect("array")
}

/// `name.givenName`: one sub-attribute of a single complex attribute.
fn apply_to_sub_attribute(
    target: &mut Map<String, Value>,
    key: String,
    sub: &str,
    op: Op,
    value: Option<&Value>,
) {
    match op {
        Op::Remove => {
            if let Some(Value::Object(o)) = target.get_mut(&key) {
                if let Some(k) = key_of(o, sub) {
                    o.remove(&k);
                }
            }
        }
        Op::Add | Op::Replace => {
            let o = object_at(target, key);
            let k = key_of(o, sub).unwrap_or_else(|| sub.to_string());
            o.insert(k, value.cloned().unwrap_or(Value::Null));
        }
    }
}

/// `emails`, `title`, `name`: a whole attribute.
fn apply_to_attribute(
    target: &mut Map<String, Value>,
    key: String,
    op: Op,
    value: Option<&Value>,
    multi: bool,
    attr: &AttrPath,
) -> ScimResult<()> {
    match op {
        Op::Remove => remove_attribute(target, &key, value, multi),
        Op::Add if multi => add_values(target, key, value, attr)?,
        Op::Add | Op::Replace => set_attribute(target, key, op, value, multi),
    }
    Ok(())
}

/// Removes the attribute or, given an array of values of a multi-valued
/// one, the values listed.
fn remove_attribute(
    target: &mut Map<String, Value>,
    key: &str,
    value: Option<&Value>,
    multi: bool,
) {
    match value {
        Some(Value::Array(listed)) if multi => {
            if let Some(Value::Array(items)) = target.get_mut(key) {
                items.retain(|i| !listed.iter().any(|l| same_value(i, l)));
            }
        }
        _ => {
            target.remove(key);
        }
    }
}

/// Adds values (an array, or one object) to a multi-valued attribute, each
/// once; a new primary value demotes the others.
fn add_values(
    target: &mut Map<String, Value>,
    key: String,
    value: Option<&Value>,
    attr: &AttrPath,
) -> ScimResult<()> {
    let new: Vec<Value> = match value {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => {
            return Err(ScimError::invalid_value(format!(
                "{attr}: add needs values"
            )))
        }
    };
    let items = array_at(target, key);
    let makes_primary = new.iter().any(|n| get(n, "primary").is_some_and(is_true));
    if makes_primary {
        clear_primary(items);
    }
    for n in new {
        if !items.iter().any(|i| same_value(i, &n)) {
            items.push(n);
        }
    }
    Ok(())
}

/// Sets the attribute to the value: adding to a single complex attribute
/// merges its sub-attributes; a lone object given to a multi-valued one
/// becomes its only value.
fn set_attribute(
    target: &mut Map<String, Value>,
    key: String,
    op: Op,
    value: Option<&Value>,
    multi: bool,
) {
    let v = value.cloned().unwrap_or(Value::Null);
    match (op, target.get_mut(&key), &v) {
        (Op::Add, Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, nv) in new {
                let k2 = key_of(existing, k).unwrap_or_else(|| k.clone());
                existing.insert(k2, nv.clone());
            }
        }
        _ => {
            let v = if multi && v.is_object() {
                Value::Array(vec![v])
            } else {
                v
            };
            target.insert(key, v);
        }
    }
}

/// The values of a multi-valued attribute a value filter selects, and what
/// of them the path names: a sub-attribute, or each value whole.
struct Selected<'a> {
    /// Indexes into the attribute's values.
    matching: Vec<usize>,
    filter: &'a Filter,
    sub: Option<&'a str>,
}

/// The indexes of the values (objects) `filter` matches, its attribute
/// names relative to `attr`.
fn matching_values(
    items: &[Value],
    filter: &Filter,
    attr: &AttrPath,
    attrs: &ScimAttributes,
) -> Vec<usize> {
    let relative = Relative {
        parent: attr,
        attrs,
    };
    items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.is_object() && crate::domain::filter::matches(i, filter, &relative))
        .map(|(n, _)| n)
        .collect()
}

/// `emails[type eq "work"]` or `emails[type eq "work"].value`.
fn apply_to_selected(
    items: &mut Vec<Value>,
    selected: &Selected,
    op: Op,
    value: Option<&Value>,
    attr: &AttrPath,
) -> ScimResult<()> {
    match op {
        Op::Remove => {
            remove_selected(items, selected);
            Ok(())
        }
        Op::Add | Op::Replace => {
            let v = value.cloned().unwrap_or(Value::Null);
            if selected.matching.is_empty() {
                add_described(items, selected, v, attr)
            } else {
                set_selected(items, selected, op, v, attr)
            }
        }
    }
}

/// Removes the selected values, or their sub-attribute.
fn remove_selected(items: &mut Vec<Value>, selected: &Selected) {
    if let Some(s) = selected.sub {
        for n in &selected.matching {
            if let Some(o) = items[*n].as_object_mut() {
                if let Some(k) = key_of(o, s) {
                    o.remove(&k);
                }
            }
        }
    } else {
        let mut n = 0;
        items.retain(|_| {
            let keep = !selected.matching.contains(&n);
            n += 1;
            keep
        });
    }
}

/// Nothing matches: adds the value the filter describes, with `v` as its
/// sub-attribute or merged into it.
fn add_described(
    items: &mut Vec<Value>,
    selected: &Selected,
    v: Value,
    attr: &AttrPath,
) -> ScimResult<()> {
    let mut made = described(selected.filter);
    match selected.sub {
        Some(s) => {
            made.insert(s.to_string(), v);
        }
        None => match v {
            Value::Object(o) => made.extend(o),
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "{attr}: needs an object value"
                )))
            }
        },
    }
    if made.get("primary").is_some_and(is_true) {
        clear_primary(items);
    }
    items.push(Value::Object(made));
    Ok(())
}

/// Sets the selected values' sub-attribute, or merges `v` into each of them
/// (replacing them whole on replace). A value made primary demotes the
/// values the filter did not select.
fn set_selected(
    items: &mut [Value],
    selected: &Selected,
    op: Op,
    v: Value,
    attr: &AttrPath,
) -> ScimResult<()> {
    let matching = &selected.matching;
    let makes_primary = match selected.sub {
        Some(s) => s.eq_ignore_ascii_case("primary") && is_true(&v),
        None => get(&v, "primary").is_some_and(is_true),
    };
    if makes_primary {
        for (n, item) in items.iter_mut().enumerate() {
            if !matching.contains(&n) {
                clear_primary(std::slice::from_mut(item));
            }
        }
    }
    for n in matching {
        let Some(o) = items[*n].as_object_mut() else {
            continue;
        };
        match (selected.sub, &v) {
            (Some(s), _) => {
                let k = key_of(o, s).unwrap_or_else(|| s.to_string());
                o.insert(k, v.clone());
            }
            (None, Value::Object(new)) => {
                if op == Op::Replace {
                    o.clear();
                }
                for (k, nv) in new {
                    o.insert(k.clone(), nv.clone());
                }
            }
            (None, _) => {
                return Err(ScimError::invalid_value(format!(
                    "{attr}: needs an object value"
                )))
            }
        }
    }
    Ok(())
}

fn is_true(v: &Value) -> bool {
    matches!(v, Value::Bool(true)) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

/// Only one value may be primary: a new primary demotes the others.
fn clear_primary(items: &mut [Value]) {
    for i in items.iter_mut().filter_map(Value::as_object_mut) {
        if let Some(k) = key_of(i, "primary") {
            i.insert(k, json!(false));
        }
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (get(a, "value"), get(b, "value")) {
        (Some(x), Some(y)) => match (x.as_str(), y.as_str()) {
            (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
            _ => x == y,
        },
        _ => a == b,
    }
}

/// The attributes an `eq`-only filter pins down: `type eq "work"` describes
/// `{"type": "work"}`.
fn described(f: &Filter) -> Map<String, Value> {
    let mut out = Map::new();
    match f {
        Filter::Compare(p, CompareOp::Eq, v) => {
            let v = match v {
                FValue::Str(s) => json!(s),
                FValue::Bool(b) => json!(b),
                FValue::Num(n) => json!(n),
                FValue::Null => Value::Null,
            };
            out.insert(p.name.clone(), v);
        }
        Filter::And(a, b) => {
            out.extend(described(a));
            out.extend(described(b));
        }
        _ => {}
    }
    out
}

struct Relative<'a> {
    parent: &'a AttrPath,
    attrs: &'a dyn Attributes,
}

impl Attributes for Relative<'_> {
    fn kind(&self, path: &AttrPath) -> Option<crate::domain::filter::Kind> {
        self.attrs.kind(&AttrPath {
            schema: self.parent.schema.clone(),
            name: self.parent.name.clone(),
            sub: Some(path.name.clone()),
        })
    }
    fn is_multi_valued(&self, _: &AttrPath) -> bool {
        false
    }
}

// ---- groups: membership changes ----

/// The member ids a `members[...]` filter selects: `value eq "id"`, or
/// several of them joined by `or`.
fn selected_members(f: &Filter) -> ScimResult<Vec<Uuid>> {
    match f {
        Filter::Compare(p, CompareOp::Eq, FValue::Str(v)) if p.is("value", None) => {
            Ok(Uuid::parse_str(v).into_iter().collect())
        }
        Filter::Or(a, b) => {
            let mut ids = selected_members(a)?;
            ids.extend(selected_members(b)?);
            Ok(ids)
        }
        _ => Err(ScimError::new(
            400,
            "invalidFilter",
            "members are selected by value eq \"<id>\" (joined by or)",
        )),
    }
}

/// Turns operations on a group into one change.
pub fn group_change(ops: &[Operation]) -> ScimResult<GroupChange> {
    let mut change = GroupChange::default();
    for op in ops {
        match &op.path {
            None => {
                let Some(Value::Object(value)) = &op.value else {
                    return Err(ScimError::invalid_value(
                        "an operation without a path needs an object value",
                    ));
                };
                for (key, v) in value {
                    // Okta sends {"id": ..., "displayName": ...} to rename.
                    if ["id", "meta", "schemas"]
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case(key))
                    {
                        continue;
                    }
                    let path = parse_path(key)?;
                    group_attribute(&mut change, op.op, &path, Some(v))?;
                }
            }
            Some(path) => group_attribute(&mut change, op.op, path, op.value.as_ref())?,
        }
    }
    Ok(change)
}

fn group_attribute(
    change: &mut GroupChange,
    op: Op,
    path: &Path,
    value: Option<&Value>,
) -> ScimResult<()> {
    let name = path.attr.name.to_ascii_lowercase();
    match (name.as_str(), &path.filter, op) {
        ("schemas", _, _) => {}
        ("id" | "meta", _, _) => {
            return Err(ScimError::new(
                400,
                "mutability",
                format!("{} is read-only", path.attr.name),
            ))
        }
        ("displayname", None, Op::Add | Op::Replace) => match value {
            Some(Value::String(s)) => change.display_name = Some(s.clone()),
            _ => return Err(ScimError::invalid_value("displayName: must be a string")),
        },
        ("displayname", None, Op::Remove) => {
            return Err(ScimError::new(400, "mutability", "displayName is required"))
        }
        ("externalid", None, Op::Add | Op::Replace) => match value {
            Some(Value::String(s)) => change.external_id = Some(Some(s.clone())),
            Some(Value::Null) => change.external_id = Some(None),
            _ => return Err(ScimError::invalid_value("externalId: must be a string")),
        },
        ("externalid", None, Op::Remove) => change.external_id = Some(None),
        ("members", None, Op::Add) => {
            change
                .add_members
                .extend(member_ids(value.unwrap_or(&Value::Null), "members")?);
        }
        ("members", None, Op::Replace) => {
            change.replace_members = Some(member_ids(value.unwrap_or(&Value::Null), "members")?);
            change.add_members.clear();
            change.remove_members.clear();
        }
        ("members", None, Op::Remove) => match value {
            // Entra ID and Okta: remove the members listed in the value.
            Some(v @ (Value::Array(_) | Value::Object(_))) => {
                change.remove_members.extend(member_ids(v, "members")?)
            }
            _ => change.remove_all_members = true,
        },
        ("members", Some(f), Op::Remove) => change.remove_members.extend(selected_members(f)?),
        ("members", Some(_), _) => {
            return Err(invalid_path(
                "members are added or replaced without a filter",
            ))
        }
        _ => {
            return Err(invalid_path(format!(
                "{} cannot be changed on a group",
                path.attr
            )))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::scim::schema::{Resource, ScimAttributes};

    fn apply(resource: Value, ops: Value) -> Value {
        let body = json!({ "schemas": [PATCH_OP], "Operations": ops });
        let ops = parse(&body).unwrap();
        let mut r = resource;
        apply_to_user(&mut r, &ops, &ScimAttributes(Resource::User)).unwrap();
        r
    }

    fn user() -> Value {
        json!({
            "schemas": [USER], "id": "1", "userName": "bjensen", "active": true,
            "name": { "givenName": "Barbara", "familyName": "Jensen" },
            "emails": [{ "value": "b@work.example", "type": "work", "primary": true }, { "value": "b@home.example", "type": "home", "primary": false }]
        })
    }

    #[test]
    fn entra_forms() {
        let r = apply(
            user(),
            json!([
                { "op": "Replace", "path": "active", "value": "False" },
                { "op": "Replace", "value": { "name.givenName": "Babs", "displayName": "Babs J" } },
                { "op": "Add", "path": "emails[type eq \"other\"].value", "value": "b@other.example" },
                { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "bj@work.example" },
                { "op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales" }
            ]),
        );
        assert_eq!(r["active"], "False");
        assert_eq!(r["name"]["givenName"], "Babs");
        assert_eq!(r["name"]["familyName"], "Jensen");
        assert_eq!(r["displayName"], "Babs J");
        let emails = r["emails"].as_array().unwrap();
        assert_eq!(emails.len(), 3);
        assert_eq!(emails[0]["value"], "bj@work.example");
        assert_eq!(
            emails[2],
            json!({ "type": "other", "value": "b@other.example" })
        );
        assert_eq!(r[ENTERPRISE]["department"], "Sales");
        assert!(r["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(ENTERPRISE)));
    }

    #[test]
    fn removes_and_errors() {
        let r = apply(
            user(),
            json!([
                { "op": "remove", "path": "emails[type eq \"home\"]" },
                { "op": "remove", "path": "name.familyName" }
            ]),
        );
        assert_eq!(r["emails"].as_array().unwrap().len(), 1);
        assert!(r["name"].get("familyName").is_none());
        let body = json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "replace", "path": "id", "value": "2" }] });
        let ops = parse(&body).unwrap();
        let mut r = user();
        assert!(apply_to_user(&mut r, &ops, &ScimAttributes(Resource::User)).is_err());
        for bad in [
            json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "move", "path": "x", "value": 1 }] }),
            json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "remove" }] }),
            json!({ "schemas": [PATCH_OP], "Operations": [] }),
            json!({ "Operations": [{ "op": "add", "path": "title", "value": "x" }] }),
            json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "add", "path": "emails[type eq", "value": "x" }] }),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn group_operations() {
        let a = "2819c223-7f76-453a-919d-413861904646";
        let b = "902c246b-6245-4190-8e05-00816be7344a";
        let body = json!({ "schemas": [PATCH_OP], "Operations": [
            { "op": "Add", "path": "members", "value": [{ "value": a }] },
            { "op": "Remove", "path": format!("members[value eq \"{b}\"]") },
            { "op": "Remove", "path": "members", "value": [{ "value": b }] },
            { "op": "Replace", "value": { "displayName": "Renamed" } }
        ]});
        let change = group_change(&parse(&body).unwrap()).unwrap();
        assert_eq!(change.add_members, vec![Uuid::parse_str(a).unwrap()]);
        assert_eq!(change.remove_members.len(), 2);
        assert_eq!(change.display_name.as_deref(), Some("Renamed"));
        assert!(!change.remove_all_members);
    }

    fn scim_type(e: ScimError) -> &'static str {
        let (_, body) = e.status_and_body();
        match body["scimType"].as_str() {
            Some("invalidPath") => "invalidPath",
            Some("invalidFilter") => "invalidFilter",
            other => panic!("{other:?}: {body}"),
        }
    }

    /// Arbitrary paths never panic; paths nested too deep are an
    /// invalidPath before their filter is parsed.
    #[test]
    fn fuzzed_and_deep_paths() {
        use crate::fuzz::{bytes, nested, on_small_stack, rng, soup};
        on_small_stack(|| {
            let tokens = [
                "emails",
                "[",
                "]",
                "(",
                ")",
                ".",
                "value",
                "type",
                "eq",
                "\"work\"",
                "not",
                "or",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
                "manager",
                "\"",
            ];
            let mut rng = rng(11);
            let mut inputs = Vec::new();
            for _ in 0..2000 {
                inputs.push(bytes(&mut rng, 120));
                inputs.push(soup(&mut rng, &tokens, 40).replace(' ', ""));
                inputs.push(soup(&mut rng, &tokens, 40));
            }
            crate::fuzz::never_panics(inputs, parse_path);
            for depth in [crate::domain::filter::MAX_NESTING, 1000, 100_000] {
                let deep = format!(
                    "emails[{}].value",
                    nested("(", r#"type eq "work""#, ")", depth)
                );
                assert_eq!(scim_type(parse_path(&deep).unwrap_err()), "invalidPath");
            }
            let fine = format!(
                "emails[{}].value",
                nested("(", r#"type eq "work""#, ")", 31)
            );
            assert!(parse_path(&fine).is_ok());
            let nul = r#"emails[type eq "a\u0000"]"#;
            assert_eq!(scim_type(parse_path(nul).unwrap_err()), "invalidFilter");
        });
    }
}
