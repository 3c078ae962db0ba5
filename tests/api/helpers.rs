//! `spawn_app()`: starts the application exactly as `main` does, on port 0, against a
//! database of its own, and removes that database afterwards.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use diesel::Connection;
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use secondmile::clock::Clock;
use secondmile::config::Config;
use secondmile::db::{Backend, DbConn};
use secondmile::locations::dto::LocationResponse;
use secondmile::startup::{Application, ExtraRoutes};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::questionnaires::example;

pub const SERVER_URL_VAR: &str = "SECONDMILE_TEST_DATABASE_URL";
pub const REQUIRE_VAR: &str = "SECONDMILE_REQUIRE_POSTGRES";

/// Writes straight to the process's stderr: libtest captures `eprintln!` of passing tests,
/// and this notice must be seen.
fn notice(message: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** {message}\n");
}

/// The PostgreSQL server the tests should use, if any. Decided once per test binary.
pub fn postgres_server() -> Option<&'static str> {
    static SERVER: OnceLock<Option<String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
            let url = std::env::var(SERVER_URL_VAR).ok().filter(|u| !u.is_empty());
            match url {
                None if required => panic!(
                    "{REQUIRE_VAR}=1 but {SERVER_URL_VAR} is not set: point it at a PostgreSQL server, \
                     e.g. postgres://postgres@127.0.0.1:5432/postgres"
                ),
                None => {
                    notice(&format!(
                        "PostgreSQL was not tested: these tests ran on SQLite only. Set {SERVER_URL_VAR}=postgres://USER@HOST/DB to run them on PostgreSQL too."
                    ));
                    None
                }
                Some(url) => match PgConnection::establish(&url) {
                    Ok(_) => {
                        notice("API tests are running on PostgreSQL (a fresh database per test).");
                        Some(url)
                    }
                    Err(e) if required => {
                        panic!("{REQUIRE_VAR}=1 but PostgreSQL at {SERVER_URL_VAR} is unreachable: {e}")
                    }
                    Err(e) => {
                        notice(&format!(
                            "PostgreSQL was not tested: {SERVER_URL_VAR} is unreachable ({e}); running on SQLite."
                        ));
                        None
                    }
                },
            }
        })
        .as_deref()
}

/// A database that exists for one test and is removed when the test ends.
pub enum TestDb {
    Sqlite {
        dir: PathBuf,
        path: PathBuf,
    },
    Postgres {
        server: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    pub fn create() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match postgres_server() {
            Some(server) => {
                let name = format!("secondmile_test_{id}");
                let mut admin =
                    PgConnection::establish(server).expect("connect to the test server");
                admin
                    .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                    .expect("create the test database");
                let url = with_database(server, &name);
                TestDb::Postgres {
                    server: server.to_string(),
                    name,
                    url,
                }
            }
            None => {
                let dir = std::env::temp_dir().join(format!("secondmile-test-{id}"));
                std::fs::create_dir_all(&dir).expect("create a temporary directory");
                let path = dir.join("secondmile.db");
                TestDb::Sqlite { dir, path }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            TestDb::Sqlite { .. } => Backend::Sqlite,
            TestDb::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Where the test server keeps files: beside the SQLite file, or a directory of its own
    /// for a PostgreSQL database (removed with it).
    pub fn storage_url(&self) -> String {
        match self {
            TestDb::Sqlite { path, .. } => format!(
                "file://{}",
                path.parent()
                    .unwrap_or(path)
                    .join("secondmile-files")
                    .display()
            ),
            TestDb::Postgres { name, .. } => format!(
                "file://{}",
                std::env::temp_dir().join(format!("{name}-files")).display()
            ),
        }
    }

    /// The `DATABASE_URL` that points at this database.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            TestDb::Postgres { url, .. } => url.clone(),
        }
    }

    /// A direct connection, for tests that inspect or damage the database behind the app.
    pub fn connect(&self) -> DbConn {
        match self {
            TestDb::Sqlite { path, .. } => {
                let mut conn =
                    diesel::sqlite::SqliteConnection::establish(&path.display().to_string())
                        .expect("open the test database");
                // The server's background tasks write too (the event sequencer): wait for
                // the lock as the server's own connections do.
                diesel::connection::SimpleConnection::batch_execute(
                    &mut conn,
                    "PRAGMA busy_timeout = 5000",
                )
                .expect("set the busy timeout");
                DbConn::Sqlite(conn)
            }
            TestDb::Postgres { url, .. } => {
                DbConn::Pg(PgConnection::establish(url).expect("connect to the test database"))
            }
        }
    }

    /// Makes the database disappear under the running application.
    pub fn destroy(&self) {
        match self {
            TestDb::Sqlite { path, .. } => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            TestDb::Postgres { server, name, .. } => {
                let mut admin =
                    PgConnection::establish(server).expect("connect to the test server");
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .expect("drop the test database");
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.destroy();
        if let TestDb::Sqlite { dir, .. } = self {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let TestDb::Postgres { name, .. } = self {
            let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("{name}-files")));
        }
    }
}

/// Replaces the database name (the URL path) of a PostgreSQL URL.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut url = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// The signing secret of test servers, so tests can forge tokens with it.
pub const TEST_JWT_SECRET: &str = "test-signing-secret-0123456789-abcdefghij";

pub struct TestApp {
    pub address: String,
    pub db: TestDb,
    pub client: awc::Client,
}

/// A user created for a test, with the password it signs in with.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub password: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Creates an organization and its first admin directly in the database, as
    /// `secondmile create-admin` does.
    pub fn create_org_with_admin(&self, org_name: &str) -> TestUser {
        let config = secondmile::config::DatabaseConfig {
            url: secondmile::db::DatabaseUrl::parse(&self.db.url()).unwrap(),
            pool_size: 1,
            connection_timeout: Duration::from_secs(5),
        };
        let db = secondmile::db::Db::connect(&config).expect("connect to the test database");
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let email = format!("admin-{}@example.test", &suffix[..12]);
        let password = format!("admin passphrase {suffix}");
        let (org, admin) = secondmile::auth::bootstrap::create_admin(
            &db,
            org_name,
            &email,
            Some("Admin"),
            password.clone(),
        )
        .expect("create an organization with its admin");
        TestUser {
            id: admin.id.to_string(),
            org_id: org.id.to_string(),
            email,
            password,
        }
    }

    /// `POST /api/v1/auth/token` with a JSON body.
    pub async fn token_request(&self, body: serde_json::Value) -> (u16, serde_json::Value) {
        let mut response = self
            .client
            .post(self.url("/api/v1/auth/token"))
            .send_json(&body)
            .await
            .expect("token request");
        let status = response.status().as_u16();
        (status, json_body(&mut response).await)
    }

    /// Signs in with the password grant; returns the whole token response.
    pub async fn sign_in(&self, user: &TestUser) -> serde_json::Value {
        let (status, body) = self
            .token_request(serde_json::json!({
                "grant_type": "password",
                "username": user.email,
                "password": user.password,
            }))
            .await;
        assert_eq!(status, 200, "sign-in failed: {body}");
        body
    }

    /// Signs in and returns the access token.
    pub async fn access_token(&self, user: &TestUser) -> String {
        self.sign_in(user).await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Creates a user through the API as `admin`.
    pub async fn create_user(&self, admin_token: &str, role: &str) -> TestUser {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let email = format!("{role}-{}@example.test", &suffix[..12]);
        let password = format!("{role} passphrase {suffix}");
        let mut response = self
            .client
            .post(self.url("/api/v1/users"))
            .bearer_auth(admin_token)
            .send_json(&serde_json::json!({
                "email": email,
                "display_name": format!("Test {role}"),
                "role": role,
                "password": password,
            }))
            .await
            .unwrap();
        let body = json_body(&mut response).await;
        assert_eq!(response.status().as_u16(), 201, "{body}");
        let mut me = self
            .client
            .get(self.url("/api/v1/me"))
            .bearer_auth(admin_token)
            .send()
            .await
            .unwrap();
        let me = json_body(&mut me).await;
        TestUser {
            id: body["id"].as_str().unwrap().to_string(),
            org_id: me["organization"]["id"].as_str().unwrap().to_string(),
            email,
            password,
        }
    }

    /// Creates an integration client through the API; returns (id, secret).
    pub async fn create_client(&self, admin_token: &str, scopes: &[&str]) -> (String, String) {
        let mut response = self
            .client
            .post(self.url("/api/v1/integration-clients"))
            .bearer_auth(admin_token)
            .send_json(&serde_json::json!({ "name": "Test client", "scopes": scopes }))
            .await
            .unwrap();
        let body = json_body(&mut response).await;
        assert_eq!(response.status().as_u16(), 201, "{body}");
        (
            body["client_id"].as_str().unwrap().to_string(),
            body["client_secret"].as_str().unwrap().to_string(),
        )
    }

    /// A client-credentials access token.
    pub async fn client_token(&self, id: &str, secret: &str) -> String {
        let (status, body) = self
            .token_request(serde_json::json!({
                "grant_type": "client_credentials",
                "client_id": id,
                "client_secret": secret,
            }))
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }
}

/// The test HTTP client: every response it receives is checked against the OpenAPI document.
pub fn client() -> awc::Client {
    awc::Client::builder()
        .wrap(crate::contract::ContractCheck)
        .disable_redirects()
        .timeout(Duration::from_secs(30))
        .finish()
}

/// Starts the application with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[], |_| {}).await
}

/// Starts the application with extra environment settings and extra routes.
pub async fn spawn_app_with(vars: &[(&str, &str)], extra: ExtraRoutes) -> TestApp {
    spawn_app_at(vars, extra, Clock::system()).await
}

/// Starts the application reading the time from `clock` (a test moves it by hand).
pub async fn spawn_app_at(vars: &[(&str, &str)], extra: ExtraRoutes, clock: Clock) -> TestApp {
    let db = TestDb::create();
    let address = start_server_at(&db, vars, extra, clock);
    TestApp {
        address,
        db,
        client: client(),
    }
}

/// Starts another server on an existing database; returns its base URL. Tests get a known
/// signing secret and generous sign-in limits unless `vars` say otherwise (an empty value
/// removes a default).
pub fn start_server(db: &TestDb, vars: &[(&str, &str)], extra: ExtraRoutes) -> String {
    start_server_at(db, vars, extra, Clock::system())
}

/// Like [`start_server`], with the time read from `clock`.
pub fn start_server_at(
    db: &TestDb,
    vars: &[(&str, &str)],
    extra: ExtraRoutes,
    clock: Clock,
) -> String {
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), db.url()),
        ("SECONDMILE_BIND".into(), "127.0.0.1:0".into()),
        ("SECONDMILE_WORKERS".into(), "1".into()),
        ("SECONDMILE_DB_POOL_SIZE".into(), "4".into()),
        ("SECONDMILE_JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        ("SECONDMILE_LOGIN_RATE_PER_IP".into(), "100000".into()),
        ("SECONDMILE_LOGIN_RATE_PER_ACCOUNT".into(), "100000".into()),
        ("SECONDMILE_STORAGE_URL".into(), db.storage_url()),
    ]);
    for (k, v) in vars {
        env.insert(k.to_string(), v.to_string());
    }
    let mut config =
        Config::from_lookup(|k| env.get(k).cloned()).expect("valid test configuration");
    config.clock = clock;
    let app = Application::build_with(config, extra).expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    address
}

/// Reads a response body as JSON.
pub async fn json_body<S>(response: &mut awc::ClientResponse<S>) -> serde_json::Value
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
{
    let bytes = response
        .body()
        .limit(10 * 1024 * 1024)
        .await
        .expect("read the body");
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    })
}

/// Asserts a problem+json response with the given status and code, and returns its body.
pub async fn expect_problem<S>(
    response: &mut awc::ClientResponse<S>,
    status: u16,
    code: &str,
) -> serde_json::Value
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
{
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body = json_body(response).await;
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(
        body["type"],
        format!("urn:secondmile:problem:{code}"),
        "{body}"
    );
    assert!(body["title"].is_string(), "{body}");
    body
}

/// Sends one API request with a bearer token and an optional JSON body; returns the status
/// and the JSON body (`null` when empty).
async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let request = app
        .client
        .request(method.parse().expect("an HTTP method"), app.url(path))
        .bearer_auth(token);
    let mut response = match body {
        Some(body) => request.send_json(&body).await.expect("request sent"),
        None => request.send().await.expect("request sent"),
    };
    let status = response.status().as_u16();
    let bytes = response
        .body()
        .limit(4 * 1024 * 1024)
        .await
        .expect("read the body");
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (status, body)
}

/// Typed requests: the status and JSON body of each call, for tests to assert on.
impl TestApp {
    /// Any method, with the body optional (for tests that loop over methods or bodies).
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        send(self, method, path, token, body).await
    }

    /// A body of `content_type` sent as it is (a file); the status and the JSON answer.
    pub async fn send_file(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<actix_web::web::Bytes>,
    ) -> (u16, serde_json::Value) {
        let mut response = self
            .client
            .request(method.parse().expect("an HTTP method"), self.url(path))
            .bearer_auth(token)
            .insert_header(("content-type", content_type))
            .send_body(body.into())
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, json_body(&mut response).await)
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        send(self, "GET", path, token, None).await
    }

    /// `GET` that must answer 200; returns the body.
    pub async fn get_ok(&self, path: &str, token: &str) -> serde_json::Value {
        let (status, body) = self.get(path, token).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub async fn post(
        &self,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        send(self, "POST", path, token, Some(body)).await
    }

    /// `GET` that must answer 200, read into the API's own response type.
    pub async fn get_as<T: DeserializeOwned>(&self, path: &str, token: &str) -> T {
        self.call_as("GET", path, token, None, 200).await
    }

    /// `POST` that must answer `status`, read into the API's own response type.
    pub async fn post_as<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
        status: u16,
    ) -> T {
        self.call_as("POST", path, token, body, status).await
    }

    /// A request that must answer `status`, its body read into `T` (a response type of the
    /// API): a field the test reads is then checked by the compiler, not by a string.
    pub async fn call_as<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
        status: u16,
    ) -> T {
        let (got, answer) = send(self, method, path, token, body).await;
        assert_eq!(got, status, "{method} {path}: {answer}");
        serde_json::from_value(answer.clone()).unwrap_or_else(|e| {
            panic!(
                "{method} {path}: not a {}: {e}: {answer}",
                std::any::type_name::<T>()
            )
        })
    }

    /// `POST` without a body (actions such as publish).
    pub async fn post_empty(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        send(self, "POST", path, token, None).await
    }

    pub async fn put(
        &self,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        send(self, "PUT", path, token, Some(body)).await
    }

    pub async fn patch(
        &self,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        send(self, "PATCH", path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        send(self, "DELETE", path, token, None).await
    }

    /// Creates a location as `admin`; asserts 201 and returns it.
    pub async fn create_location(&self, admin: &str, body: serde_json::Value) -> LocationResponse {
        self.post_as("/api/v1/locations", admin, Some(body), 201)
            .await
    }

    /// Creates a questionnaire draft as `admin`; asserts 201 and returns it.
    pub async fn create_questionnaire(
        &self,
        admin: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let (status, q) = self.post("/api/v1/questionnaires", admin, body).await;
        assert_eq!(status, 201, "create a questionnaire: {q}");
        q
    }

    /// Moves a questionnaire version with `action` (`publish`, `retire`); asserts 200.
    pub async fn questionnaire_action(&self, admin: &str, id: &str, action: &str) {
        let path = format!("/api/v1/questionnaires/{id}/{action}");
        let (status, body) = self.post_empty(&path, admin).await;
        assert_eq!(status, 200, "{action} {id}: {body}");
    }

    /// Creates and publishes a questionnaire; returns its id.
    pub async fn published_questionnaire(&self, admin: &str, body: serde_json::Value) -> String {
        let q = self.create_questionnaire(admin, body).await;
        let id = q["id"].as_str().expect("an id").to_string();
        self.questionnaire_action(admin, &id, "publish").await;
        id
    }

    /// Sets the locations a manager may see; asserts 200.
    pub async fn assign_locations(&self, admin: &str, manager: &str, locations: &[&str]) {
        let path = format!("/api/v1/users/{manager}/locations");
        let (status, body) = self
            .put(
                &path,
                admin,
                serde_json::json!({ "location_ids": locations }),
            )
            .await;
        assert_eq!(status, 200, "assign locations: {body}");
    }
}

/// Counts rows in a table through a direct connection.
pub fn count_rows(conn: &mut DbConn, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(conn)
        .expect("count rows")
        .n
}

/// The problem's violations' pointers, in order.
pub fn pointers(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {problem}"))
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect()
}

// ------------------------------------------------------- the world most tests start from

/// An organization with a location, the published example questionnaire and a shopper.
pub struct World {
    pub app: TestApp,
    pub admin_token: String,
    pub shopper_token: String,
    pub shopper_id: String,
    /// The shopper's credentials (to sign in again, e.g. after a role change).
    pub shopper: TestUser,
    pub location_id: String,
    pub questionnaire_id: String,
}

pub async fn world() -> World {
    world_with(&[]).await
}

/// A world whose server runs with extra settings.
pub async fn world_with(vars: &[(&str, &str)]) -> World {
    world_at(vars, Clock::system()).await
}

/// A world whose server reads the time from `clock`.
pub async fn world_at(vars: &[(&str, &str)], clock: Clock) -> World {
    let app = spawn_app_at(vars, |_| {}, clock).await;
    let admin = app.create_org_with_admin("Acme");
    let admin_token = app.access_token(&admin).await;
    let location = app
        .create_location(
            &admin_token,
            json!({"code": "S-1", "name": "Chiado", "region": "Lisbon", "timezone": "Europe/Lisbon", "latitude": 38.7111, "longitude": -9.1421}),
        )
        .await;
    let questionnaire_id = app
        .published_questionnaire(&admin_token, example("store-visit"))
        .await;
    let shopper = app.create_user(&admin_token, "shopper").await;
    let shopper_token = app.access_token(&shopper).await;
    World {
        app,
        admin_token,
        shopper_token,
        shopper_id: shopper.id.clone(),
        shopper,
        location_id: location.id.to_string(),
        questionnaire_id,
    }
}

/// A valid report of a first-mile visit an hour ago (the README's worked example).
pub fn report(w: &World) -> Value {
    let start = Utc::now() - TimeDelta::hours(1);
    json!({
        "id": uuid::Uuid::new_v4(),
        "location_id": w.location_id,
        "questionnaire_id": w.questionnaire_id,
        "visit": {"started_at": start.to_rfc3339(), "ended_at": (start + TimeDelta::minutes(17)).to_rfc3339()},
        "answers": [
            {"question": "greeted", "value": true},
            {"question": "eye_contact", "value": true},
            {"question": "smiled", "value": true},
            {"question": "on_phone", "value": false},
            {"question": "courtesy", "value": 5},
            {"question": "appearance", "value": true},
            {"question": "wait_time", "value": 95},
            {"question": "had_issue", "value": "no"},
            {"question": "purchase_smooth", "value": true},
            {"question": "clean_inside", "value": 4},
            {"question": "clean_outside", "value": true},
            {"question": "remembered_name", "value": false},
            {"question": "unexpressed_need", "value": false},
            {"question": "companion", "value": "alone"},
            {"question": "follow_up", "value": false},
            {"question": "beyond_task", "value": false, "comment": "Nothing special"},
            {"question": "highlights", "value": "Quick, friendly service."}
        ],
        "narrative": "Greeted at once; tidy store.",
        "check_in": {"lat": 38.7112, "lon": -9.1420, "accuracy_m": 15, "at": (start - TimeDelta::seconds(30)).to_rfc3339()},
        "staff_observed": [{"description": "Clerk with glasses", "role": "cashier"}],
        "client": {"app": "secondmile-shopper", "version": "3.4.1", "device_id": "dev-1"}
    })
}

pub fn set_answer(r: &mut Value, question: &str, answer: Value) {
    let answers = r["answers"].as_array_mut().unwrap();
    answers.retain(|a| a["question"] != question);
    let mut answer = answer;
    answer["question"] = json!(question);
    answers.push(answer);
}

pub async fn submit(w: &World, body: &Value) -> (u16, Value) {
    w.app
        .post("/api/v1/reports", &w.shopper_token, body.clone())
        .await
}

/// A wave of the world's questionnaire key from `starts` to `ends` days from today, one visit
/// per location: its id.
pub async fn create_wave(w: &World, starts: i64, ends: i64) -> String {
    let day = |offset: i64| {
        (Utc::now() + TimeDelta::days(offset))
            .date_naive()
            .to_string()
    };
    let (status, wave) = w
        .app
        .post(
            "/api/v1/waves",
            &w.admin_token,
            json!({"name": "Spring", "starts_on": day(starts), "ends_on": day(ends), "questionnaire_key": "store-visit", "visits_per_location": 1}),
        )
        .await;
    assert_eq!(status, 201, "{wave}");
    wave["id"].as_str().unwrap().to_string()
}

/// The settings of a small pool on a test database (for calling library functions beside
/// the server).
pub fn database_config(test_db: &TestDb) -> secondmile::config::DatabaseConfig {
    secondmile::config::DatabaseConfig {
        url: secondmile::db::DatabaseUrl::parse(&test_db.url()).unwrap(),
        pool_size: 2,
        connection_timeout: std::time::Duration::from_secs(5),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_swapped_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "t1"),
            "postgresql://u:p@h/t1?sslmode=disable"
        );
    }
}
