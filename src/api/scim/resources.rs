//! Users and Groups as SCIM JSON (RFC 7643), both ways: rendering the
//! domain, and reading requests (attribute names are case-insensitive;
//! read-only attributes are ignored; wrong types are invalidValue).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::error::{ScimError, ScimResult};
use super::schema::{ENTERPRISE, GROUP, USER};
use crate::domain::user::{MultiValue, Profile, UserStatus};
use crate::service::passwords::Password;
use crate::service::provisioning::{GroupRecord, ProvisionedGroup, ProvisionedUser, UserRecord};

/// Microseconds, as stored: a client filtering on a time it was shown
/// (`meta.lastModified eq "..."`) finds the resource it saw.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The weak ETag of a resource version.
pub fn etag(version: i32) -> String {
    format!("W/\"{version}\"")
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<&String>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}

fn multi_json(values: &[MultiValue]) -> Value {
    values
        .iter()
        .map(|v| {
            let mut m = Map::new();
            m.insert("value".into(), json!(v.value));
            put(&mut m, "type", v.kind.as_ref());
            put(&mut m, "display", v.display.as_ref());
            m.insert("primary".into(), json!(v.primary));
            Value::Object(m)
        })
        .collect()
}

pub fn user_json(p: &ProvisionedUser, base: &str) -> Value {
    let u = &p.user;
    let pr = &p.profile;
    let mut r = Map::new();
    let mut schemas = vec![json!(USER)];
    // First in the document; filled in once the extension is known.
    r.insert("schemas".into(), Value::Null);
    r.insert("id".into(), json!(u.id));
    put(&mut r, "externalId", u.external_id.as_ref());
    r.insert("userName".into(), json!(u.user_name));
    let mut name = Map::new();
    let formatted = [&u.name.first, &u.name.father, &u.name.family]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for (key, value) in [
        ("formatted", &formatted),
        ("familyName", &u.name.family),
        ("givenName", &u.name.first),
        ("middleName", &u.name.father),
    ] {
        if !value.is_empty() {
            name.insert(key.into(), json!(value));
        }
    }
    // The parts kept as sent; a formatted name sent wins over the built one.
    if let Some(Value::Object(parts)) = pr.other.as_ref().and_then(|o| o.get("name")) {
        name.extend(parts.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    if !name.is_empty() {
        r.insert("name".into(), Value::Object(name));
    }
    for (key, value) in [
        ("displayName", &pr.display_name),
        ("nickName", &pr.nick_name),
        ("profileUrl", &pr.profile_url),
        ("title", &pr.title),
        ("userType", &pr.user_type),
        ("preferredLanguage", &pr.preferred_language),
        ("locale", &pr.locale),
        ("timezone", &pr.timezone),
    ] {
        put(&mut r, key, value.as_ref());
    }
    r.insert("active".into(), json!(u.status == UserStatus::Active));
    if !pr.emails.is_empty() {
        r.insert("emails".into(), multi_json(&pr.emails));
    }
    if !pr.phone_numbers.is_empty() {
        r.insert("phoneNumbers".into(), multi_json(&pr.phone_numbers));
    }
    if let Some(a) = &pr.addresses {
        r.insert("addresses".into(), a.clone());
    }
    let other = pr.other.as_ref().and_then(Value::as_object);
    for attr in STORED_AS_SENT {
        if let Some(v) = other.and_then(|o| o.get(attr)) {
            r.insert(attr.into(), v.clone());
        }
    }
    if !p.groups.is_empty() {
        let groups: Vec<Value> = p
            .groups
            .iter()
            .map(|(id, name)| json!({ "value": id, "$ref": format!("{base}/Groups/{id}"), "display": name, "type": "direct" }))
            .collect();
        r.insert("groups".into(), Value::Array(groups));
    }
    let mut ent = Map::new();
    for (key, value) in [
        ("employeeNumber", &pr.employee_number),
        ("costCenter", &pr.cost_center),
        ("organization", &pr.organization),
        ("division", &pr.division),
        ("department", &pr.department),
    ] {
        put(&mut ent, key, value.as_ref());
    }
    if let Some(m) = pr.manager_id {
        ent.insert(
            "manager".into(),
            json!({ "value": m, "$ref": format!("{base}/Users/{m}") }),
        );
    }
    if !ent.is_empty() {
        schemas.push(json!(ENTERPRISE));
        r.insert(ENTERPRISE.into(), Value::Object(ent));
    }
    r.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": time(u.created_at),
            "lastModified": time(u.updated_at),
            "location": format!("{base}/Users/{}", u.id),
            "version": etag(u.version),
        }),
    );
    r.insert("schemas".into(), Value::Array(schemas));
    Value::Object(r)
}

pub fn group_json(p: &ProvisionedGroup, base: &str) -> Value {
    let g = &p.group;
    let mut r = Map::new();
    r.insert("schemas".into(), json!([GROUP]));
    r.insert("id".into(), json!(g.id));
    put(&mut r, "externalId", g.external_id.as_ref());
    r.insert("displayName".into(), json!(g.name));
    if let Some(members) = &p.members {
        let members: Vec<Value> = members
            .iter()
            .map(|(id, display)| json!({ "value": id, "$ref": format!("{base}/Users/{id}"), "display": display, "type": "User" }))
            .collect();
        r.insert("members".into(), Value::Array(members));
    }
    r.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": time(g.created_at),
            "lastModified": time(g.updated_at),
            "location": format!("{base}/Groups/{}", g.id),
            "version": etag(g.version),
        }),
    );
    Value::Object(r)
}

// ---- reading requests ----

/// Case-insensitive member lookup (RFC 7643 2.1: attribute names are
/// case-insensitive).
pub fn get<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn string(object: &Value, name: &str, path: &str) -> ScimResult<Option<String>> {
    match get(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ScimError::invalid_value(format!(
            "{path}: must be a string"
        ))),
    }
}

/// Booleans, also as the strings "True"/"False" that Entra ID sends.
pub fn boolean(value: &Value, path: &str) -> ScimResult<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value(format!(
            "{path}: must be true or false"
        ))),
    }
}

/// The multi-valued attributes of the core User schema that are stored as
/// sent, without meaning anything to ithbat (RFC 7643 4.1.2).
const STORED_AS_SENT: [&str; 5] = ["ims", "photos", "entitlements", "roles", "x509Certificates"];
/// The sub-attributes each of their values may have, all strings but
/// `primary`.
const VALUE_PARTS: [&str; 4] = ["value", "display", "type", "primary"];
/// The parts of `name` stored as sent (the given, middle and family names
/// live in the users row, where sign-in pages and lists read them).
const NAME_AS_SENT: [&str; 3] = ["formatted", "honorificPrefix", "honorificSuffix"];

/// RFC 7643 2.4: "The primary attribute value 'true' MUST appear no more
/// than once."
fn one_primary<'a>(name: &str, items: impl IntoIterator<Item = &'a Value>) -> ScimResult<()> {
    let primaries = items
        .into_iter()
        .filter(|i| get(i, "primary").is_some_and(|p| boolean(p, "primary").unwrap_or(false)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "{name}: at most one value may have primary true"
        )));
    }
    Ok(())
}

/// The values of one of the STORED_AS_SENT attributes, with their
/// sub-attributes named as the schema names them and typed as it types
/// them; sub-attributes the schema does not define are not kept.
fn values_as_sent(object: &Value, name: &str) -> ScimResult<Vec<Value>> {
    let items = match get(object, name) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ScimError::invalid_value(format!(
                "{name}: must be an array"
            )))
        }
    };
    one_primary(name, items)?;
    let mut kept = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{name}[{i}]");
        if !item.is_object() {
            return Err(ScimError::invalid_value(format!("{at}: must be an object")));
        }
        let mut value = Map::new();
        for part in VALUE_PARTS {
            let path = format!("{at}.{part}");
            match (part, get(item, part)) {
                (_, None | Some(Value::Null)) => {}
                ("primary", Some(p)) => {
                    value.insert(part.into(), json!(boolean(p, &path)?));
                }
                (_, Some(Value::String(s))) => {
                    // x509Certificates.value is of type binary: base64
                    // (RFC 7643 2.3.6).
                    if part == "value" && name == "x509Certificates" && BASE64.decode(s).is_err() {
                        return Err(ScimError::invalid_value(format!(
                            "{path}: must be base64 (a binary attribute)"
                        )));
                    }
                    value.insert(part.into(), json!(s));
                }
                (_, Some(_)) => {
                    return Err(ScimError::invalid_value(format!(
                        "{path}: must be a string"
                    )))
                }
            }
        }
        if !value.is_empty() {
            kept.push(Value::Object(value));
        }
    }
    Ok(kept)
}

/// What `Profile::other` holds for a request: the STORED_AS_SENT values and
/// the NAME_AS_SENT parts.
fn other_attributes(body: &Value, name: &Value) -> ScimResult<Option<Value>> {
    let mut other = Map::new();
    for attr in STORED_AS_SENT {
        let values = values_as_sent(body, attr)?;
        if !values.is_empty() {
            other.insert(attr.into(), Value::Array(values));
        }
    }
    let mut parts = Map::new();
    for part in NAME_AS_SENT {
        if let Some(v) = string(name, part, &format!("name.{part}"))? {
            parts.insert(part.into(), json!(v));
        }
    }
    if !parts.is_empty() {
        other.insert("name".into(), Value::Object(parts));
    }
    Ok((!other.is_empty()).then_some(Value::Object(other)))
}

fn multi_values(object: &Value, name: &str) -> ScimResult<Vec<MultiValue>> {
    let items = match get(object, name) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ScimError::invalid_value(format!(
                "{name}: must be an array"
            )))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{name}[{i}]");
            if !item.is_object() {
                return Err(ScimError::invalid_value(format!("{at}: must be an object")));
            }
            Ok(MultiValue {
                value: string(item, "value", &format!("{at}.value"))?
                    .ok_or_else(|| ScimError::invalid_value(format!("{at}.value: is required")))?,
                kind: string(item, "type", &format!("{at}.type"))?,
                primary: match get(item, "primary") {
                    None | Some(Value::Null) => false,
                    Some(v) => boolean(v, &format!("{at}.primary"))?,
                },
                display: string(item, "display", &format!("{at}.display"))?,
            })
        })
        .collect()
}

/// Checks `schemas`: present, naming this resource's schema, and no
/// attributes under a schema this server does not know for it.
///
/// A URI that is listed but carries no attributes is let through, though
/// RFC 7643 section 3 allows only the resource type's schemas there:
/// Entra ID's Create Group lists
/// `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`
/// with nothing under it, and refusing that would refuse every group it
/// provisions, while accepting it loses no data.
pub fn check_schemas(body: &Value, core: &str, allowed: &[&str]) -> ScimResult<()> {
    let Some(Value::Array(schemas)) = get(body, "schemas") else {
        return Err(ScimError::invalid_value(format!(
            "schemas: must list {core}"
        )));
    };
    let names: Vec<&str> = schemas.iter().filter_map(Value::as_str).collect();
    if names.len() != schemas.len() || !names.iter().any(|s| s.eq_ignore_ascii_case(core)) {
        return Err(ScimError::invalid_value(format!(
            "schemas: must list {core}"
        )));
    }
    if let Some(unknown) = names.iter().find(|s| {
        !allowed.iter().any(|a| a.eq_ignore_ascii_case(s))
            && get(body, s).is_some_and(|v| !v.is_null())
    }) {
        return Err(ScimError::invalid_value(format!(
            "schemas: {unknown} is not supported here"
        )));
    }
    Ok(())
}

/// A User as sent in POST, PUT (or made by applying a PATCH).
pub fn user_record(body: &Value) -> ScimResult<UserRecord> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    }
    check_schemas(body, USER, &[USER, ENTERPRISE])?;
    let user_name = string(body, "userName", "userName")?
        .ok_or_else(|| ScimError::invalid_value("userName: is required"))?;
    let name = match get(body, "name") {
        None | Some(Value::Null) => Value::Null,
        Some(n @ Value::Object(_)) => n.clone(),
        Some(_) => return Err(ScimError::invalid_value("name: must be an object")),
    };
    let active = match get(body, "active") {
        None | Some(Value::Null) => None,
        Some(v) => Some(boolean(v, "active")?),
    };
    let enterprise = match get(body, ENTERPRISE) {
        None | Some(Value::Null) => Value::Null,
        Some(e @ Value::Object(_)) => e.clone(),
        Some(_) => {
            return Err(ScimError::invalid_value(format!(
                "{ENTERPRISE}: must be an object"
            )))
        }
    };
    let manager = match get(&enterprise, "manager") {
        None | Some(Value::Null) => None,
        // Some clients send the manager's id alone.
        Some(Value::String(s)) => Some(s.clone()),
        Some(m @ Value::Object(_)) => string(m, "value", "manager.value")?,
        Some(_) => {
            return Err(ScimError::invalid_value(
                "manager: must be an object with a value",
            ))
        }
    };
    let manager_id = match manager.filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => Some(
            Uuid::parse_str(&m)
                .map_err(|_| ScimError::invalid_value("manager.value: must be the id of a user"))?,
        ),
    };
    let addresses = match get(body, "addresses") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.iter().all(Value::is_object) => {
            one_primary("addresses", a)?;
            Some(Value::Array(a.clone()))
        }
        Some(_) => {
            return Err(ScimError::invalid_value(
                "addresses: must be an array of objects",
            ))
        }
    };
    let profile = Profile {
        display_name: string(body, "displayName", "displayName")?,
        nick_name: string(body, "nickName", "nickName")?,
        title: string(body, "title", "title")?,
        user_type: string(body, "userType", "userType")?,
        preferred_language: string(body, "preferredLanguage", "preferredLanguage")?,
        locale: string(body, "locale", "locale")?,
        timezone: string(body, "timezone", "timezone")?,
        profile_url: string(body, "profileUrl", "profileUrl")?,
        employee_number: string(&enterprise, "employeeNumber", "employeeNumber")?,
        cost_center: string(&enterprise, "costCenter", "costCenter")?,
        organization: string(&enterprise, "organization", "organization")?,
        division: string(&enterprise, "division", "division")?,
        department: string(&enterprise, "department", "department")?,
        manager_id,
        addresses: addresses.filter(|a| a.as_array().is_some_and(|a| !a.is_empty())),
        other: other_attributes(body, &name)?,
        emails: multi_values(body, "emails")?,
        phone_numbers: multi_values(body, "phoneNumbers")?,
    };
    Ok(UserRecord {
        user_name,
        external_id: string(body, "externalId", "externalId")?,
        given_name: string(&name, "givenName", "name.givenName")?,
        middle_name: string(&name, "middleName", "name.middleName")?,
        family_name: string(&name, "familyName", "name.familyName")?,
        active,
        profile,
        password: string(body, "password", "password")?.map(Password::new),
    })
}

/// Member ids of a `members` array: `[{"value": id}, ...]`.
pub fn member_ids(value: &Value, path: &str) -> ScimResult<Vec<Uuid>> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items.as_slice(),
        // A single member object.
        Value::Object(_) => std::slice::from_ref(value),
        _ => {
            return Err(ScimError::invalid_value(format!(
                "{path}: must be an array of members"
            )))
        }
    };
    items
        .iter()
        .map(|m| {
            if let Some(t) = get(m, "type").and_then(Value::as_str) {
                if !t.eq_ignore_ascii_case("User") {
                    return Err(ScimError::invalid_value(format!(
                        "{path}: only users can be members, not {t}"
                    )));
                }
            }
            let id = get(m, "value").and_then(Value::as_str).ok_or_else(|| {
                ScimError::invalid_value(format!("{path}: each member needs a value"))
            })?;
            Uuid::parse_str(id)
                .map_err(|_| ScimError::invalid_value(format!("{path}: {id} is not a user id")))
        })
        .collect()
}

pub fn group_record(body: &Value) -> ScimResult<GroupRecord> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    }
    check_schemas(body, GROUP, &[GROUP])?;
    Ok(GroupRecord {
        display_name: string(body, "displayName", "displayName")?
            .ok_or_else(|| ScimError::invalid_value("displayName: is required"))?,
        external_id: string(body, "externalId", "externalId")?,
        members: member_ids(get(body, "members").unwrap_or(&Value::Null), "members")?,
    })
}

// ---- attributes / excludedAttributes (RFC 7644 3.9) ----

/// Which attributes a response carries.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    /// `attributes`: only these (and `id`, `schemas`, always returned).
    pub only: Vec<String>,
    /// `excludedAttributes`: all but these.
    pub except: Vec<String>,
}

fn split_path(p: &str, core: &str) -> (Option<String>, String, Option<String>) {
    // "urn:...:User:name.givenName" -> (urn, name, givenName)
    let (schema, rest) = match p.rfind(':') {
        Some(i) => (Some(p[..i].to_string()), &p[i + 1..]),
        None => (None, p),
    };
    let schema = schema.filter(|s| !s.eq_ignore_ascii_case(core));
    match rest.split_once('.') {
        Some((a, b)) => (schema, a.to_string(), Some(b.to_string())),
        None => (schema, rest.to_string(), None),
    }
}

impl Projection {
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Projection {
        let list = |s: Option<&str>| -> Vec<String> {
            s.map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default()
        };
        Projection {
            only: list(attributes),
            except: list(excluded),
        }
    }

    /// Does the response need `name` at all (to skip loading it)?
    pub fn wants(&self, core: &str, name: &str) -> bool {
        let named = |list: &[String]| {
            list.iter().any(|p| {
                let (schema, top, sub) = split_path(p, core);
                schema.is_none() && top.eq_ignore_ascii_case(name) && sub.is_none()
            })
        };
        if !self.only.is_empty() {
            return self
                .only
                .iter()
                .any(|p| split_path(p, core).1.eq_ignore_ascii_case(name));
        }
        !named(&self.except)
    }

    pub fn apply(&self, resource: Value, core: &str) -> Value {
        let Value::Object(mut map) = resource else {
            return resource;
        };
        let always = ["id", "schemas"];
        if !self.only.is_empty() {
            let mut kept = Map::new();
            for (k, v) in map.iter() {
                if always.iter().any(|a| a.eq_ignore_ascii_case(k)) {
                    kept.insert(k.clone(), v.clone());
                }
            }
            for p in &self.only {
                let (schema, top, sub) = split_path(p, core);
                let holder: Option<&Value> = match &schema {
                    Some(urn) => map
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(urn))
                        .map(|(_, v)| v),
                    None => None,
                };
                let (source, into): (&Map<String, Value>, Option<String>) = match (&schema, holder)
                {
                    (Some(_), Some(Value::Object(ext))) => (ext, schema.clone()),
                    (Some(_), _) => continue,
                    (None, _) => (&map, None),
                };
                let Some((key, value)) = source.iter().find(|(k, _)| k.eq_ignore_ascii_case(&top))
                else {
                    continue;
                };
                let picked = match (&sub, value) {
                    (None, v) => v.clone(),
                    (Some(s), Value::Object(o)) => {
                        match o.iter().find(|(k, _)| k.eq_ignore_ascii_case(s)) {
                            Some((sk, sv)) => {
                                let mut m = match &into {
                                    None => kept.get(key).cloned(),
                                    Some(urn) => kept.get(urn).and_then(|e| e.get(key)).cloned(),
                                }
                                .and_then(|v| v.as_object().cloned())
                                .unwrap_or_default();
                                m.insert(sk.clone(), sv.clone());
                                Value::Object(m)
                            }
                            None => continue,
                        }
                    }
                    (Some(s), Value::Array(items)) => Value::Array(
                        items
                            .iter()
                            .filter_map(|i| i.as_object())
                            .map(|o| {
                                Value::Object(
                                    o.iter()
                                        .filter(|(k, _)| k.eq_ignore_ascii_case(s))
                                        .map(|(k, v)| (k.clone(), v.clone()))
                                        .collect(),
                                )
                            })
                            .collect(),
                    ),
                    _ => continue,
                };
                match &into {
                    None => {
                        kept.insert(key.clone(), picked);
                    }
                    Some(urn) => {
                        let ext = kept.entry(urn.clone()).or_insert_with(|| json!({}));
                        if let Some(e) = ext.as_object_mut() {
                            e.insert(key.clone(), picked);
                        }
                    }
                }
            }
            map = kept;
        }
        for p in &self.except {
            let (schema, top, sub) = split_path(p, core);
            if schema.is_none()
                && sub.is_none()
                && always.iter().any(|a| a.eq_ignore_ascii_case(&top))
            {
                continue;
            }
            let target: Option<&mut Map<String, Value>> = match &schema {
                None => Some(&mut map),
                Some(urn) => map
                    .iter_mut()
                    .find(|(k, _)| k.eq_ignore_ascii_case(urn))
                    .and_then(|(_, v)| v.as_object_mut()),
            };
            let Some(target) = target else { continue };
            let key = target
                .keys()
                .find(|k| k.eq_ignore_ascii_case(&top))
                .cloned();
            let Some(key) = key else { continue };
            match sub {
                None => {
                    target.remove(&key);
                }
                Some(s) => match target.get_mut(&key) {
                    Some(Value::Object(o)) => {
                        if let Some(k) = o.keys().find(|k| k.eq_ignore_ascii_case(&s)).cloned() {
                            o.remove(&k);
                        }
                    }
                    Some(Value::Array(items)) => {
                        for i in items.iter_mut().filter_map(Value::as_object_mut) {
                            if let Some(k) = i.keys().find(|k| k.eq_ignore_ascii_case(&s)).cloned()
                            {
                                i.remove(&k);
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projections() {
        let r = json!({
            "schemas": [USER], "id": "1", "userName": "a", "title": "t",
            "name": { "givenName": "G", "familyName": "F" },
            "emails": [{ "value": "a@b.c", "type": "work" }],
            ENTERPRISE: { "department": "D", "costCenter": "C" },
            "meta": { "version": "W/\"1\"" }
        });
        let p = Projection::parse(Some("userName,name.givenName,emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"), None);
        assert_eq!(
            p.apply(r.clone(), USER),
            json!({ "schemas": [USER], "id": "1", "userName": "a", "name": { "givenName": "G" },
                    "emails": [{ "value": "a@b.c" }], ENTERPRISE: { "department": "D" } })
        );
        let p = Projection::parse(None, Some("title,name.familyName,meta,id,emails.type"));
        let out = p.apply(r, USER);
        assert!(out.get("title").is_none() && out.get("meta").is_none());
        assert_eq!(out["id"], "1");
        assert_eq!(out["name"], json!({ "givenName": "G" }));
        assert_eq!(out["emails"], json!([{ "value": "a@b.c" }]));
        assert!(Projection::parse(None, Some("members")).wants(GROUP, "displayName"));
        assert!(!Projection::parse(None, Some("members")).wants(GROUP, "members"));
        assert!(!Projection::parse(Some("displayName"), None).wants(GROUP, "members"));
    }
}
