//! The administration commands of the real binary (`ithbat tenants ...`),
//! run as an operator runs them: a process configured by its environment,
//! on a database a server may be serving at the same time.

use std::path::PathBuf;

use serde_json::Value;

use super::instance::{command, Instance};
use super::{signing_key, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

/// What one run of `ithbat` did.
pub struct Outcome {
    /// The exit status.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The binary's environment for one fresh database.
pub struct Operator {
    pub db: TestDb,
    pub dir: PathBuf,
    pub env: Vec<(&'static str, String)>,
}

impl Operator {
    /// A fresh database (nothing in it yet) and the environment that names it.
    pub async fn new(backend: super::Backend) -> Operator {
        let db = TestDb::create(backend).await;
        let url = match &db.url {
            ithbat::db::DatabaseUrl::Postgres(url) => url.clone(),
            ithbat::db::DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
        };
        let dir =
            std::env::temp_dir().join(format!("ithbat-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        // The test process's key: an RSA key per database costs seconds.
        let key = dir.join("signing-key.pem");
        std::fs::write(&key, signing_key()).unwrap();
        let env = vec![
            ("DATABASE_URL", url),
            ("ITHBAT_LISTEN", "127.0.0.1:0".into()),
            ("ITHBAT_ADMIN_EMAIL", ADMIN_EMAIL.into()),
            ("ITHBAT_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
            ("ITHBAT_ARGON2_MEMORY_KIB", "256".into()),
            ("ITHBAT_ARGON2_ITERATIONS", "1".into()),
            (
                "ITHBAT_SIGNING_KEY_FILE",
                key.to_string_lossy().into_owned(),
            ),
            ("RUST_LOG", "warn".into()),
        ];
        Operator { db, dir, env }
    }

    /// Runs `ithbat ARGS`, with `stdin` as its standard input.
    pub async fn run_with_input(&self, args: &[&str], stdin: &str) -> Outcome {
        use tokio::io::AsyncWriteExt;
        let mut child = command(&self.dir, &self.env)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        let out = child.wait_with_output().await.unwrap();
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `ithbat ARGS` to its end.
    pub async fn run(&self, args: &[&str]) -> Outcome {
        self.run_with_input(args, "").await
    }

    /// Runs `ithbat --json ARGS`, which must succeed; its JSON document.
    pub async fn json(&self, args: &[&str]) -> Value {
        let args: Vec<&str> = std::iter::once("--json")
            .chain(args.iter().copied())
            .collect();
        let out = self.run(&args).await;
        assert_eq!(out.code, 0, "ithbat {args:?}: {}{}", out.stdout, out.stderr);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("ithbat {args:?} printed no JSON ({e}): {}", out.stdout))
    }

    /// Starts `ithbat serve` on the same database.
    pub async fn serve(&self) -> Instance {
        // Its address is in an INFO line.
        let mut env = self.env.clone();
        env.retain(|(k, _)| *k != "RUST_LOG");
        env.push(("RUST_LOG", "info".into()));
        Instance::start(&self.dir, &env)
            .await
            .unwrap_or_else(|log| panic!("the server did not start: {log:#?}"))
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
