//! Logging: `tracing` to standard error, human-readable by default, one JSON object per
//! line in production.

use std::io::IsTerminal;

use tracing::Dispatch;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. The filter was validated with the configuration.
pub fn init(config: &LogConfig) {
    // A subscriber may already be installed (tests); keep it.
    drop(tracing::dispatcher::set_global_default(dispatch(
        config, None,
    )));
}

/// The subscriber of `config` with the line of each report submitted or reviewed left out
/// (below WARN): for loading the demo, whose thousands of reports would bury its progress.
pub fn without_report_lines(config: &LogConfig) -> Dispatch {
    dispatch(config, Some("secondmile::reports=warn"))
}

fn dispatch(config: &LogConfig, extra: Option<&str>) -> Dispatch {
    let mut filter = EnvFilter::builder()
        .parse(&config.filter)
        .unwrap_or_else(|_| EnvFilter::new("info"));
    if let Some(directive) = extra.and_then(|d| d.parse().ok()) {
        filter = filter.add_directive(directive);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_span_events(FmtSpan::NONE);
    match config.format {
        LogFormat::Pretty => Dispatch::new(builder.finish()),
        LogFormat::Json => Dispatch::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}
