//! Query-string parameters with errors that name the parameter.

use crate::domain::list::{PageRequest, SortOrder};
use crate::domain::{Error, Problems};

pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(query_string: &str) -> Result<Query, Error> {
        serde_urlencoded::from_str(query_string)
            .map(|pairs| Query { pairs })
            .map_err(|_| Error::invalid("query", "is not a valid query string"))
    }

    /// The last value of a parameter, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn integer(
        &self,
        problems: &mut Problems,
        name: &str,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
    ) -> u32 {
        let Some(raw) = self.get(name) else {
            return default;
        };
        let message = format!(
            "must be an integer from {} to {}",
            range.start(),
            range.end()
        );
        match raw.parse::<u32>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                problems.add(name, message);
                default
            }
        }
    }

    /// `page` (from 1) and `limit` (1 to 100, default 25; the Aritma
    /// spelling `pageSize` too). Out-of-range values are errors, not silently
    /// clamped (docs/api/ithbat.md, Envelope, errors, lists).
    pub fn page(&self, problems: &mut Problems) -> PageRequest {
        let size = if self.get("limit").is_none() && self.get("pageSize").is_some() {
            "pageSize"
        } else {
            "limit"
        };
        PageRequest {
            page: self.integer(problems, "page", 1, 1..=1_000_000),
            limit: self.integer(
                problems,
                size,
                PageRequest::DEFAULT_LIMIT,
                1..=PageRequest::MAX_LIMIT,
            ),
            ..Default::default()
        }
    }

    /// Just `page` and `limit`, for lists with nothing else to ask.
    pub fn paging(query_string: &str) -> Result<PageRequest, Error> {
        let q = Query::parse(query_string)?;
        let mut problems = Problems::default();
        let page = q.page(&mut problems);
        problems.into_result()?;
        Ok(page)
    }

    /// The free-text search: `search`, or the Aritma spelling `searchText`.
    pub fn search(&self, problems: &mut Problems) -> Option<String> {
        let name = if self.get("search").is_none() && self.get("searchText").is_some() {
            "searchText"
        } else {
            "search"
        };
        self.text(problems, name, 200)
    }

    /// A UUID parameter.
    pub fn uuid(&self, problems: &mut Problems, name: &str) -> Option<uuid::Uuid> {
        self.parsed(problems, name, |v| {
            uuid::Uuid::parse_str(v).map_err(|_| "must be a UUID".to_string())
        })
    }

    /// An RFC 3339 timestamp parameter.
    pub fn timestamp(
        &self,
        problems: &mut Problems,
        name: &str,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.parsed(problems, name, |v| {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| {
                    "must be an RFC 3339 timestamp such as 2026-01-15T10:00:00Z".to_string()
                })
        })
    }

    /// A free-text parameter of at most `max` characters.
    pub fn text(&self, problems: &mut Problems, name: &str, max: usize) -> Option<String> {
        let value = self.get(name)?.trim();
        if value.chars().count() > max {
            problems.add(name, format!("must be at most {max} characters"));
            return None;
        }
        (!value.is_empty()).then(|| value.to_string())
    }

    /// A parameter parsed by `parse`.
    pub fn parsed<T>(
        &self,
        problems: &mut Problems,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        problems.check(name, parse(self.get(name)?))
    }

    /// `sortBy` from an allow-list of (name, field) and `sortOrder`.
    pub fn sort<T: Copy>(
        &self,
        problems: &mut Problems,
        allowed: &[(&str, T)],
    ) -> Option<(T, SortOrder)> {
        let order = self
            .parsed(problems, "sortOrder", SortOrder::parse)
            .unwrap_or_default();
        let by = self.get("sortBy")?;
        match allowed.iter().find(|(name, _)| *name == by) {
            Some((_, field)) => Some((*field, order)),
            None => {
                let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
                problems.add("sortBy", format!("must be one of {}", names.join(", ")));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging() {
        let mut p = Problems::default();
        let page = Query::parse("page=2&limit=50").unwrap().page(&mut p);
        assert_eq!((page.page, page.limit), (2, 50));
        assert!(p.into_result().is_ok());

        let mut p = Problems::default();
        Query::parse("page=0&limit=101").unwrap().page(&mut p);
        match p.into_result().unwrap_err() {
            Error::Validation(v) => {
                assert_eq!(
                    v.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
                    ["page", "limit"]
                )
            }
            e => panic!("{e:?}"),
        }

        let mut p = Problems::default();
        Query::parse("limit=abc").unwrap().page(&mut p);
        assert!(p.into_result().is_err());
    }
}
