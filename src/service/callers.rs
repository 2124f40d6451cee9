//! Resolved callers, kept per instance (docs/design/authorization.md,
//! "Caching callers").
//!
//! Resolving a token's caller reads its session or grant, the user or
//! client, the tenant, and every role, group and policy behind its
//! access: half a dozen statements. A resolved caller is kept here with
//! the access version its tenant had when the resolution began, and used
//! again only while the tenant's version (one primary-key read per
//! request) is still that one. The database's triggers move the version in
//! the transaction of every change that could change a caller (see the
//! migration `access_version`), so a revocation, a suspension or a role
//! change reaches the next request on every instance, as before.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::domain::principal::Principal;

/// At most this many callers are kept; past it the expired ones go, and
/// if that is not enough, all of them.
const CAPACITY: usize = 100_000;

/// A cached caller is resolved again at least this often, whatever the
/// version says.
const MAX_AGE: Duration = Duration::minutes(5);

/// What a caller is resolved from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallerKey {
    /// An access token's session or grant, its subject, and its scope.
    Token {
        sid: Uuid,
        sub: Uuid,
        scope: Option<String>,
    },
    /// A SCIM token, by the stored hash of its secret.
    Scim(String),
}

struct Entry {
    tenant: Uuid,
    version: i64,
    principal: Principal,
    /// The session's or grant's expiry, or `MAX_AGE` after resolution.
    valid_until: DateTime<Utc>,
    /// When the session's activity was last recorded.
    touched_at: DateTime<Utc>,
}

/// A cached caller: the principal and when its session last recorded
/// activity.
pub struct Hit {
    pub principal: Principal,
    pub touched_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct CallerCache {
    entries: RwLock<HashMap<CallerKey, Entry>>,
}

impl CallerCache {
    /// The caller of `key` if it was resolved at `version` of `tenant`
    /// and is still valid at `now`.
    pub fn get(
        &self,
        key: &CallerKey,
        tenant: Uuid,
        version: i64,
        now: DateTime<Utc>,
    ) -> Option<Hit> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let e = entries.get(key)?;
        (e.tenant == tenant && e.version == version && now < e.valid_until).then(|| Hit {
            principal: e.principal.clone(),
            touched_at: e.touched_at,
        })
    }

    /// The tenant of a cached caller, whatever its version.
    pub fn tenant_of(&self, key: &CallerKey) -> Option<Uuid> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.get(key).map(|e| e.tenant)
    }

    /// Keeps `principal`, resolved from state at least as new as `version`.
    pub fn put(
        &self,
        key: CallerKey,
        version: i64,
        principal: Principal,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.retain(|_, e| now < e.valid_until);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                tenant: principal.home_tenant,
                version,
                valid_until: expires_at.min(now + MAX_AGE),
                touched_at: now,
                principal,
            },
        );
    }

    /// Records that the session's (or SCIM token's) use was written at `now`.
    pub fn touched(&self, key: &CallerKey, now: DateTime<Utc>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entries.get_mut(key) {
            e.touched_at = now;
        }
    }
}
