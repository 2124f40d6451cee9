//! Configuration: read once from the environment (and an optional `.env`
//! file), validated at start, with documented defaults.

use std::net::SocketAddr;

use argon2::Params;

use crate::db::{DatabaseUrl, Timeouts};
use crate::domain::secret::SealingKey;
use crate::domain::signing::SigningAlg;

/// Every setting, its default and its meaning; printed by `ithbat --help`
/// and mirrored in the README.
pub const ENV_HELP: &str = "\
Configuration (environment variables; a .env file in the working directory is read too):
  DATABASE_URL               postgres://... or sqlite://PATH        [default: sqlite://ithbat.db]
  ITHBAT_LISTEN              address to listen on                   [default: 127.0.0.1:8080]
  ITHBAT_PUBLIC_URL          issuer and link base                   [default: http:// + listen address]
  ITHBAT_ADMIN_EMAIL         first-start platform administrator     [default: admin@localhost]
  ITHBAT_ADMIN_PASSWORD      its password                           [default: random, printed once]
  ITHBAT_SMTP_URL            mail relay, e.g. smtp://127.0.0.1:2525 [default: mail is logged, not sent]
  ITHBAT_MAIL_FROM           sender of invitation and reset mail    [default: ithbat <no-reply@localhost>]
  ITHBAT_WORKERS             HTTP worker threads                    [default: number of CPUs]
  ITHBAT_DB_POOL_SIZE        database connections                   [default: 16 PostgreSQL, 8 SQLite]
  ITHBAT_DB_ACQUIRE_TIMEOUT  seconds a request waits for a database connection [default: 5]
  ITHBAT_DB_STATEMENT_TIMEOUT  seconds one statement may take (then 503) [default: 10]
  ITHBAT_ARGON2_MEMORY_KIB   argon2id memory cost                   [default: 19456 (OWASP)]
  ITHBAT_ARGON2_ITERATIONS   argon2id passes                        [default: 2 (OWASP)]
  ITHBAT_ARGON2_PARALLELISM  argon2id lanes                         [default: 1 (OWASP)]
  ITHBAT_HASH_CONCURRENCY    password hashes computed at once       [default: number of CPUs]
  ITHBAT_ACCESS_TOKEN_TTL    access token lifetime, seconds         [default: 3600]
  ITHBAT_REFRESH_TOKEN_TTL   refresh token lifetime, seconds        [default: 2592000 (30 days)]
  ITHBAT_MAX_BODY_BYTES      largest request body                   [default: 1048576]
  ITHBAT_TRUST_PROXY         take the client address from X-Forwarded-For [default: false]
  ITHBAT_METRICS_TOKEN       bearer token required by /metrics      [default: none, /metrics is open]
  REDIS_URL                  share rate-limit counters in Redis      [default: counted in this process]
  ITHBAT_RATE_LIMIT_ANONYMOUS           requests a minute per address without a token   [default: 600]
  ITHBAT_AUTH_RATE_LIMIT_PER_IP         sign-in attempts a minute per address           [default: 120]
  ITHBAT_AUTH_RATE_LIMIT_PER_ACCOUNT    sign-in attempts a minute per account           [default: 30]
  ITHBAT_SIGNING_ALG         algorithm of new signing keys: RS256, ES256 or EdDSA [default: RS256]
  ITHBAT_SIGNING_KEY_FILE    private key (PKCS#8 PEM; PKCS#1 for RSA) to import on first start [default: a new key is generated]
  ITHBAT_SIGNING_KEY_REFRESH seconds between reads of the signing keys (rotations reach every instance) [default: 60]
  ITHBAT_SECRET_KEY          base64 of 32 bytes sealing TOTP secrets [default: generated, stored in the database]
  ITHBAT_DNS_RESOLVER        DNS server for domain verification, e.g. 127.0.0.1:5353 [default: the system's]
  RUST_LOG                   log filter                             [default: info]";

/// argon2id cost. The defaults are OWASP's: 19 MiB, 2 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashCost {
    pub const OWASP: HashCost = HashCost {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    pub fn params(self) -> Result<Params, String> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| e.to_string())
    }
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost::OWASP
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub listen: SocketAddr,
    /// None: `http://` + the address actually bound.
    pub public_url: Option<String>,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// `smtp://[user:pass@]host:port` (STARTTLS with `?tls=required`) or
    /// `smtps://...` (TLS); None: mail is logged, not sent.
    pub smtp_url: Option<String>,
    /// The From of every mail.
    pub mail_from: String,
    pub workers: usize,
    pub db_pool_size: usize,
    pub db_timeouts: Timeouts,
    pub hash_cost: HashCost,
    pub hash_concurrency: usize,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub max_body_bytes: usize,
    pub trust_proxy: bool,
    pub metrics_token: Option<String>,
    pub redis_url: Option<String>,
    /// Requests a minute per client address for requests without a token.
    pub anonymous_rate_limit: u32,
    /// Sign-in attempts a minute per client address.
    pub auth_rate_limit_per_ip: u32,
    /// Sign-in attempts a minute per (tenant, email).
    pub auth_rate_limit_per_account: u32,
    /// The algorithm of keys generated on first start and by rotation.
    pub signing_alg: SigningAlg,
    /// PEM of the private key to store when the database has none.
    pub signing_key_pem: Option<String>,
    /// How often the signing keys are read again from the database.
    pub signing_key_refresh: std::time::Duration,
    /// The key sealing TOTP secrets; None: one kept in the database.
    pub secret_key: Option<SealingKey>,
    /// The DNS server domain verification asks; None: the system's resolver.
    pub dns_resolver: Option<SocketAddr>,
}

fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

impl Config {
    /// The defaults for a database; everything else as documented.
    pub fn new(database_url: DatabaseUrl) -> Config {
        let pool = match database_url {
            DatabaseUrl::Postgres(_) => 16,
            DatabaseUrl::Sqlite(_) => 8,
        };
        Config {
            database_url,
            listen: "127.0.0.1:8080".parse().expect("valid default"),
            public_url: None,
            admin_email: None,
            admin_password: None,
            smtp_url: None,
            mail_from: "ithbat <no-reply@localhost>".into(),
            workers: cpus(),
            db_pool_size: pool,
            db_timeouts: Timeouts::default(),
            hash_cost: HashCost::OWASP,
            hash_concurrency: cpus(),
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            max_body_bytes: 1 << 20,
            trust_proxy: false,
            metrics_token: None,
            redis_url: None,
            anonymous_rate_limit: 600,
            auth_rate_limit_per_ip: 120,
            auth_rate_limit_per_account: 30,
            signing_alg: SigningAlg::Rs256,
            signing_key_pem: None,
            signing_key_refresh: std::time::Duration::from_secs(60),
            secret_key: None,
            dns_resolver: None,
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Config, Vec<String>> {
        Config::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Reads settings through `get`; every invalid one is reported.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<String>> {
        let mut r = Reader {
            get: &get,
            errors: Vec::new(),
        };
        let mut c = Config::new(r.database_url());
        r.server_and_mail(&mut c);
        r.capacity_and_timeouts(&mut c);
        r.password_hashing(&mut c);
        r.tokens_and_requests(&mut c);
        r.rate_limits(&mut c);
        r.keys_and_resolver(&mut c);
        if r.errors.is_empty() {
            Ok(c)
        } else {
            Err(r.errors)
        }
    }

    /// Warnings about settings that are valid but unwise.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.hash_cost.memory_kib < HashCost::OWASP.memory_kib
            || self.hash_cost.iterations < HashCost::OWASP.iterations
        {
            w.push("argon2 cost is below OWASP's recommendation (19 MiB, 2 passes): acceptable in tests only".into());
        }
        w
    }
}

/// Reads settings by name and collects what is wrong with each, so that
/// one start reports every invalid setting at once.
struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<String>,
}

/// What a count, size or number of seconds must be.
const POSITIVE: &str = "a positive integer";

impl Reader<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.get)(name)
    }

    fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    /// `name` parsed as a `T`; None when it is unset, or invalid (reported
    /// as "must be `what`").
    fn parse<T: std::str::FromStr>(&mut self, name: &str, what: &str) -> Option<T> {
        let value = self.get(name)?;
        match value.trim().parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.error(format!("{name}: must be {what}, got {value:?}"));
                None
            }
        }
    }

    /// `name` as a number above zero; zero and negatives are reported.
    fn positive_i64(&mut self, name: &str) -> Option<i64> {
        match self.parse::<i64>(name, POSITIVE) {
            Some(v) if v > 0 => Some(v),
            Some(_) => {
                self.error(format!("{name}: must be positive"));
                None
            }
            None => None,
        }
    }

    /// DATABASE_URL, SQLite's `ithbat.db` when unset (and when invalid, so
    /// that the other settings are still read and reported).
    fn database_url(&mut self) -> DatabaseUrl {
        let url = self
            .get("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://ithbat.db".into());
        DatabaseUrl::parse(&url).unwrap_or_else(|e| {
            self.error(format!("DATABASE_URL: {e}"));
            DatabaseUrl::Sqlite("ithbat.db".into())
        })
    }

    /// Where the server listens and how it names itself, the first
    /// administrator, and how mail leaves.
    fn server_and_mail(&mut self, c: &mut Config) {
        if let Some(v) = self.parse("ITHBAT_LISTEN", "an address such as 127.0.0.1:8080") {
            c.listen = v;
        }
        if let Some(url) = self.get("ITHBAT_PUBLIC_URL") {
            let url = url.trim_end_matches('/').to_string();
            if url.starts_with("https://") || url.starts_with("http://") {
                c.public_url = Some(url);
            } else {
                self.error("ITHBAT_PUBLIC_URL: must be an http:// or https:// URL");
            }
        }
        c.admin_email = self.get("ITHBAT_ADMIN_EMAIL");
        c.admin_password = self.get("ITHBAT_ADMIN_PASSWORD");
        if let Some(url) = self.get("ITHBAT_SMTP_URL") {
            if url.starts_with("smtp://") || url.starts_with("smtps://") {
                c.smtp_url = Some(url);
            } else {
                self.error("ITHBAT_SMTP_URL: must be an smtp:// or smtps:// URL");
            }
        }
        if let Some(from) = self.get("ITHBAT_MAIL_FROM") {
            match from.parse::<lettre::message::Mailbox>() {
                Ok(_) => c.mail_from = from,
                Err(_) => self.error(format!(
                    "ITHBAT_MAIL_FROM: must be an address such as \"Acme <no-reply@acme.example>\", got {from:?}"
                )),
            }
        }
    }

    /// Worker threads, database connections, and how long database work
    /// and signing-key reads may wait.
    fn capacity_and_timeouts(&mut self, c: &mut Config) {
        if let Some(v) = self.parse::<usize>("ITHBAT_WORKERS", POSITIVE) {
            c.workers = v.max(1);
        }
        if let Some(v) = self.parse::<usize>("ITHBAT_DB_POOL_SIZE", POSITIVE) {
            c.db_pool_size = v.max(1);
        }
        for (name, slot) in [
            ("ITHBAT_DB_ACQUIRE_TIMEOUT", &mut c.db_timeouts.acquire),
            ("ITHBAT_DB_STATEMENT_TIMEOUT", &mut c.db_timeouts.statement),
            ("ITHBAT_SIGNING_KEY_REFRESH", &mut c.signing_key_refresh),
        ] {
            match self.parse::<u64>(name, POSITIVE) {
                Some(0) => self.error(format!("{name}: must be positive")),
                Some(secs) => *slot = std::time::Duration::from_secs(secs),
                None => {}
            }
        }
    }

    /// The argon2id cost, checked as argon2 checks it, and how many hashes
    /// run at once.
    fn password_hashing(&mut self, c: &mut Config) {
        if let Some(v) = self.parse("ITHBAT_ARGON2_MEMORY_KIB", POSITIVE) {
            c.hash_cost.memory_kib = v;
        }
        if let Some(v) = self.parse("ITHBAT_ARGON2_ITERATIONS", POSITIVE) {
            c.hash_cost.iterations = v;
        }
        if let Some(v) = self.parse("ITHBAT_ARGON2_PARALLELISM", POSITIVE) {
            c.hash_cost.parallelism = v;
        }
        if let Err(msg) = c.hash_cost.params() {
            self.error(format!("ITHBAT_ARGON2_*: invalid argon2 parameters: {msg}"));
        }
        if let Some(v) = self.parse::<usize>("ITHBAT_HASH_CONCURRENCY", POSITIVE) {
            c.hash_concurrency = v.max(1);
        }
    }

    /// Token lifetimes, the largest body, whether a proxy names the client,
    /// and who may read /metrics.
    fn tokens_and_requests(&mut self, c: &mut Config) {
        if let Some(v) = self.positive_i64("ITHBAT_ACCESS_TOKEN_TTL") {
            c.access_token_ttl_secs = v;
        }
        if let Some(v) = self.positive_i64("ITHBAT_REFRESH_TOKEN_TTL") {
            c.refresh_token_ttl_secs = v;
        }
        if let Some(v) = self.parse::<usize>("ITHBAT_MAX_BODY_BYTES", POSITIVE) {
            c.max_body_bytes = v.max(1024);
        }
        if let Some(v) = self.parse("ITHBAT_TRUST_PROXY", "true or false") {
            c.trust_proxy = v;
        }
        c.metrics_token = self.get("ITHBAT_METRICS_TOKEN");
    }

    /// Where rate-limit counters live and the limits not set per tenant.
    fn rate_limits(&mut self, c: &mut Config) {
        c.redis_url = self.get("REDIS_URL");
        for (name, slot) in [
            ("ITHBAT_RATE_LIMIT_ANONYMOUS", &mut c.anonymous_rate_limit),
            (
                "ITHBAT_AUTH_RATE_LIMIT_PER_IP",
                &mut c.auth_rate_limit_per_ip,
            ),
            (
                "ITHBAT_AUTH_RATE_LIMIT_PER_ACCOUNT",
                &mut c.auth_rate_limit_per_account,
            ),
        ] {
            if let Some(v) = self.parse::<u32>(name, POSITIVE) {
                *slot = v.max(1);
            }
        }
    }

    /// The algorithm of new signing keys, the signing key to import, the
    /// sealing key, and the DNS server that domain verification asks.
    fn keys_and_resolver(&mut self, c: &mut Config) {
        if let Some(alg) = self.get("ITHBAT_SIGNING_ALG") {
            match alg.trim().parse() {
                Ok(alg) => c.signing_alg = alg,
                Err(err) => self.error(format!("ITHBAT_SIGNING_ALG: {err}")),
            }
        }
        if let Some(path) = self.get("ITHBAT_SIGNING_KEY_FILE") {
            match std::fs::read_to_string(&path) {
                Ok(pem) => c.signing_key_pem = Some(pem),
                Err(err) => self.error(format!(
                    "ITHBAT_SIGNING_KEY_FILE: cannot read {path}: {err}"
                )),
            }
        }
        if let Some(text) = self.get("ITHBAT_SECRET_KEY") {
            match SealingKey::parse(&text) {
                Ok(key) => c.secret_key = Some(key),
                Err(err) => self.error(format!("ITHBAT_SECRET_KEY: {err}")),
            }
        }
        if let Some(v) = self.parse("ITHBAT_DNS_RESOLVER", "an address such as 127.0.0.1:53") {
            c.dns_resolver = Some(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, Vec<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = from(&[]).unwrap();
        assert_eq!(c.database_url, DatabaseUrl::Sqlite("ithbat.db".into()));
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.hash_cost, HashCost::OWASP);
        assert_eq!(c.access_token_ttl_secs, 3600);
        assert_eq!(c.max_body_bytes, 1 << 20);
        assert!(c.public_url.is_none());
        assert_eq!(c.db_timeouts.acquire.as_secs(), 5);
        assert_eq!(c.db_timeouts.statement.as_secs(), 10);
    }

    #[test]
    fn every_bad_value_is_reported() {
        let errors = from(&[
            ("DATABASE_URL", "mysql://x"),
            ("ITHBAT_LISTEN", "nowhere"),
            ("ITHBAT_PUBLIC_URL", "ftp://x"),
            ("ITHBAT_ARGON2_MEMORY_KIB", "lots"),
            ("ITHBAT_SECRET_KEY", "c2hvcnQ="),
            ("ITHBAT_DNS_RESOLVER", "dns.example"),
        ])
        .unwrap_err();
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors[5].starts_with("ITHBAT_DNS_RESOLVER"), "{errors:?}");
        assert!(
            errors[4].starts_with("ITHBAT_SECRET_KEY: must encode 32 bytes"),
            "{errors:?}"
        );
        assert!(errors[0].starts_with("DATABASE_URL"));
    }

    #[test]
    fn every_setting_is_read() {
        let key_file = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let c = from(&[
            ("DATABASE_URL", "postgres://root@127.0.0.1/x"),
            ("ITHBAT_LISTEN", "0.0.0.0:9090"),
            ("ITHBAT_PUBLIC_URL", "https://id.example/"),
            ("ITHBAT_ADMIN_EMAIL", "root@id.example"),
            ("ITHBAT_ADMIN_PASSWORD", "s3cret!"),
            ("ITHBAT_SMTP_URL", "smtps://mail.example:465"),
            ("ITHBAT_MAIL_FROM", "Acme <no-reply@acme.example>"),
            ("ITHBAT_WORKERS", "3"),
            ("ITHBAT_DB_POOL_SIZE", "0"),
            ("ITHBAT_DB_ACQUIRE_TIMEOUT", "7"),
            ("ITHBAT_DB_STATEMENT_TIMEOUT", "11"),
            ("ITHBAT_SIGNING_KEY_REFRESH", "13"),
            ("ITHBAT_ARGON2_MEMORY_KIB", "8192"),
            ("ITHBAT_ARGON2_ITERATIONS", "3"),
            ("ITHBAT_ARGON2_PARALLELISM", "2"),
            ("ITHBAT_HASH_CONCURRENCY", "5"),
            ("ITHBAT_ACCESS_TOKEN_TTL", "600"),
            ("ITHBAT_REFRESH_TOKEN_TTL", "86400"),
            ("ITHBAT_MAX_BODY_BYTES", "10"),
            ("ITHBAT_TRUST_PROXY", "true"),
            ("ITHBAT_METRICS_TOKEN", "m"),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("ITHBAT_RATE_LIMIT_ANONYMOUS", "50"),
            ("ITHBAT_AUTH_RATE_LIMIT_PER_IP", "0"),
            ("ITHBAT_AUTH_RATE_LIMIT_PER_ACCOUNT", "9"),
            ("ITHBAT_SIGNING_ALG", "ES256"),
            ("ITHBAT_SIGNING_KEY_FILE", key_file),
            (
                "ITHBAT_SECRET_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
            ("ITHBAT_DNS_RESOLVER", "127.0.0.1:5353"),
        ])
        .unwrap();
        assert!(matches!(c.database_url, DatabaseUrl::Postgres(_)));
        assert_eq!(c.listen.to_string(), "0.0.0.0:9090");
        assert_eq!(c.public_url.as_deref(), Some("https://id.example"));
        assert_eq!(c.admin_email.as_deref(), Some("root@id.example"));
        assert_eq!(c.admin_password.as_deref(), Some("s3cret!"));
        assert_eq!(c.smtp_url.as_deref(), Some("smtps://mail.example:465"));
        assert_eq!(c.mail_from, "Acme <no-reply@acme.example>");
        assert_eq!((c.workers, c.db_pool_size), (3, 1));
        assert_eq!(c.db_timeouts.acquire.as_secs(), 7);
        assert_eq!(c.db_timeouts.statement.as_secs(), 11);
        assert_eq!(c.signing_key_refresh.as_secs(), 13);
        let cost = HashCost {
            memory_kib: 8192,
            iterations: 3,
            parallelism: 2,
        };
        assert_eq!((c.hash_cost, c.hash_concurrency), (cost, 5));
        assert_eq!(
            (c.access_token_ttl_secs, c.refresh_token_ttl_secs),
            (600, 86400)
        );
        assert_eq!(c.max_body_bytes, 1024);
        assert!(c.trust_proxy);
        assert_eq!(c.metrics_token.as_deref(), Some("m"));
        assert_eq!(c.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        assert_eq!(c.anonymous_rate_limit, 50);
        assert_eq!(c.auth_rate_limit_per_ip, 1);
        assert_eq!(c.auth_rate_limit_per_account, 9);
        assert_eq!(c.signing_alg, SigningAlg::Es256);
        assert!(c.signing_key_pem.unwrap().contains("[package]"));
        assert!(c.secret_key.is_some());
        assert_eq!(
            c.dns_resolver.map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:5353")
        );
    }

    #[test]
    fn non_positive_token_lifetimes_are_reported() {
        let errors = from(&[
            ("ITHBAT_ACCESS_TOKEN_TTL", "0"),
            ("ITHBAT_REFRESH_TOKEN_TTL", "-5"),
        ])
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "ITHBAT_ACCESS_TOKEN_TTL: must be positive",
                "ITHBAT_REFRESH_TOKEN_TTL: must be positive"
            ]
        );
    }

    #[test]
    fn signing_algorithm() {
        assert_eq!(from(&[]).unwrap().signing_alg, SigningAlg::Rs256);
        let c = from(&[("ITHBAT_SIGNING_ALG", "EdDSA")]).unwrap();
        assert_eq!(c.signing_alg, SigningAlg::EdDsa);
        let errors = from(&[("ITHBAT_SIGNING_ALG", "HS256")]).unwrap_err();
        assert!(errors[0].starts_with("ITHBAT_SIGNING_ALG: must be RS256, ES256 or EdDSA"));
    }

    #[test]
    fn timeouts_are_positive_seconds() {
        let c = from(&[
            ("ITHBAT_DB_ACQUIRE_TIMEOUT", "2"),
            ("ITHBAT_DB_STATEMENT_TIMEOUT", "30"),
            ("ITHBAT_SIGNING_KEY_REFRESH", "5"),
        ])
        .unwrap();
        assert_eq!(c.db_timeouts.acquire.as_secs(), 2);
        assert_eq!(c.db_timeouts.statement.as_secs(), 30);
        assert_eq!(c.signing_key_refresh.as_secs(), 5);
        let errors = from(&[
            ("ITHBAT_DB_ACQUIRE_TIMEOUT", "0"),
            ("ITHBAT_DB_STATEMENT_TIMEOUT", "soon"),
        ])
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db"),
            Ok(DatabaseUrl::Sqlite("data/x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///abs/x.db"),
            Ok(DatabaseUrl::Sqlite("/abs/x.db".into()))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://root@127.0.0.1/x"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(DatabaseUrl::parse("sqlite://:memory:").is_err());
    }
}
