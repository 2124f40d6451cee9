//! Bulk (RFC 7644 3.7): many operations in one request, each run through
//! the same operation as its single request, each in its own transaction.
//!
//! `bulkId:` references in paths and data are replaced by the ids of the
//! resources created earlier in the request; an operation waits for the
//! operations it refers to, wherever they stand in the request, so that a
//! group may list a user created after it. References that cannot be
//! resolved (unknown, failed, or circular) fail their operation with 409.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::context::{Precondition, Scim, ScimJson};
use super::error::{ScimError, ScimResult};
use super::ops::{self, resource_id, Reply};
use super::resources::{check_schemas, get, Projection};
use super::schema::{Resource, BULK_REQUEST, BULK_RESPONSE};
use crate::service::{App, Gate};

/// `bulk.maxOperations` of the ServiceProviderConfig.
pub const MAX_OPERATIONS: usize = 1000;

const PREFIX: &str = "bulkId:";

#[derive(Debug, Clone)]
struct Operation {
    method: String,
    bulk_id: Option<String>,
    version: Precondition,
    path: String,
    data: Value,
}

fn parse(body: &Value) -> ScimResult<(Vec<Operation>, Option<usize>)> {
    check_schemas(body, BULK_REQUEST, &[BULK_REQUEST])?;
    let fail_on_errors = match get(body, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => Some(n as usize),
            _ => {
                return Err(ScimError::invalid_value(
                    "failOnErrors: must be an integer of 1 or more",
                ))
            }
        },
    };
    let Some(Value::Array(items)) = get(body, "Operations") else {
        return Err(ScimError::invalid_value("Operations: must be an array"));
    };
    if items.len() > MAX_OPERATIONS {
        return Err(ScimError::new(
            413,
            "tooMany",
            format!(
                "A bulk request holds at most {MAX_OPERATIONS} operations, not {}",
                items.len()
            ),
        ));
    }
    let ops = items
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let text = |name: &str| -> ScimResult<Option<String>> {
                match get(o, name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(ScimError::invalid_value(format!(
                        "Operations[{i}].{name}: must be a string"
                    ))),
                }
            };
            let method = text("method")?
                .map(|m| m.to_ascii_uppercase())
                .filter(|m| ["POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()))
                .ok_or_else(|| {
                    ScimError::invalid_value(format!(
                        "Operations[{i}].method: must be POST, PUT, PATCH or DELETE"
                    ))
                })?;
            let path = text("path")?.ok_or_else(|| {
                ScimError::invalid_value(format!("Operations[{i}].path: is required"))
            })?;
            let version = match text("version")? {
                None => Precondition::Any,
                Some(v) => {
                    let tag = v.trim();
                    let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
                    Precondition::Version(tag.parse().ok())
                }
            };
            Ok(Operation {
                method,
                bulk_id: text("bulkId")?,
                version,
                path,
                data: get(o, "data").cloned().unwrap_or(Value::Null),
            })
        })
        .collect::<ScimResult<Vec<_>>>()?;
    Ok((ops, fail_on_errors))
}

/// The bulkIds an operation refers to.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(PREFIX) {
                out.push(id.to_string());
            }
        }
        Value::Array(items) => items.iter().for_each(|i| references(i, out)),
        Value::Object(map) => map.values().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// Every bulkId an operation waits for: in its data and in its path
/// (`/Groups/bulkId:g1`).
fn waits_for(op: &Operation) -> Vec<String> {
    let mut refs = Vec::new();
    references(&op.data, &mut refs);
    if let Some(at) = op.path.find(PREFIX) {
        refs.push(op.path[at + PREFIX.len()..].to_string());
    }
    refs
}

fn substitute(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(PREFIX).and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, ids)),
        Value::Object(map) => map.values_mut().for_each(|v| substitute(v, ids)),
        _ => {}
    }
}

/// `/Users`, `/Groups/{id}`: the resource type and the id, if any.
fn route(path: &str) -> ScimResult<(Resource, Option<&str>)> {
    let trimmed = path.trim_start_matches('/');
    let (endpoint, id) = match trimmed.split_once('/') {
        Some((e, id)) => (e, Some(id)),
        None => (trimmed, None),
    };
    let resource = Resource::from_endpoint(endpoint).ok_or_else(|| {
        ScimError::invalid_value(format!("path: {path} is not /Users or /Groups"))
    })?;
    Ok((resource, id.filter(|i| !i.is_empty())))
}

async fn run_one(app: &App, scim: &Scim, op: &Operation) -> ScimResult<Reply> {
    let (resource, id) = route(&op.path)?;
    let projection = Projection::default();
    let id = match (op.method.as_str(), id) {
        ("POST", None) => None,
        ("POST", Some(_)) => {
            return Err(ScimError::invalid_value(
                "path: POST goes to /Users or /Groups",
            ))
        }
        (_, Some(id)) => Some(resource_id(resource, id)?),
        (_, None) => {
            return Err(ScimError::invalid_value(format!(
                "path: {} needs a resource id",
                op.method
            )))
        }
    };
    let data = || -> ScimResult<&Value> {
        if op.data.is_object() {
            Ok(&op.data)
        } else {
            Err(ScimError::invalid_syntax("data: must be a JSON object"))
        }
    };
    match (op.method.as_str(), id) {
        ("POST", _) => ops::create(app, scim, resource, data()?, &projection).await,
        ("PUT", Some(id)) => {
            ops::replace(app, scim, resource, id, data()?, op.version, &projection).await
        }
        ("PATCH", Some(id)) => {
            ops::patch(app, scim, resource, id, data()?, op.version, &projection).await
        }
        ("DELETE", Some(id)) => ops::delete(app, scim, resource, id, op.version).await,
        _ => Err(ScimError::invalid_value("method: unsupported")),
    }
}

fn result(op: &Operation, outcome: ScimResult<Reply>) -> (Value, bool, Option<String>) {
    let mut entry = Map::new();
    entry.insert("method".into(), json!(op.method));
    if let Some(b) = &op.bulk_id {
        entry.insert("bulkId".into(), json!(b));
    }
    match outcome {
        Ok(reply) => {
            let id = reply
                .body
                .as_ref()
                .and_then(|b| b["id"].as_str())
                .map(str::to_string);
            if let Some(l) = reply
                .location
                .or_else(|| (op.method != "POST").then(|| op.path.clone()))
            {
                entry.insert("location".into(), json!(l));
            }
            if let Some(v) = reply.version {
                entry.insert("version".into(), json!(super::resources::etag(v)));
            }
            entry.insert("status".into(), json!(reply.status.as_u16().to_string()));
            (Value::Object(entry), true, id)
        }
        Err(e) => {
            let (status, body) = e.status_and_body();
            entry.insert("status".into(), json!(status.as_u16().to_string()));
            entry.insert("response".into(), body);
            (Value::Object(entry), false, None)
        }
    }
}

async fn run_all(
    app: &App,
    scim: &Scim,
    ops: Vec<Operation>,
    fail_on_errors: Option<usize>,
) -> Vec<Value> {
    let mut results: Vec<Option<Value>> = vec![None; ops.len()];
    let mut created: HashMap<String, String> = HashMap::new();
    let mut failed_ids: Vec<String> = Vec::new();
    let mut pending: Vec<usize> = (0..ops.len()).collect();
    let mut errors = 0;
    'outer: while !pending.is_empty() {
        // The first operation whose references are all resolved runs next.
        let ready = pending.iter().position(|&i| {
            waits_for(&ops[i])
                .iter()
                .all(|r| created.contains_key(r) || failed_ids.contains(r))
        });
        let Some(at) = ready else {
            // Circular or unknown references: none of the rest can run.
            for i in pending.drain(..) {
                let outcome = Err(ScimError::new(
                    409,
                    "invalidValue",
                    "A bulkId reference could not be resolved",
                ));
                results[i] = Some(result(&ops[i], outcome).0);
            }
            break;
        };
        let i = pending.remove(at);
        let mut op = ops[i].clone();
        let outcome = if let Some(bad) = waits_for(&op).iter().find(|r| failed_ids.contains(r)) {
            Err(ScimError::new(
                409,
                "invalidValue",
                format!("bulkId {bad} refers to an operation that failed"),
            ))
        } else {
            substitute(&mut op.data, &created);
            if let Some(b) = op.path.find(PREFIX) {
                let key = &op.path[b + PREFIX.len()..];
                if let Some(id) = created.get(key) {
                    op.path = format!("{}{id}", &op.path[..b]);
                }
            }
            run_one(app, scim, &op).await
        };
        let (entry, ok, id) = result(&op, outcome);
        results[i] = Some(entry);
        match (&op.bulk_id, ok, id) {
            (Some(b), true, Some(id)) if op.method == "POST" => {
                created.insert(b.clone(), id);
            }
            (Some(b), false, _) => failed_ids.push(b.clone()),
            _ => {}
        }
        if !ok {
            errors += 1;
            if fail_on_errors.is_some_and(|max| errors >= max) {
                break 'outer;
            }
        }
    }
    // Operations not run after failOnErrors was reached are not reported.
    results.into_iter().flatten().collect()
}

pub async fn bulk(
    gate: Data<Gate>,
    scim: Scim,
    _req: HttpRequest,
    body: ScimJson,
) -> ScimResult<HttpResponse> {
    let (ops, fail_on_errors) = parse(&body.0)?;
    let results: Vec<Value> = gate
        .run(move |app| async move {
            Ok::<_, ScimError>(run_all(&app, &scim, ops, fail_on_errors).await)
        })
        .await?;
    Ok(Reply {
        status: StatusCode::OK,
        body: Some(json!({ "schemas": [BULK_RESPONSE], "Operations": results })),
        version: None,
        location: None,
    }
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_substitution() {
        let mut data = json!({ "members": [{ "value": "bulkId:u1" }, { "value": "x" }], "m": { "value": "bulkId:u2" } });
        let mut refs = Vec::new();
        references(&data, &mut refs);
        assert_eq!(refs, vec!["u1".to_string(), "u2".to_string()]);
        let ids = HashMap::from([("u1".to_string(), "id-1".to_string())]);
        substitute(&mut data, &ids);
        assert_eq!(data["members"][0]["value"], "id-1");
        assert_eq!(data["m"]["value"], "bulkId:u2");
    }

    #[test]
    fn requests() {
        let body = json!({ "schemas": [BULK_REQUEST], "failOnErrors": 1, "Operations": [
            { "method": "post", "path": "/Users", "bulkId": "a", "data": {} },
            { "method": "DELETE", "path": "/Users/1", "version": "W/\"3\"" }
        ]});
        let (ops, fail) = parse(&body).unwrap();
        assert_eq!(fail, Some(1));
        assert_eq!(ops[0].method, "POST");
        assert_eq!(ops[1].version, Precondition::Version(Some(3)));
        assert!(parse(&json!({ "schemas": [BULK_REQUEST], "Operations": [{ "method": "GET", "path": "/Users" }] })).is_err());
        assert!(route("/Users/abc").is_ok() && route("/Roles").is_err());
    }
}
