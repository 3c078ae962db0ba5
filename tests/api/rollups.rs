//! Rollups follow releases: approving adds a report, reopening takes it out, in the same
//! transaction; `secondmile rollups verify` finds any difference from a recomputation and
//! `rebuild` repairs it.

use chrono::{Duration, Utc};
use diesel::connection::SimpleConnection;
use secondmile::aggregates::rollup::RollupKey;
use secondmile::db::aggregates as store;
use serde_json::{Value, json};

use crate::helpers::TestDb;
use crate::helpers::{World, report, set_answer, submit, world};

async fn decide(w: &World, id: &str, decision: Value) {
    let (status, body) = w
        .app
        .post(
            &format!("/api/v1/reports/{id}/review"),
            &w.admin_token,
            decision,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn submitted(w: &World, body: &Value) -> String {
    let (status, created) = submit(w, body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}

fn cli(db: &TestDb, action: &str) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["rollups", action])
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile rollups");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
    )
}

fn day_row(db: &TestDb) -> Vec<(RollupKey, u64, u64)> {
    store::read_all(&mut db.connect())
        .unwrap()
        .into_iter()
        .filter(|(key, _)| key.period.len() == 10)
        .map(|(key, r)| (key, r.tally.visits, r.tally.second_mile))
        .collect()
}

#[actix_web::test]
async fn releasing_and_reopening_keep_the_rollups_equal_to_a_recomputation() {
    let w = world().await;
    let mut second = report(&w);
    set_answer(&mut second, "remembered_name", json!({"value": true}));
    set_answer(&mut second, "unexpressed_need", json!({"value": true}));
    let first = report(&w);
    let mut zero = report(&w);
    set_answer(&mut zero, "on_phone", json!({"value": true}));
    let ids = [
        submitted(&w, &second).await,
        submitted(&w, &first).await,
        submitted(&w, &zero).await,
    ];
    assert!(day_row(&w.app.db).is_empty(), "nothing is released yet");

    decide(&w, &ids[0], json!({"action": "approve"})).await;
    decide(&w, &ids[1], json!({"action": "approve"})).await;
    decide(
        &w,
        &ids[2],
        json!({"action": "reject", "note": "Too vague"}),
    )
    .await;
    let rows = day_row(&w.app.db);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].1, rows[0].2),
        (2, 1),
        "two released, one second mile"
    );
    assert_eq!(
        cli(&w.app.db, "verify"),
        (true, "rollups match the released reports\n".into())
    );

    // Reopening un-releases: the second-mile visit leaves the rollups; approving it again
    // puts it back.
    decide(
        &w,
        &ids[0],
        json!({"action": "reopen", "note": "Checking the receipt"}),
    )
    .await;
    let rows = day_row(&w.app.db);
    assert_eq!((rows[0].1, rows[0].2), (1, 0));
    assert!(cli(&w.app.db, "verify").0);
    decide(&w, &ids[0], json!({"action": "approve"})).await;
    decide(&w, &ids[1], json!({"action": "reopen", "note": "Checking"})).await;
    decide(
        &w,
        &ids[1],
        json!({"action": "reject", "note": "Duplicate"}),
    )
    .await;
    let rows = day_row(&w.app.db);
    assert_eq!((rows[0].1, rows[0].2), (1, 1));
    let stored = store::read_all(&mut w.app.db.connect()).unwrap();
    let day = stored.iter().find(|(k, _)| k.period.len() == 10).unwrap().1;
    assert_eq!(
        day.tally.score_min, day.tally.score_max,
        "extremes recomputed after removal"
    );
    assert!(cli(&w.app.db, "verify").0);
}

#[actix_web::test]
async fn verify_reports_a_corrupted_row_and_rebuild_repairs_it() {
    let w = world().await;
    let id = submitted(&w, &report(&w)).await;
    decide(&w, &id, json!({"action": "approve"})).await;
    w.app
        .db
        .connect()
        .batch_execute(
            "UPDATE rollups SET visits = visits + 4, zero_mile = 3 WHERE length(period) = 7",
        )
        .unwrap();
    let (ok, printed) = cli(&w.app.db, "verify");
    assert!(!ok, "verify exits non-zero on a difference");
    assert!(printed.contains("visits is 5, expected 1"), "{printed}");
    assert!(printed.contains("zero_mile is 3, expected 0"), "{printed}");
    let (ok, printed) = cli(&w.app.db, "rebuild");
    assert!(ok, "{printed}");
    assert_eq!(printed, "rollups rebuilt: 3 location periods\n");
    assert!(cli(&w.app.db, "verify").0);
}

#[actix_web::test]
async fn twenty_concurrent_approvals_into_one_row_lose_nothing() {
    let w = world().await;
    let mut ids = Vec::new();
    let start = Utc::now() - Duration::hours(2);
    for i in 0..20 {
        let mut body = report(&w);
        // The same local day, visits a minute apart.
        let started = start + Duration::minutes(i);
        body["visit"] = json!({
            "started_at": started.to_rfc3339(),
            "ended_at": (started + Duration::minutes(15)).to_rfc3339(),
        });
        body["check_in"]["at"] = json!((started - Duration::seconds(30)).to_rfc3339());
        ids.push(submitted(&w, &body).await);
    }
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/reports/{id}/review"))
        .collect();
    let approvals = paths.iter().map(|path| {
        w.app
            .post(path, &w.admin_token, json!({"action": "approve"}))
    });
    for (status, body) in futures_util::future::join_all(approvals).await {
        assert_eq!(status, 200, "{body}");
    }
    let rows = day_row(&w.app.db);
    let visits: u64 = rows.iter().map(|r| r.1).sum();
    assert_eq!(visits, 20, "{rows:?}");
    assert_eq!(
        cli(&w.app.db, "verify"),
        (true, "rollups match the released reports\n".into())
    );
}

/// Two PostgreSQL transactions that each wait for the other's row: PostgreSQL aborts one as
/// a deadlock, and `write_transaction` runs it again, so both commit and no update is lost.
/// (SQLite's write transactions hold the database's write lock from their first statement:
/// writers there never wait on each other's rows, so there is nothing to run again.)
#[test]
fn a_transaction_that_loses_a_deadlock_runs_again() {
    use std::sync::{Arc, Barrier};

    use diesel::Connection;
    use secondmile::db::{Backend, DbConn, write_transaction};

    let db = TestDb::create();
    if db.backend() == Backend::Sqlite {
        return;
    }
    db.connect()
        .batch_execute(
            "CREATE TABLE probe (id INT PRIMARY KEY, n INT NOT NULL);
             INSERT INTO probe VALUES (1, 0), (2, 0);",
        )
        .unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [(1, 2), (2, 1)]
        .into_iter()
        .map(|(first, second)| {
            let (barrier, url) = (barrier.clone(), db.url());
            std::thread::spawn(move || {
                let mut conn = DbConn::Pg(diesel::PgConnection::establish(&url).unwrap());
                let mut attempts = 0;
                write_transaction(&mut conn, |conn| {
                    attempts += 1;
                    conn.batch_execute(&format!("UPDATE probe SET n = n + 1 WHERE id = {first}"))?;
                    if attempts == 1 {
                        // Both hold their first row before either asks for the other's.
                        barrier.wait();
                    }
                    conn.batch_execute(&format!("UPDATE probe SET n = n + 1 WHERE id = {second}"))
                })
                .expect("both transactions commit");
                attempts
            })
        })
        .collect();
    let mut attempts: Vec<u32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    attempts.sort();
    assert_eq!(attempts, [1, 2], "the deadlock's loser ran once more");
    db.connect()
        .batch_execute(
            "DO $$ BEGIN
                 IF (SELECT array_agg(n ORDER BY id) FROM probe) <> ARRAY[2, 2] THEN
                     RAISE EXCEPTION 'an update was lost';
                 END IF;
             END $$;",
        )
        .expect("every update counted");
}
