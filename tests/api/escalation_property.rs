//! Property test for the rule against escalation (docs/security.md, "No
//! escalation"), end to end. A tenant gets users with random roles,
//! groups, clients and policies on random scopes, and SCIM tokens made by
//! its users; then random principals (users, clients, SCIM tokens) try
//! random privilege-changing operations through every dialect: native,
//! JSON:API, SCIM and the IAM API. After every step:
//!
//! - the answer (2xx, 403, 404, 409) is the one a naive model of the rule
//!   predicts, written here from docs/security.md, not from the server's code;
//! - what every subject holds, as the server resolves it
//!   (`GET /core/iam/v1/subjects/{s}/permissions`), is what the model
//!   holds for it;
//! - and the invariant: no subject holds anything afterwards that it did
//!   not hold before, unless the acting principal held it.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::support::scim::{replace, Scim};
use crate::support::{shared, Api, Backend, Resp, TestTenant};

on_both_backends!(random_attempts_never_escalate);

/// Steps per backend.
const STEPS: usize = 300;

/// Permissions custom roles are drawn from.
const PERMISSIONS: &[&str] = &[
    "user:read",
    "user:write",
    "role:read",
    "role:write",
    "group:read",
    "group:write",
    "policy:read",
    "policy:write",
    "client:read",
    "client:write",
    "scim:read",
    "scim:write",
];
const ACTIONS: &[&str] = &[
    "iam",
    "iam.user",
    "iam.user.write",
    "iam.role.write",
    "iam.group",
    "iam.policy.write",
    "iam.client.write",
    "banking",
    "banking.pis.read",
];
const SCOPES: &[&str] = &["/", "/s", "/s/1"];
/// What a SCIM token is made for (docs/api/scim.md: provisioning users and groups).
const PROVISIONING: &[&str] = &[
    "user:read",
    "user:write",
    "group:read",
    "group:write",
    "scim:read",
    "scim:write",
];

type Grant = (String, String);

/// The rule's notion of holding, on segments: a held action covers an
/// asked one it is a dotted prefix of (`*` covers all), a held scope an
/// asked one it is a path prefix of.
fn covers(held: &Grant, asked: &Grant) -> bool {
    fn prefix(h: &[&str], a: &[&str]) -> bool {
        h.len() <= a.len() && h.iter().zip(a).all(|(x, y)| x == y)
    }
    let segments = |s: &str| -> Vec<String> {
        s.split('/')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    };
    let (hs, as_) = (segments(&held.1), segments(&asked.1));
    let hs: Vec<&str> = hs.iter().map(String::as_str).collect();
    let as_: Vec<&str> = as_.iter().map(String::as_str).collect();
    (held.0 == "*"
        || prefix(
            &held.0.split('.').collect::<Vec<_>>(),
            &asked.0.split('.').collect::<Vec<_>>(),
        ))
        && prefix(&hs, &as_)
}

fn holds(access: &BTreeSet<Grant>, needed: &BTreeSet<Grant>) -> bool {
    needed.iter().all(|n| access.iter().any(|h| covers(h, n)))
}

fn may(access: &BTreeSet<Grant>, action: &str, scope: &str) -> bool {
    holds(access, &[(action.to_string(), scope.to_string())].into())
}

/// `user:read` is `iam.user.read` on `/`.
fn permission(p: &str) -> Grant {
    let (resource, verb) = p.split_once(':').unwrap();
    (format!("iam.{resource}.{verb}"), "/".into())
}

/// The narrower of two comparable grants, for each pair.
fn meet(a: &BTreeSet<Grant>, b: &BTreeSet<Grant>) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for x in a {
        for y in b {
            let action = if covers(&(x.0.clone(), "/".into()), &(y.0.clone(), "/".into())) {
                Some(y.0.clone())
            } else if covers(&(y.0.clone(), "/".into()), &(x.0.clone(), "/".into())) {
                Some(x.0.clone())
            } else {
                None
            };
            let scope = if covers(&("*".into(), x.1.clone()), &("*".into(), y.1.clone())) {
                Some(y.1.clone())
            } else if covers(&("*".into(), y.1.clone()), &("*".into(), x.1.clone())) {
                Some(x.1.clone())
            } else {
                None
            };
            if let (Some(a), Some(s)) = (action, scope) {
                out.insert((a, s));
            }
        }
    }
    out
}

#[derive(Clone)]
struct Role {
    id: String,
    name: String,
    fixed: bool,
    permissions: BTreeSet<String>,
}

/// What the tenant holds, as the rule of docs/api/iam.md sees it.
#[derive(Clone, Default)]
struct Model {
    roles: Vec<Role>,
    /// user subject -> role ids (all held on `/`)
    user_roles: BTreeMap<String, BTreeSet<String>>,
    /// (subject, action, scope)
    policies: BTreeSet<(String, String, String)>,
    /// group subject -> member subjects
    members: BTreeMap<String, BTreeSet<String>>,
    /// client subject -> live secrets
    secrets: BTreeMap<String, usize>,
}

impl Model {
    fn role(&self, id: &str) -> &Role {
        self.roles.iter().find(|r| r.id == id).unwrap()
    }

    fn role_grants(&self, id: &str) -> BTreeSet<Grant> {
        let r = self.role(id);
        if r.fixed {
            [("*".to_string(), "/".to_string())].into()
        } else {
            r.permissions.iter().map(|p| permission(p)).collect()
        }
    }

    /// What a subject holds: its policies, its groups' policies, and its
    /// roles' grants.
    fn access(&self, subject: &str) -> BTreeSet<Grant> {
        let mut out = BTreeSet::new();
        let groups: Vec<&String> = self
            .members
            .iter()
            .filter(|(_, m)| m.contains(subject))
            .map(|(g, _)| g)
            .collect();
        for (s, a, sc) in &self.policies {
            if s == subject || groups.contains(&s) {
                out.insert((a.clone(), sc.clone()));
            }
        }
        for role in self.user_roles.get(subject).into_iter().flatten() {
            out.extend(self.role_grants(role));
        }
        out
    }

    /// A membership change: the group's grants, and each member when the
    /// group holds anything.
    fn may_change_members(&self, actor: &BTreeSet<Grant>, group: &str, members: &[String]) -> bool {
        let held = self.access(group);
        held.is_empty()
            || (holds(actor, &held) && members.iter().all(|m| holds(actor, &self.access(m))))
    }
}

#[derive(Clone)]
enum Actor {
    User(usize),
    Client(usize),
    /// A SCIM token made by user `maker`.
    Token {
        token: String,
        maker: usize,
    },
}

struct World {
    t: TestTenant,
    users: Vec<(String, Api)>,
    clients: Vec<(String, Api)>,
    groups: Vec<String>,
    tokens: Vec<(String, usize)>,
    model: Model,
    rng: StdRng,
}

impl World {
    fn user_subject(&self, i: usize) -> String {
        format!("user-{}", self.users[i].0)
    }

    fn subjects(&self) -> Vec<String> {
        let mut out = vec![format!("user-{}", self.t.owner_id)];
        out.extend((0..self.users.len()).map(|i| self.user_subject(i)));
        out.extend(self.clients.iter().map(|(c, _)| format!("client-{c}")));
        out.extend(self.groups.iter().map(|g| format!("group-{g}")));
        out
    }

    fn actor_access(&self, actor: &Actor) -> BTreeSet<Grant> {
        match actor {
            Actor::User(i) => self.model.access(&self.user_subject(*i)),
            Actor::Client(i) => self.model.access(&format!("client-{}", self.clients[*i].0)),
            Actor::Token { maker, .. } => {
                let made_for: BTreeSet<Grant> =
                    PROVISIONING.iter().map(|p| permission(p)).collect();
                meet(&made_for, &self.model.access(&self.user_subject(*maker)))
            }
        }
    }

    /// What the server says a subject holds.
    async fn served(&self, subject: &str) -> BTreeSet<Grant> {
        let r = self
            .t
            .owner
            .get(&format!("/core/iam/v1/subjects/{subject}/permissions"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["data"]
            .as_array()
            .or_else(|| r.body.as_array())
            .unwrap_or_else(|| panic!("{}", r.text))
            .iter()
            .map(|g| {
                (
                    g["action"].as_str().unwrap().to_string(),
                    g["scope"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn random_permissions(&mut self) -> BTreeSet<String> {
        PERMISSIONS
            .iter()
            .filter(|_| self.rng.gen_bool(0.35))
            .map(|p| p.to_string())
            .collect()
    }

    /// Any user as a target, the owner included.
    fn target_user(&mut self) -> String {
        if self.rng.gen_ratio(1, 6) {
            self.t.owner_id.clone()
        } else {
            let i = self.rng.gen_range(0..self.users.len());
            self.users[i].0.clone()
        }
    }

    fn api_of(&self, actor: &Actor) -> Api {
        match actor {
            Actor::User(i) => self.users[*i].1.clone(),
            Actor::Client(i) => self.clients[*i].1.clone(),
            Actor::Token { .. } => self.t.owner.clone(),
        }
    }

    fn scim_of(&self, actor: &Actor) -> Option<Scim> {
        match actor {
            Actor::Token { token, .. } => Some(Scim::new(&self.t.owner, token)),
            _ => None,
        }
    }
}

fn pick<T: Clone>(rng: &mut StdRng, items: &[T]) -> T {
    items.choose(rng).unwrap().clone()
}

/// Sets the world up through the owner, who holds everything.
async fn world(b: Backend, seed: u64) -> World {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    // Thousands of requests in a minute: an enterprise limit to match.
    let r = app
        .admin()
        .await
        .put(
            &format!("/api/v1/tenants/{}", t.id),
            json!({ "plan": "enterprise", "rateLimitPerMinute": 1_000_000 }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut rng = StdRng::seed_from_u64(seed);
    t.define_actions(&["banking.pis.read", "banking.ais.read"])
        .await;
    let listed = t.owner.get("/api/v1/roles?limit=100").await;
    let mut roles: Vec<Role> = listed.ok()["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Role {
            id: r["id"].as_str().unwrap().to_string(),
            name: r["name"].as_str().unwrap().to_string(),
            fixed: r["name"] == "owner",
            permissions: r["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
                .collect(),
        })
        .collect();
    for i in 0..3 {
        let permissions: BTreeSet<String> = PERMISSIONS
            .iter()
            .filter(|_| rng.gen_bool(0.5))
            .map(|p| p.to_string())
            .collect();
        let name = format!("Role {i}");
        let id = t
            .role_with(
                &name,
                &permissions.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .await;
        roles.push(Role {
            id,
            name,
            fixed: false,
            permissions,
        });
    }
    let mut model = Model {
        roles: roles.clone(),
        ..Default::default()
    };
    let owner_role = roles.iter().find(|r| r.fixed).unwrap().id.clone();
    model
        .user_roles
        .insert(format!("user-{}", t.owner_id), [owner_role.clone()].into());
    let member = roles
        .iter()
        .find(|r| r.name == "member")
        .unwrap()
        .id
        .clone();
    let mut users = Vec::new();
    for i in 0..4 {
        let u = t.user(&format!("p{i}")).await;
        let subject = format!("user-{}", u.id);
        model
            .user_roles
            .insert(subject.clone(), [member.clone()].into());
        // An administrator, and a random non-owner role for most others.
        let choices: Vec<&Role> = roles.iter().filter(|r| !r.fixed).collect();
        let admin = roles.iter().find(|r| r.name == "admin").unwrap();
        if i == 0 || rng.gen_bool(0.8) {
            let role = if i == 0 {
                admin
            } else {
                choices.choose(&mut rng).unwrap()
            };
            t.give_role(&u.id, &role.id).await;
            model
                .user_roles
                .get_mut(&subject)
                .unwrap()
                .insert(role.id.clone());
        }
        users.push((u.id, u.api));
    }
    let mut clients = Vec::new();
    for _ in 0..2 {
        let m = t.machine().await;
        let api = m.bearer().await;
        clients.push((m.id.clone(), api));
        model.secrets.insert(format!("client-{}", m.id), 1);
    }
    let mut groups = Vec::new();
    for i in 0..3 {
        let id = t.group(&format!("Group {i}")).await;
        model.members.insert(format!("group-{id}"), BTreeSet::new());
        groups.push(id);
    }
    let mut w = World {
        t,
        users,
        clients,
        groups,
        tokens: Vec::new(),
        model,
        rng,
    };
    // The administrator holds the tenant's own actions too, and there are
    // random policies on users, clients and groups.
    let admin = w.user_subject(0);
    w.t.policy(&admin, "banking", "/").await;
    w.model
        .policies
        .insert((admin, "banking".into(), "/".into()));
    let subjects = w.subjects();
    for _ in 0..6 {
        let subject = pick(&mut w.rng, &subjects[1..]);
        let (action, scope) = (pick(&mut w.rng, ACTIONS), pick(&mut w.rng, SCOPES));
        w.t.policy(&subject, action, scope).await;
        w.model
            .policies
            .insert((subject, action.to_string(), scope.to_string()));
    }
    // SCIM tokens, made by the users who may make them.
    for i in 0..w.users.len() {
        if may(&w.model.access(&w.user_subject(i)), "iam.scim.write", "/") {
            let r = w.users[i]
                .1
                .post(
                    "/api/v1/scim/tokens",
                    json!({ "name": format!("sync {i}") }),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            w.tokens
                .push((r.ok()["token"].as_str().unwrap().to_string(), i));
        }
    }
    w
}

/// One attempt: what was sent, what the model expects, and the model
/// afterwards if it succeeds.
struct Attempt {
    what: String,
    expected: u16,
    after: Model,
    response: Resp,
}

fn status_class(status: u16) -> u16 {
    if (200..300).contains(&status) {
        200
    } else {
        status
    }
}

async fn attempt(w: &mut World, actor: &Actor) -> Attempt {
    let access = w.actor_access(actor);
    let api = w.api_of(actor);
    let mut after = w.model.clone();
    let kind = match actor {
        Actor::User(_) => w.rng.gen_range(0..10),
        // Clients speak the IAM API.
        Actor::Client(_) => *[2, 4, 7, 8, 9].choose(&mut w.rng).unwrap(),
        Actor::Token { .. } => 10 + w.rng.gen_range(0..2),
    };
    match kind {
        // Assign a role: natively, or through the IAM API.
        0 | 2 => {
            let target = w.target_user();
            let role = pick(&mut w.rng, &w.model.roles).clone();
            let subject = format!("user-{target}");
            let allowed = may(&access, "iam.role.write", "/")
                && holds(&access, &w.model.access(&subject))
                && holds(&access, &w.model.role_grants(&role.id));
            after
                .user_roles
                .entry(subject)
                .or_default()
                .insert(role.id.clone());
            let (what, response) = if kind == 0 {
                let path = format!("/api/v1/users/{target}/roles");
                (
                    format!("POST {path} {}", role.name),
                    api.post(&path, json!({ "roleId": role.id })).await,
                )
            } else {
                let path = format!("/core/iam/v1/users/{target}/roles/{}", role.id);
                (
                    format!("POST {path} {}", role.name),
                    api.post(&path, json!({})).await,
                )
            };
            Attempt {
                what,
                expected: if allowed { 200 } else { 403 },
                after,
                response,
            }
        }
        // Take a role away (never the owner role: a tenant keeps its owner).
        1 => {
            let target = w.target_user();
            let candidates: Vec<Role> =
                w.model.roles.iter().filter(|r| !r.fixed).cloned().collect();
            let role = pick(&mut w.rng, &candidates);
            let subject = format!("user-{target}");
            let held = w
                .model
                .user_roles
                .get(&subject)
                .is_some_and(|r| r.contains(&role.id));
            let expected = if !may(&access, "iam.role.write", "/")
                || !holds(&access, &w.model.access(&subject))
            {
                403
            } else if !held {
                404
            } else {
                200
            };
            if let Some(r) = after.user_roles.get_mut(&subject) {
                r.remove(&role.id);
            }
            let path = format!("/api/v1/users/{target}/roles/{}", role.id);
            Attempt {
                what: format!("DELETE {path} {}", role.name),
                expected,
                after,
                response: api.delete(&path).await,
            }
        }
        // Add a user to a group natively, or users and clients through
        // the IAM API.
        3 | 4 => {
            let g = pick(&mut w.rng, &w.groups);
            let group = format!("group-{g}");
            let mut added = vec![format!("user-{}", w.target_user())];
            if kind == 4 && w.rng.gen_bool(0.5) {
                let c = pick(&mut w.rng, &w.clients).0;
                added.push(format!("client-{c}"));
            }
            added.sort();
            added.dedup();
            let allowed = may(&access, "iam.group.write", "/")
                && w.model.may_change_members(&access, &group, &added);
            after
                .members
                .get_mut(&group)
                .unwrap()
                .extend(added.iter().cloned());
            let (what, response) = if kind == 3 {
                let path = format!("/api/v1/groups/{g}/members");
                let user = added[0].trim_start_matches("user-").to_string();
                (
                    format!("POST {path} {user}"),
                    api.post(&path, json!({ "userId": user })).await,
                )
            } else {
                let path = format!("/core/iam/v1/subjects/groups/{group}/members");
                (
                    format!("POST {path} {added:?}"),
                    api.post(&path, json!({ "subjectIds": added })).await,
                )
            };
            Attempt {
                what,
                expected: if allowed { 200 } else { 403 },
                after,
                response,
            }
        }
        // Remove a user from a group.
        5 => {
            let g = pick(&mut w.rng, &w.groups);
            let group = format!("group-{g}");
            let user = w.target_user();
            let subject = format!("user-{user}");
            let is_member = w.model.members[&group].contains(&subject);
            let expected = if !may(&access, "iam.group.write", "/")
                || !w
                    .model
                    .may_change_members(&access, &group, std::slice::from_ref(&subject))
            {
                403
            } else if !is_member {
                404
            } else {
                200
            };
            after.members.get_mut(&group).unwrap().remove(&subject);
            let path = format!("/api/v1/groups/{g}/members/{user}");
            Attempt {
                what: format!("DELETE {path}"),
                expected,
                after,
                response: api.delete(&path).await,
            }
        }
        // Change a custom role's permissions.
        6 => {
            let candidates: Vec<Role> = w
                .model
                .roles
                .iter()
                .filter(|r| !r.fixed && r.name.starts_with("Role"))
                .cloned()
                .collect();
            let role = pick(&mut w.rng, &candidates);
            let permissions = w.random_permissions();
            let new_grants: BTreeSet<Grant> = permissions.iter().map(|p| permission(p)).collect();
            let allowed = may(&access, "iam.role.write", "/")
                && holds(&access, &w.model.role_grants(&role.id))
                && holds(&access, &new_grants);
            for r in after.roles.iter_mut().filter(|r| r.id == role.id) {
                r.permissions = permissions.clone();
            }
            let path = format!("/api/v1/roles/{}", role.id);
            Attempt {
                what: format!("PUT {path} {permissions:?}"),
                expected: if allowed { 200 } else { 403 },
                after,
                response: api.put(&path, json!({ "permissions": permissions })).await,
            }
        }
        // Grant or revoke a policy through the IAM API.
        7 | 8 => {
            let subjects = w.subjects();
            let subject = pick(&mut w.rng, &subjects);
            let (action, scope) = (
                pick(&mut w.rng, ACTIONS).to_string(),
                pick(&mut w.rng, SCOPES).to_string(),
            );
            let key = (subject.clone(), action.clone(), scope.clone());
            let allowed = may(&access, "iam.policy.write", &scope) && may(&access, &action, &scope);
            let body = json!({ "subject": subject, "action": action, "scope": scope });
            if kind == 7 {
                after.policies.insert(key);
                Attempt {
                    what: format!("POST /core/iam/v1/policies {body}"),
                    expected: if allowed { 200 } else { 403 },
                    after,
                    response: api.post("/core/iam/v1/policies", body).await,
                }
            } else {
                let exists = w.model.policies.contains(&key);
                after.policies.remove(&key);
                let query = serde_urlencoded::to_string([
                    ("subject", subject.as_str()),
                    ("scope", scope.as_str()),
                    ("action", action.as_str()),
                ])
                .unwrap();
                let path = format!("/core/iam/v1/policies?{query}");
                Attempt {
                    what: format!("DELETE {path}"),
                    expected: match (allowed, exists) {
                        (false, _) => 403,
                        (true, false) => 404,
                        (true, true) => 200,
                    },
                    after,
                    response: api.delete(&path).await,
                }
            }
        }
        // A client secret (the IAM API): a credential for the client.
        9 => {
            let c = pick(&mut w.rng, &w.clients).0;
            let subject = format!("client-{c}");
            let live = w.model.secrets[&subject];
            let expected = if !may(&access, "iam.client.write", "/")
                || !holds(&access, &w.model.access(&subject))
            {
                403
            } else if live >= 5 {
                409
            } else {
                200
            };
            *after.secrets.get_mut(&subject).unwrap() += 1;
            let path = format!("/core/iam/v1/clients/{c}/secrets");
            Attempt {
                what: format!("POST {path}"),
                expected,
                after,
                response: api
                    .post(&path, json!({ "value": "Pr0p!secret", "description": "p" }))
                    .await,
            }
        }
        // A SCIM token changes a user, or puts one in a group.
        10 => {
            let scim = w.scim_of(actor).unwrap();
            let target = w.target_user();
            let subject = format!("user-{target}");
            let allowed = may(&access, "iam.user.read", "/")
                && may(&access, "iam.user.write", "/")
                && holds(&access, &w.model.access(&subject));
            let path = format!("/Users/{target}");
            let title = format!("T{}", w.rng.gen::<u16>());
            Attempt {
                what: format!("SCIM PATCH {path} title"),
                expected: if allowed { 200 } else { 403 },
                after,
                response: scim.patch(&path, replace("title", &title)).await,
            }
        }
        _ => {
            let scim = w.scim_of(actor).unwrap();
            let g = pick(&mut w.rng, &w.groups);
            let group = format!("group-{g}");
            let target = w.target_user();
            let subject = format!("user-{target}");
            let allowed = may(&access, "iam.group.write", "/")
                && w.model
                    .may_change_members(&access, &group, std::slice::from_ref(&subject));
            after.members.get_mut(&group).unwrap().insert(subject);
            let path = format!("/Groups/{g}");
            Attempt {
                what: format!("SCIM PATCH {path} add {target}"),
                expected: if allowed { 200 } else { 403 },
                after,
                response: scim
                    .patch(
                        &path,
                        json!([{ "op": "add", "path": "members", "value": [{ "value": target }] }]),
                    )
                    .await,
            }
        }
    }
}

/// A JSON:API role change replaces the account's roles (docs/api/jsonapi.md):
/// one more dialect, tried on its own step kind.
async fn jsonapi_attempt(w: &mut World, actor_index: usize) -> Attempt {
    let actor = Actor::User(actor_index);
    let access = w.actor_access(&actor);
    let api = w.api_of(&actor);
    let target = w.target_user();
    let subject = format!("user-{target}");
    let candidates: Vec<Role> = w.model.roles.iter().filter(|r| !r.fixed).cloned().collect();
    let role = pick(&mut w.rng, &candidates);
    let needs_role_write = role.name != "member";
    let allowed = may(&access, "iam.user.write", "/")
        && holds(&access, &w.model.access(&subject))
        && (!needs_role_write || may(&access, "iam.role.write", "/"))
        && holds(&access, &w.model.role_grants(&role.id));
    let mut after = w.model.clone();
    after.user_roles.insert(subject, [role.id.clone()].into());
    let path = format!("/api/v1/accounts/{target}");
    Attempt {
        what: format!("PATCH {path} role_name={}", role.name),
        expected: if allowed { 200 } else { 403 },
        after,
        response: api
            .update_account(&target, json!({ "role_name": role.name }))
            .await,
    }
}

async fn random_attempts_never_escalate(b: Backend) {
    let seed = match b {
        Backend::Sqlite => 0x0E5C_0001,
        Backend::Postgres => 0x0E5C_0002,
    };
    let mut w = world(b, seed).await;
    let subjects = w.subjects();
    // The model starts where the server is.
    for s in &subjects {
        assert_eq!(w.served(s).await, w.model.access(s), "setup: {s}");
    }
    let mut outcomes: BTreeMap<u16, usize> = BTreeMap::new();
    let mut by_rule = 0;
    for step in 0..STEPS {
        let mut actors: Vec<Actor> = (0..w.users.len()).map(Actor::User).collect();
        actors.extend((0..w.clients.len()).map(Actor::Client));
        actors.extend(w.tokens.iter().map(|(token, maker)| Actor::Token {
            token: token.clone(),
            maker: *maker,
        }));
        // The administrator acts often: most of its attempts pass the
        // endpoint's permission, so the rule itself decides.
        let actor = if w.rng.gen_bool(0.4) {
            Actor::User(0)
        } else {
            pick(&mut w.rng, &actors)
        };
        let before: BTreeMap<String, BTreeSet<Grant>> = subjects
            .iter()
            .map(|s| (s.clone(), w.model.access(s)))
            .collect();
        let actor_access = w.actor_access(&actor);
        let a = match actor {
            Actor::User(i) if w.rng.gen_ratio(1, 8) => jsonapi_attempt(&mut w, i).await,
            _ => attempt(&mut w, &actor).await,
        };
        let got = status_class(a.response.status);
        assert_eq!(
            got, a.expected,
            "step {step}: {} answered {}: {}",
            a.what, a.response.status, a.response.text
        );
        *outcomes.entry(got).or_default() += 1;
        // Refused by the rule itself, not for want of the endpoint's
        // permission.
        if got == 403 && a.response.text.contains("you do not hold") {
            by_rule += 1;
        }
        if got == 200 {
            w.model = a.after;
        }
        for s in &subjects {
            let now = w.served(s).await;
            assert_eq!(
                now,
                w.model.access(s),
                "step {step} ({}): the server and the model disagree on {s}",
                a.what
            );
            let grew: Vec<&Grant> = now
                .iter()
                .filter(|g| {
                    !before[s].iter().any(|h| covers(h, g))
                        && !actor_access.iter().any(|h| covers(h, g))
                })
                .collect();
            assert!(
                grew.is_empty(),
                "step {step} ({}): {s} gained {grew:?}, which the actor does not hold",
                a.what
            );
        }
    }
    // Both answers are common, so the test says something about each.
    eprintln!("{b:?}: {outcomes:?}, {by_rule} refused by the rule");
    assert!(by_rule > STEPS / 20, "{by_rule} refused by the rule");
    assert!(
        outcomes.get(&200).copied().unwrap_or(0) > STEPS / 10,
        "{outcomes:?}"
    );
    assert!(
        outcomes.get(&403).copied().unwrap_or(0) > STEPS / 10,
        "{outcomes:?}"
    );
}
