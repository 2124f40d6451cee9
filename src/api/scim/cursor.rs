//! Cursors of SCIM cursor pagination (RFC 9865): where the next page of a
//! query starts, sealed so that a client can neither read nor forge one.
//!
//! A cursor is stateless: the position and the time it was issued, sealed
//! (AES-256-GCM, `service::sealing`) with the tenant, the resource type
//! and the query (filter, sortBy, sortOrder) as associated data. Any
//! instance sharing the database opens it; it opens for the same query
//! only, and not after [`TIMEOUT_SECONDS`]. Its characters are base64url
//! and `.`, unreserved in URLs (RFC 3986 2.3), as RFC 9865 2 asks.
//!
//! The position is an anchor (creation time and id of the page's last
//! row) for a query in the default order, so that each page is one index
//! range however deep the walk goes, and rows created or deleted between
//! pages shift nothing. A sorted query, and one at the service root, keep
//! an offset instead.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::{ScimError, ScimResult};
use crate::domain::list::{Anchor, Seek};
use crate::service::sealing::Sealer;

/// `cursorTimeout` of the ServiceProviderConfig: how long a cursor opens.
pub const TIMEOUT_SECONDS: i64 = 3600;

const ANCHOR: u8 = 1;
const OFFSET: u8 = 2;

/// Where a cursor page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Seek(Seek),
    Offset(u64),
}

/// The cursors of one query.
pub struct Cursors<'a> {
    sealer: &'a Sealer,
    context: String,
}

impl<'a> Cursors<'a> {
    /// `scope` names the resource type (or the root); `query_key` the
    /// query as `list::ListParams` keeps it.
    pub fn new(sealer: &'a Sealer, tenant: Uuid, scope: &str, query_key: &str) -> Cursors<'a> {
        Cursors {
            sealer,
            context: format!("scim-cursor:{tenant}:{scope}:{query_key}"),
        }
    }

    pub fn seal(&self, position: Position, now: DateTime<Utc>) -> ScimResult<String> {
        let mut bytes = now.timestamp().to_be_bytes().to_vec();
        match position {
            Position::Seek(Seek::After(a)) => {
                bytes.push(ANCHOR);
                bytes.extend(a.created.timestamp_micros().to_be_bytes());
                bytes.extend(a.id.as_bytes());
            }
            Position::Offset(n) => {
                bytes.push(OFFSET);
                bytes.extend(n.to_be_bytes());
            }
            // The first page is asked for with an empty cursor.
            Position::Seek(Seek::First) => return Ok(String::new()),
        }
        Ok(self.sealer.seal(&bytes, &self.context)?)
    }

    /// The position of `cursor` (a `nextCursor` of this query): 400
    /// `invalidCursor` when it is not one, `expiredCursor` when too old.
    pub fn open(&self, cursor: &str, now: DateTime<Utc>) -> ScimResult<Position> {
        let invalid = || {
            ScimError::new(
                400,
                "invalidCursor",
                "cursor: not a nextCursor of this query; send an empty cursor for the first page",
            )
        };
        let bytes = self
            .sealer
            .open(cursor, &self.context)
            .map_err(|_| invalid())?;
        let number = |at: usize| -> ScimResult<[u8; 8]> {
            bytes
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(invalid)
        };
        let issued = i64::from_be_bytes(number(0)?);
        let age = now.timestamp() - issued;
        if age > TIMEOUT_SECONDS {
            return Err(ScimError::new(
                400,
                "expiredCursor",
                format!(
                    "cursor: issued {age} s ago, more than cursorTimeout ({TIMEOUT_SECONDS} s); start again with an empty cursor"
                ),
            ));
        }
        match (bytes.get(8), bytes.len()) {
            (Some(&ANCHOR), 33) => {
                let created = DateTime::from_timestamp_micros(i64::from_be_bytes(number(9)?))
                    .ok_or_else(invalid)?;
                let id = Uuid::from_slice(&bytes[17..33]).map_err(|_| invalid())?;
                Ok(Position::Seek(Seek::After(Anchor { created, id })))
            }
            (Some(&OFFSET), 17) => Ok(Position::Offset(u64::from_be_bytes(number(9)?))),
            _ => Err(invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::SealingKey;

    fn sealer() -> Sealer {
        Sealer::new(&SealingKey::generate(), &[])
    }

    #[test]
    fn a_cursor_opens_for_its_query_only_and_until_it_expires() {
        let sealer = sealer();
        let tenant = Uuid::new_v4();
        let now = Utc::now();
        let cursors = Cursors::new(&sealer, tenant, "User", r#"["","",""]"#);
        let anchor = Anchor {
            created: DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap(),
            id: Uuid::new_v4(),
        };
        for position in [Position::Seek(Seek::After(anchor)), Position::Offset(250)] {
            let cursor = cursors.seal(position, now).unwrap();
            assert!(cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
            assert_eq!(cursors.open(&cursor, now).unwrap(), position);
            let later = now + chrono::Duration::seconds(TIMEOUT_SECONDS + 1);
            let e = cursors.open(&cursor, later).unwrap_err();
            assert!(format!("{e:?}").contains("expiredCursor"), "{e:?}");
            for other in [
                Cursors::new(&sealer, tenant, "Group", r#"["","",""]"#),
                Cursors::new(&sealer, Uuid::new_v4(), "User", r#"["","",""]"#),
                Cursors::new(&sealer, tenant, "User", r#"["active eq true","",""]"#),
            ] {
                let e = other.open(&cursor, now).unwrap_err();
                assert!(format!("{e:?}").contains("invalidCursor"), "{e:?}");
            }
        }
        for junk in ["x", "v1.abc.AAAA", "", "%%"] {
            let e = cursors.open(junk, now).unwrap_err();
            assert!(format!("{e:?}").contains("invalidCursor"), "{e:?}");
        }
    }
}
