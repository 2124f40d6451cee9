//! The real binary as a process, configured through its environment the
//! way an operator runs it.

use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// A running `ithbat serve`.
pub struct Instance {
    /// `http://127.0.0.1:PORT`, from its "listening on" log line.
    pub base: String,
    /// Its log up to now.
    pub log: Vec<String>,
    lines: mpsc::UnboundedReceiver<String>,
    child: Child,
}

/// `ithbat` with exactly `env`, working in `dir`.
pub fn command(dir: &Path, env: &[(&str, String)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ithbat"));
    c.current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    c
}

impl Instance {
    /// Starts the server and waits until it listens; its log if it exits
    /// (or says nothing for 60 s) first.
    pub async fn start(dir: &Path, env: &[(&str, String)]) -> Result<Instance, Vec<String>> {
        let mut child = command(dir, env).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, mut lines) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let _ = tx.send(line);
            }
        });
        let mut log = Vec::new();
        loop {
            let line = match tokio::time::timeout(Duration::from_secs(60), lines.recv()).await {
                Ok(Some(line)) => line,
                _ => return Err(log),
            };
            let base = line
                .split("listening on ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .map(String::from);
            log.push(line);
            if let Some(base) = base {
                return Ok(Instance {
                    base,
                    log,
                    lines,
                    child,
                });
            }
        }
    }

    /// Stops the process; its whole log.
    pub async fn stop(mut self) -> Vec<String> {
        self.child.kill().await.unwrap();
        while let Ok(Some(line)) =
            tokio::time::timeout(Duration::from_millis(500), self.lines.recv()).await
        {
            self.log.push(line);
        }
        self.log
    }
}

/// Runs `ithbat ARGS` to its end: (success, stdout, stderr).
pub async fn run(dir: &Path, env: &[(&str, String)], args: &[&str]) -> (bool, String, String) {
    let out = command(dir, env).args(args).output().await.unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
