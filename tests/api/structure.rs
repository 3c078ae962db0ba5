//! The layout's rules, read from the source: Diesel only in `src/db/`, no handler opening a
//! transaction, no file too long to read, no import circle between files, and every table
//! of the schema in the scaling guide. Each failure names the files to look at.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a source file may grow (the generated `schema.rs` aside).
const MAX_LINES: usize = 800;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `src/`, as paths relative to the crate root.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path.strip_prefix(root()).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("src"), &mut out);
    out.sort();
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// The code of a file without its comments (line comments and doc comments), so that
/// prose may name anything.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
}

#[test]
fn only_the_db_module_names_diesel() {
    let offenders: Vec<_> = sources()
        .into_iter()
        .filter(|p| !p.starts_with("src/db"))
        .filter(|p| words(&code(&read(p))).any(|w| w == "diesel"))
        .collect();
    assert!(
        offenders.is_empty(),
        "Diesel belongs in src/db/; these files name it: {offenders:?}"
    );
}

#[test]
fn no_handler_opens_a_transaction() {
    let opens = [
        "write_transaction",
        "write_tx",
        ".write(move",
        ".transaction(",
    ];
    let offenders: Vec<_> = sources()
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "handlers.rs"))
        .filter(|p| {
            let text = code(&read(p));
            opens.iter().any(|o| text.contains(o))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "handlers call a use case, which owns its transaction: {offenders:?}"
    );
}

#[test]
fn no_source_file_is_longer_than_the_limit() {
    let long: Vec<_> = sources()
        .into_iter()
        .filter(|p| p != Path::new("src/db/schema.rs"))
        .map(|p| {
            let lines = read(&p).lines().count();
            (p, lines)
        })
        .filter(|(_, lines)| *lines > MAX_LINES)
        .collect();
    assert!(
        long.is_empty(),
        "split these files (at most {MAX_LINES} lines): {long:?}"
    );
}

/// The file that holds module `path` (`["db", "events"]`), if any.
fn module_file(path: &[&str]) -> Option<PathBuf> {
    if path.is_empty() {
        return Some(PathBuf::from("src/lib.rs"));
    }
    let joined = path.join("/");
    [format!("src/{joined}.rs"), format!("src/{joined}/mod.rs")]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| root().join(p).is_file())
}

/// The module path of a file (`src/db/events.rs` is `["db", "events"]`).
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix("src").unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// The files a path names: the deepest prefix of it that is a module file.
fn resolve(path: &[String]) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let parts: Vec<&str> = path[..n].iter().map(String::as_str).collect();
        module_file(&parts)
    })
}

/// The paths a file refers to: `crate::a::b` anywhere in its code (one level of braces in a
/// `use` is opened: `crate::db::{self, events}` names `db` and `db::events`), and `super::`
/// paths taken from the file's own module.
fn references(file: &Path, text: &str) -> Vec<Vec<String>> {
    let module = module_of(file);
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let (start, base): (usize, Vec<String>) = if rest.starts_with("crate::") {
            (7, Vec::new())
        } else if rest.starts_with("super::") && (at == 0 || !is_ident(bytes[at - 1])) {
            // `super` is the parent of the file's module (`a/b.rs` and `a/b/mod.rs` alike).
            let mut base = module.clone();
            base.pop();
            let mut skip = 7;
            while text[at + skip..].starts_with("super::") {
                base.pop();
                skip += 7;
            }
            (skip, base)
        } else {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        if at > 0 && is_ident(bytes[at - 1]) && start == 7 && rest.starts_with("crate::") {
            at += start;
            continue;
        }
        let mut path = base;
        let mut i = at + start;
        loop {
            let ident: String = text[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if ident.is_empty() {
                break;
            }
            i += ident.len();
            path.push(ident);
            if text[i..].starts_with("::") {
                i += 2;
            } else {
                break;
            }
        }
        if text[i..].starts_with('{') {
            let close = text[i..].find('}').map_or(text.len(), |c| i + c);
            for item in text[i + 1..close].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let mut each = path.clone();
                if !name.is_empty() && name != "self" {
                    each.push(name);
                }
                found.push(each);
            }
            i = close;
        }
        found.push(path);
        at = i.max(at + 1);
    }
    found
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Files that import each other in a loop (Tarjan's strongly connected components).
fn circles(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        graph: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.found
}

/// The import graph between files. `db/` imports the domain types it stores and returns;
/// those arrows are left out (a domain type that reads back into `db/` is the one circle
/// the layout allows), and the rest must have none. `lib.rs` and `main.rs` only declare.
fn import_graph() -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut graph: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for file in sources() {
        if file == Path::new("src/lib.rs") || file == Path::new("src/main.rs") {
            continue;
        }
        let text = code(&read(&file));
        // Unit tests beside the code may reach anywhere.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let targets = graph.entry(file.clone()).or_default();
        for path in references(&file, text) {
            let Some(target) = resolve(&path) else {
                continue;
            };
            let db_to_domain = file.starts_with("src/db") && !target.starts_with("src/db");
            if target != file && target != Path::new("src/lib.rs") && !db_to_domain {
                targets.insert(target);
            }
        }
    }
    graph
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let graph = import_graph();
    // The reader itself: a known arrow must be seen.
    let reports = &graph[Path::new("src/reports/service.rs")];
    assert!(
        reports.contains(Path::new("src/db/reports.rs"))
            && reports.contains(Path::new("src/reports/validation.rs")),
        "the import reader lost its way: {reports:?}"
    );
    let found = circles(&graph);
    assert!(found.is_empty(), "import circles between files: {found:#?}");
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let a = PathBuf::from("src/a.rs");
    let b = PathBuf::from("src/b.rs");
    let c = PathBuf::from("src/c.rs");
    let graph = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([c.clone()])),
        (c.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert_eq!(circles(&graph), vec![vec![a, b, c]]);
}

/// The tables of the schema (the PostgreSQL migrations applied in order), each with
/// whether it has an `org_id` column.
fn schema_tables() -> BTreeMap<String, bool> {
    let dir = root().join("migrations/postgres");
    let mut migrations: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().join("up.sql"))
        .collect();
    migrations.sort();
    let mut tables = BTreeMap::new();
    for migration in migrations {
        let sql: String = std::fs::read_to_string(&migration)
            .unwrap()
            .lines()
            .map(|l| l.split("--").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        for statement in sql.split(';') {
            let mut tokens = statement.split_whitespace();
            let first: Vec<String> = tokens
                .by_ref()
                .take(3)
                .map(|t| t.to_ascii_uppercase())
                .collect();
            let name = tokens
                .next()
                .map(|t| t.trim_end_matches('(').to_ascii_lowercase());
            let upper: Vec<&str> = first.iter().map(String::as_str).collect();
            match (upper.as_slice(), name) {
                (["CREATE", "TABLE", table], _) if *table != "IF" => {
                    let table = table.trim_end_matches('(').to_ascii_lowercase();
                    tables.insert(table, statement.contains("org_id"));
                }
                (["DROP", "TABLE", table], _) if *table != "IF" => {
                    tables.remove(&table.trim_end_matches(',').to_ascii_lowercase());
                }
                (["DROP", "TABLE", "IF"], Some(_)) | (["CREATE", "TABLE", "IF"], Some(_)) => {
                    panic!("read {statement:?} in {migration:?}: teach this reader IF EXISTS")
                }
                _ => {}
            }
        }
    }
    tables
}

#[test]
fn the_scaling_guide_names_every_table_with_its_kind() {
    let guide = std::fs::read_to_string(root().join("docs/scaling.md")).unwrap();
    let tables = schema_tables();
    assert!(
        tables.contains_key("organizations") && tables.contains_key("webhook_attempts"),
        "the migrations were not read: {tables:?}"
    );
    let mut wrong = Vec::new();
    for (table, has_org) in &tables {
        let row = guide
            .lines()
            .find(|l| l.starts_with("| `") && l.contains(&format!("`{table}`")));
        let distributed = guide.contains(&format!("create_distributed_table('{table}', 'org_id'"));
        let reference = guide.contains(&format!("create_reference_table('{table}')"));
        let fine = match row {
            Some(row) if row.contains("| distributed by `org_id` |") => {
                *has_org && distributed && !reference
            }
            Some(row) if row.contains("| reference |") => reference && !distributed,
            _ => false,
        };
        if !fine {
            wrong.push(table.as_str());
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/scaling.md must list each of these tables in its table, as reference or \
         distributed by `org_id` (only a table with that column), with the matching Citus \
         command: {wrong:?}"
    );
}

#[test]
fn removing_an_organization_names_every_table_of_its_data() {
    let removal = std::fs::read_to_string(root().join("src/db/removal.rs")).unwrap();
    let listed: Vec<&str> = removal
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_suffix(','))
        .collect();
    let missing: Vec<String> = schema_tables()
        .into_iter()
        .filter(|(table, has_org)| *has_org && !listed.contains(&table.as_str()))
        .map(|(table, _)| table)
        .collect();
    assert!(
        missing.is_empty(),
        "src/db/removal.rs must delete the rows of every table with an org_id: {missing:?}"
    );
}

/// Each type documented in the OpenAPI document with the name it is given there: its own
/// name, or the one `#[schema(as = …)]` sets.
fn schema_names() -> BTreeMap<String, Vec<PathBuf>> {
    let mut names: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for file in sources() {
        let text = code(&read(&file));
        let mut derives_schema = false;
        let mut renamed: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[derive(") && words(line).any(|w| w == "ToSchema") {
                derives_schema = true;
            } else if derives_schema && line.starts_with("#[schema(") && line.contains("as =") {
                let after = &line[line.find("as =").unwrap() + 4..];
                renamed = words(after).find(|w| !w.is_empty()).map(str::to_string);
            } else if derives_schema && !line.starts_with("#[") && !line.is_empty() {
                let mut it = words(line).filter(|w| !w.is_empty());
                let name = it.find(|w| *w == "struct" || *w == "enum").and(it.next());
                if let Some(name) = renamed.take().or(name.map(str::to_string)) {
                    names.entry(name).or_default().push(file.clone());
                }
                derives_schema = false;
            }
        }
    }
    names
}

/// utoipa keys components by name, so a second type of the same name silently replaces
/// the first in the document (the audit log's actor once replaced the report history's).
#[test]
fn no_two_documented_types_share_a_name() {
    let names = schema_names();
    assert!(
        names.contains_key("ReportResponse"),
        "the reader found no schema types"
    );
    let shared: Vec<String> = names
        .iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|(name, files)| format!("{name}: {files:?}"))
        .collect();
    assert!(
        shared.is_empty(),
        "documented types sharing a name (rename one, or give it #[schema(as = …)]):\n{}",
        shared.join("\n")
    );
}
