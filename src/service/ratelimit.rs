//! Rate limits: fixed one-minute windows counted in this process, or in
//! Redis when REDIS_URL is set so that several instances share one limit.
//!
//! Keys: `tenant:<id>` for authenticated requests (the plan's limit),
//! `ip:<addr>` for anonymous ones, and for sign-in also `login-ip:<addr>`
//! and `login:<tenant>:<email key>`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use uuid::Uuid;

use crate::domain::{Error, Result};

const WINDOW_SECS: u64 = 60;

/// The state of one key after counting a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u64,
    pub allowed: bool,
}

impl Decision {
    /// Turns a refusal into the error every dialect renders as 429.
    pub fn check(self) -> Result<Decision> {
        if self.allowed {
            Ok(self)
        } else {
            Err(Error::RateLimited {
                retry_after_secs: self.reset_secs.max(1),
            })
        }
    }
}

enum Store {
    Memory(Mutex<HashMap<String, (u64, u32)>>),
    Redis(redis::aio::ConnectionManager),
}

#[derive(Clone)]
pub struct RateLimiter {
    store: Arc<Store>,
    /// Tenants' limits, looked up at most every few seconds.
    tenant_limits: TtlCache<Uuid, u32>,
    /// The tenant of each SCIM token hash seen lately (None: no such token).
    token_tenants: TtlCache<String, Option<Uuid>>,
}

/// How long a tenant's limit is cached: plan changes apply within this.
const TENANT_LIMIT_TTL: Duration = Duration::from_secs(10);

/// A small map whose entries expire after TENANT_LIMIT_TTL.
struct TtlCache<K, V>(Arc<Mutex<HashMap<K, (V, Instant)>>>);

impl<K, V> Clone for TtlCache<K, V> {
    fn clone(&self) -> Self {
        TtlCache(Arc::clone(&self.0))
    }
}

impl<K, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        TtlCache(Arc::default())
    }
}

impl<K: std::hash::Hash + Eq, V: Copy> TtlCache<K, V> {
    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(_, at)| at.elapsed() < TENANT_LIMIT_TTL)
            .map(|(v, _)| *v)
    }

    fn put(&self, key: K, value: V) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, at)| at.elapsed() < TENANT_LIMIT_TTL);
        }
        map.insert(key, (value, Instant::now()));
    }

    fn remove(&self, key: &K) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl RateLimiter {
    pub fn in_memory() -> RateLimiter {
        RateLimiter {
            store: Arc::new(Store::Memory(Mutex::new(HashMap::new()))),
            tenant_limits: TtlCache::default(),
            token_tenants: TtlCache::default(),
        }
    }

    pub async fn redis(url: &str) -> Result<RateLimiter, String> {
        let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1);
        let manager = redis::aio::ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| format!("cannot reach Redis at REDIS_URL: {e}"))?;
        Ok(RateLimiter {
            store: Arc::new(Store::Redis(manager)),
            tenant_limits: TtlCache::default(),
            token_tenants: TtlCache::default(),
        })
    }

    pub fn backend(&self) -> &'static str {
        match *self.store {
            Store::Memory(_) => "memory",
            Store::Redis(_) => "redis",
        }
    }

    /// Counts one request against `key` and says whether it is within `limit`
    /// a minute. If Redis cannot be reached the request is allowed (and the
    /// failure logged): a limiter outage must not become an API outage.
    pub async fn hit(&self, key: &str, limit: u32) -> Decision {
        let now = now_secs();
        let window = now / WINDOW_SECS;
        let reset_secs = (window + 1) * WINDOW_SECS - now;
        let count = match &*self.store {
            Store::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                if map.len() > 100_000 {
                    map.retain(|_, (w, _)| *w == window);
                }
                let entry = map.entry(key.to_string()).or_insert((window, 0));
                if entry.0 != window {
                    *entry = (window, 0);
                }
                entry.1 = entry.1.saturating_add(1);
                entry.1
            }
            Store::Redis(manager) => {
                let redis_key = format!("ithbat:rl:{key}:{window}");
                let mut conn = manager.clone();
                let counted: redis::RedisResult<(u32,)> = redis::pipe()
                    .atomic()
                    .incr(&redis_key, 1u32)
                    .expire(&redis_key, (WINDOW_SECS * 2) as i64)
                    .ignore()
                    .query_async(&mut conn)
                    .await;
                match counted {
                    Ok((n,)) => n,
                    Err(e) => {
                        log::warn!("rate limit store unavailable, allowing the request: {e}");
                        0
                    }
                }
            }
        };
        Decision {
            limit,
            remaining: limit.saturating_sub(count),
            reset_secs,
            allowed: count <= limit,
        }
    }

    /// Whether `key` is still within `limit` this minute, without counting:
    /// for limits on failures, counted with `hit` only when one happens.
    pub async fn peek(&self, key: &str, limit: u32) -> Decision {
        let now = now_secs();
        let window = now / WINDOW_SECS;
        let reset_secs = (window + 1) * WINDOW_SECS - now;
        let count = match &*self.store {
            Store::Memory(map) => {
                let map = map.lock().unwrap_or_else(|p| p.into_inner());
                map.get(key)
                    .filter(|(w, _)| *w == window)
                    .map_or(0, |(_, n)| *n)
            }
            Store::Redis(manager) => {
                let mut conn = manager.clone();
                let counted: redis::RedisResult<Option<u32>> = redis::cmd("GET")
                    .arg(format!("ithbat:rl:{key}:{window}"))
                    .query_async(&mut conn)
                    .await;
                counted
                    .unwrap_or_else(|e| {
                        log::warn!("rate limit store unavailable, allowing the request: {e}");
                        None
                    })
                    .unwrap_or(0)
            }
        };
        Decision {
            limit,
            remaining: limit.saturating_sub(count),
            reset_secs,
            allowed: count < limit,
        }
    }

    pub fn cached_tenant_limit(&self, tenant: Uuid) -> Option<u32> {
        self.tenant_limits.get(&tenant)
    }

    pub fn remember_tenant_limit(&self, tenant: Uuid, limit: u32) {
        self.tenant_limits.put(tenant, limit);
    }

    /// The tenant a SCIM token hash was last found to belong to.
    pub fn cached_token_tenant(&self, hash: &str) -> Option<Option<Uuid>> {
        self.token_tenants.get(hash)
    }

    pub fn remember_token_tenant(&self, hash: String, tenant: Option<Uuid>) {
        self.token_tenants.put(hash, tenant);
    }

    /// Forgets a tenant's cached limit (its plan or limit changed).
    pub fn forget_tenant(&self, tenant: Uuid) {
        self.tenant_limits.remove(&tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_per_key_within_the_limit() {
        let limiter = RateLimiter::in_memory();
        for i in 1..=3 {
            let d = limiter.hit("k", 3).await;
            assert!(d.allowed);
            assert_eq!(d.remaining, 3 - i);
            assert!(d.reset_secs >= 1 && d.reset_secs <= 60);
        }
        let d = limiter.hit("k", 3).await;
        assert!(!d.allowed);
        assert!(matches!(d.check(), Err(Error::RateLimited { .. })));
        assert!(limiter.hit("other", 3).await.allowed);
        // peek counts nothing: a key at its limit admits no further failure.
        assert!(!limiter.peek("k", 3).await.allowed);
        assert!(limiter.peek("other", 3).await.allowed);
        assert!(limiter.peek("other", 3).await.allowed);
        assert!(limiter.peek("unseen", 1).await.allowed);
    }
}
