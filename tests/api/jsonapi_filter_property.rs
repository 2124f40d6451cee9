//! Property test for the JSON:API filters: for random accounts and random
//! `filter[...]` queries, the accounts the database selects are exactly
//! those the reference evaluator (`domain::filter::matches`) selects over
//! the JSON the server returned. Both read the same AST, which the query
//! parser builds; the translator under test is the account vocabulary,
//! `repo/filter/accounts.rs`. `ITHBAT_FILTER_SEED=n` replays a run;
//! `ITHBAT_FILTER_CASES=n` sets how many queries are tried (default 200).

use std::collections::BTreeSet;

use ithbat::api::jsonapi::accounts::{SPEC, TYPES};
use ithbat::api::jsonapi::query::parse_list;
use ithbat::domain::filter::matches;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

use crate::support::property::FilterRun;
use crate::support::{pluck, tenant, Backend, PASSWORD};

on_both_backends!(account_filters_agree_with_the_reference_evaluator);

const NAMES: &[&str] = &[
    "Alpha",
    "alpha",
    "Émile",
    "e\u{301}mile",
    "Zoë",
    "ZOË",
    "Straße",
    "Ωmega",
    "Beta",
    "Gamma",
    "under_score",
    "100%",
];
const SCOPES: &[&str] = &[
    "/",
    "/organizations/1",
    "/organizations/1/projects/2",
    "/organizations/2",
    "/organizations/10",
];
const CHANNELS: &[&str] = &["google", "Google", "azure-ad", "signicat"];
const PICTURES: &[&str] = &["https://cdn.example/a.png", "https://cdn.example/B.png"];

fn pick<'a>(rng: &mut StdRng, from: &'a [&'a str]) -> &'a str {
    from.choose(rng).unwrap()
}

/// Some case variant of a string.
fn recase(rng: &mut StdRng, s: &str) -> String {
    match rng.gen_range(0..3) {
        0 => s.to_uppercase(),
        1 => s.to_lowercase(),
        _ => s.to_string(),
    }
}

fn substring(rng: &mut StdRng, s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 2 {
        return s.to_string();
    }
    let start = rng.gen_range(0..chars.len() - 1);
    let end = rng.gen_range(start + 1..=chars.len());
    chars[start..end].iter().collect()
}

fn enc(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_string()
}

struct Pool {
    accounts: Vec<Value>,
}

impl Pool {
    fn attr(&self, rng: &mut StdRng, name: &str) -> Option<String> {
        let a = self.accounts.choose(rng).unwrap();
        a["attributes"][name].as_str().map(String::from)
    }

    fn id(&self, rng: &mut StdRng) -> String {
        self.accounts.choose(rng).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn time(&self, rng: &mut StdRng, name: &str) -> String {
        match self.attr(rng, name) {
            Some(t) if rng.gen_bool(0.8) => t,
            _ => ["2000-01-01", "2999-12-31"]
                .choose(rng)
                .unwrap()
                .to_string(),
        }
    }
}

/// One `filter[...]=...` parameter.
fn parameter(rng: &mut StdRng, pool: &Pool) -> String {
    let email = pool.attr(rng, "email").unwrap_or_default();
    let other_email = pool.attr(rng, "email").unwrap_or_default();
    let name = pool.attr(rng, "name").unwrap_or_default();
    let role = pool.attr(rng, "role_name").unwrap_or_default();
    let email_part = substring(rng, &email);
    let name_part = substring(rng, &name);
    let (email, other_email, name, role) = (
        recase(rng, &email),
        recase(rng, &other_email),
        recase(rng, &name),
        recase(rng, &role),
    );
    let (email_part, name_part) = (recase(rng, &email_part), recase(rng, &name_part));
    let scope = pick(rng, SCOPES);
    let other_scope = pick(rng, SCOPES);
    let channel = pick(rng, CHANNELS);
    match rng.gen_range(0..19) {
        0 => format!("filter[email]={}", enc(&email)),
        1 => format!("filter[email]={},{}", enc(&email), enc(&other_email)),
        2 => format!("filter[email__match]={}", enc(&email_part)),
        3 => format!("filter[name]={}", enc(&name)),
        4 => format!("filter[name__match]={}", enc(&name_part)),
        5 => format!("filter[role_name]={}", enc(&role)),
        6 => {
            let other = pick(rng, &["owner", "admin", "member"]);
            format!("filter[role_name__in]={},{other}", enc(&role))
        }
        7 => format!("filter[role_name__nin]={}", enc(&role)),
        8 => format!("filter[role_scope]={scope}"),
        9 => format!("filter[role_scope__nin]={scope},{other_scope}"),
        10 => format!("filter[with_role_scope]={scope}"),
        11 => format!("filter[enabled]={}", rng.gen_bool(0.5)),
        12 => match rng.gen_range(0..3) {
            0 => "filter[sso_channel]=null".into(),
            1 => format!("filter[sso_channel]={}", recase(rng, channel)),
            _ => format!("filter[sso_channel__nin]={channel}"),
        },
        13 => match rng.gen_bool(0.5) {
            true => "filter[picture_url]=null".into(),
            false => format!("filter[picture_url]={}", enc(pick(rng, PICTURES))),
        },
        14 => match rng.gen_range(0..3) {
            0 => "filter[joined_at]=null".into(),
            1 => format!(
                "filter[joined_at__gte]={}",
                enc(&pool.time(rng, "joined_at"))
            ),
            _ => format!(
                "filter[joined_at__lte]={}",
                enc(&pool.time(rng, "joined_at"))
            ),
        },
        15 => format!(
            "filter[invitation_expired_at__gte]={}",
            enc(&pool.time(rng, "invitation_expired_at"))
        ),
        16 => {
            let op = pick(rng, &["gte", "lte"]);
            format!(
                "filter[created_at__{op}]={}",
                enc(&pool.time(rng, "created_at"))
            )
        }
        17 => format!("filter[id]={},{}", pool.id(rng), pool.id(rng)),
        _ => format!("filter[id__nin]={}", pool.id(rng)),
    }
}

async fn account_filters_agree_with_the_reference_evaluator(b: Backend) {
    let FilterRun {
        seed,
        cases,
        mut rng,
    } = FilterRun::start(&format!("{b:?}: account filter"), 200);
    let t = tenant(b).await;
    t.role_with("Custom Ops", &["user:read"]).await;
    for n in 0..40 {
        let name = format!("{} {}", pick(&mut rng, NAMES), pick(&mut rng, NAMES));
        let mut attributes = json!({
            "name": name,
            "email": format!("{}.{n}@{}.example", pick(&mut rng, &["a", "B", "émile", "x_y", "p%q"]), t.slug),
            "role_name": pick(&mut rng, &["member", "admin", "Custom Ops"]),
            "role_scope": pick(&mut rng, SCOPES),
            "enabled": rng.gen_bool(0.8),
        });
        if rng.gen_bool(0.6) {
            attributes["password"] = json!(PASSWORD);
        }
        if rng.gen_bool(0.5) {
            attributes["sso_channel"] = json!(pick(&mut rng, CHANNELS));
        }
        if rng.gen_bool(0.5) {
            attributes["picture_url"] = json!(pick(&mut rng, PICTURES));
        }
        let r = t.owner.post_account(attributes).await;
        assert_eq!(r.status, 200, "seed {seed}: {}", r.text);
    }
    let all = t
        .owner
        .jsonapi_get("/api/v1/accounts?page[size]=1000")
        .await;
    let accounts = all.body["data"].as_array().unwrap().clone();
    assert_eq!(accounts.len(), 41, "seed {seed}");
    // The reference evaluator sees what a client sees: the attributes, and the
    // id.
    let documents: Vec<Value> = accounts
        .iter()
        .map(|a| {
            let mut doc = a["attributes"].clone();
            doc["id"] = a["id"].clone();
            doc
        })
        .collect();
    let pool = Pool { accounts };

    let mut proper = 0;
    for case in 0..cases {
        let params: Vec<String> = (0..rng.gen_range(1..=3))
            .map(|_| parameter(&mut rng, &pool))
            .collect();
        let query = params.join("&");
        let parsed = parse_list(&query, &SPEC, TYPES)
            .unwrap_or_else(|e| panic!("seed {seed} case {case}: {query}: {e:?}"));
        let filter = parsed.filter.expect("a filter");
        let expected: BTreeSet<&str> = documents
            .iter()
            .filter(|d| matches(d, &filter, &SPEC))
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        let r = t
            .owner
            .jsonapi_get(&format!(
                "/api/v1/accounts?{query}&page[size]=1000&count=true&fields[accounts]=email"
            ))
            .await;
        assert_eq!(
            r.status, 200,
            "seed {seed} case {case}: {query}: {}",
            r.text
        );
        let got: BTreeSet<&str> = pluck(&r.body["data"], "/id");
        assert_eq!(r.body["meta"]["count"], got.len(), "seed {seed}: {query}");
        if got != expected {
            let differ: Vec<&Value> = documents
                .iter()
                .filter(|d| {
                    let id = d["id"].as_str().unwrap();
                    got.contains(id) != expected.contains(id)
                })
                .collect();
            panic!(
                "seed {seed} case {case}: {query}\n{filter:?}\ndisagree on: {}",
                serde_json::to_string_pretty(&differ).unwrap()
            );
        }
        if !expected.is_empty() && expected.len() < documents.len() {
            proper += 1;
        }
    }
    assert!(
        proper * 3 >= cases,
        "seed {seed}: only {proper} of {cases} queries selected a proper subset"
    );
}
