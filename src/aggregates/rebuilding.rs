//! A rollups rebuild that a migration asked for. The migration leaves a marker (the
//! `rollups_rebuild` setting); a command that is not `serve` rebuilds at once, while the
//! server starts serving first and rebuilds in the background, answering aggregate reads
//! with 503 `rollups_rebuilding` until it is done (everything else serves, `/readyz`
//! included). One instance holds the rebuild and marks it as still held after each
//! transaction; another takes it over when the holder has been silent for [`STALE`], and the
//! rest wait for the marker to go.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::maintenance::{self, Progress, Rebuild};
use crate::db::{Db, DbConn, DbError, QueryResult, settings};

/// The marker's key in the settings table.
pub const SETTING: &str = "rollups_rebuild";
/// The marker's value while nobody holds the rebuild.
const PENDING: &str = "pending";
/// Its value while an instance rebuilds.
const HELD: &str = "running";
/// A holder silent this long is gone.
const STALE: Duration = Duration::from_secs(60);
/// How often a waiting instance looks at the marker.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// What a 503 tells the client to wait, in seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Whether this instance answers aggregate reads with 503 (a rebuild is pending or under
/// way); shared by the handlers and the background task.
#[derive(Clone, Debug, Default)]
pub struct Rebuilding(Arc<AtomicBool>);

impl Rebuilding {
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, on: bool) {
        self.0.store(on, Ordering::Release);
    }
}

/// Asks for a rebuild (a migration recreated or changed the rollups).
pub fn request(conn: &mut DbConn, db: &Db) -> QueryResult<()> {
    settings::put(conn, SETTING, PENDING, db.now())
}

/// Whether a rebuild is asked for or under way.
pub fn pending(db: &Db) -> Result<bool, DbError> {
    let mut conn = db.get()?;
    Ok(settings::get(&mut conn, SETTING)?.is_some())
}

/// Runs an asked-for rebuild now, whoever held it (a command run by an operator, with no
/// server answering meanwhile); the number of rollup periods built, `None` when none was
/// asked for.
pub fn finish_now(db: &Db) -> Result<Option<usize>, DbError> {
    if !pending(db)? {
        return Ok(None);
    }
    let periods = maintenance::rebuild(db, &mut Progress::Silent)?;
    let mut conn = db.get()?;
    settings::delete(&mut conn, SETTING)?;
    Ok(Some(periods))
}

/// Whether this instance took the rebuild, or it is done.
enum Turn {
    Done,
    Mine,
    Theirs,
}

/// What the background task does next.
enum Next {
    Done,
    Wait,
    Continue(Rebuild),
}

/// The server's side: until no rebuild is asked for, hold it and run it a transaction at a
/// time, or wait for the instance that holds it; then turn `flag` off.
pub async fn run(db: Db, flag: Rebuilding) {
    let mut next = Next::Wait;
    loop {
        let outcome = match next {
            Next::Done => break,
            Next::Wait => take_turn(&db).await.map(|turn| match turn {
                Turn::Done => Next::Done,
                Turn::Mine => Next::Continue(Rebuild::default()),
                Turn::Theirs => Next::Wait,
            }),
            Next::Continue(rebuild) => step(&db, rebuild).await.map(|(rebuild, more)| {
                if more {
                    return Next::Continue(rebuild);
                }
                tracing::info!(
                    periods = rebuild.periods,
                    reports = rebuild.read,
                    "rebuilt the aggregate rollups from the released reports"
                );
                Next::Done
            }),
        };
        next = match outcome {
            Ok(Next::Wait) => {
                tokio::time::sleep(LOOK_EVERY).await;
                Next::Wait
            }
            Ok(next) => next,
            Err(e) => {
                // Taken again once the marker is stale, from the first location (each is
                // replaced whole, so starting over is safe).
                tracing::warn!(error = %e, "the rollups rebuild failed a step; it will retry");
                tokio::time::sleep(LOOK_EVERY).await;
                Next::Wait
            }
        };
    }
    flag.set(false);
}

async fn take_turn(db: &Db) -> Result<Turn, DbError> {
    let now = db.now();
    let stale_before = now - STALE;
    db.run(move |conn| {
        if settings::get(conn, SETTING)?.is_none() {
            return Ok(Turn::Done);
        }
        Ok(
            if settings::claim(conn, SETTING, PENDING, HELD, stale_before, now)? {
                Turn::Mine
            } else {
                Turn::Theirs
            },
        )
    })
    .await
}

/// One transaction of the rebuild, then the marker touched (or removed when it was the
/// last).
async fn step(db: &Db, mut rebuild: Rebuild) -> Result<(Rebuild, bool), DbError> {
    let now = db.now();
    db.run(move |conn| {
        let more = rebuild.step(conn)?;
        if more {
            settings::touch(conn, SETTING, now)?;
        } else {
            settings::delete(conn, SETTING)?;
        }
        Ok((rebuild, more))
    })
    .await
}

/// The flag for a server about to start: on when a rebuild is asked for or under way.
pub fn at_start(db: &Db) -> Result<Rebuilding, DbError> {
    let flag = Rebuilding::default();
    flag.set(pending(db)?);
    Ok(flag)
}
