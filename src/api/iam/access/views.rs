//! Shapes of the IAM resources: subjects (UserSubjectDto,
//! ClientSubjectDto, SubjectGroupDto), the subject list envelope, grants
//! and policies.

use actix_web::HttpResponse;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::api::iam::views::ok;
use crate::api::ithbat::views::timestamp;
use crate::api::query::Query;
use crate::domain::access::{Access, Source, SubjectRef};
use crate::domain::group::Group;
use crate::domain::{Error, Problems};
use crate::service::subjects::{Entry, Slice, Window};

/// A subject: `$type`, `id`, `displayName`, `tenant`, `subjectId`,
/// `type` and the kind's `properties`.
pub fn subject(entry: &Entry) -> Value {
    let (subject, display, tenant, properties) = match entry {
        Entry::User(u) => (
            SubjectRef::User(u.id),
            u.name.display(),
            u.tenant_id,
            json!({ "username": u.user_name, "email": u.email, "phoneNumber": u.phone_number }),
        ),
        Entry::Client(c) => (
            SubjectRef::Client(c.id),
            c.name.clone(),
            c.tenant_id,
            json!({ "clientId": c.id, "description": c.description, "enabled": c.enabled }),
        ),
        Entry::Group(g) => (SubjectRef::Group(g.id), g.name.clone(), g.tenant_id, {
            json!({ "description": g.description })
        }),
    };
    let kind = subject.kind();
    json!({
        "$type": kind.prefix(),
        "id": subject.id(),
        "displayName": display,
        "tenant": tenant,
        "subjectId": subject.to_string(),
        "type": kind.type_name(),
        "properties": properties,
    })
}

pub fn group(g: &Group) -> Value {
    subject(&Entry::Group(g.clone()))
}

/// `searchQuery`, `page` (from 1, default 1) and `pageSize` (default 100,
/// clamped to 10..200, docs/api/iam.md).
pub fn list_params(query_string: &str) -> Result<(Option<String>, Slice, u32), Error> {
    let q = Query::parse(query_string)?;
    let mut problems = Problems::default();
    let search = q.text(&mut problems, "searchQuery", 200);
    let page = q.parsed(&mut problems, "page", |v| match v.parse::<u32>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err("must be an integer from 1 to 1000000".to_string()),
    });
    let size = q.parsed(&mut problems, "pageSize", |v| {
        v.parse::<i64>()
            .map(|n| n.clamp(10, 200) as u32)
            .map_err(|_| "must be an integer".to_string())
    });
    problems.into_result()?;
    let (page, size) = (page.unwrap_or(1), size.unwrap_or(100));
    let slice = Slice {
        offset: u64::from(page - 1) * u64::from(size),
        limit: size,
    };
    Ok((search, slice, page))
}

/// The page envelope: `{page, pageSize, count, total, totalPages, data}`.
pub fn envelope(data: Vec<Value>, total: i64, slice: Slice, page: u32) -> HttpResponse {
    let size = i64::from(slice.limit);
    ok(json!({
        "page": page,
        "pageSize": slice.limit,
        "count": data.len(),
        "total": total,
        "totalPages": (total + size - 1) / size,
        "data": data,
    }))
}

pub fn subjects(window: Window, slice: Slice, page: u32) -> HttpResponse {
    let data = window.items.iter().map(subject).collect();
    envelope(data, window.total, slice, page)
}

/// A subject's grants: `{action, scope, tenant, source, via}`, where
/// `source` is `policy` (its own), `group` (`via` the group's subjectId)
/// or `role` (`via` the role's name).
pub fn grants(access: &Access, tenant: Uuid) -> Value {
    Value::Array(
        access
            .grants()
            .iter()
            .map(|(g, source)| {
                let (source, via) = match source {
                    Source::Policy => ("policy", Value::Null),
                    Source::Group(id) => ("group", json!(SubjectRef::Group(*id).to_string())),
                    Source::Role(name) => ("role", json!(name)),
                };
                json!({
                    "action": g.action,
                    "scope": g.scope,
                    "tenant": tenant,
                    "source": source,
                    "via": via,
                })
            })
            .collect(),
    )
}

/// A policy: `{subject, scope, action, tenant}` (docs/api/iam.md), and when it
/// was created where known.
pub fn policy(subject: &str, scope: &str, action: &str, tenant: Uuid) -> Value {
    json!({ "subject": subject, "scope": scope, "action": action, "tenant": tenant })
}

pub fn stored_policy(p: &crate::domain::access::StoredPolicy, tenant: Uuid) -> Value {
    let mut v = policy(&p.subject, &p.scope, &p.action, tenant);
    v["createdAt"] = json!(timestamp(p.created_at));
    v
}
