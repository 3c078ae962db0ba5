//! The schema stays ready to distribute by organization (docs/scaling.md): read from the
//! database's own catalog, every tenant table's primary key and unique constraints include
//! `org_id`, and every foreign key between tenant tables is composite with `org_id`. A table
//! added later that breaks the rule fails here.

use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl, sql_query};
use secondmile::db::DbConn;

use crate::helpers::TestDb;

/// Global tables (Citus reference tables): no `org_id` in their keys.
const REFERENCE_TABLES: [&str; 3] = ["organizations", "settings", "user_emails"];
/// Diesel's own bookkeeping.
const IGNORED: [&str; 1] = ["__diesel_schema_migrations"];

#[derive(QueryableByName, Debug)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// A unique index (primary key, unique constraint or unique index) and its columns.
#[derive(QueryableByName, Debug)]
struct UniqueKey {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    cols: String,
}

/// One foreign key: its columns and the referenced table's, comma-separated in order.
#[derive(QueryableByName, Debug)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    cols: String,
    #[diesel(sql_type = Text)]
    ref_tbl: String,
    #[diesel(sql_type = Text)]
    ref_cols: String,
}

struct Catalog {
    tables: Vec<(String, Vec<String>)>,
    unique: Vec<UniqueKey>,
    foreign: Vec<ForeignKey>,
}

fn names(conn: &mut DbConn, sql: &str) -> Vec<String> {
    sql_query(sql)
        .load::<Name>(conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect()
}

fn read_catalog(conn: &mut DbConn) -> Catalog {
    match conn {
        DbConn::Pg(_) => {
            let tables = names(
                conn,
                "SELECT table_name::text AS name FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            );
            let tables = tables
                .into_iter()
                .map(|t| {
                    let cols = names(
                        conn,
                        &format!(
                            "SELECT column_name::text AS name FROM information_schema.columns \
                             WHERE table_schema = current_schema() AND table_name = '{t}'"
                        ),
                    );
                    (t, cols)
                })
                .collect();
            let unique = sql_query(
                "SELECT t.relname::text AS tbl, i.relname::text AS name, \
                   array_to_string(ARRAY(SELECT a.attname FROM unnest(x.indkey) k \
                     JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k), ',') AS cols \
                 FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid \
                 JOIN pg_class i ON i.oid = x.indexrelid \
                 JOIN pg_namespace n ON n.oid = t.relnamespace \
                 WHERE n.nspname = current_schema() AND x.indisunique",
            )
            .load::<UniqueKey>(conn)
            .unwrap();
            let foreign = sql_query(
                "SELECT c.conrelid::regclass::text AS tbl, c.conname::text AS name, \
                   array_to_string(ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) \
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), ',') AS cols, \
                   c.confrelid::regclass::text AS ref_tbl, \
                   array_to_string(ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o) \
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o), ',') AS ref_cols \
                 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
                 WHERE n.nspname = current_schema() AND c.contype = 'f'",
            )
            .load::<ForeignKey>(conn)
            .unwrap();
            Catalog {
                tables,
                unique,
                foreign,
            }
        }
        DbConn::Sqlite(_) => {
            let tables = names(
                conn,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            );
            let tables: Vec<(String, Vec<String>)> = tables
                .into_iter()
                .map(|t| {
                    let cols = names(conn, &format!("SELECT name FROM pragma_table_info('{t}')"));
                    (t, cols)
                })
                .collect();
            let mut unique = Vec::new();
            for (t, _) in &tables {
                // A primary key declared as a table constraint is a unique index; one on a
                // single column declared inline is a rowid alias or an index too.
                unique.extend(
                    sql_query(format!(
                        "SELECT '{t}' AS tbl, l.name AS name, \
                           (SELECT group_concat(i.name, ',') FROM pragma_index_info(l.name) i) AS cols \
                         FROM pragma_index_list('{t}') l WHERE l.\"unique\" = 1"
                    ))
                    .load::<UniqueKey>(conn)
                    .unwrap(),
                );
                let pk = names(
                    conn,
                    &format!("SELECT name FROM pragma_table_info('{t}') WHERE pk > 0 ORDER BY pk"),
                );
                unique.push(UniqueKey {
                    tbl: t.clone(),
                    name: format!("{t} primary key"),
                    cols: pk.join(","),
                });
            }
            let mut foreign = Vec::new();
            for (t, _) in &tables {
                foreign.extend(
                    sql_query(format!(
                        "SELECT '{t}' AS tbl, '{t} fk ' || id AS name, \
                           group_concat(\"from\", ',') AS cols, \"table\" AS ref_tbl, \
                           group_concat(\"to\", ',') AS ref_cols \
                         FROM (SELECT * FROM pragma_foreign_key_list('{t}') ORDER BY id, seq) \
                         GROUP BY id, \"table\""
                    ))
                    .load::<ForeignKey>(conn)
                    .unwrap(),
                );
            }
            Catalog {
                tables,
                unique,
                foreign,
            }
        }
    }
}

fn is_tenant(table: &str) -> bool {
    !REFERENCE_TABLES.contains(&table) && !IGNORED.contains(&table)
}

/// Every breach of the rule in `catalog`, one line each.
fn breaches(catalog: &Catalog) -> Vec<String> {
    let mut found = Vec::new();
    for (table, cols) in &catalog.tables {
        if is_tenant(table) && !cols.iter().any(|c| c == "org_id") {
            found.push(format!("{table}: tenant table without org_id"));
        }
    }
    for key in &catalog.unique {
        if is_tenant(&key.tbl) && !key.cols.split(',').any(|c| c == "org_id") {
            found.push(format!(
                "{}: key {} ({}) lacks org_id",
                key.tbl, key.name, key.cols
            ));
        }
    }
    for fk in &catalog.foreign {
        let (cols, refs): (Vec<&str>, Vec<&str>) = (
            fk.cols.split(',').collect(),
            fk.ref_cols.split(',').collect(),
        );
        let paired = cols
            .iter()
            .zip(&refs)
            .any(|(c, r)| *c == "org_id" && *r == "org_id");
        if is_tenant(&fk.tbl) && is_tenant(&fk.ref_tbl) && !paired {
            found.push(format!(
                "{}: foreign key {} ({}) -> {} ({}) is not composite with org_id",
                fk.tbl, fk.name, fk.cols, fk.ref_tbl, fk.ref_cols
            ));
        }
        if !is_tenant(&fk.tbl) && is_tenant(&fk.ref_tbl) {
            found.push(format!(
                "{}: a global table references the tenant table {}",
                fk.tbl, fk.ref_tbl
            ));
        }
    }
    found
}

#[test]
fn every_tenant_key_and_foreign_key_includes_the_organization() {
    let db = TestDb::create();
    let mut conn = db.connect();
    secondmile::db::migrations::run_pending(&mut conn).unwrap();
    let catalog = read_catalog(&mut conn);
    // The catalog was read, not assumed: the tables and keys the rule is about are there.
    let tables: Vec<&str> = catalog.tables.iter().map(|(t, _)| t.as_str()).collect();
    for table in ["users", "reports", "report_transitions", "user_emails"] {
        assert!(tables.contains(&table), "{table} missing from {tables:?}");
    }
    assert!(catalog.foreign.iter().any(|fk| fk.tbl == "reports"
        && fk.ref_tbl == "locations"
        && fk.cols == "org_id,location_id"));
    assert_eq!(breaches(&catalog), Vec::<String>::new());
}

#[test]
fn the_rule_catches_a_table_that_breaks_it() {
    let db = TestDb::create();
    let mut conn = db.connect();
    secondmile::db::migrations::run_pending(&mut conn).unwrap();
    use diesel::connection::SimpleConnection;
    conn.batch_execute(
        "CREATE TABLE careless (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, \
           location_id TEXT NOT NULL, report_org TEXT, report_id TEXT, \
           FOREIGN KEY (report_org, report_id) REFERENCES reports (org_id, id)); \
         CREATE TABLE no_tenant (id TEXT PRIMARY KEY)",
    )
    .unwrap();
    let found = breaches(&read_catalog(&mut conn));
    assert!(
        found.iter().any(|b| b.starts_with("careless: key")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|b| b.starts_with("careless: foreign key")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|b| b == "no_tenant: tenant table without org_id"),
        "{found:?}"
    );
}
