//! The sealing key generated on first start when ITHBAT_SECRET_KEY is unset.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::db::schema::sealing_keys as sk;
use crate::db::{Db, Ts};
use crate::domain::Result;
use crate::with_conn;

const NAME: &str = "default";

/// The stored key (base64), if any.
pub async fn get(db: &mut Db<'_>) -> Result<Option<String>> {
    Ok(with_conn!(db, |c| sk::table
        .find(NAME)
        .select(sk::secret)
        .first(c)
        .await
        .optional())?)
}

/// Stores `secret` unless a key is stored already (another instance won).
pub async fn insert_if_absent(db: &mut Db<'_>, secret: &str, now: DateTime<Utc>) -> Result<()> {
    let values = (
        sk::name.eq(NAME),
        sk::secret.eq(secret),
        sk::created_at.eq(Ts(now)),
    );
    with_conn!(db, |c| diesel::insert_into(sk::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(())
}
