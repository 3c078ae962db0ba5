//! Builds the application exactly as `main` runs it, so tests start the real thing.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, Condition, from_fn};
use actix_web::{App, HttpServer, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{bootstrap, rate_limit::LoginLimiter, tokens};
use crate::config::{AuthConfig, Config, DatabaseConfig, Secret};
use crate::db::{self, Db};
use crate::extract;
use crate::metrics::Metrics;
use crate::middleware::observe;
use crate::openapi::{self, OPENAPI_PATH};
use crate::route_table::RouteTable;
use crate::routes;
use crate::state::{AppState, AuthState};

/// Why the server could not start. Each kind maps to its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot load the demo: {0}")]
    Demo(String),
    #[error("cannot connect to the database {url}: {source}")]
    Database {
        url: String,
        #[source]
        source: db::ConnectError,
    },
    #[error("database migration failed: {0}")]
    Migration(#[source] db::migrations::MigrationError),
    #[error("database unavailable: {0}")]
    Pool(#[from] db::DbError),
    #[error("bootstrap failed: {0}")]
    Bootstrap(#[from] bootstrap::BootstrapError),
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error("cannot open the file storage: {0}")]
    Storage(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// The versions of the migrations that (re)create the rollup tables empty, or add columns
/// that only a rebuild can fill.
const ROLLUPS_MIGRATIONS: [&str; 3] = ["20261124000007", "20261125000008", "20261207000018"];

/// Opens the pool and applies pending migrations; when one asks for the rollups to be
/// rebuilt (they are derived data), rebuilds them before answering. Returns the versions
/// applied.
pub fn connect_and_migrate(config: &DatabaseConfig) -> Result<(Db, Vec<String>), StartupError> {
    let (db, applied) = migrate(config)?;
    if let Some(periods) = crate::aggregates::rebuilding::finish_now(&db)? {
        tracing::info!(
            periods,
            "built the aggregate rollups from the released reports"
        );
    }
    Ok((db, applied))
}

/// Opens the pool and applies pending migrations, leaving an asked-for rollups rebuild to
/// the server (see [`crate::aggregates::rebuilding`]).
fn migrate(config: &DatabaseConfig) -> Result<(Db, Vec<String>), StartupError> {
    let db = Db::connect(config).map_err(|source| StartupError::Database {
        url: config.url.to_string(),
        source,
    })?;
    let mut conn = db.get()?;
    let applied = db::migrations::run_pending(&mut conn).map_err(StartupError::Migration)?;
    // The rollups migrations recreate their tables empty: they are filled from the reports
    // already released.
    if applied
        .iter()
        .any(|v| ROLLUPS_MIGRATIONS.contains(&v.as_str()))
    {
        crate::aggregates::rebuilding::request(&mut conn, &db).map_err(db::DbError::Query)?;
    }
    drop(conn);
    Ok((db, applied))
}

/// Where a generated signing secret is kept, so restarts keep sessions valid.
const JWT_SECRET_SETTING: &str = "jwt_signing_secret";

/// The configured signing secret, or the one generated on first start and kept in the
/// database (the first instance to start wins; the others read its value).
pub fn signing_secret(db: &Db, config: &AuthConfig) -> Result<Secret, StartupError> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    let generated = tokens::random_token("").map_err(|e| StartupError::Random(e.to_string()))?;
    let mut conn = db.get()?;
    let stored = db::settings::get_or_insert(&mut conn, JWT_SECRET_SETTING, &generated, db.now())
        .map_err(db::DbError::Query)?;
    Ok(Secret::new(stored.value))
}

/// Extra routes a caller mounts beside the API (the test suite uses it for probes).
pub type ExtraRoutes = fn(&mut web::ServiceConfig);

/// `/docs` without the slash: the UI loads its assets relative to `/docs/`.
/// The OpenAPI document as committed to `openapi/openapi.json`, its server this one.
async fn openapi_document() -> actix_web::HttpResponse {
    static DOCUMENT: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(openapi::served_document_json);
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}

async fn docs_redirect() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    storage: crate::attachments::storage::Storage,
    webhooks: crate::config::WebhooksConfig,
    webhook_metrics: crate::events::worker::WebhookMetrics,
    /// On while an asked-for rollups rebuild is pending; the rebuild runs beside the server.
    rollups: crate::aggregates::rebuilding::Rebuilding,
    shutdown_timeout: std::time::Duration,
}

/// Stops the server on the first SIGINT or SIGTERM the way the README says: no new
/// connection, waiting long-polls answered with what they have, requests in flight given
/// `timeout` to finish. A second signal stops at once.
async fn stop_on_signal(
    handle: actix_web::dev::ServerHandle,
    db: Db,
    timeout: std::time::Duration,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGINT and SIGTERM; stop the server with SIGKILL");
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    };
    tracing::info!(
        signal = name,
        timeout_secs = timeout.as_secs(),
        "stopping: requests in flight may finish (a second signal stops at once)"
    );
    db.bells().close();
    let graceful = handle.stop(true);
    tokio::select! {
        _ = graceful => {}
        _ = async {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        } => {
            tracing::warn!("a second signal: stopping at once");
            handle.stop(false).await;
        }
    }
}

impl Application {
    pub fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_with(config, |_| {})
    }

    /// Connects, migrates, binds and prepares the server; `run_until_stopped` serves.
    pub fn build_with(config: Config, extra: ExtraRoutes) -> Result<Self, StartupError> {
        let listener = Self::bind(&config)?;
        Self::build_on(config, listener, extra)
    }

    /// The listening socket of `SECONDMILE_BIND`, taken before anything slow (the demo)
    /// so that a busy port is found at once.
    pub fn bind(config: &Config) -> Result<TcpListener, StartupError> {
        TcpListener::bind(config.server.bind).map_err(|source| StartupError::Bind {
            addr: config.server.bind.to_string(),
            source,
        })
    }

    /// As `build_with`, on a socket already bound.
    pub fn build_on(
        config: Config,
        listener: TcpListener,
        extra: ExtraRoutes,
    ) -> Result<Self, StartupError> {
        let (db, applied) = migrate(&config.database)?;
        let db = db.with_clock(config.clock.clone());
        let rollups = crate::aggregates::rebuilding::at_start(&db)?;
        if !applied.is_empty() {
            tracing::info!(count = applied.len(), versions = ?applied, "applied database migrations");
        }
        if let Some(bootstrap) = &config.bootstrap
            && bootstrap::bootstrap_if_empty(&db, bootstrap)?
        {
            tracing::info!(organization = %bootstrap.org_name, "created the bootstrap organization and admin");
        }
        // Opened (and a local directory created) at start, so a wrong location stops the
        // server now rather than failing the first upload.
        let storage = crate::attachments::storage::Storage::open(&config.attachments.storage_url)
            .map_err(StartupError::Storage)?;
        tracing::info!(storage = %storage.location, "file storage ready");
        let secret = signing_secret(&db, &config.auth)?;
        crate::pagination::set_cursor_key(secret.expose().as_bytes());
        let auth = AuthState {
            tokens: tokens::TokenService::new(&config.auth, &secret),
            limiter: LoginLimiter::new(config.auth.rate_per_ip, config.auth.rate_per_account),
            proxies: config.auth.trusted_proxies.clone(),
        };
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                addr: config.server.bind.to_string(),
                source,
            })?
            .port();

        crate::extract::check_bodies_with(openapi::bodies::violations);
        let doc = openapi::document();
        let table = RouteTable::from_openapi(
            &doc,
            &[
                (OPENAPI_PATH, &["GET"]),
                ("/docs", &["GET"]),
                ("/docs/{_:.*}", &["GET"]),
                ("/", &["GET"]),
                ("/app", &["GET"]),
                ("/app/{_:.*}", &["GET"]),
                ("/shop", &["GET"]),
                ("/shop/{_:.*}", &["GET"]),
            ],
        );
        let metrics = Metrics::new();
        let webhook_metrics = metrics.webhooks();
        let state = web::Data::new(AppState {
            db: db.clone(),
            metrics,
            request_timeout: config.server.request_timeout,
            routes: table,
            auth,
            reports: config.reports.clone(),
            storage: storage.clone(),
            attachments: config.attachments.clone(),
            uploads: crate::attachments::gate::UploadGate::new(
                config.attachments.uploads_per_caller,
                config.attachments.uploads_at_once,
                2,
            ),
            webhooks: config.webhooks.clone(),
            pings: Default::default(),
            rollups: rollups.clone(),
        });

        let cors_origins = config.server.cors_origins.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(crate::middleware::refuse_control_characters))
                .wrap(Compress::default())
                .wrap(Condition::new(
                    !cors_origins.is_empty(),
                    crate::middleware::cors(&cors_origins),
                ))
                .wrap(from_fn(crate::middleware::http_guard))
                .wrap(from_fn(observe))
                .app_data(state.clone())
                .configure(extract::configure_extractors)
                // Before the API scope, which would otherwise claim the document's path.
                .route("/docs", web::get().to(docs_redirect))
                .configure(crate::dashboard::configure)
                .route(OPENAPI_PATH, web::get().to(openapi_document))
                .service(
                    SwaggerUi::new("/docs/{_:.*}")
                        // No call to the online validator: the docs work offline and
                        // send nothing elsewhere.
                        .config(
                            utoipa_swagger_ui::Config::from(OPENAPI_PATH).validator_url("none"),
                        ),
                )
                .into_utoipa_app()
                .configure(routes::routes)
                .into_app()
                .configure(extra)
                .default_service(web::to(routes::fallback))
        })
        .shutdown_timeout(config.server.shutdown_timeout.as_secs())
        // SIGINT and SIGTERM are handled by `stop_on_signal`: both stop gracefully.
        .disable_signals();
        if let Some(workers) = config.server.workers {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartupError::Bind {
                addr: config.server.bind.to_string(),
                source,
            })?
            .run();
        Ok(Application {
            port,
            server,
            db,
            storage,
            webhooks: config.webhooks,
            webhook_metrics,
            rollups,
            shutdown_timeout: config.server.shutdown_timeout,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM; in-flight requests then get the shutdown timeout
    /// to finish (long-polls answer at once), and a second signal stops at once.
    /// The attachment sweeper, the event retention and the retention of personal text run
    /// beside it (once at start, then hourly), the event sequencer (see [`crate::events::sequencer`]), and the webhook
    /// delivery worker: after the server stopped, the worker finishes the deliveries in
    /// flight (each bounded by the receiver timeout) and stops; the others stay due.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let personal = actix_web::rt::spawn(crate::organization::retention::run_periodically(
            self.db.clone(),
            self.storage.clone(),
        ));
        let sweeper = actix_web::rt::spawn(crate::attachments::sweep::run_periodically(
            self.db.clone(),
            self.storage,
        ));
        let retention = self.webhooks.retention.map(|period| {
            actix_web::rt::spawn(crate::events::retention::run_periodically(
                self.db.clone(),
                period,
            ))
        });
        let overdue = actix_web::rt::spawn(crate::improvement::overdue::run_periodically(
            self.db.clone(),
        ));
        let rebuild = self.rollups.is_on().then(|| {
            actix_web::rt::spawn(crate::aggregates::rebuilding::run(
                self.db.clone(),
                self.rollups.clone(),
            ))
        });
        let signals = actix_web::rt::spawn(stop_on_signal(
            self.server.handle(),
            self.db.clone(),
            self.shutdown_timeout,
        ));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let grace = self.webhooks.timeout + std::time::Duration::from_secs(5);
        let sequencer = actix_web::rt::spawn(crate::events::sequencer::run(
            self.db.clone(),
            stopped.clone(),
        ));
        let worker = actix_web::rt::spawn(crate::events::worker::run(
            self.db,
            self.webhooks,
            self.webhook_metrics,
            stopped,
        ));
        let served = self.server.await;
        signals.abort();
        sweeper.abort();
        personal.abort();
        overdue.abort();
        // An interrupted rebuild is taken over by the next instance to start.
        if let Some(rebuild) = rebuild {
            rebuild.abort();
        }
        if let Some(retention) = retention {
            retention.abort();
        }
        let _ = stop.send(true);
        // Events of requests answered before the stop are numbered now; any left are
        // numbered at the next start.
        let _ = tokio::time::timeout(grace, sequencer).await;
        if tokio::time::timeout(grace, worker).await.is_err() {
            tracing::warn!("webhook deliveries still in flight at shutdown are left for retry");
        }
        served
    }
}
