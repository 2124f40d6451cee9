//! The administration commands: tenants, users, SCIM tokens and OAuth
//! clients, each one use case of the service layer run as the operator
//! (`service::operator`). Secrets they make (passwords, tokens, client
//! secrets) are printed once and stored only as hashes.

use std::io::BufRead;

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use uuid::Uuid;

use super::report::Report;
use crate::domain::client::Client;
use crate::domain::list::PageRequest;
use crate::domain::principal::Caller;
use crate::domain::scim_token::ScimToken;
use crate::domain::session::Origin;
use crate::domain::tenant::{
    Tenant, TenantQuery, TenantRef, TenantSort, TenantStatus, DEFAULT_TENANT_SLUG,
};
use crate::domain::{Error, Result};
use crate::service::passwords::{generate_password, Password};
use crate::service::tokens::random_token;
use crate::service::users::{NewUser, RoleChoice};
use crate::service::{clients, operator, scim_tokens, tenants, users, App};

const SHOWN_ONCE: &str = "Store the secret above now: it is shown this once.";

/// `--tenant`, or a tenant argument: an id or a slug.
fn tenant_ref(text: &str) -> std::result::Result<TenantRef, String> {
    TenantRef::parse(text)
}

#[derive(Args)]
pub struct TenantArg {
    /// The tenant, by slug or id
    #[arg(long, value_parser = tenant_ref)]
    tenant: TenantRef,
}

#[derive(Subcommand)]
pub enum Admin {
    /// Tenants: list, create, suspend, reactivate
    #[command(subcommand)]
    Tenants(TenantCommand),
    /// Users of a tenant: create, reset-password
    #[command(subcommand)]
    Users(UserCommand),
    /// SCIM tokens of a tenant: create, list, revoke
    #[command(subcommand)]
    ScimTokens(ScimTokenCommand),
    /// OAuth clients of a tenant: create
    #[command(subcommand)]
    Clients(ClientCommand),
    /// `users reset-password` by its former name, where the tenant is
    /// `default` unless named
    #[command(hide = true)]
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = tenant_ref, default_value = DEFAULT_TENANT_SLUG)]
        tenant: TenantRef,
    },
}

pub async fn run(app: &App, command: Admin) -> Result<Report> {
    match command {
        Admin::Tenants(c) => tenants(app, c).await,
        Admin::Users(c) => users(app, c).await,
        Admin::ScimTokens(c) => scim_tokens(app, c).await,
        Admin::Clients(c) => clients(app, c).await,
        Admin::ResetPassword { email, tenant } => {
            let args = ResetPasswordArgs {
                tenant: TenantArg { tenant },
                email,
            };
            reset_password(app, args).await
        }
    }
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// List every tenant
    List {
        /// Only tenants with this status: active or suspended
        #[arg(long, value_parser = TenantStatus::parse)]
        status: Option<TenantStatus>,
        /// Only tenants whose name or slug contains this text
        #[arg(long)]
        search: Option<String>,
    },
    /// Create a tenant, with its first owner when --owner-email is given
    /// (their password is made up and printed once)
    Create {
        #[arg(long)]
        name: String,
        /// 2 to 63 lowercase letters, digits and hyphens
        #[arg(long)]
        slug: String,
        /// free, pro or enterprise
        #[arg(long, default_value = "free")]
        plan: String,
        #[arg(long)]
        owner_email: Option<String>,
        #[arg(long, requires = "owner_email")]
        owner_first_name: Option<String>,
        #[arg(long, requires = "owner_email")]
        owner_family_name: Option<String>,
    },
    /// Suspend a tenant: its sign-ins and tokens are refused until it is
    /// reactivated
    Suspend {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reactivate a suspended tenant
    Reactivate {
        #[command(flatten)]
        tenant: TenantArg,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an active user whose email counts as verified, with the
    /// `member` role unless --role names another; the password is made up
    /// and printed once, unless --password-stdin gives it
    Create {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        email: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        family_name: String,
        /// A role of the tenant, held on the whole tenant
        #[arg(long)]
        role: Option<String>,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a user a new random password (printed once), unlock them and
    /// end their sessions
    ResetPassword(ResetPasswordArgs),
}

#[derive(Args)]
pub struct ResetPasswordArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The user's email address, or their user name (a user provisioned
    /// without email)
    #[arg(long)]
    email: String,
}

#[derive(Subcommand)]
pub enum ScimTokenCommand {
    /// Make a SCIM token for an identity provider or sync job (printed
    /// once). It holds what provisioning needs and lives until revoked
    Create {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long, default_value = "SCIM token")]
        name: String,
    },
    /// List a tenant's SCIM tokens (never their secrets)
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Revoke a SCIM token: it stops working on its next request
    Revoke {
        #[command(flatten)]
        tenant: TenantArg,
        /// The token's id
        id: Uuid,
    },
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Create an OAuth client with one secret (made up, printed once)
    Create {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// A grant type (repeatable): client_credentials, refresh_token,
        /// authorization_code
        #[arg(long = "grant-type", default_values = ["client_credentials"])]
        grant_types: Vec<String>,
        /// A scope it may be granted (repeatable)
        #[arg(long = "scope", default_values = ["services.iam"])]
        scopes: Vec<String>,
        /// A redirect URI, for authorization_code (repeatable)
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
    },
}

/// What an operator's command leaves in sessions and audit events.
fn origin() -> Origin {
    Origin {
        ip: None,
        user_agent: format!("ithbat/{} (command line)", env!("CARGO_PKG_VERSION")),
    }
}

/// The operator acting on the tenant `--tenant` names.
async fn operator_on(app: &App, tenant: &TenantRef) -> Result<Caller> {
    operator::caller(app, Some(tenant))
        .await
        .map_err(|e| match e {
            Error::TenantNotFound => {
                Error::invalid("tenant", format!("names no tenant ({tenant})"))
            }
            other => other,
        })
}

fn tenant_view(t: &Tenant) -> Value {
    json!({
        "id": t.id,
        "slug": t.slug,
        "name": t.name,
        "plan": t.plan.as_str(),
        "status": t.status.as_str(),
        "createdAt": t.created_at.to_rfc3339(),
    })
}

fn token_view(token: &ScimToken) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "tokenHint": token.token_hint,
        "mintedBy": token.minted_by,
        "createdAt": token.created_at.to_rfc3339(),
        "lastUsedAt": token.last_used_at.map(|t| t.to_rfc3339()),
    })
}

fn client_view(c: &Client) -> Value {
    json!({
        "clientId": c.id,
        "tenantId": c.tenant_id,
        "name": c.name,
        "grantTypes": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "scopes": c.scopes,
        "redirectUris": c.redirect_uris,
    })
}

async fn tenants(app: &App, command: TenantCommand) -> Result<Report> {
    let platform = operator::caller(app, None).await?;
    match command {
        TenantCommand::List { status, search } => {
            let mut query = TenantQuery {
                search,
                status,
                sort: Some((TenantSort::CreatedAt, Default::default())),
                page: PageRequest {
                    page: 1,
                    limit: PageRequest::MAX_LIMIT,
                    ..Default::default()
                },
                ..Default::default()
            };
            let mut all = Vec::new();
            loop {
                let listing = tenants::list(app, &platform, &query).await?;
                let done = listing.items.is_empty()
                    || all.len() + listing.items.len() >= listing.total as usize;
                all.extend(listing.items.iter().map(tenant_view));
                if done {
                    break;
                }
                query.page.page += 1;
            }
            Ok(Report::new(Value::Array(all)))
        }
        TenantCommand::Create {
            name,
            slug,
            plan,
            owner_email,
            owner_first_name,
            owner_family_name,
        } => {
            let password = owner_email.as_ref().map(|_| generate_password());
            let owner = owner_email.clone().map(|email| tenants::NewOwner {
                email,
                password: password.clone().map(Password::new),
                first_name: owner_first_name,
                family_name: owner_family_name,
            });
            let input = tenants::NewTenant {
                name,
                slug,
                plan: Some(plan),
                owner,
            };
            let (tenant, owner_id) = tenants::create(app, &platform, input, &origin()).await?;
            let owner =
                owner_id.map(|id| json!({ "id": id, "email": owner_email, "password": password }));
            let mut view = tenant_view(&tenant);
            view["owner"] = owner.unwrap_or(Value::Null);
            let report = Report::new(view);
            Ok(match password {
                Some(_) => report.note(SHOWN_ONCE),
                None => report,
            })
        }
        TenantCommand::Suspend { tenant, reason } => {
            let id = operator_on(app, &tenant.tenant).await?.tenant_id;
            let status = TenantStatus::Suspended;
            let t = tenants::set_status(app, &platform, id, status, reason, &origin()).await?;
            Ok(Report::new(tenant_view(&t)))
        }
        TenantCommand::Reactivate { tenant } => {
            let id = operator_on(app, &tenant.tenant).await?.tenant_id;
            let status = TenantStatus::Active;
            let t = tenants::set_status(app, &platform, id, status, None, &origin()).await?;
            Ok(Report::new(tenant_view(&t)))
        }
    }
}

async fn users(app: &App, command: UserCommand) -> Result<Report> {
    match command {
        UserCommand::Create {
            tenant,
            email,
            first_name,
            family_name,
            role,
            password_stdin,
        } => {
            let caller = operator_on(app, &tenant.tenant).await?;
            let (password, shown) = if password_stdin {
                (read_password()?, None)
            } else {
                let made_up = generate_password();
                (made_up.clone(), Some(made_up))
            };
            let input = NewUser {
                email: Some(email),
                first_name: Some(first_name),
                family_name: Some(family_name),
                password: Some(Password::new(password)),
                // No mail leaves a command that exits at once: the operator
                // vouches for the address.
                skip_email_verification: true,
                role: role.map(|name| RoleChoice {
                    name,
                    scope: "/".into(),
                }),
                ..Default::default()
            };
            let d = users::create(app, &caller, input, &origin()).await?;
            let report = Report::new(json!({
                "id": d.user.id,
                "tenantId": d.user.tenant_id,
                "email": d.user.email,
                "name": d.user.name.display(),
                "status": d.user.status.as_str(),
                "roles": d.roles,
                "password": shown,
            }));
            Ok(match shown {
                Some(_) => report.note(SHOWN_ONCE),
                None => report,
            })
        }
        UserCommand::ResetPassword(args) => reset_password(app, args).await,
    }
}

async fn reset_password(app: &App, args: ResetPasswordArgs) -> Result<Report> {
    let caller = operator_on(app, &args.tenant.tenant).await?;
    let (user, password) = users::reset_password(app, &caller, &args.email, &origin()).await?;
    Ok(Report::new(json!({
        "id": user.id,
        "email": user.email,
        "password": password,
    }))
    .note(SHOWN_ONCE))
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::invalid("password", format!("could not be read: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

async fn scim_tokens(app: &App, command: ScimTokenCommand) -> Result<Report> {
    match command {
        ScimTokenCommand::Create { tenant, name } => {
            let caller = operator_on(app, &tenant.tenant).await?;
            let input = scim_tokens::NewToken {
                name: Some(name),
                provider: None,
                provider_display_name: None,
            };
            let (row, secret) = scim_tokens::create(app, &caller, input, &origin()).await?;
            let mut view = token_view(&row);
            view["tenantId"] = json!(caller.tenant_id);
            view["token"] = json!(secret);
            Ok(Report::new(view).note(SHOWN_ONCE))
        }
        ScimTokenCommand::List { tenant } => {
            let caller = operator_on(app, &tenant.tenant).await?;
            let rows = scim_tokens::list(app, &caller).await?;
            Ok(Report::new(rows.iter().map(token_view).collect()))
        }
        ScimTokenCommand::Revoke { tenant, id } => {
            let caller = operator_on(app, &tenant.tenant).await?;
            scim_tokens::delete(app, &caller, id, &origin()).await?;
            Ok(Report::new(json!({ "id": id, "revoked": true })))
        }
    }
}

async fn clients(app: &App, command: ClientCommand) -> Result<Report> {
    let ClientCommand::Create {
        tenant,
        name,
        description,
        grant_types,
        scopes,
        redirect_uris,
    } = command;
    let caller = operator_on(app, &tenant.tenant).await?;
    let input = clients::NewClient {
        name,
        description,
        grant_types,
        redirect_uris,
        scopes,
    };
    let client = clients::create(app, &caller, input, &origin()).await?;
    // 24 random bytes: 32 characters, the most a secret may have.
    let secret = clients::NewSecret {
        value: random_token(24),
        description: "made by ithbat clients create".into(),
        expiration: None,
    };
    let (stored, value) =
        clients::create_secret(app, &caller, client.id, secret, &origin()).await?;
    let mut view = client_view(&client);
    view["secretId"] = json!(stored.id);
    view["secret"] = json!(value);
    Ok(Report::new(view).note(SHOWN_ONCE))
}
