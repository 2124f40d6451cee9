//! Every shell example in docs/ runs, in the order a reader meets it, on
//! a fresh server per page and on both backends: a drifted example fails
//! here instead of in a reader's terminal.
//!
//! The conventions the pages follow (docs/README.md states them for
//! readers): blocks fenced as `sh` run, any other fence is shown only;
//! `B` is the server's address and `ADMIN_EMAIL` / `ADMIN_PASSWORD` the
//! first administrator's, each defaulting in the page and set here; every
//! `curl` must answer 2xx unless the line before it says `# expect NNN`;
//! `mailed_link ADDRESS` stands for opening the newest mail to ADDRESS and
//! copying its link (here it reads the test's own SMTP server).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::support::smtp::Sink;
use crate::support::{spawn, Backend, ADMIN_EMAIL, ADMIN_PASSWORD};

on_both_backends!(every_docs_example_runs);

/// A fenced `sh` block: the line its fence opens on, and its text.
#[derive(Debug, PartialEq)]
struct Block {
    line: usize,
    text: String,
}

fn sh_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, bool, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match (&mut open, fence) {
            (None, true) => {
                let info = line.trim_start().trim_start_matches('`').trim();
                open = Some((i + 1, info == "sh", String::new()));
            }
            (Some((start, runs, text)), true) => {
                if *runs {
                    blocks.push(Block {
                        line: *start,
                        text: std::mem::take(text),
                    });
                }
                open = None;
            }
            (Some((_, _, text)), false) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, false) => {}
        }
    }
    blocks
}

/// A block as the runner executes it: `# expect NNN` sets the status the
/// next command's curl must answer, and is cleared once that command (with
/// its continuation lines and multi-line quotes) has run.
fn executable(block: &str) -> String {
    let mut out = String::new();
    let mut expecting = false;
    let mut quotes = Quotes::default();
    for line in block.lines() {
        let trimmed = line.trim();
        if !quotes.open() {
            if let Some(status) = trimmed.strip_prefix("# expect ") {
                out.push_str(&format!("EXPECT='{}'\n", status.trim()));
                expecting = true;
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
        quotes.scan(line);
        let command_ends = !quotes.open() && !trimmed.ends_with('\\') && !trimmed.starts_with('#');
        if expecting && command_ends && !trimmed.is_empty() {
            out.push_str("EXPECT=\n");
            expecting = false;
        }
    }
    out
}

/// Which shell quotes are open at the end of the text scanned so far.
#[derive(Default)]
struct Quotes {
    single: bool,
    double: bool,
}

impl Quotes {
    fn open(&self) -> bool {
        self.single || self.double
    }

    fn scan(&mut self, line: &str) {
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' if !self.single => {
                    chars.next();
                }
                '\'' if !self.double => self.single = !self.single,
                '"' if !self.single => self.double = !self.double,
                '#' if !self.open() => return,
                _ => {}
            }
        }
    }
}

/// What every page's script starts with.
const PRELUDE: &str = r#"
set -euo pipefail
EXPECT=
curl() {
    local expect="${EXPECT:-2[0-9][0-9]}" out status
    out=$(command curl -sS -w '\n%{http_code}' "$@") || { echo "curl failed: curl $*" >&2; return 1; }
    status=${out##*$'\n'}
    printf '%s\n' "${out%$'\n'*}"
    if ! [[ $status =~ ^($expect)$ ]]; then
        echo "HTTP $status, expected $expect: curl $*" >&2
        return 1
    fi
}
mailed_link() {
    local file="$MAILDIR/$(printf '%s' "$1" | tr 'A-Z' 'a-z')"
    for _ in $(seq 100); do [ -s "$file" ] && break; sleep 0.1; done
    [ -s "$file" ] || { echo "no mail reached $1" >&2; return 1; }
    tr -d '\r' < "$file" | grep -o 'https\?://[^ <>"]*' | head -n 1
    rm -f "$file"
}
"#;

fn pages(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Writes each mail the sink receives to `dir/<recipient>`, as a reader's
/// mailbox holding the newest message.
fn deliver_to(sink: &'static Sink, dir: PathBuf) {
    tokio::spawn(async move {
        loop {
            while let Some((recipients, mail)) = sink.take_next() {
                for r in recipients {
                    let text = format!("{}\n{}", mail.text, mail.html);
                    std::fs::write(dir.join(r.to_lowercase()), text).unwrap();
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}

async fn every_docs_example_runs(b: Backend) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sink: &'static Sink = Box::leak(Box::new(Sink::start(0)));
    let maildir = std::env::temp_dir().join(format!(
        "ithbat-docs-mail-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&maildir).unwrap();
    deliver_to(sink, maildir.clone());
    let mut ran = 0;
    for page in pages(&root.join("docs")) {
        let blocks = sh_blocks(&std::fs::read_to_string(&page).unwrap());
        if blocks.is_empty() {
            continue;
        }
        let name = page.strip_prefix(root).unwrap().display().to_string();
        let app = spawn(b, |c| c.smtp_url = Some(sink.url())).await;
        // The examples write files (answers they read again): a directory
        // of their own, so pages and backends running at once do not meet.
        let workdir = maildir.join(format!("work-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&workdir).unwrap();
        let mut script = PRELUDE.to_string();
        for block in &blocks {
            script.push_str(&format!("echo '>>> {name}:{}' >&2\n", block.line));
            script.push_str(&executable(&block.text));
        }
        let output = tokio::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("B", &app.base)
            .env("ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("MAILDIR", &maildir)
            .current_dir(&workdir)
            .stdin(Stdio::null())
            .output()
            .await
            .expect("bash runs");
        let tail = |bytes: &[u8]| {
            let start = bytes.len().saturating_sub(6000);
            String::from_utf8_lossy(&bytes[start..]).to_string()
        };
        assert!(
            output.status.success(),
            "{name}: an example failed ({b:?}).\n--- stderr (the last line says which block):\n{}\n--- stdout:\n{}",
            tail(&output.stderr),
            tail(&output.stdout)
        );
        ran += blocks.len();
        app.stop().await;
    }
    assert!(ran > 0, "docs/ holds no sh examples");
    let _ = std::fs::remove_dir_all(&maildir);
}

#[test]
fn blocks_and_expectations_are_read_as_documented() {
    let page = "text\n```sh\ncurl -g $B/a\n```\n```json\n{}\n```\n```sh\n# expect 404\ncurl -g \\\n  $B/b -d '{\n}'\nls\n```\n";
    let blocks = sh_blocks(page);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].line, 2);
    assert_eq!(
        executable(&blocks[1].text),
        "EXPECT='404'\ncurl -g \\\n  $B/b -d '{\n}'\nEXPECT=\nls\n"
    );
}
