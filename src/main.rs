// No panics on input: outside tests, unwrap, expect, panic! and unchecked indexing are
// refused; the few provably safe uses carry an `#[allow]` with their reason.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use std::io::{BufRead, IsTerminal};

use secondmile::auth::bootstrap::{self, BootstrapError};
use secondmile::config::{Config, VARIABLES};
use secondmile::startup::{self, Application, StartupError};
use secondmile::{openapi, telemetry};

/// glibc's allocator gives threads that allocate at once arenas of their own (up to eight
/// per core) and keeps what is freed in them: under ingest the server held three times the
/// memory it used. Two arenas and a lower trim threshold hand it back (`bench/README.md`:
/// peak RSS under ingest 180 MiB before, 53 MiB after, throughput within the noise). The
/// `MALLOC_ARENA_MAX` and `MALLOC_TRIM_THRESHOLD_` variables still win when set.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let unset = |name: &str| std::env::var_os(name).is_none();
        // SAFETY: `mallopt` only changes the allocator's parameters, and this runs first in
        // `main`, before any other thread exists.
        unsafe {
            if unset("MALLOC_ARENA_MAX") {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
            if unset("MALLOC_TRIM_THRESHOLD_") {
                libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
            }
        }
    }
}

mod maintenance;

use maintenance::{
    Direction, EXIT_CONFIG, EXIT_DATA, EXIT_DATABASE_UNAVAILABLE, EXIT_FAILURE, backup, copy_files,
    prune_events, prune_personal_data, sweep,
};

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
    Serve(ServeArgs),
    /// Load the demo organization (40 stores, 2 questionnaires, users of every role, an
    /// integration client, about 2,700 visit reports over six months) into an empty database,
    /// then print its credentials once.
    Demo(DemoArgs),
    /// Apply pending database migrations and exit; does nothing on an up-to-date database.
    Migrate,
    /// Print the OpenAPI 3.1 document (JSON) to standard output.
    Openapi,
    /// Copy the SQLite database, while the server runs, to a new file PATH: one consistent
    /// snapshot, checked and written atomically, with the attachment files its rows name
    /// copied into the directory PATH.files first. (PostgreSQL: pg_dump, then `attachments
    /// backup`; see the README.)
    Backup {
        /// The new file (never overwritten).
        path: std::path::PathBuf,
        /// Leave the attachment files out (when the store is backed up by other means, such
        /// as a versioned S3 bucket).
        #[arg(long)]
        without_files: bool,
    },
    /// Attachment files: `sweep` deletes stored files that have no row (uploads interrupted
    /// between storing the file and writing its row) once older than `--older-than` seconds,
    /// and prints each one (`serve` also sweeps at start and hourly); `backup DIR` copies
    /// every file the database names into DIR, `restore DIR` copies them back into the store.
    Attachments {
        #[command(subcommand)]
        action: AttachmentsAction,
    },
    /// Events: `prune` deletes events, and finished webhook deliveries with their attempts,
    /// older than `--older-than-days` (default: SECONDMILE_EVENT_RETENTION_DAYS), and prints
    /// how many. `serve` also prunes at start and hourly unless the retention is 0.
    Events {
        #[command(subcommand)]
        action: EventsAction,
    },
    /// Personal data: `prune` deletes the narrative, staff observed and photos of staff of
    /// reports whose visit is older than their organization's `personal_data_retention_days`
    /// (organizations that set none are left alone), and prints how many. `serve` also
    /// prunes at start and hourly.
    PersonalData {
        #[command(subcommand)]
        action: PersonalDataAction,
    },
    /// Check the aggregate rollups against the released reports (`verify`: print every
    /// difference, exit 1 when there is one) or rebuild them from those reports (`rebuild`, in
    /// one transaction).
    Rollups {
        #[arg(value_enum)]
        action: RollupAction,
    },
    /// Create an organization and its first admin. The password is read from standard input
    /// (one line), or prompted for without echo on a terminal; it is never printed.
    CreateAdmin {
        /// Name of the new organization.
        #[arg(long)]
        org_name: String,
        /// Email of the admin (their sign-in name).
        #[arg(long)]
        email: String,
        /// Display name of the admin (default: the part of the email before `@`).
        #[arg(long)]
        display_name: Option<String>,
    },
}

#[derive(clap::Args, Default)]
struct ServeArgs {
    /// Load the demo organization first when the database has no organization.
    #[arg(long)]
    demo: bool,
    #[command(flatten)]
    options: DemoOptionArgs,
}

#[derive(clap::Args)]
struct DemoArgs {
    #[command(flatten)]
    options: DemoOptionArgs,
    /// Add the demo organization even when the database already has organizations.
    #[arg(long)]
    force_new_org: bool,
}

#[derive(clap::Args, Default)]
struct DemoOptionArgs {
    /// The demo's random seed: the same seed gives the same reports and figures.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// One password for every demo user (default: a generated password each, printed once).
    #[arg(long)]
    password: Option<String>,
    /// Visits per store on average (smaller demos for quick tests).
    #[arg(long, default_value_t = secondmile::demo::VISITS_PER_STORE, hide = true)]
    visits_per_store: u32,
}

impl DemoOptionArgs {
    fn options(self, force_new_org: bool) -> secondmile::demo::DemoOptions {
        secondmile::demo::DemoOptions {
            seed: self.seed,
            password: self.password,
            force_new_org,
            visits_per_store: self.visits_per_store,
        }
    }
}

#[derive(Subcommand)]
enum AttachmentsAction {
    /// Delete the stored files without a row.
    Sweep {
        /// Leave files younger than this many seconds (an upload in flight has stored its
        /// file and is about to write its row). 0 when no server is running.
        #[arg(long, default_value_t = 3600)]
        older_than: u64,
    },
    /// Copy every file the database names into the directory DIR (created if missing; a
    /// file already there is skipped, so a second run copies only what is new). Each file
    /// is checked against the digest its row recorded.
    Backup { dir: std::path::PathBuf },
    /// Copy every file the database names from the directory DIR (written by `backup`, or
    /// beside a `secondmile backup` copy) into the store, skipping those it holds.
    Restore { dir: std::path::PathBuf },
}

#[derive(Subcommand)]
enum PersonalDataAction {
    /// Delete the personal text past each organization's retention now.
    Prune,
}

#[derive(Subcommand)]
enum EventsAction {
    /// Delete events and finished deliveries past the retention period.
    Prune {
        /// Delete what is older than this many days (0: everything up to now).
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=36500))]
        older_than_days: Option<u64>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RollupAction {
    Verify,
    Rebuild,
}

fn after_help() -> String {
    let mut text = String::from("Environment (defaults in brackets):\n");
    for (name, default, what) in VARIABLES {
        text.push_str(&format!("  {name} [{default}]\n      {what}\n"));
    }
    text.push_str("\nExit codes:");
    for (code, what) in secondmile::config::EXIT_CODES {
        text.push_str(&format!("\n  {code:<3} {what}"));
    }
    text
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::default()));
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
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .collect();
    for name in secondmile::config::unknown_variables(names.iter().map(String::as_str)) {
        tracing::warn!(variable = %name, "this SECONDMILE_ setting is not one the server reads (a typo?); `secondmile --help` lists them");
    }

    let result = match command {
        Command::Migrate => migrate(&config),
        Command::CreateAdmin {
            org_name,
            email,
            display_name,
        } => return create_admin(&config, &org_name, &email, display_name.as_deref()),
        Command::Rollups { action } => return rollups(&config, action),
        Command::Backup {
            path,
            without_files,
        } => return backup(&config, &path, !without_files),
        Command::Attachments { action } => {
            return match action {
                AttachmentsAction::Sweep { older_than } => sweep(&config, older_than),
                AttachmentsAction::Backup { dir } => copy_files(&config, &dir, Direction::Out),
                AttachmentsAction::Restore { dir } => copy_files(&config, &dir, Direction::In),
            };
        }
        Command::Events {
            action: EventsAction::Prune { older_than_days },
        } => return prune_events(&config, older_than_days),
        Command::PersonalData {
            action: PersonalDataAction::Prune,
        } => return prune_personal_data(&config),
        Command::Demo(args) => return demo(&config, args.options.options(args.force_new_org)),
        Command::Serve(args) => serve(config, args.demo.then(|| args.options.options(false))),
        Command::Openapi => unreachable!("answered above"),
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

fn read_password(email: &str) -> std::io::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {email}: "))?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        if first != second {
            return Err(std::io::Error::other("the passwords differ"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn create_admin(
    config: &Config,
    org_name: &str,
    email: &str,
    display_name: Option<&str>,
) -> ExitCode {
    let password = match read_password(email) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("secondmile: cannot read the password: {e}");
            return ExitCode::from(EXIT_DATA);
        }
    };
    let db = match startup::connect_and_migrate(&config.database) {
        Ok((db, _)) => db,
        Err(e) => {
            eprintln!("secondmile: {e}");
            return ExitCode::from(match e {
                StartupError::Database { .. } | StartupError::Pool(_) => EXIT_DATABASE_UNAVAILABLE,
                _ => EXIT_FAILURE,
            });
        }
    };
    match bootstrap::create_admin(&db, org_name, email, display_name, password) {
        Ok((org, admin)) => {
            println!(
                "created organization \"{}\" ({}) and its admin {} ({})",
                org.name, org.id, admin.email, admin.id
            );
            ExitCode::SUCCESS
        }
        Err(e @ (BootstrapError::Invalid(_) | BootstrapError::EmailTaken(_))) => {
            eprintln!("secondmile: {e}");
            ExitCode::from(EXIT_DATA)
        }
        Err(BootstrapError::Database(e @ secondmile::db::DbError::Unavailable(_))) => {
            eprintln!("secondmile: {e}");
            ExitCode::from(EXIT_DATABASE_UNAVAILABLE)
        }
        Err(e) => {
            eprintln!("secondmile: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn rollups(config: &Config, action: RollupAction) -> ExitCode {
    use secondmile::aggregates::maintenance;
    let db = match startup::connect_and_migrate(&config.database) {
        Ok((db, _)) => db,
        Err(e) => {
            eprintln!("secondmile: {e}");
            return ExitCode::from(EXIT_DATABASE_UNAVAILABLE);
        }
    };
    let mut progress = match maintenance::released(&db) {
        Ok(total) => maintenance::Progress::for_stderr(total),
        Err(e) => {
            eprintln!("secondmile: {e}");
            return ExitCode::from(EXIT_DATABASE_UNAVAILABLE);
        }
    };
    match action {
        RollupAction::Verify => match maintenance::verify(&db, &mut progress) {
            Ok(differences) if differences.is_empty() => {
                println!("rollups match the released reports");
                ExitCode::SUCCESS
            }
            Ok(differences) => {
                for difference in &differences {
                    println!("{difference}");
                }
                println!(
                    "{} difference(s); repair with `secondmile rollups rebuild`",
                    differences.len()
                );
                ExitCode::from(EXIT_FAILURE)
            }
            Err(e) => {
                eprintln!("secondmile: {e}");
                ExitCode::from(EXIT_FAILURE)
            }
        },
        RollupAction::Rebuild => match maintenance::rebuild(&db, &mut progress) {
            Ok(periods) => {
                println!("rollups rebuilt: {periods} location periods");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("secondmile: {e}");
                ExitCode::from(EXIT_FAILURE)
            }
        },
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

/// Removes what an interrupted load of the demo wrote, saying so, so that it is loaded again.
fn remove_unfinished_demo(db: &secondmile::db::Db) -> Result<(), secondmile::demo::DemoError> {
    if let Some(domain) = secondmile::demo::unfinished(db)? {
        let rows = secondmile::demo::remove_unfinished(db, &domain)?;
        eprintln!(
            "an earlier load of the demo did not finish: its {rows} rows are removed and the demo is loaded again"
        );
    }
    Ok(())
}

/// Loads the demo with its progress on standard error (and not a line per report).
fn load_demo(
    config: &Config,
    db: secondmile::db::Db,
    options: secondmile::demo::DemoOptions,
) -> Result<secondmile::demo::Loaded, secondmile::demo::DemoError> {
    use tracing::instrument::WithSubscriber;
    let reports = config.reports.clone();
    let quiet = secondmile::telemetry::without_report_lines(&config.log);
    actix_web::rt::System::new().block_on(
        async move {
            let mut progress = secondmile::demo::Shown::for_stderr();
            let today = chrono::Utc::now().date_naive();
            secondmile::demo::load(&db, &reports, &options, today, &mut progress).await
        }
        .with_subscriber(quiet),
    )
}

/// Loads the demo and prints its credentials; exit 65 when the database is not empty.
fn demo(config: &Config, options: secondmile::demo::DemoOptions) -> ExitCode {
    let db = match startup::connect_and_migrate(&config.database) {
        Ok((db, _)) => db,
        Err(e) => {
            eprintln!("secondmile: {e}");
            return ExitCode::from(EXIT_DATABASE_UNAVAILABLE);
        }
    };
    if let Err(e) = remove_unfinished_demo(&db) {
        eprintln!("secondmile: {e}");
        return ExitCode::from(EXIT_FAILURE);
    }
    let started = std::time::Instant::now();
    let loaded = load_demo(config, db, options);
    match loaded {
        Ok(loaded) => {
            print!("{}", secondmile::demo::credentials_table(&loaded));
            eprintln!("demo loaded in {:.1} s", started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(
            e
            @ (secondmile::demo::DemoError::NotEmpty(_) | secondmile::demo::DemoError::Invalid(_)),
        ) => {
            eprintln!("secondmile: {e}");
            ExitCode::from(EXIT_DATA)
        }
        Err(e) => {
            eprintln!("secondmile: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn serve(config: Config, demo: Option<secondmile::demo::DemoOptions>) -> Result<(), StartupError> {
    // The port first: a busy one is said before the demo spends its seconds loading.
    let listener = Application::bind(&config)?;
    if let Some(options) = demo {
        let (db, _) = startup::connect_and_migrate(&config.database)?;
        remove_unfinished_demo(&db).map_err(|e| StartupError::Demo(e.to_string()))?;
        let empty =
            secondmile::demo::is_empty(&db).map_err(|e| StartupError::Demo(e.to_string()))?;
        if empty {
            let loaded = load_demo(&config, db, options);
            let loaded = loaded.map_err(|e| StartupError::Demo(e.to_string()))?;
            print!("{}", secondmile::demo::credentials_table(&loaded));
        } else {
            tracing::info!("the database has an organization; the demo is not loaded");
        }
    } else {
        let (db, _) = startup::connect_and_migrate(&config.database)?;
        let unfinished =
            secondmile::demo::unfinished(&db).map_err(|e| StartupError::Demo(e.to_string()))?;
        if unfinished.is_some() {
            return Err(StartupError::Demo(
                "the demo in this database did not finish loading (was it interrupted?) and is not \
                 served half loaded: `secondmile serve --demo` removes it and loads it again"
                    .into(),
            ));
        }
    }
    actix_web::rt::System::new().block_on(async move {
        let bind = config.server.bind;
        let database = config.database.url.to_string();
        let app = Application::build_on(config, listener, |_| {})?;
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
