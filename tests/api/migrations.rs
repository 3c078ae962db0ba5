use std::collections::BTreeSet;
use std::path::Path;

use crate::helpers::TestDb;

fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().to_string();
            for file in ["up.sql", "down.sql"] {
                assert!(
                    entry.path().join(file).is_file(),
                    "{backend}/{name} has no {file}"
                );
            }
            name
        })
        .collect()
}

#[test]
fn both_backends_have_the_same_migrations() {
    let postgres = migration_names("postgres");
    let sqlite = migration_names("sqlite");
    assert!(!postgres.is_empty());
    assert_eq!(
        postgres, sqlite,
        "migrations/postgres and migrations/sqlite must list the same migration names"
    );
}

fn migrate(db: &TestDb) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("migrate")
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile migrate")
}

#[test]
fn migrate_applies_everything_once_then_does_nothing() {
    let db = TestDb::create();
    let first = migrate(&db);
    assert!(first.status.success(), "{first:?}");
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(stdout.starts_with("applied "), "{stdout}");

    let applied_before = secondmile::db::migrations::applied_versions(&mut db.connect()).unwrap();
    let second = migrate(&db);
    assert!(second.status.success(), "{second:?}");
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(stdout.contains("is up to date"), "{stdout}");
    let applied_after = secondmile::db::migrations::applied_versions(&mut db.connect()).unwrap();
    assert_eq!(applied_before, applied_after);
    assert!(
        secondmile::db::migrations::pending(&mut db.connect())
            .unwrap()
            .is_empty()
    );
}
