//! Opening the SQLite file: the settings every connection gets, and, once the file has been
//! opened, never creating it again (a file deleted while the server runs is an unreachable
//! database, not silently a new empty one).

use diesel::connection::SimpleConnection;
use diesel::{Connection, ConnectionError, SqliteConnection};

/// SQLite settings applied to every new connection. `synchronous=FULL` makes an
/// acknowledged write survive a power loss; WAL lets readers run beside the writer.
const PRAGMAS: &str = "PRAGMA busy_timeout = 5000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;";

/// `path` as the file name of a SQLite URI (`file:` + path): the characters a URI gives a
/// meaning to are escaped.
fn uri_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23")
}

/// Opens the database at `path`, creating the file unless it must `exist` already.
pub(super) fn open(path: &str, exist: bool) -> Result<SqliteConnection, ConnectionError> {
    let mut conn = if exist {
        SqliteConnection::establish(&format!("file:{}?mode=rw", uri_path(path)))?
    } else {
        SqliteConnection::establish(path)?
    };
    conn.batch_execute(PRAGMAS)
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    // Unicode case folding for `lower()`, as on PostgreSQL (SQLite's folds ASCII).
    super::locations::lower_utils::register_impl(&mut conn, |text: String| text.to_lowercase())
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::super::{ConnectionManager, DatabaseUrl};

    #[test]
    fn a_sqlite_file_deleted_after_the_first_connection_is_not_made_again() {
        let dir = std::env::temp_dir().join(format!("secondmile-rw-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("odd ?#% name.db");
        let manager = ConnectionManager::new(DatabaseUrl::Sqlite(path.display().to_string()));
        drop(manager.connect().unwrap());
        assert!(path.exists(), "the first connection creates the file");
        drop(manager.connect().unwrap());
        std::fs::remove_file(&path).unwrap();
        assert!(manager.connect().is_err());
        assert!(!path.exists(), "no new empty database");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
