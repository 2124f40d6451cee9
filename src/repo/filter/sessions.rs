//! JSON:API account sessions: the active sessions of a tenant.

use diesel::prelude::*;

use super::compare::{always, integer, never, present, text_attr, time, uuid_eq, Term};
use super::sql::Dialect;
use super::{unsupported, Predicate, Vocabulary};
use crate::db::schema::sessions;
use crate::domain::filter::{AttrPath, Attributes};

/// The account session vocabulary.
pub struct AccountSession;

impl Vocabulary for AccountSession {
    type Table = sessions::table;

    fn present<DB: Dialect>(path: &AttrPath) -> Result<Predicate<sessions::table, DB>, String> {
        Ok(match path.key().as_str() {
            "id" | "account_id" | "refresh_seq" | "created_at" => always(sessions::id),
            "nonce" => present(sessions::nonce.nullable()),
            "user_agent" => present(sessions::user_agent.nullable()),
            "ip" => present(sessions::ip_address),
            _ => return Err(unsupported(path)),
        })
    }

    fn compare<DB: Dialect>(
        term: Term<'_>,
        _: &dyn Attributes,
    ) -> Result<Predicate<sessions::table, DB>, String> {
        match term.path.key().as_str() {
            "id" => uuid_eq(sessions::id, never(sessions::id), term),
            "account_id" => uuid_eq(sessions::user_id, never(sessions::id), term),
            "refresh_seq" => integer(sessions::refresh_seq, term),
            "nonce" => text_attr(sessions::nonce.nullable(), term),
            "user_agent" => text_attr(sessions::user_agent.nullable(), term),
            "ip" => text_attr(sessions::ip_address, term),
            "created_at" => time(sessions::created_at, term),
            _ => Err(unsupported(term.path)),
        }
    }
}
