//! The command line (clap): `serve` (the default), `migrate`,
//! `rotate-keys`, and the administration an operator or a script runs
//! against the server's database (`tenants`, `users`, `scim-tokens`,
//! `clients`; see `admin`). Every command reads the configuration as the
//! server does. Exit status: 0 done; 1 refused (bad input, not found, a
//! conflict: nothing changed); 2 a usage error or an invalid
//! configuration; 3 could not run (database unavailable, internal error).

mod admin;
mod report;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ENV_HELP};
use crate::domain::Error;
use admin::Admin;
use report::Report;

#[derive(Parser)]
#[command(name = "ithbat", version, about = "Identity and access management server", after_help = ENV_HELP)]
struct Cli {
    /// Print the result as one JSON document (for scripts)
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default when no command is given)
    Serve,
    /// Run pending database migrations, then exit
    Migrate,
    /// Make a new token signing key the one that signs; tokens signed by
    /// the old keys stay valid until they expire. Running instances switch
    /// within ITHBAT_SIGNING_KEY_REFRESH seconds
    RotateKeys,
    #[command(flatten)]
    Admin(Admin),
}

/// Runs the command line; what `main` returns.
pub fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    crate::logging::init();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("ithbat: invalid configuration:");
            for e in errors {
                eprintln!("  {e}");
            }
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ithbat: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let json = cli.json;
    let command = cli.command.unwrap_or(Command::Serve);
    match runtime.block_on(run(config, command)) {
        Ok(Some(report)) => {
            report.print(json);
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("ithbat: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}

/// Why a command failed, and the exit status that says so.
struct Failure {
    message: String,
    status: u8,
}

impl Failure {
    /// The server could not start or the database could not be reached.
    fn could_not_run(message: String) -> Failure {
        Failure { message, status: 3 }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let status = match e {
            Error::Internal(_) | Error::Unavailable(_) => 3,
            _ => 1,
        };
        let message = match &e {
            Error::Validation(fields) => fields
                .iter()
                .map(|f| format!("{}: {}", flag(&f.field), f.message))
                .collect::<Vec<_>>()
                .join("; "),
            Error::Conflict {
                field: Some(field),
                message,
            } => format!("{}: {message}", flag(field)),
            other => crate::startup::describe(other),
        };
        Failure { message, status }
    }
}

/// The flag that gave a field the service names as the HTTP APIs do
/// (`firstName` is `--first-name`, `adminEmail` `--owner-email`).
fn flag(field: &str) -> String {
    let field = match field {
        "adminEmail" => "ownerEmail",
        "adminFirstName" => "ownerFirstName",
        "adminLastName" => "ownerFamilyName",
        "allowedGrantTypes" => "grantType",
        "allowedScopes" => "scope",
        "redirectUris" => "redirectUri",
        "roleName" => "role",
        other => other,
    };
    let mut out = String::from("--");
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

async fn run(config: Config, command: Command) -> Result<Option<Report>, Failure> {
    let admin = match command {
        Command::Serve => {
            let server = crate::startup::Server::build(config)
                .await
                .map_err(Failure::could_not_run)?;
            server
                .run()
                .await
                .map_err(|e| Failure::could_not_run(e.to_string()))?;
            return Ok(None);
        }
        Command::Migrate => {
            let applied = crate::db::run_migrations(&config.database_url).await?;
            println!("applied {applied} migration(s)");
            return Ok(None);
        }
        Command::RotateKeys => {
            let kid = crate::service::tokens::rotate_offline(&config).await?;
            println!(
                "new signing key {kid}; instances sign with it within {} s",
                config.signing_key_refresh.as_secs()
            );
            return Ok(None);
        }
        Command::Admin(admin) => admin,
    };
    // Administration works on a database made ready as a first start
    // would make it, so that it is the same whichever runs first.
    let issuer = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let (app, _) = crate::startup::open(config, &issuer)
        .await
        .map_err(Failure::could_not_run)?;
    Ok(Some(admin::run(&app, admin).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_by_their_flags() {
        assert_eq!(flag("firstName"), "--first-name");
        assert_eq!(flag("email"), "--email");
        assert_eq!(flag("adminLastName"), "--owner-family-name");
        assert_eq!(flag("allowedScopes"), "--scope");
    }

    /// Exit status 1 is a refusal that changed nothing; 3 is a failure to run.
    #[test]
    fn exit_statuses() {
        let refused = Failure::from(Error::invalid("familyName", "is required"));
        assert_eq!(refused.status, 1);
        assert_eq!(refused.message, "--family-name: is required");
        assert_eq!(Failure::from(Error::TenantNotFound).status, 1);
        assert_eq!(Failure::from(Error::Unavailable("down".into())).status, 3);
    }

    /// The command tree is well formed (clap's own checks).
    #[test]
    fn commands() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
