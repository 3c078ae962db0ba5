//! The OpenAPI 3.1 document. Routes are registered through `utoipa_actix_web`, so the
//! served document, the committed `openapi/openapi.json` and the routes cannot drift.

pub mod bodies;
mod examples;

use actix_web::App;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::aggregates::dto::{BucketBy, SortBy};
use crate::aggregates::insight_dto::{CompareWith, HeadingName, MeasureName};
use crate::aggregates::order::{Column, Direction};
use crate::auth::model::Scope;
use crate::error::Problem;
use crate::events::dto::SubjectResponse;
use crate::events::payload::{
    ActionPlanEventData, AppealEventData, TranslationEventData, UserErasedData,
};
use crate::events::payload::{
    AssignmentEventData, AttachmentEventData, LocationEventData, PingData, QuestionnaireEventData,
    ReportEventData, VerdictChangedData, WaveEventData,
};
use crate::exports::dto::ExportLayout;
use crate::questionnaires::translation_handlers::TranslationFileFormat;
use crate::reports::dto::Sort;
use crate::routes::{API_BASE, routes};
use crate::validation::Violation;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
/// The command that rewrites the committed document.
pub const REGENERATE_COMMAND: &str = "cargo run --quiet -- openapi > openapi/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "secondmile API",
        description = "Mystery-shopper visit reports, validated against versioned questionnaires, \
scored and classified as zero, first or second mile, reviewed, and aggregated per location, \
region and organization.\n\nErrors are RFC 9457 `application/problem+json` documents with a \
stable `code`; validation errors list every violation with a JSON Pointer.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
        contact(name = "secondmile", url = "https://github.com/secondmile/secondmile"),
    ),
    components(schemas(
        Problem,
        Violation,
        Sort,
        SortBy,
        BucketBy,
        CompareWith,
        MeasureName,
        HeadingName,
        Column,
        Direction,
        ExportLayout,
        TranslationFileFormat,
        ReportEventData,
        AttachmentEventData,
        VerdictChangedData,
        QuestionnaireEventData,
        LocationEventData,
        WaveEventData,
        ActionPlanEventData,
        AppealEventData,
        UserErasedData,
        TranslationEventData,
        AssignmentEventData,
        PingData,
        SubjectResponse
    )),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Tokens (OAuth2 password, refresh-token and client-credentials grants), sign-out, and who am I"),
        (name = "users", description = "Users of the caller's organization (admins)"),
        (name = "organization", description = "The organization's own settings and its audit log (admins)"),
        (name = "integration-clients", description = "Service accounts of the caller's organization (admins)"),
        (name = "locations", description = "Locations, CSV import, and the locations managers may see"),
        (name = "questionnaires", description = "Versioned questionnaires: drafts, publishing, new versions"),
        (name = "reports", description = "Visit reports: idempotent submission, validation, scoring, reading by role"),
        (name = "review", description = "Review workflow: decisions, revisions of returned reports, history"),
        (name = "attachments", description = "Photos and receipts of reports, uploaded by the shoppers' apps"),
        (name = "programme", description = "Planning visits: waves, assignments for shoppers, lockout rules and coverage"),
        (name = "appeals", description = "Managers' appeals against released reports, and reviewers' decisions"),
        (name = "action-plans", description = "Action plans: how a store gets out of the zero mile, from causes and actions to HQ's verification"),
        (name = "aggregates", description = "Figures of released visits per location, region and organization, with the zero / first / second mile verdict"),
        (name = "events", description = "The event feed (every state change, in commit order) and the webhook subscriptions"),
        (name = "webhooks", description = "What a webhook receives: one POST per event, signed after the Standard Webhooks specification, retried until a 2xx answer"),
        (name = "operations", description = "Liveness, readiness and metrics"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut OpenApiDoc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from `POST /api/v1/auth/token`, sent as `Authorization: Bearer <token>`",
                    ))
                    .build(),
            ),
        );
        let token_url = format!("{API_BASE}/auth/token");
        let scopes: Scopes = Scope::ALL
            .iter()
            .map(|s| (s.as_str(), scope_description(*s)))
            .collect();
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [
                    Flow::Password(Password::new(token_url.clone(), Scopes::new())),
                    Flow::ClientCredentials(ClientCredentials::new(token_url, scopes)),
                ],
                "Users sign in with the password grant (and rotate with refresh_token); integration clients \
                 use client_credentials with the scopes an admin granted them.",
            )),
        );
    }
}

/// The answers every endpoint of a kind can give, added wherever a handler did not list them:
/// a JSON body can be malformed (400), too large (413), of the wrong type (415) or invalid
/// (422); an authenticated endpoint answers 401 without a valid token.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, doc: &mut OpenApiDoc) {
        use utoipa::openapi::schema::Ref;
        use utoipa::openapi::{ContentBuilder, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::error::PROBLEM_CONTENT_TYPE,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for operation in operations_mut(doc) {
            let responses = &mut operation.responses.responses;
            if operation.request_body.is_some() {
                for (status, description) in [
                    (
                        "400",
                        "Malformed body (`malformed_json`, `invalid_request`)",
                    ),
                    ("413", "Body too large (`payload_too_large`)"),
                    ("415", "Wrong content type (`unsupported_media_type`)"),
                    (
                        "422",
                        "Invalid values, all listed with JSON Pointers (`validation_failed`)",
                    ),
                ] {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| problem(description).into());
                }
            }
            if operation.security.is_some() {
                responses
                    .entry("401".to_string())
                    .or_insert_with(|| problem("Missing or invalid token").into());
            }
            // Any request can have a refused query string or too many header bytes.
            responses.entry("400".to_string()).or_insert_with(|| {
                problem("A query string over 8 KiB or with a control character (`invalid_query`)")
                    .into()
            });
            responses.entry("431".to_string()).or_insert_with(|| {
                problem("More than 64 header fields or 32 KiB of headers (`headers_too_large`)")
                    .into()
            });
            // Any operation can be throttled, fail, or find the service unavailable.
            let retry_after = || {
                utoipa::openapi::HeaderBuilder::new()
                    .schema(
                        utoipa::openapi::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::Type::Integer)
                            .minimum(Some(1)),
                    )
                    .description(Some("seconds to wait before retrying"))
                    .build()
            };
            responses.entry("429".to_string()).or_insert_with(|| {
                let mut r = problem("Too many requests (`rate_limited`)");
                r.headers.insert("Retry-After".into(), retry_after());
                r.into()
            });
            responses.entry("500".to_string()).or_insert_with(|| {
                problem("The server failed (`internal_error`); the details are logged, never sent")
                    .into()
            });
            responses.entry("503".to_string()).or_insert_with(|| {
                let mut r = problem(
                    "Not available now: the database is unreachable (`database_unavailable`), \
                         the request took too long (`request_timeout`) or migrations are pending",
                );
                r.headers.insert("Retry-After".into(), retry_after());
                r.into()
            });
        }
    }
}

/// Raw bodies (a photo, a PDF, a CSV file) are binary strings, not arrays of numbers: each
/// listed media type gets `type: string, format: binary` (what generators map to bytes, a
/// file or a `Blob`) with its `contentMediaType` (OpenAPI 3.1). utoipa describes a `Vec<u8>`
/// body as an array of integers; every non-JSON body is rewritten here, whatever its schema.
struct BinaryBodies;

impl BinaryBodies {
    fn is_raw(media_type: &str) -> bool {
        let essence = media_type.split(';').next().unwrap_or("").trim();
        !(essence == "application/json"
            || essence.ends_with("+json")
            || essence == "application/x-www-form-urlencoded"
            || essence.starts_with("text/plain"))
    }

    fn binary(media_type: &str) -> utoipa::openapi::schema::Schema {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        let essence = media_type.split(';').next().unwrap_or("").trim();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .content_media_type(essence)
            .into()
    }

    fn rewrite(content: &mut utoipa::openapi::content::Content, media_type: &str) {
        if Self::is_raw(media_type) {
            content.schema = Some(Self::binary(media_type).into());
        }
    }
}

impl Modify for BinaryBodies {
    fn modify(&self, doc: &mut OpenApiDoc) {
        use utoipa::openapi::RefOr;
        for operation in operations_mut(doc) {
            if let Some(body) = operation.request_body.as_mut() {
                for (media_type, content) in body.content.iter_mut() {
                    Self::rewrite(content, media_type);
                }
            }
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    for (media_type, content) in response.content.iter_mut() {
                        Self::rewrite(content, media_type);
                    }
                }
            }
        }
    }
}

/// Operations that need no token say so with an empty `security` list, so that clients and
/// linters do not have to guess.
struct PublicOperations;

impl Modify for PublicOperations {
    fn modify(&self, doc: &mut OpenApiDoc) {
        for operation in operations_mut(doc) {
            if operation.security.is_none() {
                operation.security = Some(Vec::new());
            }
        }
    }
}

/// OpenAPI links from each create operation (and from a decision or revision of a report) to
/// what can be done next with the resource (read, change, review, revise, ...), so clients
/// and stateful test tools can chain calls: the resource's `id` (or `key`) from the response
/// body becomes the next call's path parameter.
struct Links;

/// (path, method, status of the answer, [(link name, operationId, path parameter, JSON
/// pointer into the response body without its leading `/`)]).
type LinkTable = [(
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str, &'static str)],
)];

const LINKS: &LinkTable = &[
    (
        "/api/v1/reports",
        "post",
        "201",
        &[
            ("GetReport", "get_report", "id", "id"),
            ("ReviewReport", "review_report", "id", "id"),
            ("GetHistory", "get_report_history", "id", "id"),
            ("GetRevision", "get_report_revision", "id", "id"),
            ("ListAttachments", "list_attachments", "id", "id"),
            ("OpenAppeal", "open_appeal", "id", "id"),
        ],
    ),
    (
        "/api/v1/reports/{id}/appeals",
        "post",
        "201",
        &[
            ("GetAppeal", "get_appeal", "id", "id"),
            ("ReviewAppeal", "review_appeal", "id", "id"),
            ("UploadEvidence", "upload_appeal_evidence", "id", "id"),
        ],
    ),
    (
        "/api/v1/reports",
        "post",
        "200",
        &[
            ("GetReport", "get_report", "id", "id"),
            ("GetHistory", "get_report_history", "id", "id"),
            ("ListAttachments", "list_attachments", "id", "id"),
        ],
    ),
    (
        "/api/v1/reports/{id}/review",
        "post",
        "200",
        &[
            // A returned report is revised by its shopper; a decided one can be reopened.
            ("ReviseReport", "revise_report", "id", "id"),
            ("ReviewReport", "review_report", "id", "id"),
            ("GetReport", "get_report", "id", "id"),
            ("GetHistory", "get_report_history", "id", "id"),
        ],
    ),
    (
        "/api/v1/reports/{id}",
        "put",
        "200",
        &[
            ("GetReport", "get_report", "id", "id"),
            ("ReviewReport", "review_report", "id", "id"),
            ("GetHistory", "get_report_history", "id", "id"),
            ("GetRevision", "get_report_revision", "id", "id"),
        ],
    ),
    (
        "/api/v1/waves",
        "post",
        "201",
        &[
            ("GetWave", "get_wave", "id", "id"),
            ("UpdateWave", "update_wave", "id", "id"),
            ("GenerateAssignments", "generate_assignments", "id", "id"),
            ("AddAssignments", "add_assignments", "id", "id"),
            ("WaveAssignments", "list_wave_assignments", "id", "id"),
            ("WaveCoverage", "get_wave_coverage", "id", "id"),
            ("CloseWave", "close_wave", "id", "id"),
        ],
    ),
    (
        "/api/v1/waves/{id}/assignments/generate",
        "post",
        "201",
        &[
            ("GetAssignment", "get_assignment", "id", "created/0/id"),
            (
                "UpdateAssignment",
                "update_assignment",
                "id",
                "created/0/id",
            ),
            (
                "CancelAssignment",
                "cancel_assignment",
                "id",
                "created/0/id",
            ),
        ],
    ),
    (
        "/api/v1/webhooks",
        "post",
        "201",
        &[
            ("GetWebhook", "get_webhook", "id", "webhook/id"),
            ("UpdateWebhook", "update_webhook", "id", "webhook/id"),
            ("PingWebhook", "ping_webhook", "id", "webhook/id"),
            ("ListDeliveries", "list_deliveries", "id", "webhook/id"),
            ("RotateSecret", "rotate_secret", "id", "webhook/id"),
            ("DeleteWebhook", "delete_webhook", "id", "webhook/id"),
        ],
    ),
    (
        "/api/v1/locations",
        "post",
        "201",
        &[
            ("GetLocation", "get_location", "id", "id"),
            ("UpdateLocation", "update_location", "id", "id"),
            ("DeleteLocation", "delete_location", "id", "id"),
            ("LocationSummary", "get_location_summary", "id", "id"),
            ("LocationTrend", "get_location_trend", "id", "id"),
            ("LocationChanges", "get_location_changes", "id", "id"),
            ("OpenActionPlan", "open_action_plan", "id", "id"),
            (
                "LocationActionPlans",
                "list_location_action_plans",
                "id",
                "id",
            ),
        ],
    ),
    (
        "/api/v1/locations/{id}/action-plans",
        "post",
        "201",
        &[
            ("GetActionPlan", "get_action_plan", "id", "id"),
            (
                "SetActionPlanActions",
                "set_action_plan_actions",
                "id",
                "id",
            ),
            ("ReviewActionPlan", "review_action_plan", "id", "id"),
        ],
    ),
    (
        "/api/v1/questionnaires",
        "post",
        "201",
        &[
            ("GetQuestionnaire", "get_questionnaire", "id", "id"),
            ("UpdateQuestionnaire", "update_questionnaire", "id", "id"),
            ("PublishQuestionnaire", "publish_questionnaire", "id", "id"),
            ("RetireQuestionnaire", "retire_questionnaire", "id", "id"),
            (
                "CreateVersion",
                "create_questionnaire_version",
                "key",
                "key",
            ),
        ],
    ),
    (
        "/api/v1/questionnaires/{key}/versions",
        "post",
        "201",
        &[
            ("GetQuestionnaire", "get_questionnaire", "id", "id"),
            ("UpdateQuestionnaire", "update_questionnaire", "id", "id"),
            ("PublishQuestionnaire", "publish_questionnaire", "id", "id"),
        ],
    ),
    (
        "/api/v1/users",
        "post",
        "201",
        &[
            ("GetUser", "get_user", "id", "id"),
            ("UpdateUser", "update_user", "id", "id"),
            ("DeleteUser", "delete_user", "id", "id"),
            ("GetManagerLocations", "get_manager_locations", "id", "id"),
            ("SetManagerLocations", "set_manager_locations", "id", "id"),
        ],
    ),
    (
        "/api/v1/integration-clients",
        "post",
        "201",
        &[("DeleteClient", "delete_client", "id", "client_id")],
    ),
];

impl Modify for Links {
    fn modify(&self, doc: &mut OpenApiDoc) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::link::LinkBuilder;
        for (path, method, status, links) in LINKS {
            let Some(item) = doc.paths.paths.get_mut(*path) else {
                continue;
            };
            let operation = match *method {
                "post" => item.post.as_mut(),
                "put" => item.put.as_mut(),
                _ => None,
            };
            let Some(RefOr::T(response)) =
                operation.and_then(|o| o.responses.responses.get_mut(*status))
            else {
                continue;
            };
            for (name, operation_id, parameter, field) in *links {
                let mut link = LinkBuilder::new()
                    .operation_id(*operation_id)
                    .parameter(*parameter, format!("$response.body#/{field}"));
                if *operation_id == "get_report_revision" {
                    link = link.parameter("n", "$response.body#/revision");
                }
                response
                    .links
                    .insert((*name).to_string(), RefOr::T(link.build()));
            }
        }
    }
}

/// A `Page<T>` (or `SyncSection<T>`) schema references its item schema instead of carrying a
/// copy of it, so a generated client's page of reports holds the same `ReportResponse` type
/// as a single read.
struct PageItems;

impl Modify for PageItems {
    fn modify(&self, doc: &mut OpenApiDoc) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{ArrayItems, Ref, Schema};
        let Some(components) = doc.components.as_mut() else {
            return;
        };
        for (name, schema) in components.schemas.iter_mut() {
            let Some(item) = name
                .strip_prefix("Page_")
                .or_else(|| name.strip_prefix("SyncSection_"))
            else {
                continue;
            };
            let RefOr::T(Schema::Object(page)) = schema else {
                continue;
            };
            if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
                items.items = ArrayItems::RefOrSchema(Box::new(Ref::from_schema_name(item).into()));
            }
        }
    }
}

fn scope_description(scope: Scope) -> &'static str {
    match scope {
        Scope::ReportsWrite => "submit visit reports on behalf of the organization's shoppers",
        Scope::ReportsRead => "read visit reports and exports",
        Scope::AggregatesRead => "read location, region and organization aggregates",
        Scope::LocationsRead => "read locations",
        Scope::QuestionnairesRead => "read published questionnaires",
        Scope::EventsRead => "read the event feed and the webhooks' deliveries",
        Scope::ActionsRead => "read action plans and appeals",
    }
}

/// Every operation of the document's paths, to change.
pub(crate) fn operations_mut(
    doc: &mut OpenApiDoc,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// The document the code describes, with the version of this build.
pub fn document() -> OpenApiDoc {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    // After the routes added their paths: modifiers in `#[openapi]` run before that.
    CommonResponses.modify(&mut doc);
    PageItems.modify(&mut doc);
    BinaryBodies.modify(&mut doc);
    PublicOperations.modify(&mut doc);
    Links.modify(&mut doc);
    crate::events::document::describe(&mut doc);
    examples::compose(&mut doc);
    doc.extensions
        .get_or_insert_with(Default::default)
        .insert("webhooks".to_string(), crate::events::document::webhooks());
    doc.servers = Some(vec![
        utoipa::openapi::ServerBuilder::new()
            .url("http://127.0.0.1:8080")
            .description(Some(
                "A server started with the defaults (`SECONDMILE_BIND`); point clients at your own deployment",
            ))
            .build(),
    ]);
    doc
}

/// The document as committed to `openapi/openapi.json`.
pub fn document_json() -> String {
    to_json(document())
}

/// The document as a server serves it: its one server is `/`, the origin it was read from,
/// so "Try it out" in `/docs` and a client pointed at the served document work wherever
/// the server runs (the committed file names the default address).
pub fn served_document_json() -> String {
    let mut doc = document();
    doc.servers = Some(vec![
        utoipa::openapi::ServerBuilder::new()
            .url("/")
            .description(Some("This server: the origin the document was read from"))
            .build(),
    ]);
    to_json(doc)
}

/// Pretty JSON with a final newline. utoipa writes a link's `operationId` as
/// `"operation_id"` (a key nothing else in the document has); it is renamed here.
#[allow(
    clippy::expect_used,
    reason = "serializing a built document of strings and maps cannot fail"
)]
fn to_json(doc: utoipa::openapi::OpenApi) -> String {
    let mut json = doc
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
        .replace("\"operation_id\": ", "\"operationId\": ");
    json.push('\n');
    json
}
