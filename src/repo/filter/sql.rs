//! SQL the translator writes for any backend. Diesel's own nodes for
//! these are implemented per backend (bind parameters, `LIKE ... ESCAPE`,
//! `IN (subquery)`) or resolved per SQL type (comparison operators), so
//! generic code could use them only by naming a bound for each expression
//! it builds; these need only `DB: Dialect`. They render the SQL diesel
//! renders, except that diesel writes `IN (subquery)` as `= ANY(subquery)`
//! on PostgreSQL, which PostgreSQL defines as the same.

use std::marker::PhantomData;

use diesel::backend::{Backend, DieselReserveSpecialization};
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, TypedExpressionType,
    ValidGrouping,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType, Integer, Nullable, SqlType, Text};
use diesel::{Column, QueryResult, Table};

use super::Predicate;
use crate::db::types::{DbTimestamptz, DbUuid};
use crate::db::{Ts, Uid};

/// A backend that binds a `V` as SQL type `ST`: any backend for which
/// `V: ToSql<ST, _>` (the blanket impl below). Diesel states that as a
/// bound on `V`, which generic code would have to repeat wherever it binds;
/// stated on the backend, as a supertrait of [`Dialect`], it comes with
/// `DB: Dialect`.
pub trait Binds<ST, V>: Backend {
    fn bind<'b>(value: &'b V, out: &mut AstPass<'_, 'b, Self>) -> QueryResult<()>;
}

impl<DB, ST, V> Binds<ST, V> for DB
where
    DB: Backend + HasSqlType<ST>,
    V: ToSql<ST, DB>,
{
    fn bind<'b>(value: &'b V, out: &mut AstPass<'_, 'b, Self>) -> QueryResult<()> {
        out.push_bind_param::<ST, V>(value)
    }
}

/// A backend the translator builds predicates for: one that binds the
/// values filters compare with. The compiler checks that both of ours are.
pub trait Dialect:
    Backend
    + DieselReserveSpecialization
    + Binds<Text, String>
    + Binds<Nullable<Text>, String>
    + Binds<Integer, i32>
    + Binds<Bool, bool>
    + Binds<DbUuid, Uid>
    + Binds<Nullable<DbUuid>, Uid>
    + Binds<DbTimestamptz, Ts>
    + Binds<Nullable<DbTimestamptz>, Ts>
    + 'static
{
    /// Substring tests on users' keys go through the FTS5 trigram table
    /// `users_trigram` (SQLite); PostgreSQL's `pg_trgm` GIN indexes serve
    /// `LIKE` itself.
    const TRIGRAM_TABLE: bool;
}

impl Dialect for diesel::pg::Pg {
    const TRIGRAM_TABLE: bool = false;
}
impl Dialect for diesel::sqlite::Sqlite {
    const TRIGRAM_TABLE: bool = true;
}

/// An expression of SQL type `ST` on table `T` that predicates compare: a
/// column, `column.nullable()`, `fold(column)`.
pub trait Operand<T, DB: Backend, ST>:
    Expression<SqlType = ST>
    + SelectableExpression<T>
    + ValidGrouping<(), IsAggregate = is_aggregate::No>
    + QueryFragment<DB>
    + Clone
    + Send
    + 'static
{
}

impl<X, T, DB: Backend, ST> Operand<T, DB, ST> for X where
    X: Expression<SqlType = ST>
        + SelectableExpression<T>
        + ValidGrouping<(), IsAggregate = is_aggregate::No>
        + QueryFragment<DB>
        + Clone
        + Send
        + 'static
{
}

/// A bind parameter: `value` sent as SQL type `ST`.
#[derive(Debug, Clone)]
pub struct Param<ST, V> {
    value: V,
    sql_type: PhantomData<ST>,
}

/// `value` as a bind parameter; its SQL type comes from what it is
/// compared with.
pub fn param<ST, V>(value: V) -> Param<ST, V> {
    Param {
        value,
        sql_type: PhantomData,
    }
}

/// A text bind parameter.
pub fn text_param(value: &str) -> Param<Text, String> {
    param(value.to_string())
}

impl<ST: SqlType + TypedExpressionType, V> Expression for Param<ST, V> {
    type SqlType = ST;
}

impl<ST, V, T> AppearsOnTable<T> for Param<ST, V> where Self: Expression {}

impl<ST, V, T> SelectableExpression<T> for Param<ST, V> where Self: Expression {}

impl<ST, V, G> ValidGrouping<G> for Param<ST, V> {
    type IsAggregate = is_aggregate::Never;
}

impl<ST, V> QueryId for Param<ST, V> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, V, DB: Binds<ST, V>> QueryFragment<DB> for Param<ST, V> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        DB::bind(&self.value, &mut out)
    }
}

/// `(column <test>)`: a condition on one column, the rest of whose SQL
/// is the test's (an operator and a value, `LIKE`, `IN (subquery)`).
#[derive(Debug, Clone)]
pub struct Condition<C, Test> {
    column: C,
    test: Test,
}

impl<C: Expression, Test> Expression for Condition<C, Test> {
    type SqlType = Nullable<Bool>;
}

impl<C: AppearsOnTable<T>, Test, T> AppearsOnTable<T> for Condition<C, Test> {}

impl<C: SelectableExpression<T>, Test, T> SelectableExpression<T> for Condition<C, Test> {}

impl<C: ValidGrouping<()>, Test> ValidGrouping<()> for Condition<C, Test> {
    type IsAggregate = C::IsAggregate;
}

impl<C, Test> QueryId for Condition<C, Test> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, Test, DB> QueryFragment<DB> for Condition<C, Test>
where
    DB: Backend,
    C: QueryFragment<DB>,
    Test: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("(");
        self.column.walk_ast(out.reborrow())?;
        self.test.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// ` <operator> value`, for any SQL type: `=`, `>`, `>=`, `<`, `<=`.
#[derive(Debug, Clone)]
pub struct Infix<ST, V> {
    operator: &'static str,
    value: Param<ST, V>,
}

/// `(column <operator> value)`, with `value` bound as `column`'s type.
pub fn infix<C: Expression, V>(
    column: C,
    operator: &'static str,
    value: V,
) -> Condition<C, Infix<C::SqlType, V>> {
    let value = param(value);
    let test = Infix { operator, value };
    Condition { column, test }
}

impl<ST, V, DB: Binds<ST, V>> QueryFragment<DB> for Infix<ST, V> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(" ");
        out.push_sql(self.operator);
        out.push_sql(" ");
        self.value.walk_ast(out.reborrow())
    }
}

/// ` LIKE pattern ESCAPE '\'`: `pattern` escapes `%`, `_` and `\` with a
/// backslash (`repo::like_contains`). SQLite has no default escape
/// character, hence the clause.
#[derive(Debug, Clone)]
pub struct Like {
    pattern: Param<Text, String>,
    escape: Param<Text, String>,
}

/// `(column LIKE pattern ESCAPE '\')`.
pub fn like<C>(column: C, pattern: String) -> Condition<C, Like> {
    let test = Like {
        pattern: param(pattern),
        escape: text_param("\\"),
    };
    Condition { column, test }
}

impl<DB: Dialect> QueryFragment<DB> for Like {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(" LIKE ");
        self.pattern.walk_ast(out.reborrow())?;
        out.push_sql(" ESCAPE ");
        self.escape.walk_ast(out.reborrow())
    }
}

/// ` IN (SELECT rowid FROM fts WHERE fts MATCH query)`: the rowids an
/// FTS5 table finds for `query`.
#[derive(Debug, Clone)]
pub struct FullText {
    fts: &'static str,
    query: Param<Text, String>,
}

/// A table's `rowid` (SQLite), for a table whose FTS5 table shares it.
#[derive(Debug, Clone, Copy)]
pub struct Rowid {
    table: &'static str,
}

impl Expression for Rowid {
    type SqlType = diesel::sql_types::BigInt;
}

impl<T> AppearsOnTable<T> for Rowid {}

impl<T> SelectableExpression<T> for Rowid {}

impl ValidGrouping<()> for Rowid {
    type IsAggregate = is_aggregate::No;
}

impl QueryId for Rowid {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: Backend> QueryFragment<DB> for Rowid {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_identifier(self.table)?;
        out.push_sql(".rowid");
        Ok(())
    }
}

/// `(table.rowid IN (SELECT rowid FROM fts WHERE fts MATCH query))`: the
/// rows of `table` that its FTS5 table `fts` (kept with the same rowids)
/// finds. Rowids come back in order, so the rows are read in table order:
/// far fewer pages than one lookup by key each.
pub fn full_text<T: Table + 'static, DB: Dialect>(
    table: &'static str,
    fts: &'static str,
    query: String,
) -> Predicate<T, DB> {
    let test = FullText {
        fts,
        query: param(query),
    };
    Box::new(Condition {
        column: Rowid { table },
        test,
    })
}

impl<DB: Dialect> QueryFragment<DB> for FullText {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(" IN (SELECT rowid FROM ");
        out.push_identifier(self.fts)?;
        out.push_sql(" WHERE ");
        out.push_identifier(self.fts)?;
        out.push_sql(" MATCH ");
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// ` IN (SELECT key FROM key's table [WHERE filter])`.
pub struct InSubquery<K: Column, DB: Backend> {
    key: K,
    from: K::Table,
    filter: Option<Predicate<K::Table, DB>>,
}

/// The rows whose `column` is the `key` of some row of `key`'s table that
/// satisfies `filter` (of any row with `None`): a user's emails, roles,
/// memberships...
pub fn id_in<T: Table + 'static, DB, C, K>(
    column: C,
    key: K,
    filter: Option<Predicate<K::Table, DB>>,
) -> Predicate<T, DB>
where
    DB: Dialect,
    C: Operand<T, DB, DbUuid>,
    K: Operand<K::Table, DB, DbUuid> + Column,
    K::Table: QueryFragment<DB> + Default + Send,
{
    let from = K::Table::default();
    let test = InSubquery { key, from, filter };
    Box::new(Condition { column, test })
}

impl<K, DB> QueryFragment<DB> for InSubquery<K, DB>
where
    DB: Backend,
    K: QueryFragment<DB> + Column,
    K::Table: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(" IN (SELECT ");
        self.key.walk_ast(out.reborrow())?;
        out.push_sql(" FROM ");
        self.from.walk_ast(out.reborrow())?;
        if let Some(filter) = &self.filter {
            out.push_sql(" WHERE ");
            filter.walk_ast(out.reborrow())?;
        }
        out.push_sql(")");
        Ok(())
    }
}
