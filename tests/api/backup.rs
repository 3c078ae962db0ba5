//! `secondmile backup PATH`: taken while reports are being submitted, the copy holds every
//! report acknowledged before the backup started, and a server started on it serves them.

use std::cell::RefCell;
use std::rc::Rc;

use crate::helpers::{TestDb, client, start_server};
use crate::helpers::{report, world};

fn backup(db_url: &str, path: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("backup")
        .arg(path)
        .env("DATABASE_URL", db_url)
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile backup")
}

#[actix_web::test]
async fn a_backup_under_write_load_holds_every_report_acknowledged_before_it() {
    let w = world().await;
    let dir = std::env::temp_dir().join(format!("secondmile-backup-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("copy.db");
    if let TestDb::Postgres { .. } = &w.app.db {
        let out = backup(&w.app.db.url(), &target);
        assert_eq!(out.status.code(), Some(65), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("pg_dump"),
            "{out:?}"
        );
        assert!(!target.exists());
        return;
    }

    // A writer submits reports one after another for as long as the test runs.
    let acknowledged = Rc::new(RefCell::new(Vec::<String>::new()));
    let stop = Rc::new(RefCell::new(false));
    let bodies: Vec<_> = (0..400).map(|_| report(&w)).collect();
    let writer = {
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        let (url, token) = (w.app.url("/api/v1/reports"), w.shopper_token.clone());
        actix_web::rt::spawn(async move {
            let http = client();
            for body in bodies {
                if *stop.borrow() {
                    break;
                }
                let response = http.post(&url).bearer_auth(&token).send_json(&body).await;
                if let Ok(r) = response
                    && r.status().as_u16() == 201
                {
                    acknowledged
                        .borrow_mut()
                        .push(body["id"].as_str().unwrap().to_string());
                }
            }
        })
    };
    while acknowledged.borrow().len() < 20 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before: Vec<String> = acknowledged.borrow().clone();
    let (url, path) = (w.app.db.url(), target.clone());
    let out = actix_web::rt::task::spawn_blocking(move || backup(&url, &path))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("backed up 1 organizations"), "{said}");
    let during = acknowledged.borrow().len();
    *stop.borrow_mut() = true;
    writer.await.unwrap();
    assert!(during > 20, "the writer kept writing during the backup");

    // A second backup to the same path is refused; the first is untouched.
    let size = std::fs::metadata(&target).unwrap().len();
    let again = backup(&w.app.db.url(), &target);
    assert_eq!(again.status.code(), Some(65), "{again:?}");
    assert_eq!(std::fs::metadata(&target).unwrap().len(), size);

    // Restore: a server on the copy serves every report acknowledged before the backup.
    let restored = TestDb::Sqlite {
        dir: dir.clone(),
        path: target.clone(),
    };
    let address = start_server(&restored, &[], |_| {});
    let http = client();
    for id in &before {
        let response = http
            .get(format!("{address}/api/v1/reports/{id}"))
            .bearer_auth(&w.admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            200,
            "report {id} is in the backup"
        );
    }
    let mut copy = restored.connect();
    let total = crate::helpers::count_rows(&mut copy, "reports");
    assert!(total >= before.len() as i64, "{total} < {}", before.len());
}

/// Runs `secondmile` with a database and an attachment store.
fn run(db_url: &str, storage_url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("SECONDMILE_STORAGE_URL", storage_url)
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile")
}

fn said(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The photo as a server on `db_url` with the store `storage_url` serves it.
async fn served_photo(db: &TestDb, storage_url: &str, token: &str, photo: &str) -> Vec<u8> {
    let address = start_server(db, &[("SECONDMILE_STORAGE_URL", storage_url)], |_| {});
    let mut response = client()
        .get(format!("{address}/api/v1/attachments/{photo}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "the photo is served");
    response.body().limit(20 << 20).await.unwrap().to_vec()
}

/// The attachment store is backed up with the database: `secondmile backup` (SQLite) copies
/// the files its copy names beside it, `attachments backup DIR` (any database, after
/// pg_dump) copies them into a directory, `attachments restore DIR` puts them back into an
/// empty store; a server on what was restored serves the photo, byte for byte.
#[actix_web::test]
async fn the_photos_are_backed_up_with_the_database_and_a_restore_serves_them() {
    use crate::attachments::{download, jpeg_with_gps, put, report_with_photo, walk};
    let w = world().await;
    let photo = uuid::Uuid::new_v4().to_string();
    let report_id = report_with_photo(&w, &photo).await;
    let (status, stored) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &photo,
        "image/jpeg",
        jpeg_with_gps(),
        None,
    )
    .await;
    assert_eq!(status, 201, "{stored}");
    let (status, _, original) = download(&w.app, &w.admin_token, &photo, &[]).await;
    assert_eq!(status, 200);
    let dir = std::env::temp_dir().join(format!("secondmile-files-{}", uuid::Uuid::new_v4()));
    let (db_url, store) = (w.app.db.url(), w.app.db.storage_url());
    let file_url = |name: &str| format!("file://{}", dir.join(name).display());

    // Any database: the files into a directory, twice (the second run copies nothing).
    let copy_dir = dir.join("files");
    let copy_arg = copy_dir.display().to_string();
    let first = run(&db_url, &store, &["attachments", "backup", &copy_arg]);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    assert!(
        said(&first).contains("1 files named by the database"),
        "{first:?}"
    );
    assert!(said(&first).contains(": 1 copied"), "{first:?}");
    let again = run(&db_url, &store, &["attachments", "backup", &copy_arg]);
    assert!(
        said(&again).contains(": 0 copied (0 bytes), 1 already there"),
        "{again:?}"
    );

    // Restored into an empty store, the photo is served from it.
    let fresh = file_url("restored-store");
    let restored = run(&db_url, &fresh, &["attachments", "restore", &copy_arg]);
    assert_eq!(restored.status.code(), Some(0), "{restored:?}");
    assert!(said(&restored).contains(": 1 copied"), "{restored:?}");
    assert_eq!(
        served_photo(&w.app.db, &fresh, &w.admin_token, &photo).await,
        original
    );

    // A file whose bytes no longer match its row is reported and not copied.
    let in_store = walk(&std::path::PathBuf::from(
        store.trim_start_matches("file://"),
    ));
    assert_eq!(in_store.len(), 1, "{in_store:?}");
    std::fs::write(&in_store[0], b"not the photo").unwrap();
    let damaged = run(
        &db_url,
        &store,
        &[
            "attachments",
            "backup",
            &dir.join("second").display().to_string(),
        ],
    );
    assert_eq!(damaged.status.code(), Some(1), "{damaged:?}");
    assert!(
        String::from_utf8_lossy(&damaged.stderr).contains("damaged orgs/"),
        "{damaged:?}"
    );
    assert!(walk(&dir.join("second")).is_empty());

    // SQLite: `secondmile backup` takes the files with the database.
    let TestDb::Sqlite { .. } = &w.app.db else {
        return;
    };
    let intact = file_url("restored-store");
    let target = dir.join("copy.db");
    let out = run(&db_url, &intact, &["backup", &target.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        said(&out).contains(&format!("copied to {}.files: 1 copied", target.display())),
        "{out:?}"
    );
    let without = run(
        &db_url,
        &intact,
        &[
            "backup",
            "--without-files",
            &dir.join("bare.db").display().to_string(),
        ],
    );
    assert_eq!(without.status.code(), Some(0), "{without:?}");
    assert!(!dir.join("bare.db.files").exists());
    // The store it came from is gone: the copy and its files are enough.
    std::fs::remove_dir_all(dir.join("restored-store")).unwrap();
    let copy = TestDb::Sqlite {
        dir: dir.clone(),
        path: target.clone(),
    };
    let beside = format!("file://{}.files", target.display());
    assert_eq!(
        served_photo(&copy, &beside, &w.admin_token, &photo).await,
        original
    );
}
