//! Property test: for random filters and random data, the SQL result
//! equals an in-memory evaluator's result, on both backends.
//!
//! Random users go in through SCIM Bulk; random filters over every filterable
//! attribute go out as `GET /Users?filter=...`, evaluated by the database. The
//! reference evaluator is `domain::filter::matches` over the JSON the server
//! returned for each user. Both must select the same users.
//! `ITHBAT_FILTER_SEED=n` replays one run; `ITHBAT_FILTER_CASES=n` sets how
//! many filters are tried (default 250).

use std::collections::BTreeSet;

use ithbat::api::scim::filter::parse;
use ithbat::api::scim::schema::{Resource, ScimAttributes};
use ithbat::domain::filter::matches;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

use crate::support::property::FilterRun;
use crate::support::scim::{BULK_REQUEST, ENTERPRISE, USER};
use crate::support::{pluck, tenant, Backend};

on_both_backends!(sql_filters_agree_with_the_reference_evaluator);

/// Values chosen to collide: shared stems, case variants, accents (in
/// composed and decomposed form), and characters LIKE treats specially.
const WORDS: &[&str] = &[
    "alpha",
    "Alpha",
    "ALPHA",
    "alphabet",
    "beta",
    "Beta",
    "gamma",
    "émile",
    "Émile",
    "e\u{301}mile",
    "zoë",
    "ZOË",
    "100%",
    "under_score",
    "back\\slash",
    "quote\"d",
    "ß",
    "straße",
    "Ωmega",
    "ωmega",
    "a",
    "",
];
const DOMAINS: &[&str] = &["example.com", "Example.COM", "x.test", "émile.example"];
const TYPES: &[&str] = &["work", "home", "Work", "other"];

fn word(rng: &mut StdRng) -> String {
    WORDS.choose(rng).unwrap().to_string()
}

fn maybe(rng: &mut StdRng, p: f64) -> bool {
    rng.gen_bool(p)
}

fn random_user(rng: &mut StdRng, n: usize) -> Value {
    let mut user = json!({
        "schemas": [USER, ENTERPRISE],
        "userName": format!("{}.{n}@{}", word(rng).replace(['"', '\\', ' '], ""), DOMAINS.choose(rng).unwrap()),
        "active": maybe(rng, 0.7),
    });
    let mut name = Vec::new();
    for (key, p) in [("givenName", 0.8), ("familyName", 0.8), ("middleName", 0.3)] {
        let w = word(rng);
        if maybe(rng, p) && !w.is_empty() {
            name.push((key, w));
        }
    }
    if !name.is_empty() {
        user["name"] = Value::Object(
            name.into_iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
        );
    }
    for key in ["title", "displayName", "nickName", "locale"] {
        if maybe(rng, 0.5) {
            let w = word(rng);
            if !w.trim().is_empty() {
                user[key] = json!(w);
            }
        }
    }
    if maybe(rng, 0.6) {
        user["externalId"] = json!(format!("{}-{}", word(rng), rng.gen_range(0..4)));
    }
    let emails: Vec<Value> = (0..rng.gen_range(0..=3))
        .map(|i| {
            let mut e = json!({ "value": format!("{}{i}.{n}@{}", ["mail", "Mail", "post"].choose(rng).unwrap(), DOMAINS.choose(rng).unwrap()) });
            if maybe(rng, 0.7) {
                e["type"] = json!(TYPES.choose(rng).unwrap());
            }
            e
        })
        .collect();
    if !emails.is_empty() {
        let mut emails = emails;
        if maybe(rng, 0.6) {
            let i = rng.gen_range(0..emails.len());
            emails[i]["primary"] = json!(true);
        }
        user["emails"] = json!(emails);
    } else {
        // Every user needs an address: the userName is one.
    }
    let phones: Vec<Value> = (0..rng.gen_range(0..=2))
        .map(|_| json!({ "value": format!("+64 {}", rng.gen_range(100..120)), "type": TYPES.choose(rng).unwrap() }))
        .collect();
    if !phones.is_empty() {
        user["phoneNumbers"] = json!(phones);
    }
    let mut ext = serde_json::Map::new();
    for key in ["department", "costCenter", "employeeNumber"] {
        if maybe(rng, 0.5) {
            let w = word(rng);
            if !w.trim().is_empty() {
                ext.insert(key.into(), json!(w));
            }
        }
    }
    if !ext.is_empty() {
        user[ENTERPRISE] = Value::Object(ext);
    }
    user
}

/// A SCIM string literal (a JSON string).
fn lit(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A value to compare with: one that occurs in the data (perhaps cut
/// down, perhaps in another case), or a fresh word.
fn string_value(rng: &mut StdRng, seen: &[String]) -> String {
    let base = if seen.is_empty() || maybe(rng, 0.2) {
        word(rng)
    } else {
        seen.choose(rng).unwrap().clone()
    };
    let chars: Vec<char> = base.chars().collect();
    let mut v: String = match rng.gen_range(0..4) {
        0 if chars.len() > 2 => {
            let a = rng.gen_range(0..chars.len() / 2);
            let b = rng.gen_range(a + 1..=chars.len());
            chars[a..b].iter().collect()
        }
        _ => base,
    };
    if maybe(rng, 0.3) {
        v = v.to_uppercase();
    }
    v
}

const STRING_ATTRS: &[&str] = &[
    "userName",
    "externalId",
    "name.givenName",
    "name.familyName",
    "name.middleName",
    "title",
    "displayName",
    "nickName",
    "locale",
    "emails",
    "emails.value",
    "emails.type",
    "phoneNumbers.value",
    "phoneNumbers.type",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "costCenter",
    "employeeNumber",
];
const STRING_OPS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];

fn atom(rng: &mut StdRng, pools: &Pools) -> String {
    match rng.gen_range(0..10) {
        0 => format!("{} pr", STRING_ATTRS.choose(rng).unwrap()),
        1 => format!(
            "active {} {}",
            ["eq", "ne"].choose(rng).unwrap(),
            rng.gen_bool(0.5)
        ),
        2 => format!("emails.primary eq {}", rng.gen_bool(0.5)),
        3 => {
            let t = pools.created.choose(rng).unwrap();
            format!(
                "meta.created {} {}",
                ["eq", "ne", "gt", "ge", "lt", "le"].choose(rng).unwrap(),
                lit(t)
            )
        }
        4 => {
            let inner = format!(
                "type eq {} {} value {} {}",
                lit(TYPES.choose(rng).unwrap()),
                ["and", "or"].choose(rng).unwrap(),
                STRING_OPS.choose(rng).unwrap(),
                lit(&string_value(rng, &pools.strings))
            );
            format!("emails[{inner}]")
        }
        5 => format!(
            "phoneNumbers[type eq {} and not (value sw \"+64 11\")]",
            lit(TYPES.choose(rng).unwrap())
        ),
        _ => {
            let attr = STRING_ATTRS.choose(rng).unwrap();
            let op = STRING_OPS.choose(rng).unwrap();
            format!("{attr} {op} {}", lit(&string_value(rng, &pools.strings)))
        }
    }
}

fn filter(rng: &mut StdRng, pools: &Pools, depth: u32) -> String {
    if depth == 0 || maybe(rng, 0.45) {
        return atom(rng, pools);
    }
    match rng.gen_range(0..3) {
        0 => format!(
            "{} and {}",
            filter(rng, pools, depth - 1),
            filter(rng, pools, depth - 1)
        ),
        1 => format!(
            "({} or {})",
            filter(rng, pools, depth - 1),
            filter(rng, pools, depth - 1)
        ),
        _ => format!("not ({})", filter(rng, pools, depth - 1)),
    }
}

struct Pools {
    strings: Vec<String>,
    created: Vec<String>,
}

/// Every string in a JSON document, for comparison values.
fn strings_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|i| strings_of(i, out)),
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| *k != "meta")
            .for_each(|(_, i)| strings_of(i, out)),
        _ => {}
    }
}

async fn sql_filters_agree_with_the_reference_evaluator(b: Backend) {
    let FilterRun {
        seed,
        cases,
        mut rng,
    } = FilterRun::start(&format!("{b:?}: filter"), 250);
    let t = tenant(b).await;
    let scim = t.scim().await;

    let operations: Vec<Value> = (0..80)
        .map(|n| json!({ "method": "POST", "path": "/Users", "bulkId": format!("u{n}"), "data": random_user(&mut rng, n) }))
        .collect();
    let r = scim
        .post(
            "/Bulk",
            json!({ "schemas": [BULK_REQUEST], "Operations": operations }),
        )
        .await;
    let failed: Vec<&Value> = r.scim(200)["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] != "201")
        .collect();
    // Random data may collide on a unique userName or email; the rest is
    // plenty, but say what failed.
    assert!(failed.len() < 10, "seed {seed}: {failed:?}");

    let all = scim.query("/Users", &[("count", "1000")]).await;
    let users = all.scim(200)["Resources"].as_array().unwrap().clone();
    assert!(users.len() > 70, "seed {seed}");
    let mut strings = Vec::new();
    users.iter().for_each(|u| strings_of(u, &mut strings));
    let created = users
        .iter()
        .map(|u| u["meta"]["created"].as_str().unwrap().to_string())
        .collect();
    let pools = Pools { strings, created };
    let attrs = ScimAttributes(Resource::User);

    let mut matched_some = 0;
    for case in 0..cases {
        let text = filter(&mut rng, &pools, 3);
        let parsed =
            parse(&text).unwrap_or_else(|e| panic!("seed {seed} case {case}: {text}: {e}"));
        let expected: BTreeSet<&str> = users
            .iter()
            .filter(|u| matches(u, &parsed, &attrs))
            .map(|u| u["id"].as_str().unwrap())
            .collect();
        let r = scim
            .query(
                "/Users",
                &[("filter", &text), ("count", "1000"), ("attributes", "id")],
            )
            .await;
        assert_eq!(r.status, 200, "seed {seed} case {case}: {text}: {}", r.text);
        let got: BTreeSet<&str> = pluck(&r.body["Resources"], "/id");
        assert_eq!(r.body["totalResults"], got.len(), "seed {seed}: {text}");
        if got != expected {
            let only_sql: Vec<&Value> = users
                .iter()
                .filter(|u| {
                    got.contains(u["id"].as_str().unwrap())
                        && !expected.contains(u["id"].as_str().unwrap())
                })
                .collect();
            let only_ref: Vec<&Value> = users
                .iter()
                .filter(|u| {
                    expected.contains(u["id"].as_str().unwrap())
                        && !got.contains(u["id"].as_str().unwrap())
                })
                .collect();
            panic!(
                "seed {seed} case {case}: {text}\nSQL only: {}\nreference only: {}",
                serde_json::to_string_pretty(&only_sql).unwrap(),
                serde_json::to_string_pretty(&only_ref).unwrap()
            );
        }
        if !expected.is_empty() && expected.len() < users.len() {
            matched_some += 1;
        }
    }
    // The generator must produce filters that discriminate, or the test
    // proves little.
    assert!(
        matched_some * 4 >= cases,
        "seed {seed}: only {matched_some} of {cases} filters selected a proper subset"
    );
}
