//! OAuth clients and their secrets (stored as argon2id hashes).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::list::{self, Narrow, Sorts, Total};
use super::{corrupt, like_contains};
use crate::db::schema::{oauth_client_secrets as secrets, oauth_clients as clients, tenants};
use crate::db::{Db, Json, Ts, Uid};
use crate::domain::client::{Client, ClientSecret, GrantType};
use crate::domain::list::{Listing, PageRequest, SortOrder};
use crate::domain::tenant::TenantStatus;
use crate::domain::user::fold;
use crate::domain::Result;
use crate::with_conn;

#[derive(Queryable, Selectable)]
#[diesel(table_name = clients)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ClientRow {
    id: Uid,
    tenant_id: Uid,
    name: String,
    description: String,
    grant_types: Json,
    redirect_uris: Json,
    scopes: Json,
    enabled: bool,
    created_at: Ts,
    updated_at: Ts,
}

fn strings(what: &str, j: Json) -> Result<Vec<String>> {
    serde_json::from_value(j.0).map_err(|e| corrupt(what, e))
}

impl TryFrom<ClientRow> for Client {
    type Error = crate::domain::Error;

    fn try_from(r: ClientRow) -> Result<Client> {
        let grant_types = strings("client grant types", r.grant_types)?
            .iter()
            .map(|g| GrantType::parse(g).ok_or_else(|| corrupt("client grant type", g)))
            .collect::<Result<_>>()?;
        Ok(Client {
            id: r.id.0,
            tenant_id: r.tenant_id.0,
            name: r.name,
            description: r.description,
            grant_types,
            redirect_uris: strings("client redirect URIs", r.redirect_uris)?,
            scopes: strings("client scopes", r.scopes)?,
            enabled: r.enabled,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

fn search_key(c: &Client) -> String {
    fold(&format!("{}\n{}", c.name, c.description))
}

fn grant_names(c: &Client) -> Json {
    Json(serde_json::json!(c
        .grant_types
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()))
}

pub async fn insert(db: &mut Db<'_>, c: &Client, created_by: Option<Uuid>) -> Result<()> {
    let values = (
        clients::id.eq(Uid(c.id)),
        clients::tenant_id.eq(Uid(c.tenant_id)),
        clients::name.eq(&c.name),
        clients::description.eq(&c.description),
        clients::search_key.eq(search_key(c)),
        clients::grant_types.eq(grant_names(c)),
        clients::redirect_uris.eq(Json(serde_json::json!(c.redirect_uris))),
        clients::scopes.eq(Json(serde_json::json!(c.scopes))),
        clients::enabled.eq(c.enabled),
        clients::created_by.eq(created_by.map(Uid)),
        clients::created_at.eq(Ts(c.created_at)),
        clients::updated_at.eq(Ts(c.updated_at)),
    );
    with_conn!(db, |c| diesel::insert_into(clients::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

/// Writes every changeable field of `c`.
pub async fn update(db: &mut Db<'_>, c: &Client) -> Result<()> {
    let values = (
        clients::name.eq(&c.name),
        clients::description.eq(&c.description),
        clients::search_key.eq(search_key(c)),
        clients::grant_types.eq(grant_names(c)),
        clients::redirect_uris.eq(Json(serde_json::json!(c.redirect_uris))),
        clients::scopes.eq(Json(serde_json::json!(c.scopes))),
        clients::enabled.eq(c.enabled),
        clients::updated_at.eq(Ts(c.updated_at)),
    );
    with_conn!(db, |conn| diesel::update(clients::table.find(Uid(c.id)))
        .filter(clients::tenant_id.eq(Uid(c.tenant_id)))
        .set(values)
        .execute(conn)
        .await)?;
    Ok(())
}

/// A client of the tenant.
pub async fn find(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<Option<Client>> {
    let row = with_conn!(db, |c| clients::table
        .filter(clients::id.eq(Uid(id)))
        .filter(clients::tenant_id.eq(Uid(tenant_id)))
        .select(ClientRow::as_select())
        .first(c)
        .await
        .optional())?;
    row.map(Client::try_from).transpose()
}

/// A client by its client_id alone (the token endpoint) and its tenant's status.
pub async fn find_any(db: &mut Db<'_>, id: Uuid) -> Result<Option<(Client, TenantStatus)>> {
    let row = with_conn!(db, |c| clients::table
        .inner_join(tenants::table)
        .filter(clients::id.eq(Uid(id)))
        .select((ClientRow::as_select(), tenants::status))
        .first::<(ClientRow, String)>(c)
        .await
        .optional())?;
    row.map(|(r, status)| {
        Ok((
            Client::try_from(r)?,
            TenantStatus::parse(&status).map_err(|e| corrupt("tenant status", e))?,
        ))
    })
    .transpose()
}

/// The tenant's clients, oldest first, optionally those whose name or
/// description contains `search` (case-insensitive).
pub async fn list(
    db: &mut Db<'_>,
    tenant_id: Uuid,
    search: Option<&str>,
    page: PageRequest,
) -> Result<Listing<Client>> {
    let pattern = search.map(|s| like_contains(&fold(s)));
    let listing: Listing<ClientRow> = with_conn!(db, |c| {
        let filtered = || {
            Ok(clients::table
                .filter(clients::tenant_id.eq(Uid(tenant_id)))
                .into_boxed()
                .narrow(list::like(clients::search_key, &pattern)))
        };
        let sorts = Sorts::default().by(clients::created_at, SortOrder::Asc);
        let rows = list::by_id(clients::id, ClientRow::as_select());
        list::page(c, filtered, sorts, rows, page, Total::Count).await
    })?;
    listing.try_map(Client::try_from)
}

/// Deletes a client with its secrets, grants and refresh tokens.
pub async fn delete(db: &mut Db<'_>, tenant_id: Uuid, id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        clients::table
            .filter(clients::id.eq(Uid(id)))
            .filter(clients::tenant_id.eq(Uid(tenant_id)))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

// ---- secrets ----

#[derive(Queryable, Selectable)]
#[diesel(table_name = secrets)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct SecretRow {
    id: Uid,
    client_id: Uid,
    description: String,
    expires_at: Option<Ts>,
    created_at: Ts,
    last_used_at: Option<Ts>,
}

impl From<SecretRow> for ClientSecret {
    fn from(r: SecretRow) -> Self {
        ClientSecret {
            id: r.id.0,
            client_id: r.client_id.0,
            description: r.description,
            expires_at: r.expires_at.map(|t| t.0),
            created_at: r.created_at.0,
            last_used_at: r.last_used_at.map(|t| t.0),
        }
    }
}

pub async fn insert_secret(
    db: &mut Db<'_>,
    s: &ClientSecret,
    hash: &str,
    created_by: Option<Uuid>,
) -> Result<()> {
    let values = (
        secrets::id.eq(Uid(s.id)),
        secrets::client_id.eq(Uid(s.client_id)),
        secrets::description.eq(&s.description),
        secrets::secret_hash.eq(hash),
        secrets::expires_at.eq(s.expires_at.map(Ts)),
        secrets::created_by.eq(created_by.map(Uid)),
        secrets::created_at.eq(Ts(s.created_at)),
    );
    with_conn!(db, |c| diesel::insert_into(secrets::table)
        .values(values)
        .execute(c)
        .await)?;
    Ok(())
}

/// A client's secrets, oldest first (never their hashes).
pub async fn secrets(db: &mut Db<'_>, client_id: Uuid) -> Result<Vec<ClientSecret>> {
    let rows: Vec<SecretRow> = with_conn!(db, |c| secrets::table
        .filter(secrets::client_id.eq(Uid(client_id)))
        .order((secrets::created_at.asc(), secrets::id.asc()))
        .select(SecretRow::as_select())
        .load(c)
        .await)?;
    Ok(rows.into_iter().map(ClientSecret::from).collect())
}

/// The secrets that may authenticate now: (id, hash), newest first, so
/// that a client rotating to a new secret matches on the first check.
/// A live secret as client authentication needs it.
pub struct LiveSecret {
    pub id: Uuid,
    pub hash: String,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What authenticating client `id` at `now` needs, in one statement: the
/// client, its tenant's status and its live secrets, newest first.
pub async fn find_for_authentication(
    db: &mut Db<'_>,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<(Client, TenantStatus, Vec<LiveSecret>)>> {
    type Row = (ClientRow, String, Option<Uid>, Option<String>, Option<Ts>);
    let rows: Vec<Row> = with_conn!(db, |c| clients::table
        .inner_join(tenants::table)
        .left_join(
            secrets::table.on(secrets::client_id.eq(clients::id).and(
                secrets::expires_at
                    .is_null()
                    .or(secrets::expires_at.gt(Ts(now)))
            ))
        )
        .filter(clients::id.eq(Uid(id)))
        .order((secrets::created_at.desc(), secrets::id.desc()))
        .select((
            ClientRow::as_select(),
            tenants::status,
            secrets::id.nullable(),
            secrets::secret_hash.nullable(),
            secrets::last_used_at.nullable(),
        ))
        .load(c)
        .await)?;
    let mut rows = rows.into_iter();
    let Some((client, status, first_id, first_hash, first_used)) = rows.next() else {
        return Ok(None);
    };
    let secrets = std::iter::once((first_id, first_hash, first_used))
        .chain(rows.map(|(_, _, id, hash, used)| (id, hash, used)))
        .filter_map(|(id, hash, used)| {
            Some(LiveSecret {
                id: id?.0,
                hash: hash?,
                last_used_at: used.map(|t| t.0),
            })
        })
        .collect();
    Ok(Some((
        Client::try_from(client)?,
        TenantStatus::parse(&status).map_err(|e| corrupt("tenant status", e))?,
        secrets,
    )))
}

pub async fn live_secret_hashes(
    db: &mut Db<'_>,
    client_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, String)>> {
    let rows: Vec<(Uid, String)> = with_conn!(db, |c| secrets::table
        .filter(secrets::client_id.eq(Uid(client_id)))
        .filter(
            secrets::expires_at
                .is_null()
                .or(secrets::expires_at.gt(Ts(now))),
        )
        .order((secrets::created_at.desc(), secrets::id.desc()))
        .select((secrets::id, secrets::secret_hash))
        .load(c)
        .await)?;
    Ok(rows.into_iter().map(|(id, h)| (id.0, h)).collect())
}

pub async fn delete_secret(db: &mut Db<'_>, client_id: Uuid, id: Uuid) -> Result<bool> {
    let n = with_conn!(db, |c| diesel::delete(
        secrets::table
            .filter(secrets::id.eq(Uid(id)))
            .filter(secrets::client_id.eq(Uid(client_id)))
    )
    .execute(c)
    .await)?;
    Ok(n == 1)
}

/// Records a secret's use, at most once a minute.
pub async fn touch_secret(db: &mut Db<'_>, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    let stale = Ts(now - chrono::Duration::seconds(60));
    with_conn!(db, |c| diesel::update(secrets::table.find(Uid(id)))
        .filter(
            secrets::last_used_at
                .is_null()
                .or(secrets::last_used_at.lt(stale))
        )
        .set(secrets::last_used_at.eq(Ts(now)))
        .execute(c)
        .await)?;
    Ok(())
}
