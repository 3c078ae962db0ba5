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
