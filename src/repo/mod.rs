//! Data access. Functions take `&mut Db` and domain types and return domain
//! types; they know nothing of HTTP. Each query is written once and compiled
//! for both backends by `with_conn!`.

pub mod access;
pub mod account_tokens;
pub mod audit;
pub mod authorization;
pub mod clients;
pub mod domains;
pub mod filter;
pub mod grants;
pub mod groups;
pub mod keys;
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
