//! What every handler can reach: the database handle, metrics and request settings.

use std::time::Duration;

use crate::auth::AuthState;
use crate::config::ReportsConfig;
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
}
