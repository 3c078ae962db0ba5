//! What every handler can reach: the database handle, metrics and request settings.

use std::time::Duration;

use crate::auth::{rate_limit, tokens};
use crate::config::{ReportsConfig, TrustedProxies};
use crate::db::Db;
use crate::metrics::Metrics;
use crate::route_table::RouteTable;

pub struct AppState {
    pub db: Db,
    pub metrics: Metrics,
    pub request_timeout: Duration,
    pub routes: RouteTable,
    pub auth: AuthState,
    pub reports: ReportsConfig,
    /// Where photos and receipts are kept.
    pub storage: crate::attachments::storage::Storage,
    pub attachments: crate::config::AttachmentsConfig,
    /// How many uploads run at once.
    pub uploads: crate::attachments::gate::UploadGate,
    pub webhooks: crate::config::WebhooksConfig,
    /// Pings of each webhook.
    pub pings: crate::auth::rate_limit::PingLimiter,
    /// On while the rollups are being rebuilt: aggregate reads answer 503.
    pub rollups: crate::aggregates::rebuilding::Rebuilding,
}

/// What the token endpoint and the `AuthUser` extractor need.
pub struct AuthState {
    pub tokens: tokens::TokenService,
    pub limiter: rate_limit::LoginLimiter,
    pub proxies: TrustedProxies,
}
