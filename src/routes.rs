//! Every route of the API in one list, and what answers when none matches. Routes are
//! registered through `utoipa_actix_web`, so each one is in the OpenAPI document.

use actix_web::{HttpRequest, HttpResponse, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::aggregates::handlers as aggregates;
use crate::aggregates::insight_handlers as insight;
use crate::aggregates::trust_handlers as trust;
use crate::attachments::handlers as attachments;
use crate::audit::handlers as audit;
use crate::auth::{clients, erasure, handlers as auth, users};
use crate::error::ApiError;
use crate::events::handlers as events;
use crate::exports::handlers as exports;
use crate::health;
use crate::improvement::appeal_api as appeals;
use crate::improvement::handlers as plans;
use crate::locations::handlers as locations;
use crate::organization::handlers as organization;
use crate::programme::handlers as programme;
use crate::programme::{mine, sync};
use crate::questionnaires::handlers as questionnaires;
use crate::questionnaires::translation_handlers as translations;
use crate::reports::handlers as reports;
use crate::review::handlers as review;
use crate::state::AppState;

/// Base path of the versioned API.
pub const API_BASE: &str = "/api/v1";

/// Registers every documented route. Used both by the server and to generate the document.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(
            utoipa_actix_web::scope::scope(API_BASE)
                .service(auth::issue_token)
                .service(auth::revoke_token)
                .service(auth::get_me)
                .service(auth::update_me)
                .service(users::list_users)
                .service(users::create_user)
                .service(users::get_user)
                .service(users::update_user)
                .service(users::delete_user)
                .service(erasure::erase_user)
                .service(clients::list_clients)
                .service(clients::create_client)
                .service(clients::delete_client)
                .service(questionnaires::list_questionnaires)
                .service(questionnaires::create_questionnaire)
                .service(questionnaires::get_questionnaire)
                .service(questionnaires::update_questionnaire)
                .service(questionnaires::publish_questionnaire)
                .service(questionnaires::retire_questionnaire)
                .service(questionnaires::create_version)
                .service(translations::list_translations)
                .service(translations::get_translation)
                .service(translations::put_translation)
                .service(translations::delete_translation)
                .service(translations::export_translation)
                .service(translations::import_translation)
                .service(locations::list_locations)
                .service(locations::create_location)
                .service(locations::import_locations)
                .service(locations::get_location)
                .service(locations::update_location)
                .service(locations::delete_location)
                .service(locations::get_manager_locations)
                .service(locations::set_manager_locations)
                .service(reports::submit_report)
                .service(reports::list_reports)
                .service(exports::export_reports)
                .service(reports::get_report)
                .service(review::review_report)
                .service(review::revise_report)
                .service(review::get_revision)
                .service(review::get_history)
                .service(attachments::upload_attachment)
                .service(attachments::list_attachments)
                .service(attachments::download_attachment)
                .service(programme::get_settings)
                .service(programme::put_settings)
                .service(programme::get_exclusions)
                .service(programme::put_exclusions)
                .service(programme::list_waves)
                .service(programme::create_wave)
                .service(programme::get_wave)
                .service(programme::update_wave)
                .service(programme::close_wave)
                .service(programme::add_assignments)
                .service(programme::generate)
                .service(programme::wave_assignments)
                .service(programme::coverage)
                .service(programme::get_assignment)
                .service(programme::update_assignment)
                .service(programme::cancel_assignment)
                .service(programme::accept)
                .service(programme::decline)
                .service(programme::claim)
                .service(mine::my_assignments)
                .service(mine::claimable)
                .service(mine::eligible_locations)
                .service(sync::sync)
                .service(aggregates::location_summary)
                .service(aggregates::location_trend)
                .service(aggregates::coverage_trend)
                .service(aggregates::region_aggregates)
                .service(aggregates::question_aggregates)
                .service(aggregates::location_leaderboard_csv)
                .service(aggregates::location_leaderboard)
                .service(aggregates::overview)
                .service(aggregates::recognition)
                .service(trust::shopper_aggregates)
                .service(trust::list_figure_changes)
                .service(insight::list_changes)
                .service(insight::get_location_changes)
                .service(insight::get_drivers)
                .service(plans::list_action_plans)
                .service(plans::list_location_action_plans)
                .service(plans::open_action_plan)
                .service(plans::get_action_plan)
                .service(plans::plan_action_plan)
                .service(plans::complete_plan_action)
                .service(plans::review_action_plan)
                .service(appeals::open_appeal)
                .service(appeals::list_appeals)
                .service(appeals::get_appeal)
                .service(appeals::review_appeal)
                .service(appeals::upload_appeal_evidence)
                .service(appeals::download_appeal_evidence)
                .service(organization::get_organization_settings)
                .service(organization::put_organization_settings)
                .service(audit::list_audit_entries)
                .service(events::feed)
                .service(events::create_webhook)
                .service(events::list_webhooks)
                .service(events::get_webhook)
                .service(events::update_webhook)
                .service(events::delete_webhook)
                .service(events::rotate_secret)
                .service(events::ping)
                .service(events::list_deliveries)
                .service(events::get_delivery)
                .service(events::redeliver),
        );
}

/// The default service: reached when no route matched the path and method.
pub async fn fallback(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Err(match state.routes.allowed_methods(req.path()) {
        Some(mut allowed) => {
            // Every GET route answers HEAD too (see `middleware::http_guard`).
            if allowed.iter().any(|m| m == "GET") {
                allowed.push("HEAD".into());
            }
            ApiError::method_not_allowed(&allowed)
        }
        None => ApiError::not_found(),
    })
}
