//! Every attribute of the served User schemas round-trips (RFC 7643 4.1
//! and 4.3; RFC 7644 3.5.1 and 3.5.2). The test reads `/Schemas`, so an
//! attribute the server starts to describe is covered without touching
//! this file: for each one it creates a user with nothing but a userName,
//! then adds, replaces and removes the attribute (with a path, without a
//! path, and through value filters) and checks the GET after each step.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::support::scim::{Scim, ENTERPRISE, USER};
use crate::support::{tenant, Backend};

on_both_backends!(
    every_attribute_round_trips_through_patch,
    every_attribute_round_trips_through_put,
    at_most_one_primary_value,
    manager_references_and_filters,
);

/// One attribute of a served schema, as /Schemas describes it.
struct Attribute {
    /// The path a PATCH names it by: `title`, or `<extension URN>:manager`.
    path: String,
    /// The extension it belongs to, if any.
    extension: Option<&'static str>,
    name: String,
    schema: Value,
}

impl Attribute {
    fn multi(&self) -> bool {
        self.schema["multiValued"] == true
    }

    fn mutability(&self) -> &str {
        self.schema["mutability"].as_str().unwrap_or("readWrite")
    }

    fn subs(&self) -> Vec<&Value> {
        self.schema["subAttributes"]
            .as_array()
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    }

    /// The attribute in a GET of the user.
    fn read<'a>(&self, user: &'a Value) -> Option<&'a Value> {
        let holder = match self.extension {
            Some(urn) => user.get(urn)?,
            None => user,
        };
        holder.get(&self.name).filter(|v| !v.is_null())
    }

    /// `{attr: value}`, wrapped in its extension when it has one.
    fn wrapped(&self, value: Value) -> Value {
        let inner = json!({ self.name.clone(): value });
        match self.extension {
            Some(urn) => json!({ urn: inner }),
            None => inner,
        }
    }
}

async fn served_attributes(scim: &Scim) -> Vec<Attribute> {
    let r = scim.get("/Schemas").await;
    let schemas = r.scim(200)["Resources"].as_array().unwrap().clone();
    let mut out = Vec::new();
    for (urn, extension) in [(USER, None), (ENTERPRISE, Some(ENTERPRISE))] {
        let schema = schemas
            .iter()
            .find(|s| s["id"] == urn)
            .unwrap_or_else(|| panic!("/Schemas serves {urn}"));
        for a in schema["attributes"].as_array().unwrap() {
            let name = a["name"].as_str().unwrap().to_string();
            out.push(Attribute {
                path: match extension {
                    Some(urn) => format!("{urn}:{name}"),
                    None => name.clone(),
                },
                extension,
                name,
                schema: a.clone(),
            });
        }
    }
    out
}

/// Generates values of the schema's types. `n` makes each call's values
/// differ; strings carry characters a careless store would mangle.
struct Values<'a> {
    slug: &'a str,
    /// An existing user, for references to users (`manager.value`).
    other_user: &'a str,
}

impl Values<'_> {
    fn simple(&self, attr: &str, sub: &Value, n: u32) -> Value {
        let name = sub["name"].as_str().unwrap();
        match (attr, name, sub["type"].as_str().unwrap()) {
            // Addresses the server can sign in with and mail.
            ("emails", "value", _) => {
                json!(format!("V{n}.{}@{}.Example", Uuid::new_v4(), self.slug))
            }
            ("userName", _, _) => json!(format!("user-{n}-{}", Uuid::new_v4())),
            ("manager", "value", _) => json!(self.other_user),
            (_, _, "boolean") => json!(n % 2 == 1),
            (_, _, "binary") => json!(["MIIBIjANBg==", "AAECAwQFBgcICQ=="][n as usize % 2]),
            (_, _, "reference") => json!(format!("https://photos.example/{attr}/{n}?q=\"x\"")),
            (_, _, "integer") => json!(n),
            (_, _, "decimal") => json!(n as f64 + 0.5),
            (_, _, "dateTime") => json!(format!("2026-12-0{}T10:00:00Z", n % 9 + 1)),
            // A canonical value first, then one the schema does not list.
            (_, "type", _) => match sub["canonicalValues"].as_array() {
                Some(c) if n % 2 == 0 && !c.is_empty() => c[0].clone(),
                _ => json!(format!("kind {n}")),
            },
            _ => json!(format!("{attr} {name} {n}: Zoë \"ŝ\" 東京 \\ <b>")),
        }
    }

    /// A value for `a`: one value, or two values of a multi-valued
    /// attribute (the first primary when it has `primary`).
    fn of(&self, a: &Attribute, n: u32) -> Value {
        let complex = |n: u32, first: bool| {
            let mut o = Map::new();
            for sub in a.subs() {
                let name = sub["name"].as_str().unwrap();
                if sub["mutability"] == "readOnly" {
                    continue;
                }
                let v = if name == "primary" {
                    json!(first)
                } else {
                    self.simple(&a.name, sub, n)
                };
                o.insert(name.to_string(), v);
            }
            Value::Object(o)
        };
        match (a.multi(), a.schema["type"].as_str().unwrap()) {
            (true, "complex") => json!([complex(n, true), complex(n + 101, false)]),
            (true, _) => json!([
                self.simple(&a.name, &a.schema, n),
                self.simple(&a.name, &a.schema, n + 101)
            ]),
            (false, "complex") => complex(n, true),
            (false, _) => self.simple(&a.name, &a.schema, n),
        }
    }
}

/// Whether `got` holds what was `sent`: the same scalars, the same number
/// of values in the same order, and every sent sub-attribute; the server
/// may add what it computes (`$ref`, `display` of a reference).
fn holds(got: &Value, sent: &Value) -> bool {
    match (got, sent) {
        (Value::Object(g), Value::Object(s)) => s
            .iter()
            .all(|(k, sv)| g.get(k).is_some_and(|gv| holds(gv, sv))),
        (Value::Array(g), Value::Array(s)) => {
            g.len() == s.len() && g.iter().zip(s).all(|(g, s)| holds(g, s))
        }
        _ => got == sent,
    }
}

#[track_caller]
fn assert_holds(a: &Attribute, user: &Value, sent: &Value, step: &str) {
    let got = a.read(user);
    assert!(
        got.is_some_and(|g| holds(g, sent)),
        "{}: after {step}, sent {sent}, GET shows {}",
        a.path,
        got.map(Value::to_string)
            .unwrap_or_else(|| "nothing".into())
    );
}

/// A user with nothing but a userName (RFC 7643 makes only it required).
async fn minimal_user(scim: &Scim) -> String {
    scim.create_user(&Uuid::new_v4().to_string(), json!({}))
        .await
}

async fn get_user(scim: &Scim, id: &str) -> Value {
    scim.get(&format!("/Users/{id}")).await.scim(200).clone()
}

async fn patch_ok(scim: &Scim, id: &str, a: &Attribute, list: Value, step: &str) -> Value {
    let r = scim.patch(&format!("/Users/{id}"), list).await;
    assert!(
        r.status == 200 || r.status == 204,
        "{}: {step}: {} {}",
        a.path,
        r.status,
        r.text
    );
    get_user(scim, id).await
}

async fn every_attribute_round_trips_through_patch(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let other_user = minimal_user(&scim).await;
    let values = Values {
        slug: &t.slug,
        other_user: &other_user,
    };
    let attributes = served_attributes(&scim).await;
    assert!(attributes.len() >= 25, "the full User schema is served");
    for a in &attributes {
        let id = minimal_user(&scim).await;
        let before = get_user(&scim, &id).await;
        let v1 = values.of(a, 1);
        match a.mutability() {
            "readOnly" => {
                // RFC 7644 3.5.2: a read-only attribute is a mutability error.
                scim.patch(
                    &format!("/Users/{id}"),
                    json!([{ "op": "add", "path": a.path, "value": v1 }]),
                )
                .await
                .scim_error(400, Some("mutability"));
                assert_eq!(
                    get_user(&scim, &id).await["meta"],
                    before["meta"],
                    "{}: nothing changed",
                    a.path
                );
                continue;
            }
            "writeOnly" => {
                // Never returned (RFC 7643 7, `returned: never`).
                let user = patch_ok(
                    &scim,
                    &id,
                    a,
                    json!([{ "op": "replace", "path": a.path, "value": v1 }]),
                    "replace",
                )
                .await;
                assert!(a.read(&user).is_none(), "{} is never returned", a.path);
                continue;
            }
            _ => {}
        }

        // add with a path
        let user = patch_ok(
            &scim,
            &id,
            a,
            json!([{ "op": "add", "path": a.path, "value": v1 }]),
            "add",
        )
        .await;
        assert_holds(a, &user, &v1, "add with a path");

        // replace with a path
        let v2 = values.of(a, 2);
        let user = patch_ok(
            &scim,
            &id,
            a,
            json!([{ "op": "replace", "path": a.path, "value": v2 }]),
            "replace",
        )
        .await;
        assert_holds(a, &user, &v2, "replace with a path");

        // sub-attributes: `name.givenName`, or `emails[value eq "..."].display`
        if a.schema["type"] == "complex" {
            for sub in a.subs() {
                let sub_name = sub["name"].as_str().unwrap();
                if sub["mutability"] == "readOnly" || (a.name == "manager" && sub_name == "value") {
                    continue;
                }
                let fresh = values.simple(&a.name, sub, 3);
                let (path, mut expected) = if a.multi() {
                    let first = &v2[0];
                    let selector = match first.get("value") {
                        Some(v) => format!("value eq {v}"),
                        None => format!("type eq {}", first["type"]),
                    };
                    (format!("{}[{selector}].{sub_name}", a.path), v2.clone())
                } else {
                    (format!("{}.{sub_name}", a.path), v2.clone())
                };
                let slot = if a.multi() {
                    &mut expected[0]
                } else {
                    &mut expected
                };
                slot[sub_name] = fresh.clone();
                if a.multi() && sub_name == "primary" && fresh == true {
                    expected[1]["primary"] = json!(false);
                }
                let user = patch_ok(
                    &scim,
                    &id,
                    a,
                    json!([{ "op": "replace", "path": path, "value": fresh }]),
                    &path,
                )
                .await;
                assert_holds(a, &user, &expected, &format!("replace {path}"));
                // Back to v2 for the steps below.
                patch_ok(
                    &scim,
                    &id,
                    a,
                    json!([{ "op": "replace", "path": a.path, "value": v2 }]),
                    "reset",
                )
                .await;
            }
        }

        // remove one value of a multi-valued attribute through a filter
        if a.multi() && a.schema["type"] == "complex" {
            let second = &v2[1];
            let selector = match second.get("value") {
                Some(v) => format!("value eq {v}"),
                None => format!("type eq {}", second["type"]),
            };
            let path = format!("{}[{selector}]", a.path);
            let user = patch_ok(
                &scim,
                &id,
                a,
                json!([{ "op": "remove", "path": path }]),
                &path,
            )
            .await;
            assert_holds(a, &user, &json!([v2[0]]), &format!("remove {path}"));
        }

        // remove with a path
        if a.schema["required"] == true {
            // A required attribute cannot be unassigned (RFC 7643 2.2).
            let before = get_user(&scim, &id).await;
            scim.patch(
                &format!("/Users/{id}"),
                json!([{ "op": "remove", "path": a.path }]),
            )
            .await
            .scim_error(400, Some("invalidValue"));
            assert_eq!(
                get_user(&scim, &id).await,
                before,
                "{}: nothing changed",
                a.path
            );
        } else {
            let user = patch_ok(
                &scim,
                &id,
                a,
                json!([{ "op": "remove", "path": a.path }]),
                "remove",
            )
            .await;
            if a.name == "active" {
                // A user is active or not; removing says nothing new.
                assert!(
                    a.read(&user).is_some_and(Value::is_boolean),
                    "{} stays",
                    a.path
                );
            } else {
                assert!(
                    a.read(&user).is_none(),
                    "{}: after remove GET shows {:?}",
                    a.path,
                    a.read(&user)
                );
            }
        }

        // add and replace without a path: the value names the attribute
        for op in ["add", "replace"] {
            let v = values.of(a, 4);
            let user = patch_ok(
                &scim,
                &id,
                a,
                json!([{ "op": op, "value": a.wrapped(v.clone()) }]),
                op,
            )
            .await;
            assert_holds(a, &user, &v, &format!("{op} without a path"));
        }
        assert!(get_user(&scim, &id).await["userName"].is_string());
    }
}

/// PUT (RFC 7644 3.5.1) of a user holding every writable attribute, then a
/// PUT holding none of them: the GETs show each set, then each gone.
async fn every_attribute_round_trips_through_put(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let other_user = minimal_user(&scim).await;
    let values = Values {
        slug: &t.slug,
        other_user: &other_user,
    };
    let attributes: Vec<Attribute> = served_attributes(&scim)
        .await
        .into_iter()
        .filter(|a| a.mutability() == "readWrite")
        .collect();
    let id = minimal_user(&scim).await;
    let user_name = get_user(&scim, &id).await["userName"].clone();
    let mut body = json!({ "schemas": [USER, ENTERPRISE], "userName": user_name });
    let mut sent = Vec::new();
    for a in &attributes {
        if a.name == "userName" {
            continue;
        }
        let v = values.of(a, 5);
        let target = match a.extension {
            Some(urn) => body
                .as_object_mut()
                .unwrap()
                .entry(urn)
                .or_insert_with(|| json!({})),
            None => &mut body,
        };
        target[a.name.as_str()] = v.clone();
        sent.push((a, v));
    }
    let r = scim.put(&format!("/Users/{id}"), body).await;
    let put = r.scim(200).clone();
    let user = get_user(&scim, &id).await;
    for (a, v) in &sent {
        assert_holds(a, &put, v, "PUT (its response)");
        assert_holds(a, &user, v, "PUT");
    }

    let r = scim
        .put(
            &format!("/Users/{id}"),
            json!({ "schemas": [USER], "userName": user_name }),
        )
        .await;
    r.scim(200);
    let user = get_user(&scim, &id).await;
    for (a, _) in &sent {
        if a.name != "active" {
            assert!(
                a.read(&user).is_none(),
                "{}: a PUT without it clears it",
                a.path
            );
        }
    }
}

/// RFC 7643 2.4: "The primary attribute value 'true' MUST appear no more
/// than once"; RFC 7644 3.5.2: a new primary value demotes the others.
async fn at_most_one_primary_value(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    for attr in [
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "entitlements",
        "roles",
        "addresses",
    ] {
        let two = json!([{ "value": "a", "type": "work", "primary": true }, { "value": "b", "type": "home", "primary": true }]);
        let r = scim
            .post(
                "/Users",
                json!({ "schemas": [USER], "userName": Uuid::new_v4().to_string(), attr: two }),
            )
            .await;
        r.scim_error(400, Some("invalidValue"));
        assert!(
            r.body["detail"].as_str().unwrap().contains(attr),
            "{}",
            r.text
        );
    }

    let id = minimal_user(&scim).await;
    let a = format!("a@{}.example", t.slug);
    let b2 = format!("b@{}.example", t.slug);
    let path = format!("/Users/{id}");
    let r = scim
        .patch(
            &path,
            json!([{ "op": "add", "path": "emails", "value": [{ "value": a, "primary": true }] }]),
        )
        .await;
    r.scim(200);
    // Adding a primary value demotes the one there.
    let r = scim
        .patch(
            &path,
            json!([{ "op": "add", "path": "emails", "value": [{ "value": b2, "primary": true }] }]),
        )
        .await;
    assert_eq!(
        r.scim(200)["emails"],
        json!([{ "value": a, "primary": false }, { "value": b2, "primary": true }])
    );
    // Making one primary through a filter demotes the others.
    let r = scim
        .patch(
            &path,
            json!([{ "op": "replace", "path": format!("emails[value eq \"{a}\"].primary"), "value": true }]),
        )
        .await;
    assert_eq!(
        r.scim(200)["emails"],
        json!([{ "value": a, "primary": true }, { "value": b2, "primary": false }])
    );
    // The same for a multi-valued attribute stored as sent.
    let r = scim
        .patch(
            &path,
            json!([
                { "op": "add", "path": "ims", "value": [{ "value": "x", "type": "xmpp", "primary": true }] },
                { "op": "add", "path": "ims", "value": [{ "value": "y", "type": "skype", "primary": true }] }
            ]),
        )
        .await;
    assert_eq!(
        r.scim(200)["ims"],
        json!([{ "value": "x", "type": "xmpp", "primary": false }, { "value": "y", "type": "skype", "primary": true }])
    );
}

/// `manager.value` names another user of the tenant: linked, with its
/// `$ref`; an id no user of the tenant has is 400 invalidValue naming
/// `manager.value`, alike for POST, PUT and PATCH, and nothing is written
/// (docs/api/scim.md, What the server does with each attribute). The
/// attributes stored as sent are not filterable: 400 invalidFilter.
async fn manager_references_and_filters(b: Backend) {
    let t = tenant(b).await;
    let scim = t.scim().await;
    let boss = minimal_user(&scim).await;
    let id = minimal_user(&scim).await;
    let path = format!("/Users/{id}");
    let user_name = get_user(&scim, &id).await["userName"].clone();
    let manager = |value: &str| json!({ ENTERPRISE: { "manager": { "value": value } } });

    let r = scim
        .patch(&path, json!([{ "op": "add", "value": manager(&boss) }]))
        .await;
    let linked = &r.scim(200)[ENTERPRISE]["manager"];
    assert_eq!(linked["value"], boss.as_str());
    assert!(linked["$ref"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/Users/{boss}")));

    let before = get_user(&scim, &id).await;
    for unknown in [
        Uuid::new_v4().to_string(),
        "not-an-id".to_string(),
        id.clone(),
    ] {
        let mut body =
            json!({ "schemas": [USER, ENTERPRISE], "userName": Uuid::new_v4().to_string() });
        body[ENTERPRISE] = manager(&unknown)[ENTERPRISE].clone();
        // (The user itself is a valid manager for another, new user.)
        if unknown != id {
            let r = scim.post("/Users", body.clone()).await;
            r.scim_error(400, Some("invalidValue"));
            assert!(
                r.body["detail"].as_str().unwrap().contains("manager.value"),
                "{}",
                r.text
            );
        }
        body["userName"] = user_name.clone();
        let r = scim.put(&path, body).await;
        r.scim_error(400, Some("invalidValue"));
        assert!(
            r.body["detail"].as_str().unwrap().contains("manager.value"),
            "{}",
            r.text
        );
        let r = scim
            .patch(
                &path,
                json!([{ "op": "replace", "path": format!("{ENTERPRISE}:manager.value"), "value": unknown }]),
            )
            .await;
        r.scim_error(400, Some("invalidValue"));
        assert!(
            r.body["detail"].as_str().unwrap().contains("manager.value"),
            "{}",
            r.text
        );
        assert_eq!(
            get_user(&scim, &id).await,
            before,
            "{unknown}: nothing changed"
        );
    }

    // Deleting the manager unlinks it.
    assert_eq!(scim.delete(&format!("/Users/{boss}")).await.status, 204);
    assert!(get_user(&scim, &id).await.get(ENTERPRISE).is_none());

    for filter in [
        "ims.value eq \"x\"",
        "roles pr",
        "x509Certificates.value eq \"AA==\"",
    ] {
        scim.query("/Users", &[("filter", filter)])
            .await
            .scim_error(400, Some("invalidFilter"));
    }
}
