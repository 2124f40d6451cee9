//! Policies and the action catalogue (docs/api/iam.md, Actions, policies and
//! groups), and resolving what a subject may do (`domain::access`) for
//! principals and for the permission views.
//!
//! Who may manage policies is itself a policy question: writing a policy
//! on scope R needs `iam.policy.write` on R, and no one grants what they
//! do not hold (the action on R), the rule roles follow too.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::{audit, App};
use crate::db::Db;
use crate::domain::access::{
    self, resolve, validate_action, validate_scope, Access, ActionInfo, Grant, Policy, PolicyQuery,
    StoredPolicy, SubjectRef, IAM, ROOT_SCOPE,
};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::list::Listing;
use crate::domain::principal::Caller;
use crate::domain::role::validate_description;
use crate::domain::session::Origin;
use crate::domain::user::UserStatus;
use crate::domain::{Error, Problems, Result};
use crate::repo;
use crate::transaction;

pub const POLICY_READ: &str = "iam.policy.read";
pub const POLICY_WRITE: &str = "iam.policy.write";

/// What `subject` may do in `tenant_id`, resolved from current policies,
/// memberships and roles.
pub async fn load(db: &mut Db<'_>, tenant_id: Uuid, subject: SubjectRef) -> Result<Access> {
    let facts = repo::access::facts(db, tenant_id, subject).await?;
    Ok(resolve(subject, &facts))
}

/// What each of `subjects` holds now: resolved from their policies,
/// groups and roles on every scope; a platform administrator holds
/// everything.
pub async fn held_by_many(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    subjects: &[SubjectRef],
) -> Result<Vec<(SubjectRef, Access)>> {
    let admins = repo::access::platform_admins_among(db, subjects).await?;
    let mut facts = repo::access::facts_of_many(db, tenant_id, subjects).await?;
    Ok(subjects
        .iter()
        .map(|s| {
            let access = if admins.contains(&s.id()) {
                Access::everything()
            } else {
                resolve(*s, &facts.remove(s).unwrap_or_default())
            };
            (*s, access)
        })
        .collect())
}

/// What the maker of a credential or configuration (a SCIM token, an SSO
/// provider) holds now, or None when it can no longer act: a user deleted
/// or not active, a client deleted or disabled. A platform administrator
/// may belong to another tenant.
pub async fn held_by_maker(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    maker: SubjectRef,
) -> Result<Option<Access>> {
    let live = match maker {
        SubjectRef::User(id) => {
            let user = match repo::users::find(db, tenant_id, id).await? {
                Some(u) => Some(u),
                None => repo::users::find_any_tenant(db, id)
                    .await?
                    .filter(|u| u.is_platform_admin),
            };
            user.is_some_and(|u| u.status == UserStatus::Active)
        }
        SubjectRef::Client(id) => repo::clients::find(db, tenant_id, id)
            .await?
            .is_some_and(|c| c.enabled),
        SubjectRef::Group(_) => false,
    };
    if !live {
        return Ok(None);
    }
    Ok(held_by_many(db, tenant_id, &[maker])
        .await?
        .pop()
        .map(|(_, access)| access))
}

/// The audit target naming a subject.
pub fn target(subject: SubjectRef) -> (&'static str, String) {
    (subject.kind().prefix(), subject.id().to_string())
}

/// The rule for managing someone: changing a subject (its profile,
/// status, credentials, roles, groups, policies) needs every grant the
/// subject holds, so that no one reaches, through another, what they do
/// not hold themselves (`Caller::require_holds`).
pub async fn require_manages(
    db: &mut Db<'_>,
    caller: &Caller,
    subjects: &[SubjectRef],
    what: &str,
) -> Result<()> {
    if caller.principal.platform_admin {
        return Ok(());
    }
    for (subject, access) in held_by_many(db, caller.tenant_id, subjects).await? {
        caller.require_holds(&access, target(subject), what)?;
    }
    Ok(())
}

/// Joining or leaving a group hands over or takes away what the group
/// holds: the caller must hold the group's grants and manage each member
/// whose membership changes. A group that holds nothing changes no one's
/// access, so its members are anyone's to change (an identity provider
/// pushes groups of administrators too).
pub async fn require_membership_change(
    db: &mut Db<'_>,
    caller: &Caller,
    group_id: Uuid,
    members: &[SubjectRef],
) -> Result<()> {
    if caller.principal.platform_admin || members.is_empty() {
        return Ok(());
    }
    let group = SubjectRef::Group(group_id);
    let held = held_by_many(db, caller.tenant_id, &[group]).await?;
    let Some((_, grants)) = held.first().filter(|(_, a)| !a.is_empty()) else {
        return Ok(());
    };
    caller.require_holds(grants, target(group), "change the members of this group")?;
    require_manages(db, caller, members, "change this subject's groups").await
}

/// The subject exists in the caller's tenant (else 404, as for another
/// tenant's).
pub async fn find_subject(db: &mut Db<'_>, tenant_id: Uuid, subject: SubjectRef) -> Result<()> {
    let found = match subject {
        SubjectRef::User(id) => repo::users::find(db, tenant_id, id).await?.is_some(),
        SubjectRef::Client(id) => repo::clients::find(db, tenant_id, id).await?.is_some(),
        SubjectRef::Group(id) => repo::groups::find(db, tenant_id, id).await?.is_some(),
    };
    if found {
        Ok(())
    } else {
        Err(Error::NotFound("Subject"))
    }
}

/// What a subject of the caller's tenant may do, with why
/// (`GET /v1/subjects/{subject}/permissions`). Needs `iam.policy.read`.
pub async fn subject_access(app: &App, caller: &Caller, subject: SubjectRef) -> Result<Access> {
    caller.require_action(POLICY_READ, ROOT_SCOPE)?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    find_subject(db, caller.tenant_id, subject).await?;
    if let SubjectRef::User(id) = subject {
        let user = repo::users::find(db, caller.tenant_id, id).await?;
        if user.is_some_and(|u| u.is_platform_admin) {
            return Ok(Access::everything());
        }
    }
    load(db, caller.tenant_id, subject).await
}

// ---- the action catalogue ----

/// The built-in actions and the tenant's own, by name; the tenant's with
/// the actions above them that are not built in.
pub async fn catalogue(app: &App, caller: &Caller) -> Result<Vec<ActionInfo>> {
    caller.require_action(POLICY_READ, ROOT_SCOPE)?;
    let mut conn = app.db.get().await?;
    let registered = repo::access::actions(&mut conn.db(), caller.tenant_id).await?;
    Ok(merge_catalogue(registered))
}

fn merge_catalogue(registered: Vec<(String, String)>) -> Vec<ActionInfo> {
    let mut out = access::builtin_actions();
    let mut own: std::collections::BTreeMap<String, String> = Default::default();
    for (name, description) in &registered {
        for ancestor in access::with_ancestors(name) {
            own.entry(ancestor.to_string()).or_default();
        }
        own.insert(name.clone(), description.clone());
    }
    out.extend(own.into_iter().map(|(name, description)| ActionInfo {
        name,
        description,
        builtin: false,
    }));
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

async fn registered_names(db: &mut Db<'_>, tenant_id: Uuid) -> Result<Vec<String>> {
    Ok(repo::access::actions(db, tenant_id)
        .await?
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

/// Registers a tenant action (an ithbat addition to the Aritma API).
/// Names beneath `iam` are the IAM's; registering a name twice is 409.
pub async fn register_action(
    app: &App,
    caller: &Caller,
    name: String,
    description: String,
    origin: &Origin,
) -> Result<ActionInfo> {
    caller.require_action(POLICY_WRITE, ROOT_SCOPE)?;
    let mut problems = Problems::default();
    let name = problems
        .check("name", validate_action(&name))
        .and_then(|n| {
            if n == IAM || n.starts_with("iam.") {
                problems.add("name", "actions beneath iam are built in");
                None
            } else {
                Some(n)
            }
        });
    let description = problems.check("description", validate_description(&description));
    problems.into_result()?;
    let (name, description) = (name.unwrap_or_default(), description.unwrap_or_default());
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        if !repo::access::insert_action(tx, caller.tenant_id, &name, &description, Utc::now())
            .await?
        {
            return Err(Error::conflict("name", "This action is registered already"));
        }
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "action.registered",
            origin,
        )
        .target("action", &name);
        audit(tx, event).await
    })?;
    Ok(ActionInfo {
        name,
        description,
        builtin: false,
    })
}

/// Removes a registered action; 409 while policies name it, or a parent
/// only it brings into the catalogue.
pub async fn remove_action(app: &App, caller: &Caller, name: &str, origin: &Origin) -> Result<()> {
    caller.require_action(POLICY_WRITE, ROOT_SCOPE)?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let registered = registered_names(tx, caller.tenant_id).await?;
        if !registered.iter().any(|r| r == name) {
            return Err(Error::NotFound("Action"));
        }
        // The names only this action keeps in the catalogue: itself and
        // the parents no other registered action brings.
        let remaining: Vec<String> = registered.into_iter().filter(|r| r != name).collect();
        let orphaned: Vec<String> = access::with_ancestors(name)
            .filter(|a| !access::is_known(a, &remaining))
            .map(String::from)
            .collect();
        if repo::access::count_policies_naming(tx, caller.tenant_id, &orphaned).await? > 0 {
            return Err(Error::conflict(
                "name",
                "Policies grant this action; delete them first",
            ));
        }
        repo::access::delete_action(tx, caller.tenant_id, name).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "action.removed",
            origin,
        )
        .target("action", name);
        audit(tx, event).await
    })
}

// ---- policies ----

/// A policy as the API names it.
pub struct PolicyInput {
    pub subject: String,
    pub scope: String,
    pub action: String,
}

/// Checks the three fields (every problem reported at once) and that the
/// action is in the catalogue.
async fn parse_policy(db: &mut Db<'_>, tenant_id: Uuid, input: &PolicyInput) -> Result<Policy> {
    let mut problems = Problems::default();
    let subject = problems.check("subject", SubjectRef::parse(input.subject.trim()));
    let scope = problems.check("scope", validate_scope(&input.scope));
    let action = problems.check("action", validate_action(&input.action));
    let registered = registered_names(db, tenant_id).await?;
    let action = action.and_then(|a| {
        if access::is_known(&a, &registered) {
            Some(a)
        } else {
            problems.add(
                "action",
                format!("{a:?} is not an action of the catalogue (GET /v1/actions)"),
            );
            None
        }
    });
    problems.into_result()?;
    Ok(Policy {
        subject: subject.ok_or_else(|| Error::internal("checked"))?,
        action: action.unwrap_or_default(),
        scope: scope.unwrap_or_default(),
    })
}

/// The caller may write policies on the policy's scope and holds what the
/// policy grants (or takes away) there.
fn may_grant(caller: &Caller, p: &Policy) -> Result<()> {
    caller.require_action(POLICY_WRITE, &p.scope)?;
    let granted = Access::of(
        [Grant::new(p.action.clone(), p.scope.clone())],
        access::Source::Policy,
    );
    caller.require_holds(&granted, target(p.subject), "grant or revoke this policy")
}

/// `POST /v1/policies`. Creating a policy the tenant has is a no-op that
/// answers the same (idempotent); only the first is audited.
pub async fn create_policy(
    app: &App,
    caller: &Caller,
    input: PolicyInput,
    origin: &Origin,
) -> Result<Policy> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let policy = parse_policy(db, caller.tenant_id, &input).await?;
    may_grant(caller, &policy)?;
    transaction!(db, |tx| {
        find_subject(tx, caller.tenant_id, policy.subject).await?;
        if repo::access::insert_policy(tx, caller.tenant_id, &policy, Utc::now()).await? {
            let event = AuditEvent::new(
                caller.tenant_id,
                Actor::from(caller),
                "policy.created",
                origin,
            )
            .target("subject", policy.subject.to_string())
            .details(json!({ "action": policy.action, "scope": policy.scope }));
            audit(tx, event).await?;
        }
        Ok(())
    })?;
    Ok(policy)
}

/// `DELETE /v1/policies?subject=&scope=&action=`: 404 unless the tenant
/// has exactly that policy.
pub async fn delete_policy(
    app: &App,
    caller: &Caller,
    input: PolicyInput,
    origin: &Origin,
) -> Result<()> {
    let mut problems = Problems::default();
    let subject = problems.check("subject", SubjectRef::parse(input.subject.trim()));
    let scope = problems.check("scope", validate_scope(&input.scope));
    let action = problems.check("action", validate_action(&input.action));
    problems.into_result()?;
    let policy = Policy {
        subject: subject.ok_or_else(|| Error::internal("checked"))?,
        action: action.unwrap_or_default(),
        scope: scope.unwrap_or_default(),
    };
    may_grant(caller, &policy)?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        if !repo::access::delete_policy(tx, caller.tenant_id, &policy).await? {
            return Err(Error::NotFound("Policy"));
        }
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "policy.deleted",
            origin,
        )
        .target("subject", policy.subject.to_string())
        .details(json!({ "action": policy.action, "scope": policy.scope }));
        audit(tx, event).await
    })
}

/// `GET /v1/policies`, optionally by subject, action, scope (exact) and
/// `within` (a scope and what lies beneath it). Reading needs
/// `iam.policy.read` on `within` (the whole tenant when it is not given).
pub async fn list_policies(
    app: &App,
    caller: &Caller,
    query: PolicyQuery,
) -> Result<Listing<StoredPolicy>> {
    caller.require_action(POLICY_READ, query.within.as_deref().unwrap_or(ROOT_SCOPE))?;
    let mut conn = app.db.get().await?;
    repo::access::list_policies(&mut conn.db(), caller.tenant_id, &query).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_actions_bring_their_parents() {
        let c = merge_catalogue(vec![("banking.pis.read".into(), "Read payments".into())]);
        let names: Vec<&str> = c.iter().map(|a| a.name.as_str()).collect();
        assert!(names.contains(&"banking"));
        assert!(names.contains(&"banking.pis"));
        assert!(names.contains(&"iam.policy.write"));
        let read = c.iter().find(|a| a.name == "banking.pis.read").unwrap();
        assert_eq!(read.description, "Read payments");
        assert!(!read.builtin);
    }
}
