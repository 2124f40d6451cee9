use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::db::schema::signing_keys;
use crate::db::{Db, Json, Ts};
use crate::domain::Result;
use crate::with_conn;

/// A stored token-signing key.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct StoredKey {
    pub kid: String,
    pub algorithm: String,
    pub private_key_pem: String,
    pub public_jwk: Json,
    pub created_at: Ts,
}

/// Keys not retired, newest first.
pub async fn active(db: &mut Db<'_>) -> Result<Vec<StoredKey>> {
    Ok(with_conn!(db, |c| signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .order(signing_keys::created_at.desc())
        .select(StoredKey::as_select())
        .load(c)
        .await)?)
}

pub async fn insert(db: &mut Db<'_>, key: &StoredKey) -> Result<()> {
    let values = (
        signing_keys::kid.eq(&key.kid),
        signing_keys::algorithm.eq(&key.algorithm),
        signing_keys::private_key_pem.eq(&key.private_key_pem),
        signing_keys::public_jwk.eq(key.public_jwk.clone()),
        signing_keys::created_at.eq(key.created_at),
    );
    with_conn!(db, |c| diesel::insert_into(signing_keys::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(())
}
