//! Logging: env_logger with the id of the request being served on every line.

use std::io::Write;

tokio::task_local! {
    /// The id of the request being served. Set by the HTTP layer and carried
    /// into the tasks a request spawns (`Gate::run`).
    pub static REQUEST_ID: String;
}

/// The current request id, if inside a request.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// Log format: time, level, target, request id (inside a request), message.
pub fn init() {
    let env = env_logger::Env::default().default_filter_or("info");
    let _ = env_logger::Builder::from_env(env)
        .format(|buf, record| {
            let ts = buf.timestamp_millis();
            // Access lines carry the id themselves.
            match request_id().filter(|_| record.target() != "ithbat::access") {
                Some(id) => writeln!(
                    buf,
                    "{ts} {} {} [{id}] {}",
                    record.level(),
                    record.target(),
                    record.args()
                ),
                None => writeln!(
                    buf,
                    "{ts} {} {} {}",
                    record.level(),
                    record.target(),
                    record.args()
                ),
            }
        })
        .try_init();
}
