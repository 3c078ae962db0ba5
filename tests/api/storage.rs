//! Storage behaviour that must be identical on both backends.

use chrono::TimeZone;
use secondmile::config::DatabaseConfig;
use secondmile::db::{self, DatabaseUrl, Db, settings};

use crate::helpers::TestDb;

fn migrated(test_db: &TestDb) -> Db {
    let config = DatabaseConfig {
        url: DatabaseUrl::parse(&test_db.url()).unwrap(),
        pool_size: 2,
        connection_timeout: std::time::Duration::from_secs(5),
    };
    secondmile::startup::connect_and_migrate(&config).unwrap().0
}

#[test]
fn timestamps_round_trip_exactly() {
    let test_db = TestDb::create();
    let db = migrated(&test_db);
    let mut conn = db.get().unwrap();
    assert_eq!(conn.backend(), test_db.backend());

    let at = secondmile::clock::Clock::system().now();
    settings::put(&mut conn, "probe", "v1", at).unwrap();
    let stored = settings::get(&mut conn, "probe").unwrap().unwrap();
    assert_eq!(stored.created_at, at);
    assert_eq!(stored.value, "v1");

    // A fixed instant far from the session's time zone offset reads back unchanged.
    let fixed = chrono::Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap();
    settings::put(&mut conn, "probe", "v2", fixed).unwrap();
    let stored = settings::get(&mut conn, "probe").unwrap().unwrap();
    assert_eq!(stored.updated_at, fixed);
    assert_eq!(stored.created_at, at, "an update keeps the creation time");
    assert_eq!(stored.value, "v2");
}

#[test]
fn the_first_stored_value_wins() {
    let test_db = TestDb::create();
    let db = migrated(&test_db);
    let mut conn = db.get().unwrap();
    let first = settings::get_or_insert(
        &mut conn,
        "jwt_secret",
        "first",
        secondmile::clock::Clock::system().now(),
    )
    .unwrap();
    let second = settings::get_or_insert(
        &mut conn,
        "jwt_secret",
        "second",
        secondmile::clock::Clock::system().now(),
    )
    .unwrap();
    assert_eq!(first.value, "first");
    assert_eq!(second, first);
    assert!(settings::get(&mut conn, "missing").unwrap().is_none());
}

#[test]
fn connections_are_durable_and_enforce_foreign_keys() {
    let test_db = TestDb::create();
    let db = migrated(&test_db);
    #[derive(diesel::QueryableByName)]
    struct Pragma {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let mut conn = db.get().unwrap();
    let read = |conn: &mut db::DbConn, sql: &str| -> String {
        diesel::RunQueryDsl::get_result::<Pragma>(diesel::sql_query(sql), conn)
            .unwrap()
            .value
    };
    if db.backend() == db::Backend::Postgres {
        // An acknowledged commit is flushed before the answer.
        for setting in ["synchronous_commit", "fsync"] {
            let sql = format!("SELECT current_setting('{setting}') AS value");
            assert_eq!(read(&mut conn, &sql), "on", "{setting}");
        }
    } else {
        for (sql, expected) in [
            (
                "SELECT CAST(journal_mode AS TEXT) AS value FROM pragma_journal_mode",
                "wal",
            ),
            (
                "SELECT CAST(synchronous AS TEXT) AS value FROM pragma_synchronous",
                "2",
            ),
            (
                "SELECT CAST(timeout AS TEXT) AS value FROM pragma_busy_timeout",
                "5000",
            ),
        ] {
            assert_eq!(read(&mut conn, sql), expected, "{sql}");
        }
    }
    // Foreign keys hold on both: a user of an organization that does not exist is refused.
    let orphan = diesel::sql_query(
        "INSERT INTO users (id, org_id, email, display_name, password_hash, role, active, created_at, updated_at) \
         VALUES ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000009', 'x@y.test', 'X', 'h', 'shopper', TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    );
    assert!(diesel::RunQueryDsl::execute(orphan, &mut conn).is_err());
}

#[actix_web::test]
async fn a_corrupt_stored_value_is_an_error_never_a_guess() {
    use diesel::connection::SimpleConnection;
    let app = crate::helpers::spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let location = app
        .create_location(
            &token,
            serde_json::json!({"code": "S-1", "name": "Chiado", "timezone": "Europe/Lisbon"}),
        )
        .await;
    let path = format!("/api/v1/locations/{}", location.id);
    assert_eq!(app.get(&path, &token).await.0, 200);

    // A time zone this version does not know: reading it fails loudly instead of
    // silently putting visits on UTC days.
    app.db
        .connect()
        .batch_execute("UPDATE locations SET timezone = 'Mars/Olympus'")
        .unwrap();
    let (status, problem) = app.get(&path, &token).await;
    assert_eq!(status, 500, "{problem}");
    assert_eq!(problem["code"], "internal_error");
    assert!(!problem.to_string().contains("Mars"), "{problem}");
}
