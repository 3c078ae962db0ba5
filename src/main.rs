use std::process::ExitCode;

use clap::{Parser, Subcommand};

use secondmile::config::{Config, VARIABLES};
use secondmile::startup::{self, Application, StartupError};
use secondmile::{openapi, telemetry};

/// Exit codes, documented in `--help` and the README.
const EXIT_FAILURE: u8 = 1;
const EXIT_DATABASE_UNAVAILABLE: u8 = 69;
const EXIT_CONFIG: u8 = 78;

#[derive(Parser)]
#[command(
    name = "secondmile",
    version,
    about = "REST API backend for mystery-shopper programmes: visit reports scored as zero, first or second mile",
    after_help = after_help()
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the HTTP API until SIGINT/SIGTERM (the default).
    Serve,
    /// Apply pending database migrations and exit; does nothing on an up-to-date database.
    Migrate,
    /// Print the OpenAPI 3.1 document (JSON) to standard output.
    Openapi,
}

fn after_help() -> String {
    let mut text = String::from("Environment (defaults in brackets):\n");
    for (name, default, what) in VARIABLES {
        text.push_str(&format!("  {name} [{default}]\n      {what}\n"));
    }
    text.push_str(
        "\nExit codes:\n  0   success\n  1   failure (migration, listening socket, server error)\n  \
         2   invalid command line\n  69  database unreachable\n  78  invalid configuration",
    );
    text
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        print!("{}", openapi::document_json());
        return ExitCode::SUCCESS;
    }

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("secondmile: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    telemetry::init(&config.log);

    let result = match command {
        Command::Migrate => migrate(&config),
        Command::Serve | Command::Openapi => serve(config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "stopped");
            eprintln!("secondmile: {e}");
            ExitCode::from(match e {
                StartupError::Database { .. } | StartupError::Pool(_) => EXIT_DATABASE_UNAVAILABLE,
                _ => EXIT_FAILURE,
            })
        }
    }
}

fn migrate(config: &Config) -> Result<(), StartupError> {
    let (_db, applied) = startup::connect_and_migrate(&config.database)?;
    if applied.is_empty() {
        println!("database {} is up to date", config.database.url);
    } else {
        println!(
            "applied {} migration(s) to {}: {}",
            applied.len(),
            config.database.url,
            applied.join(", ")
        );
    }
    Ok(())
}

fn serve(config: Config) -> Result<(), StartupError> {
    actix_web::rt::System::new().block_on(async move {
        let bind = config.server.bind;
        let database = config.database.url.to_string();
        let app = Application::build(config)?;
        tracing::info!(%bind, port = app.port(), %database, "secondmile is serving");
        app.run_until_stopped()
            .await
            .map_err(|source| StartupError::Bind {
                addr: bind.to_string(),
                source,
            })?;
        tracing::info!("secondmile stopped");
        Ok(())
    })
}
