//! Aritma's response shapes: ClientDto / ClientDetailsDto, secrets, and the
//! Aritma ID list envelope `{items, metadata, links}`.

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::json;

use crate::api::ithbat::views::timestamp;
use crate::api::query::Query;
use crate::domain::client::{Client, ClientSecret};
use crate::domain::list::{Listing, PageRequest};
use crate::domain::{Error, Problems};
use crate::service::Gate;

/// 200 with a JSON body, never cached (bodies may hold a secret).
pub fn ok<T: Serialize>(body: T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// 200 with no content: Aritma's answer to removals.
pub fn done() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The parameters of Aritma ID lists: `page`, `pageSize`, `searchText`.
pub fn list_params(req: &actix_web::HttpRequest) -> Result<(PageRequest, Option<String>), Error> {
    let q = Query::parse(req.query_string())?;
    let mut problems = Problems::default();
    let page = q.page(&mut problems);
    let search = q.search(&mut problems);
    problems.into_result()?;
    Ok((page, search))
}

/// The absolute URL of the requested path, for list links.
pub fn url(gate: &Gate, req: &actix_web::HttpRequest) -> String {
    format!(
        "{}{}",
        gate.tokens().issuer().trim_end_matches('/'),
        req.path()
    )
}

/// The list envelope of Aritma ID lists (`/v1/users`, `/v1/clients`):
/// `metadata.page` is 1-based, links are absolute, `previous` and `next`
/// null where there is no such page. `base` is the list's absolute URL.
pub fn page<T: Serialize>(listing: Listing<T>, base: &str, search: Option<&str>) -> HttpResponse {
    let size = listing.page.limit;
    let last = listing.total_pages().max(1);
    let current = i64::from(listing.page.page);
    let link = |n: i64| {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(s) = search {
            query.push(("searchText", s.to_string()));
        }
        query.push(("page", n.to_string()));
        query.push(("pageSize", size.to_string()));
        let query = serde_urlencoded::to_string(query).unwrap_or_default();
        format!("{base}?{query}")
    };
    ok(json!({
        "items": listing.items,
        "metadata": {
            "page": current,
            "pageSize": size,
            "totalCount": listing.total,
        },
        "links": {
            "first": link(1),
            "previous": (current > 1).then(|| link((current - 1).min(last))),
            "next": (current < last).then(|| link(current + 1)),
            "last": link(last),
        },
    }))
}

/// ClientDto, the concise form lists use.
pub fn client_summary(c: &Client) -> serde_json::Value {
    json!({ "clientId": c.id, "name": c.name, "description": c.description })
}

/// ClientDetailsDto: the concise form plus what the client may do.
pub fn client_details(c: &Client) -> serde_json::Value {
    let mut v = client_summary(c);
    v["allowedGrantTypes"] = json!(c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>());
    v["redirectUris"] = json!(c.redirect_uris);
    v["allowedScopes"] = json!(c.scopes);
    v["enabled"] = json!(c.enabled);
    v["createdAt"] = json!(timestamp(c.created_at));
    v["updatedAt"] = json!(timestamp(c.updated_at));
    v
}

/// A secret as listed: never its value.
pub fn secret(s: &ClientSecret) -> serde_json::Value {
    json!({
        "id": s.id,
        "description": s.description,
        "expiration": s.expires_at.map(timestamp),
        "createdAt": timestamp(s.created_at),
        "lastUsedAt": s.last_used_at.map(timestamp),
    })
}
