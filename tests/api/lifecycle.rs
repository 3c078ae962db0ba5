//! The server's life as an operator sees it: both stop signals let requests in flight
//! finish (a waiting long-poll is answered, not cut), a busy port is said before the demo
//! loads, and two servers on one database share the work. Run as the binary where the
//! process is what is tested.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestDb, client, count_rows, report, start_server, submit, world};

const ADMIN: &str = "root@lifecycle.test";
const PASSWORD: &str = "lifecycle passphrase 1";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(db: &TestDb, port: u16, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("serve")
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_BIND", format!("127.0.0.1:{port}"))
        .env("SECONDMILE_LOG", "info")
        .env("SECONDMILE_SHUTDOWN_TIMEOUT_SECS", "20")
        .env("SECONDMILE_STORAGE_URL", db.storage_url())
        .env("SECONDMILE_BOOTSTRAP_ORG", "Lifecycle")
        .env("SECONDMILE_BOOTSTRAP_ADMIN_EMAIL", ADMIN)
        .env("SECONDMILE_BOOTSTRAP_ADMIN_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start secondmile serve")
}

async fn ready(address: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client().get(format!("{address}/readyz")).send().await
            && response.status().as_u16() == 200
        {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the server stopped before it was ready"
        );
        assert!(Instant::now() < deadline, "the server never became ready");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for the process to end: its exit status and what it wrote to standard error.
fn ended(mut child: Child) -> (std::process::ExitStatus, String, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    (status, stdout, stderr)
}

fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

async fn json_of(
    mut response: awc::ClientResponse<
        impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
        + Unpin,
    >,
) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.body().limit(1 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[actix_web::test]
async fn sigint_and_sigterm_answer_a_waiting_long_poll_before_stopping() {
    for name in ["INT", "TERM"] {
        let db = TestDb::create();
        let port = free_port();
        let address = format!("http://127.0.0.1:{port}");
        let mut child = serve(&db, port, &[]);
        ready(&address, &mut child).await;
        let (status, token) = json_of(
            client()
                .post(format!("{address}/api/v1/auth/token"))
                .send_form(&[
                    ("grant_type", "password"),
                    ("username", ADMIN),
                    ("password", PASSWORD),
                ])
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{token}");
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
        let (status, feed) = json_of(
            client()
                .get(format!("{address}/api/v1/events"))
                .insert_header(("Authorization", bearer.as_str()))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{feed}");
        let cursor = feed["next_cursor"].as_str().unwrap().to_string();

        // A long-poll waits for events that will not come; the signal arrives meanwhile.
        let poll = client()
            .get(format!("{address}/api/v1/events?cursor={cursor}&wait=25"))
            .insert_header(("Authorization", bearer.as_str()))
            .timeout(Duration::from_secs(40))
            .send();
        let stop = async {
            actix_web::rt::time::sleep(Duration::from_millis(700)).await;
            signal(&child, name);
        };
        let (answer, ()) = futures_util::join!(poll, stop);
        let (status, page) = json_of(answer.expect("the long-poll is answered, not cut")).await;
        assert_eq!(status, 200, "SIG{name}: {page}");
        assert_eq!(page["items"], json!([]), "SIG{name}: {page}");
        assert_eq!(page["next_cursor"], cursor.as_str());

        let (exit, _, stderr) = ended(child);
        assert!(exit.success(), "SIG{name}: exit {exit:?}: {stderr}");
        assert!(stderr.contains(&format!("SIG{name}")), "{stderr}");
        assert!(stderr.contains("secondmile stopped"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[actix_web::test]
async fn a_busy_port_is_said_before_the_demo_loads() {
    let db = TestDb::create();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let child = serve(&db, port, &["--demo", "--password", PASSWORD]);
    let (exit, stdout, stderr) = ended(child);
    assert_eq!(exit.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot listen on"), "{stderr}");
    assert!(
        !stdout.contains("hearth-home.example") && !stderr.contains("demo visit reports"),
        "the demo was loaded first: {stdout} {stderr}"
    );
    drop(taken);
}

#[actix_web::test]
async fn two_servers_on_one_database_share_the_approvals_and_the_rollups_stay_exact() {
    let w = world().await;
    let second = start_server(&w.app.db, &[], |_| {});
    let mut ids = Vec::new();
    for _ in 0..20 {
        let (status, body) = submit(&w, &report(&w)).await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    // Twenty approvals at once, every other one through the second server.
    let approvals = ids.iter().enumerate().map(|(i, id)| {
        let address = if i % 2 == 0 {
            w.app.address.clone()
        } else {
            second.clone()
        };
        let bearer = format!("Bearer {}", w.admin_token);
        async move {
            json_of(
                client()
                    .post(format!("{address}/api/v1/reports/{id}/review"))
                    .insert_header(("Authorization", bearer.as_str()))
                    .send_json(&json!({"action": "approve"}))
                    .await
                    .unwrap(),
            )
            .await
        }
    });
    for (status, body) in join_all(approvals).await {
        assert_eq!(status, 200, "{body}");
    }
    // Either server reads the same figures, and the rollups equal a recomputation.
    for address in [&w.app.address, &second] {
        let (status, summary) = json_of(
            client()
                .get(format!(
                    "{address}/api/v1/locations/{}/summary",
                    w.location_id
                ))
                .insert_header(("Authorization", format!("Bearer {}", w.admin_token)))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["figures"]["visits"], 20, "{summary}");
    }
    let verify = Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["rollups", "verify"])
        .env("DATABASE_URL", w.app.db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    assert_eq!(count_rows(&mut w.app.db.connect(), "reports"), 20);
}
