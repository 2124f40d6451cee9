//! What text a client may send, decided once for every dialect.
//!
//! Two rules:
//!
//! * Every string (JSON members and keys, query parameters, form fields,
//!   path segments, filter literals): no control characters (Unicode
//!   category Cc: C0, DEL, C1) except TAB, LF and CR, which free text
//!   (descriptions, SCIM `addresses.formatted`, metadata) may hold. NUL
//!   never reaches a database: PostgreSQL refuses it in text (a 500 before
//!   this rule) and SQLite cut values at it. Single-line fields (names,
//!   slugs, titles) refuse TAB, LF and CR too, in their own validators.
//! * Identifiers people recognise each other by (email addresses, SCIM
//!   userName): the `identifier` profile below, after PRECIS'
//!   IdentifierClass (RFC 8264 9.1) and UTS 39's restrictions, so that no
//!   two accounts differ only by characters a reader cannot see.

use serde_json::Value;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// What a refused string is told: the same words wherever it was sent.
pub const CONTROL_MESSAGE: &str = "must not contain control characters";

/// Refused in every string a client sends: controls, bar TAB, LF and CR.
pub fn is_refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether `text` holds a refused control character.
pub fn has_refused_control(text: &str) -> bool {
    text.chars().any(is_refused_control)
}

/// Checks a client's string against the rule for every string.
pub fn check_text(text: &str) -> Result<(), &'static str> {
    if has_refused_control(text) {
        Err(CONTROL_MESSAGE)
    } else {
        Ok(())
    }
}

/// One step into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Where in a JSON document a refused string was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(pub Vec<Step>);

impl JsonPath {
    /// `a.b[0].c`, as serde_path_to_error names fields.
    pub fn dotted(&self) -> String {
        let mut out = String::new();
        for step in &self.0 {
            match step {
                Step::Key(k) if out.is_empty() => out.push_str(k),
                Step::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// An RFC 6901 JSON pointer (`/a/b/0/c`).
    pub fn pointer(&self) -> String {
        self.0
            .iter()
            .map(|step| match step {
                Step::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
                Step::Index(i) => format!("/{i}"),
            })
            .collect()
    }
}

/// The first string (value or member name) in `value` holding a refused
/// control character: the path of its member (a bad member name is
/// reported at the object holding it, so the name itself is never echoed).
/// Walks with an explicit stack: the document's depth costs no call stack.
pub fn find_control(value: &Value) -> Option<JsonPath> {
    // Depth-first: `path` is the way to the value popped, cut back to its
    // depth before its own step is added.
    let mut path: Vec<Step> = Vec::new();
    let mut stack: Vec<(&Value, usize, Option<Step>)> = vec![(value, 0, None)];
    while let Some((value, depth, step)) = stack.pop() {
        path.truncate(depth);
        path.extend(step);
        match value {
            Value::String(s) if has_refused_control(s) => return Some(JsonPath(path)),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push((item, path.len(), Some(Step::Index(i))));
                }
            }
            Value::Object(members) => {
                if members.keys().any(|k| has_refused_control(k)) {
                    return Some(JsonPath(path));
                }
                for (k, v) in members.iter().rev() {
                    stack.push((v, path.len(), Some(Step::Key(k.clone()))));
                }
            }
            _ => {}
        }
    }
    None
}

/// The identifier profile (emails, user names). Refused:
///
/// * every control (Cc), TAB, LF and CR included;
/// * every format character (Cf): the bidi controls U+061C, U+200E,
///   U+200F, U+202A-U+202E, U+2066-U+2069; the zero-width U+200B-U+200D,
///   U+2060, U+FEFF; the soft hyphen U+00AD; tag characters
///   U+E0001, U+E0020-U+E007F; and the rest of the category;
/// * the other default-ignorable code points (Unicode's
///   Default_Ignorable_Code_Point), which render as nothing: variation
///   selectors U+FE00-U+FE0F and U+E0100-U+E01EF, the combining grapheme
///   joiner U+034F, the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, the
///   Khmer inherent vowels U+17B4, U+17B5, the Mongolian free variation
///   selectors U+180B-U+180D, U+180F;
/// * line and paragraph separators (Zl, Zp), and every space but U+0020
///   (Zs: no-break, ideographic, en, em... spaces look like a space or
///   like nothing);
/// * private-use (Co), surrogate (Cs) and unassigned (Cn) code points,
///   which no reader can tell apart.
///
/// Letters, marks, digits, punctuation and symbols of every script stay
/// allowed: lookalikes across scripts (Cyrillic `а` for Latin `a`) are a
/// matter for display, not refused here.
pub fn check_identifier(text: &str) -> Result<(), &'static str> {
    if text.chars().any(|c| c.is_control()) {
        return Err(CONTROL_MESSAGE);
    }
    if text.chars().any(is_invisible) {
        return Err("must not contain invisible or bidirectional formatting characters");
    }
    Ok(())
}

/// Characters the identifier profile refuses besides controls.
fn is_invisible(c: char) -> bool {
    use GeneralCategory as G;
    match c.general_category() {
        G::Format | G::PrivateUse | G::Surrogate | G::Unassigned => true,
        G::LineSeparator | G::ParagraphSeparator => true,
        G::SpaceSeparator => c != ' ',
        _ => matches!(
            c,
            '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{E0000}'..='\u{E0FFF}'
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn controls_but_tab_newline_and_return_are_refused() {
        for bad in ["a\0b", "\u{1}", "\u{1b}[31m", "\u{7f}", "\u{85}", "\u{9f}"] {
            assert_eq!(check_text(bad), Err(CONTROL_MESSAGE), "{bad:?}");
        }
        for good in ["plain", "two\nlines\r\n", "a\tb", "émoji 🎉", "\u{202e}"] {
            assert_eq!(check_text(good), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn finds_the_member_holding_a_control() {
        let doc = json!({"a": "ok", "b": [{"c": "x"}, {"d": "bad\u{0}"}], "e": "also\u{1}"});
        let path = find_control(&doc).unwrap();
        assert_eq!(path.dotted(), "b[1].d");
        assert_eq!(path.pointer(), "/b/1/d");
        let key = json!({"meta": {"k\u{0}": 1}});
        assert_eq!(find_control(&key).unwrap().dotted(), "meta");
        assert_eq!(
            find_control(&json!({"a/b~": "\u{0}"})).unwrap().pointer(),
            "/a~1b~0"
        );
        assert_eq!(find_control(&json!({"text": "line\nline\ttab"})), None);
        assert_eq!(find_control(&json!("\u{0}")).unwrap().dotted(), "");
    }

    #[test]
    fn deep_documents_cost_no_call_stack() {
        let mut doc = json!("\u{0}");
        for _ in 0..10_000 {
            doc = Value::Array(vec![doc]);
        }
        assert_eq!(find_control(&doc).map(|p| p.0.len()), Some(10_000));
        // serde_json's own drop of such a value would recurse; take it apart.
        let mut stack = vec![doc];
        while let Some(v) = stack.pop() {
            if let Value::Array(items) = v {
                stack.extend(items);
            }
        }
    }

    #[test]
    fn identifiers_refuse_what_cannot_be_seen() {
        for bad in [
            "w\u{202e}evil@a.example",
            "w\u{200b}@a.example",
            "w\u{200d}x",
            "\u{feff}bom",
            "soft\u{ad}hyphen",
            "arabic\u{61c}mark",
            "lrm\u{200e}",
            "isolate\u{2066}x\u{2069}",
            "vs\u{fe0f}",
            "vs\u{e0100}",
            "tag\u{e0041}",
            "filler\u{3164}",
            "cgj\u{34f}",
            "nbsp\u{a0}x",
            "ideographic\u{3000}space",
            "line\u{2028}sep",
            "private\u{e000}",
            "tab\there",
            "nul\0",
        ] {
            assert!(check_identifier(bad).is_err(), "{bad:?}");
        }
        for good in [
            "bjensen@example.com",
            "Barbara Jensen",
            "müller@exämple.de",
            "用户@例子.测试",
            "o'malley+tag@x.example",
            "अनु@उदाहरण.भारत",
        ] {
            assert_eq!(check_identifier(good), Ok(()), "{good:?}");
        }
    }
}
