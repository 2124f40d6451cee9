use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

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
    pub retired_at: Option<Ts>,
}

/// Keys not retired, or retired after `retired_since`; newest first.
pub async fn live(db: &mut Db<'_>, retired_since: DateTime<Utc>) -> Result<Vec<StoredKey>> {
    Ok(with_conn!(db, |c| signing_keys::table
        .filter(
            signing_keys::retired_at
                .is_null()
                .or(signing_keys::retired_at.gt(Ts(retired_since)))
        )
        .order((signing_keys::created_at.desc(), signing_keys::kid.asc()))
        .select(StoredKey::as_select())
        .load(c)
        .await)?)
}

/// Is there a key that signs?
pub async fn any_active(db: &mut Db<'_>) -> Result<bool> {
    let n: i64 = with_conn!(db, |c| signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}

/// Keeps other writers of keys (instances starting, rotations) out until
/// the transaction ends; readers go on. SQLite's write transaction does
/// that already.
pub async fn lock(db: &mut Db<'_>) -> Result<()> {
    if let Db::Pg(c) = db {
        c.batch_execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
            .await?;
    }
    Ok(())
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

/// Retires every key but `kid`.
pub async fn retire_all_but(db: &mut Db<'_>, kid: &str, now: DateTime<Utc>) -> Result<()> {
    with_conn!(db, |c| diesel::update(
        signing_keys::table
            .filter(signing_keys::retired_at.is_null())
            .filter(signing_keys::kid.ne(kid))
    )
    .set(signing_keys::retired_at.eq(Some(Ts(now))))
    .execute(c)
    .await)?;
    Ok(())
}

/// Deletes keys retired before `before`: no token they signed is alive.
pub async fn delete_retired_before(db: &mut Db<'_>, before: DateTime<Utc>) -> Result<()> {
    with_conn!(db, |c| diesel::delete(
        signing_keys::table.filter(signing_keys::retired_at.lt(Ts(before)))
    )
    .execute(c)
    .await)?;
    Ok(())
}
