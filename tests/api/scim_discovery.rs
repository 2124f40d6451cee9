//! Discovery (RFC 7644 4; RFC 7643 5-7): what the server says it supports
//! is what it does, with absolute locations, at both base URLs.

use serde_json::json;

use crate::support::scim::{ENTERPRISE, GROUP, LIST, USER};
use crate::support::{tenant, Backend};

on_both_backends!(
    service_provider_config_tells_the_truth,
    resource_types_and_schemas
);

async fn service_provider_config_tells_the_truth(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    // Public, as RFC 7644 allows; the same document with a token.
    let anonymous = crate::support::scim::Scim {
        api: t.anonymous(),
        ..scim.clone()
    };
    let r = anonymous.get("/ServiceProviderConfig").await;
    let config = r.scim(200).clone();
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/scim+json"));
    assert_eq!(
        config["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    for feature in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
        assert_eq!(config[feature]["supported"], true, "{feature}");
    }
    assert_eq!(config["bulk"]["maxOperations"], 1000);
    assert_eq!(config["bulk"]["maxPayloadSize"], 1_048_576);
    assert_eq!(config["filter"]["maxResults"], 1000);
    assert_eq!(
        config["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
    assert!(config["meta"]["location"]
        .as_str()
        .unwrap()
        .starts_with("http://"));
    assert!(config["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with("/scim/v2/ServiceProviderConfig"));
    let with_token = scim.get("/ServiceProviderConfig").await;
    assert_eq!(with_token.scim(200)["bulk"], config["bulk"]);
    let at_tenant = scim.at_tenant(&t.id).get("/ServiceProviderConfig").await;
    assert!(at_tenant.scim(200)["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/{}/api/scim/v2/ServiceProviderConfig", t.id)));

    // maxResults holds: count above it is cut to it.
    let r = scim.query("/Users", &[("count", "5000")]).await;
    assert_eq!(r.scim(200)["schemas"], json!([LIST]));
}

async fn resource_types_and_schemas(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let r = scim.get("/ResourceTypes").await;
    let list = r.scim(200).clone();
    assert_eq!(list["schemas"], json!([LIST]));
    assert_eq!(list["totalResults"], 2);
    let user = list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "User")
        .unwrap()
        .clone();
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], USER);
    assert_eq!(
        user["schemaExtensions"],
        json!([{ "schema": ENTERPRISE, "required": false }])
    );
    assert!(user["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with("/scim/v2/ResourceTypes/User"));
    let r = scim.get("/ResourceTypes/Group").await;
    assert_eq!(r.scim(200)["schema"], GROUP);
    scim.get("/ResourceTypes/Role").await.scim_error(404, None);

    let r = scim.get("/Schemas").await;
    let ids: Vec<&str> = r.scim(200)["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [USER, GROUP, ENTERPRISE]);
    let r = scim.get(&format!("/Schemas/{USER}")).await;
    let schema = r.scim(200).clone();
    let attr = |name: &str| {
        schema["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(attr("userName")["uniqueness"], "server");
    assert_eq!(attr("userName")["caseExact"], false);
    assert_eq!(attr("password")["returned"], "never");
    assert_eq!(attr("groups")["mutability"], "readOnly");
    assert!(schema["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/scim/v2/Schemas/{USER}")));
    let r = scim.get(&format!("/Schemas/{ENTERPRISE}")).await;
    assert_eq!(r.scim(200)["attributes"].as_array().unwrap().len(), 6);
    scim.get("/Schemas/urn:example:nope")
        .await
        .scim_error(404, None);
    // RFC 7644 4: filters on discovery endpoints are refused with 403.
    scim.query("/Schemas", &[("filter", "id pr")])
        .await
        .scim_error(403, Some("invalidFilter"));
    scim.query("/ResourceTypes", &[("filter", "id pr")])
        .await
        .scim_error(403, Some("invalidFilter"));
}
