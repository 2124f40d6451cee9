//! The SCIM attributes of users beyond the users row: user_attributes,
//! user_emails and user_phone_numbers.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema::{user_attributes as ua, user_emails, user_phone_numbers};
use crate::db::{Db, Json, Uid};
use crate::domain::user::{fold, MultiValue, Profile};
use crate::domain::Result;
use crate::{insert_all, with_conn};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = ua)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct AttributesRow {
    user_id: Uid,
    display_name: Option<String>,
    nick_name: Option<String>,
    title: Option<String>,
    user_type: Option<String>,
    preferred_language: Option<String>,
    locale: Option<String>,
    timezone: Option<String>,
    profile_url: Option<String>,
    employee_number: Option<String>,
    cost_center: Option<String>,
    organization: Option<String>,
    division: Option<String>,
    department: Option<String>,
    manager_id: Option<Uid>,
    addresses: Option<Json>,
    other_attributes: Option<Json>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = user_emails)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct EmailRow {
    user_id: Uid,
    position: i32,
    value: String,
    value_key: String,
    kind: Option<String>,
    is_primary: bool,
    display: Option<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = user_phone_numbers)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct PhoneRow {
    user_id: Uid,
    position: i32,
    value: String,
    kind: Option<String>,
    is_primary: bool,
    display: Option<String>,
}

/// The profiles of many users, in three queries. Users without any SCIM
/// attributes get an empty profile.
pub async fn load(db: &mut Db<'_>, user_ids: &[Uuid]) -> Result<HashMap<Uuid, Profile>> {
    let ids: Vec<Uid> = user_ids.iter().copied().map(Uid).collect();
    let attributes: Vec<AttributesRow> = with_conn!(db, |c| ua::table
        .filter(ua::user_id.eq_any(ids.clone()))
        .select(AttributesRow::as_select())
        .load(c)
        .await)?;
    let emails: Vec<EmailRow> = with_conn!(db, |c| user_emails::table
        .filter(user_emails::user_id.eq_any(ids.clone()))
        .order((user_emails::user_id, user_emails::position))
        .select(EmailRow::as_select())
        .load(c)
        .await)?;
    let phones: Vec<PhoneRow> = with_conn!(db, |c| user_phone_numbers::table
        .filter(user_phone_numbers::user_id.eq_any(ids.clone()))
        .order((user_phone_numbers::user_id, user_phone_numbers::position))
        .select(PhoneRow::as_select())
        .load(c)
        .await)?;
    let mut profiles: HashMap<Uuid, Profile> = user_ids
        .iter()
        .map(|id| (*id, Profile::default()))
        .collect();
    for a in attributes {
        if let Some(p) = profiles.get_mut(&a.user_id.0) {
            *p = Profile {
                display_name: a.display_name,
                nick_name: a.nick_name,
                title: a.title,
                user_type: a.user_type,
                preferred_language: a.preferred_language,
                locale: a.locale,
                timezone: a.timezone,
                profile_url: a.profile_url,
                employee_number: a.employee_number,
                cost_center: a.cost_center,
                organization: a.organization,
                division: a.division,
                department: a.department,
                manager_id: a.manager_id.map(|u| u.0),
                addresses: a.addresses.map(|j| j.0),
                other: a.other_attributes.map(|j| j.0),
                emails: Vec::new(),
                phone_numbers: Vec::new(),
            };
        }
    }
    for e in emails {
        if let Some(p) = profiles.get_mut(&e.user_id.0) {
            p.emails.push(MultiValue {
                value: e.value,
                kind: e.kind,
                primary: e.is_primary,
                display: e.display,
            });
        }
    }
    for ph in phones {
        if let Some(p) = profiles.get_mut(&ph.user_id.0) {
            p.phone_numbers.push(MultiValue {
                value: ph.value,
                kind: ph.kind,
                primary: ph.is_primary,
                display: ph.display,
            });
        }
    }
    Ok(profiles)
}

/// Replaces a user's profile. Call inside a transaction.
pub async fn save(db: &mut Db<'_>, user_id: Uuid, p: &Profile) -> Result<()> {
    let uid = Uid(user_id);
    with_conn!(db, |c| diesel::delete(ua::table.find(uid)).execute(c).await)?;
    with_conn!(db, |c| diesel::delete(
        user_emails::table.filter(user_emails::user_id.eq(uid))
    )
    .execute(c)
    .await)?;
    with_conn!(db, |c| diesel::delete(
        user_phone_numbers::table.filter(user_phone_numbers::user_id.eq(uid))
    )
    .execute(c)
    .await)?;
    let attributes = AttributesRow {
        user_id: uid,
        display_name: p.display_name.clone(),
        nick_name: p.nick_name.clone(),
        title: p.title.clone(),
        user_type: p.user_type.clone(),
        preferred_language: p.preferred_language.clone(),
        locale: p.locale.clone(),
        timezone: p.timezone.clone(),
        profile_url: p.profile_url.clone(),
        employee_number: p.employee_number.clone(),
        cost_center: p.cost_center.clone(),
        organization: p.organization.clone(),
        division: p.division.clone(),
        department: p.department.clone(),
        manager_id: p.manager_id.map(Uid),
        addresses: p.addresses.clone().map(Json),
        other_attributes: p.other.clone().map(Json),
    };
    let empty = Profile {
        emails: p.emails.clone(),
        phone_numbers: p.phone_numbers.clone(),
        ..Profile::default()
    };
    if *p != empty {
        with_conn!(db, |c| diesel::insert_into(ua::table)
            .values(&attributes)
            .execute(c)
            .await)?;
    }
    let emails: Vec<EmailRow> = p
        .emails
        .iter()
        .enumerate()
        .map(|(i, e)| EmailRow {
            user_id: uid,
            position: i as i32,
            value: e.value.clone(),
            value_key: fold(&e.value),
            kind: e.kind.clone(),
            is_primary: e.primary,
            display: e.display.clone(),
        })
        .collect();
    if !emails.is_empty() {
        insert_all!(db, user_emails::table, &emails)?;
    }
    let phones: Vec<PhoneRow> = p
        .phone_numbers
        .iter()
        .enumerate()
        .map(|(i, e)| PhoneRow {
            user_id: uid,
            position: i as i32,
            value: e.value.clone(),
            kind: e.kind.clone(),
            is_primary: e.primary,
            display: e.display.clone(),
        })
        .collect();
    if !phones.is_empty() {
        insert_all!(db, user_phone_numbers::table, &phones)?;
    }
    Ok(())
}

fn primary_email(user_id: Uuid, email: &str) -> EmailRow {
    EmailRow {
        user_id: Uid(user_id),
        position: 0,
        value: email.to_string(),
        value_key: fold(email),
        kind: None,
        is_primary: true,
        display: None,
    }
}

fn primary_phone(user_id: Uuid, phone: &str) -> PhoneRow {
    PhoneRow {
        user_id: Uid(user_id),
        position: 0,
        value: phone.to_string(),
        kind: None,
        is_primary: true,
        display: None,
    }
}

/// Keeps the primary email and phone rows in step with the users row,
/// whose `email` and `phone_number` hold the primary values: a user made
/// or changed natively appears in SCIM `emails` and `phoneNumbers` too.
pub async fn sync_contact(db: &mut Db<'_>, user: &crate::domain::user::User) -> Result<()> {
    let uid = Uid(user.id);
    match &user.email {
        Some(email) => {
            with_conn!(db, |c| diesel::update(
                user_emails::table
                    .filter(user_emails::user_id.eq(uid))
                    .filter(user_emails::is_primary.eq(true))
                    .filter(user_emails::value.ne(email))
            )
            .set((
                user_emails::value.eq(email),
                user_emails::value_key.eq(fold(email))
            ))
            .execute(c)
            .await)?;
            let emails: i64 = with_conn!(db, |c| user_emails::table
                .filter(user_emails::user_id.eq(uid))
                .count()
                .get_result(c)
                .await)?;
            if emails == 0 {
                let row = primary_email(user.id, email);
                with_conn!(db, |c| diesel::insert_into(user_emails::table)
                    .values(&row)
                    .execute(c)
                    .await)?;
            }
        }
        // No email: the user has no `emails` at all (the email is the
        // primary, else the first, of them).
        None => {
            with_conn!(db, |c| diesel::delete(
                user_emails::table.filter(user_emails::user_id.eq(uid))
            )
            .execute(c)
            .await)?;
        }
    }
    match &user.phone_number {
        Some(phone) => {
            with_conn!(db, |c| diesel::update(
                user_phone_numbers::table
                    .filter(user_phone_numbers::user_id.eq(uid))
                    .filter(user_phone_numbers::is_primary.eq(true))
                    .filter(user_phone_numbers::value.ne(phone))
            )
            .set(user_phone_numbers::value.eq(phone))
            .execute(c)
            .await)?;
            let phones: i64 = with_conn!(db, |c| user_phone_numbers::table
                .filter(user_phone_numbers::user_id.eq(uid))
                .count()
                .get_result(c)
                .await)?;
            if phones == 0 {
                let row = primary_phone(user.id, phone);
                with_conn!(db, |c| diesel::insert_into(user_phone_numbers::table)
                    .values(&row)
                    .execute(c)
                    .await)?;
            }
        }
        None => {
            with_conn!(db, |c| diesel::delete(
                user_phone_numbers::table
                    .filter(user_phone_numbers::user_id.eq(uid))
                    .filter(user_phone_numbers::is_primary.eq(true))
            )
            .execute(c)
            .await)?;
        }
    }
    Ok(())
}

/// The contact rows of new users (bulk creation), in batched statements.
pub async fn insert_contacts(db: &mut Db<'_>, users: &[&crate::domain::user::User]) -> Result<()> {
    let emails: Vec<EmailRow> = users
        .iter()
        .filter_map(|u| u.email.as_deref().map(|e| primary_email(u.id, e)))
        .collect();
    for chunk in emails.chunks(4000) {
        insert_all!(db, user_emails::table, chunk)?;
    }
    let phones: Vec<PhoneRow> = users
        .iter()
        .filter_map(|u| u.phone_number.as_deref().map(|p| primary_phone(u.id, p)))
        .collect();
    for chunk in phones.chunks(4000) {
        insert_all!(db, user_phone_numbers::table, chunk)?;
    }
    Ok(())
}
