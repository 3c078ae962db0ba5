//! Configuration read from environment variables. It is built once in `main` and passed
//! in; nothing reads the environment behind the caller's back.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::db::DatabaseUrl;

/// Every variable the server reads, with its default, as documented in the README.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "DATABASE_URL",
        "sqlite://secondmile.db",
        "`sqlite://PATH` (embedded, file created if missing) or `postgres://USER@HOST/DB`",
    ),
    (
        "SECONDMILE_BIND",
        "127.0.0.1:8080",
        "address and port the HTTP server listens on",
    ),
    (
        "SECONDMILE_LOG",
        "info",
        "log filter, `tracing` EnvFilter syntax (e.g. `info,secondmile=debug`)",
    ),
    ("SECONDMILE_LOG_FORMAT", "pretty", "`pretty` or `json`"),
    (
        "SECONDMILE_DB_POOL_SIZE",
        "10",
        "maximum database connections held by the pool (1..=256)",
    ),
    (
        "SECONDMILE_DB_TIMEOUT_SECS",
        "5",
        "how long a request waits for a database connection (1..=300)",
    ),
    (
        "SECONDMILE_REQUEST_TIMEOUT_SECS",
        "30",
        "a request still running after this answers 503 `request_timeout` (1..=3600)",
    ),
    (
        "SECONDMILE_SHUTDOWN_TIMEOUT_SECS",
        "30",
        "on SIGTERM/SIGINT, how long in-flight requests may take to finish (0..=3600)",
    ),
    (
        "SECONDMILE_WORKERS",
        "number of CPUs",
        "HTTP worker threads (1..=256)",
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Settings for the database and its pool.
#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    pub url: DatabaseUrl,
    pub pool_size: u32,
    pub connection_timeout: Duration,
}

/// Settings for the HTTP server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub workers: Option<usize>,
    pub request_timeout: Duration,
    pub shutdown_timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct LogConfig {
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub log: LogConfig,
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

        let database_url = get("DATABASE_URL").unwrap_or_else(|| "sqlite://secondmile.db".into());
        let url = DatabaseUrl::parse(&database_url).map_err(|message| ConfigError {
            variable: "DATABASE_URL",
            message,
        })?;

        let bind = match get("SECONDMILE_BIND") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.trim().parse().map_err(|_| ConfigError {
                variable: "SECONDMILE_BIND",
                message: format!("`{v}` is not an address like 127.0.0.1:8080 or [::]:8080"),
            })?,
        };

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

        let pool_size = number(&get, "SECONDMILE_DB_POOL_SIZE", 10, 1, 256)?;
        let db_timeout = number(&get, "SECONDMILE_DB_TIMEOUT_SECS", 5, 1, 300)?;
        let request_timeout = number(&get, "SECONDMILE_REQUEST_TIMEOUT_SECS", 30, 1, 3600)?;
        let shutdown_timeout = number(&get, "SECONDMILE_SHUTDOWN_TIMEOUT_SECS", 30, 0, 3600)?;
        let workers = match get("SECONDMILE_WORKERS") {
            None => None,
            Some(_) => Some(number(&get, "SECONDMILE_WORKERS", 1, 1, 256)? as usize),
        };

        Ok(Config {
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
            },
            log: LogConfig { filter, format },
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
    fn every_variable_is_documented() {
        let names: Vec<&str> = VARIABLES.iter().map(|v| v.0).collect();
        for name in [
            "DATABASE_URL",
            "SECONDMILE_BIND",
            "SECONDMILE_LOG",
            "SECONDMILE_LOG_FORMAT",
            "SECONDMILE_DB_POOL_SIZE",
            "SECONDMILE_DB_TIMEOUT_SECS",
            "SECONDMILE_REQUEST_TIMEOUT_SECS",
            "SECONDMILE_SHUTDOWN_TIMEOUT_SECS",
            "SECONDMILE_WORKERS",
        ] {
            assert!(names.contains(&name), "{name}");
        }
    }
}
