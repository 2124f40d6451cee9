//! Data access. Functions take `&mut Db` and domain types and return domain
//! types; they know nothing of HTTP. Each query is written once and compiled
//! for both backends by `with_conn!`.

pub mod access;
pub mod account_tokens;
pub mod audit;
pub mod clients;
pub mod code_flow;
pub mod domains;
pub mod filter;
pub mod grants;
pub mod groups;
pub mod keys;
pub mod list;
pub mod mfa;
pub mod organizations;
pub mod profiles;
pub mod roles;
pub mod scim_tokens;
pub mod sealing_keys;
pub mod sessions;
pub mod sso;
pub mod tenants;
pub mod throttle;
pub mod users;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::schema;
use crate::db::{Db, Uid};
use crate::domain::{Error, Result};

/// A row a read-modify-write changes, named with its tenant.
#[derive(Debug, Clone, Copy)]
pub enum Locked {
    Tenant(Uuid),
    User { tenant: Uuid, id: Uuid },
    Role { tenant: Uuid, id: Uuid },
    Group { tenant: Uuid, id: Uuid },
    Client { tenant: Uuid, id: Uuid },
    Organization { tenant: Uuid, id: Uuid },
    SsoProvider { tenant: Uuid, id: i64 },
}

/// Locks `row` until the transaction ends; call it in the write
/// transaction before reading the row that will be changed and written
/// back, so no other writer gets in between (ARCHITECTURE.md
/// "Read-modify-write"). PostgreSQL: `SELECT ... FOR NO KEY UPDATE`, the
/// lock an UPDATE takes, which foreign key checks of inserts elsewhere do
/// not wait for. SQLite: nothing more to take, `BEGIN IMMEDIATE` holds the
/// database's write lock. Outside a transaction the lock would end at once,
/// so that is an error on both backends.
pub async fn lock_for_update(db: &mut Db<'_>, row: Locked) -> Result<()> {
    if !db.in_transaction().await? {
        return Err(Error::internal(format!(
            "{row:?} locked outside a transaction"
        )));
    }
    let Db::Pg(c) = db else {
        return Ok(());
    };
    let c = &mut **c;
    macro_rules! lock {
        ($table:ident, $tenant:expr, $id:expr) => {
            schema::$table::table
                .filter(schema::$table::id.eq($id))
                .filter(schema::$table::tenant_id.eq(Uid($tenant)))
                .select(schema::$table::id)
                .for_no_key_update()
                .execute(c)
                .await
        };
    }
    match row {
        Locked::Tenant(id) => {
            schema::tenants::table
                .find(Uid(id))
                .select(schema::tenants::id)
                .for_no_key_update()
                .execute(c)
                .await
        }
        Locked::User { tenant, id } => lock!(users, tenant, Uid(id)),
        Locked::Role { tenant, id } => lock!(roles, tenant, Uid(id)),
        Locked::Group { tenant, id } => lock!(groups, tenant, Uid(id)),
        Locked::Client { tenant, id } => lock!(oauth_clients, tenant, Uid(id)),
        Locked::Organization { tenant, id } => lock!(organizations, tenant, Uid(id)),
        Locked::SsoProvider { tenant, id } => lock!(sso_providers, tenant, id),
    }?;
    Ok(())
}

/// A `LIKE` pattern matching values that contain `term`, with `%`, `_` and
/// the escape character itself escaped (use with `.escape('\\')`). Callers
/// match against lowercase columns with a lowercase term, so the pattern
/// means the same on PostgreSQL (case-sensitive LIKE) and SQLite.
pub fn like_contains(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Maps a stored value that no longer parses (a corrupted row) to an error.
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> crate::domain::Error {
    crate::domain::Error::internal(format!("stored {what} is invalid: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_escaping() {
        assert_eq!(super::like_contains("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
    }
}
