//! The operator at the command line (`ithbat tenants|users|scim-tokens|
//! clients`): the same use cases as the HTTP APIs, with their validation,
//! hashing and audit, called by a principal that holds everything
//! (`Principal::operator`) and is audited as actor `system` labelled
//! `cli`. Whoever runs the binary with the database's credentials could
//! change any row anyway; the point is to do it the checked way.

use super::App;
use crate::domain::principal::{Caller, Principal};
use crate::domain::tenant::TenantRef;
use crate::domain::{Error, Result};
use crate::repo;

/// The operator acting on the tenant `tenant` names, or without one on the
/// tenant of the platform administrators (where what is done to tenants
/// is recorded).
pub async fn caller(app: &App, tenant: Option<&TenantRef>) -> Result<Caller> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let platform = repo::users::platform_tenant(db)
        .await?
        .ok_or_else(|| Error::internal("the database holds no platform administrator"))?;
    let tenant_id = match tenant {
        None => platform,
        Some(named) => {
            super::tenants::find_named(db, named)
                .await?
                .ok_or(Error::TenantNotFound)?
                .id
        }
    };
    Ok(Caller {
        principal: Principal::operator(platform),
        tenant_id,
    })
}
