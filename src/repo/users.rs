use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::corrupt;
use crate::db::schema::users;
use crate::db::{is_unique_violation, Db, Json, Ts, Uid};
use crate::domain::user::{PersonName, User, UserStatus};
use crate::domain::{Error, Result};
use crate::with_conn;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct UserRow {
    id: Uid,
    tenant_id: Uid,
    email: String,
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
        })
    }
}

fn preferences_json(u: &User) -> Result<Json> {
    serde_json::to_value(&u.preferences)
        .map(Json)
        .map_err(Error::internal)
}

/// Inserts a user; `password_hash` is the argon2 PHC string, if any.
pub async fn insert(
    db: &mut Db<'_>,
    u: &User,
    email_key: &str,
    password_hash: Option<&str>,
) -> Result<()> {
    let values = (
        users::id.eq(Uid(u.id)),
        users::tenant_id.eq(Uid(u.tenant_id)),
        users::email.eq(&u.email),
        users::email_key.eq(email_key),
        users::first_name.eq(&u.name.first),
        users::father_name.eq(&u.name.father),
        users::grandfather_name.eq(&u.name.grandfather),
        users::family_name.eq(&u.name.family),
        users::phone_number.eq(&u.phone_number),
        users::status.eq(u.status.as_str()),
        users::email_verified.eq(u.email_verified),
        users::password_hash.eq(password_hash),
        users::password_changed_at.eq(u.password_changed_at.map(Ts)),
        users::mfa_enabled.eq(u.mfa_enabled),
        users::is_platform_admin.eq(u.is_platform_admin),
        users::preferences.eq(preferences_json(u)?),
        users::metadata.eq(Json(serde_json::Value::Object(u.metadata.clone()))),
        users::external_ids.eq(Json(serde_json::Value::Object(u.external_ids.clone()))),
        users::last_login_at.eq(u.last_login_at.map(Ts)),
        users::created_at.eq(Ts(u.created_at)),
        users::updated_at.eq(Ts(u.updated_at)),
    );
    with_conn!(db, |c| diesel::insert_into(users::table)
        .values(values)
        .execute(c)
        .await)
    .map_err(|e| {
        if is_unique_violation(&e, "users_tenant_email_key") {
            Error::DuplicateEmail
        } else {
            e.into()
        }
    })?;
    Ok(())
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

/// Writes the profile fields a user may change about themselves.
pub async fn update_profile(db: &mut Db<'_>, u: &User) -> Result<()> {
    let changes = (
        users::first_name.eq(&u.name.first),
        users::father_name.eq(&u.name.father),
        users::grandfather_name.eq(&u.name.grandfather),
        users::family_name.eq(&u.name.family),
        users::phone_number.eq(&u.phone_number),
        users::preferences.eq(preferences_json(u)?),
        users::updated_at.eq(Ts(u.updated_at)),
    );
    with_conn!(db, |c| diesel::update(users::table.find(Uid(u.id)))
        .set(changes)
        .execute(c)
        .await)?;
    Ok(())
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
