//! JSON:API accounts: users under their JSON:API names, with their roles
//! (`user_roles`) and password-reset tokens (`account_tokens`).

use diesel::prelude::*;

use super::compare::{
    always, keyed_text, never, optional_time, present, text_attr, time, uuid_eq, Term,
};
use super::sql::{id_in, text_param, Dialect};
use super::trigram;
use super::{bad_operator, unsupported, Predicate, Vocabulary};
use crate::db::schema::{account_tokens, roles, user_roles, users};
use crate::domain::account::TokenPurpose;
use crate::domain::filter::{AttrPath, Attributes, CompareOp, Kind, Value};
use crate::domain::secret::hash_secret;

/// The account vocabulary.
pub struct Account;

impl Vocabulary for Account {
    type Table = users::table;

    fn present<DB: Dialect>(path: &AttrPath) -> Result<Predicate<users::table, DB>, String> {
        Ok(match path.key().as_str() {
            "id" | "user_name" | "enabled" | "created_at" | "updated_at" => always(users::id),
            "email" => present(users::email),
            "name" => present(users::name_key.nullable()),
            "sso_channel" => present(users::sso_channel),
            "picture_url" => present(users::picture_url),
            "joined_at" => Box::new(users::joined_at.is_not_null().nullable()),
            "invitation_expired_at" => {
                Box::new(users::invitation_expires_at.is_not_null().nullable())
            }
            "role_name" | "role_scope" => holding(always(user_roles::user_id)),
            "password_reset_token" | "password_reset_token_expires_at" => {
                resetting(always(account_tokens::user_id))
            }
            _ => return Err(unsupported(path)),
        })
    }

    fn compare<DB: Dialect>(
        term: Term<'_>,
        _: &dyn Attributes,
    ) -> Result<Predicate<users::table, DB>, String> {
        let Term {
            path, op, value, ..
        } = term;
        match path.key().as_str() {
            "id" => uuid_eq(users::id, never(users::id), term),
            // Only the folded full name is stored: names compare without
            // regard to case.
            "name" => {
                let kind = Kind::Str { case_exact: false };
                let (v, _) = Term { kind, ..term }.text()?;
                Ok(trigram::text(users::name_key.nullable(), "name_key", op, v))
            }
            "email" => trigram::keyed_text(users::email, users::email_key, "email_key", term),
            "user_name" => trigram::keyed_text(
                users::user_name.nullable(),
                users::user_name_key.nullable(),
                "user_name_key",
                term,
            ),
            "sso_channel" => text_attr(users::sso_channel, term),
            "picture_url" => text_attr(users::picture_url, term),
            "enabled" => match (op, value) {
                (CompareOp::Eq, Value::Bool(true)) => Ok(Box::new(
                    users::status.ne(text_param("suspended")).nullable(),
                )),
                (CompareOp::Eq, Value::Bool(false)) => Ok(Box::new(
                    users::status.eq(text_param("suspended")).nullable(),
                )),
                _ => Err(format!("{path} compares with true or false")),
            },
            "role_name" => {
                let named = keyed_text(roles::name.nullable(), roles::name_key.nullable(), term)?;
                Ok(holding(id_in(user_roles::role_id, roles::id, Some(named))))
            }
            "role_scope" => Ok(holding(text_attr(user_roles::scope.nullable(), term)?)),
            "joined_at" => optional_time(users::joined_at, term),
            "invitation_expired_at" => optional_time(users::invitation_expires_at, term),
            "created_at" => time(users::created_at, term),
            "updated_at" => time(users::updated_at, term),
            // Only the hash of a token is stored: compare hashes.
            "password_reset_token" => match (op, value) {
                (CompareOp::Eq, Value::Str(token)) => {
                    let hash = text_param(&hash_secret(token));
                    Ok(resetting(Box::new(
                        account_tokens::token_hash.eq(hash).nullable(),
                    )))
                }
                (CompareOp::Eq, _) => Err(format!("{path} compares with a string")),
                _ => Err(bad_operator(path, op)),
            },
            "password_reset_token_expires_at" => {
                Ok(resetting(time(account_tokens::expires_at, term)?))
            }
            _ => Err(unsupported(path)),
        }
    }
}

/// Users holding a role (in any scope) whose row satisfies `p`.
fn holding<DB: Dialect>(p: Predicate<user_roles::table, DB>) -> Predicate<users::table, DB> {
    id_in(users::id, user_roles::user_id, Some(p))
}

/// Users with an unused password-reset token satisfying `p`.
fn resetting<DB: Dialect>(p: Predicate<account_tokens::table, DB>) -> Predicate<users::table, DB> {
    let unused = account_tokens::purpose
        .eq(text_param(TokenPurpose::PasswordReset.as_str()))
        .and(account_tokens::used_at.is_null());
    id_in(
        users::id,
        account_tokens::user_id,
        Some(Box::new(unused.and(p))),
    )
}
