//! One filter language for every dialect: SCIM's `filter` (RFC 7644
//! 3.4.2.2) and JSON:API's `filter[field__op]` both parse into `Filter`;
//! `repo` translates it to SQL, and `matches` evaluates it over a JSON
//! resource as the reference evaluator the SQL is tested against.

use std::cmp::Ordering;

use serde_json::Value as Json;

/// How deep a filter's text may nest parentheses and brackets (SCIM
/// filters and PATCH paths), checked on the raw text before any parser
/// runs: a parser recurses once or more per level.
pub const MAX_NESTING: usize = 32;

/// How deep a filter's tree may be. Everything after parsing walks the
/// tree recursively (the SQL translator, diesel's query builder, the
/// reference evaluator, even `drop`), so this bounds their stack. Chains
/// of `and`/`or` are built balanced (`Filter::all`, `Filter::any`): a
/// chain of n terms is log2(n) deep, so any filter within `MAX_NESTING`
/// and `MAX_TERMS` that a person would write fits.
pub const MAX_DEPTH: usize = 64;

/// The most comparisons and presence tests one filter may hold (a
/// JSON:API list of 1,000 values is 1,000 terms): every term is a
/// predicate with its own bound parameters, and SQLite and PostgreSQL
/// bound the parameters of a statement.
pub const MAX_TERMS: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr op value`
    Compare(AttrPath, CompareOp, Value),
    /// `attr pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `attr[filter]`: some value of a multi-valued complex attribute
    /// matches `filter`, whose paths name its sub-attributes.
    ValuePath(AttrPath, Box<Filter>),
}

impl Filter {
    /// `a and b and ...`, balanced; None for no filters.
    pub fn all(filters: Vec<Filter>) -> Option<Filter> {
        balanced(filters, |a, b| Filter::And(Box::new(a), Box::new(b)))
    }

    /// `a or b or ...`, balanced; None for no filters.
    pub fn any(filters: Vec<Filter>) -> Option<Filter> {
        balanced(filters, |a, b| Filter::Or(Box::new(a), Box::new(b)))
    }

    /// The depth of the tree and its number of terms, counted without
    /// recursion.
    pub fn shape(&self) -> (usize, usize) {
        let (mut depth, mut terms) = (0, 0);
        let mut stack = vec![(self, 1)];
        while let Some((f, level)) = stack.pop() {
            depth = depth.max(level);
            match f {
                Filter::And(a, b) | Filter::Or(a, b) => {
                    stack.push((a, level + 1));
                    stack.push((b, level + 1));
                }
                Filter::Not(a) | Filter::ValuePath(_, a) => stack.push((a, level + 1)),
                Filter::Compare(..) | Filter::Present(_) => terms += 1,
            }
        }
        (depth, terms)
    }

    /// Refuses a tree deeper than `MAX_DEPTH` or with more than
    /// `MAX_TERMS` terms; the parsers call it before handing a filter on.
    pub fn check_limits(&self) -> Result<(), String> {
        let (depth, terms) = self.shape();
        if terms > MAX_TERMS {
            return Err(format!(
                "holds {terms} comparisons; at most {MAX_TERMS} are allowed"
            ));
        }
        if depth > MAX_DEPTH {
            return Err(format!("nests more than {MAX_DEPTH} levels deep"));
        }
        Ok(())
    }
}

/// Joins `items` pairwise, level by level, so that the tree is
/// ceil(log2(n)) deep rather than n.
fn balanced(mut items: Vec<Filter>, join: fn(Filter, Filter) -> Filter) -> Option<Filter> {
    while items.len() > 1 {
        let mut next = Vec::with_capacity(items.len().div_ceil(2));
        let mut pairs = items.into_iter();
        while let Some(a) = pairs.next() {
            next.push(match pairs.next() {
                Some(b) => join(a, b),
                None => a,
            });
        }
        items = next;
    }
    items.pop()
}

/// `[schema URN ":"] name ["." sub]`. Names compare case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    pub schema: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    pub fn new(name: &str) -> AttrPath {
        AttrPath {
            schema: None,
            name: name.to_string(),
            sub: None,
        }
    }

    /// Does this path name `name` (and, if given, `sub`)?
    pub fn is(&self, name: &str, sub: Option<&str>) -> bool {
        self.name.eq_ignore_ascii_case(name)
            && match (&self.sub, sub) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }

    /// `name.sub` in lowercase, without the schema.
    pub fn key(&self) -> String {
        match &self.sub {
            Some(sub) => format!(
                "{}.{}",
                self.name.to_ascii_lowercase(),
                sub.to_ascii_lowercase()
            ),
            None => self.name.to_ascii_lowercase(),
        }
    }
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(s) = &self.schema {
            write!(f, "{s}:")?;
        }
        write!(f, "{}", self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn parse(op: &str) -> Option<CompareOp> {
        Some(match op.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// The kind of a filterable attribute, which decides how it compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text; compared case-insensitively unless case-exact.
    Str {
        case_exact: bool,
    },
    Bool,
    /// RFC 3339 timestamps, compared as instants.
    DateTime,
    Number,
}

/// Describes the attributes a filter may name on some resource.
pub trait Attributes {
    /// The kind of `path`, or None when it cannot be filtered on.
    fn kind(&self, path: &AttrPath) -> Option<Kind>;
    /// Is `path` a multi-valued complex attribute (for value paths)?
    fn is_multi_valued(&self, path: &AttrPath) -> bool;
}

/// A filter with the attribute kinds of the dialect that wrote it.
#[derive(Clone, Copy)]
pub struct FilterSpec<'a> {
    pub filter: &'a Filter,
    pub attrs: &'a (dyn Attributes + Sync),
    /// Whose attribute names the filter uses.
    pub names: Names,
}

/// The attribute vocabularies a user filter may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// SCIM's User (`userName`, `name.givenName`, `emails[...]`).
    Scim,
    /// The JSON:API account (`name`, `email`, `enabled`, `role_name`, ...).
    Account,
}

/// Reference semantics: does `resource` (a JSON object) match `filter`?
/// Attribute names match case-insensitively; strings compare per `kind`;
/// a multi-valued attribute matches when any of its values does; a
/// missing or null attribute matches nothing but `ne` and `not`.
pub fn matches(resource: &Json, filter: &Filter, attrs: &dyn Attributes) -> bool {
    // A multi-valued attribute named alone means its values (`emails` is
    // `emails.value`).
    let valued = |path: &AttrPath| {
        if path.sub.is_none() && attrs.is_multi_valued(path) {
            AttrPath {
                sub: Some("value".into()),
                ..path.clone()
            }
        } else {
            path.clone()
        }
    };
    match filter {
        Filter::And(a, b) => matches(resource, a, attrs) && matches(resource, b, attrs),
        Filter::Or(a, b) => matches(resource, a, attrs) || matches(resource, b, attrs),
        Filter::Not(f) => !matches(resource, f, attrs),
        Filter::Present(path) => values(resource, &valued(path)).iter().any(|v| !is_empty(v)),
        Filter::Compare(path, op, value) => {
            let path = &valued(path);
            let kind = attrs.kind(path).unwrap_or(Kind::Str { case_exact: false });
            let found = values(resource, path);
            match op {
                // "ne": no value equals (including when there is none).
                CompareOp::Ne => !found.iter().any(|v| compare(v, CompareOp::Eq, value, kind)),
                _ => found.iter().any(|v| compare(v, *op, value, kind)),
            }
        }
        Filter::ValuePath(path, inner) => {
            let parent = AttrPath {
                schema: path.schema.clone(),
                name: path.name.clone(),
                sub: None,
            };
            let items = values(resource, &parent);
            items.iter().any(|item| {
                let relative = RelativeAttrs {
                    parent: &parent,
                    attrs,
                };
                item.is_object() && matches(item, inner, &relative)
            })
        }
    }
}

/// Sub-attribute kinds inside a value path: `type` inside `emails[...]`
/// is `emails.type`.
struct RelativeAttrs<'a> {
    parent: &'a AttrPath,
    attrs: &'a dyn Attributes,
}

impl Attributes for RelativeAttrs<'_> {
    fn kind(&self, path: &AttrPath) -> Option<Kind> {
        self.attrs.kind(&AttrPath {
            schema: self.parent.schema.clone(),
            name: self.parent.name.clone(),
            sub: Some(path.name.clone()),
        })
    }

    fn is_multi_valued(&self, _: &AttrPath) -> bool {
        false
    }
}

fn is_empty(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn get_ci<'a>(object: &'a Json, name: &str) -> Option<&'a Json> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The values a path reaches: `name.sub` over arrays yields each item's
/// sub-attribute; a schema URN selects the extension object.
fn values<'a>(resource: &'a Json, path: &AttrPath) -> Vec<&'a Json> {
    let base = match &path.schema {
        Some(urn) => match get_ci(resource, urn) {
            Some(ext) if ext.is_object() => ext,
            // The core schema's URN names the resource itself.
            _ if urn
                .to_ascii_lowercase()
                .starts_with("urn:ietf:params:scim:schemas:core:") =>
            {
                resource
            }
            _ => return Vec::new(),
        },
        None => resource,
    };
    // Without a URN, an extension's attribute is still found in its
    // extension object (`department` is the enterprise extension's).
    let found = get_ci(base, &path.name).or_else(|| match (&path.schema, resource) {
        (None, Json::Object(members)) => members
            .iter()
            .filter(|(k, v)| k.to_ascii_lowercase().starts_with("urn:") && v.is_object())
            .find_map(|(_, ext)| get_ci(ext, &path.name)),
        _ => None,
    });
    let Some(top) = found else {
        return Vec::new();
    };
    let items: Vec<&Json> = match top {
        Json::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    match &path.sub {
        None => items,
        Some(sub) => items.into_iter().filter_map(|i| get_ci(i, sub)).collect(),
    }
}

fn compare(found: &Json, op: CompareOp, value: &Value, kind: Kind) -> bool {
    match (kind, found, value) {
        (Kind::Str { case_exact }, Json::String(f), Value::Str(v)) => {
            let (f, v) = if case_exact {
                (f.clone(), v.clone())
            } else {
                (crate::domain::user::fold(f), crate::domain::user::fold(v))
            };
            match op {
                CompareOp::Eq => f == v,
                CompareOp::Ne => f != v,
                CompareOp::Co => f.contains(&v),
                CompareOp::Sw => f.starts_with(&v),
                CompareOp::Ew => f.ends_with(&v),
                _ => ordered(f.cmp(&v), op),
            }
        }
        (Kind::DateTime, Json::String(f), Value::Str(v)) => {
            let (Ok(f), Ok(v)) = (
                chrono::DateTime::parse_from_rfc3339(f),
                chrono::DateTime::parse_from_rfc3339(v),
            ) else {
                return false;
            };
            match op {
                CompareOp::Eq => f == v,
                CompareOp::Ne => f != v,
                CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
                    ordered(f.cmp(&v), op)
                }
                _ => false,
            }
        }
        (Kind::Bool, Json::Bool(f), Value::Bool(v)) => match op {
            CompareOp::Eq => f == v,
            CompareOp::Ne => f != v,
            _ => false,
        },
        (Kind::Number, Json::Number(f), Value::Num(v)) => {
            let f = f.as_f64().unwrap_or(f64::NAN);
            match op {
                CompareOp::Eq => f == *v,
                CompareOp::Ne => f != *v,
                _ => f.partial_cmp(v).is_some_and(|o| ordered(o, op)),
            }
        }
        _ => false,
    }
}

fn ordered(o: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Simple;
    impl Attributes for Simple {
        fn kind(&self, path: &AttrPath) -> Option<Kind> {
            Some(match path.key().as_str() {
                "active" => Kind::Bool,
                "meta.created" => Kind::DateTime,
                "externalid" | "id" => Kind::Str { case_exact: true },
                _ => Kind::Str { case_exact: false },
            })
        }
        fn is_multi_valued(&self, path: &AttrPath) -> bool {
            path.is("emails", None)
        }
    }

    fn cmp(name: &str, op: CompareOp, v: Value) -> Filter {
        let (name, sub) = match name.split_once('.') {
            Some((n, s)) => (n, Some(s.to_string())),
            None => (name, None),
        };
        Filter::Compare(
            AttrPath {
                schema: None,
                name: name.into(),
                sub,
            },
            op,
            v,
        )
    }

    #[test]
    fn chains_are_balanced_and_keep_their_order() {
        let terms: Vec<Filter> = (0..1000)
            .map(|i| cmp("a", CompareOp::Eq, Value::Str(i.to_string())))
            .collect();
        let any = Filter::any(terms.clone()).unwrap();
        assert_eq!(any.shape(), (11, 1000));
        assert_eq!(any.check_limits(), Ok(()));
        let doc = json!({ "a": "999" });
        assert!(matches(&doc, &any, &Simple));
        let all = Filter::all(terms[..3].to_vec()).unwrap();
        assert_eq!(
            all,
            Filter::And(
                Box::new(Filter::And(
                    Box::new(terms[0].clone()),
                    Box::new(terms[1].clone())
                )),
                Box::new(terms[2].clone())
            )
        );
        assert_eq!(Filter::all(Vec::new()), None);
        assert_eq!(Filter::any(vec![terms[0].clone()]), Some(terms[0].clone()));
    }

    #[test]
    fn limits_refuse_deep_and_wide_trees() {
        let leaf = Filter::Present(AttrPath::new("a"));
        let mut deep = leaf.clone();
        for _ in 1..MAX_DEPTH {
            deep = Filter::Not(Box::new(deep));
        }
        assert_eq!(deep.shape(), (MAX_DEPTH, 1));
        assert_eq!(deep.check_limits(), Ok(()));
        let deeper = Filter::Not(Box::new(deep));
        assert!(deeper.check_limits().unwrap_err().contains("nests"));
        let wide = Filter::any(vec![leaf; MAX_TERMS + 1]).unwrap();
        assert!(wide.check_limits().unwrap_err().contains("comparisons"));
    }

    #[test]
    fn reference_semantics() {
        let user = json!({
            "userName": "Bjensen@Example.com", "externalId": "ABC", "active": true,
            "name": { "familyName": "Jensen" },
            "emails": [{ "value": "bjensen@example.com", "type": "work" }, { "value": "babs@jensen.org", "type": "home" }],
            "meta": { "created": "2024-01-15T10:30:00Z" }
        });
        let s = |v: &str| Value::Str(v.into());
        assert!(matches(
            &user,
            &cmp("username", CompareOp::Eq, s("BJENSEN@example.com")),
            &Simple
        ));
        assert!(!matches(
            &user,
            &cmp("externalId", CompareOp::Eq, s("abc")),
            &Simple
        ));
        assert!(matches(
            &user,
            &cmp("name.familyName", CompareOp::Sw, s("jen")),
            &Simple
        ));
        assert!(matches(
            &user,
            &cmp("emails.value", CompareOp::Ew, s(".org")),
            &Simple
        ));
        assert!(matches(
            &user,
            &cmp("active", CompareOp::Eq, Value::Bool(true)),
            &Simple
        ));
        assert!(matches(
            &user,
            &cmp(
                "meta.created",
                CompareOp::Gt,
                s("2024-01-01T00:00:00+01:00")
            ),
            &Simple
        ));
        assert!(
            matches(&user, &cmp("title", CompareOp::Ne, s("x")), &Simple),
            "ne matches a missing attribute"
        );
        assert!(!matches(
            &user,
            &Filter::Present(AttrPath::new("title")),
            &Simple
        ));
        let vp = Filter::ValuePath(
            AttrPath::new("emails"),
            Box::new(Filter::And(
                Box::new(cmp("type", CompareOp::Eq, s("work"))),
                Box::new(cmp("value", CompareOp::Co, s("@EXAMPLE"))),
            )),
        );
        assert!(matches(&user, &vp, &Simple));
        let vp_none = Filter::ValuePath(
            AttrPath::new("emails"),
            Box::new(Filter::And(
                Box::new(cmp("type", CompareOp::Eq, s("home"))),
                Box::new(cmp("value", CompareOp::Co, s("@example"))),
            )),
        );
        assert!(
            !matches(&user, &vp_none, &Simple),
            "both conditions on the same value"
        );
    }
}
