//! Parses SCIM filters (`filter.pest`) into the shared `domain::filter` AST.

use pest::iterators::Pair;
use pest::Parser;
use pest_derive::Parser;

use crate::domain::filter::{AttrPath, CompareOp, Filter, Value, MAX_NESTING};
use crate::domain::text;

#[derive(Parser)]
#[grammar = "api/scim/filter.pest"]
struct ScimFilter;

/// Longest filter (or PATCH path) accepted: filters are written by hand or
/// by an IdP's sync engine, never megabytes.
pub const MAX_FILTER_LEN: usize = 4096;

/// Parses a filter; the error says where and what was expected. Length
/// and nesting are checked on the text first, because the PEG parser and
/// the tree builder recurse per level of parentheses; the tree's depth and
/// size after (`Filter::check_limits`).
pub fn parse(input: &str) -> Result<Filter, String> {
    check_text(input, "filter")?;
    let mut pairs = ScimFilter::parse(Rule::filter, input).map_err(|e| {
        let col = match e.line_col {
            pest::error::LineColLocation::Pos((_, col))
            | pest::error::LineColLocation::Span((_, col), _) => col,
        };
        format!("syntax error at character {col} of the filter")
    })?;
    let filter = pairs.next().expect("filter rule");
    let or_expr = filter.into_inner().next().expect("or_expr");
    let filter = build(or_expr)?;
    filter
        .check_limits()
        .map_err(|e| format!("the filter {e}"))?;
    Ok(filter)
}

/// The checks made on a filter's or a path's raw text before anything
/// recursive looks at it: its length, and how deep its parentheses and
/// brackets nest outside string literals.
pub fn check_text(input: &str, what: &str) -> Result<(), String> {
    if input.len() > MAX_FILTER_LEN {
        return Err(format!(
            "the {what} is longer than {MAX_FILTER_LEN} characters"
        ));
    }
    if nesting(input) > MAX_NESTING {
        return Err(format!(
            "the {what} nests parentheses or brackets more than {MAX_NESTING} levels deep"
        ));
    }
    Ok(())
}

/// The deepest nesting of `(` and `[` in `input`, skipping string
/// literals (`"..."` with backslash escapes). Unbalanced text is measured
/// all the same; the parser refuses it after.
fn nesting(input: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for c in input.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Builds the AST from a parse tree node.
fn build(pair: Pair<'_, Rule>) -> Result<Filter, String> {
    match pair.as_rule() {
        Rule::or_expr | Rule::val_or => fold(pair, Filter::any),
        Rule::and_expr | Rule::val_and => fold(pair, Filter::all),
        Rule::unary | Rule::val_unary | Rule::group | Rule::val_group => {
            build(pair.into_inner().next().expect("inner expression"))
        }
        Rule::not_expr | Rule::val_not => {
            let inner = pair
                .into_inner()
                .find(|p| matches!(p.as_rule(), Rule::or_expr | Rule::val_or));
            Ok(Filter::Not(Box::new(build(
                inner.expect("negated expression"),
            )?)))
        }
        Rule::value_path => {
            let mut inner = pair.into_inner();
            let path = attr_path(inner.next().expect("attribute").as_str())?;
            if path.sub.is_some() {
                return Err(format!(
                    "{path}: a value path names a multi-valued attribute, not a sub-attribute"
                ));
            }
            let mut filter = build(inner.next().expect("value filter"))?;
            if let Some(sub) = inner.next() {
                // `attr[f].sub op v` is `attr[f and sub op v]`.
                let mut sub = sub.into_inner();
                let name = attr_path(sub.next().expect("sub-attribute").as_str())?;
                let condition = condition(name, sub)?;
                filter = Filter::And(Box::new(filter), Box::new(condition));
            }
            Ok(Filter::ValuePath(path, Box::new(filter)))
        }
        Rule::attr_exp => {
            let mut inner = pair.into_inner();
            let path = attr_path(inner.next().expect("attribute").as_str())?;
            condition(path, inner)
        }
        other => Err(format!("unexpected {other:?}")),
    }
}

/// `path pr` or `path op value`, from the tokens after the path.
fn condition(
    path: AttrPath,
    mut tokens: pest::iterators::Pairs<'_, Rule>,
) -> Result<Filter, String> {
    let next = tokens.next().expect("operator");
    if next.as_rule() == Rule::present {
        return Ok(Filter::Present(path));
    }
    let op = CompareOp::parse(next.as_str()).expect("grammar admits only operators");
    let value = comp_value(tokens.next().expect("value"))?;
    Ok(Filter::Compare(path, op, value))
}

/// `a op b op c` as a balanced tree (`Filter::all`, `Filter::any`),
/// skipping the keyword tokens.
fn fold(pair: Pair<'_, Rule>, join: fn(Vec<Filter>) -> Option<Filter>) -> Result<Filter, String> {
    let operands = pair
        .into_inner()
        .filter(|p| !matches!(p.as_rule(), Rule::or_kw | Rule::and_kw))
        .map(build)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(join(operands).expect("at least one operand"))
}

fn comp_value(pair: Pair<'_, Rule>) -> Result<Value, String> {
    let inner = pair.into_inner().next().expect("a value");
    Ok(match inner.as_rule() {
        Rule::true_kw => Value::Bool(true),
        Rule::false_kw => Value::Bool(false),
        Rule::null_kw => Value::Null,
        Rule::number => Value::Num(
            inner
                .as_str()
                .parse()
                .map_err(|_| format!("{} is not a number", inner.as_str()))?,
        ),
        Rule::string => {
            // The grammar accepted JSON string syntax; let serde_json unescape it.
            let s: String =
                serde_json::from_str(inner.as_str()).map_err(|_| "malformed string".to_string())?;
            text::check_text(&s).map_err(|e| format!("a string value {e}"))?;
            Value::Str(s)
        }
        other => return Err(format!("unexpected {other:?}")),
    })
}

/// Splits `[URN ":"] name ["." sub]`. A URN ends at its last colon; the
/// name and sub-attribute must be ATTRNAMEs (or `$ref`).
pub fn attr_path(raw: &str) -> Result<AttrPath, String> {
    let (schema, rest) = match raw.rfind(':') {
        Some(i) => (Some(raw[..i].to_string()), &raw[i + 1..]),
        None => (None, raw),
    };
    if let Some(urn) = &schema {
        if !urn.to_ascii_lowercase().starts_with("urn:") {
            return Err(format!("{raw}: a schema must be a URN"));
        }
    }
    let (name, sub) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    let valid = |n: &str| {
        n == "$ref"
            || (n.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    };
    if !valid(name) || sub.is_some_and(|s| !valid(s)) {
        return Err(format!("{raw} is not an attribute path"));
    }
    Ok(AttrPath {
        schema,
        name: name.to_string(),
        sub: sub.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    fn cmp(path: &str, op: CompareOp, v: Value) -> Filter {
        Filter::Compare(attr_path(path).unwrap(), op, v)
    }

    #[test]
    fn rfc_examples_parse() {
        // RFC 7644 3.4.2.2 examples.
        let examples = [
            r#"userName Eq "john""#,
            r#"name.familyName co "O'Malley""#,
            r#"userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            r#"title pr"#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
            r#"title pr and userType eq "Employee""#,
            r#"title pr or userType eq "Intern""#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42""#,
            r#"active eq false"#,
            r#"x eq null"#,
            r#"loginCount gt 10.5"#,
        ];
        for e in examples {
            parse(e).unwrap_or_else(|err| panic!("{e}: {err}"));
        }
    }

    #[test]
    fn precedence_and_structure() {
        let f = parse(r#"a eq "1" or b eq "2" and c eq "3""#).unwrap();
        assert_eq!(
            f,
            Filter::Or(
                Box::new(cmp("a", CompareOp::Eq, s("1"))),
                Box::new(Filter::And(
                    Box::new(cmp("b", CompareOp::Eq, s("2"))),
                    Box::new(cmp("c", CompareOp::Eq, s("3")))
                ))
            )
        );
        let f = parse(r#"(a eq "1" or b eq "2") and not (c pr)"#).unwrap();
        assert!(matches!(f, Filter::And(_, ref r) if matches!(**r, Filter::Not(_))));
        let f = parse(r#"emails[type eq "work"]"#).unwrap();
        assert!(matches!(f, Filter::ValuePath(ref p, _) if p.name == "emails"));
        let f = parse(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#,
        )
        .unwrap();
        match f {
            Filter::Compare(p, _, _) => {
                assert_eq!(
                    p.schema.as_deref(),
                    Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
                );
                assert_eq!(
                    (p.name.as_str(), p.sub.as_deref()),
                    ("manager", Some("value"))
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse(r#"userName eq "a\"b\\c""#).unwrap(),
            cmp("userName", CompareOp::Eq, s("a\"b\\c"))
        );
        // Entra ID's filtered value path with a trailing condition.
        assert_eq!(
            parse(r#"emails[type eq "work"].value eq "a@b.example""#).unwrap(),
            Filter::ValuePath(
                attr_path("emails").unwrap(),
                Box::new(Filter::And(
                    Box::new(cmp("type", CompareOp::Eq, s("work"))),
                    Box::new(cmp("value", CompareOp::Eq, s("a@b.example")))
                ))
            )
        );
        assert!(matches!(
            parse(r#"phoneNumbers[type eq "fax"].value pr and active eq true"#).unwrap(),
            Filter::And(ref l, _) if matches!(**l, Filter::ValuePath(_, ref f) if matches!(**f, Filter::And(_, ref r) if matches!(**r, Filter::Present(_))))
        ));
        assert_eq!(
            parse(r#"organization eq "x""#).unwrap(),
            cmp("organization", CompareOp::Eq, s("x"))
        );
        assert_eq!(
            parse(r#"notes eq "x""#).unwrap(),
            cmp("notes", CompareOp::Eq, s("x"))
        );
    }

    #[test]
    fn everything_else_is_rejected() {
        for bad in [
            "",
            "userName",
            r#"userName eq"#,
            r#"userName equals "x""#,
            r#"userName eq "x" and"#,
            r#"userName eq 'x'"#,
            r#"userName eq "x""#.replace(' ', "").as_str(),
            r#"(userName eq "x""#,
            r#"emails[type eq "work""#,
            r#"emails[type[value eq "x"]]"#,
            r#"emails.value[type eq "x"]"#,
            r#"emails[type eq "work"].value"#,
            r#"emails[type eq "work"].value.x eq "y""#,
            r#"emails[type eq "work"]."#,
            r#"emails[type eq "work"] .value eq "x""#,
            r#"userName eq "x" junk"#,
            r#"1abc eq "x""#,
            r#"userName eq "unterminated"#,
            r#"userName eq tru"#,
            r#"userName eq "x" or or b eq "y""#,
            r#"not userName eq "x""#,
            r#"http://x:y eq "z""#,
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    const TOKENS: &[&str] = &[
        "(",
        ")",
        "[",
        "]",
        "not",
        "and",
        "or",
        "userName",
        "emails",
        "emails.value",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        "pr",
        "eq",
        "co",
        "gt",
        "\"x\"",
        "\"",
        "\\",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "1",
        "-1.5e3",
        "true",
        "null",
        ".",
        "value",
        "type",
        "$ref",
        "\u{202e}",
        "\0",
    ];

    /// Arbitrary bytes and random token soups never panic, and whatever
    /// parses is within the tree limits.
    #[test]
    fn fuzzed_filters_never_panic() {
        crate::fuzz::on_small_stack(|| {
            let mut rng = crate::fuzz::rng(7);
            let mut inputs = Vec::new();
            for _ in 0..2000 {
                inputs.push(crate::fuzz::bytes(&mut rng, 200));
                inputs.push(crate::fuzz::soup(&mut rng, TOKENS, 60));
            }
            for input in &inputs {
                if let Ok(f) = parse(input) {
                    assert_eq!(f.check_limits(), Ok(()), "{input:?}");
                }
            }
            crate::fuzz::never_panics(inputs, parse);
        });
    }

    /// Nesting beyond MAX_NESTING is refused before the parser recurses,
    /// however deep; within it, the whole filter parses.
    #[test]
    fn deep_filters_are_refused_before_parsing() {
        use crate::fuzz::nested;
        crate::fuzz::on_small_stack(|| {
            let leaf = "userName pr";
            let vp = r#"type eq "work""#;
            for depth in [MAX_NESTING + 1, 400, 1000, 100_000] {
                for deep in [
                    nested("(", leaf, ")", depth),
                    nested("not(", leaf, ")", depth),
                    nested("not (", leaf, " )", depth),
                    format!("emails[{}]", nested("(", vp, ")", depth - 1)),
                    format!("{}{leaf}", "(".repeat(depth)),
                ] {
                    let err = parse(&deep).unwrap_err();
                    assert!(
                        err.contains("nests") || err.contains("longer than"),
                        "{depth}: {err}"
                    );
                }
            }
            // Parentheses inside string literals do not count.
            let quoted = format!(r#"userName eq "{}""#, "(".repeat(100));
            assert!(parse(&quoted).is_ok());
            let at_limit = [
                nested("(", leaf, ")", MAX_NESTING),
                nested("not(", leaf, ")", MAX_NESTING),
                nested("not(", &format!("{leaf} or title pr"), ")", MAX_NESTING),
                format!("emails[{}]", nested("(", vp, ")", MAX_NESTING - 1)),
            ];
            for filter in at_limit {
                let f = parse(&filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
                assert!(f.shape().0 <= crate::domain::filter::MAX_DEPTH);
            }
        });
    }

    /// The deepest tree a filter within the length and nesting limits can
    /// build (a `not` and a chain of terms at every level) is built, then
    /// refused by the tree check, on a small stack.
    #[test]
    fn deep_trees_within_the_text_limits_are_refused() {
        crate::fuzz::on_small_stack(|| {
            let level = "not(userName pr or title pr or nickName pr or title pr or ";
            let filter = format!(
                "{}userName pr{}",
                level.repeat(MAX_NESTING),
                ")".repeat(MAX_NESTING)
            );
            assert!(filter.len() <= MAX_FILTER_LEN);
            let err = parse(&filter).unwrap_err();
            assert!(err.contains("nests more than 64"), "{err}");
        });
    }

    /// Long chains of `or` are balanced trees, so they stay shallow.
    #[test]
    fn long_chains_are_shallow() {
        let chain = vec![r#"userName eq "x""#; 200].join(" or ");
        let f = parse(&chain).unwrap();
        assert_eq!(f.shape(), (9, 200));
    }

    #[test]
    fn string_values_refuse_control_characters() {
        for bad in [
            r#"userName eq "a\u0000b""#,
            r#"userName eq "\u001b""#,
            "userName eq \"a\u{85}\"",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("control characters"), "{bad}: {err}");
        }
        assert!(parse(r#"title co "two\nlines""#).is_ok());
    }
}
