//! Bringing people into a tenant by email alone (docs/api/iam.md, Roles and
//! users; Domains): an invitation whose link leads back to the tenant's
//! application, and the direct creation of a user whose email is on a domain
//! the tenant has verified (it controls the domain's DNS, so it vouches for its
//! addresses).

use super::users::{self, NewUser, UserDetails};
use super::{domains, invitations, App};
use crate::domain::principal::Caller;
use crate::domain::redirect;
use crate::domain::session::Origin;
use crate::domain::tenant_domain;
use crate::domain::user::{validate_name_part, Email, UserStatus};
use crate::domain::{Error, Problems, Result};
use crate::repo;

/// Longest redirect URL accepted (as OAuth redirect URIs).
const MAX_REDIRECT_CHARS: usize = 2000;

/// Invites `email` to join (user:write): a pending account, and a mail
/// with a single-use link to choose a password, after which the browser
/// goes to `redirect_url`, which must be on the tenant's allow-list
/// (settings `redirectUrls`). Inviting a pending account again sends a
/// fresh link (the old one stops working); an account that has joined is
/// DUPLICATE_EMAIL.
pub async fn invite(
    app: &App,
    caller: &Caller,
    email: &str,
    redirect_url: Option<String>,
    origin: &Origin,
) -> Result<()> {
    caller.require("user:write")?;
    let mut problems = Problems::default();
    let address = problems.check("email", Email::parse(email));
    let tenant = {
        let mut conn = app.db.get().await?;
        repo::tenants::find(&mut conn.db(), caller.tenant_id)
            .await?
            .ok_or(Error::TenantNotFound)?
    };
    if let Some(url) = &redirect_url {
        if url.chars().count() > MAX_REDIRECT_CHARS
            || !redirect::allowed(&tenant.settings.redirect_urls, url)
        {
            problems.add(
                "redirectUrl",
                "is not on the tenant's allow-list of redirect URLs (settings redirectUrls)",
            );
        }
    }
    problems.into_result()?;
    let address = address.expect("validated");
    let input = NewUser {
        email: Some(address.address.clone()),
        invite: true,
        name_optional: true,
        redirect_url: redirect_url.clone(),
        ..Default::default()
    };
    match users::create(app, caller, input, origin).await {
        Ok(_) => Ok(()),
        Err(Error::DuplicateEmail) => {
            let existing = {
                let mut conn = app.db.get().await?;
                repo::users::find_for_login(&mut conn.db(), caller.tenant_id, &address.key).await?
            };
            match existing {
                Some((user, _)) if user.status == UserStatus::Pending => {
                    invitations::reissue(app, caller, user.id, redirect_url, origin).await?;
                    Ok(())
                }
                _ => Err(Error::DuplicateEmail),
            }
        }
        Err(e) => Err(e),
    }
}

/// A user to create directly on a verified domain.
pub struct DirectUser {
    pub email: String,
    pub full_name: Option<String>,
    pub phone_number: Option<String>,
}

/// Creates an active user (user:write) whose email is on a domain this
/// tenant has verified; any other address is refused, naming `email`. The
/// address counts as verified; the user has no password until a reset
/// (or an SSO sign-in) and is sent no mail.
pub async fn create_on_verified_domain(
    app: &App,
    caller: &Caller,
    input: DirectUser,
    origin: &Origin,
) -> Result<UserDetails> {
    caller.require("user:write")?;
    let mut problems = Problems::default();
    let address = problems.check("email", Email::parse(&input.email));
    match &input.full_name {
        Some(name) => {
            problems.check("fullName", validate_name_part(name, true));
        }
        None => problems.add("fullName", "is required"),
    }
    if let Some(address) = &address {
        let domain = tenant_domain::of_email(&address.address);
        let verified = match &domain {
            Some(d) => {
                let mut conn = app.db.get().await?;
                domains::verified_by(&mut conn.db(), caller.tenant_id, d).await?
            }
            None => false,
        };
        if !verified {
            problems.add(
                "email",
                format!(
                    "is not on a domain this tenant has verified ({}); register and verify the domain with /v1/domains first",
                    domain.as_deref().unwrap_or("no domain")
                ),
            );
        }
    }
    problems.into_result()?;
    let user = NewUser {
        email: Some(input.email),
        name: input.full_name,
        phone_number: input.phone_number,
        skip_email_verification: true,
        ..Default::default()
    };
    users::create(app, caller, user, origin).await
}
