//! JSON:API documents (JSON:API 1.1 "Document Structure"): resource objects
//! going out, with sparse fieldsets and compound documents, and the
//! resource documents clients send, checked member by member.

use std::collections::{BTreeSet, HashMap};

use actix_web::http::header;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use super::MEDIA_TYPE;
use crate::domain::list::Listing;
use crate::domain::Error;

/// Where this dialect is mounted, for links.
pub const BASE: &str = "/api/v1";

/// One resource object.
#[derive(Debug, Clone)]
pub struct Resource {
    pub kind: &'static str,
    pub id: String,
    pub attributes: Map<String, Value>,
    /// name -> the related resource's (type, id), or None for an empty
    /// to-one relationship.
    pub relationships: Vec<(&'static str, &'static str, Option<String>)>,
}

impl Resource {
    pub fn new(kind: &'static str, id: impl ToString) -> Resource {
        Resource {
            kind,
            id: id.to_string(),
            attributes: Map::new(),
            relationships: Vec::new(),
        }
    }

    pub fn attr(mut self, name: &str, value: impl Into<Value>) -> Resource {
        self.attributes.insert(name.to_string(), value.into());
        self
    }

    /// A to-one relationship `name` to a resource of type `kind`.
    pub fn to_one(
        mut self,
        name: &'static str,
        kind: &'static str,
        id: Option<String>,
    ) -> Resource {
        self.relationships.push((name, kind, id));
        self
    }

    pub fn self_link(&self) -> String {
        format!("{BASE}/{}/{}", self.kind, self.id)
    }

    /// The resource object, showing only `fields` when given (a sparse
    /// fieldset covers attributes and relationships alike).
    pub fn to_json(&self, fields: Option<&BTreeSet<String>>) -> Value {
        let shown = |name: &str| fields.is_none_or(|f| f.contains(name));
        let attributes: Map<String, Value> = self
            .attributes
            .iter()
            .filter(|(k, _)| shown(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut object = json!({
            "type": self.kind,
            "id": self.id,
            "attributes": attributes,
            "links": { "self": self.self_link() },
        });
        let relationships: Map<String, Value> = self
            .relationships
            .iter()
            .filter(|(name, _, _)| shown(name))
            .map(|(name, kind, id)| {
                let data = match id {
                    Some(id) => json!({ "type": kind, "id": id }),
                    None => Value::Null,
                };
                let mut rel = json!({ "data": data });
                if let Some(id) = id {
                    rel["links"] = json!({ "related": format!("{BASE}/{kind}/{id}") });
                }
                (name.to_string(), rel)
            })
            .collect();
        if !relationships.is_empty() {
            object["relationships"] = Value::Object(relationships);
        }
        object
    }

    /// The (type, id) of a related resource, if set.
    pub fn related(&self, name: &str) -> Option<(&'static str, &str)> {
        self.relationships
            .iter()
            .find(|(n, _, _)| *n == name)
            .and_then(|(_, kind, id)| id.as_deref().map(|id| (*kind, id)))
    }
}

/// Sparse fieldsets, by type.
pub type Fields = HashMap<String, BTreeSet<String>>;

fn included_json(included: &[Resource], fields: &Fields) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    included
        .iter()
        .filter(|r| seen.insert((r.kind, r.id.clone())))
        .map(|r| r.to_json(fields.get(r.kind)))
        .collect()
}

fn respond(status: actix_web::http::StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, MEDIA_TYPE))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}

/// A single-resource document.
pub fn single(
    status: actix_web::http::StatusCode,
    resource: &Resource,
    included: &[Resource],
    fields: &Fields,
) -> HttpResponse {
    let mut body = json!({
        "data": resource.to_json(fields.get(resource.kind)),
        "links": { "self": resource.self_link() },
        "jsonapi": { "version": "1.1" },
    });
    if !included.is_empty() {
        body["included"] = Value::Array(included_json(included, fields));
    }
    respond(status, body)
}

/// A collection document: `meta.count` when counted, and pagination links
/// (`last` only when the total is known).
pub fn collection(
    kind: &str,
    listing: &Listing<Resource>,
    counted: bool,
    included: &[Resource],
    fields: &Fields,
    query: &str,
) -> HttpResponse {
    let data: Vec<Value> = listing
        .items
        .iter()
        .map(|r| r.to_json(fields.get(r.kind)))
        .collect();
    let page = listing.page;
    let link = |number: u32| {
        let mut params: Vec<(String, String)> =
            serde_urlencoded::from_str(query).unwrap_or_default();
        params.retain(|(k, _)| k != "page[number]" && k != "page[size]");
        params.push(("page[number]".into(), number.to_string()));
        params.push(("page[size]".into(), page.limit.to_string()));
        format!(
            "{BASE}/{kind}?{}",
            serde_urlencoded::to_string(&params).unwrap_or_default()
        )
    };
    let mut links = json!({ "self": link(page.page), "first": link(1) });
    links["prev"] = if page.page > 1 {
        json!(link(page.page - 1))
    } else {
        Value::Null
    };
    links["next"] = if listing.has_more() {
        json!(link(page.page + 1))
    } else {
        Value::Null
    };
    let mut body = json!({ "data": data, "links": links, "jsonapi": { "version": "1.1" } });
    if counted {
        let last = u32::try_from(listing.total_pages().max(1)).unwrap_or(u32::MAX);
        body["links"]["last"] = json!(link(last));
        body["meta"] = json!({ "count": listing.total });
    }
    if !included.is_empty() {
        body["included"] = Value::Array(included_json(included, fields));
    }
    respond(actix_web::http::StatusCode::OK, body)
}

/// A created resource: the JSON:API dialect answers create with 200 and the
/// document (docs/api/jsonapi.md); `Location` names it, as JSON:API's 201
/// would.
pub fn created(resource: &Resource) -> HttpResponse {
    let mut response = single(
        actix_web::http::StatusCode::OK,
        resource,
        &[],
        &Fields::new(),
    );
    if let Ok(location) = resource.self_link().parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A resource document a client sent, its members checked.
#[derive(Debug, Default)]
pub struct Incoming {
    pub attributes: Map<String, Value>,
    /// name -> the related id (None: set to empty), as sent.
    pub relationships: HashMap<String, Option<String>>,
}

fn conflict(field: &str, message: impl Into<String>) -> Error {
    Error::Conflict {
        field: Some(field.to_string()),
        message: message.into(),
    }
}

/// Checks a create (`id` None) or update document for a resource of
/// `kind`: a `data` object of that type (409 otherwise, JSON:API "Creating
/// Resources"), no client-generated id on create (403), the URL's id on
/// update (409), and only the members the specification defines (400).
/// `relationships` lists the relationships the type has, with the type of
/// resource each names.
pub fn read(
    body: Value,
    kind: &str,
    id: Option<&str>,
    relationships: &[(&str, &str)],
) -> Result<Incoming, Error> {
    let Value::Object(mut top) = body else {
        return Err(Error::invalid(
            "body",
            "must be a JSON:API document (an object)",
        ));
    };
    for key in top.keys() {
        if !matches!(key.as_str(), "data" | "meta" | "jsonapi" | "links") {
            return Err(Error::invalid(
                format!("/{key}"),
                "is not a member of a JSON:API request document",
            ));
        }
    }
    let data = match top.remove("data") {
        Some(Value::Object(d)) => d,
        Some(_) => return Err(Error::invalid("/data", "must be a resource object")),
        None => return Err(Error::invalid("/data", "is required")),
    };
    for key in data.keys() {
        if !matches!(
            key.as_str(),
            "type" | "id" | "lid" | "attributes" | "relationships" | "meta" | "links"
        ) {
            return Err(Error::invalid(
                format!("/data/{key}"),
                "is not a member of a resource object",
            ));
        }
    }
    match data.get("type") {
        Some(Value::String(t)) if t == kind => {}
        Some(Value::String(t)) => {
            return Err(conflict(
                "/data/type",
                format!("is {t:?}; this endpoint takes {kind}"),
            ))
        }
        Some(_) => return Err(Error::invalid("/data/type", "must be a string")),
        None => return Err(Error::invalid("/data/type", "is required")),
    }
    match (id, data.get("id")) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(Error::Forbidden(
                "Client-generated ids are not supported: leave data.id out".into(),
            ))
        }
        (Some(_), None) => return Err(Error::invalid("/data/id", "is required")),
        (Some(expected), Some(Value::String(got))) if got == expected => {}
        (Some(_), Some(Value::String(_))) => {
            return Err(conflict("/data/id", "does not match the id in the URL"))
        }
        (Some(_), Some(_)) => return Err(Error::invalid("/data/id", "must be a string")),
    }
    let attributes = match data.get("attributes") {
        None => Map::new(),
        Some(Value::Object(a)) => a.clone(),
        Some(_) => return Err(Error::invalid("/data/attributes", "must be an object")),
    };
    let mut incoming = Incoming {
        attributes,
        relationships: HashMap::new(),
    };
    match data.get("relationships") {
        None => {}
        Some(Value::Object(rels)) => {
            for (name, rel) in rels {
                let Some((_, related_kind)) = relationships.iter().find(|(n, _)| n == name) else {
                    return Err(Error::invalid(
                        format!("/data/relationships/{name}"),
                        "is not a relationship of this resource",
                    ));
                };
                let field = format!("/data/relationships/{name}/data");
                let target = match rel.get("data") {
                    Some(Value::Null) => None,
                    Some(Value::Object(linkage)) => {
                        match linkage.get("type") {
                            Some(Value::String(t)) if t == related_kind => {}
                            Some(Value::String(t)) => {
                                return Err(conflict(
                                    &field,
                                    format!("names a {t}; {name} is a {related_kind}"),
                                ))
                            }
                            _ => {
                                return Err(Error::invalid(format!("{field}/type"), "is required"))
                            }
                        }
                        match linkage.get("id") {
                            Some(Value::String(id)) => Some(id.clone()),
                            _ => {
                                return Err(Error::invalid(
                                    format!("{field}.id"),
                                    "must be a string",
                                ))
                            }
                        }
                    }
                    _ => {
                        return Err(Error::invalid(
                            field,
                            "must be a resource identifier object or null",
                        ))
                    }
                };
                incoming.relationships.insert(name.clone(), target);
            }
        }
        Some(_) => return Err(Error::invalid("/data/relationships", "must be an object")),
    }
    Ok(incoming)
}

/// Drops attributes clients may send back but not change (JSON:API lets a
/// server ignore them).
pub fn drop_read_only(attributes: &mut Map<String, Value>, read_only: &[&str]) {
    attributes.retain(|k, _| !read_only.contains(&k.as_str()));
}

/// The body of an RPC-style request (`account/passwords`): a plain
/// JSON object, or the same fields as the attributes of a resource
/// document.
pub fn plain_or_attributes(body: Value) -> Result<(Map<String, Value>, bool), Error> {
    match body {
        Value::Object(mut top) => match top.remove("data") {
            Some(Value::Object(mut data)) if top.keys().all(|k| k == "meta" || k == "jsonapi") => {
                match data.remove("attributes") {
                    Some(Value::Object(a)) => Ok((a, true)),
                    None => Ok((Map::new(), true)),
                    Some(_) => Err(Error::invalid("/data/attributes", "must be an object")),
                }
            }
            Some(other) => {
                top.insert("data".into(), other);
                Ok((top, false))
            }
            None => Ok((top, false)),
        },
        _ => Err(Error::invalid("body", "must be a JSON object")),
    }
}

/// The shapes above, for the OpenAPI document (the functions build them
/// with `json!`).
pub mod shapes {
    use serde_json::Value;
    use utoipa::ToSchema;

    /// A resource object: `type`, `id`, `attributes`, `relationships`, `links`.
    #[derive(ToSchema)]
    #[schema(as = jsonapi::Resource)]
    #[allow(dead_code)]
    pub struct Resource {
        #[schema(rename = "type")]
        kind: String,
        id: String,
        #[schema(value_type = Object)]
        attributes: Value,
        #[schema(value_type = Option<Object>)]
        relationships: Option<Value>,
        #[schema(value_type = Option<Object>)]
        links: Option<Value>,
    }

    /// A document with one resource.
    #[derive(ToSchema)]
    #[schema(as = jsonapi::Single)]
    #[allow(dead_code)]
    pub struct Single {
        data: Resource,
        included: Option<Vec<Resource>>,
        #[schema(value_type = Object)]
        links: Value,
        #[schema(value_type = Object)]
        jsonapi: Value,
    }

    /// A page of resources: `links` first/prev/next (last and `meta.count`
    /// with `count=true`).
    #[derive(ToSchema)]
    #[schema(as = jsonapi::Collection)]
    #[allow(dead_code)]
    pub struct Collection {
        data: Vec<Resource>,
        included: Option<Vec<Resource>>,
        #[schema(value_type = Object)]
        links: Value,
        #[schema(value_type = Option<Object>)]
        meta: Option<Value>,
        #[schema(value_type = Object)]
        jsonapi: Value,
    }

    /// A request document: `{"data": {"type", "id"?, "attributes", "relationships"?}}`.
    #[derive(ToSchema)]
    #[schema(as = jsonapi::Input)]
    #[allow(dead_code)]
    pub struct Input {
        #[schema(value_type = Object)]
        data: Value,
    }
}
