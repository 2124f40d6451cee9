//! Database failures as domain errors: the one place that knows diesel's
//! error type, so that the domain does not depend on the database crate.

use crate::domain::Error;

impl From<diesel::result::Error> for Error {
    /// A database out of reach, overloaded or in conflict for a moment is
    /// `Unavailable` (503, retry later); anything else is a bug.
    fn from(e: diesel::result::Error) -> Self {
        if is_transient(&e) {
            Error::Unavailable(format!("database: {e}"))
        } else {
            Error::Internal(format!("database: {e}"))
        }
    }
}

/// Messages of transient failures that diesel gives no kind of their own
/// (it keeps no SQLSTATE): PostgreSQL's statement and lock timeouts
/// (57014, 55P03), deadlock (40P01), sessions ended by the server (57P01,
/// 25P03...), start-up and shut-down (57P03), too many clients (53300);
/// SQLite's SQLITE_BUSY once `busy_timeout` has passed.
const TRANSIENT_MESSAGES: &[&str] = &[
    "canceling statement due to",
    "could not obtain lock",
    "deadlock detected",
    "terminating connection due to",
    "the database system is",
    "sorry, too many clients already",
    "database is locked",
];

fn is_transient(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as Kind, Error as E};
    match e {
        E::DatabaseError(
            Kind::ClosedConnection | Kind::UnableToSendCommand | Kind::SerializationFailure,
            _,
        ) => true,
        E::DatabaseError(_, info) => TRANSIENT_MESSAGES
            .iter()
            .any(|m| info.message().starts_with(m)),
        // A connection whose exchange broke off (the network went away
        // inside a transaction).
        E::BrokenTransactionManager => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind as Kind, Error as DieselError};

    fn db(kind: Kind, message: &str) -> Error {
        Error::from(DieselError::DatabaseError(
            kind,
            Box::new(message.to_string()),
        ))
    }

    #[test]
    fn transient_database_errors_are_unavailability() {
        for e in [
            db(Kind::UnableToSendCommand, "connection closed"),
            db(Kind::ClosedConnection, "server closed the connection"),
            db(Kind::SerializationFailure, "could not serialize access"),
            db(
                Kind::Unknown,
                "canceling statement due to statement timeout",
            ),
            db(Kind::Unknown, "deadlock detected"),
            db(
                Kind::Unknown,
                "terminating connection due to administrator command",
            ),
            db(Kind::Unknown, "database is locked"),
            Error::from(DieselError::BrokenTransactionManager),
        ] {
            assert!(matches!(e, Error::Unavailable(_)), "{e:?}");
        }
        for e in [
            db(Kind::UniqueViolation, "duplicate key"),
            db(Kind::Unknown, "syntax error at or near"),
            Error::from(DieselError::NotFound),
        ] {
            assert!(matches!(e, Error::Internal(_)), "{e:?}");
        }
    }
}
