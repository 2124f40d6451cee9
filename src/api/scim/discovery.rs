//! Discovery (RFC 7644 4): ServiceProviderConfig, ResourceTypes and
//! Schemas, served from the files in `scim-schemas/` with absolute
//! locations. Public, as RFC 7644 allows: they describe the server, not a
//! tenant.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::bulk::MAX_OPERATIONS;
use super::context::base_url;
use super::cursor::TIMEOUT_SECONDS;
use super::error::{ScimError, ScimResult};
use super::list::{list_response, DEFAULT_COUNT, MAX_RESULTS};
use super::ops::Reply;
use super::schema::{self, RESOURCE_TYPES, SERVICE_PROVIDER_CONFIG};
use crate::service::Gate;

/// `/v2/Schemas/...` in the files becomes `{base}/Schemas/...`.
fn locate(mut resource: Value, base: &str) -> Value {
    if let Some(location) = resource["meta"]["location"].as_str() {
        let path = location.strip_prefix("/v2").unwrap_or(location);
        resource["meta"]["location"] = json!(format!("{base}{path}"));
    }
    resource
}

fn ok(body: Value) -> HttpResponse {
    Reply {
        status: actix_web::http::StatusCode::OK,
        body: Some(body),
        version: None,
        location: None,
    }
    .into_response()
}

/// RFC 7644 4: a filter on discovery endpoints is refused with 403 so that
/// a client does not take an unfiltered answer for a filtered one.
fn refuse_filter(req: &HttpRequest) -> ScimResult<()> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    if pairs.iter().any(|(k, _)| k.eq_ignore_ascii_case("filter")) {
        return Err(ScimError::new(
            403,
            "invalidFilter",
            "Discovery endpoints do not take filters",
        ));
    }
    Ok(())
}

pub async fn service_provider_config(
    gate: Data<Gate>,
    req: HttpRequest,
) -> ScimResult<HttpResponse> {
    let base = base_url(&req, &gate);
    let mut config = locate(SERVICE_PROVIDER_CONFIG.clone(), &base);
    // The limits actually enforced, whatever the file says.
    config["bulk"]["maxOperations"] = json!(MAX_OPERATIONS);
    config["bulk"]["maxPayloadSize"] = json!(gate.config().max_body_bytes);
    config["filter"]["maxResults"] = json!(MAX_RESULTS);
    // RFC 9865 4: both methods; index unless the query sends a cursor.
    config["pagination"] = json!({
        "cursor": true,
        "index": true,
        "defaultPaginationMethod": "index",
        "defaultPageSize": DEFAULT_COUNT,
        "maxPageSize": MAX_RESULTS,
        "cursorTimeout": TIMEOUT_SECONDS,
    });
    Ok(ok(config))
}

fn resource_types(base: &str) -> Vec<Value> {
    RESOURCE_TYPES
        .as_array()
        .map(|types| types.iter().map(|t| locate(t.clone(), base)).collect())
        .unwrap_or_default()
}

pub async fn resource_types_index(gate: Data<Gate>, req: HttpRequest) -> ScimResult<HttpResponse> {
    refuse_filter(&req)?;
    let types = resource_types(&base_url(&req, &gate));
    Ok(ok(list_response(types.len() as u64, 1, types)))
}

pub async fn resource_type(gate: Data<Gate>, req: HttpRequest) -> ScimResult<HttpResponse> {
    let id = req.match_info().get("id").unwrap_or("");
    resource_types(&base_url(&req, &gate))
        .into_iter()
        .find(|t| t["id"].as_str() == Some(id))
        .map(ok)
        .ok_or_else(|| ScimError::plain(404, format!("No resource type {id}")))
}

fn schemas(base: &str) -> Vec<Value> {
    schema::all()
        .iter()
        .map(|s| locate((*s).clone(), base))
        .collect()
}

pub async fn schemas_index(gate: Data<Gate>, req: HttpRequest) -> ScimResult<HttpResponse> {
    refuse_filter(&req)?;
    let all = schemas(&base_url(&req, &gate));
    Ok(ok(list_response(all.len() as u64, 1, all)))
}

pub async fn schema(gate: Data<Gate>, req: HttpRequest) -> ScimResult<HttpResponse> {
    let id = req.match_info().get("id").unwrap_or("");
    schemas(&base_url(&req, &gate))
        .into_iter()
        .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
        .map(ok)
        .ok_or_else(|| ScimError::plain(404, format!("No schema {id}")))
}
