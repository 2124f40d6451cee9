//! Property test against a naive reference evaluator, end to end: random
//! groups, memberships and policies go in through the Aritma API; for every
//! subject, the grants the server resolves (`GET
//! /v1/subjects/{subject}/permissions`) must be exactly those a naive evaluator
//! derives from what was written, and the server's decisions on a real
//! operation (`GET /v1/clients`, which needs iam.client.read on /) must be the
//! naive evaluator's. `domain::access` has the same property over random facts
//! in memory.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::support::{tenant, Api, Backend};

on_both_backends!(aritma_policies_agree_with_a_naive_evaluator);

const ACTIONS: &[&str] = &[
    "iam",
    "iam.client",
    "iam.client.read",
    "iam.client.write",
    "iam.user.read",
    "banking",
    "banking.pis",
    "banking.pis.read",
    "banking.ais.read",
];
const SCOPES: &[&str] = &["/", "/s", "/s/1", "/t"];

/// The rule of docs/api/iam.md, spelled out on segments: a held action covers an
/// asked one it is a dotted prefix of; a held scope covers an asked one
/// it is a path prefix of.
fn covers(held: &(String, String), action: &str, scope: &str) -> bool {
    let prefix =
        |h: Vec<&str>, a: Vec<&str>| h.len() <= a.len() && h.iter().zip(&a).all(|(x, y)| x == y);
    let segments = |s: &str| -> Vec<String> {
        s.split('/')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    };
    let (hs, asked) = (segments(&held.1), segments(scope));
    prefix(held.0.split('.').collect(), action.split('.').collect())
        && hs.len() <= asked.len()
        && hs.iter().zip(&asked).all(|(x, y)| x == y)
}

async fn aritma_policies_agree_with_a_naive_evaluator(b: Backend) {
    let t = tenant(b).await;
    t.define_actions(&["banking.pis.read", "banking.ais.read"])
        .await;
    // Members: three users and two clients, each with a way to call.
    let mut callers: Vec<(String, Api)> = Vec::new();
    for i in 0..3 {
        let u = t.user(&format!("user{i}")).await;
        callers.push((format!("user-{}", u.id), u.api));
    }
    for _ in 0..2 {
        let m = t.machine().await;
        let api = m.bearer().await;
        callers.push((format!("client-{}", m.id), api));
    }
    let mut groups = Vec::new();
    for i in 0..3 {
        let r = t
            .owner
            .post(
                "/core/iam/v1/subjects/groups",
                json!({ "displayName": format!("Group {i}") }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        groups.push(r.body["subjectId"].as_str().unwrap().to_string());
    }
    let mut rng = StdRng::seed_from_u64(0x5EED_0007);
    let mut decided = [0, 0];
    for round in 0..3 {
        // Random memberships (replacing the last round's).
        let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for g in &groups {
            let chosen: Vec<String> = callers
                .iter()
                .map(|(s, _)| s.clone())
                .filter(|_| rng.gen_bool(0.4))
                .collect();
            let current = t
                .owner
                .get(&format!("/core/iam/v1/subjects/groups/{g}/members"))
                .await;
            for m in current.body["data"].as_array().unwrap() {
                let id = m["subjectId"].as_str().unwrap();
                let r = t
                    .owner
                    .delete(&format!("/core/iam/v1/subjects/groups/{g}/members/{id}"))
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
            }
            if !chosen.is_empty() {
                let r = t
                    .owner
                    .post(
                        &format!("/core/iam/v1/subjects/groups/{g}/members"),
                        json!({ "subjectIds": chosen }),
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
            }
            members.insert(g.clone(), chosen.into_iter().collect());
        }
        // Random policies, added to the earlier rounds'.
        let everyone: Vec<String> = callers
            .iter()
            .map(|(s, _)| s.clone())
            .chain(groups.iter().cloned())
            .collect();
        for _ in 0..8 {
            let subject = &everyone[rng.gen_range(0..everyone.len())];
            let action = ACTIONS[rng.gen_range(0..ACTIONS.len())];
            let scope = SCOPES[rng.gen_range(0..SCOPES.len())];
            t.policy(subject, action, scope).await;
        }
        let listed = t.owner.get("/core/iam/v1/policies?pageSize=200").await;
        let policies: Vec<(String, String, String)> = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let s = |k: &str| p[k].as_str().unwrap().to_string();
                (s("subject"), s("action"), s("scope"))
            })
            .collect();

        for (subject, api) in &callers {
            // Naive: its own policies and those of the groups it is in.
            let expected: BTreeSet<(String, String)> = policies
                .iter()
                .filter(|(s, _, _)| {
                    s == subject || members.get(s).is_some_and(|m| m.contains(subject))
                })
                .map(|(_, a, sc)| (a.clone(), sc.clone()))
                .collect();
            let r = t
                .owner
                .get(&format!("/core/iam/v1/subjects/{subject}/permissions"))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let resolved: BTreeSet<(String, String)> = r
                .body
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| g["source"] != "role")
                .map(|g| {
                    (
                        g["action"].as_str().unwrap().to_string(),
                        g["scope"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            assert_eq!(resolved, expected, "round {round}, {subject}");
            // And the server decides as the naive evaluator does.
            let may = expected
                .iter()
                .any(|held| covers(held, "iam.client.read", "/"));
            let status = api.get("/core/iam/v1/clients").await.status;
            decided[usize::from(may)] += 1;
            assert_eq!(
                status,
                if may { 200 } else { 403 },
                "round {round}, {subject}: {expected:?}"
            );
        }
    }
    // The rounds exercised both answers.
    assert!(decided[0] > 0 && decided[1] > 0, "{decided:?}");
}
