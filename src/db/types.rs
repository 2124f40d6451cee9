//! SQL types that map to native PostgreSQL types and to TEXT on SQLite, so
//! that one `table!` definition serves both backends.
//!
//! Timestamps on SQLite are written as fixed-width RFC 3339 with microseconds
//! and `Z`, so that text order is time order and `<`/`>` comparisons work.

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::query_builder::QueryId;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{self, SqlType};
use diesel::sqlite::{Sqlite, SqliteValue};

/// `uuid` on PostgreSQL, TEXT (hyphenated, lowercase) on SQLite.
#[derive(SqlType, QueryId, Debug, Clone, Copy)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbUuid;

/// `jsonb` on PostgreSQL, TEXT on SQLite.
#[derive(SqlType, QueryId, Debug, Clone, Copy)]
#[diesel(postgres_type(oid = 3802, array_oid = 3807))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbJson;

/// `timestamptz` on PostgreSQL, fixed-width RFC 3339 TEXT on SQLite.
#[derive(SqlType, QueryId, Debug, Clone, Copy)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbTimestamptz;

/// A UUID column value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = DbUuid)]
pub struct Uid(pub uuid::Uuid);

/// A JSON column value.
#[derive(Debug, Clone, PartialEq, AsExpression, FromSqlRow)]
#[diesel(sql_type = DbJson)]
pub struct Json(pub serde_json::Value);

/// A timestamp column value (always UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = DbTimestamptz)]
pub struct Ts(pub DateTime<Utc>);

impl From<uuid::Uuid> for Uid {
    fn from(u: uuid::Uuid) -> Self {
        Uid(u)
    }
}
impl From<Uid> for uuid::Uuid {
    fn from(u: Uid) -> Self {
        u.0
    }
}
impl From<DateTime<Utc>> for Ts {
    fn from(t: DateTime<Utc>) -> Self {
        Ts(t)
    }
}
impl From<Ts> for DateTime<Utc> {
    fn from(t: Ts) -> Self {
        t.0
    }
}

/// The canonical SQLite text form of a timestamp.
pub fn timestamp_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

// ---- PostgreSQL: delegate to diesel's own binary encodings ----

impl ToSql<DbUuid, Pg> for Uid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <uuid::Uuid as ToSql<sql_types::Uuid, Pg>>::to_sql(&self.0, out)
    }
}
impl FromSql<DbUuid, Pg> for Uid {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        <uuid::Uuid as FromSql<sql_types::Uuid, Pg>>::from_sql(bytes).map(Uid)
    }
}
impl ToSql<DbJson, Pg> for Json {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <serde_json::Value as ToSql<sql_types::Jsonb, Pg>>::to_sql(&self.0, out)
    }
}
impl FromSql<DbJson, Pg> for Json {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        <serde_json::Value as FromSql<sql_types::Jsonb, Pg>>::from_sql(bytes).map(Json)
    }
}
impl ToSql<DbTimestamptz, Pg> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<sql_types::Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}
impl FromSql<DbTimestamptz, Pg> for Ts {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        <DateTime<Utc> as FromSql<sql_types::Timestamptz, Pg>>::from_sql(bytes).map(Ts)
    }
}

// ---- SQLite: text ----

fn sqlite_text(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<String> {
    <String as FromSql<sql_types::Text, Sqlite>>::from_sql(value)
}

impl ToSql<DbUuid, Sqlite> for Uid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(IsNull::No)
    }
}
impl FromSql<DbUuid, Sqlite> for Uid {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(Uid(uuid::Uuid::parse_str(&sqlite_text(value)?)?))
    }
}
impl ToSql<DbJson, Sqlite> for Json {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}
impl FromSql<DbJson, Sqlite> for Json {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(Json(serde_json::from_str(&sqlite_text(value)?)?))
    }
}
impl ToSql<DbTimestamptz, Sqlite> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(timestamp_text(&self.0));
        Ok(IsNull::No)
    }
}
impl FromSql<DbTimestamptz, Sqlite> for Ts {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = sqlite_text(value)?;
        Ok(Ts(DateTime::parse_from_rfc3339(&text)?.with_timezone(&Utc)))
    }
}
