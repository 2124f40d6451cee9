//! Users: self-service (`/users/me`) and administration (`/users`,
//! docs/api/ithbat.md), lifecycle, roles, metadata and bulk creation.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::passwords::Password;
use super::{audit, App};
use crate::db::Db;
use crate::domain::access::SubjectRef;
use crate::domain::account::{
    validate_picture_url, validate_role_scope, validate_sso_channel, TokenPurpose, TENANT_SCOPE,
};
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::list::{Listing, PageRequest};
use crate::domain::permission::{BuiltinRole, Permissions};
use crate::domain::principal::Caller;
use crate::domain::role::{Assignment, Grants};
use crate::domain::session::{Origin, Session};
use crate::domain::user::{
    email_key, fold, merge_metadata, validate_name_part, validate_phone, validate_user_name,
    AccountFields, Email, PersonName, Preferences, User, UserQuery, UserStatus, MAX_METADATA_BYTES,
};
use crate::domain::{Error, FieldError, Problems, Result};
use crate::repo::{self, Locked};
use crate::transaction;

/// A user as the API shows it: the row, roles and lockout.
pub struct UserDetails {
    pub user: User,
    /// Names of the roles held on the whole tenant (what grants permissions).
    pub roles: Vec<String>,
    /// Every role held, on any scope, the one an account shows first.
    pub assignments: Vec<Assignment>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Roles and locks for many users, in two queries.
pub(crate) async fn details_of(db: &mut Db<'_>, users: Vec<User>) -> Result<Vec<UserDetails>> {
    let Some(tenant_id) = users.first().map(|u| u.tenant_id) else {
        return Ok(Vec::new());
    };
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let keys: Vec<String> = users.iter().map(User::sign_in_key).collect();
    let mut assignments = repo::roles::assignments_for_users(db, &ids).await?;
    let locks = repo::throttle::locks(db, tenant_id, &keys, Utc::now()).await?;
    Ok(users
        .into_iter()
        .map(|user| {
            let assignments = assignments.remove(&user.id).unwrap_or_default();
            let mut roles: Vec<String> = assignments
                .iter()
                .filter(|a| a.scope == TENANT_SCOPE)
                .map(|a| a.role_name.clone())
                .collect();
            roles.sort();
            UserDetails {
                roles,
                assignments,
                locked_until: locks.get(&user.sign_in_key()).copied(),
                user,
            }
        })
        .collect())
}

pub(crate) async fn details(db: &mut Db<'_>, user: User) -> Result<UserDetails> {
    details_of(db, vec![user])
        .await?
        .pop()
        .ok_or_else(|| Error::internal("user vanished"))
}

// ---- self-service ----

pub async fn me(app: &App, caller: &Caller) -> Result<UserDetails> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let (me, _) = caller.session()?;
    let user = repo::users::find(db, caller.principal.home_tenant, me)
        .await?
        .ok_or(Error::NotFound("User"))?;
    details(db, user).await
}

/// Changes to a profile; None leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProfileChanges {
    /// Administrators only.
    pub email: Option<String>,
    /// A single name, split into first and family name.
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub father_name: Option<String>,
    pub grandfather_name: Option<String>,
    pub family_name: Option<String>,
    /// Some(None) clears the number.
    pub phone_number: Option<Option<String>>,
    pub theme: Option<String>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    /// The JSON:API account attributes (docs/api/jsonapi.md); Some(None)
    /// clears.
    pub picture_url: Option<Option<String>>,
    pub sso_channel: Option<Option<String>>,
    pub organization_id: Option<Option<Uuid>>,
}

/// A settable string field: its API name, the new value if any, and where it lives.
type Slot<T> = (&'static str, Option<String>, fn(&mut T) -> &mut String);

/// Applies `changes` to a user, validating every field; returns the API
/// names of the fields that changed. Nothing is applied unless all are valid.
fn apply(user: &mut User, changes: ProfileChanges) -> Result<Vec<&'static str>> {
    let mut problems = Problems::default();
    let mut next = user.clone();
    if let Some(email) = &changes.email {
        if let Some(email) = problems.check("email", Email::parse(email)) {
            if Some(&email.key) != next.email.as_deref().map(email_key).as_ref() {
                // A new address is not verified by the old one's verification.
                next.email_verified = false;
            }
            next.email = Some(email.address);
        }
    }
    if let Some(full) = &changes.name {
        if let Some(full) = problems.check("name", validate_name_part(full, true)) {
            let (first, family) = PersonName::split_full(&full);
            next.name.first = first;
            next.name.family = family;
        }
    }
    let parts: [(Slot<PersonName>, bool); 4] = [
        (("firstName", changes.first_name, |n| &mut n.first), true),
        (
            ("fatherName", changes.father_name, |n| &mut n.father),
            false,
        ),
        (
            ("grandfatherName", changes.grandfather_name, |n| {
                &mut n.grandfather
            }),
            false,
        ),
        (("familyName", changes.family_name, |n| &mut n.family), true),
    ];
    for ((field, value, slot), required) in parts {
        if let Some(value) = value {
            if let Some(v) = problems.check(field, validate_name_part(&value, required)) {
                *slot(&mut next.name) = v;
            }
        }
    }
    match changes.phone_number {
        Some(Some(p)) => next.phone_number = problems.check("phoneNumber", validate_phone(&p)),
        Some(None) => next.phone_number = None,
        None => {}
    }
    let prefs: [Slot<Preferences>; 3] = [
        ("preferences.theme", changes.theme, |p| &mut p.theme),
        ("preferences.language", changes.language, |p| {
            &mut p.language
        }),
        ("preferences.timezone", changes.timezone, |p| {
            &mut p.timezone
        }),
    ];
    for (field, value, slot) in prefs {
        if let Some(value) = value {
            let checked = if value.trim().is_empty()
                || value.chars().count() > 64
                || value.chars().any(char::is_control)
            {
                Err("must be 1 to 64 printable characters".to_string())
            } else {
                Ok(value.trim().to_string())
            };
            if let Some(v) = problems.check(field, checked) {
                *slot(&mut next.preferences) = v;
            }
        }
    }
    match changes.picture_url {
        Some(Some(u)) => {
            next.account.picture_url = problems.check("pictureUrl", validate_picture_url(&u))
        }
        Some(None) => next.account.picture_url = None,
        None => {}
    }
    match changes.sso_channel {
        Some(Some(c)) => {
            next.account.sso_channel = problems.check("ssoChannel", validate_sso_channel(&c))
        }
        Some(None) => next.account.sso_channel = None,
        None => {}
    }
    if let Some(org) = changes.organization_id {
        next.account.organization_id = org;
    }
    problems.into_result()?;
    let mut changed = Vec::new();
    if next.account.picture_url != user.account.picture_url {
        changed.push("pictureUrl");
    }
    if next.account.sso_channel != user.account.sso_channel {
        changed.push("ssoChannel");
    }
    if next.account.organization_id != user.account.organization_id {
        changed.push("organization");
    }
    if next.email != user.email {
        changed.push("email");
    }
    if next.name != user.name {
        changed.push("name");
    }
    if next.phone_number != user.phone_number {
        changed.push("phoneNumber");
    }
    if next.preferences != user.preferences {
        changed.push("preferences");
    }
    *user = next;
    Ok(changed)
}

pub async fn update_me(
    app: &App,
    caller: &Caller,
    changes: ProfileChanges,
    origin: &Origin,
) -> Result<UserDetails> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let tenant_id = caller.principal.home_tenant;
    transaction!(db, |tx| {
        let (me, _) = caller.session()?;
        let row = Locked::User {
            tenant: tenant_id,
            id: me,
        };
        repo::lock_for_update(tx, row).await?;
        let mut user = repo::users::find(tx, tenant_id, me)
            .await?
            .ok_or(Error::NotFound("User"))?;
        save_changes(tx, caller, tenant_id, &mut user, changes, origin).await?;
        details(tx, user).await
    })
}

/// Applies and stores profile changes, auditing what changed.
pub(crate) async fn save_changes(
    db: &mut Db<'_>,
    caller: &Caller,
    tenant_id: Uuid,
    user: &mut User,
    changes: ProfileChanges,
    origin: &Origin,
) -> Result<()> {
    if let Some(Some(org)) = changes.organization_id {
        organization_of_tenant(db, tenant_id, org).await?;
    }
    let changed = apply(user, changes)?;
    if changed.is_empty() {
        return Ok(());
    }
    if changed.contains(&"email") {
        // Links mailed to the old address must not act on the new one.
        for purpose in [TokenPurpose::EmailVerification, TokenPurpose::PasswordReset] {
            repo::account_tokens::discard(db, user.id, purpose).await?;
        }
    }
    user.updated_at = Utc::now();
    repo::users::update(db, user).await?;
    let event = AuditEvent::new(tenant_id, Actor::from(caller), "user.updated", origin)
        .target("user", user.id)
        .details(json!({ "changed": changed }));
    audit(db, event).await
}

// ---- administration ----

/// A user of the caller's tenant that the caller may manage: the caller
/// holds everything the user holds (`access::require_manages`), so
/// platform administrators are managed by their peers only and a
/// provisioning token manages no one who holds more than it. Locked for
/// the rest of the caller's transaction, which may write it back.
pub(crate) async fn managed(db: &mut Db<'_>, caller: &Caller, id: Uuid) -> Result<(User, Grants)> {
    let row = Locked::User {
        tenant: caller.tenant_id,
        id,
    };
    repo::lock_for_update(db, row).await?;
    let user = repo::users::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    let subject = SubjectRef::User(user.id);
    super::access::require_manages(db, caller, &[subject], "manage this user").await?;
    let grants = repo::roles::grants_for_user(db, user.id).await?;
    Ok((user, grants))
}

fn user_target(id: Uuid) -> (&'static str, String) {
    ("user", id.to_string())
}

fn refuse_self(caller: &Caller, user: &User, what: &str) -> Result<()> {
    if caller.is_user(user.id) {
        return Err(Error::Conflict {
            field: None,
            message: format!("You cannot {what} yourself"),
        });
    }
    Ok(())
}

/// A tenant keeps at least one active owner: refuses to take the last one
/// away (by suspension, deletion or role removal). The owner role is
/// locked, so two owners taken away at once are counted one after the
/// other.
pub(crate) async fn keep_an_owner(db: &mut Db<'_>, user: &User, grants: &Grants) -> Result<()> {
    if !grants
        .role_names
        .iter()
        .any(|r| r == BuiltinRole::Owner.key())
    {
        return Ok(());
    }
    let owner = repo::roles::find_builtin(db, user.tenant_id, BuiltinRole::Owner).await?;
    let row = Locked::Role {
        tenant: user.tenant_id,
        id: owner,
    };
    repo::lock_for_update(db, row).await?;
    if repo::roles::active_holders_except(db, owner, user.id).await? == 0 {
        return Err(Error::Conflict {
            field: None,
            message: "This is the tenant's last active owner".into(),
        });
    }
    Ok(())
}

pub async fn list(
    app: &App,
    caller: &Caller,
    query: UserQuery<'_>,
) -> Result<Listing<UserDetails>> {
    caller.require("user:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    if let Some(role) = query.role_id {
        // Another tenant's role filters nothing in: report it as unknown.
        repo::roles::find(db, caller.tenant_id, role)
            .await?
            .ok_or_else(|| Error::invalid("roleId", "is not a role of this tenant"))?;
    }
    let mut listing = repo::users::list(db, caller.tenant_id, &query).await?;
    let items = details_of(db, std::mem::take(&mut listing.items)).await?;
    Ok(listing.with_items(items))
}

pub async fn get(app: &App, caller: &Caller, id: Uuid) -> Result<UserDetails> {
    caller.require("user:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = repo::users::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    details(db, user).await
}

/// Users of the caller's tenant by id (for compound documents): any with
/// user:read, otherwise only the caller themselves.
pub async fn get_many(app: &App, caller: &Caller, ids: &[Uuid]) -> Result<Vec<UserDetails>> {
    let visible: Vec<Uuid> = if caller.has("user:read") {
        ids.to_vec()
    } else {
        ids.iter()
            .copied()
            .filter(|id| caller.is_user(*id))
            .collect()
    };
    if visible.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let users = repo::users::find_many(db, caller.tenant_id, &visible).await?;
    details_of(db, users).await
}

/// A user to create: the native create body (with a single `name` and
/// `phoneNumber`), and the JSON:API account attributes.
#[derive(Debug, Default, Clone)]
pub struct NewUser {
    /// Required by the native API; JSON:API and SCIM may leave it out when
    /// they name a userName (RFC 7643 4.1 requires only userName).
    pub email: Option<String>,
    /// The login name; the email when not given.
    pub user_name: Option<String>,
    pub first_name: Option<String>,
    pub father_name: Option<String>,
    pub grandfather_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub password: Option<Password>,
    pub skip_email_verification: bool,
    pub organization_id: Option<Uuid>,
    pub picture_url: Option<String>,
    pub sso_channel: Option<String>,
    /// The role to hold, by name, and where (default: `member` on the
    /// whole tenant).
    pub role: Option<RoleChoice>,
    /// Without a password, invite the owner to choose one: the account is
    /// pending until they join through the mailed link.
    pub invite: bool,
    /// Create it suspended (JSON:API `enabled: false`); no invitation is sent.
    pub suspended: bool,
    /// Where the invitation link leads once accepted.
    pub redirect_url: Option<String>,
    /// The name is not known yet (an invitation by email alone): no name
    /// part is required.
    pub name_optional: bool,
}

/// A role by name, on a scope.
#[derive(Debug, Clone)]
pub struct RoleChoice {
    pub name: String,
    pub scope: String,
}

/// Validates a new user into a User row (and the password to hash), or the
/// field errors.
pub(crate) fn validate_new(
    tenant: &crate::domain::tenant::Tenant,
    input: &NewUser,
    now: DateTime<Utc>,
) -> std::result::Result<(User, Option<Password>), Vec<FieldError>> {
    let mut problems = Problems::default();
    let email = match &input.email {
        Some(e) => problems.check("email", Email::parse(e)),
        None if input.user_name.is_none() => {
            problems.add("email", "is required (or a user name)");
            None
        }
        None => None,
    };
    let user_name = input
        .user_name
        .as_deref()
        .and_then(|n| problems.check("userName", validate_user_name(n)));
    let (first, family) = match (&input.first_name, &input.family_name, &input.name) {
        (None, None, None) if input.name_optional => Default::default(),
        (None, None, Some(full)) => match validate_name_part(full, true) {
            Ok(full) => PersonName::split_full(&full),
            Err(e) => {
                problems.add("name", e);
                Default::default()
            }
        },
        (first, family, _) => {
            let mut required = |field: &str, v: &Option<String>| match v {
                Some(v) => problems
                    .check(field, validate_name_part(v, true))
                    .unwrap_or_default(),
                None => {
                    problems.add(field, "is required");
                    String::new()
                }
            };
            (required("firstName", first), required("familyName", family))
        }
    };
    let mut optional = |field: &str, v: &Option<String>| {
        v.as_deref()
            .and_then(|v| problems.check(field, validate_name_part(v, false)))
            .unwrap_or_default()
    };
    let father = optional("fatherName", &input.father_name);
    let grandfather = optional("grandfatherName", &input.grandfather_name);
    let phone = input
        .phone_number
        .as_deref()
        .and_then(|p| problems.check("phoneNumber", validate_phone(p)));
    let picture_url = input
        .picture_url
        .as_deref()
        .and_then(|u| problems.check("pictureUrl", validate_picture_url(u)));
    let sso_channel = input
        .sso_channel
        .as_deref()
        .and_then(|c| problems.check("ssoChannel", validate_sso_channel(c)));
    if let Some(role) = &input.role {
        problems.check("roleScope", validate_role_scope(&role.scope));
    }
    if let Some(p) = &input.password {
        problems.check(
            "password",
            tenant.settings.password_policy.check(p.expose()),
        );
    }
    if let Err(Error::Validation(fields)) = problems.into_result() {
        return Err(fields);
    }
    let invited = input.invite && input.password.is_none();
    let email = email.map(|e| e.address);
    let user = User {
        id: Uuid::now_v7(),
        tenant_id: tenant.id,
        user_name: user_name
            .or_else(|| email.clone())
            .expect("an email or a user name, validated"),
        external_id: None,
        version: 1,
        email,
        name: PersonName {
            first,
            father,
            grandfather,
            family,
        },
        phone_number: phone,
        status: if input.suspended {
            UserStatus::Suspended
        } else if invited {
            UserStatus::Pending
        } else {
            UserStatus::Active
        },
        // Accepting an invitation proves the address, as verifying does.
        email_verified: input.skip_email_verification,
        mfa_enabled: false,
        is_platform_admin: false,
        preferences: Preferences::default(),
        metadata: Default::default(),
        external_ids: Default::default(),
        last_login_at: None,
        password_changed_at: input.password.as_ref().map(|_| now),
        created_at: now,
        updated_at: now,
        account: AccountFields {
            organization_id: input.organization_id,
            picture_url,
            sso_channel,
            joined_at: (!invited).then_some(now),
            invitation_expires_at: invited.then(|| now + TokenPurpose::Invitation.lifetime()),
        },
    };
    Ok((user, input.password.clone()))
}

async fn caller_tenant(db: &mut Db<'_>, caller: &Caller) -> Result<crate::domain::tenant::Tenant> {
    repo::tenants::find(db, caller.tenant_id)
        .await?
        .ok_or(Error::TenantNotFound)
}

/// Creates one user, with the `member` role unless another is chosen.
/// Without a password the account has none (as if given a random one never
/// disclosed): it signs in after a reset sets one; or, when `invite` is
/// set, it is pending and its owner is mailed an invitation to join.
pub async fn create(
    app: &App,
    caller: &Caller,
    input: NewUser,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let tenant = {
        let mut conn = app.db.get().await?;
        caller_tenant(&mut conn.db(), caller).await?
    };
    create_in(app, &tenant, input, Creator::Caller(caller), origin).await
}

/// Who creates a user: a caller (whose permissions bound the role they
/// may give), or the user themselves signing up.
pub(crate) enum Creator<'a> {
    Caller(&'a Caller),
    SelfService,
}

/// Validates, hashes and inserts a user of `tenant`, with its role and, for
/// pending accounts, its invitation (mailed once committed).
pub(crate) async fn create_in(
    app: &App,
    tenant: &crate::domain::tenant::Tenant,
    input: NewUser,
    creator: Creator<'_>,
    origin: &Origin,
) -> Result<UserDetails> {
    let now = Utc::now();
    let (user, password) = validate_new(tenant, &input, now).map_err(Error::Validation)?;
    if user.status == UserStatus::Pending {
        // The invitation is mailed: an account without email cannot get it.
        user.mail_address()?;
    }
    let hash = match &password {
        Some(p) => Some(app.passwords.hash(p).await?),
        None => None,
    };
    let actor = match creator {
        Creator::Caller(c) => Actor::from(c),
        Creator::SelfService => Actor::Anonymous,
    };
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let (details, mailing) = transaction!(db, |tx| {
        if let Some(org) = user.account.organization_id {
            organization_of_tenant(tx, tenant.id, org).await?;
        }
        repo::users::insert(tx, &user, hash.as_deref()).await?;
        match (&input.role, &creator) {
            (Some(choice), Creator::Caller(caller)) => {
                hold_role(tx, caller, &user, choice, now).await?;
            }
            _ => {
                let member = repo::roles::find_builtin(tx, tenant.id, BuiltinRole::Member).await?;
                repo::roles::assign(tx, user.id, member, now).await?;
            }
        }
        audit(tx, created_event(actor.clone(), &user, origin)).await?;
        // Mail to send once committed: an invitation, or the link that
        // verifies the address of an account that must verify it.
        let mailing = match user.status {
            UserStatus::Pending => {
                let redirect = input.redirect_url.as_deref();
                let token =
                    super::invitations::issue(tx, actor.clone(), &user, redirect, origin).await?;
                Some((TokenPurpose::Invitation, token))
            }
            UserStatus::Active
                if user.email.is_some()
                    && !user.email_verified
                    && tenant.settings.require_email_verification =>
            {
                let purpose = TokenPurpose::EmailVerification;
                let token = super::invitations::store_token(tx, &user, purpose, None).await?;
                Some((purpose, token))
            }
            _ => None,
        };
        Ok((details(tx, user).await?, mailing))
    })?;
    match mailing {
        Some((TokenPurpose::Invitation, token)) => {
            super::invitations::mail(app, tenant, &details.user, &token)
        }
        Some((_, token)) => super::recovery::mail_verification(app, tenant, &details.user, &token),
        None => {}
    }
    Ok(details)
}

/// The organization, which must be the tenant's (a relationship names it).
pub(crate) async fn organization_of_tenant(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<crate::domain::account::Organization> {
    repo::organizations::find(db, tenant_id, id)
        .await?
        .ok_or(Error::NotFound("Organization"))
}

/// Makes `choice` the user's only role. Any role but `member` on the whole
/// tenant needs role:write, and no one grants a role holding permissions
/// they lack.
pub(crate) async fn hold_role(
    tx: &mut Db<'_>,
    caller: &Caller,
    user: &User,
    choice: &RoleChoice,
    now: DateTime<Utc>,
) -> Result<crate::domain::role::Role> {
    let scope = validate_role_scope(&choice.scope).map_err(|e| Error::invalid("roleScope", e))?;
    let role = repo::roles::find_by_name(tx, caller.tenant_id, &choice.name)
        .await?
        .ok_or_else(|| Error::invalid("roleName", "is not a role of this tenant"))?;
    if role.builtin != Some(BuiltinRole::Member) || scope != TENANT_SCOPE {
        caller.require("role:write")?;
    }
    caller.require_holds(
        &role.grants(&scope),
        user_target(user.id),
        "assign this role",
    )?;
    repo::roles::replace_all(tx, user.id, role.id, &scope, now).await?;
    Ok(role)
}

fn created_event(actor: Actor, user: &User, origin: &Origin) -> AuditEvent {
    AuditEvent::new(user.tenant_id, actor, "user.created", origin)
        .target("user", user.id)
        .details(json!({ "email": user.email, "emailVerified": user.email_verified }))
}

/// The outcome of a bulk creation (`POST /api/v1/users/bulk`).
pub struct BulkOutcome {
    pub created: Vec<UserDetails>,
    /// (index in the request, email as sent, error)
    pub errors: Vec<(usize, String, Error)>,
}

/// A bulk row's email as sent, for its error report.
fn sent(row: &NewUser) -> String {
    row.email.clone().unwrap_or_default()
}

/// Most users per bulk request (docs/api/ithbat.md, Users).
pub const MAX_BULK: usize = 1000;

/// Creates up to 1000 users: every row is validated and either created or
/// reported with its index. Duplicates within the batch and against
/// existing users are reported per row. Passwords are hashed in parallel
/// on the blocking pool; all successful rows are written in one
/// transaction, in batched statements, so a crash leaves none half-made.
pub async fn bulk_create(
    app: &App,
    caller: &Caller,
    rows: Vec<NewUser>,
    origin: &Origin,
) -> Result<BulkOutcome> {
    caller.require("user:write")?;
    if rows.len() > MAX_BULK {
        return Err(Error::invalid(
            "users",
            format!("must hold 1 to {MAX_BULK} users"),
        ));
    }
    let tenant = {
        let mut conn = app.db.get().await?;
        caller_tenant(&mut conn.db(), caller).await?
    };
    let now = Utc::now();
    let mut errors: Vec<(usize, String, Error)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut valid: Vec<(usize, User, Option<Password>)> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        match validate_new(&tenant, row, now) {
            Err(fields) => errors.push((index, sent(row), Error::Validation(fields))),
            Ok((user, password)) => {
                if seen.insert(fold(user.label())) {
                    valid.push((index, user, password));
                } else {
                    errors.push((index, sent(row), Error::DuplicateEmail));
                }
            }
        }
    }
    let hashes = futures_util::future::join_all(valid.iter().map(|(_, _, password)| async move {
        match password {
            Some(p) => app.passwords.hash(p).await.map(Some),
            None => Ok(None),
        }
    }))
    .await;
    let mut prepared: Vec<(usize, User, Option<String>)> = Vec::with_capacity(valid.len());
    for ((index, user, _), hash) in valid.into_iter().zip(hashes) {
        prepared.push((index, user, hash?));
    }

    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let inserted: HashSet<Uuid> = transaction!(db, |tx| {
        let rows: Vec<(User, Option<String>)> = prepared
            .iter()
            .map(|(_, u, h)| (u.clone(), h.clone()))
            .collect();
        let inserted = repo::users::insert_many(tx, &rows).await?;
        let ids: Vec<Uuid> = prepared
            .iter()
            .map(|(_, u, _)| u.id)
            .filter(|id| inserted.contains(id))
            .collect();
        let member = repo::roles::find_builtin(tx, tenant.id, BuiltinRole::Member).await?;
        repo::roles::assign_many(tx, &ids, member, now).await?;
        let events: Vec<AuditEvent> = prepared
            .iter()
            .filter(|(_, u, _)| inserted.contains(&u.id))
            .map(|(_, u, _)| {
                created_event(Actor::from(caller), u, origin)
                    .details(json!({ "email": u.email, "bulk": true }))
            })
            .collect();
        repo::audit::append_many(tx, &events, now).await?;
        Ok(inserted)
    })?;
    let mut created = Vec::new();
    for (index, user, _) in prepared {
        if inserted.contains(&user.id) {
            created.push(user);
        } else {
            errors.push((index, sent(&rows[index]), Error::DuplicateEmail));
        }
    }
    errors.sort_by_key(|(index, _, _)| *index);
    let created = details_of(db, created).await?;
    Ok(BulkOutcome { created, errors })
}

pub async fn update(
    app: &App,
    caller: &Caller,
    id: Uuid,
    changes: ProfileChanges,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (mut user, _) = managed(tx, caller, id).await?;
        save_changes(tx, caller, caller.tenant_id, &mut user, changes, origin).await?;
        details(tx, user).await
    })
}

/// Deletes a user for good; their sessions go with them.
pub async fn delete(
    app: &App,
    caller: &Caller,
    id: Uuid,
    origin: &Origin,
) -> Result<DateTime<Utc>> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| delete_managed(tx, caller, id, origin).await)
}

/// The deletion itself, inside the caller's transaction.
pub(crate) async fn delete_managed(
    tx: &mut Db<'_>,
    caller: &Caller,
    id: Uuid,
    origin: &Origin,
) -> Result<DateTime<Utc>> {
    let (user, grants) = managed(tx, caller, id).await?;
    refuse_self(caller, &user, "delete")?;
    keep_an_owner(tx, &user, &grants).await?;
    repo::users::delete(tx, caller.tenant_id, user.id).await?;
    repo::throttle::clear(tx, caller.tenant_id, &user.sign_in_key()).await?;
    let event = AuditEvent::new(
        caller.tenant_id,
        Actor::from(caller),
        "user.deleted",
        origin,
    )
    .target("user", user.id)
    .details(json!({ "email": user.email }));
    audit(tx, event).await?;
    Ok(Utc::now())
}

/// Suspends (sign-in refused, every session and refresh token revoked at
/// once) or reactivates a user.
pub async fn set_status(
    app: &App,
    caller: &Caller,
    id: Uuid,
    status: UserStatus,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (mut user, grants) = managed(tx, caller, id).await?;
        change_status(tx, caller, &mut user, &grants, status, origin).await?;
        details(tx, user).await
    })
}

/// Suspends or reactivates a managed user inside the caller's transaction.
/// Reactivating an invited account that never joined makes it pending
/// again, not active.
pub(crate) async fn change_status(
    tx: &mut Db<'_>,
    caller: &Caller,
    user: &mut User,
    grants: &Grants,
    status: UserStatus,
    origin: &Origin,
) -> Result<()> {
    let now = Utc::now();
    let status = match status {
        UserStatus::Active if user.account.joined_at.is_none() => UserStatus::Pending,
        other => other,
    };
    let action = match status {
        UserStatus::Suspended => {
            refuse_self(caller, user, "suspend")?;
            keep_an_owner(tx, user, grants).await?;
            "user.suspended"
        }
        _ => "user.reactivated",
    };
    if user.status != status {
        user.status = status;
        user.updated_at = now;
        user.version = repo::users::update(tx, user).await?;
        let revoked = match status {
            UserStatus::Suspended => repo::sessions::revoke_all(tx, user.id, None, now).await?,
            _ => 0,
        };
        let event = AuditEvent::new(caller.tenant_id, Actor::from(caller), action, origin)
            .target("user", user.id)
            .details(json!({ "sessionsRevoked": revoked }));
        audit(tx, event).await?;
    }
    Ok(())
}

/// Clears a lockout.
pub async fn unlock(app: &App, caller: &Caller, id: Uuid, origin: &Origin) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, _) = managed(tx, caller, id).await?;
        repo::throttle::clear(tx, caller.tenant_id, &user.sign_in_key()).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "user.unlocked",
            origin,
        )
        .target("user", user.id);
        audit(tx, event).await?;
        details(tx, user).await
    })
}

pub async fn sessions(
    app: &App,
    caller: &Caller,
    id: Uuid,
    page: PageRequest,
) -> Result<Listing<Session>> {
    caller.require("user:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = repo::users::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    repo::sessions::list_active(db, user.id, Utc::now(), page).await
}

/// Revokes every session of a user; returns how many.
pub async fn revoke_sessions(
    app: &App,
    caller: &Caller,
    id: Uuid,
    origin: &Origin,
) -> Result<usize> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, _) = managed(tx, caller, id).await?;
        let n = repo::sessions::revoke_all(tx, user.id, None, Utc::now()).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "auth.session_revoked",
            origin,
        )
        .target("user", user.id)
        .details(json!({ "scope": "all_sessions", "revoked": n }));
        audit(tx, event).await?;
        Ok(n)
    })
}

/// The union of the permissions of a user's roles.
pub async fn permissions(app: &App, caller: &Caller, id: Uuid) -> Result<Permissions> {
    caller.require("user:read")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = repo::users::find(db, caller.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    // What its roles, policies and groups grant on the whole tenant.
    let access = super::access::load(db, caller.tenant_id, SubjectRef::User(user.id)).await?;
    Ok(access.permissions())
}

/// Assigns a role (`role:write`). The caller must hold every
/// permission of the role.
pub async fn assign_role(
    app: &App,
    caller: &Caller,
    id: Uuid,
    role_id: Uuid,
    origin: &Origin,
) -> Result<()> {
    caller.require("role:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, _) = managed(tx, caller, id).await?;
        let role = repo::roles::find(tx, caller.tenant_id, role_id)
            .await?
            .ok_or_else(|| Error::invalid("roleId", "is not a role of this tenant"))?;
        caller.require_holds(
            &role.grants(TENANT_SCOPE),
            user_target(user.id),
            "assign this role",
        )?;
        if repo::roles::assign(tx, user.id, role.id, Utc::now()).await? {
            let event = AuditEvent::new(
                caller.tenant_id,
                Actor::from(caller),
                "role.assigned",
                origin,
            )
            .target("user", user.id)
            .details(json!({ "roleId": role.id, "role": role.name }));
            audit(tx, event).await?;
        }
        Ok(())
    })
}

pub async fn remove_role(
    app: &App,
    caller: &Caller,
    id: Uuid,
    role_id: Uuid,
    origin: &Origin,
) -> Result<()> {
    caller.require("role:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (user, grants) = managed(tx, caller, id).await?;
        let role = repo::roles::find(tx, caller.tenant_id, role_id)
            .await?
            .ok_or(Error::NotFound("Role"))?;
        if role.builtin == Some(BuiltinRole::Owner) {
            keep_an_owner(tx, &user, &grants).await?;
        }
        if !repo::roles::unassign(tx, user.id, role.id).await? {
            return Err(Error::NotFound("Role assignment"));
        }
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "role.revoked",
            origin,
        )
        .target("user", user.id)
        .details(json!({ "roleId": role.id, "role": role.name }));
        audit(tx, event).await
    })
}

/// Deep-merges `patch` into a user's metadata (a null removes a key).
pub async fn merge_user_metadata(
    app: &App,
    caller: &Caller,
    id: Uuid,
    patch: serde_json::Map<String, serde_json::Value>,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    transaction!(db, |tx| {
        let (mut user, _) = managed(tx, caller, id).await?;
        let keys: Vec<String> = patch.keys().cloned().collect();
        merge_metadata(&mut user.metadata, patch);
        let size = serde_json::to_vec(&user.metadata)
            .map_err(Error::internal)?
            .len();
        if size > MAX_METADATA_BYTES {
            return Err(Error::invalid(
                "metadata",
                format!("would be {size} bytes; metadata is limited to {MAX_METADATA_BYTES} bytes"),
            ));
        }
        user.updated_at = Utc::now();
        repo::users::update(tx, &user).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "user.metadata_updated",
            origin,
        )
        .target("user", user.id)
        .details(json!({ "keys": keys }));
        audit(tx, event).await?;
        details(tx, user).await
    })
}

/// A new random password for the user with this email, returned this once
/// (`ithbat users reset-password`, for a lost administrator password).
/// Unlocks the account and ends its sessions, as a reset does.
pub async fn reset_password(
    app: &App,
    caller: &Caller,
    email: &str,
    origin: &Origin,
) -> Result<(User, String)> {
    caller.require("user:write")?;
    let key = email_key(email);
    let found = {
        let mut conn = app.db.get().await?;
        let db = &mut conn.db();
        let (user, _) = repo::users::find_for_sign_in(db, caller.tenant_id, &key)
            .await?
            .ok_or(Error::NotFound("User"))?;
        // Refused before any hashing is spent on it.
        let subject = SubjectRef::User(user.id);
        super::access::require_manages(db, caller, &[subject], "manage this user").await?;
        user.id
    };
    let password = super::passwords::generate_password();
    let hash = app.passwords.hash(&Password::new(password.clone())).await?;
    let now = Utc::now();
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let user = transaction!(db, |tx| {
        let (user, _) = managed(tx, caller, found).await?;
        repo::users::set_password_hash(tx, user.id, &hash, now).await?;
        repo::throttle::clear(tx, caller.tenant_id, &user.sign_in_key()).await?;
        let revoked = repo::sessions::revoke_all(tx, user.id, None, now).await?;
        let event = AuditEvent::new(
            caller.tenant_id,
            Actor::from(caller),
            "user.password_reset",
            origin,
        )
        .target("user", user.id)
        .details(json!({ "sessionsRevoked": revoked }));
        audit(tx, event).await?;
        Ok(user)
    })?;
    Ok((user, password))
}
