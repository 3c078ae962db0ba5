//! Prometheus metrics: request counts and latencies by route and status, and pool state.
//! Each application owns its registry, so several instances in one process never mix.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::db::PoolState;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    statements: IntCounter,
    /// Held while the statement counter catches up with the pool's count, so two scrapes
    /// at once do not both add the same statements.
    catching_up: std::sync::Mutex<()>,
    uploads_in_flight: IntGauge,
    webhooks: crate::events::worker::WebhookMetrics,
}

/// Label used for requests that matched no route, so unknown paths cannot blow up the
/// number of series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

impl Metrics {
    #[allow(
        clippy::expect_used,
        reason = "fixed metric names and labels, valid by construction and checked by tests"
    )]
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("secondmile".into()), None)
            .expect("a fixed, valid metrics prefix");
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )
        .expect("valid metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving a request to its response head",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route", "status"],
        )
        .expect("valid metric definition");
        let pool_connections = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database connections by state"),
            &["state"],
        )
        .expect("valid metric definition");
        let pool_max = IntGauge::new("db_pool_max_connections", "Largest size of the pool")
            .expect("valid metric definition");
        let statements = IntCounter::new(
            "db_statements_total",
            "Statements the server ran on the database (BEGIN and COMMIT included)",
        )
        .expect("valid metric definition");
        let uploads_in_flight = IntGauge::new(
            "uploads_in_flight",
            "Attachment uploads holding a place in the upload gate now",
        )
        .expect("valid metric definition");
        let webhooks = crate::events::worker::WebhookMetrics {
            attempts: IntCounterVec::new(
                Opts::new(
                    "webhook_attempts_total",
                    "Webhook delivery attempts by outcome: succeeded, failed (retried), gave_up",
                ),
                &["outcome"],
            )
            .expect("valid metric definition"),
            lag: Histogram::with_opts(
                HistogramOpts::new(
                    "webhook_delivery_lag_seconds",
                    "Time from an event to its successful delivery",
                )
                .buckets(vec![
                    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 7200.0,
                    86400.0,
                ]),
            )
            .expect("valid metric definition"),
            oldest_pending: IntGauge::new(
                "webhook_oldest_pending_seconds",
                "Age of the oldest event not yet delivered to a webhook (0: none pending)",
            )
            .expect("valid metric definition"),
        };
        for outcome in ["succeeded", "failed", "gave_up"] {
            webhooks.attempts.with_label_values(&[outcome]);
        }
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_max.clone()),
            Box::new(statements.clone()),
            Box::new(uploads_in_flight.clone()),
            Box::new(webhooks.attempts.clone()),
            Box::new(webhooks.lag.clone()),
            Box::new(webhooks.oldest_pending.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool_connections,
            pool_max,
            statements,
            catching_up: std::sync::Mutex::new(()),
            uploads_in_flight,
            webhooks,
        }
    }

    /// The delivery worker's metrics (shared handles into this registry).
    pub fn webhooks(&self) -> crate::events::worker::WebhookMetrics {
        self.webhooks.clone()
    }

    /// Records one request. Labels come from closed sets (so no client can grow the series
    /// without bound): the standard methods, else `other`; the route template, else
    /// `unmatched` (the caller's job); the status code the server itself answered.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method_label(method), route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// The text exposition format, with the pool gauges and the uploads in flight read now.
    pub fn render(&self, pool: PoolState, uploads_in_flight: usize) -> String {
        self.uploads_in_flight
            .set(i64::try_from(uploads_in_flight).unwrap_or(i64::MAX));
        let idle = i64::from(pool.idle);
        let open = i64::from(pool.connections);
        self.pool_connections.with_label_values(&["idle"]).set(idle);
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(open - idle);
        self.pool_max.set(i64::from(pool.max_size));
        {
            let _turn = self
                .catching_up
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.statements
                .inc_by(pool.statements.saturating_sub(self.statements.get()));
        }
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for the text format.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The metrics label of a request method: a standard method, or `other`.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_latencies_and_pool_state() {
        let m = Metrics::new();
        m.observe_request("GET", "/healthz", 200, 0.002);
        m.observe_request("GET", "/healthz", 200, 0.003);
        let text = m.render(
            PoolState {
                max_size: 10,
                connections: 3,
                idle: 2,
                statements: 7,
            },
            4,
        );
        assert!(text.contains("secondmile_uploads_in_flight 4"));
        assert!(text.contains(
            r#"secondmile_http_requests_total{method="GET",route="/healthz",status="200"} 2"#
        ));
        assert!(text.contains("secondmile_http_request_duration_seconds_bucket"));
        assert!(text.contains(r#"secondmile_db_pool_connections{state="in_use"} 1"#));
        assert!(text.contains("secondmile_db_pool_max_connections 10"));
        assert!(text.contains("secondmile_db_statements_total 7"));
    }
}
