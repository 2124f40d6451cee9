//! The JSON:API query language (docs/api/jsonapi.md), parsed into the shared
//! filter AST and the repositories' paging and sorting: `page[number]`,
//! `page[size]`, `sort`, `count`, `filter[field]`, `filter[field__op]`,
//! `fields[type]` and `included`. Every error names the parameter it is about.

use std::collections::{BTreeSet, HashMap};

use crate::domain::account::{covering_scopes, validate_role_scope};
use crate::domain::filter::{
    AttrPath, Attributes, CompareOp, Filter, FilterSpec, Kind, Names, Value, MAX_TERMS,
};
use crate::domain::list::{PageRequest, SortOrder};
use crate::domain::{Error, Problems};

/// Default and largest `page[size]` (docs/api/jsonapi.md, The query language).
pub const PAGE_SIZE: u32 = 1000;

/// How a filterable field's values read and compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A UUID.
    Id,
    /// Text; `ci` compares and matches without regard to case.
    Text {
        ci: bool,
    },
    Bool,
    /// RFC 3339 date-times (or dates, meaning midnight UTC).
    Time,
    Integer,
}

/// A field `filter[...]` may name, and whether it may be absent (then the
/// value `null` finds the resources without it).
#[derive(Debug, Clone, Copy)]
pub struct FilterField {
    pub name: &'static str,
    pub kind: FieldKind,
    pub nullable: bool,
}

impl FilterField {
    pub const fn new(name: &'static str, kind: FieldKind) -> FilterField {
        FilterField {
            name,
            kind,
            nullable: false,
        }
    }

    pub const fn nullable(name: &'static str, kind: FieldKind) -> FilterField {
        FilterField {
            name,
            kind,
            nullable: true,
        }
    }

    /// The operators (`__op`) the field takes; "" is equality.
    fn operators(&self) -> &'static [&'static str] {
        match self.kind {
            FieldKind::Id => &["", "in", "nin"],
            FieldKind::Text { ci: true } => &["", "match", "in", "nin"],
            FieldKind::Text { ci: false } => &["", "in", "nin"],
            FieldKind::Bool => &[""],
            FieldKind::Time | FieldKind::Integer => &["", "gte", "lte"],
        }
    }
}

/// What one resource type's index accepts.
pub struct Spec {
    /// The resource type (`accounts`).
    pub kind: &'static str,
    pub filters: &'static [FilterField],
    /// Whether `filter[with_role_scope]` applies (accounts).
    pub role_scope_filter: bool,
    pub sorts: &'static [&'static str],
    /// Attributes and relationships `fields[kind]` may name.
    pub fields: &'static [&'static str],
    /// Relationships `included` may name.
    pub includes: &'static [&'static str],
}

/// Every resource type's sparse-fieldset names, for `fields[type]`.
pub type FieldNames = &'static [(&'static str, &'static [&'static str])];

impl Spec {
    fn field(&self, name: &str) -> Option<&FilterField> {
        self.filters.iter().find(|f| f.name == name)
    }
}

/// The kinds the translator and the reference evaluator compare by.
impl Attributes for Spec {
    fn kind(&self, path: &AttrPath) -> Option<Kind> {
        if path.schema.is_some() || path.sub.is_some() {
            return None;
        }
        let field = self
            .filters
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(&path.name))?;
        Some(match field.kind {
            FieldKind::Id => Kind::Str { case_exact: true },
            FieldKind::Text { ci } => Kind::Str { case_exact: !ci },
            FieldKind::Bool => Kind::Bool,
            FieldKind::Time => Kind::DateTime,
            FieldKind::Integer => Kind::Number,
        })
    }

    fn is_multi_valued(&self, _: &AttrPath) -> bool {
        false
    }
}

/// A parsed index query.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub page: PageRequest,
    pub sort: Vec<(&'static str, SortOrder)>,
    pub count: bool,
    pub filter: Option<Filter>,
    /// `fields[type]`: the attributes and relationships to show, per type.
    pub fields: HashMap<String, BTreeSet<String>>,
    pub include: Vec<&'static str>,
}

impl ListQuery {
    /// The filter as the repositories take it: the AST with `spec`'s kinds.
    pub fn filter_spec(&self, spec: &'static Spec) -> Option<FilterSpec<'_>> {
        self.filter.as_ref().map(|filter| FilterSpec {
            filter,
            attrs: spec,
            names: Names::Account,
        })
    }
}

/// Parameters of a show (`fields`, `included`).
#[derive(Debug, Clone, Default)]
pub struct ShowQuery {
    pub fields: HashMap<String, BTreeSet<String>>,
    pub include: Vec<&'static str>,
}

fn pairs(query: &str) -> Result<Vec<(String, String)>, Error> {
    serde_urlencoded::from_str(query)
        .map_err(|_| Error::invalid("query", "is not a valid query string"))
}

/// Parses an index query for `spec`.
pub fn parse_list(query: &str, spec: &Spec, types: FieldNames) -> Result<ListQuery, Error> {
    let mut problems = Problems::default();
    let mut page = PageRequest {
        page: 1,
        limit: PAGE_SIZE,
        ..Default::default()
    };
    let mut sort = Vec::new();
    let mut count = false;
    let mut fields = HashMap::new();
    let mut include = Vec::new();
    // Repeats of one equality (or __in) parameter mean any of their
    // values; different parameters must all hold. Each parameter's
    // alternatives are joined once, at the end, into a balanced tree.
    let mut filters: Vec<(String, Vec<Filter>)> = Vec::new();
    let mut terms = 0;
    for (key, value) in pairs(query)? {
        match key.as_str() {
            "page[number]" => match value.trim().parse::<u32>() {
                Ok(n) if n >= 1 => page.page = n,
                _ => problems.add(key, "must be an integer of at least 1"),
            },
            "page[size]" => match value.trim().parse::<u32>() {
                Ok(n) if (1..=PAGE_SIZE).contains(&n) => page.limit = n,
                _ => problems.add(key, format!("must be an integer from 1 to {PAGE_SIZE}")),
            },
            "count" => match value.trim() {
                "true" => count = true,
                "false" => count = false,
                _ => problems.add(key, "must be true or false"),
            },
            "sort" => match parse_sort(&value, spec) {
                Ok(s) => sort = s,
                Err(message) => problems.add(key, message),
            },
            "included" | "include" => match parse_include(&value, spec) {
                Ok(i) => include = i,
                Err(message) => problems.add(key, message),
            },
            k if k.starts_with("fields[") => match parse_fields(k, &value, types) {
                Ok((kind, names)) => {
                    fields.insert(kind, names);
                }
                Err(message) => problems.add(key.clone(), message),
            },
            k if k.starts_with("filter[") && k.ends_with(']') => {
                let parsed = parse_filter(&k[7..k.len() - 1], &value, spec)
                    .and_then(|f| count_terms(&mut terms, f));
                match parsed {
                    Ok(f) => match filters.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, alternatives)) if means_any(&key) => alternatives.push(f),
                        _ => filters.push((key.clone(), vec![f])),
                    },
                    Err(message) => problems.add(key.clone(), message),
                }
            }
            _ => problems.add(format!("?{key}"), unknown_parameter(spec)),
        }
    }
    problems.into_result()?;
    let filter = Filter::all(
        filters
            .into_iter()
            .filter_map(|(_, alternatives)| Filter::any(alternatives))
            .collect(),
    );
    if let Some(f) = &filter {
        // Within MAX_TERMS the balanced tree is far within MAX_DEPTH; the
        // check keeps the guarantee in one place all the same.
        f.check_limits().map_err(|e| Error::invalid("?filter", e))?;
    }
    Ok(ListQuery {
        page,
        sort,
        count,
        filter,
        fields,
        include,
    })
}

/// Counts a filter parameter's terms (its values, or the scopes of
/// `with_role_scope`) against `MAX_TERMS` for the whole query, so that the
/// parameter that goes over is the one named.
fn count_terms(terms: &mut usize, f: Filter) -> Result<Filter, String> {
    *terms += f.shape().1;
    if *terms > MAX_TERMS {
        return Err(format!(
            "must hold at most {MAX_TERMS} values, counting those of every filter of the request"
        ));
    }
    Ok(f)
}

/// Whether repeating a filter parameter means "any of" (equality and
/// `__in`) rather than "all of" (`__nin`, ranges).
fn means_any(key: &str) -> bool {
    !["__nin]", "__gte]", "__lte]", "__match]"]
        .iter()
        .any(|op| key.ends_with(op))
}

/// Parses the parameters of a show.
pub fn parse_show(query: &str, spec: &Spec, types: FieldNames) -> Result<ShowQuery, Error> {
    let mut problems = Problems::default();
    let mut out = ShowQuery::default();
    for (key, value) in pairs(query)? {
        match key.as_str() {
            "included" | "include" => match parse_include(&value, spec) {
                Ok(i) => out.include = i,
                Err(message) => problems.add(key, message),
            },
            k if k.starts_with("fields[") => match parse_fields(k, &value, types) {
                Ok((kind, names)) => {
                    out.fields.insert(kind, names);
                }
                Err(message) => problems.add(key.clone(), message),
            },
            _ => problems.add(
                key,
                "is not a parameter of this request (fields[type], included)",
            ),
        }
    }
    problems.into_result()?;
    Ok(out)
}

/// Refuses every query parameter (requests that take none).
pub fn no_parameters(query: &str) -> Result<(), Error> {
    match pairs(query)?.into_iter().next() {
        Some((key, _)) => Err(Error::invalid(
            format!("?{key}"),
            "is not a parameter of this request",
        )),
        None => Ok(()),
    }
}

fn unknown_parameter(spec: &Spec) -> String {
    let mut names = vec![
        "page[number]",
        "page[size]",
        "sort",
        "count",
        "filter[...]",
        "fields[...]",
    ];
    if !spec.includes.is_empty() {
        names.push("included");
    }
    format!("is not a parameter of this request ({})", names.join(", "))
}

fn parse_sort(value: &str, spec: &Spec) -> Result<Vec<(&'static str, SortOrder)>, String> {
    let mut out: Vec<(&'static str, SortOrder)> = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        let (name, order) = match item.strip_prefix('-') {
            Some(name) => (name, SortOrder::Desc),
            None => (item, SortOrder::Asc),
        };
        let Some(known) = spec.sorts.iter().find(|s| **s == name) else {
            return Err(format!(
                "{item:?} is not a sort field; sort by {}",
                spec.sorts.join(", ")
            ));
        };
        if out.iter().any(|(n, _)| n == known) {
            return Err(format!("{name} is named twice"));
        }
        out.push((known, order));
    }
    Ok(out)
}

fn parse_include(value: &str, spec: &Spec) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match spec.includes.iter().find(|i| **i == name) {
            Some(i) if !out.contains(i) => out.push(*i),
            Some(_) => {}
            None if spec.includes.is_empty() => {
                return Err(format!("{} have no relationships to include", spec.kind))
            }
            None => {
                return Err(format!(
                    "{name:?} cannot be included; include {}",
                    spec.includes.join(", ")
                ))
            }
        }
    }
    Ok(out)
}

fn parse_fields(
    key: &str,
    value: &str,
    types: FieldNames,
) -> Result<(String, BTreeSet<String>), String> {
    let kind = key
        .strip_prefix("fields[")
        .and_then(|k| k.strip_suffix(']'))
        .unwrap_or("");
    let Some((_, known)) = types.iter().find(|(t, _)| *t == kind) else {
        let names: Vec<&str> = types.iter().map(|(t, _)| *t).collect();
        return Err(format!(
            "{kind:?} is not a resource type ({})",
            names.join(", ")
        ));
    };
    let mut names = BTreeSet::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !known.contains(&name) {
            return Err(format!(
                "{name:?} is not a field of {kind} ({})",
                known.join(", ")
            ));
        }
        names.insert(name.to_string());
    }
    Ok((kind.to_string(), names))
}

/// `filter[key]=value` as a filter: `key` is a field, optionally with an
/// operator (`email__match`, `joined_at__gte`).
fn parse_filter(key: &str, value: &str, spec: &Spec) -> Result<Filter, String> {
    if spec.role_scope_filter && key == "with_role_scope" {
        // Accounts whose role applies to the scope: held on it or on a
        // scope above it.
        let scope = validate_role_scope(value)?;
        let path = AttrPath::new("role_scope");
        return Ok(any_of(
            covering_scopes(&scope)
                .into_iter()
                .map(|s| Filter::Compare(path.clone(), CompareOp::Eq, Value::Str(s)))
                .collect(),
        ));
    }
    let (name, op) = match key.rsplit_once("__") {
        Some((name, op)) => (name, op),
        None => (key, ""),
    };
    let Some(field) = spec.field(name) else {
        let mut names: Vec<&str> = spec.filters.iter().map(|f| f.name).collect();
        if spec.role_scope_filter {
            names.push("with_role_scope");
        }
        return Err(format!(
            "{name:?} is not a filter field of {} ({})",
            spec.kind,
            names.join(", ")
        ));
    };
    if !field.operators().contains(&op) {
        let ops: Vec<String> = field
            .operators()
            .iter()
            .map(|o| {
                if o.is_empty() {
                    "equality".to_string()
                } else {
                    format!("__{o}")
                }
            })
            .collect();
        return Err(format!(
            "{name} does not take the __{op} operator ({})",
            ops.join(", ")
        ));
    }
    let path = AttrPath::new(field.name);
    let single = |raw: &str| parse_value(field, raw.trim());
    Ok(match op {
        "" | "in" | "nin" => {
            let mut alternatives = Vec::new();
            for raw in value.split(',') {
                let raw = raw.trim();
                if raw == "null" && field.nullable && op != "in" {
                    alternatives.push(Filter::Not(Box::new(Filter::Present(path.clone()))));
                } else {
                    alternatives.push(Filter::Compare(path.clone(), CompareOp::Eq, single(raw)?));
                }
            }
            let any = any_of(alternatives);
            if op == "nin" {
                Filter::Not(Box::new(any))
            } else {
                any
            }
        }
        // Taken as given: a space inside a name is part of what is sought.
        "match" => {
            if value.is_empty() {
                return Err("must not be empty".into());
            }
            Filter::Compare(path, CompareOp::Co, Value::Str(value.to_string()))
        }
        "gte" => Filter::Compare(path, CompareOp::Ge, single(value)?),
        "lte" => Filter::Compare(path, CompareOp::Le, single(value)?),
        _ => unreachable!("checked against the field's operators"),
    })
}

fn any_of(filters: Vec<Filter>) -> Filter {
    Filter::any(filters).expect("split yields at least one value")
}

fn parse_value(field: &FilterField, raw: &str) -> Result<Value, String> {
    match field.kind {
        FieldKind::Id => uuid::Uuid::parse_str(raw)
            .map(|u| Value::Str(u.to_string()))
            .map_err(|_| format!("{raw:?} is not a UUID")),
        FieldKind::Text { .. } => {
            if raw.is_empty() {
                Err("must not be empty".into())
            } else {
                Ok(Value::Str(raw.to_string()))
            }
        }
        FieldKind::Bool => match raw {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("{raw:?} is not true or false")),
        },
        FieldKind::Integer => raw
            .parse::<i32>()
            .map(|n| Value::Num(f64::from(n)))
            .map_err(|_| format!("{raw:?} is not an integer")),
        FieldKind::Time => parse_time(raw).map(Value::Str),
    }
}

/// An RFC 3339 date-time, or a date meaning its midnight UTC, normalised
/// to RFC 3339.
fn parse_time(raw: &str) -> Result<String, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&chrono::Utc).to_rfc3339());
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().to_rfc3339())
        .map_err(|_| {
            format!("{raw:?} is not a date-time such as 2026-01-15T10:00:00Z or a date such as 2026-01-15")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        kind: "accounts",
        filters: &[
            FilterField::new("id", FieldKind::Id),
            FilterField::new("email", FieldKind::Text { ci: true }),
            FilterField::new("enabled", FieldKind::Bool),
            FilterField::nullable("joined_at", FieldKind::Time),
            FilterField::new("role_name", FieldKind::Text { ci: true }),
        ],
        role_scope_filter: true,
        sorts: &["email", "created_at"],
        fields: &["email"],
        includes: &["organization"],
    };
    const TYPES: FieldNames = &[("accounts", &["email", "name"])];

    fn err_fields(q: &str) -> Vec<String> {
        match parse_list(q, &SPEC, TYPES).unwrap_err() {
            Error::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn parses_the_seed_forms() {
        let q = parse_list(
            "page[number]=2&page[size]=50&sort=-created_at,email&count=true&filter[email__match]=a%25b&filter[role_name__in]=admin,owner&filter[joined_at__gte]=2026-01-15&included=organization&fields[accounts]=email",
            &SPEC,
            TYPES,
        )
        .unwrap();
        assert_eq!((q.page.page, q.page.limit, q.count), (2, 50, true));
        assert_eq!(
            q.sort,
            vec![("created_at", SortOrder::Desc), ("email", SortOrder::Asc)]
        );
        assert_eq!(q.include, vec!["organization"]);
        let f = format!("{:?}", q.filter.unwrap());
        assert!(f.contains("Co") && f.contains("a%b"), "{f}");
        assert!(f.contains("2026-01-15T00:00:00+00:00"), "{f}");
    }

    #[test]
    fn defaults() {
        let q = parse_list("", &SPEC, TYPES).unwrap();
        assert_eq!((q.page.page, q.page.limit, q.count), (1, 1000, false));
        assert!(q.filter.is_none());
    }

    #[test]
    fn names_the_bad_parameter() {
        assert_eq!(err_fields("page[size]=1001"), ["page[size]"]);
        assert_eq!(err_fields("page[number]=0"), ["page[number]"]);
        assert_eq!(err_fields("filter[bogus]=1"), ["filter[bogus]"]);
        assert_eq!(err_fields("filter[email__gte]=1"), ["filter[email__gte]"]);
        assert_eq!(err_fields("filter[enabled]=yes"), ["filter[enabled]"]);
        assert_eq!(err_fields("filter[id]=nope"), ["filter[id]"]);
        assert_eq!(
            err_fields("filter[joined_at__lte]=yesterday"),
            ["filter[joined_at__lte]"]
        );
        assert_eq!(err_fields("sort=password"), ["sort"]);
        assert_eq!(err_fields("included=roles"), ["included"]);
        assert_eq!(
            err_fields("fields[accounts]=password"),
            ["fields[accounts]"]
        );
        assert_eq!(err_fields("fields[people]=a"), ["fields[people]"]);
        assert_eq!(err_fields("count=yes"), ["count"]);
        assert_eq!(err_fields("bogus=1"), ["?bogus"]);
        assert_eq!(
            err_fields("filter[with_role_scope]=nope"),
            ["filter[with_role_scope]"]
        );
    }

    #[test]
    fn with_role_scope_covers_ancestors() {
        let q = parse_list("filter[with_role_scope]=/organizations/7", &SPEC, TYPES).unwrap();
        let f = format!("{:?}", q.filter.unwrap());
        assert!(
            f.contains("\"/\"")
                && f.contains("\"/organizations\"")
                && f.contains("\"/organizations/7\""),
            "{f}"
        );
    }

    #[test]
    fn null_finds_the_absent() {
        let q = parse_list("filter[joined_at]=null", &SPEC, TYPES).unwrap();
        assert!(matches!(q.filter, Some(Filter::Not(_))));
    }

    fn parse(q: &str) -> Result<ListQuery, Error> {
        parse_list(q, &SPEC, TYPES)
    }

    /// Arbitrary query strings and random parameter soups never panic, and
    /// every filter parsed is within the tree limits.
    #[test]
    fn fuzzed_queries_never_panic() {
        use crate::fuzz::{bytes, on_small_stack, rng, soup};
        on_small_stack(|| {
            let tokens = [
                "filter[email]=",
                "filter[email__in]=",
                "filter[email__nin]=",
                "filter[id]=",
                "filter[joined_at]=",
                "filter[joined_at__gte]=",
                "filter[with_role_scope]=",
                "filter[enabled]=",
                "page[size]=",
                "sort=",
                "&",
                ",",
                "a@b.example",
                "null",
                "true",
                "2026-01-15",
                "/organizations/7",
                "%00",
                "%2C",
                "%",
                "[",
                "]",
                "=",
                "-email",
                "00000000-0000-0000-0000-000000000000",
            ];
            let mut rng = rng(3);
            let mut inputs = Vec::new();
            for _ in 0..2000 {
                inputs.push(bytes(&mut rng, 200));
                inputs.push(soup(&mut rng, &tokens, 80).replace(' ', ""));
            }
            for input in &inputs {
                if let Ok(ListQuery {
                    filter: Some(f), ..
                }) = parse(input)
                {
                    assert_eq!(f.check_limits(), Ok(()), "{input:?}");
                }
            }
            crate::fuzz::never_panics(inputs, parse);
        });
    }

    /// Lists of up to MAX_TERMS values are balanced trees; more are
    /// refused, naming the parameter, whether in one list or in repeats.
    #[test]
    fn long_lists_are_shallow_or_refused() {
        let values = |n: usize| {
            (0..n)
                .map(|i| format!("u{i}@a.example"))
                .collect::<Vec<_>>()
        };
        let q = parse(&format!(
            "filter[email__in]={}",
            values(MAX_TERMS).join(",")
        ))
        .unwrap();
        assert_eq!(q.filter.unwrap().shape(), (11, MAX_TERMS));
        let repeated: Vec<String> = values(MAX_TERMS)
            .iter()
            .map(|v| format!("filter[email]={v}"))
            .collect();
        let q = parse(&repeated.join("&")).unwrap();
        assert_eq!(q.filter.unwrap().shape(), (11, MAX_TERMS));
        let nin: Vec<String> = values(500)
            .iter()
            .map(|v| format!("filter[email__nin]={v}"))
            .collect();
        assert!(parse(&nin.join("&")).unwrap().filter.unwrap().shape().0 <= 12);
        // A __match value is one term, commas and all.
        let q = format!(
            "filter[email__in]={}&filter[email__match]=a,b",
            values(999).join(",")
        );
        assert_eq!(parse(&q).unwrap().filter.unwrap().shape().1, MAX_TERMS);
        assert_eq!(
            err_fields(&format!(
                "filter[email__in]={}",
                values(MAX_TERMS + 1).join(",")
            )),
            ["filter[email__in]"]
        );
        assert_eq!(
            err_fields(&format!(
                "filter[email]={}&filter[email__nin]=x",
                values(MAX_TERMS).join(",")
            )),
            ["filter[email__nin]"]
        );
    }
}
