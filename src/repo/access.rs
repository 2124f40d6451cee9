//! IAM policies, the actions tenants register, clients as group members,
//! and `facts`: what `domain::access::resolve` needs to answer for one
//! subject, loaded in three indexed queries.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::list::{self, Narrow, Sorts, Total};
use crate::db::schema::{
    group_client_members, group_members, iam_actions, policies, role_permissions, roles,
    user_roles, users,
};
use crate::db::{Db, Ts, Uid};
use crate::domain::access::{
    role_actions, Facts, Policy, PolicyQuery, RoleHolding, StoredPolicy, SubjectRef,
};
use crate::domain::list::{Listing, SortOrder};
use crate::domain::permission::BuiltinRole;
use crate::domain::Result;
use crate::with_conn;

/// Ids per statement when many subjects are loaded at once (well inside
/// both backends' limits on bound parameters).
const CHUNK: usize = 1000;

/// The groups `subject` (a user or a client) belongs to.
pub async fn groups_of(db: &mut Db<'_>, subject: SubjectRef) -> Result<Vec<Uuid>> {
    Ok(memberships(db, &[subject])
        .await?
        .into_iter()
        .map(|(group, _)| group)
        .collect())
}

/// (group, member) for every group the users and clients among
/// `subjects` belong to.
async fn memberships(db: &mut Db<'_>, subjects: &[SubjectRef]) -> Result<Vec<(Uuid, SubjectRef)>> {
    let users = ids_of(subjects, |s| matches!(s, SubjectRef::User(_)));
    let clients = ids_of(subjects, |s| matches!(s, SubjectRef::Client(_)));
    let mut out = Vec::new();
    for chunk in users.chunks(CHUNK) {
        let rows: Vec<(Uid, Uid)> = with_conn!(db, |c| group_members::table
            .filter(group_members::user_id.eq_any(chunk.to_vec()))
            .select((group_members::group_id, group_members::user_id))
            .load(c)
            .await)?;
        out.extend(rows.into_iter().map(|(g, u)| (g.0, SubjectRef::User(u.0))));
    }
    for chunk in clients.chunks(CHUNK) {
        let rows: Vec<(Uid, Uid)> = with_conn!(db, |c| group_client_members::table
            .filter(group_client_members::client_id.eq_any(chunk.to_vec()))
            .select((
                group_client_members::group_id,
                group_client_members::client_id
            ))
            .load(c)
            .await)?;
        out.extend(
            rows.into_iter()
                .map(|(g, c)| (g.0, SubjectRef::Client(c.0))),
        );
    }
    Ok(out)
}

/// The platform administrators among `subjects`.
pub async fn platform_admins_among(db: &mut Db<'_>, subjects: &[SubjectRef]) -> Result<Vec<Uuid>> {
    let users = ids_of(subjects, |s| matches!(s, SubjectRef::User(_)));
    let mut out = Vec::new();
    for chunk in users.chunks(CHUNK) {
        let rows: Vec<Uid> = with_conn!(db, |c| users::table
            .filter(users::id.eq_any(chunk.to_vec()))
            .filter(users::is_platform_admin.eq(true))
            .select(users::id)
            .load(c)
            .await)?;
        out.extend(rows.into_iter().map(|u| u.0));
    }
    Ok(out)
}

fn ids_of(subjects: &[SubjectRef], keep: impl Fn(&SubjectRef) -> bool) -> Vec<Uid> {
    subjects
        .iter()
        .filter(|s| keep(s))
        .map(|s| Uid(s.id()))
        .collect()
}

#[derive(Queryable)]
struct PolicyRow {
    subject: String,
    action: String,
    scope: String,
}

fn policy(row: PolicyRow) -> Option<Policy> {
    Some(Policy {
        // Written by us from a parsed subject.
        subject: SubjectRef::parse(&row.subject).ok()?,
        action: row.action,
        scope: row.scope,
    })
}

/// What decides `subject`'s access in `tenant_id`: its policies and its
/// groups', its memberships, and the roles it holds with their actions.
pub async fn facts(db: &mut Db<'_>, tenant_id: Uuid, subject: SubjectRef) -> Result<Facts> {
    Ok(facts_of_many(db, tenant_id, &[subject])
        .await?
        .remove(&subject)
        .unwrap_or_default())
}

/// `facts` for many subjects at once, in a few statements whatever their
/// number (a group of ten thousand members is checked in a handful).
pub async fn facts_of_many(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    subjects: &[SubjectRef],
) -> Result<HashMap<SubjectRef, Facts>> {
    let memberships = memberships(db, subjects).await?;
    let mut named: Vec<String> = subjects.iter().map(ToString::to_string).collect();
    named.extend(
        memberships
            .iter()
            .map(|(g, _)| SubjectRef::Group(*g).to_string()),
    );
    named.sort();
    named.dedup();
    let mut policies_by_subject: HashMap<SubjectRef, Vec<Policy>> = HashMap::new();
    for chunk in named.chunks(CHUNK) {
        let rows: Vec<PolicyRow> = with_conn!(db, |c| policies::table
            .filter(policies::tenant_id.eq(Uid(tenant_id)))
            .filter(policies::subject.eq_any(chunk.to_vec()))
            .select((policies::subject, policies::action, policies::scope))
            .load(c)
            .await)?;
        for p in rows.into_iter().filter_map(policy) {
            policies_by_subject.entry(p.subject).or_default().push(p);
        }
    }
    let users: Vec<Uuid> = subjects
        .iter()
        .filter_map(|s| match s {
            SubjectRef::User(id) => Some(*id),
            _ => None,
        })
        .collect();
    let mut roles_by_user: HashMap<SubjectRef, Vec<RoleHolding>> = HashMap::new();
    for holding in role_holdings(db, &users).await? {
        roles_by_user
            .entry(holding.subject)
            .or_default()
            .push(holding);
    }
    let mut groups_by_member: HashMap<SubjectRef, Vec<Uuid>> = HashMap::new();
    for (group, member) in memberships {
        groups_by_member.entry(member).or_default().push(group);
    }
    Ok(subjects
        .iter()
        .map(|subject| {
            let groups = groups_by_member.remove(subject).unwrap_or_default();
            let mut policies = policies_by_subject
                .get(subject)
                .cloned()
                .unwrap_or_default();
            for g in &groups {
                policies.extend(
                    policies_by_subject
                        .get(&SubjectRef::Group(*g))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            let facts = Facts {
                policies,
                memberships: groups.into_iter().map(|g| (g, *subject)).collect(),
                roles: roles_by_user.remove(subject).unwrap_or_default(),
            };
            (*subject, facts)
        })
        .collect())
}

/// A role a user holds, where, and one of its permissions.
#[derive(Queryable)]
struct HoldingRow {
    user_id: Uid,
    id: Uid,
    name: String,
    builtin: Option<String>,
    scope: String,
    permission: Option<String>,
}

/// The roles of these users, each on the scope it is held on, with its
/// actions.
async fn role_holdings(db: &mut Db<'_>, user_ids: &[Uuid]) -> Result<Vec<RoleHolding>> {
    let mut rows: Vec<HoldingRow> = Vec::new();
    for chunk in user_ids.chunks(CHUNK) {
        let ids: Vec<Uid> = chunk.iter().copied().map(Uid).collect();
        let loaded: Vec<HoldingRow> = with_conn!(db, |c| user_roles::table
            .inner_join(roles::table)
            .left_join(role_permissions::table.on(role_permissions::role_id.eq(roles::id)))
            .filter(user_roles::user_id.eq_any(ids.clone()))
            .select((
                user_roles::user_id,
                roles::id,
                roles::name,
                roles::builtin,
                user_roles::scope,
                role_permissions::permission.nullable(),
            ))
            .load(c)
            .await)?;
        rows.extend(loaded);
    }
    type Held = (String, bool, Vec<String>);
    let mut held: HashMap<(Uuid, Uuid, String), Held> = HashMap::new();
    for HoldingRow {
        user_id,
        id,
        name,
        builtin,
        scope,
        permission,
    } in rows
    {
        let fixed = builtin
            .as_deref()
            .and_then(BuiltinRole::parse)
            .is_some_and(BuiltinRole::is_fixed);
        let entry = held
            .entry((user_id.0, id.0, scope))
            .or_insert_with(|| (name, fixed, Vec::new()));
        entry.2.extend(permission);
    }
    Ok(held
        .into_iter()
        .map(
            |((user, _, scope), (role, fixed, permissions))| RoleHolding {
                subject: SubjectRef::User(user),
                role,
                scope,
                actions: role_actions(fixed, &permissions),
            },
        )
        .collect())
}

// ---- policies ----

/// Inserts a policy; false if the tenant already has it.
pub async fn insert_policy(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    p: &Policy,
    now: DateTime<Utc>,
) -> Result<bool> {
    let (user, client, group) = match p.subject {
        SubjectRef::User(id) => (Some(Uid(id)), None, None),
        SubjectRef::Client(id) => (None, Some(Uid(id)), None),
        SubjectRef::Group(id) => (None, None, Some(Uid(id))),
    };
    let values = (
        policies::id.eq(Uid(Uuid::now_v7())),
        policies::tenant_id.eq(Uid(tenant_id)),
        policies::subject.eq(p.subject.to_string()),
        policies::user_id.eq(user),
        policies::client_id.eq(client),
        policies::group_id.eq(group),
        policies::action.eq(p.action.clone()),
        policies::scope.eq(p.scope.clone()),
        policies::created_at.eq(Ts(now)),
    );
    let n = with_conn!(db, |c| diesel::insert_into(policies::table)
        .values(values.clone())
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Deletes a policy; false if the tenant has no such policy.
pub async fn delete_policy(db: &mut Db<'_>, tenant_id: Uuid, p: &Policy) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        policies::table
            .filter(policies::tenant_id.eq(Uid(tenant_id)))
            .filter(policies::subject.eq(p.subject.to_string()))
            .filter(policies::action.eq(p.action.clone()))
            .filter(policies::scope.eq(p.scope.clone()))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

/// The tenant's policies, by subject, action and scope.
pub async fn list_policies(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    q: &PolicyQuery,
) -> Result<Listing<StoredPolicy>> {
    let subject = q.subject.map(|s| s.to_string());
    let listing: Listing<(String, String, String, Ts)> = with_conn!(db, |c| {
        // Beneath W: from "W/" up to "W0" ('0' follows '/'), compared
        // bytewise on both backends (no LIKE: SQLite's ignores case).
        let beneath = |w: &str| {
            let below = policies::scope
                .ge(format!("{w}/"))
                .and(policies::scope.lt(format!("{w}0")));
            policies::scope.eq(w.to_string()).or(below)
        };
        let filtered = || {
            Ok(policies::table
                .filter(policies::tenant_id.eq(Uid(tenant_id)))
                .into_boxed()
                .narrow(subject.clone().map(|s| policies::subject.eq(s)))
                .narrow(q.action.clone().map(|a| policies::action.eq(a)))
                .narrow(q.scope.clone().map(|s| policies::scope.eq(s)))
                .narrow(q.within.as_deref().filter(|w| *w != "/").map(beneath)))
        };
        let sorts = Sorts::default()
            .by(policies::subject, SortOrder::Asc)
            .by(policies::action, SortOrder::Asc)
            .by(policies::scope, SortOrder::Asc);
        let selection = (
            policies::subject,
            policies::action,
            policies::scope,
            policies::created_at,
        );
        let rows = list::by_id(policies::id, selection);
        list::page(c, filtered, sorts, rows, q.page, Total::Count).await
    })?;
    Ok(listing.map(|(subject, action, scope, at)| StoredPolicy {
        subject,
        action,
        scope,
        created_at: at.0,
    }))
}

/// How many of the tenant's policies name one of `actions`.
pub async fn count_policies_naming(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    actions: &[String],
) -> Result<i64> {
    Ok(with_conn!(db, |c| policies::table
        .filter(policies::tenant_id.eq(Uid(tenant_id)))
        .filter(policies::action.eq_any(actions.to_vec()))
        .count()
        .get_result(c)
        .await)?)
}

// ---- registered actions ----

/// The tenant's registered actions: (name, description), by name.
pub async fn actions(db: &mut Db<'_>, tenant_id: Uuid) -> Result<Vec<(String, String)>> {
    Ok(with_conn!(db, |c| iam_actions::table
        .filter(iam_actions::tenant_id.eq(Uid(tenant_id)))
        .order(iam_actions::name.asc())
        .select((iam_actions::name, iam_actions::description))
        .load(c)
        .await)?)
}

/// Registers an action; false if the tenant has it already.
pub async fn insert_action(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    name: &str,
    description: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::insert_into(iam_actions::table)
        .values((
            iam_actions::tenant_id.eq(Uid(tenant_id)),
            iam_actions::name.eq(name.to_string()),
            iam_actions::description.eq(description.to_string()),
            iam_actions::created_at.eq(Ts(now)),
        ))
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(n == 1)
}

pub async fn delete_action(db: &mut Db<'_>, tenant_id: Uuid, name: &str) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        iam_actions::table
            .filter(iam_actions::tenant_id.eq(Uid(tenant_id)))
            .filter(iam_actions::name.eq(name.to_string()))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

// ---- clients in groups ----

/// Adds clients as members, skipping current ones; returns how many.
pub async fn add_client_members(
    db: &mut Db<'_>,
    group_id: Uuid,
    client_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut added = 0;
    for id in client_ids {
        added += with_conn!(db, |c| diesel::insert_into(group_client_members::table)
            .values((
                group_client_members::group_id.eq(Uid(group_id)),
                group_client_members::client_id.eq(Uid(*id)),
                group_client_members::added_at.eq(Ts(now)),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await)?;
    }
    Ok(added)
}

pub async fn remove_client_member(
    db: &mut Db<'_>,
    group_id: Uuid,
    client_id: Uuid,
) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        group_client_members::table
            .filter(group_client_members::group_id.eq(Uid(group_id)))
            .filter(group_client_members::client_id.eq(Uid(client_id)))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

/// The clients of a group, by when they joined.
pub async fn client_members(db: &mut Db<'_>, group_id: Uuid) -> Result<Vec<Uuid>> {
    let rows: Vec<Uid> = with_conn!(db, |c| group_client_members::table
        .filter(group_client_members::group_id.eq(Uid(group_id)))
        .order((
            group_client_members::added_at.asc(),
            group_client_members::client_id.asc()
        ))
        .select(group_client_members::client_id)
        .load(c)
        .await)?;
    Ok(rows.into_iter().map(|c| c.0).collect())
}
