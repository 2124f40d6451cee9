//! Provisioning: users and groups written whole by an identity provider
//! (SCIM). The same users and groups as every other dialect; what differs
//! is that a record carries every attribute at once, that an `If-Match`
//! version may guard a write, and that group membership changes in sets.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::passwords::Password;
use super::{audit, App};
use crate::db::Db;
use crate::domain::access::SubjectRef;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::group::{Group, GroupQuery};
use crate::domain::list::Listing;
use crate::domain::permission::BuiltinRole;
use crate::domain::principal::Caller;
use crate::domain::role::validate_name as validate_group_name;
use crate::domain::role::Grants;
use crate::domain::session::Origin;
use crate::domain::user::{
    validate_name_part, validate_user_name, AccountFields, Email, MultiValue, PersonName,
    Preferences, Profile, User, UserQuery, UserStatus,
};
use crate::domain::{Error, FieldError, Problems, Result};
use crate::repo::{self, Locked};
use crate::transaction;

/// Everything an identity provider writes about a user.
#[derive(Debug, Clone, Default)]
pub struct UserRecord {
    pub user_name: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub family_name: Option<String>,
    /// None when the request does not say: active on creation, unchanged
    /// on replacement (RFC 7644 3.5.1 lets an omitted attribute keep a
    /// value; a profile update must not undo a suspension).
    pub active: Option<bool>,
    pub profile: Profile,
    pub password: Option<Password>,
}

/// A user with what SCIM shows beside the row.
#[derive(Debug, Clone)]
pub struct ProvisionedUser {
    pub user: User,
    pub profile: Profile,
    /// (group id, group name)
    pub groups: Vec<(Uuid, String)>,
}

async fn provisioned(db: &mut Db<'_>, users: Vec<User>) -> Result<Vec<ProvisionedUser>> {
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let mut profiles = repo::profiles::load(db, &ids).await?;
    let mut groups = repo::groups::groups_of(db, &ids).await?;
    Ok(users
        .into_iter()
        .map(|user| ProvisionedUser {
            profile: profiles.remove(&user.id).unwrap_or_default(),
            groups: groups.remove(&user.id).unwrap_or_default(),
            user,
        })
        .collect())
}

async fn one(db: &mut Db<'_>, user: User) -> Result<ProvisionedUser> {
    provisioned(db, vec![user])
        .await?
        .pop()
        .ok_or_else(|| Error::internal("user vanished"))
}

fn precondition(expected: Option<i32>, actual: i32) -> Result<()> {
    match expected {
        Some(v) if v != actual => Err(Error::PreconditionFailed(format!(
            "The resource has changed (version {actual}, not {v})"
        ))),
        _ => Ok(()),
    }
}

/// Checks and hashes a password sent over SCIM. An identity provider's
/// passwords (a SCIM token's) meet the tenant's length rules only; a
/// person's own (a user token with scim:write) meets the whole policy.
async fn provisioned_password(app: &App, caller: &Caller, p: &Password) -> Result<String> {
    let tenant = {
        let mut conn = app.db.get().await?;
        repo::tenants::find(&mut conn.db(), caller.tenant_id)
            .await?
            .ok_or(Error::TenantNotFound)?
    };
    let policy = &tenant.settings.password_policy;
    let checked = if caller.is_provisioner() {
        policy.check_length(p.expose())
    } else {
        policy.check(p.expose())
    };
    checked.map_err(|e| Error::invalid("password", e))?;
    app.passwords.hash(p).await
}

pub async fn get_user(app: &App, caller: &Caller, id: Uuid) -> Result<ProvisionedUser> {
    caller.require("user:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = repo::users::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    one(db, user).await
}

pub async fn list_users(
    app: &App,
    caller: &Caller,
    query: UserQuery<'_>,
) -> Result<Listing<ProvisionedUser>> {
    caller.require("user:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let mut listing = repo::users::list(db, caller.tenant_id, &query).await?;
    let items = provisioned(db, std::mem::take(&mut listing.items)).await?;
    Ok(listing.with_items(items))
}

/// Optional text: trimmed, at most `max` printable characters; empty is
/// absent.
fn optional(
    problems: &mut Problems,
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Option<String> {
    let v = value.as_deref()?.trim();
    if v.is_empty() {
        return None;
    }
    if v.chars().count() > max || v.chars().any(char::is_control) {
        problems.add(field, format!("must be at most {max} printable characters"));
        return None;
    }
    Some(v.to_string())
}

fn multi(
    problems: &mut Problems,
    field: &str,
    values: &[MultiValue],
    check: impl Fn(&str) -> Result<String, String>,
) -> Vec<MultiValue> {
    if values.iter().filter(|v| v.primary).count() > 1 {
        problems.add(field, "may have one primary value at most");
    }
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let value = problems.check(&format!("{field}[{i}].value"), check(&v.value))?;
            Some(MultiValue {
                value,
                kind: optional(problems, &format!("{field}[{i}].type"), &v.kind, 64),
                primary: v.primary,
                display: optional(problems, &format!("{field}[{i}].display"), &v.display, 256),
            })
        })
        .collect()
}

/// The record, checked: a user row's worth of fields and a profile. The
/// user's email is the primary (else first) of `emails`, or none: RFC 7643
/// 4.1 requires only userName, and a user without email signs in by it.
struct Checked {
    user_name: String,
    external_id: Option<String>,
    name: PersonName,
    email: Option<Email>,
    phone: Option<String>,
    profile: Profile,
}

fn validate(record: &UserRecord) -> Result<Checked> {
    let mut p = Problems::default();
    let user_name = p.check("userName", validate_user_name(&record.user_name));
    let external_id = optional(&mut p, "externalId", &record.external_id, 256);
    let mut name_part = |field: &str, v: &Option<String>| {
        v.as_deref()
            .and_then(|v| p.check(field, validate_name_part(v, false)))
            .unwrap_or_default()
    };
    let name = PersonName {
        first: name_part("name.givenName", &record.given_name),
        father: name_part("name.middleName", &record.middle_name),
        grandfather: String::new(),
        family: name_part("name.familyName", &record.family_name),
    };
    let src = &record.profile;
    // Kept as sent (RFC 7643 2.4 leaves their form to the client); the
    // sign-in address taken from them below is normalized.
    let emails = multi(&mut p, "emails", &src.emails, |v| {
        Email::parse(v).map(|_| v.to_string())
    });
    let phone_numbers = multi(&mut p, "phoneNumbers", &src.phone_numbers, |v| {
        let v = v.trim();
        if v.is_empty() || v.chars().count() > 64 || v.chars().any(char::is_control) {
            Err("must be 1 to 64 printable characters".into())
        } else {
            Ok(v.to_string())
        }
    });
    let text = |p: &mut Problems, field: &str, v: &Option<String>| optional(p, field, v, 256);
    let profile = Profile {
        display_name: text(&mut p, "displayName", &src.display_name),
        nick_name: text(&mut p, "nickName", &src.nick_name),
        title: text(&mut p, "title", &src.title),
        user_type: text(&mut p, "userType", &src.user_type),
        preferred_language: text(&mut p, "preferredLanguage", &src.preferred_language),
        locale: text(&mut p, "locale", &src.locale),
        timezone: text(&mut p, "timezone", &src.timezone),
        profile_url: optional(&mut p, "profileUrl", &src.profile_url, 2048),
        employee_number: text(&mut p, "employeeNumber", &src.employee_number),
        cost_center: text(&mut p, "costCenter", &src.cost_center),
        organization: text(&mut p, "organization", &src.organization),
        division: text(&mut p, "division", &src.division),
        department: text(&mut p, "department", &src.department),
        manager_id: src.manager_id,
        addresses: src.addresses.clone(),
        other: src.other.clone(),
        emails,
        phone_numbers,
    };
    let chosen = profile
        .emails
        .iter()
        .find(|e| e.primary)
        .or(profile.emails.first())
        .map(|e| e.value.clone());
    // Every value of `emails` parsed above, so the chosen one does.
    let email = chosen.and_then(|address| Email::parse(&address).ok());
    let phone = profile
        .phone_numbers
        .iter()
        .find(|e| e.primary)
        .or(profile.phone_numbers.first())
        .map(|e| e.value.clone());
    p.into_result()?;
    Ok(Checked {
        user_name: user_name.expect("validated"),
        external_id,
        name,
        email,
        phone,
        profile,
    })
}

async fn check_manager(
    db: &mut Db<'_>,
    caller: &Caller,
    user: Uuid,
    manager: Option<Uuid>,
) -> Result<()> {
    let Some(m) = manager else {
        return Ok(());
    };
    if m == user || repo::users::find(db, caller.tenant_id, m).await?.is_none() {
        return Err(Error::invalid(
            "manager.value",
            "is not another user of this tenant",
        ));
    }
    Ok(())
}

/// Creates a user as provisioned: active unless said otherwise, its email
/// taken as verified (the identity provider vouches for it), with the
/// `member` role.
pub async fn create_user(
    app: &App,
    caller: &Caller,
    record: UserRecord,
    origin: &Origin,
) -> Result<ProvisionedUser> {
    caller.require("user:write")?;
    let Checked {
        user_name,
        external_id,
        name,
        email,
        phone,
        profile,
    } = validate(&record)?;
    let hash = match &record.password {
        Some(p) => Some(provisioned_password(app, caller, p).await?),
        None => None,
    };
    let now = Utc::now();
    let user = User {
        id: Uuid::now_v7(),
        tenant_id: caller.tenant_id,
        user_name,
        external_id,
        version: 1,
        email: email.map(|e| e.address),
        name,
        phone_number: phone,
        status: if record.active.unwrap_or(true) {
            UserStatus::Active
        } else {
            UserStatus::Suspended
        },
        email_verified: true,
        mfa_enabled: false,
        is_platform_admin: false,
        preferences: Preferences::default(),
        metadata: Default::default(),
        external_ids: Default::default(),
        last_login_at: None,
        password_changed_at: hash.as_ref().map(|_| now),
        created_at: now,
        updated_at: now,
        // Provisioned by the identity provider, usable at once.
        account: AccountFields::joined(now),
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        check_manager(tx, caller, user.id, profile.manager_id).await?;
        repo::users::insert(tx, &user, hash.as_deref()).await?;
        repo::profiles::save(tx, user.id, &profile).await?;
        let member = repo::roles::find_builtin(tx, caller.tenant_id, BuiltinRole::Member).await?;
        repo::roles::assign(tx, user.id, member, now).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "user.created",
            origin,
        )
        .target("user", user.id)
        .details(
            json!({ "userName": user.user_name, "email": user.email, "active": user.status == UserStatus::Active }),
        );
        audit(tx, event).await?;
        one(tx, user).await
    })
}

/// Replaces every provisioned attribute of a user (SCIM PUT). Deactivating
/// revokes every session at once; a new password revokes them too.
pub async fn replace_user(
    app: &App,
    caller: &Caller,
    id: Uuid,
    record: UserRecord,
    expected_version: Option<i32>,
    origin: &Origin,
) -> Result<ProvisionedUser> {
    replace_as(
        app,
        caller,
        Writer::Manager,
        id,
        record,
        expected_version,
        origin,
    )
    .await
}

/// `replace_user` by `writer`.
async fn replace_as(
    app: &App,
    caller: &Caller,
    writer: Writer,
    id: Uuid,
    record: UserRecord,
    expected_version: Option<i32>,
    origin: &Origin,
) -> Result<ProvisionedUser> {
    let first = record.clone();
    write_user(
        app,
        caller,
        writer,
        id,
        expected_version,
        origin,
        &first,
        |_| Ok(record),
    )
    .await
}

/// Changes a user by `apply` (SCIM PATCH, applied to the user as stored):
/// read, changed and written back in one transaction that holds the row,
/// so concurrent PATCHes all land and none fails unless the client sent
/// a version. `apply`'s own refusals come back as they are.
pub async fn patch_user<E>(
    app: &App,
    caller: &Caller,
    id: Uuid,
    expected_version: Option<i32>,
    origin: &Origin,
    apply: impl Fn(&ProvisionedUser) -> Result<UserRecord, E> + Send + Sync,
) -> Result<ProvisionedUser, E>
where
    E: From<Error> + Send,
{
    let current = get_user(app, caller, id).await?;
    patch_as(
        app,
        caller,
        Writer::Manager,
        current,
        expected_version,
        origin,
        apply,
    )
    .await
}

/// `patch_user` by `writer`, `current` being the user as read beforehand.
async fn patch_as<E>(
    app: &App,
    caller: &Caller,
    writer: Writer,
    current: ProvisionedUser,
    expected_version: Option<i32>,
    origin: &Origin,
    apply: impl Fn(&ProvisionedUser) -> Result<UserRecord, E> + Send + Sync,
) -> Result<ProvisionedUser, E>
where
    E: From<Error> + Send,
{
    // Applied once beforehand to the user as read now: its password (which
    // comes from the operations, never from the user) is hashed before the
    // transaction, and invalid operations are refused before hashing.
    let first = apply(&current)?;
    let mut refused = None;
    let written = write_user(
        app,
        caller,
        writer,
        current.user.id,
        expected_version,
        origin,
        &first,
        |current| {
            apply(current).map_err(|e| {
                refused = Some(e);
                Error::internal("the PATCH was refused")
            })
        },
    )
    .await;
    match refused {
        Some(e) => Err(e),
        None => written.map_err(E::from),
    }
}

// ---- the caller's own User resource (SCIM /Me, RFC 7644 3.11) ----

/// The signed-in person's own user: no permission needed, as for
/// `GET /api/v1/users/me`. A credential that is no person (a SCIM token, a
/// client) has no "me".
pub async fn get_self(app: &App, caller: &Caller) -> Result<ProvisionedUser> {
    let (me, _) = caller.session()?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = repo::users::find(db, caller.principal.home_tenant, me)
        .await?
        .ok_or(Error::NotFound("User"))?;
    one(db, user).await
}

/// SCIM PUT on `/Me`: the whole resource as sent, refused (403, naming
/// them) when it changes an attribute beyond `SELF_SERVICE_ATTRIBUTES`.
pub async fn replace_self(
    app: &App,
    caller: &Caller,
    record: UserRecord,
    expected_version: Option<i32>,
    origin: &Origin,
) -> Result<ProvisionedUser> {
    let (me, _) = caller.session()?;
    replace_as(
        app,
        caller,
        Writer::Owner,
        me,
        record,
        expected_version,
        origin,
    )
    .await
}

/// SCIM PATCH on `/Me`, within self-service as `replace_self`.
pub async fn patch_self<E>(
    app: &App,
    caller: &Caller,
    expected_version: Option<i32>,
    origin: &Origin,
    apply: impl Fn(&ProvisionedUser) -> Result<UserRecord, E> + Send + Sync,
) -> Result<ProvisionedUser, E>
where
    E: From<Error> + Send,
{
    let current = get_self(app, caller).await?;
    patch_as(
        app,
        caller,
        Writer::Owner,
        current,
        expected_version,
        origin,
        apply,
    )
    .await
}

/// Who writes a user: whoever manages it (with user:write), or the person
/// themselves through SCIM's `/Me` (RFC 7644 3.11), within self-service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    Manager,
    Owner,
}

/// What a person may change on their own User resource through `/Me`: what
/// `PUT /api/v1/users/me` lets them change (their name, phone number and
/// language and time preferences), as SCIM names it (docs/api/scim.md).
pub const SELF_SERVICE_ATTRIBUTES: [&str; 5] = [
    "name",
    "phoneNumbers",
    "preferredLanguage",
    "locale",
    "timezone",
];

/// The attributes a `/Me` write would change beyond self-service, so that
/// the refusal names them. An allow-list: the profile with only the
/// self-service attributes taken from the write must equal the written
/// profile, so an attribute added to the model later is refused until it
/// is allowed here.
fn beyond_self_service(
    old: &User,
    old_profile: &Profile,
    new: &User,
    profile: &Profile,
    password: bool,
) -> Vec<String> {
    let (a, b) = (old_profile, profile);
    let mut beyond: Vec<String> = [
        ("userName", old.user_name != new.user_name),
        ("externalId", old.external_id != new.external_id),
        ("active", old.status != new.status),
        ("password", password),
        ("emails", a.emails != b.emails || old.email != new.email),
        ("displayName", a.display_name != b.display_name),
        ("nickName", a.nick_name != b.nick_name),
        ("title", a.title != b.title),
        ("userType", a.user_type != b.user_type),
        ("profileUrl", a.profile_url != b.profile_url),
        ("addresses", a.addresses != b.addresses),
        ("employeeNumber", a.employee_number != b.employee_number),
        ("costCenter", a.cost_center != b.cost_center),
        ("organization", a.organization != b.organization),
        ("division", a.division != b.division),
        ("department", a.department != b.department),
        ("manager", a.manager_id != b.manager_id),
    ]
    .into_iter()
    .filter(|(_, differs)| *differs)
    .map(|(name, _)| name.to_string())
    .collect();
    // The attributes stored as sent (ims, roles, ...); their `name` parts
    // are self-service.
    let other = |p: &Profile| {
        p.other
            .as_ref()
            .and_then(|o| o.as_object())
            .cloned()
            .unwrap_or_default()
    };
    let (old_other, new_other) = (other(a), other(b));
    for key in old_other.keys().chain(new_other.keys()) {
        if key != "name" && old_other.get(key) != new_other.get(key) && !beyond.contains(key) {
            beyond.push(key.clone());
        }
    }
    let mut allowed_other = old_other;
    match new_other.get("name") {
        Some(n) => allowed_other.insert("name".into(), n.clone()),
        None => allowed_other.remove("name"),
    };
    let allowed = Profile {
        phone_numbers: b.phone_numbers.clone(),
        preferred_language: b.preferred_language.clone(),
        locale: b.locale.clone(),
        timezone: b.timezone.clone(),
        other: (!allowed_other.is_empty()).then_some(serde_json::Value::Object(allowed_other)),
        ..a.clone()
    };
    if beyond.is_empty() && allowed != *b {
        beyond.push("attributes outside self-service".into());
    }
    beyond
}

/// The refusal of a `/Me` write that goes beyond self-service.
fn self_service_refusal(attributes: &[String]) -> Error {
    Error::Forbidden(format!(
        "Through /Me you may change only {}; not {}",
        SELF_SERVICE_ATTRIBUTES.join(", "),
        attributes.join(", ")
    ))
}

/// Writes the record `make` builds from the user as stored, with the row
/// locked. `first` is the record as expected beforehand: checked, and its
/// password hashed, before the transaction (`make`'s password is not read).
#[allow(clippy::too_many_arguments)]
async fn write_user(
    app: &App,
    caller: &Caller,
    writer: Writer,
    id: Uuid,
    expected_version: Option<i32>,
    origin: &Origin,
    first: &UserRecord,
    make: impl FnOnce(&ProvisionedUser) -> Result<UserRecord> + Send,
) -> Result<ProvisionedUser> {
    match writer {
        Writer::Manager => caller.require("user:write")?,
        // Checked before any hashing; passwords change with the current
        // one (docs/api/ithbat.md).
        Writer::Owner if first.password.is_some() => {
            return Err(self_service_refusal(&["password".to_string()]))
        }
        Writer::Owner => {}
    }
    validate(first)?;
    let hash = match &first.password {
        Some(p) => Some(provisioned_password(app, caller, p).await?),
        None => None,
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, grants) = match writer {
            Writer::Manager => super::users::managed(tx, caller, id).await?,
            Writer::Owner => {
                let tenant = caller.principal.home_tenant;
                let row = Locked::User { tenant, id };
                repo::lock_for_update(tx, row).await?;
                let user = repo::users::find(tx, tenant, id)
                    .await?
                    .ok_or(Error::NotFound("User"))?;
                (user, Grants::default())
            }
        };
        precondition(expected_version, user.version)?;
        let current = one(tx, user).await?;
        let record = make(&current)?;
        let Checked {
            user_name,
            external_id,
            name,
            email,
            phone,
            profile,
        } = validate(&record)?;
        let ProvisionedUser {
            mut user,
            profile: before_profile,
            ..
        } = current;
        let before = (user.clone(), before_profile);
        let status = match (record.active, user.status) {
            (Some(true), UserStatus::Suspended | UserStatus::Pending) => UserStatus::Active,
            (Some(false), _) => UserStatus::Suspended,
            (_, s) => s,
        };
        if writer == Writer::Owner {
            let next = User {
                user_name: user_name.clone(),
                external_id: external_id.clone(),
                email: email.as_ref().map(|e| e.address.clone()),
                status,
                ..user.clone()
            };
            let beyond = beyond_self_service(&before.0, &before.1, &next, &profile, hash.is_some());
            if !beyond.is_empty() {
                return Err(self_service_refusal(&beyond));
            }
        }
        check_manager(tx, caller, user.id, profile.manager_id).await?;
        if status == UserStatus::Suspended && user.status != UserStatus::Suspended {
            super::users::keep_an_owner(tx, &user, &grants).await?;
        }
        let now = Utc::now();
        user.user_name = user_name;
        user.external_id = external_id;
        // Grandfather names are not in SCIM: they stay as they were.
        user.name = PersonName {
            grandfather: user.name.grandfather.clone(),
            ..name
        };
        user.email = email.map(|e| e.address);
        user.phone_number = phone;
        user.status = status;
        user.updated_at = now;
        let mut changed = changed_fields(&before.0, &before.1, &user, &profile);
        if hash.is_some() {
            changed.push("password");
        }
        user.version = repo::users::update(tx, &user).await?;
        repo::profiles::save(tx, user.id, &profile).await?;
        if let Some(hash) = &hash {
            repo::users::set_password_hash(tx, user.id, hash, now).await?;
        }
        let deactivated =
            status == UserStatus::Suspended && before.0.status != UserStatus::Suspended;
        if deactivated || hash.is_some() {
            repo::sessions::revoke_all(tx, user.id, None, now).await?;
        }
        let action = match (
            before.0.status == UserStatus::Suspended,
            status == UserStatus::Suspended,
        ) {
            (false, true) => "user.suspended",
            (true, false) => "user.reactivated",
            _ => "user.updated",
        };
        let event = AuditEvent::new(caller.tenant_id, Actor::from(caller), action, origin)
            .target("user", user.id)
            .details(json!({ "changed": changed }));
        audit(tx, event).await?;
        one(tx, user).await
    })
}

fn changed_fields(
    old: &User,
    old_profile: &Profile,
    new: &User,
    profile: &Profile,
) -> Vec<&'static str> {
    let mut changed = Vec::new();
    for (field, differs) in [
        ("userName", old.user_name != new.user_name),
        ("externalId", old.external_id != new.external_id),
        ("name", old.name != new.name),
        ("email", old.email != new.email),
        ("phoneNumber", old.phone_number != new.phone_number),
        ("active", old.status != new.status),
        ("profile", old_profile != profile),
    ] {
        if differs {
            changed.push(field);
        }
    }
    changed
}

pub async fn delete_user(
    app: &App,
    caller: &Caller,
    id: Uuid,
    expected_version: Option<i32>,
    origin: &Origin,
) -> Result<()> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, _) = super::users::managed(tx, caller, id).await?;
        precondition(expected_version, user.version)?;
        super::users::delete_managed(tx, caller, id, origin)
            .await
            .map(|_| ())
    })
}

// ---- groups ----

/// A group with its members when they were asked for.
#[derive(Debug, Clone)]
pub struct ProvisionedGroup {
    pub group: Group,
    /// (user id, display name); None when not loaded.
    pub members: Option<Vec<(Uuid, String)>>,
}

pub struct GroupRecord {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<Uuid>,
}

async fn with_members(
    db: &mut Db<'_>,
    groups: Vec<Group>,
    load: bool,
) -> Result<Vec<ProvisionedGroup>> {
    let mut members = if load {
        let ids: Vec<Uuid> = groups.iter().map(|g| g.id).collect();
        repo::groups::members_of(db, &ids).await?
    } else {
        HashMap::new()
    };
    Ok(groups
        .into_iter()
        .map(|group| ProvisionedGroup {
            members: load.then(|| members.remove(&group.id).unwrap_or_default()),
            group,
        })
        .collect())
}

async fn one_group(
    db: &mut Db<'_>,
    caller: &Caller,
    id: Uuid,
    load: bool,
) -> Result<ProvisionedGroup> {
    let group = repo::groups::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("Group"))?;
    with_members(db, vec![group], load)
        .await?
        .pop()
        .ok_or_else(|| Error::internal("group vanished"))
}

pub async fn get_group(
    app: &App,
    caller: &Caller,
    id: Uuid,
    load_members: bool,
) -> Result<ProvisionedGroup> {
    caller.require("group:read")?;
    let mut conn = app.db.get().await?;
    one_group(&mut conn.db(), caller, id, load_members).await
}

pub async fn list_groups(
    app: &App,
    caller: &Caller,
    query: GroupQuery<'_>,
    load_members: bool,
) -> Result<Listing<ProvisionedGroup>> {
    caller.require("group:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let mut listing = repo::groups::list(db, caller.tenant_id, &query).await?;
    let items = with_members(db, std::mem::take(&mut listing.items), load_members).await?;
    Ok(listing.with_items(items))
}

fn validate_group(record: &GroupRecord) -> Result<(String, Option<String>)> {
    let mut p = Problems::default();
    let name = p.check("displayName", validate_group_name(&record.display_name));
    let external_id = optional(&mut p, "externalId", &record.external_id, 256);
    p.into_result()?;
    Ok((name.expect("validated"), external_id))
}

/// Members must be users of the group's tenant; unknown ids are named.
async fn check_members(db: &mut Db<'_>, caller: &Caller, members: &[Uuid]) -> Result<()> {
    let found = repo::groups::existing_users(db, caller.tenant_id, members).await?;
    let missing: Vec<String> = members
        .iter()
        .filter(|m| !found.contains(m))
        .take(5)
        .map(Uuid::to_string)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(vec![FieldError::new(
            "members",
            format!("are not users of this tenant: {}", missing.join(", ")),
        )]))
    }
}

fn unique(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

pub async fn create_group(
    app: &App,
    caller: &Caller,
    record: GroupRecord,
    origin: &Origin,
) -> Result<ProvisionedGroup> {
    caller.require("group:write")?;
    let (name, external_id) = validate_group(&record)?;
    let members = unique(&record.members);
    let now = Utc::now();
    let group = Group {
        id: Uuid::now_v7(),
        tenant_id: caller.tenant_id,
        name,
        description: String::new(),
        external_id,
        version: 1,
        member_count: 0,
        created_at: now,
        updated_at: now,
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        check_members(tx, caller, &members).await?;
        repo::groups::insert(tx, &group)
            .await
            .map_err(display_name_conflict)?;
        repo::groups::add_members(tx, caller.tenant_id, group.id, &members, now).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "group.created",
            origin,
        )
        .target("group", group.id)
        .details(json!({ "name": group.name, "members": members.len() }));
        audit(tx, event).await?;
        one_group(tx, caller, group.id, true).await
    })
}

/// Groups are unique by name: in SCIM's words, by displayName.
fn display_name_conflict(e: Error) -> Error {
    match e {
        Error::Conflict {
            field: Some(f),
            message,
        } if f == "name" => Error::Conflict {
            field: Some("displayName".into()),
            message,
        },
        other => other,
    }
}

/// A change of a group: new attributes, and members added, removed or
/// replaced, applied together in one transaction.
#[derive(Debug, Default)]
pub struct GroupChange {
    pub display_name: Option<String>,
    /// Some(None) clears it.
    pub external_id: Option<Option<String>>,
    /// Replace the whole membership first.
    pub replace_members: Option<Vec<Uuid>>,
    pub add_members: Vec<Uuid>,
    pub remove_members: Vec<Uuid>,
    pub remove_all_members: bool,
}

/// Applies a change with set-based membership statements: adding or
/// removing ten thousand members is a few statements, not ten thousand.
pub async fn change_group(
    app: &App,
    caller: &Caller,
    id: Uuid,
    change: GroupChange,
    expected_version: Option<i32>,
    origin: &Origin,
    load_members: bool,
) -> Result<ProvisionedGroup> {
    caller.require("group:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let row = Locked::Group {
            tenant: caller.tenant_id,
            id,
        };
        repo::lock_for_update(tx, row).await?;
        let mut group = repo::groups::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("Group"))?;
        precondition(expected_version, group.version)?;
        let now = Utc::now();
        let mut changed = Vec::new();
        let mut p = Problems::default();
        if let Some(name) = &change.display_name {
            if let Some(name) = p.check("displayName", validate_group_name(name)) {
                group.name = name;
                changed.push("displayName");
            }
        }
        if let Some(ext) = &change.external_id {
            group.external_id = optional(&mut p, "externalId", ext, 256);
            changed.push("externalId");
        }
        p.into_result()?;
        let affected = affected_members(tx, group.id, &change).await?;
        super::access::require_membership_change(tx, caller, group.id, &affected).await?;
        let mut added = 0;
        let mut removed = 0;
        if change.remove_all_members || change.replace_members.is_some() {
            removed += repo::groups::clear_members(tx, group.id).await?;
        }
        let mut additions = change.replace_members.clone().unwrap_or_default();
        additions.extend(change.add_members.iter().copied());
        let additions = unique(&additions);
        if !additions.is_empty() {
            check_members(tx, caller, &additions).await?;
            added +=
                repo::groups::add_members(tx, caller.tenant_id, group.id, &additions, now).await?;
        }
        if !change.remove_members.is_empty() {
            removed +=
                repo::groups::remove_members(tx, group.id, &unique(&change.remove_members)).await?;
        }
        group.updated_at = now;
        if changed.is_empty() {
            repo::groups::touch(tx, group.id, now).await?;
        } else {
            repo::groups::update(tx, &group)
                .await
                .map_err(display_name_conflict)?;
        }
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "group.updated",
            origin,
        )
        .target("group", group.id)
        .details(json!({ "changed": changed, "membersAdded": added, "membersRemoved": removed }));
        audit(tx, event).await?;
        one_group(tx, caller, group.id, load_members).await
    })
}

/// The users whose membership `change` would add or end.
async fn affected_members(
    db: &mut Db<'_>,
    group_id: Uuid,
    change: &GroupChange,
) -> Result<Vec<SubjectRef>> {
    let mut affected: HashSet<Uuid> = change.add_members.iter().copied().collect();
    affected.extend(change.remove_members.iter().copied());
    if change.remove_all_members || change.replace_members.is_some() {
        let current: HashSet<Uuid> = repo::groups::members_of(db, &[group_id])
            .await?
            .remove(&group_id)
            .unwrap_or_default()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let next: HashSet<Uuid> = change
            .replace_members
            .iter()
            .flatten()
            .chain(&change.add_members)
            .copied()
            .collect();
        affected.extend(current.symmetric_difference(&next).copied());
    }
    Ok(affected.into_iter().map(SubjectRef::User).collect())
}

/// Replaces a group whole (SCIM PUT).
pub async fn replace_group(
    app: &App,
    caller: &Caller,
    id: Uuid,
    record: GroupRecord,
    expected_version: Option<i32>,
    origin: &Origin,
) -> Result<ProvisionedGroup> {
    let (name, external_id) = validate_group(&record)?;
    let change = GroupChange {
        display_name: Some(name),
        external_id: Some(external_id),
        replace_members: Some(record.members),
        ..Default::default()
    };
    change_group(app, caller, id, change, expected_version, origin, true).await
}

pub async fn delete_group(
    app: &App,
    caller: &Caller,
    id: Uuid,
    expected_version: Option<i32>,
    origin: &Origin,
) -> Result<()> {
    caller.require("group:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let row = Locked::Group {
            tenant: caller.tenant_id,
            id,
        };
        repo::lock_for_update(tx, row).await?;
        let group = repo::groups::find(tx, caller.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("Group"))?;
        precondition(expected_version, group.version)?;
        // Its members lose what it holds.
        let subject = SubjectRef::Group(group.id);
        super::access::require_manages(tx, caller, &[subject], "delete this group").await?;
        repo::groups::delete(tx, caller.tenant_id, group.id).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "group.deleted",
            origin,
        )
        .target("group", group.id)
        .details(json!({ "name": group.name, "members": group.member_count }));
        audit(tx, event).await
    })
}
