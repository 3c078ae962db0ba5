//! The commands that look after stored data beside a running server: backups of the
//! database and of the attachment files, restoring the files, and the retention passes
//! (events, personal text) and the sweeper run on demand.

use std::process::ExitCode;

use secondmile::config::Config;
use secondmile::startup;

/// Exit codes, documented in `--help` and the README.
pub(crate) const EXIT_FAILURE: u8 = 1;
pub(crate) const EXIT_DATA: u8 = 65;
pub(crate) const EXIT_DATABASE_UNAVAILABLE: u8 = 69;
pub(crate) const EXIT_CONFIG: u8 = 78;

/// Which way an attachment copy goes: `Out` into DIR (a backup), `In` from it (a restore).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Direction {
    Out,
    In,
}

fn open_store(url: &str) -> Result<secondmile::attachments::storage::Storage, ExitCode> {
    secondmile::attachments::storage::Storage::open(url).map_err(|e| {
        eprintln!("secondmile: {e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

/// Prints what an attachment copy did; the keys it could not copy go to standard error.
fn report_copy(copied: &secondmile::attachments::copy::Copied, dir: &str) {
    for key in &copied.missing {
        eprintln!(
            "missing {key}: a row names it, the source has no such file (deleted since, or lost)"
        );
    }
    for key in &copied.damaged {
        eprintln!(
            "damaged {key}: its bytes do not match the size or SHA-256 its row recorded; not copied"
        );
    }
    println!(
        "{} files named by the database, {dir}: {} copied ({} bytes), {} already there, {} missing, {} damaged",
        copied.named,
        copied.copied,
        copied.bytes,
        copied.present,
        copied.missing.len(),
        copied.damaged.len()
    );
}

pub(crate) fn backup(config: &Config, path: &std::path::Path, with_files: bool) -> ExitCode {
    use secondmile::attachments::copy::{self, Copied};
    use secondmile::db::backup::{self, BackupError};
    let mut files_dir = path.as_os_str().to_owned();
    files_dir.push(".files");
    let files_dir = std::path::PathBuf::from(files_dir);
    let mut copied: Option<Copied> = None;
    let copy_files = |named: &[secondmile::db::attachments::NamedFile]| {
        if !with_files {
            return Ok(());
        }
        let open = |url: &str| {
            secondmile::attachments::storage::Storage::open(url).map_err(BackupError::Files)
        };
        let source = open(&config.attachments.storage_url)?;
        let target = open(&format!("file://{}", files_dir.display()))?;
        let named = named.to_vec();
        let mut done = Copied::default();
        actix_web::rt::System::new()
            .block_on(async { copy::copy(named, &source, &target, &mut done).await })
            .map_err(|e| BackupError::Files(e.to_string()))?;
        copied = Some(done);
        Ok(())
    };
    match backup::backup(&config.database.url, path, copy_files) {
        Ok(done) => {
            println!(
                "backed up {} organizations and {} reports to {} ({} bytes)",
                done.organizations,
                done.reports,
                done.path.display(),
                done.bytes
            );
            let Some(copied) = copied else {
                println!("attachment files left out (--without-files)");
                return ExitCode::SUCCESS;
            };
            report_copy(&copied, &format!("copied to {}", files_dir.display()));
            if copied.damaged.is_empty() {
                ExitCode::SUCCESS
            } else {
                eprintln!("secondmile: the backup is written without the damaged files above");
                ExitCode::from(EXIT_FAILURE)
            }
        }
        Err(e) => {
            eprintln!("secondmile: {e}");
            ExitCode::from(match e {
                BackupError::Postgres | BackupError::Exists(_) => EXIT_DATA,
                BackupError::Connect(_) => EXIT_DATABASE_UNAVAILABLE,
                _ => EXIT_FAILURE,
            })
        }
    }
}

/// `attachments backup DIR` and `attachments restore DIR`.
pub(crate) fn copy_files(config: &Config, dir: &std::path::Path, direction: Direction) -> ExitCode {
    use secondmile::attachments::copy;
    let db = match startup::connect_and_migrate(&config.database) {
        Ok((db, _)) => db,
        Err(e) => {
            eprintln!("secondmile: {e}");
            return ExitCode::from(EXIT_DATABASE_UNAVAILABLE);
        }
    };
    let (store, copy_dir) = match (
        open_store(&config.attachments.storage_url),
        open_store(&format!("file://{}", dir.display())),
    ) {
        (Ok(store), Ok(copy_dir)) => (store, copy_dir),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let (from, to, said) = match direction {
        Direction::Out => (&store, &copy_dir, format!("copied to {}", dir.display())),
        Direction::In => (&copy_dir, &store, format!("restored to {}", store.location)),
    };
    let copied =
        actix_web::rt::System::new().block_on(async { copy::copy_named(&db, from, to).await });
    match copied {
        Ok(copied) => {
            report_copy(&copied, &said);
            if copied.damaged.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
        Err(e) => {
            eprintln!("secondmile: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

pub(crate) fn prune_personal_data(config: &Config) -> ExitCode {
    use secondmile::organization::retention;
    let db = match startup::connect_and_migrate(&config.database) {
        Ok((db, _)) => db,
        Err(e) => {
            eprintln!("secondmile: {e}");
            return ExitCode::from(EXIT_DATABASE_UNAVAILABLE);
        }
    };
    let storage = match open_store(&config.attachments.storage_url) {
        Ok(storage) => storage,
        Err(code) => return code,
    };
    let pruned =
        actix_web::rt::System::new().block_on(async move { retention::prune(&db, &storage).await });
    match pruned {
        Ok(orgs) if orgs.is_empty() => {
            println!("no organization sets personal_data_retention_days: nothing to do");
            ExitCode::SUCCESS
        }
        Ok(orgs) => {
            for p in orgs {
                println!(
                    "organization {}: {} reports older than {} days emptied of narrative and staff, {} photos of staff deleted",
                    p.org, p.reports, p.retention_days, p.files
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("secondmile: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

pub(crate) fn prune_events(config: &Config, older_than_days: Option<u64>) -> ExitCode {
    use secondmile::events::retention;
    let period = match older_than_days {
        Some(days) => std::time::Duration::from_secs(days * 86_400),
        None => match config.webhooks.retention {
            Some(period) => period,
            None => {
                println!(
                    "SECONDMILE_EVENT_RETENTION_DAYS is 0: events are kept; give --older-than-days to prune"
                );
                return ExitCode::SUCCESS;
            }
        },
    };
    let db = match startup::connect_and_migrate(&config.database) {
        Ok((db, _)) => db,
        Err(e) => {
            eprintln!("secondmile: {e}");
            return ExitCode::from(EXIT_DATABASE_UNAVAILABLE);
        }
    };
    let cutoff = retention::cutoff(db.now(), period);
    let pruned =
        actix_web::rt::System::new().block_on(async move { retention::prune(&db, cutoff).await });
    match pruned {
        Ok(p) => {
            println!(
                "deleted {} events, {} finished deliveries and {} attempts from before {}",
                p.events,
                p.deliveries,
                p.attempts,
                cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("secondmile: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

pub(crate) fn sweep(config: &Config, older_than: u64) -> ExitCode {
    use secondmile::attachments::{storage::Storage, sweep};
    let db = match startup::connect_and_migrate(&config.database) {
        Ok((db, _)) => db,
        Err(e) => {
            eprintln!("secondmile: {e}");
            return ExitCode::from(EXIT_DATABASE_UNAVAILABLE);
        }
    };
    let storage = match Storage::open(&config.attachments.storage_url) {
        Ok(storage) => storage,
        Err(e) => {
            eprintln!("secondmile: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let grace = std::time::Duration::from_secs(older_than);
    let swept = actix_web::rt::System::new()
        .block_on(async move { sweep::sweep(&db, &storage, grace).await });
    match swept {
        Ok(s) => {
            for key in &s.deleted {
                println!("deleted {key} (no row)");
            }
            for path in &s.staging_deleted {
                println!("deleted {path} (staging file of an interrupted write)");
            }
            println!(
                "examined {} files: {} with a row, {} without a row deleted, {} without a row kept (younger than {older_than} s); {} staging files deleted",
                s.examined,
                s.kept,
                s.deleted.len(),
                s.recent,
                s.staging_deleted.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("secondmile: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
