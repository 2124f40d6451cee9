//! The import rule of ARCHITECTURE.md ("Layers"), checked on the source:
//! each room of src/ names the rooms it must not reach, and a path into
//! one of them (`crate::repo::...`, `use crate::{repo, ...}`) or a use of
//! a crate it must not depend on fails this test with file and line.

use std::fs;
use std::path::{Path, PathBuf};

/// (room, crate rooms it must not use, external crates it must not use)
const RULES: &[(&str, &[&str], &[&str])] = &[
    // Plain types and rules: nothing of the server around them.
    (
        "domain",
        &[
            "api", "service", "repo", "db", "config", "startup", "cli", "logging",
        ],
        &["actix_web", "diesel", "diesel_async"],
    ),
    // The backends: no queries, no use cases.
    (
        "db",
        &["api", "service", "repo", "startup", "cli"],
        &["actix_web"],
    ),
    // Queries: no use cases and nothing of HTTP.
    (
        "repo",
        &["api", "service", "config", "startup", "cli"],
        &["actix_web"],
    ),
    // Use cases: nothing of HTTP.
    ("service", &["api", "startup", "cli"], &["actix_web"]),
    // HTTP: use cases and domain types only, never a query or a connection.
    (
        "api",
        &["repo", "db", "startup", "cli"],
        &["diesel", "diesel_async"],
    ),
    // Configuration is read before anything runs.
    (
        "config.rs",
        &["api", "service", "repo", "startup", "cli"],
        &["actix_web", "diesel"],
    ),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line: without its `//` comment and string literals
/// (a doc comment may name any room).
fn code(line: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            '/' if !in_string && chars.peek() == Some(&'/') => break,
            _ if !in_string => out.push(c),
            _ => {}
        }
    }
    out
}

/// The crate rooms a line reaches: `crate::NAME` and the names directly
/// inside `crate::{...}` (a group may span lines: `open` carries it).
fn rooms_used(code: &str, open: &mut bool) -> Vec<String> {
    let mut used = Vec::new();
    let mut rest = code;
    if *open {
        let end = closing(code);
        used.extend(group_names(&code[..end.unwrap_or(code.len())]));
        *open = end.is_none();
    }
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = closing(group);
            used.extend(group_names(&group[..end.unwrap_or(group.len())]));
            *open = end.is_none();
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            used.push(name);
        }
        rest = after;
    }
    used
}

/// Where the group a `{` opened before `text` closes, if it does.
fn closing(text: &str) -> Option<usize> {
    let mut depth = 0;
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(at),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The first segment of each path in a `{a::b, c, d::{e}}` group.
fn group_names(group: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut start = true;
    for token in group.split_inclusive([',', '{', '}']) {
        let head = token.trim_start();
        if depth == 0 && start {
            let name: String = head
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
        match token.chars().last() {
            Some('{') => {
                depth += 1;
                start = false;
            }
            Some('}') => depth -= 1,
            Some(',') => start = depth == 0,
            _ => {}
        }
    }
    names
}

fn uses_crate(code: &str, krate: &str) -> bool {
    code.match_indices(krate).any(|(at, _)| {
        let before = code[..at].chars().last();
        let after = &code[at + krate.len()..];
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            && after.starts_with("::")
    })
}

#[test]
fn each_room_imports_only_what_its_rule_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut broken = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let room = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let Some((_, rooms, crates)) = RULES.iter().find(|(r, _, _)| *r == room) else {
            continue;
        };
        let text = fs::read_to_string(file).unwrap();
        let mut open = false;
        for (n, line) in text.lines().enumerate() {
            let code = code(line);
            for used in rooms_used(&code, &mut open) {
                if rooms.contains(&used.as_str()) {
                    broken.push(format!(
                        "src/{}:{}: {room} uses crate::{used}",
                        rel.display(),
                        n + 1
                    ));
                }
            }
            for krate in *crates {
                if uses_crate(&code, krate) {
                    broken.push(format!(
                        "src/{}:{}: {room} uses {krate}",
                        rel.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layer rule (ARCHITECTURE.md, Layers):\n{}",
        broken.join("\n")
    );
}

/// Whether a line asks actix for the `App` itself (`Data<App>`,
/// `app_data::<Data<service::App>>`) rather than for its `Gate`.
fn asks_for_app(code: &str) -> bool {
    let code: String = code.split_whitespace().collect();
    code.match_indices("Data<").any(|(at, _)| {
        let inside = &code[at + "Data<".len()..];
        let name = &inside[..inside.find('>').unwrap_or(inside.len())];
        name.rsplit("::").next() == Some("App")
    })
}

/// The HTTP layer holds the application as a `service::Gate`, whose only
/// way to the database is `run` (ARCHITECTURE.md, "Where request work
/// runs"). Only the gate is registered with actix, so a handler or an
/// extractor asking for `Data<App>` would fail every request: it fails
/// here instead, with file and line.
#[test]
fn the_http_layer_reaches_the_app_only_through_its_gate() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut files = Vec::new();
    sources(&api, &mut files);
    let mut broken = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if asks_for_app(&code(line)) {
                broken.push(format!(
                    "src/api/{}:{}: asks for Data<App>; take Data<Gate> and call run",
                    file.strip_prefix(&api).unwrap().display(),
                    n + 1
                ));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_scanner_sees_every_form_of_import() {
    let mut open = false;
    assert_eq!(rooms_used("use crate::repo::users;", &mut open), ["repo"]);
    assert_eq!(
        rooms_used("use crate::{domain::x, repo::{a, b}, service};", &mut open),
        ["domain", "repo", "service"]
    );
    assert_eq!(rooms_used("use crate::{", &mut open), Vec::<String>::new());
    assert!(open);
    assert_eq!(rooms_used("    db::Db, repo,", &mut open), ["db", "repo"]);
    assert_eq!(rooms_used("};", &mut open), Vec::<String>::new());
    assert!(!open);
    assert_eq!(
        rooms_used("let x = crate::repo::f(); ", &mut open),
        ["repo"]
    );
    assert_eq!(code("let s = \"crate::repo\"; // crate::db"), "let s = ; ");
    assert!(uses_crate("use diesel::prelude::*;", "diesel"));
    assert!(!uses_crate("use diesel_async::RunQueryDsl;", "diesel"));
    assert!(uses_crate("impl From<diesel::result::Error>", "diesel"));
    assert!(!uses_crate("crate::db::diesel_thing", "diesel"));
    assert!(asks_for_app("pub async fn show(app: Data<App>) {"));
    assert!(asks_for_app("req.app_data::<Data<crate::service::App>>()"));
    assert!(asks_for_app("web::Data< service :: App >"));
    assert!(!asks_for_app(
        "pub async fn show(gate: Data<Gate>, app: &App) {"
    ));
    assert!(!asks_for_app("let metrics: Data<Metrics> = ...;"));
}
