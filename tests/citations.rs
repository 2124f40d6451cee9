//! Comments and docs stand alone: where the code follows a source, they
//! cite a public RFC or a page of this repository's docs/, never a document
//! a reader of the repository does not have (the design notes the project
//! started from, or an issue tracker). This test reads every text file of
//! the repository's sources and docs and fails listing each `file:line`
//! that cites one. It needs no server and no database.

use std::path::{Path, PathBuf};

/// Directories and files read, relative to the repository root.
const ROOTS: [&str; 9] = [
    "src",
    "tests",
    "benches",
    "docs",
    "migrations",
    "scim-schemas",
    ".ci",
    "README.md",
    "ARCHITECTURE.md",
];

/// Files whose text may name the patterns: this test, which spells them out.
const EXEMPT: [&str; 1] = ["tests/citations.rs"];

/// Is `c` part of a word, as a regular expression's `\w` means it?
fn word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Every place in `line` (lowercased) where `needle` starts.
fn starts<'a>(line: &'a str, needle: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    line.match_indices(needle)
        .map(move |(i, _)| &line[i + needle.len()..])
}

/// What in `line` cites a document outside the repository, if anything.
/// `code` says whether the line comes from source code, where mentions of
/// issue numbers are refused too (a comment says what the rule is instead).
fn citation(line: &str, code: bool) -> Option<&'static str> {
    let l = line.to_lowercase();
    let l = l.as_str();
    let digit_0_3 = |rest: &str| rest.starts_with(['0', '1', '2', '3']);
    if starts(l, "seed 00")
        .chain(starts(l, "seeds 00"))
        .any(digit_0_3)
    {
        return Some("a seed");
    }
    if starts(l, "reference ").any(|r| r.starts_with(|c: char| c.is_ascii_digit() || c == '§')) {
        return Some("a section of the reference");
    }
    let md_file = |rest: &str| {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase())
            .collect();
        !name.is_empty() && rest[name.len()..].starts_with(".md")
    };
    if starts(l, "reference/").any(md_file) {
        return Some("a reference/ file");
    }
    for (needle, what) in [
        ("api-map", "the api-map"),
        ("../shared", "a file outside the repository"),
        ("shared/seeds", "a file outside the repository"),
        ("shared/reference", "a file outside the repository"),
    ] {
        if l.contains(needle) {
            return Some(what);
        }
    }
    let seed = |rest: &str| {
        let rest = rest.strip_prefix('s').unwrap_or(rest);
        !word(rest.chars().next())
    };
    if starts(l, "the seed").any(seed) {
        return Some("the seed");
    }
    // "The reference evaluator" is this repository's own
    // (`domain::filter::matches`); any other "the reference" is not.
    if starts(l, "the reference").any(|r| !word(r.chars().next()) && !r.starts_with(" evaluator")) {
        return Some("the reference");
    }
    if code {
        if starts(l, "issue ").any(|r| r.starts_with(|c: char| c.is_ascii_digit())) {
            return Some("an issue number");
        }
        if l.contains("issue item") {
            return Some("an issue item");
        }
    }
    None
}

fn files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for entry in entries {
            files(&entry, out);
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
}

#[test]
fn comments_and_docs_cite_only_what_a_reader_has() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for r in ROOTS {
        files(&root.join(r), &mut all);
    }
    assert!(
        all.len() > 100,
        "only {} files found under {}",
        all.len(),
        root.display()
    );
    let mut found = Vec::new();
    for path in all {
        let name = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if EXEMPT.contains(&name.as_str()) {
            continue;
        }
        // Images and other binary files are not text: nothing to cite.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let code = name.ends_with(".rs") || name.ends_with(".sql");
        for (n, line) in text.lines().enumerate() {
            if let Some(what) = citation(line, code) {
                found.push(format!("{name}:{}: {what}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "{} lines cite documents a reader of the repository does not have; \
         cite the RFC or the docs/ page that states the behaviour instead:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn the_patterns_catch_what_they_should_and_nothing_else() {
    for (line, code) in [
        ("/// All fields required (seed 003).", false),
        ("//! Seeds 000 and 001", false),
        ("// auth (reference 2.1, 2.4)", false),
        ("expiresAt (reference §9)", false),
        ("reference/aritma.md \"clients\"", false),
        ("api-map's list envelope", false),
        ("`../shared/architecture.md` was the starting design", false),
        ("The seed's request: two users", false),
        ("as the reference says", false),
        ("/// Issue 16, item 2: NUL", true),
        ("/// Issue item 4 and RFC 6749 3.3", true),
    ] {
        assert!(citation(line, code).is_some(), "not caught: {line}");
    }
    for (line, code) in [
        ("NOT means what the reference evaluator means", false),
        ("its seed (printed, to replay it)", false),
        ("let seed: u64 = 7;", true),
        ("/// All fields required (docs/api/iam.md, Clients).", true),
        ("RFC 7644 3.12: invalidFilter", true),
        ("| goal (issue 15) |", false),
        ("bulkId references are resolved", false),
    ] {
        assert!(citation(line, code).is_none(), "caught: {line}");
    }
}
