use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::corrupt;
use super::filter::{self, text_param, Dialect};
use super::list::{self, Narrow, SortKey, Sorts, Total};
use crate::db::schema::{list_totals, user_roles, users};
use crate::db::{is_unique_violation, Db, Json, Ts, Uid};
use crate::domain::list::{Listing, SortOrder};
use crate::domain::user::{
    email_key, fold, search_key, AccountFields, PersonName, User, UserQuery, UserSort, UserStatus,
};
use crate::domain::{Error, Result};
use crate::with_conn;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct UserRow {
    id: Uid,
    tenant_id: Uid,
    email: Option<String>,
    first_name: String,
    father_name: String,
    grandfather_name: String,
    family_name: String,
    phone_number: Option<String>,
    status: String,
    email_verified: bool,
    mfa_enabled: bool,
    is_platform_admin: bool,
    preferences: Json,
    metadata: Json,
    external_ids: Json,
    last_login_at: Option<Ts>,
    password_changed_at: Option<Ts>,
    created_at: Ts,
    updated_at: Ts,
    user_name: String,
    external_id: Option<String>,
    version: i32,
    organization_id: Option<Uid>,
    picture_url: Option<String>,
    sso_channel: Option<String>,
    joined_at: Option<Ts>,
    invitation_expires_at: Option<Ts>,
}

fn json_object(
    what: &str,
    v: serde_json::Value,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    match v {
        serde_json::Value::Object(m) => Ok(m),
        other => Err(corrupt(what, format!("expected an object, found {other}"))),
    }
}

impl UserRow {
    fn into_domain(self) -> Result<User> {
        Ok(User {
            id: self.id.0,
            tenant_id: self.tenant_id.0,
            user_name: self.user_name,
            external_id: self.external_id,
            version: self.version,
            email: self.email,
            name: PersonName {
                first: self.first_name,
                father: self.father_name,
                grandfather: self.grandfather_name,
                family: self.family_name,
            },
            phone_number: self.phone_number,
            status: UserStatus::parse(&self.status).map_err(|e| corrupt("user status", e))?,
            email_verified: self.email_verified,
            mfa_enabled: self.mfa_enabled,
            is_platform_admin: self.is_platform_admin,
            preferences: serde_json::from_value(self.preferences.0)
                .map_err(|e| corrupt("preferences", e))?,
            metadata: json_object("metadata", self.metadata.0)?,
            external_ids: json_object("externalIds", self.external_ids.0)?,
            last_login_at: self.last_login_at.map(|t| t.0),
            password_changed_at: self.password_changed_at.map(|t| t.0),
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            account: AccountFields {
                organization_id: self.organization_id.map(|u| u.0),
                picture_url: self.picture_url,
                sso_channel: self.sso_channel,
                joined_at: self.joined_at.map(|t| t.0),
                invitation_expires_at: self.invitation_expires_at.map(|t| t.0),
            },
        })
    }
}

/// The row as written; keys are derived here, in one place.
#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow {
    id: Uid,
    tenant_id: Uid,
    email: Option<String>,
    email_key: Option<String>,
    search_key: String,
    first_name: String,
    father_name: String,
    grandfather_name: String,
    family_name: String,
    phone_number: Option<String>,
    status: String,
    email_verified: bool,
    password_hash: Option<String>,
    password_changed_at: Option<Ts>,
    mfa_enabled: bool,
    is_platform_admin: bool,
    preferences: Json,
    metadata: Json,
    external_ids: Json,
    last_login_at: Option<Ts>,
    created_at: Ts,
    updated_at: Ts,
    user_name: String,
    user_name_key: String,
    external_id: Option<String>,
    version: i32,
    organization_id: Option<Uid>,
    name_key: String,
    picture_url: Option<String>,
    sso_channel: Option<String>,
    joined_at: Option<Ts>,
    invitation_expires_at: Option<Ts>,
}

impl NewUserRow {
    fn new(u: &User, password_hash: Option<&str>) -> Result<NewUserRow> {
        Ok(NewUserRow {
            id: Uid(u.id),
            tenant_id: Uid(u.tenant_id),
            email: u.email.clone(),
            email_key: u.email.as_deref().map(email_key),
            search_key: search_key(&u.name, u.email.as_deref()),
            first_name: u.name.first.clone(),
            father_name: u.name.father.clone(),
            grandfather_name: u.name.grandfather.clone(),
            family_name: u.name.family.clone(),
            phone_number: u.phone_number.clone(),
            status: u.status.as_str().to_string(),
            email_verified: u.email_verified,
            password_hash: password_hash.map(str::to_string),
            password_changed_at: u.password_changed_at.map(Ts),
            mfa_enabled: u.mfa_enabled,
            is_platform_admin: u.is_platform_admin,
            preferences: serde_json::to_value(&u.preferences)
                .map(Json)
                .map_err(Error::internal)?,
            metadata: Json(serde_json::Value::Object(u.metadata.clone())),
            external_ids: Json(serde_json::Value::Object(u.external_ids.clone())),
            last_login_at: u.last_login_at.map(Ts),
            created_at: Ts(u.created_at),
            updated_at: Ts(u.updated_at),
            user_name: u.user_name.clone(),
            user_name_key: fold(&u.user_name),
            external_id: u.external_id.clone(),
            version: u.version,
            organization_id: u.account.organization_id.map(Uid),
            name_key: fold(&u.name.full()),
            picture_url: u.account.picture_url.clone(),
            sso_channel: u.account.sso_channel.clone(),
            joined_at: u.account.joined_at.map(Ts),
            invitation_expires_at: u.account.invitation_expires_at.map(Ts),
        })
    }
}

/// Maps unique violations on email or userName. SQLite names one violated
/// index even when both are: when userName is the email, as it is for
/// users created natively, the taken email is what matters.
fn duplicate(u: &User) -> impl Fn(diesel::result::Error) -> Error + '_ {
    move |e| {
        let user_name_taken = is_unique_violation(&e, "users_tenant_user_name_key");
        if is_unique_violation(&e, "users_tenant_email_key")
            || (user_name_taken && u.email.as_deref().map(email_key) == Some(fold(&u.user_name)))
        {
            Error::DuplicateEmail
        } else if user_name_taken {
            Error::conflict("userName", "A user with this userName already exists")
        } else {
            e.into()
        }
    }
}

/// Inserts a user; `password_hash` is the argon2 PHC string, if any.
pub async fn insert(db: &mut Db<'_>, u: &User, password_hash: Option<&str>) -> Result<()> {
    let row = NewUserRow::new(u, password_hash)?;
    with_conn!(db, |c| diesel::insert_into(users::table)
        .values(&row)
        .execute(c)
        .await)
    .map_err(duplicate(u))?;
    super::profiles::sync_contact(db, u).await
}

/// Inserts many users at once, skipping those whose email or userName is
/// already taken in the tenant (by an existing user, or a concurrent
/// insert). Returns the ids inserted. One statement per 2000 users on
/// PostgreSQL; call inside a transaction.
pub async fn insert_many(
    db: &mut Db<'_>,
    rows: &[(User, Option<String>)],
) -> Result<HashSet<Uuid>> {
    let new_rows: Vec<NewUserRow> = rows
        .iter()
        .map(|(u, hash)| NewUserRow::new(u, hash.as_deref()))
        .collect::<Result<_>>()?;
    let inserted: Vec<Uid> = match db {
        Db::Pg(c) => {
            let mut ids = Vec::with_capacity(rows.len());
            // PostgreSQL takes at most 65535 bind parameters per statement.
            for chunk in new_rows.chunks(2000) {
                let mut batch: Vec<Uid> = diesel::insert_into(users::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .returning(users::id)
                    .get_results(&mut **c)
                    .await?;
                ids.append(&mut batch);
            }
            ids
        }
        Db::Sqlite(c, _) => {
            let mut ids = Vec::with_capacity(rows.len());
            for row in &new_rows {
                let id: Option<Uid> = diesel::insert_into(users::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .returning(users::id)
                    .get_result(&mut **c)
                    .await
                    .optional()?;
                ids.extend(id);
            }
            ids
        }
    };
    let inserted: HashSet<Uuid> = inserted.into_iter().map(|u| u.0).collect();
    let new: Vec<&User> = rows
        .iter()
        .map(|(u, _)| u)
        .filter(|u| inserted.contains(&u.id))
        .collect();
    super::profiles::insert_contacts(db, &new).await?;
    Ok(inserted)
}

pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<Option<User>> {
    let row = with_conn!(db, |c| users::table
        .filter(users::id.eq(Uid(id)))
        .filter(users::tenant_id.eq(Uid(tenant_id)))
        .select(UserRow::as_select())
        .first(c)
        .await
        .optional())?;
    row.map(UserRow::into_domain).transpose()
}

/// A user by id whatever its tenant: for platform administrators, who act
/// on tenants other than their own.
pub async fn find_any_tenant(db: &mut Db<'_>, id: Uuid) -> Result<Option<User>> {
    let row = with_conn!(db, |c| users::table
        .filter(users::id.eq(Uid(id)))
        .select(UserRow::as_select())
        .first(c)
        .await
        .optional())?;
    row.map(UserRow::into_domain).transpose()
}

pub async fn find_many(db: &mut Db<'_>, tenant_id: Uuid, ids: &[Uuid]) -> Result<Vec<User>> {
    let ids: Vec<Uid> = ids.iter().copied().map(Uid).collect();
    let rows: Vec<UserRow> = with_conn!(db, |c| users::table
        .filter(users::tenant_id.eq(Uid(tenant_id)))
        .filter(users::id.eq_any(ids))
        .select(UserRow::as_select())
        .load(c)
        .await)?;
    rows.into_iter().map(UserRow::into_domain).collect()
}

/// The user with this email key and their password hash, for sign-in.
pub async fn find_for_login(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    email_key: &str,
) -> Result<Option<(User, Option<String>)>> {
    let row = with_conn!(db, |c| users::table
        .filter(users::tenant_id.eq(Uid(tenant_id)))
        .filter(users::email_key.eq(email_key))
        .select((UserRow::as_select(), users::password_hash))
        .first::<(UserRow, Option<String>)>(c)
        .await
        .optional())?;
    row.map(|(u, hash)| Ok((u.into_domain()?, hash)))
        .transpose()
}

/// The account a typed sign-in identifier names, and its password hash:
/// the user whose email key, else whose userName key, is `key` (both
/// `email_key` of what was typed). One query whichever it turns out to be,
/// so the lookup takes the same time for either and for none.
pub async fn find_for_sign_in(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    key: &str,
) -> Result<Option<(User, Option<String>)>> {
    let rows = with_conn!(db, |c| users::table
        .filter(users::tenant_id.eq(Uid(tenant_id)))
        .filter(users::email_key.eq(key).or(users::user_name_key.eq(key)))
        .select((UserRow::as_select(), users::password_hash))
        .limit(2)
        .load::<(UserRow, Option<String>)>(c)
        .await)?;
    let mut found = Vec::with_capacity(rows.len());
    for (row, hash) in rows {
        found.push((row.into_domain()?, hash));
    }
    // An email names its account before a userName that happens to equal
    // another account's address.
    let by_email = found
        .iter()
        .position(|(u, _)| u.email.as_deref().map(email_key).as_deref() == Some(key));
    Ok(match by_email {
        Some(i) => Some(found.swap_remove(i)),
        None => found.pop(),
    })
}

/// A user's password hash (None: no password).
pub async fn password_hash(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<Option<String>> {
    let hash: Option<Option<String>> = with_conn!(db, |c| users::table
        .filter(users::id.eq(Uid(id)))
        .filter(users::tenant_id.eq(Uid(tenant_id)))
        .select(users::password_hash)
        .first(c)
        .await
        .optional())?;
    Ok(hash.flatten())
}

/// Writes every mutable field of `u` (not the password) and bumps its
/// version; returns the new version.
pub async fn update(db: &mut Db<'_>, u: &User) -> Result<i32> {
    let identity = (
        users::user_name.eq(&u.user_name),
        users::user_name_key.eq(fold(&u.user_name)),
        users::external_id.eq(&u.external_id),
        users::version.eq(users::version + 1),
    );
    let changes = (
        users::email.eq(&u.email),
        users::email_key.eq(u.email.as_deref().map(email_key)),
        users::search_key.eq(search_key(&u.name, u.email.as_deref())),
        users::first_name.eq(&u.name.first),
        users::father_name.eq(&u.name.father),
        users::grandfather_name.eq(&u.name.grandfather),
        users::family_name.eq(&u.name.family),
        users::phone_number.eq(&u.phone_number),
        users::status.eq(u.status.as_str()),
        users::email_verified.eq(u.email_verified),
        users::preferences.eq(serde_json::to_value(&u.preferences)
            .map(Json)
            .map_err(Error::internal)?),
        users::metadata.eq(Json(serde_json::Value::Object(u.metadata.clone()))),
        users::external_ids.eq(Json(serde_json::Value::Object(u.external_ids.clone()))),
        users::updated_at.eq(Ts(u.updated_at)),
    );
    let a = &u.account;
    let account = (
        users::organization_id.eq(a.organization_id.map(Uid)),
        users::name_key.eq(fold(&u.name.full())),
        users::picture_url.eq(&a.picture_url),
        users::sso_channel.eq(&a.sso_channel),
        users::joined_at.eq(a.joined_at.map(Ts)),
        users::invitation_expires_at.eq(a.invitation_expires_at.map(Ts)),
    );
    let version: i32 = with_conn!(db, |c| diesel::update(users::table.find(Uid(u.id)))
        .set((changes, identity, account))
        .returning(users::version)
        .get_result(c)
        .await)
    .map_err(duplicate(u))?;
    super::profiles::sync_contact(db, u).await?;
    Ok(version)
}

pub async fn delete(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        users::table
            .filter(users::id.eq(Uid(id)))
            .filter(users::tenant_id.eq(Uid(tenant_id)))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

pub async fn record_login(db: &mut Db<'_>, id: Uuid, at: DateTime<Utc>) -> Result<()> {
    with_conn!(db, |c| diesel::update(users::table.find(Uid(id)))
        .set(users::last_login_at.eq(Ts(at)))
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn set_password_hash(
    db: &mut Db<'_>,
    id: Uuid,
    hash: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    with_conn!(db, |c| diesel::update(users::table.find(Uid(id)))
        .set((
            users::password_hash.eq(hash),
            users::password_changed_at.eq(Ts(at)),
            users::updated_at.eq(Ts(at)),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn count_platform_admins(db: &mut Db<'_>, tenant_id: Uuid) -> Result<i64> {
    Ok(with_conn!(db, |c| users::table
        .filter(users::tenant_id.eq(Uid(tenant_id)))
        .filter(users::is_platform_admin.eq(true))
        .count()
        .get_result(c)
        .await)?)
}

/// The tenant of the platform administrators (of the first one, should
/// they be spread over several).
pub async fn platform_tenant(db: &mut Db<'_>) -> Result<Option<Uuid>> {
    let found: Option<Uid> = with_conn!(db, |c| users::table
        .filter(users::is_platform_admin.eq(true))
        .order((users::created_at.asc(), users::id.asc()))
        .select(users::tenant_id)
        .first(c)
        .await
        .optional())?;
    Ok(found.map(|t| t.0))
}

/// Absent values sort last either way, on both backends.
impl SortKey for UserSort {
    type Table = users::table;

    fn order<DB: Dialect>(self, s: Sorts<Self::Table, DB>, o: SortOrder) -> Sorts<Self::Table, DB> {
        match self {
            UserSort::CreatedAt => s.by(users::created_at, o),
            UserSort::UpdatedAt => s.by(users::updated_at, o),
            UserSort::LastLoginAt => s.nulls_last(users::last_login_at, o),
            UserSort::UserName => s.by(users::user_name_key, o),
            UserSort::ExternalId => s.by(users::external_id, o),
            UserSort::Email => s.nulls_last(users::email_key, o),
            UserSort::FirstName => s.by(users::first_name, o),
            UserSort::FamilyName => s.by(users::family_name, o),
            UserSort::Status => s.by(users::status, o),
            UserSort::Name => s.by(users::name_key, o),
            // false < true: ascending puts disabled accounts first.
            UserSort::Enabled => s.by(users::status.ne(text_param("suspended")), o),
            UserSort::SsoChannel => s.nulls_last(users::sso_channel, o),
            UserSort::JoinedAt => s.nulls_last(users::joined_at, o),
            UserSort::InvitationExpiresAt => s.nulls_last(users::invitation_expires_at, o),
        }
    }
}

/// One page of a tenant's users and the total, filtered and sorted in the
/// database.
pub async fn list(db: &mut Db<'_>, tenant_id: Uuid, q: &UserQuery<'_>) -> Result<Listing<User>> {
    let search = q.search.as_deref().map(fold);
    let listing = with_conn!(db, |c| {
        let filtered = || -> Result<_> {
            let holders = |role| {
                user_roles::table
                    .filter(user_roles::role_id.eq(Uid(role)))
                    .select(user_roles::user_id)
            };
            Ok(users::table
                .filter(users::tenant_id.eq(Uid(tenant_id)))
                .into_boxed()
                .narrow(
                    search
                        .as_deref()
                        .map(|term| filter::search_users(users::search_key, "search_key", term)),
                )
                .narrow(q.status.map(|s| users::status.eq(s.as_str())))
                .narrow(q.role_id.map(|role| users::id.eq_any(holders(role))))
                .narrow(filter::optional::<users::table, _>(q.filter)?))
        };
        let sorts = match q.page.seek {
            Some(seek) => Sorts::seek(users::created_at, users::id, seek),
            None => Sorts::default().keys(&q.sort, (UserSort::CreatedAt, SortOrder::Asc)),
        };
        let unfiltered =
            search.is_none() && q.status.is_none() && q.role_id.is_none() && q.filter.is_none();
        let total = match (q.skip_count, unfiltered) {
            (true, _) => Total::Skip,
            (false, true) => Total::maintained(
                list_totals::table
                    .find(Uid(tenant_id))
                    .select(list_totals::users)
                    .first(c)
                    .await
                    .optional()?,
            ),
            (false, false) => Total::Count,
        };
        let rows = list::by_id(users::id, UserRow::as_select());
        list::page(c, filtered, sorts, rows, q.page, total).await
    })?;
    listing.try_map(UserRow::into_domain)
}
