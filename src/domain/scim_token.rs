//! SCIM tokens: bearer credentials of a provisioning client, stored as
//! hashes and shown by their last characters.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A SCIM token as listed (never its secret).
#[derive(Debug, Clone)]
pub struct ScimToken {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub provider: Option<String>,
    pub provider_display_name: Option<String>,
    /// The secret's last four characters.
    pub token_hint: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Who made it (`user-<uuid>`, `client-<uuid>`, or `operator` at the
    /// command line; `access::Maker`): it acts with at most what they hold.
    pub minted_by: Option<String>,
}
