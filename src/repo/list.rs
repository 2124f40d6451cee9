//! The one list pipeline: filter -> count -> sort -> page, then the page's
//! rows joined by id (ARCHITECTURE.md "Lists at scale").
//!
//! A list supplies what is its own, inside `with_conn!` where the
//! connection fixes the backend: its rows before paging as a boxed query
//! (tenant, its conditions, the filter's predicate), its order as
//! [`Sorts`] (a [`SortKey`] per sort enum), the key column, and the query
//! of the rows with given ids. [`page`] does the rest, the same for every
//! list on both backends.

use std::collections::HashMap;
use std::future::Future;

use diesel::backend::Backend;
use diesel::dsl::{count_star, Count, CountStar, EqAny, Escape, Like, Select};
use diesel::expression::expression_types::NotSelectable;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::query_builder::AsQuery;
// As a path: in scope, their methods would clash with `QueryDsl`'s.
use diesel::query_dsl::methods;
use diesel::sql_types::{SingleValue, Text};
use diesel_async::methods::LoadQuery;
use diesel_async::{AsyncConnectionCore, RunQueryDsl};

use super::filter::{param, Dialect, Operand, Predicate};
use crate::db::types::{DbTimestamptz, DbUuid, Ts};
use crate::db::Uid;
use crate::domain::list::{Anchor, Listing, PageRequest, Seek, SortOrder};
use crate::domain::Result;

/// One ordering term (`column ASC`, ...) on table `T` for backend `DB`.
pub type Order<T, DB> = Box<dyn BoxableExpression<T, DB, SqlType = NotSelectable>>;

/// A list's order, term by term, each with its reverse, and for a keyset
/// page the condition of the rows after its anchor. The pipeline ends the
/// order with the key ascending, so that equal sort values still page in
/// one order.
pub struct Sorts<T, DB: Backend> {
    orders: Vec<Term<T, DB>>,
    after: Option<Predicate<T, DB>>,
}

/// One term of an order: as asked, and reversed (for a page read from the
/// far end, [`page`]).
struct Term<T, DB: Backend> {
    forward: Order<T, DB>,
    reverse: Order<T, DB>,
}

/// A list's sort enum: the order each key stands for on its table.
pub trait SortKey: Copy {
    type Table;

    fn order<DB: Dialect>(
        self,
        sorts: Sorts<Self::Table, DB>,
        order: SortOrder,
    ) -> Sorts<Self::Table, DB>;
}

impl<T, DB: Backend> Default for Sorts<T, DB> {
    fn default() -> Self {
        Sorts {
            orders: Vec::new(),
            after: None,
        }
    }
}

impl<T, DB: Dialect> Sorts<T, DB> {
    /// A keyset page's order (RFC 9865 cursors): by `created`, then the
    /// key `id`, from `seek`. Both columns are fixed at insert, so the
    /// anchor stays in place while rows come and go: each page costs one
    /// index range, however deep.
    pub fn seek(
        created: impl Operand<T, DB, DbTimestamptz>,
        id: impl Operand<T, DB, DbUuid>,
        seek: Seek,
    ) -> Self
    where
        T: Table + 'static,
    {
        let after = seek.anchor().map(|a| after(created.clone(), id, a));
        Sorts {
            after,
            ..Sorts::default()
        }
        .by(created, SortOrder::Asc)
    }

    /// Then by `column` (or any expression on the row) in `order`.
    pub fn by<E, ST>(mut self, column: E, order: SortOrder) -> Self
    where
        E: Operand<T, DB, ST>,
        ST: SingleValue,
    {
        let (asc, desc): (Order<T, DB>, Order<T, DB>) =
            (Box::new(column.clone().asc()), Box::new(column.desc()));
        self.orders.push(match order {
            SortOrder::Asc => Term {
                forward: asc,
                reverse: desc,
            },
            SortOrder::Desc => Term {
                forward: desc,
                reverse: asc,
            },
        });
        self
    }

    /// Then by nullable `column` in `order`, rows without a value last
    /// either way (the backends disagree on where NULL sorts).
    pub fn nulls_last<E, ST>(self, column: E, order: SortOrder) -> Self
    where
        E: Operand<T, DB, ST>,
        ST: SingleValue,
    {
        self.by(column.clone().is_null(), SortOrder::Asc)
            .by(column, order)
    }

    /// Then by the keys a query asked for, in turn; by `default` if none.
    pub fn keys<K: SortKey<Table = T>>(
        self,
        keys: &[(K, SortOrder)],
        default: (K, SortOrder),
    ) -> Self {
        let keys = if keys.is_empty() {
            &[default][..]
        } else {
            keys
        };
        keys.iter()
            .fold(self, |sorts, &(key, order)| key.order(sorts, order))
    }
}

/// `created >= c AND (created > c OR id > i)`: the rows after the anchor
/// `(c, i)` in the order `(created, id)`. The first term is what lets an
/// index on `(…, created, id)` start at the anchor: written as one `OR`,
/// PostgreSQL reads the index from its start and filters, so a page cost
/// more the deeper it was.
fn after<T: Table + 'static, DB: Dialect>(
    created: impl Operand<T, DB, DbTimestamptz>,
    id: impl Operand<T, DB, DbUuid>,
    anchor: Anchor,
) -> Predicate<T, DB> {
    let at = || param(Ts(anchor.created));
    Box::new(
        created
            .clone()
            .ge(at())
            .and(created.gt(at()).or(id.gt(param(Uid(anchor.id)))))
            .nullable(),
    )
}

/// A list's query, narrowed by the conditions it may or may not have.
pub trait Narrow: Sized {
    /// `self`, filtered by `predicate` if there is one.
    fn narrow<P>(self, predicate: Option<P>) -> Self
    where
        Self: methods::FilterDsl<P, Output = Self>,
    {
        match predicate {
            Some(p) => methods::FilterDsl::filter(self, p),
            None => self,
        }
    }
}

impl<Q> Narrow for Q {}

/// `column LIKE pattern ESCAPE '\'` if the list is searched, `pattern`
/// made by `repo::like_contains`.
pub fn like<C>(column: C, pattern: &Option<String>) -> Option<Escape<Like<C, String>>>
where
    C: Expression<SqlType = Text>,
{
    pattern.clone().map(|p| column.like(p).escape('\\'))
}

/// Where a page's total comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// Not asked for: one row more than the page says whether another
    /// follows.
    Skip,
    /// `COUNT(*)` of the filtered rows.
    Count,
    /// Already known: a maintained total of the unfiltered list.
    Known(i64),
}

impl Total {
    /// A tenant's maintained total of the list (`list_totals`), or a count
    /// where it has none.
    pub fn maintained(total: Option<i64>) -> Total {
        total.map_or(Total::Count, Total::Known)
    }

    /// [`Total::Count`], unless the query asked to `skip` it.
    pub fn unless(skip: bool) -> Total {
        match skip {
            true => Total::Skip,
            false => Total::Count,
        }
    }
}

/// One page of a list and its total:
///
/// - `filtered()`: the list's rows before paging (called twice, for the
///   count and for the page: a boxed predicate is consumed by the query it
///   joins); the count is made as `total` says, and when skipped, one row
///   more than the page tells whether another follows (`Listing::of`);
/// - the page's keys (`rows.id`, unique among the rows), ordered by
///   `sorts` then the key, limited and offset (or, for a keyset page,
///   after the anchor): from an index alone, so that a deep page skips
///   index entries, not rows; a page past the middle of a counted list is
///   read from the far end in the reverse order (offset `total - end`),
///   so that the last page skips as little as the first;
/// - the rows with those keys (`rows.query`), each with its key, put back
///   in the page's order.
///
/// The future is `Send` by its signature: the compiler proves it here,
/// once, where the bounds are at hand.
// Not an `async fn`: its future could not say it is `Send`.
#[allow(clippy::manual_async_fn)]
pub fn page<'a, C, DB, T, Q, I, F, RowsQuery, R>(
    c: &'a mut C,
    filtered: impl Fn() -> Result<Q> + Send + 'a,
    sorts: Sorts<T, DB>,
    rows: Rows<I, F>,
    page: PageRequest,
    total: Total,
) -> impl Future<Output = Result<Listing<R>>> + Send + 'a
where
    C: AsyncConnectionCore<Backend = DB>,
    DB: Dialect,
    T: 'a,
    I: Operand<T, DB, DbUuid>,
    Q: methods::SelectDsl<CountStar>
        + methods::SelectDsl<I>
        + methods::ThenOrderDsl<Order<T, DB>, Output = Q>
        + methods::FilterDsl<Predicate<T, DB>, Output = Q>
        + methods::LimitDsl<Output = Q>
        + methods::OffsetDsl<Output = Q>
        + Send
        + 'a,
    F: FnOnce(Vec<Uid>) -> RowsQuery + Send + 'a,
    Count<Q>: LoadQuery<'a, C, i64> + 'a,
    Select<Q, I>: LoadQuery<'a, C, Uid> + 'a,
    RowsQuery: LoadQuery<'a, C, (Uid, R)> + 'a,
    R: Send + 'a,
{
    async move {
        let counted = !matches!(total, Total::Skip);
        let total = match total {
            Total::Skip => None,
            Total::Count => Some(filtered()?.select(count_star()).get_result(c).await?),
            Total::Known(n) => Some(n),
        };
        let Sorts { orders, after } = sorts.by(rows.id.clone(), SortOrder::Asc);
        let (limit, offset) = (page.fetch(counted), page.offset());
        let far_end = match (total, &after) {
            (Some(total), None) => FarEnd::of(total, offset, limit),
            _ => None,
        };
        let (limit, offset) = far_end.map_or((limit, offset), |w| (w.limit, w.offset));
        // Only a window past the end of the list is empty.
        let mut ids: Vec<Uid> = match limit {
            0 => Vec::new(),
            _ => {
                orders
                    .into_iter()
                    .map(|t| match far_end {
                        Some(_) => t.reverse,
                        None => t.forward,
                    })
                    .fold(filtered()?.narrow(after), |query, order| {
                        query.then_order_by(order)
                    })
                    .limit(limit)
                    .offset(offset)
                    .select(rows.id)
                    .load(c)
                    .await?
            }
        };
        if far_end.is_some() {
            ids.reverse();
        }
        let found = (rows.query)(ids.clone()).load(c).await?;
        let mut found: HashMap<Uid, R> = found.into_iter().collect();
        let rows = ids.iter().filter_map(|id| found.remove(id)).collect();
        Ok(Listing::of(rows, total, page))
    }
}

/// A page of a counted list past its middle, as a window of the list in
/// reverse order: the rows `offset .. offset + limit` of `total` are the
/// reverse order's rows `total - offset - limit .. total - offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FarEnd {
    limit: i64,
    offset: i64,
}

impl FarEnd {
    /// The reverse window of the page at `offset`, when it is nearer the
    /// end of the `total` rows than their start.
    fn of(total: i64, offset: i64, limit: i64) -> Option<FarEnd> {
        let end = offset.saturating_add(limit).min(total);
        (total - end < offset).then(|| FarEnd {
            limit: (end - offset).max(0),
            offset: total - end,
        })
    }
}

/// How a list's rows are keyed and loaded by key: `id`, a uuid column of
/// the list's table unique among its rows, and `query`, the query of the
/// rows with given keys, each row with its key.
pub struct Rows<I, F> {
    pub id: I,
    pub query: F,
}

/// The rows of `id`'s table by `id`: `selection`, each with its id. The
/// rows of a list of one table.
pub fn by_id<I, S, Q, F>(id: I, selection: S) -> Rows<I, impl FnOnce(Vec<Uid>) -> ById<F, I, S>>
where
    I: Column<SqlType = DbUuid> + Copy,
    I::Table: Default + AsQuery<Query = Q>,
    Q: methods::FilterDsl<EqAny<I, Vec<Uid>>, Output = F>,
    F: methods::SelectDsl<(I, S)>,
    (I, S): Expression,
{
    let query = move |ids: Vec<Uid>| {
        let rows = I::Table::default().as_query();
        let rows = methods::FilterDsl::filter(rows, id.eq_any(ids));
        methods::SelectDsl::select(rows, (id, selection))
    };
    Rows { id, query }
}

/// The query [`by_id`] makes, `SELECT id, selection FROM table WHERE id IN
/// (ids)`, from `F`, the table filtered by id.
pub type ById<F, I, S> = Select<F, (I, S)>;

#[cfg(test)]
mod tests {
    use super::FarEnd;

    /// The reverse window holds the same rows as the forward one: checked
    /// against a list of `total` numbers read both ways.
    #[test]
    fn far_end_windows_hold_the_pages_rows() {
        for total in 0..40i64 {
            let rows: Vec<i64> = (0..total).collect();
            for limit in 1..6i64 {
                for offset in 0..total + 8 {
                    let forward: Vec<i64> = rows
                        .iter()
                        .copied()
                        .skip(offset as usize)
                        .take(limit as usize)
                        .collect();
                    let Some(w) = FarEnd::of(total, offset, limit) else {
                        // Read forward, the page skips no more rows than
                        // it would from the far end.
                        let end = (offset + limit).min(total);
                        assert!(offset <= total - end, "total {total}, offset {offset}");
                        continue;
                    };
                    let mut back: Vec<i64> = rows
                        .iter()
                        .rev()
                        .copied()
                        .skip(w.offset as usize)
                        .take(w.limit as usize)
                        .collect();
                    back.reverse();
                    assert_eq!(
                        back, forward,
                        "total {total}, offset {offset}, limit {limit}"
                    );
                    assert!(w.offset <= offset, "never skips more than the forward read");
                }
            }
        }
    }
}
