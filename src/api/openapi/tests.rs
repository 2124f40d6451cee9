//! The document against the route table: every route actix serves is an
//! operation of the document and every operation a route, so a handler
//! added without an annotation (or an annotation left behind) fails here.

use std::collections::BTreeSet;

use actix_web::introspection::IntrospectionTree;
use actix_web::test as actix_test;
use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse};
use serde_json::Value;

use super::document;

/// Served, but not operations of the document: SCIM describes itself
/// (its discovery endpoints, linked from the `scim` tag), and the pages
/// mailed links open are HTML for people, not an API.
fn undocumented(path: &str) -> bool {
    path.starts_with("/scim/v2")
        || path.starts_with("/{tenant}/api/scim/v2")
        || path.starts_with("/account/")
}

async fn route_table() -> BTreeSet<(String, String)> {
    async fn report(tree: Data<IntrospectionTree>) -> HttpResponse {
        HttpResponse::Ok().body(tree.report_as_json())
    }
    let app = actix_test::init_service(
        App::new()
            .configure(crate::api::routes)
            .service(web::resource("/__routes").route(web::get().to(report))),
    )
    .await;
    let items: Vec<Value> = actix_test::call_and_read_body_json(
        &app,
        actix_test::TestRequest::get().uri("/__routes").to_request(),
    )
    .await;
    let mut routes = BTreeSet::new();
    for item in items {
        let path = item["full_path"].as_str().unwrap_or_default().to_string();
        if item["resource_type"] != "resource" || path == "/__routes" || undocumented(&path) {
            continue;
        }
        for method in item["methods"].as_array().into_iter().flatten() {
            let method = method.as_str().unwrap_or_default().to_ascii_lowercase();
            routes.insert((method, path.clone()));
        }
    }
    routes
}

fn operations() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(document()).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert((method.clone(), path.clone()));
        }
    }
    operations
}

#[actix_web::test]
async fn every_route_is_an_operation_and_every_operation_a_route() {
    let routes = route_table().await;
    let operations = operations();
    assert!(routes.len() > 100, "the route table was read: {routes:?}");
    let lines = |set: Vec<&(String, String)>| {
        set.iter()
            .map(|(method, path)| format!("\n  {} {path}", method.to_uppercase()))
            .collect::<String>()
    };
    let missing = lines(routes.difference(&operations).collect());
    let stale = lines(operations.difference(&routes).collect());
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without documentation:{missing}\ndocumented operations without a route:{stale}"
    );
}

#[test]
fn the_document_is_openapi_3_1_with_unique_operation_ids() {
    let doc = serde_json::to_value(document()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap().to_string();
            assert!(ids.insert(id.clone()), "operationId {id} is unique");
            assert!(
                op["tags"].as_array().is_some_and(|t| t.len() == 1),
                "{id} has one tag"
            );
            assert!(
                op["responses"]
                    .as_object()
                    .is_some_and(|r| r.keys().any(|s| s.starts_with('2') || s.starts_with('3'))),
                "{id} documents its success"
            );
        }
    }
}

/// Every `$ref` names a schema the document defines.
#[test]
fn every_reference_resolves() {
    let doc = serde_json::to_value(document()).unwrap();
    fn walk(v: &Value, doc: &Value) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let pointer = r.trim_start_matches('#');
                    assert!(doc.pointer(pointer).is_some(), "{r} resolves");
                }
                map.values().for_each(|v| walk(v, doc));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, doc)),
            _ => {}
        }
    }
    walk(&doc, &doc);
}
