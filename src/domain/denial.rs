//! Refusals of the authorization rule, kept for the audit log.
//!
//! A refusal usually happens inside a transaction that its own error then
//! rolls back, so it cannot be audited there. Instead `Caller` notes each
//! refusal in the log of the request being served (a task-local that the
//! HTTP layer opens for every request and `Gate::run` carries into the
//! tasks it spawns), and the HTTP layer writes them as `authz.denied`
//! events once the request is answered.

use std::sync::{Arc, Mutex};

use uuid::Uuid;

use super::audit::Actor;

/// One refused attempt: who, on what, lacking what.
#[derive(Debug, Clone)]
pub struct Denial {
    pub tenant_id: Uuid,
    pub actor: Actor,
    /// What the caller tried to act on, when known (`("user", id)`).
    pub target: Option<(&'static str, String)>,
    /// What the caller lacks: permissions or `action on scope` grants.
    pub missing: Vec<String>,
    /// The message the caller was given.
    pub reason: String,
}

tokio::task_local! {
    static DENIALS: DenialLog;
}

/// The refusals of one request.
#[derive(Debug, Clone, Default)]
pub struct DenialLog(Arc<Mutex<Vec<Denial>>>);

impl DenialLog {
    /// The log of the request being served, if any.
    pub fn current() -> Option<DenialLog> {
        DENIALS.try_with(Clone::clone).ok()
    }

    /// Runs `work` with this log as the current one.
    pub async fn scope<F: std::future::Future>(self, work: F) -> F::Output {
        DENIALS.scope(self, work).await
    }

    /// Notes a refusal in the current request's log (nothing outside one).
    pub fn note(denial: Denial) {
        let _ = DENIALS.try_with(|log| {
            if let Ok(mut v) = log.0.lock() {
                v.push(denial);
            }
        });
    }

    /// The refusals noted so far, emptying the log.
    pub fn take(&self) -> Vec<Denial> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}
