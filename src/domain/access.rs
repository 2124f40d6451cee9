//! The one authorization rule: may subject S do action A on scope R?
//!
//! - Subjects are users, clients and groups (`user-<uuid>`,
//!   `client-<uuid>`, `group-<uuid>`). A group holds users and clients;
//!   its members hold what it holds.
//! - Actions are dotted names forming a hierarchy: holding `banking`
//!   holds `banking.pis.read`. `*` (only the fixed owner role and platform
//!   administrators hold it) is above every action.
//! - Scopes are paths: holding an action on `/subscriptions/123` holds it
//!   on `/subscriptions/123/resource-groups/7`, not on `/subscriptions/1234`;
//!   `/` is the whole tenant.
//! - A subject holds an action on a scope through a policy naming it, a
//!   policy naming one of its groups, or a role it holds there (a role is a
//!   bundle of actions, held on a scope).
//!
//! The native permissions (`user:read`, ...) are the IAM's own actions on
//! `/` (`iam.user.read`), so every permission check in every dialect is a
//! question to `Access::may`.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::list::PageRequest;
use super::permission::{catalogue, Permissions, RESOURCES};

/// Above every action.
pub const EVERY_ACTION: &str = "*";
/// The IAM's own actions live beneath this one.
pub const IAM: &str = "iam";
/// The whole tenant.
pub const ROOT_SCOPE: &str = "/";

/// What a policy names as its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectRef {
    User(Uuid),
    Client(Uuid),
    Group(Uuid),
}

impl SubjectRef {
    /// `user-<uuid>`, `client-<uuid>` or `group-<uuid>`.
    pub fn parse(text: &str) -> Result<SubjectRef, String> {
        let bad = || format!("must be user-<id>, client-<id> or group-<id> (got {text:?})");
        let (kind, id) = text.split_once('-').ok_or_else(bad)?;
        let id: Uuid = id.parse().map_err(|_| bad())?;
        match kind {
            "user" => Ok(SubjectRef::User(id)),
            "client" => Ok(SubjectRef::Client(id)),
            "group" => Ok(SubjectRef::Group(id)),
            _ => Err(bad()),
        }
    }

    pub fn id(self) -> Uuid {
        match self {
            SubjectRef::User(id) | SubjectRef::Client(id) | SubjectRef::Group(id) => id,
        }
    }

    pub fn kind(self) -> SubjectKind {
        match self {
            SubjectRef::User(_) => SubjectKind::User,
            SubjectRef::Client(_) => SubjectKind::Client,
            SubjectRef::Group(_) => SubjectKind::Group,
        }
    }
}

impl fmt::Display for SubjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.kind().prefix(), self.id())
    }
}

/// Who made a credential (a SCIM token's `minted_by`): a subject, whose
/// access bounds it at every use, or the operator at the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maker {
    Subject(SubjectRef),
    Operator,
}

impl Maker {
    /// The stored form of the operator.
    pub const OPERATOR: &'static str = "operator";

    /// `operator`, or a subject as `SubjectRef::parse` reads it.
    pub fn parse(text: &str) -> Result<Maker, String> {
        if text == Self::OPERATOR {
            return Ok(Maker::Operator);
        }
        SubjectRef::parse(text).map(Maker::Subject)
    }
}

impl fmt::Display for Maker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Maker::Subject(subject) => subject.fmt(f),
            Maker::Operator => f.write_str(Self::OPERATOR),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    User,
    Client,
    Group,
}

impl SubjectKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SubjectKind::User => "user",
            SubjectKind::Client => "client",
            SubjectKind::Group => "group",
        }
    }

    /// Aritma's `type`: `User`, `Client`, `Group`.
    pub fn type_name(self) -> &'static str {
        match self {
            SubjectKind::User => "User",
            SubjectKind::Client => "Client",
            SubjectKind::Group => "Group",
        }
    }

    /// A path id: the subject id of this kind (`group-<uuid>`) or the bare
    /// id.
    pub fn parse_id(self, text: &str) -> Option<SubjectRef> {
        let id = match text
            .strip_prefix(self.prefix())
            .and_then(|t| t.strip_prefix('-'))
        {
            Some(id) => id,
            None => text,
        };
        let id: Uuid = id.parse().ok()?;
        Some(match self {
            SubjectKind::User => SubjectRef::User(id),
            SubjectKind::Client => SubjectRef::Client(id),
            SubjectKind::Group => SubjectRef::Group(id),
        })
    }
}

// ---- actions ----

/// Action names: dot-separated segments of `a-z`, `0-9`, `_` and `-`,
/// at most 200 characters and 10 segments.
pub fn validate_action(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > 200 {
        return Err("must be at most 200 characters".into());
    }
    let segments: Vec<&str> = name.split('.').collect();
    if segments.len() > 10 {
        return Err("must have at most 10 segments".into());
    }
    let valid = |s: &&str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    if !segments.iter().all(valid) {
        return Err(format!(
            "{name:?} is not an action name: dot-separated segments of a-z, 0-9, _ and -"
        ));
    }
    Ok(name.to_string())
}

/// Does holding `held` hold `asked`? The same action or one above it.
pub fn action_covers(held: &str, asked: &str) -> bool {
    held == EVERY_ACTION
        || held == asked
        || (asked.len() > held.len()
            && asked.starts_with(held)
            && asked.as_bytes()[held.len()] == b'.')
}

/// `a.b.c` -> `a`, `a.b`, `a.b.c`.
pub fn with_ancestors(action: &str) -> impl Iterator<Item = &str> {
    action
        .match_indices('.')
        .map(move |(i, _)| &action[..i])
        .chain(std::iter::once(action))
}

/// The IAM's action for a native permission: `user:read` ->
/// `iam.user.read`.
pub fn permission_action(permission: &str) -> String {
    match permission.split_once(':') {
        Some((resource, verb)) => format!("{IAM}.{resource}.{verb}"),
        None => format!("{IAM}.{permission}"),
    }
}

/// The native permission an IAM action is, if it is one.
pub fn action_permission(action: &str) -> Option<String> {
    let rest = action.strip_prefix("iam.")?;
    let (resource, verb) = rest.split_once('.')?;
    let permission = format!("{resource}:{verb}");
    catalogue().contains(&permission).then_some(permission)
}

/// An entry of the action catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionInfo {
    pub name: String,
    pub description: String,
    pub builtin: bool,
}

/// The IAM's own actions: `iam`, one per resource, and its read and write.
pub fn builtin_actions() -> Vec<ActionInfo> {
    let builtin = |name: String, description: String| ActionInfo {
        name,
        description,
        builtin: true,
    };
    let mut out = vec![builtin(
        IAM.to_string(),
        "Everything the IAM API does".to_string(),
    )];
    let permissions = catalogue();
    for resource in RESOURCES {
        out.push(builtin(
            format!("{IAM}.{resource}"),
            format!("Read and change {resource} resources"),
        ));
        for verb in ["read", "write"] {
            if permissions.contains(&format!("{resource}:{verb}")) {
                let what = if verb == "read" {
                    "Read"
                } else {
                    "Create, change and delete"
                };
                out.push(builtin(
                    format!("{IAM}.{resource}.{verb}"),
                    format!("{what} {resource} resources"),
                ));
            }
        }
    }
    out
}

/// Is `action` in the catalogue: a built-in action, a registered one, or
/// one above a registered one (registering `banking.pis.read` makes
/// `banking` and `banking.pis` grantable)?
pub fn is_known(action: &str, registered: &[String]) -> bool {
    builtin_actions().iter().any(|a| a.name == action)
        || registered
            .iter()
            .any(|r| with_ancestors(r).any(|a| a == action))
}

// ---- scopes ----

/// Resource scopes: a path starting with `/`, segments non-empty and not
/// `.` or `..`, no trailing `/` (but `/` itself), printable, at most 500
/// characters.
pub fn validate_scope(scope: &str) -> Result<String, String> {
    if !scope.starts_with('/') {
        return Err("must be a path starting with '/'".into());
    }
    if scope.len() > 500 {
        return Err("must be at most 500 characters".into());
    }
    if scope == ROOT_SCOPE {
        return Ok(scope.to_string());
    }
    if scope.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain spaces or control characters".into());
    }
    if scope[1..]
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err("must not have empty, '.' or '..' segments, nor a trailing '/'".into());
    }
    Ok(scope.to_string())
}

/// Does holding an action on `held` hold it on `asked`? The same scope or
/// one above it, segment by segment.
pub fn scope_covers(held: &str, asked: &str) -> bool {
    held == ROOT_SCOPE
        || held == asked
        || (asked.len() > held.len()
            && asked.starts_with(held)
            && asked.as_bytes()[held.len()] == b'/')
}

// ---- resolution ----

/// One action held on one scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    pub action: String,
    pub scope: String,
}

impl Grant {
    pub fn new(action: impl Into<String>, scope: impl Into<String>) -> Grant {
        Grant {
            action: action.into(),
            scope: scope.into(),
        }
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.action, self.scope)
    }
}

/// Why a subject holds a grant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A policy naming the subject itself.
    Policy,
    /// A policy naming a group the subject belongs to.
    Group(Uuid),
    /// A role the subject holds (its name).
    Role(String),
}

/// A policy: one action granted to one subject on one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub subject: SubjectRef,
    pub action: String,
    pub scope: String,
}

/// A role held by a subject on a scope, with the actions it bundles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHolding {
    pub subject: SubjectRef,
    pub role: String,
    pub scope: String,
    pub actions: Vec<String>,
}

/// What decides a tenant's authorization: its policies, group memberships
/// (group, member) and role holdings. The repository loads the part that
/// concerns one subject; `resolve` reads no more than that.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub policies: Vec<Policy>,
    pub memberships: Vec<(Uuid, SubjectRef)>,
    pub roles: Vec<RoleHolding>,
}

/// A subject's resolved grants, each with why it is held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    grants: Vec<(Grant, Source)>,
}

impl Access {
    /// Everything, everywhere (platform administrators).
    pub fn everything() -> Access {
        Access::from_grants(
            [(
                Grant {
                    action: EVERY_ACTION.into(),
                    scope: ROOT_SCOPE.into(),
                },
                Source::Role("platform administrator".into()),
            )]
            .into_iter(),
        )
    }

    /// Native permissions held on the whole tenant (SCIM tokens).
    pub fn from_permissions(permissions: &Permissions, source: Source) -> Access {
        Access::from_grants(permissions.to_vec().into_iter().map(|p| {
            (
                Grant {
                    action: permission_action(&p),
                    scope: ROOT_SCOPE.into(),
                },
                source.clone(),
            )
        }))
    }

    fn from_grants(grants: impl Iterator<Item = (Grant, Source)>) -> Access {
        let mut grants: Vec<(Grant, Source)> = grants.collect();
        grants.sort();
        grants.dedup();
        Access { grants }
    }

    /// The question every permission check asks.
    pub fn may(&self, action: &str, scope: &str) -> bool {
        self.grants
            .iter()
            .any(|(g, _)| action_covers(&g.action, action) && scope_covers(&g.scope, scope))
    }

    /// Every grant with its source, sorted.
    pub fn grants(&self) -> &[(Grant, Source)] {
        &self.grants
    }

    /// Grants held for one reason (a role on a scope, a policy).
    pub fn of(grants: impl IntoIterator<Item = Grant>, source: Source) -> Access {
        Access::from_grants(grants.into_iter().map(|g| (g, source.clone())))
    }

    /// Nothing at all.
    pub fn is_empty(&self) -> bool {
        self.grants.is_empty()
    }

    /// The grants of `needed` this access does not hold. Holding is `may`
    /// on each grant's own action and scope, so a grant is held through
    /// one above it (an action above, a scope above), and holding all of
    /// `needed` means holding everything `needed` can ever allow.
    pub fn lacks(&self, needed: &Access) -> Vec<Grant> {
        let mut missing: Vec<Grant> = needed
            .grants
            .iter()
            .filter(|(g, _)| !self.may(&g.action, &g.scope))
            .map(|(g, _)| g.clone())
            .collect();
        missing.dedup();
        missing
    }

    /// What both hold: for every pair of grants whose actions and scopes
    /// are comparable, the narrower action on the narrower scope. A
    /// credential bounded by its maker (a SCIM token) holds the meet of
    /// what it is made for and what its maker holds at the time of use.
    pub fn meet(&self, other: &Access) -> Access {
        let narrower = |a: &str, b: &str, covers: fn(&str, &str) -> bool| {
            if covers(a, b) {
                Some(b.to_string())
            } else if covers(b, a) {
                Some(a.to_string())
            } else {
                None
            }
        };
        let mut out = Vec::new();
        for (a, _) in &self.grants {
            for (b, source) in &other.grants {
                let action = narrower(&a.action, &b.action, action_covers);
                let scope = narrower(&a.scope, &b.scope, scope_covers);
                if let (Some(action), Some(scope)) = (action, scope) {
                    out.push((Grant { action, scope }, source.clone()));
                }
            }
        }
        Access::from_grants(out.into_iter())
    }

    /// The native permissions this access holds (on `/`).
    pub fn permissions(&self) -> Permissions {
        catalogue()
            .into_iter()
            .filter(|p| self.may(&permission_action(p), ROOT_SCOPE))
            .collect()
    }
}

/// What `subject` holds under `facts`: its own policies, those of the
/// groups it belongs to (groups hold users and clients, not groups), and
/// the actions of the roles it holds, each on its scope.
pub fn resolve(subject: SubjectRef, facts: &Facts) -> Access {
    let groups: Vec<Uuid> = facts
        .memberships
        .iter()
        .filter(|(_, member)| *member == subject)
        .map(|(group, _)| *group)
        .collect();
    let policies = facts.policies.iter().filter_map(|p| {
        let source = if p.subject == subject {
            Source::Policy
        } else {
            match p.subject {
                SubjectRef::Group(g) if groups.contains(&g) => Source::Group(g),
                _ => return None,
            }
        };
        Some((
            Grant {
                action: p.action.clone(),
                scope: p.scope.clone(),
            },
            source,
        ))
    });
    let roles = facts
        .roles
        .iter()
        .filter(|r| r.subject == subject)
        .flat_map(|r| {
            r.actions.iter().map(|a| {
                (
                    Grant {
                        action: a.clone(),
                        scope: r.scope.clone(),
                    },
                    Source::Role(r.role.clone()),
                )
            })
        });
    Access::from_grants(policies.chain(roles))
}

/// What holding a role on `scope` grants: each action it bundles there.
pub fn role_grants(role: &str, fixed: bool, permissions: &[String], scope: &str) -> Access {
    Access::of(
        role_actions(fixed, permissions)
            .into_iter()
            .map(|a| Grant::new(a, scope)),
        Source::Role(role.to_string()),
    )
}

/// The actions a role bundles: its permissions as IAM actions, or every
/// action for the fixed owner role.
pub fn role_actions(fixed: bool, permissions: &[String]) -> Vec<String> {
    if fixed {
        vec![EVERY_ACTION.to_string()]
    } else {
        permissions.iter().map(|p| permission_action(p)).collect()
    }
}

/// The native permissions a role bundling `actions` holds: each IAM
/// action and everything beneath it (`iam.user` -> `user:read`,
/// `user:write`). Other actions cannot be bundled in roles (they are
/// granted by policies), and are reported.
pub fn permissions_of_actions(actions: &[String]) -> Result<Vec<String>, String> {
    let mut permissions = Vec::new();
    let mut refused = Vec::new();
    for action in actions {
        let beneath: Vec<String> = catalogue()
            .into_iter()
            .filter(|p| action_covers(action, &permission_action(p)))
            .collect();
        if beneath.is_empty() || !(action == IAM || action.starts_with("iam.")) {
            refused.push(action.as_str());
        }
        permissions.extend(beneath);
    }
    if !refused.is_empty() {
        return Err(format!(
            "roles bundle IAM actions (iam, iam.<resource>, iam.<resource>.read|write); not: {}",
            refused.join(", ")
        ));
    }
    permissions.sort();
    permissions.dedup();
    Ok(permissions)
}

/// Filters of the policy list; each given one must hold.
#[derive(Debug, Clone, Default)]
pub struct PolicyQuery {
    pub subject: Option<SubjectRef>,
    pub action: Option<String>,
    pub scope: Option<String>,
    /// Policies on this scope or beneath it.
    pub within: Option<String>,
    pub page: PageRequest,
}

/// A stored policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicy {
    pub subject: String,
    pub action: String,
    pub scope: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn actions_form_a_hierarchy() {
        assert!(action_covers("banking", "banking.pis.read"));
        assert!(action_covers("banking.pis", "banking.pis.read"));
        assert!(action_covers("banking.pis.read", "banking.pis.read"));
        assert!(!action_covers("banking.pis.read", "banking.pis"));
        assert!(!action_covers("bank", "banking"));
        assert!(!action_covers("banking.pi", "banking.pis"));
        assert!(action_covers("*", "anything.at.all"));
        assert_eq!(
            with_ancestors("a.b.c").collect::<Vec<_>>(),
            ["a", "a.b", "a.b.c"]
        );
        assert!(validate_action("banking.pis.read").is_ok());
        for bad in [
            "",
            "Banking",
            "a..b",
            ".a",
            "a.",
            "a b",
            "*",
            "iam.user:read",
        ] {
            assert!(validate_action(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_cover_what_lies_beneath() {
        assert!(scope_covers("/", "/subscriptions/123"));
        assert!(scope_covers(
            "/subscriptions/123",
            "/subscriptions/123/rg/7"
        ));
        assert!(!scope_covers("/subscriptions/123", "/subscriptions/1234"));
        assert!(!scope_covers("/subscriptions/123", "/"));
        assert!(validate_scope("/subscriptions/123").is_ok());
        assert!(validate_scope("/").is_ok());
        for bad in [
            "",
            "subscriptions",
            "/a/",
            "//a",
            "/a/../b",
            "/a b",
            "/a/./b",
        ] {
            assert!(validate_scope(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn permissions_are_iam_actions() {
        assert_eq!(permission_action("user:read"), "iam.user.read");
        assert_eq!(
            action_permission("iam.user.read").as_deref(),
            Some("user:read")
        );
        assert_eq!(action_permission("iam.audit.write"), None);
        assert_eq!(action_permission("iam.user"), None);
        for p in catalogue() {
            assert_eq!(action_permission(&permission_action(&p)), Some(p.clone()));
            assert!(is_known(&permission_action(&p), &[]));
        }
        assert!(is_known("banking", &["banking.pis.read".to_string()]));
        assert!(!is_known("banking.ais", &["banking.pis.read".to_string()]));
        assert_eq!(
            permissions_of_actions(&["iam.user".into(), "iam.role.read".into()]).unwrap(),
            ["role:read", "user:read", "user:write"]
        );
        assert_eq!(
            permissions_of_actions(&["iam".into()]).unwrap(),
            catalogue_sorted()
        );
        assert!(permissions_of_actions(&["banking".into()]).is_err());
    }

    fn catalogue_sorted() -> Vec<String> {
        let mut c = catalogue();
        c.sort();
        c
    }

    #[test]
    fn subject_ids() {
        let id = Uuid::now_v7();
        let s = SubjectRef::parse(&format!("group-{id}")).unwrap();
        assert_eq!(s, SubjectRef::Group(id));
        assert_eq!(s.to_string(), format!("group-{id}"));
        assert_eq!(SubjectKind::Group.parse_id(&id.to_string()), Some(s));
        assert_eq!(SubjectKind::Group.parse_id(&format!("group-{id}")), Some(s));
        assert_eq!(SubjectKind::User.parse_id(&format!("group-{id}")), None);
        assert!(SubjectRef::parse(&format!("role-{id}")).is_err());
        assert!(SubjectRef::parse("user-42").is_err());
    }

    /// A SCIM token's maker round-trips through its stored form.
    #[test]
    fn makers() {
        let user = Maker::Subject(SubjectRef::User(Uuid::now_v7()));
        for maker in [user, Maker::Operator] {
            assert_eq!(Maker::parse(&maker.to_string()), Ok(maker));
        }
        assert_eq!(Maker::Operator.to_string(), "operator");
        assert!(Maker::parse("Operator").is_err());
        assert!(Maker::parse("").is_err());
    }

    #[test]
    fn owners_hold_everything_and_native_permissions_follow() {
        let user = SubjectRef::User(Uuid::now_v7());
        let facts = Facts {
            roles: vec![RoleHolding {
                subject: user,
                role: "owner".into(),
                scope: "/".into(),
                actions: role_actions(true, &[]),
            }],
            ..Default::default()
        };
        let access = resolve(user, &facts);
        assert!(access.may("iam.tenant.write", "/"));
        assert!(access.may("banking.pis.read", "/subscriptions/1"));
        assert_eq!(access.permissions(), Permissions::all());
    }

    // ---- property test: `resolve` + `may` against a naive evaluator ----

    /// The rule as docs/api/iam.md states it, written without the helpers
    /// above: S may do A on R iff some fact names S, or a group S is in,
    /// with an action that is A or a dotted prefix of A (or `*`), on a
    /// scope that is R or a path prefix of R.
    fn naive_may(subject: SubjectRef, facts: &Facts, action: &str, scope: &str) -> bool {
        let action_ok = |held: &str| {
            if held == "*" {
                return true;
            }
            let held: Vec<&str> = held.split('.').collect();
            let asked: Vec<&str> = action.split('.').collect();
            held.len() <= asked.len() && held.iter().zip(&asked).all(|(h, a)| h == a)
        };
        let segments = |s: &str| -> Vec<String> {
            s.split('/')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        };
        let scope_ok = |held: &str| {
            let held = segments(held);
            let asked = segments(scope);
            held.len() <= asked.len() && held.iter().zip(&asked).all(|(h, a)| h == a)
        };
        let is_subject = |s: SubjectRef| {
            s == subject
                || matches!(s, SubjectRef::Group(g)
                    if facts.memberships.iter().any(|(mg, m)| *mg == g && *m == subject))
        };
        facts
            .policies
            .iter()
            .any(|p| is_subject(p.subject) && action_ok(&p.action) && scope_ok(&p.scope))
            || facts.roles.iter().any(|r| {
                r.subject == subject && scope_ok(&r.scope) && r.actions.iter().any(|a| action_ok(a))
            })
    }

    fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
        &items[rng.gen_range(0..items.len())]
    }

    fn random_action(rng: &mut StdRng) -> String {
        let parts = [
            "banking", "pis", "ais", "read", "write", "iam", "user", "re",
        ];
        let n = rng.gen_range(1..=3);
        (0..n)
            .map(|_| *pick(rng, &parts))
            .collect::<Vec<_>>()
            .join(".")
    }

    fn random_scope(rng: &mut StdRng) -> String {
        let parts = ["subscriptions", "1", "12", "123", "rg", "x"];
        let n = rng.gen_range(0..=3);
        if n == 0 {
            return "/".into();
        }
        (0..n).map(|_| format!("/{}", pick(rng, &parts))).collect()
    }

    #[test]
    fn may_agrees_with_the_naive_evaluator() {
        let mut rng = StdRng::seed_from_u64(0x1A3_7E57);
        let mut allowed = 0;
        let mut asked = 0;
        for _ in 0..300 {
            let users: Vec<SubjectRef> = (0..3).map(|_| SubjectRef::User(Uuid::new_v4())).collect();
            let clients: Vec<SubjectRef> =
                (0..2).map(|_| SubjectRef::Client(Uuid::new_v4())).collect();
            let groups: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
            let members: Vec<SubjectRef> = users.iter().chain(&clients).copied().collect();
            let mut all: Vec<SubjectRef> = members.clone();
            all.extend(groups.iter().map(|g| SubjectRef::Group(*g)));
            let mut facts = Facts::default();
            for _ in 0..rng.gen_range(0..8) {
                facts.policies.push(Policy {
                    subject: *pick(&mut rng, &all),
                    action: if rng.gen_ratio(1, 20) {
                        "*".into()
                    } else {
                        random_action(&mut rng)
                    },
                    scope: random_scope(&mut rng),
                });
            }
            for _ in 0..rng.gen_range(0..5) {
                facts
                    .memberships
                    .push((*pick(&mut rng, &groups), *pick(&mut rng, &members)));
            }
            for _ in 0..rng.gen_range(0..3) {
                facts.roles.push(RoleHolding {
                    subject: *pick(&mut rng, &users),
                    role: "r".into(),
                    scope: random_scope(&mut rng),
                    actions: (0..rng.gen_range(0..3))
                        .map(|_| random_action(&mut rng))
                        .collect(),
                });
            }
            for subject in &all {
                let access = resolve(*subject, &facts);
                for _ in 0..20 {
                    let (mut action, mut scope) = (random_action(&mut rng), random_scope(&mut rng));
                    // Half the questions start from a fact, often one
                    // beneath it, so that both answers are common.
                    if !facts.policies.is_empty() && rng.gen_bool(0.5) {
                        let p = pick(&mut rng, &facts.policies).clone();
                        if p.action != "*" {
                            action = p.action;
                        }
                        scope = p.scope;
                        if rng.gen_bool(0.5) {
                            action.push_str(".read");
                        }
                        if rng.gen_bool(0.5) {
                            scope = format!("{}/12", scope.trim_end_matches('/'));
                        }
                    }
                    let real = access.may(&action, &scope);
                    let naive = naive_may(*subject, &facts, &action, &scope);
                    assert_eq!(
                        real, naive,
                        "{subject} {action} {scope}\n{facts:#?}\n{access:#?}"
                    );
                    asked += 1;
                    allowed += usize::from(real);
                }
            }
        }
        // The random cases exercise both answers.
        assert!(
            allowed > asked / 20 && allowed < asked * 19 / 20,
            "{allowed}/{asked}"
        );
    }
}
