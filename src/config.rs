//! Configuration read from environment variables. It is built once in `main` and passed
//! in; nothing reads the environment behind the caller's back.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

pub use crate::db::DatabaseConfig;
use crate::db::DatabaseUrl;

mod variables;
pub use variables::{EXIT_CODES, VARIABLES, unknown as unknown_variables};

/// A secret value: never printed by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Settings of tokens, sign-in limits and proxies.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub jwt_secret: Option<Secret>,
    pub jwt_previous_secret: Option<Secret>,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub rate_per_ip: u32,
    pub rate_per_account: u32,
    pub trusted_proxies: TrustedProxies,
}

/// Limits applied to submitted reports.
#[derive(Clone, Debug)]
pub struct ReportsConfig {
    pub max_age_days: i64,
    pub checkin_radius_m: f64,
    /// Most reports one shopper may submit in 24 hours (`None`: no limit, for the demo
    /// loader's backfill).
    pub daily_quota: Option<u32>,
    /// When aggregates give a verdict.
    pub verdict: crate::aggregates::stats::VerdictRule,
}

/// The first organization and admin to create on an empty database.
#[derive(Clone, Debug)]
pub struct BootstrapConfig {
    pub org_name: String,
    pub admin_email: String,
    pub admin_password: Secret,
}

/// Networks whose `X-Forwarded-For` header is believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(std::net::IpAddr, u8)>);

impl TrustedProxies {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, prefix) = match item.split_once('/') {
                Some((a, p)) => (a, Some(p)),
                None => (item, None),
            };
            let ip: std::net::IpAddr = addr
                .parse()
                .map_err(|_| format!("`{item}` is not an IP address or CIDR"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => max,
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| format!("`{item}` has an invalid prefix length"))?,
            };
            nets.push((ip, prefix));
        }
        Ok(TrustedProxies(nets))
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|(net, prefix)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                u32::from(*n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(*n) & mask == u128::from(a) & mask
            }
            _ => false,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Settings for the HTTP server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub workers: Option<usize>,
    pub request_timeout: Duration,
    pub shutdown_timeout: Duration,
    /// Origins allowed to call the API from a browser (CORS); empty: none.
    pub cors_origins: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct LogConfig {
    pub filter: String,
    pub format: LogFormat,
}

/// Webhook deliveries: which URLs, how long to wait, how to retry.
#[derive(Clone, Debug)]
pub struct WebhooksConfig {
    pub urls: crate::events::webhook::UrlRules,
    pub timeout: Duration,
    pub retry: crate::events::webhook::RetryPolicy,
    pub poll_interval: Duration,
    /// How long events and finished deliveries are kept; `None`: forever.
    pub retention: Option<Duration>,
    /// Most feed long-polls one organization may have waiting at once.
    pub long_polls_per_org: usize,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub reports: ReportsConfig,
    pub attachments: AttachmentsConfig,
    pub webhooks: WebhooksConfig,
    pub bootstrap: Option<BootstrapConfig>,
    /// The time the server reads: the system's (tests set one by hand).
    pub clock: crate::clock::Clock,
}

/// Photos and receipts: where they are kept and how big they may be.
#[derive(Clone, Debug)]
pub struct AttachmentsConfig {
    /// `file://DIR` or `s3://BUCKET/PREFIX`.
    pub storage_url: String,
    pub max_bytes: u64,
    /// Uploads of one caller at once; beyond, 429.
    pub uploads_per_caller: usize,
    /// Uploads of everyone at once; beyond, 429.
    pub uploads_at_once: usize,
}

/// The default storage: a `secondmile-files` directory beside the SQLite file, or in the
/// working directory with PostgreSQL.
fn default_storage_url(database: &DatabaseUrl) -> String {
    match database {
        DatabaseUrl::Sqlite(path) => {
            let parent = std::path::Path::new(path)
                .parent()
                .map(|p| p.display().to_string())
                .filter(|p| !p.is_empty() && !path.starts_with(':'))
                .unwrap_or_else(|| ".".into());
            format!("file://{parent}/secondmile-files")
        }
        DatabaseUrl::Postgres(_) => "file://./secondmile-files".into(),
    }
}

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests can pass their own values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());

        // `SECONDMILE_DATABASE_URL`, named as every other setting, wins over the
        // conventional `DATABASE_URL`.
        let (variable, database_url) = match get("SECONDMILE_DATABASE_URL") {
            Some(url) => ("SECONDMILE_DATABASE_URL", url),
            None => (
                "DATABASE_URL",
                get("DATABASE_URL").unwrap_or_else(|| "sqlite://secondmile.db".into()),
            ),
        };
        let url = DatabaseUrl::parse(&database_url)
            .map_err(|message| ConfigError { variable, message })?;

        let bind = match get("SECONDMILE_BIND") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.trim().parse().map_err(|_| ConfigError {
                variable: "SECONDMILE_BIND",
                message: format!("`{v}` is not an address like 127.0.0.1:8080 or [::]:8080"),
            })?,
        };

        let log = LogConfig::from_env(&get)?;

        let pool_size = number(&get, "SECONDMILE_DB_POOL_SIZE", 10, 1, 256)?;
        let db_timeout = number(&get, "SECONDMILE_DB_TIMEOUT_SECS", 5, 1, 300)?;
        let request_timeout = number(&get, "SECONDMILE_REQUEST_TIMEOUT_SECS", 30, 1, 3600)?;
        let shutdown_timeout = number(&get, "SECONDMILE_SHUTDOWN_TIMEOUT_SECS", 30, 0, 3600)?;
        let workers = match get("SECONDMILE_WORKERS") {
            None => None,
            Some(_) => Some(number(&get, "SECONDMILE_WORKERS", 1, 1, 256)? as usize),
        };

        let auth = AuthConfig::from_env(&get, &lookup)?;

        let cors_origins = parse_origins(&get("SECONDMILE_CORS_ORIGINS").unwrap_or_default())
            .map_err(|message| ConfigError {
                variable: "SECONDMILE_CORS_ORIGINS",
                message,
            })?;

        let bootstrap = BootstrapConfig::from_env(&get)?;
        let reports = ReportsConfig::from_env(&get)?;
        let attachments = AttachmentsConfig::from_env(&get, &url)?;
        let webhooks = WebhooksConfig::from_env(&get)?;

        Ok(Config {
            clock: crate::clock::Clock::system(),
            auth,
            reports,
            attachments,
            webhooks,
            bootstrap,
            database: DatabaseConfig {
                url,
                pool_size: pool_size as u32,
                connection_timeout: Duration::from_secs(db_timeout),
            },
            server: ServerConfig {
                bind,
                workers,
                request_timeout: Duration::from_secs(request_timeout),
                shutdown_timeout: Duration::from_secs(shutdown_timeout),
                cors_origins,
            },
            log,
        })
    }
}

impl LogConfig {
    fn from_env(get: &impl Fn(&'static str) -> Option<String>) -> Result<Self, ConfigError> {
        let format = match get("SECONDMILE_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    variable: "SECONDMILE_LOG_FORMAT",
                    message: format!("`{other}` is neither `pretty` nor `json`"),
                });
            }
        };
        let filter = get("SECONDMILE_LOG").unwrap_or_else(|| "info".into());
        if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&filter) {
            return Err(ConfigError {
                variable: "SECONDMILE_LOG",
                message: format!("`{filter}` is not a valid filter: {e}"),
            });
        }
        Ok(LogConfig { filter, format })
    }
}

impl AuthConfig {
    fn from_env(
        get: &impl Fn(&'static str) -> Option<String>,
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let secret = |variable: &'static str| -> Result<Option<Secret>, ConfigError> {
            match lookup(variable).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) if v.len() < 32 => Err(ConfigError {
                    variable,
                    message: format!("it has {} bytes; use at least 32 random bytes", v.len()),
                }),
                Some(v) => Ok(Some(Secret(v))),
            }
        };
        Ok(AuthConfig {
            jwt_secret: secret("SECONDMILE_JWT_SECRET")?,
            jwt_previous_secret: secret("SECONDMILE_JWT_PREVIOUS_SECRET")?,
            issuer: get("SECONDMILE_JWT_ISSUER").unwrap_or_else(|| "secondmile".into()),
            audience: get("SECONDMILE_JWT_AUDIENCE").unwrap_or_else(|| "secondmile-api".into()),
            access_ttl: Duration::from_secs(number(
                &get,
                "SECONDMILE_ACCESS_TOKEN_TTL_SECS",
                900,
                60,
                86_400,
            )?),
            refresh_ttl: Duration::from_secs(
                number(&get, "SECONDMILE_REFRESH_TOKEN_TTL_DAYS", 30, 1, 365)? * 86_400,
            ),
            rate_per_ip: number(&get, "SECONDMILE_LOGIN_RATE_PER_IP", 10, 1, 100_000)? as u32,
            rate_per_account: number(&get, "SECONDMILE_LOGIN_RATE_PER_ACCOUNT", 10, 1, 100_000)?
                as u32,
            trusted_proxies: TrustedProxies::parse(
                &get("SECONDMILE_TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|message| ConfigError {
                variable: "SECONDMILE_TRUSTED_PROXIES",
                message,
            })?,
        })
    }
}

impl BootstrapConfig {
    /// The three bootstrap variables, all or none.
    fn from_env(
        get: &impl Fn(&'static str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let bootstrap_vars = [
            "SECONDMILE_BOOTSTRAP_ORG",
            "SECONDMILE_BOOTSTRAP_ADMIN_EMAIL",
            "SECONDMILE_BOOTSTRAP_ADMIN_PASSWORD",
        ];
        let values = bootstrap_vars.map(&get);
        let [org, email, password] = &values;
        Ok(match (org, email, password) {
            (None, None, None) => None,
            (Some(org), Some(email), Some(password)) => Some(BootstrapConfig {
                org_name: org.trim().to_string(),
                admin_email: email.trim().to_string(),
                admin_password: Secret(password.clone()),
            }),
            _ => {
                let missing = bootstrap_vars
                    .iter()
                    .zip(&values)
                    .find(|(_, v)| v.is_none())
                    .map_or(bootstrap_vars[0], |(name, _)| *name);
                return Err(ConfigError {
                variable: missing,
                message: "the three SECONDMILE_BOOTSTRAP_* variables go together; this one is missing".into(),
            });
            }
        })
    }
}

impl ReportsConfig {
    fn from_env(get: &impl Fn(&'static str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(ReportsConfig {
            max_age_days: number(&get, "SECONDMILE_MAX_REPORT_AGE_DAYS", 90, 1, 3650)? as i64,
            checkin_radius_m: number(&get, "SECONDMILE_CHECKIN_RADIUS_M", 500, 1, 1_000_000)?
                as f64,
            daily_quota: Some(
                number(&get, "SECONDMILE_SHOPPER_DAILY_REPORTS", 200, 1, 1_000_000)? as u32,
            ),
            verdict: crate::aggregates::stats::VerdictRule {
                min_sample: number(&get, "SECONDMILE_MIN_SAMPLE", 5, 1, 1000)?,
                zero_lower: number(&get, "SECONDMILE_VERDICT_ZERO_PERCENT", 10, 0, 100)? as f64
                    / 100.0,
                second_lower: number(&get, "SECONDMILE_VERDICT_SECOND_PERCENT", 50, 0, 100)? as f64
                    / 100.0,
            },
        })
    }
}

impl AttachmentsConfig {
    fn from_env(
        get: &impl Fn(&'static str) -> Option<String>,
        database: &DatabaseUrl,
    ) -> Result<Self, ConfigError> {
        Ok(AttachmentsConfig {
            storage_url: match get("SECONDMILE_STORAGE_URL").filter(|v| !v.trim().is_empty()) {
                Some(v) if v.starts_with("file://") || v.starts_with("s3://") => v.trim().into(),
                Some(_) => {
                    return Err(ConfigError {
                        variable: "SECONDMILE_STORAGE_URL",
                        message: "use file://DIR or s3://BUCKET/PREFIX".into(),
                    });
                }
                None => default_storage_url(database),
            },
            max_bytes: number(
                &get,
                "SECONDMILE_MAX_ATTACHMENT_BYTES",
                10 * 1024 * 1024,
                1,
                1024 * 1024 * 1024,
            )?,
            uploads_per_caller: usize::try_from(number(
                &get,
                "SECONDMILE_UPLOADS_PER_CALLER",
                4,
                1,
                1000,
            )?)
            .unwrap_or(4),
            uploads_at_once: usize::try_from(number(
                &get,
                "SECONDMILE_UPLOADS_AT_ONCE",
                32,
                1,
                10_000,
            )?)
            .unwrap_or(32),
        })
    }
}

impl WebhooksConfig {
    fn from_env(get: &impl Fn(&'static str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(WebhooksConfig {
            urls: crate::events::webhook::UrlRules {
                allow_http: flag(&get, "SECONDMILE_WEBHOOK_ALLOW_HTTP")?,
                allow_private: flag(&get, "SECONDMILE_WEBHOOK_ALLOW_PRIVATE")?,
            },
            timeout: Duration::from_secs(number(
                &get,
                "SECONDMILE_WEBHOOK_TIMEOUT_SECS",
                10,
                1,
                60,
            )?),
            retry: crate::events::webhook::RetryPolicy {
                base: Duration::from_millis(number(
                    &get,
                    "SECONDMILE_WEBHOOK_RETRY_BASE_MS",
                    10_000,
                    10,
                    3_600_000,
                )?),
                max_pause: Duration::from_secs(2 * 3600),
                window: Duration::from_secs(number(
                    &get,
                    "SECONDMILE_WEBHOOK_RETRY_WINDOW_SECS",
                    86_400,
                    1,
                    604_800,
                )?),
                disable_after: Duration::from_secs(number(
                    &get,
                    "SECONDMILE_WEBHOOK_DISABLE_AFTER_SECS",
                    259_200,
                    1,
                    2_592_000,
                )?),
            },
            poll_interval: Duration::from_millis(number(
                &get,
                "SECONDMILE_WEBHOOK_POLL_MS",
                1000,
                10,
                60_000,
            )?),
            retention: match number(&get, "SECONDMILE_EVENT_RETENTION_DAYS", 90, 0, 3650)? {
                0 => None,
                days => Some(Duration::from_secs(days * 86_400)),
            },
            long_polls_per_org: number(&get, "SECONDMILE_LONG_POLLS_PER_ORG", 1000, 1, 100_000)?
                as usize,
        })
    }
}

fn number(
    get: &impl Fn(&'static str) -> Option<String>,
    variable: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = get(variable) else {
        return Ok(default);
    };
    match raw.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError {
            variable,
            message: format!("`{raw}` is not a whole number from {min} to {max}"),
        }),
    }
}

/// A yes/no variable: `true`/`false` (or `1`/`0`, `yes`/`no`); absent means false.
fn flag(
    get: &impl Fn(&'static str) -> Option<String>,
    variable: &'static str,
) -> Result<bool, ConfigError> {
    match get(variable)
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ConfigError {
            variable,
            message: format!("`{other}` is neither true nor false"),
        }),
    }
}

/// Browser origins for CORS: `scheme://host[:port]`, comma-separated, no path and no `*`.
fn parse_origins(raw: &str) -> Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let valid = rest.is_some_and(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
        if !valid {
            return Err(format!(
                "`{origin}` is not an origin; write it as https://host or https://host:port"
            ));
        }
        origins.push(origin.to_ascii_lowercase());
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.server.bind.to_string(), "127.0.0.1:8080");
        assert!(matches!(c.database.url, DatabaseUrl::Sqlite(ref p) if p == "secondmile.db"));
        assert_eq!(c.log.format, LogFormat::Pretty);
        assert_eq!(c.database.pool_size, 10);
        assert_eq!(c.server.request_timeout, Duration::from_secs(30));
        assert_eq!(c.server.workers, None);
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        let cases = [
            ("DATABASE_URL", "mysql://localhost/db"),
            ("SECONDMILE_BIND", "localhost"),
            ("SECONDMILE_LOG_FORMAT", "xml"),
            ("SECONDMILE_LOG", "info,[["),
            ("SECONDMILE_DB_POOL_SIZE", "0"),
            ("SECONDMILE_DB_TIMEOUT_SECS", "ten"),
            ("SECONDMILE_REQUEST_TIMEOUT_SECS", "-1"),
            ("SECONDMILE_SHUTDOWN_TIMEOUT_SECS", "99999"),
            ("SECONDMILE_WORKERS", "0"),
            ("SECONDMILE_JWT_SECRET", "too-short"),
            ("SECONDMILE_JWT_PREVIOUS_SECRET", "also-too-short"),
            ("SECONDMILE_ACCESS_TOKEN_TTL_SECS", "5"),
            ("SECONDMILE_REFRESH_TOKEN_TTL_DAYS", "0"),
            ("SECONDMILE_LOGIN_RATE_PER_IP", "0"),
            ("SECONDMILE_LOGIN_RATE_PER_ACCOUNT", "x"),
            ("SECONDMILE_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("SECONDMILE_MAX_REPORT_AGE_DAYS", "0"),
            ("SECONDMILE_CHECKIN_RADIUS_M", "far"),
            ("SECONDMILE_SHOPPER_DAILY_REPORTS", "0"),
            ("SECONDMILE_STORAGE_URL", "/var/lib/files"),
            ("SECONDMILE_MAX_ATTACHMENT_BYTES", "0"),
            ("SECONDMILE_CORS_ORIGINS", "app.example.com"),
            ("SECONDMILE_CORS_ORIGINS", "https://app.example.com/path"),
            ("SECONDMILE_CORS_ORIGINS", "*"),
        ];
        for (variable, value) in cases {
            let err = config(&[(variable, value)]).unwrap_err();
            assert_eq!(err.variable, variable, "{value}");
            assert!(
                err.to_string()
                    .starts_with(&format!("invalid {variable}: "))
            );
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn values_are_read() {
        let c = config(&[
            ("SECONDMILE_BIND", "0.0.0.0:9000"),
            ("SECONDMILE_LOG_FORMAT", "json"),
            ("SECONDMILE_DB_POOL_SIZE", "3"),
            ("SECONDMILE_WORKERS", "2"),
            ("DATABASE_URL", "postgres://postgres@127.0.0.1/app"),
        ])
        .unwrap();
        assert_eq!(c.server.bind.port(), 9000);
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(c.database.pool_size, 3);
        assert_eq!(c.server.workers, Some(2));
        assert!(matches!(c.database.url, DatabaseUrl::Postgres(_)));
    }

    #[test]
    fn bootstrap_variables_go_together() {
        let err = config(&[("SECONDMILE_BOOTSTRAP_ORG", "Acme")]).unwrap_err();
        assert_eq!(err.variable, "SECONDMILE_BOOTSTRAP_ADMIN_EMAIL");
        let c = config(&[
            ("SECONDMILE_BOOTSTRAP_ORG", "Acme"),
            ("SECONDMILE_BOOTSTRAP_ADMIN_EMAIL", "ana@acme.test"),
            (
                "SECONDMILE_BOOTSTRAP_ADMIN_PASSWORD",
                "correct horse battery",
            ),
        ])
        .unwrap();
        let bootstrap = c.bootstrap.unwrap();
        assert_eq!(bootstrap.org_name, "Acme");
        assert!(!format!("{bootstrap:?}").contains("horse"));
    }

    #[test]
    fn secrets_never_print() {
        let c = config(&[(
            "SECONDMILE_JWT_SECRET",
            "0123456789abcdef0123456789abcdef-x",
        )])
        .unwrap();
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn trusted_proxies_match_addresses_and_networks() {
        let p = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7, ::1").unwrap();
        assert!(p.contains("10.20.30.40".parse().unwrap()));
        assert!(p.contains("192.168.1.7".parse().unwrap()));
        assert!(!p.contains("192.168.1.8".parse().unwrap()));
        assert!(p.contains("::1".parse().unwrap()));
        assert!(p.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(!TrustedProxies::default().contains("127.0.0.1".parse().unwrap()));
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }
}
