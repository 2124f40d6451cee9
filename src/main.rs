use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ithbat::config::{Config, ENV_HELP};

#[derive(Parser)]
#[command(name = "ithbat", version, about = "Identity and access management server", after_help = ENV_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default when no command is given)
    Serve,
    /// Run pending database migrations, then exit
    Migrate,
    /// Give a user a new random password (printed once) and unlock them
    ResetPassword {
        /// The user's email address
        #[arg(long)]
        email: String,
        /// The tenant's slug
        #[arg(long, default_value = "default")]
        tenant: String,
    },
    /// Make a new token signing key the one that signs; tokens signed by
    /// the old keys stay valid until they expire. Running instances switch
    /// within ITHBAT_SIGNING_KEY_REFRESH seconds
    RotateKeys,
}

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    ithbat::logging::init();
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
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                let server = ithbat::startup::Server::build(config).await?;
                server.run().await.map_err(|e| e.to_string())
            }
            Command::Migrate => {
                let applied = ithbat::db::run_migrations(&config.database_url)
                    .await
                    .map_err(|e| format!("{e:?}"))?;
                println!("applied {applied} migration(s)");
                Ok(())
            }
            Command::ResetPassword { email, tenant } => {
                let password =
                    ithbat::service::users::reset_password_offline(&config, &tenant, &email)
                        .await
                        .map_err(|e| format!("{e:?}"))?;
                println!("new password for {email}: {password}");
                Ok(())
            }
            Command::RotateKeys => {
                let kid = ithbat::service::tokens::rotate_offline(&config)
                    .await
                    .map_err(|e| format!("{e:?}"))?;
                println!(
                    "new signing key {kid}; instances sign with it within {} s",
                    config.signing_key_refresh.as_secs()
                );
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            eprintln!("ithbat: {e}");
            ExitCode::FAILURE
        }
    }
}
