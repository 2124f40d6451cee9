//! Paging and sorting shared by every list.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based
    pub page: u32,
    pub limit: u32,
    /// SCIM's startIndex - 1: an offset not aligned to pages.
    pub start: Option<u64>,
    /// A keyset page (SCIM cursors, RFC 9865): the rows in creation order
    /// after an anchor, whatever the depth, instead of an offset.
    pub seek: Option<Seek>,
}

/// Where a keyset page starts: at the first row, or after the row with
/// this creation time and id (the list's order is `(created, id)`, so the
/// anchor needs no row to still exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seek {
    First,
    After(Anchor),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub created: chrono::DateTime<chrono::Utc>,
    pub id: uuid::Uuid,
}

impl Seek {
    pub fn anchor(self) -> Option<Anchor> {
        match self {
            Seek::First => None,
            Seek::After(anchor) => Some(anchor),
        }
    }
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 25;
    pub const MAX_LIMIT: u32 = 100;

    pub fn offset(&self) -> i64 {
        if self.seek.is_some() {
            return 0;
        }
        match self.start {
            Some(start) => i64::try_from(start).unwrap_or(i64::MAX),
            None => i64::from(self.page.saturating_sub(1)) * i64::from(self.limit),
        }
    }

    /// Rows a page query fetches: the page, and one more when the total
    /// does not tell whether another page follows (not counted, or a
    /// keyset page, which has no offset to compare it with).
    pub fn fetch(&self, counted: bool) -> i64 {
        i64::from(self.limit) + i64::from(!counted || self.seek.is_some())
    }

    /// A window from a 0-based offset (SCIM's startIndex - 1) and a count.
    pub fn window(start: u64, count: u32) -> PageRequest {
        PageRequest {
            page: 1,
            limit: count,
            start: Some(start),
            seek: None,
        }
    }

    /// A keyset page of `count` rows from `seek`.
    pub fn seek(seek: Seek, count: u32) -> PageRequest {
        PageRequest {
            page: 1,
            limit: count,
            start: None,
            seek: Some(seek),
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            limit: Self::DEFAULT_LIMIT,
            start: None,
            seek: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

impl SortOrder {
    pub fn parse(s: &str) -> Result<SortOrder, String> {
        match s.to_ascii_lowercase().as_str() {
            "asc" => Ok(SortOrder::Asc),
            "desc" => Ok(SortOrder::Desc),
            _ => Err("must be asc or desc".into()),
        }
    }
}

/// One page of a list and the total across all pages.
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// Exact, unless the query asked not to count (JSON:API without
    /// `count=true`): then a lower bound that passes the page's end exactly
    /// when another page follows.
    pub total: i64,
    pub page: PageRequest,
    /// Another page follows this one.
    pub more: bool,
}

impl<T> Listing<T> {
    /// Does another page follow this one?
    pub fn has_more(&self) -> bool {
        self.more
    }

    pub fn total_pages(&self) -> i64 {
        let limit = i64::from(self.page.limit.max(1));
        (self.total + limit - 1) / limit
    }

    /// A page from rows fetched with `PageRequest::fetch`: the count when
    /// there is one, else the lower bound `Listing::total` describes.
    pub fn of(mut rows: Vec<T>, total: Option<i64>, page: PageRequest) -> Listing<T> {
        let end = page.offset() + i64::from(page.limit);
        let more = match (total, page.seek) {
            (Some(total), None) => total > end,
            _ => rows.len() > page.limit as usize,
        };
        let total = total.unwrap_or(page.offset() + rows.len() as i64);
        rows.truncate(page.limit as usize);
        Listing {
            items: rows,
            total,
            page,
            more,
        }
    }

    /// The same page with `items` in place of its own.
    pub fn with_items<U>(self, items: Vec<U>) -> Listing<U> {
        Listing {
            items,
            total: self.total,
            page: self.page,
            more: self.more,
        }
    }

    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Listing<U>, E> {
        Ok(Listing {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            total: self.total,
            page: self.page,
            more: self.more,
        })
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listing<U> {
        Listing {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            more: self.more,
        }
    }
}
