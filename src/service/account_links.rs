//! What a mailed link (invitation, password reset, email verification)
//! opens, for the hosted pages to show before anything is submitted: whose
//! it is and whether it can still be used. Nothing is used up here; the
//! use cases in `invitations` and `recovery` claim the token.

use chrono::Utc;

use super::App;
use crate::domain::account::{TokenProblem, TokenPurpose};
use crate::domain::secret::hash_secret;
use crate::domain::user::UserStatus;
use crate::domain::Result;
use crate::repo;

/// A usable link.
pub struct Link {
    pub tenant_name: String,
    /// The account's email (its userName should it have none).
    pub email: String,
    /// Where an invitation leads once accepted.
    pub redirect_url: Option<String>,
}

/// The link of `token` for `purpose`, or why it cannot be used. An
/// invitation needs a pending account, a reset an active one (as the use
/// cases require).
pub async fn inspect(
    app: &App,
    token: &str,
    purpose: TokenPurpose,
) -> Result<std::result::Result<Link, TokenProblem>> {
    let mut conn = app.db.get().await?;
    let db = &mut conn.db();
    let claim =
        match repo::account_tokens::check(db, &hash_secret(token), purpose, Utc::now()).await? {
            Ok(claim) => claim,
            Err(problem) => return Ok(Err(problem)),
        };
    let user = repo::users::find(db, claim.tenant_id, claim.user_id).await?;
    let tenant = repo::tenants::find(db, claim.tenant_id).await?;
    let (Some(user), Some(tenant)) = (user, tenant) else {
        return Ok(Err(TokenProblem::Invalid));
    };
    let usable = match purpose {
        TokenPurpose::Invitation => user.status == UserStatus::Pending,
        TokenPurpose::PasswordReset => user.status == UserStatus::Active,
        TokenPurpose::EmailVerification => true,
    };
    if !usable {
        return Ok(Err(TokenProblem::Invalid));
    }
    Ok(Ok(Link {
        tenant_name: tenant.name,
        email: user.label().to_string(),
        redirect_url: claim.redirect_url,
    }))
}
