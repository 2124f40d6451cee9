//! Query parameters of a SCIM list (RFC 7644 3.4.2), from the URL of a GET
//! or the body of a `POST .search` (3.4.3): filter, sort, paging and the
//! attributes to return. Every part runs in the database.

use serde_json::{json, Value};

use super::error::{ScimError, ScimResult};
use super::filter;
use super::resources::{get, Projection};
use super::schema::{Resource, LIST_RESPONSE, SEARCH_REQUEST};
use crate::domain::filter::Filter;
use crate::domain::list::SortOrder;

/// `filter.maxResults` of the ServiceProviderConfig: the largest page.
pub const MAX_RESULTS: u32 = 1000;
/// The page size when `count` is not given.
pub const DEFAULT_COUNT: u32 = 100;

#[derive(Debug, Clone)]
pub struct ListParams {
    pub filter: Option<Filter>,
    pub sort_by: Option<String>,
    pub order: SortOrder,
    /// 1-based, as SCIM counts.
    pub start_index: u64,
    pub count: u32,
    pub projection: Projection,
    /// Cursor pagination (RFC 9865) when present: `""` asks for the first
    /// page, anything else is a `nextCursor` this server issued.
    pub cursor: Option<String>,
    /// The query a cursor belongs to (filter, sortBy, sortOrder as sent):
    /// a cursor opens only for the same query.
    pub query_key: String,
}

impl Default for ListParams {
    fn default() -> ListParams {
        ListParams {
            filter: None,
            sort_by: None,
            order: SortOrder::Asc,
            start_index: 1,
            count: DEFAULT_COUNT,
            projection: Projection::default(),
            cursor: None,
            query_key: String::new(),
        }
    }
}

/// The parameters as text, wherever they came from.
#[derive(Default)]
struct Raw {
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    excluded: Option<String>,
    cursor: Option<String>,
}

fn integer(name: &str, raw: &str) -> ScimResult<i64> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::invalid_value(format!("{name}: must be an integer")))
}

impl Raw {
    fn into_params(self) -> ScimResult<ListParams> {
        let filter = match self.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(f) => Some(filter::parse(f).map_err(|e| ScimError::new(400, "invalidFilter", e))?),
        };
        let order = match self.sort_order.as_deref().map(str::trim) {
            None | Some("") => SortOrder::Asc,
            Some(o) if o.eq_ignore_ascii_case("ascending") => SortOrder::Asc,
            Some(o) if o.eq_ignore_ascii_case("descending") => SortOrder::Desc,
            Some(o) => {
                return Err(ScimError::invalid_value(format!(
                    "sortOrder: must be ascending or descending, not {o:?}"
                )))
            }
        };
        let cursor = self.cursor.as_deref().map(|c| c.trim().to_string());
        // RFC 7644 3.4.2.4: startIndex below 1 is 1; a negative count is 0;
        // a count above maxResults is cut to it. RFC 9865 2: a cursor
        // page's count is a positive integer no larger than maxPageSize.
        let start_index = match (&self.start_index, &cursor) {
            (Some(_), Some(_)) => {
                return Err(ScimError::invalid_value(
                    "startIndex and cursor: each asks for a different pagination; send one",
                ))
            }
            (Some(s), None) => integer("startIndex", s)?.max(1) as u64,
            (None, _) => 1,
        };
        let count = match (&self.count, &cursor) {
            (None, _) => DEFAULT_COUNT,
            (Some(c), None) => integer("count", c)?.clamp(0, i64::from(MAX_RESULTS)) as u32,
            (Some(c), Some(_)) => match c.trim().parse::<u32>() {
                Ok(n) if (1..=MAX_RESULTS).contains(&n) => n,
                _ => {
                    return Err(ScimError::new(
                        400,
                        "invalidCount",
                        format!("count: a cursor page holds 1 to {MAX_RESULTS} resources"),
                    ))
                }
            },
        };
        let query_key = serde_json::to_string(&[
            self.filter.as_deref().unwrap_or("").trim(),
            self.sort_by.as_deref().unwrap_or("").trim(),
            self.sort_order.as_deref().unwrap_or("").trim(),
        ])
        .unwrap_or_default();
        Ok(ListParams {
            filter,
            sort_by: self
                .sort_by
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            order,
            start_index,
            count,
            projection: Projection::parse(self.attributes.as_deref(), self.excluded.as_deref()),
            cursor,
            query_key,
        })
    }
}

/// From a query string. Parameter names are matched without regard to case.
pub fn from_query(query: &str) -> ScimResult<ListParams> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| ScimError::invalid_value("the query string is malformed"))?;
    let mut raw = Raw::default();
    for (key, value) in pairs {
        let slot = match key.to_ascii_lowercase().as_str() {
            "filter" => &mut raw.filter,
            "sortby" => &mut raw.sort_by,
            "sortorder" => &mut raw.sort_order,
            "startindex" => &mut raw.start_index,
            "count" => &mut raw.count,
            "attributes" => &mut raw.attributes,
            "excludedattributes" => &mut raw.excluded,
            "cursor" => &mut raw.cursor,
            _ => continue,
        };
        *slot = Some(value);
    }
    raw.into_params()
}

/// Just the projection (`attributes`, `excludedAttributes`) of a query
/// string, for the responses of single resources.
pub fn projection(query: &str) -> Projection {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let find = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    Projection::parse(find("attributes"), find("excludedAttributes"))
}

/// From a SearchRequest body (RFC 7644 3.4.3).
pub fn from_search(body: &Value) -> ScimResult<ListParams> {
    super::resources::check_schemas(body, SEARCH_REQUEST, &[SEARCH_REQUEST])?;
    let text = |name: &str| -> ScimResult<Option<String>> {
        match get(body, name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ScimError::invalid_value(format!(
                "{name}: must be a string"
            ))),
        }
    };
    let number = |name: &str| -> ScimResult<Option<String>> {
        match get(body, name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(ScimError::invalid_value(format!(
                "{name}: must be an integer"
            ))),
        }
    };
    let list = |name: &str| -> ScimResult<Option<String>> {
        match get(body, name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str().map(str::to_string).ok_or_else(|| {
                        ScimError::invalid_value(format!("{name}: must be an array of strings"))
                    })
                })
                .collect::<ScimResult<Vec<_>>>()
                .map(|v| Some(v.join(","))),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ScimError::invalid_value(format!(
                "{name}: must be an array of strings"
            ))),
        }
    };
    Raw {
        filter: text("filter")?,
        sort_by: text("sortBy")?,
        sort_order: text("sortOrder")?,
        start_index: number("startIndex")?,
        count: number("count")?,
        attributes: list("attributes")?,
        excluded: list("excludedAttributes")?,
        cursor: text("cursor")?,
    }
    .into_params()
}

/// The sort column for `sortBy`, per resource; None when not sortable.
pub fn sort_key(resource: Resource, sort_by: &str) -> Option<SortKey> {
    let path = filter::attr_path(sort_by).ok()?;
    let key = path.key();
    Some(match (resource, key.as_str()) {
        (Resource::User, "username") => SortKey::UserName,
        (Resource::User, "name.givenname") => SortKey::GivenName,
        (Resource::User, "name.familyname") => SortKey::FamilyName,
        (Resource::User, "emails" | "emails.value") => SortKey::Email,
        (Resource::User, "active") => SortKey::Active,
        (Resource::Group, "displayname") => SortKey::DisplayName,
        (_, "externalid") => SortKey::ExternalId,
        (_, "meta.created") => SortKey::Created,
        (_, "meta.lastmodified") => SortKey::LastModified,
        _ => return None,
    })
}

/// What a SCIM list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    UserName,
    GivenName,
    FamilyName,
    Email,
    Active,
    DisplayName,
    ExternalId,
    Created,
    LastModified,
}

/// A ListResponse (RFC 7644 3.4.2).
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    })
}

/// A ListResponse of cursor pagination (RFC 9865 2): `nextCursor` on
/// every page but the last, and no `startIndex`, which it does not use.
pub fn cursor_response(total: u64, next: Option<String>, resources: Vec<Value>) -> Value {
    let mut body = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": resources.len(),
    });
    if let Some(next) = next {
        body["nextCursor"] = json!(next);
    }
    body["Resources"] = json!(resources);
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        let p = from_query("filter=userName%20eq%20%22a%22&startIndex=0&count=5000&sortOrder=Descending&attributes=userName").unwrap();
        assert!(p.filter.is_some());
        assert_eq!(p.start_index, 1);
        assert_eq!(p.count, MAX_RESULTS);
        assert_eq!(p.order, SortOrder::Desc);
        assert_eq!(p.projection.only, vec!["userName".to_string()]);
        assert_eq!(from_query("count=-3").unwrap().count, 0);
        assert!(from_query("count=many").is_err());
        assert!(from_query("sortOrder=up").is_err());
        let e = from_query("filter=userName%20eq").unwrap_err();
        assert!(format!("{e:?}").contains("invalidFilter"));
    }

    #[test]
    fn search_bodies() {
        let p = from_search(&json!({
            "schemas": [SEARCH_REQUEST], "filter": "displayName sw \"Eng\"",
            "startIndex": 3, "count": 10, "excludedAttributes": ["members"]
        }))
        .unwrap();
        assert_eq!((p.start_index, p.count), (3, 10));
        assert_eq!(p.projection.except, vec!["members".to_string()]);
        assert!(from_search(&json!({ "schemas": [SEARCH_REQUEST], "count": "ten" })).is_err());
        assert!(from_search(&json!({ "filter": "x pr" })).is_err());
    }

    #[test]
    fn sort_keys() {
        assert_eq!(
            sort_key(Resource::User, "userName"),
            Some(SortKey::UserName)
        );
        assert_eq!(
            sort_key(Resource::User, "name.familyName"),
            Some(SortKey::FamilyName)
        );
        assert_eq!(
            sort_key(Resource::Group, "displayName"),
            Some(SortKey::DisplayName)
        );
        assert_eq!(sort_key(Resource::Group, "userName"), None);
        assert_eq!(
            sort_key(Resource::User, "meta.lastModified"),
            Some(SortKey::LastModified)
        );
    }
}
