//! The table of environment variables: what `secondmile env` prints and the README lists.

/// Every variable the server reads, with its default, as documented in the README.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "DATABASE_URL",
        "sqlite://secondmile.db",
        "`sqlite://PATH` (embedded, file created if missing) or `postgres://USER@HOST/DB`",
    ),
    (
        "SECONDMILE_DATABASE_URL",
        "DATABASE_URL",
        "the same as DATABASE_URL, named as the other settings; wins when both are set",
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
    (
        "SECONDMILE_JWT_SECRET",
        "generated and stored in the database",
        "HS256 signing secret for access tokens, at least 32 bytes",
    ),
    (
        "SECONDMILE_JWT_PREVIOUS_SECRET",
        "none",
        "the secret being rotated out: tokens it signed stay valid until they expire",
    ),
    (
        "SECONDMILE_JWT_ISSUER",
        "secondmile",
        "`iss` of issued access tokens, required on presented ones",
    ),
    (
        "SECONDMILE_JWT_AUDIENCE",
        "secondmile-api",
        "`aud` of issued access tokens, required on presented ones",
    ),
    (
        "SECONDMILE_ACCESS_TOKEN_TTL_SECS",
        "900",
        "lifetime of access tokens (60..=86400)",
    ),
    (
        "SECONDMILE_REFRESH_TOKEN_TTL_DAYS",
        "30",
        "lifetime of refresh tokens (1..=365)",
    ),
    (
        "SECONDMILE_LOGIN_RATE_PER_IP",
        "10",
        "token requests a client IP may make per minute (1..=100000)",
    ),
    (
        "SECONDMILE_LOGIN_RATE_PER_ACCOUNT",
        "10",
        "sign-in attempts per minute for one email or client id (1..=100000)",
    ),
    (
        "SECONDMILE_TRUSTED_PROXIES",
        "none",
        "comma-separated proxy IPs or CIDRs whose `X-Forwarded-For` is believed; otherwise it is ignored",
    ),
    (
        "SECONDMILE_CORS_ORIGINS",
        "none",
        "comma-separated origins (`https://app.example.com`) whose browser pages may call the API; none: no cross-origin access",
    ),
    (
        "SECONDMILE_STORAGE_URL",
        "a secondmile-files directory next to the SQLite file",
        "where photos and receipts are kept: `file://DIR` (created at start) or `s3://BUCKET/PREFIX` (AWS variables); with PostgreSQL the default is file://./secondmile-files",
    ),
    (
        "SECONDMILE_MAX_ATTACHMENT_BYTES",
        "10485760",
        "largest photo or receipt accepted, in bytes (1..=1073741824); beyond it 413",
    ),
    (
        "SECONDMILE_UPLOADS_PER_CALLER",
        "4",
        "uploads one shopper or client may have in flight at once (1..=1000); beyond, 429 with Retry-After",
    ),
    (
        "SECONDMILE_UPLOADS_AT_ONCE",
        "32",
        "uploads in flight at once over everyone (1..=10000); beyond, 429 with Retry-After. Bodies are streamed to disk; two at a time are held in memory to remove their metadata",
    ),
    (
        "SECONDMILE_MAX_REPORT_AGE_DAYS",
        "90",
        "reports of visits older than this are refused (offline apps submit late; 1..=3650)",
    ),
    (
        "SECONDMILE_SHOPPER_DAILY_REPORTS",
        "200",
        "most reports one shopper may submit in 24 hours; beyond it 429 with `Retry-After` (1..=1000000)",
    ),
    (
        "SECONDMILE_CHECKIN_RADIUS_M",
        "500",
        "a check-in farther than this from the location is flagged for reviewers (metres)",
    ),
    (
        "SECONDMILE_MIN_SAMPLE",
        "5",
        "aggregates over fewer visits are `low_sample` and get no verdict (1..=1000)",
    ),
    (
        "SECONDMILE_VERDICT_ZERO_PERCENT",
        "10",
        "verdict `zero` when the lower bound of the zero-mile rate's 95 % interval reaches this percent",
    ),
    (
        "SECONDMILE_VERDICT_SECOND_PERCENT",
        "50",
        "verdict `second` when the lower bound of the second-mile rate's 95 % interval reaches this percent (and no visit was zero mile)",
    ),
    (
        "SECONDMILE_WEBHOOK_ALLOW_HTTP",
        "false",
        "`true` lets webhooks use plain `http://` URLs (otherwise `https://` only)",
    ),
    (
        "SECONDMILE_WEBHOOK_ALLOW_PRIVATE",
        "false",
        "`true` lets webhooks reach loopback, private and link-local addresses (otherwise refused at creation and at delivery)",
    ),
    (
        "SECONDMILE_WEBHOOK_TIMEOUT_SECS",
        "10",
        "how long a webhook receiver may take to answer (connecting: at most 5 s; 1..=60)",
    ),
    (
        "SECONDMILE_WEBHOOK_RETRY_BASE_MS",
        "10000",
        "pause after a delivery's first failed attempt; each further failure doubles it, up to 2 hours (10..=3600000)",
    ),
    (
        "SECONDMILE_WEBHOOK_RETRY_WINDOW_SECS",
        "86400",
        "how long a delivery is retried before it is marked failed (1..=604800)",
    ),
    (
        "SECONDMILE_WEBHOOK_DISABLE_AFTER_SECS",
        "259200",
        "a webhook whose every attempt failed for this long is disabled (1..=2592000)",
    ),
    (
        "SECONDMILE_WEBHOOK_POLL_MS",
        "1000",
        "how often the delivery worker looks for due deliveries besides being woken by new events (10..=60000)",
    ),
    (
        "SECONDMILE_EVENT_RETENTION_DAYS",
        "90",
        "events, and finished webhook deliveries with their attempts, are deleted once older than this (`serve` prunes at start and hourly); 0 keeps them forever (0..=3650)",
    ),
    (
        "SECONDMILE_LONG_POLLS_PER_ORG",
        "1000",
        "most feed long-polls (`GET /events?wait=`) one organization may have waiting at once; more answer 429 (1..=100000)",
    ),
    (
        "SECONDMILE_BOOTSTRAP_ORG",
        "none",
        "with the two below: on an empty database, `serve` creates this organization and its first admin",
    ),
    (
        "SECONDMILE_BOOTSTRAP_ADMIN_EMAIL",
        "none",
        "email of the bootstrap admin",
    ),
    (
        "SECONDMILE_BOOTSTRAP_ADMIN_PASSWORD",
        "none",
        "password of the bootstrap admin (12 to 1024 bytes; never printed)",
    ),
];

/// Variables of the tests and scripts, not of the server: never warned about.
const OUTSIDE_THE_SERVER: &[&str] = &[
    "SECONDMILE_TEST_",
    "SECONDMILE_BENCH_",
    "SECONDMILE_REQUIRE_",
];

/// The `SECONDMILE_*` names among `names` that the server does not read: most likely typos,
/// which should not pass in silence.
pub fn unknown<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut unknown: Vec<&str> = names
        .into_iter()
        .filter(|n| n.starts_with("SECONDMILE_"))
        .filter(|n| !OUTSIDE_THE_SERVER.iter().any(|p| n.starts_with(p)))
        .filter(|n| !VARIABLES.iter().any(|(known, _, _)| known == n))
        .collect();
    unknown.sort_unstable();
    unknown
}

/// The exit codes of every command, as `--help` and the README list them.
pub const EXIT_CODES: [(u8, &str); 6] = [
    (0, "success"),
    (
        1,
        "failure (a migration, the listening socket, the server; `rollups verify`: a difference; `backup`, `attachments backup` and `restore`: a damaged file)",
    ),
    (2, "invalid command line"),
    (
        65,
        "invalid input (`create-admin`: a bad email or password, the email taken; `demo`: a database with an organization, a weak `--password`; `backup`: the file exists, or PostgreSQL)",
    ),
    (69, "database unreachable"),
    (78, "invalid configuration"),
];

#[cfg(test)]
mod tests {
    #[test]
    fn unknown_settings_are_told_from_known_ones_and_the_tests_own() {
        let names = [
            "SECONDMILE_BIND",
            "SECONDMILE_BNID",
            "SECONDMILE_TEST_DATABASE_URL",
            "SECONDMILE_BENCH_HQ_SIZE",
            "PATH",
            "SECONDMILE_DATABASE_URL",
            "SECONDMILE_LOG_LEVEL",
        ];
        assert_eq!(
            super::unknown(names),
            ["SECONDMILE_BNID", "SECONDMILE_LOG_LEVEL"]
        );
    }
}
