//! A demo that did not finish loading (the process was stopped midway) is never served as if
//! it were complete. Loading marks the database first (the demo's email domain under one
//! setting) and clears the mark when the last step is done; a start that finds the mark
//! removes what the interrupted load wrote, and `serve --demo` or `demo` loads it again.

use super::DemoError;
use crate::db::{Db, DbError, removal, settings};

/// The setting that marks a demo being loaded; its value is the demo's email domain.
const LOADING: &str = "demo.loading";

/// Marks the database: a demo of `domain` is being loaded.
pub(super) fn mark(db: &Db, domain: &str) -> Result<(), DemoError> {
    let mut conn = db.get()?;
    settings::put(&mut conn, LOADING, domain, db.now()).map_err(DbError::Query)?;
    Ok(())
}

/// The demo is complete.
pub(super) fn clear(db: &Db) -> Result<(), DemoError> {
    let mut conn = db.get()?;
    settings::delete(&mut conn, LOADING).map_err(DbError::Query)?;
    Ok(())
}

/// The email domain of a demo whose loading did not finish, if there is one.
pub fn unfinished(db: &Db) -> Result<Option<String>, DemoError> {
    let mut conn = db.get()?;
    Ok(settings::get(&mut conn, LOADING)
        .map_err(DbError::Query)?
        .map(|s| s.value))
}

/// Removes, in one transaction, the organization an interrupted load of the demo of
/// `domain` made (found by its admin's email), and the mark; the rows removed.
pub fn remove(db: &Db, domain: &str) -> Result<usize, DemoError> {
    let mut conn = db.get()?;
    let admin = format!("admin@{domain}");
    Ok(removal::delete_organization_of(&mut conn, &admin, LOADING).map_err(DbError::Query)?)
}
