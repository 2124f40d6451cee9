//! Paging and sorting shared by every list.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based
    pub page: u32,
    pub limit: u32,
    /// SCIM's startIndex - 1: an offset not aligned to pages.
    pub start: Option<u64>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 25;
    pub const MAX_LIMIT: u32 = 100;

    pub fn offset(&self) -> i64 {
        match self.start {
            Some(start) => i64::try_from(start).unwrap_or(i64::MAX),
            None => i64::from(self.page.saturating_sub(1)) * i64::from(self.limit),
        }
    }

    /// Rows a page query fetches: the page, and one more when the total
    /// is not counted, which tells whether another page follows.
    pub fn fetch(&self, counted: bool) -> i64 {
        i64::from(self.limit) + i64::from(!counted)
    }

    /// A window from a 0-based offset (SCIM's startIndex - 1) and a count.
    pub fn window(start: u64, count: u32) -> PageRequest {
        PageRequest {
            page: 1,
            limit: count,
            start: Some(start),
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            limit: Self::DEFAULT_LIMIT,
            start: None,
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
}

impl<T> Listing<T> {
    /// Does another page follow this one?
    pub fn has_more(&self) -> bool {
        self.total > self.page.offset() + i64::from(self.page.limit)
    }

    pub fn total_pages(&self) -> i64 {
        let limit = i64::from(self.page.limit.max(1));
        (self.total + limit - 1) / limit
    }

    /// A page from rows fetched with `PageRequest::fetch`: the count when
    /// there is one, else the lower bound `Listing::total` describes.
    pub fn of(mut rows: Vec<T>, total: Option<i64>, page: PageRequest) -> Listing<T> {
        let total = total.unwrap_or(page.offset() + rows.len() as i64);
        rows.truncate(page.limit as usize);
        Listing {
            items: rows,
            total,
            page,
        }
    }

    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Listing<U>, E> {
        Ok(Listing {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            total: self.total,
            page: self.page,
        })
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listing<U> {
        Listing {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
        }
    }
}
