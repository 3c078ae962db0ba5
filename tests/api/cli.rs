use std::process::{Command, Output};

fn secondmile(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_secondmile"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("SECONDMILE_LOG", "warn");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run secondmile")
}

fn scratch_dir() -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("secondmile-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn an_unknown_database_scheme_stops_start_up_without_creating_a_file() {
    let dir = scratch_dir();
    for url in ["mysql://root@localhost/secondmile", "secondmile.db"] {
        let out = secondmile(&["migrate"], &[("DATABASE_URL", url)], &dir);
        assert_eq!(out.status.code(), Some(78), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("secondmile: invalid DATABASE_URL: "),
            "{stderr}"
        );
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "one clear line: {stderr}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "no stray file was created"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_setting_names_its_variable() {
    let dir = scratch_dir();
    let out = secondmile(&["serve"], &[("SECONDMILE_BIND", "everywhere")], &dir);
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid SECONDMILE_BIND"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unreachable_postgres_reports_the_driver_error() {
    let dir = scratch_dir();
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    let out = secondmile(
        &["migrate"],
        &[(
            "DATABASE_URL",
            "postgres://app:hunter2@127.0.0.1:1/secondmile",
        )],
        &dir,
    );
    assert_eq!(out.status.code(), Some(69), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Connection refused") || stderr.contains("connection refused"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2"),
        "the password is never printed: {stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_openapi_subcommand_prints_the_document() {
    let dir = scratch_dir();
    let out = secondmile(&["openapi"], &[], &dir);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        secondmile::openapi::document_json()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn help_explains_commands_settings_and_exit_codes() {
    let dir = scratch_dir();
    let out = secondmile(&["--help"], &[], &dir);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "serve",
        "migrate",
        "openapi",
        "DATABASE_URL",
        "SECONDMILE_BIND",
        "Exit codes",
        "78",
    ] {
        assert!(help.contains(needle), "--help mentions {needle}:\n{help}");
    }
    // Every exit code, said the same in --help and in the README.
    let readme = include_str!("../../README.md");
    for (code, what) in secondmile::config::EXIT_CODES {
        assert!(
            help.contains(&format!("{code:<3} {what}")),
            "--help: {code}"
        );
        assert!(
            readme.contains(&format!("| `{code}` | {what} |")),
            "README.md: exit code {code}"
        );
    }
    let out = secondmile(&["frobnicate"], &[], &dir);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_readme_documents_every_setting() {
    let readme = include_str!("../../README.md");
    for (name, default, _) in secondmile::config::VARIABLES {
        assert!(readme.contains(name), "README.md documents {name}");
        assert!(
            readme.contains(default),
            "README.md gives the default of {name}: {default}"
        );
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn sigterm_stops_a_running_server_cleanly() {
    let db = crate::helpers::TestDb::create();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_BIND", format!("127.0.0.1:{port}"))
        .env("SECONDMILE_LOG", "info")
        .env("SECONDMILE_SHUTDOWN_TIMEOUT_SECS", "5")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start secondmile serve");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(response) = http_get(port, "/readyz")
            && response.starts_with("HTTP/1.1 200")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server never became ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "exit {status:?}: {stderr}");
    assert!(stderr.contains("secondmile stopped"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn create_admin(db: &crate::helpers::TestDb, args: &[&str], password: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("create-admin")
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start secondmile create-admin");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[actix_web::test]
async fn create_admin_reads_the_password_from_stdin_and_never_prints_it() {
    let db = crate::helpers::TestDb::create();
    let password = "a very secret admin passphrase";
    let out = create_admin(
        &db,
        &["--org-name", "Acme Coffee", "--email", "Boss@Acme.test"],
        password,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout} {stderr}");
    assert!(
        stdout.contains("Acme Coffee") && stdout.contains("boss@acme.test"),
        "{stdout}"
    );
    assert!(!stdout.contains(password) && !stderr.contains(password));

    let address = crate::helpers::start_server(&db, &[], |_| {});
    let mut response = crate::helpers::client()
        .post(format!("{address}/api/v1/auth/token"))
        .send_form(&[
            ("grant_type", "password"),
            ("username", "boss@acme.test"),
            ("password", password),
        ])
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let token = crate::helpers::json_body(&mut response).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut response = crate::helpers::client()
        .get(format!("{address}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let me = crate::helpers::json_body(&mut response).await;
    assert_eq!(me["role"], "admin");
    assert_eq!(me["organization"]["name"], "Acme Coffee");

    // The same email may run another organization (accounts are per organization); a weak
    // password is refused with exit code 65.
    let again = create_admin(
        &db,
        &["--org-name", "Other", "--email", "boss@acme.test"],
        password,
    );
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stdout).contains("\"Other\""));
    let weak = create_admin(
        &db,
        &["--org-name", "Other", "--email", "x@acme.test"],
        "short",
    );
    assert_eq!(weak.status.code(), Some(65), "{weak:?}");
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));
}

#[actix_web::test]
async fn serve_bootstraps_the_first_admin_from_the_environment_once() {
    let db = crate::helpers::TestDb::create();
    let vars = [
        ("SECONDMILE_BOOTSTRAP_ORG", "Initech"),
        ("SECONDMILE_BOOTSTRAP_ADMIN_EMAIL", "root@initech.test"),
        (
            "SECONDMILE_BOOTSTRAP_ADMIN_PASSWORD",
            "bootstrap passphrase 1",
        ),
    ];
    let address = crate::helpers::start_server(&db, &vars, |_| {});
    let response = crate::helpers::client()
        .post(format!("{address}/api/v1/auth/token"))
        .send_form(&[
            ("grant_type", "password"),
            ("username", "root@initech.test"),
            ("password", "bootstrap passphrase 1"),
        ])
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    // A restart with the variables still set creates nothing more.
    crate::helpers::start_server(&db, &vars, |_| {});
    let mut conn = db.connect();
    assert_eq!(crate::helpers::count_rows(&mut conn, "organizations"), 1);
    assert_eq!(crate::helpers::count_rows(&mut conn, "users"), 1);
}

#[test]
fn the_file_storage_is_made_beside_the_database_and_a_bad_one_stops_the_server() {
    let dir = scratch_dir();
    // A server on an SQLite file makes its files directory beside it.
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("serve")
        .current_dir(&dir)
        .env("DATABASE_URL", "sqlite://data/app.db")
        .env("SECONDMILE_BIND", "127.0.0.1:0")
        .env("SECONDMILE_LOG", "warn")
        .spawn()
        .expect("start secondmile serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !dir.join("data/secondmile-files").is_dir() {
        assert!(
            server.try_wait().unwrap().is_none(),
            "the server stopped without making its files directory"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no files directory beside the database"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    // A location that cannot be a directory stops the server at start, saying why.
    std::fs::write(dir.join("a-file"), b"x").unwrap();
    let url = format!("file://{}/a-file/files", dir.display());
    let out = secondmile(
        &["serve"],
        &[
            ("DATABASE_URL", "sqlite://app.db"),
            ("SECONDMILE_STORAGE_URL", &url),
        ],
        &dir,
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("file storage"), "{said}");
    let out = secondmile(
        &["serve"],
        &[
            ("DATABASE_URL", "sqlite://app.db"),
            ("SECONDMILE_STORAGE_URL", "ftp://x"),
        ],
        &dir,
    );
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn secondmile_database_url_is_read_and_an_unknown_setting_is_warned_about() {
    let dir = scratch_dir();
    let out = secondmile(
        &["migrate"],
        &[
            ("SECONDMILE_DATABASE_URL", "sqlite://named.db"),
            ("DATABASE_URL", "sqlite://fallback.db"),
            ("SECONDMILE_BNID", "0.0.0.0:80"),
        ],
        &dir,
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        dir.join("named.db").exists(),
        "SECONDMILE_DATABASE_URL wins"
    );
    assert!(!dir.join("fallback.db").exists());
    assert!(!dir.join("secondmile.db").exists());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SECONDMILE_BNID"), "{stderr}");
    assert!(!stderr.contains("SECONDMILE_LOG\""), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}
