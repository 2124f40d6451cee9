//! SSO providers, linked identities and round trips to providers.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::corrupt;
use crate::db::schema::{sso_logins, sso_providers, user_identities};
use crate::db::{is_unique_violation, Db, Json, Ts, Uid};
use crate::domain::sso::{
    Identity, ProviderKind, ProviderProperties, Purpose, SsoLogin, SsoProvider,
};
use crate::domain::{Error, Result};
use crate::with_conn;

#[derive(Queryable, Selectable)]
#[diesel(table_name = sso_providers)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ProviderRow {
    id: i64,
    tenant_id: Uid,
    kind: String,
    scheme: String,
    display_name: String,
    enabled: bool,
    protocol: String,
    properties: Json,
    client_secret_sealed: Option<String>,
    icon_type: Option<String>,
    created_at: Ts,
    updated_at: Ts,
}

impl TryFrom<ProviderRow> for SsoProvider {
    type Error = Error;

    fn try_from(r: ProviderRow) -> Result<SsoProvider> {
        let properties: ProviderProperties =
            serde_json::from_value(r.properties.0).map_err(|e| corrupt("SSO properties", e))?;
        Ok(SsoProvider {
            id: r.id,
            tenant_id: r.tenant_id.0,
            kind: ProviderKind::parse(&r.kind).ok_or_else(|| corrupt("SSO kind", &r.kind))?,
            scheme: r.scheme,
            display_name: r.display_name,
            enabled: r.enabled,
            protocol: r.protocol,
            properties,
            client_secret_sealed: r.client_secret_sealed,
            has_icon: r.icon_type.is_some(),
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

fn duplicate_scheme(e: diesel::result::Error) -> Error {
    if is_unique_violation(&e, "sso_providers_scheme") {
        Error::conflict(
            "scheme",
            "This tenant already has a provider with this scheme",
        )
    } else {
        e.into()
    }
}

fn properties_json(p: &ProviderProperties) -> Result<Json> {
    serde_json::to_value(p)
        .map(Json)
        .map_err(|e| Error::internal(format!("SSO properties: {e}")))
}

/// Records who configured a provider last (`user-<uuid>`, ...): it signs
/// in only accounts they could manage.
pub async fn set_configured_by(db: &mut Db<'_>, id: i64, subject: &str) -> Result<()> {
    with_conn!(db, |c| diesel::update(sso_providers::table.find(id))
        .set(sso_providers::configured_by.eq(subject))
        .execute(c)
        .await)?;
    Ok(())
}

/// Who configured a provider last, if recorded.
pub async fn configured_by(db: &mut Db<'_>, id: i64) -> Result<Option<String>> {
    Ok(with_conn!(db, |c| sso_providers::table
        .find(id)
        .select(sso_providers::configured_by)
        .first::<Option<String>>(c)
        .await
        .optional())?
    .flatten())
}

/// Stores a new provider (its `id` is ignored) and returns its id.
pub async fn insert(db: &mut Db<'_>, p: &SsoProvider) -> Result<i64> {
    let values = (
        sso_providers::tenant_id.eq(Uid(p.tenant_id)),
        sso_providers::kind.eq(p.kind.as_str()),
        sso_providers::scheme.eq(&p.scheme),
        sso_providers::display_name.eq(&p.display_name),
        sso_providers::enabled.eq(p.enabled),
        sso_providers::protocol.eq(&p.protocol),
        sso_providers::properties.eq(properties_json(&p.properties)?),
        sso_providers::client_secret_sealed.eq(&p.client_secret_sealed),
        sso_providers::created_at.eq(Ts(p.created_at)),
        sso_providers::updated_at.eq(Ts(p.updated_at)),
    );
    with_conn!(db, |c| diesel::insert_into(sso_providers::table)
        .values(values)
        .returning(sso_providers::id)
        .get_result::<i64>(c)
        .await)
    .map_err(duplicate_scheme)
}

/// Writes every changeable field of `p`.
pub async fn update(db: &mut Db<'_>, p: &SsoProvider) -> Result<()> {
    let values = (
        sso_providers::scheme.eq(&p.scheme),
        sso_providers::display_name.eq(&p.display_name),
        sso_providers::enabled.eq(p.enabled),
        sso_providers::protocol.eq(&p.protocol),
        sso_providers::properties.eq(properties_json(&p.properties)?),
        sso_providers::client_secret_sealed.eq(&p.client_secret_sealed),
        sso_providers::updated_at.eq(Ts(p.updated_at)),
    );
    with_conn!(db, |c| diesel::update(
        sso_providers::table
            .filter(sso_providers::id.eq(p.id))
            .filter(sso_providers::tenant_id.eq(Uid(p.tenant_id)))
    )
    .set(values)
    .execute(c)
    .await)
    .map_err(duplicate_scheme)?;
    Ok(())
}

/// A provider of the tenant, by id.
pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, id: i64) -> Result<Option<SsoProvider>> {
    let row = with_conn!(db, |c| sso_providers::table
        .filter(sso_providers::id.eq(id))
        .filter(sso_providers::tenant_id.eq(Uid(tenant_id)))
        .select(ProviderRow::as_select())
        .first(c)
        .await
        .optional())?;
    row.map(SsoProvider::try_from).transpose()
}

/// A provider of the tenant, by scheme.
pub async fn find_by_scheme(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    scheme: &str,
) -> Result<Option<SsoProvider>> {
    let row = with_conn!(db, |c| sso_providers::table
        .filter(sso_providers::scheme.eq(scheme))
        .filter(sso_providers::tenant_id.eq(Uid(tenant_id)))
        .select(ProviderRow::as_select())
        .first(c)
        .await
        .optional())?;
    row.map(SsoProvider::try_from).transpose()
}

/// Every provider of the tenant, oldest first.
pub async fn list(db: &mut Db<'_>, tenant_id: Uuid) -> Result<Vec<SsoProvider>> {
    let rows: Vec<ProviderRow> = with_conn!(db, |c| sso_providers::table
        .filter(sso_providers::tenant_id.eq(Uid(tenant_id)))
        .order(sso_providers::id.asc())
        .select(ProviderRow::as_select())
        .load(c)
        .await)?;
    rows.into_iter().map(SsoProvider::try_from).collect()
}

pub async fn delete(db: &mut Db<'_>, tenant_id: Uuid, id: i64) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        sso_providers::table
            .filter(sso_providers::id.eq(id))
            .filter(sso_providers::tenant_id.eq(Uid(tenant_id)))
    )
    .execute(c)
    .await)?;
    Ok(n > 0)
}

pub async fn set_icon(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    id: i64,
    icon: &[u8],
    content_type: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::update(
        sso_providers::table
            .filter(sso_providers::id.eq(id))
            .filter(sso_providers::tenant_id.eq(Uid(tenant_id)))
    )
    .set((
        sso_providers::icon.eq(icon),
        sso_providers::icon_type.eq(content_type),
        sso_providers::updated_at.eq(Ts(now)),
    ))
    .execute(c)
    .await)?;
    Ok(n > 0)
}

/// A provider's icon and its media type.
pub async fn icon(db: &mut Db<'_>, tenant_id: Uuid, id: i64) -> Result<Option<(Vec<u8>, String)>> {
    let row: Option<(Option<Vec<u8>>, Option<String>)> = with_conn!(db, |c| sso_providers::table
        .filter(sso_providers::id.eq(id))
        .filter(sso_providers::tenant_id.eq(Uid(tenant_id)))
        .select((sso_providers::icon, sso_providers::icon_type))
        .first(c)
        .await
        .optional())?;
    Ok(match row {
        Some((Some(bytes), Some(kind))) => Some((bytes, kind)),
        _ => None,
    })
}

// ---- linked identities

#[derive(Queryable)]
struct IdentityRow {
    id: Uid,
    user_id: Uid,
    provider_id: i64,
    subject: String,
    email: Option<String>,
    created_at: Ts,
    scheme: String,
}

impl From<IdentityRow> for Identity {
    fn from(r: IdentityRow) -> Identity {
        Identity {
            id: r.id.0,
            user_id: r.user_id.0,
            provider_id: r.provider_id,
            provider: r.scheme,
            subject: r.subject,
            email: r.email,
            created_at: r.created_at.0,
        }
    }
}

/// Links an external account to a user. The same account linked to
/// another user, or a second account of the provider for this user, is a
/// conflict.
pub async fn link(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    user_id: Uuid,
    provider_id: i64,
    subject: &str,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let values = (
        user_identities::id.eq(Uid(id)),
        user_identities::tenant_id.eq(Uid(tenant_id)),
        user_identities::user_id.eq(Uid(user_id)),
        user_identities::provider_id.eq(provider_id),
        user_identities::subject.eq(subject),
        user_identities::email.eq(email),
        user_identities::created_at.eq(Ts(now)),
        user_identities::last_login_at.eq(Some(Ts(now))),
    );
    with_conn!(db, |c| diesel::insert_into(user_identities::table)
        .values(values)
        .execute(c)
        .await)
    .map_err(|e| {
        if is_unique_violation(&e, "user_identities_subject") {
            Error::conflict(
                "provider",
                "This account of the provider is already linked to another user",
            )
        } else if is_unique_violation(&e, "user_identities_user") {
            Error::conflict(
                "provider",
                "An account of this provider is already linked; unlink it first",
            )
        } else {
            e.into()
        }
    })?;
    Ok(id)
}

/// The user a provider's subject is linked to.
pub async fn linked_user(db: &mut Db<'_>, provider_id: i64, subject: &str) -> Result<Option<Uuid>> {
    let id: Option<Uid> = with_conn!(db, |c| user_identities::table
        .filter(user_identities::provider_id.eq(provider_id))
        .filter(user_identities::subject.eq(subject))
        .select(user_identities::user_id)
        .first(c)
        .await
        .optional())?;
    Ok(id.map(|u| u.0))
}

pub async fn touch_identity(
    db: &mut Db<'_>,
    provider_id: i64,
    subject: &str,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    with_conn!(db, |c| diesel::update(
        user_identities::table
            .filter(user_identities::provider_id.eq(provider_id))
            .filter(user_identities::subject.eq(subject))
    )
    .set((
        user_identities::last_login_at.eq(Some(Ts(now))),
        user_identities::email.eq(email),
    ))
    .execute(c)
    .await)?;
    Ok(())
}

/// A user's linked accounts, oldest first.
pub async fn identities(db: &mut Db<'_>, tenant_id: Uuid, user_id: Uuid) -> Result<Vec<Identity>> {
    let rows: Vec<IdentityRow> = with_conn!(db, |c| user_identities::table
        .inner_join(sso_providers::table)
        .filter(user_identities::user_id.eq(Uid(user_id)))
        .filter(user_identities::tenant_id.eq(Uid(tenant_id)))
        .order(user_identities::created_at.asc())
        .select((
            user_identities::id,
            user_identities::user_id,
            user_identities::provider_id,
            user_identities::subject,
            user_identities::email,
            user_identities::created_at,
            sso_providers::scheme,
        ))
        .load(c)
        .await)?;
    Ok(rows.into_iter().map(Identity::from).collect())
}

pub async fn unlink(db: &mut Db<'_>, user_id: Uuid, identity_id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        user_identities::table
            .filter(user_identities::id.eq(Uid(identity_id)))
            .filter(user_identities::user_id.eq(Uid(user_id)))
    )
    .execute(c)
    .await)?;
    Ok(n > 0)
}

// ---- round trips to providers

pub async fn insert_login(db: &mut Db<'_>, state_hash: &str, l: &SsoLogin) -> Result<()> {
    let values = (
        sso_logins::state_hash.eq(state_hash),
        sso_logins::tenant_id.eq(Uid(l.tenant_id)),
        sso_logins::provider_id.eq(l.provider_id),
        sso_logins::purpose.eq(l.purpose.as_str()),
        sso_logins::authorization_request_id.eq(l.authorization_request_id.map(Uid)),
        sso_logins::user_id.eq(l.user_id.map(Uid)),
        sso_logins::nonce.eq(&l.nonce),
        sso_logins::code_verifier_sealed.eq(&l.code_verifier_sealed),
        sso_logins::browser_hash.eq(&l.browser_hash),
        sso_logins::redirect_uri.eq(&l.redirect_uri),
        sso_logins::created_at.eq(Ts(l.created_at)),
        sso_logins::expires_at.eq(Ts(l.expires_at)),
    );
    with_conn!(db, |c| diesel::insert_into(sso_logins::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

type LoginRow = (
    Uid,
    i64,
    String,
    Option<Uid>,
    Option<Uid>,
    String,
    String,
    String,
    String,
    Ts,
    Ts,
);

/// Takes a round trip by its state, once: a second callback with the
/// same state finds nothing.
pub async fn claim_login(
    db: &mut Db<'_>,
    state_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<SsoLogin>> {
    let row: Option<LoginRow> = with_conn!(db, |c| diesel::update(
        sso_logins::table
            .filter(sso_logins::state_hash.eq(state_hash))
            .filter(sso_logins::used_at.is_null())
            .filter(sso_logins::expires_at.gt(Ts(now)))
    )
    .set(sso_logins::used_at.eq(Some(Ts(now))))
    .returning((
        sso_logins::tenant_id,
        sso_logins::provider_id,
        sso_logins::purpose,
        sso_logins::authorization_request_id,
        sso_logins::user_id,
        sso_logins::nonce,
        sso_logins::code_verifier_sealed,
        sso_logins::browser_hash,
        sso_logins::redirect_uri,
        sso_logins::created_at,
        sso_logins::expires_at,
    ))
    .get_result(c)
    .await
    .optional())?;
    row.map(|r| {
        Ok(SsoLogin {
            tenant_id: r.0 .0,
            provider_id: r.1,
            purpose: Purpose::parse(&r.2).ok_or_else(|| corrupt("SSO purpose", &r.2))?,
            authorization_request_id: r.3.map(|u| u.0),
            user_id: r.4.map(|u| u.0),
            nonce: r.5,
            code_verifier_sealed: r.6,
            browser_hash: r.7,
            redirect_uri: r.8,
            created_at: r.9 .0,
            expires_at: r.10 .0,
        })
    })
    .transpose()
}

/// Forgets round trips that ended or were never finished.
pub async fn purge_logins(db: &mut Db<'_>, now: DateTime<Utc>) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        sso_logins::table.filter(sso_logins::expires_at.le(Ts(now)))
    )
    .execute(c)
    .await)?;
    Ok(())
}
