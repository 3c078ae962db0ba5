//! `POST /api/v1/auth/token`, `POST /api/v1/auth/revoke` and `GET /api/v1/me`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::dto::{
    MeResponse, OrganizationSummary, PrincipalKind, RevokeRequest, TokenRequest, TokenResponse,
    UpdateMeRequest, UserResponse,
};
use super::extractor::{AuthUser, Principal};
use super::model::{ClientId, Email, OrgId};
use super::rate_limit::{self, client_ip};
use super::service::{self, AuthError, IssuedTokens};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::FormOrJson;
use crate::state::AppState;
use crate::validation::Violation;

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let detail = e.to_string();
        match e {
            AuthError::InvalidGrant(_) => {
                ApiError::unauthorized(ErrorCode::InvalidGrant, detail, false)
            }
            AuthError::InvalidClient => {
                ApiError::unauthorized(ErrorCode::InvalidClient, detail, false)
            }
            AuthError::InvalidScope(_) => ApiError::bad_request(ErrorCode::InvalidScope, detail),
            AuthError::Invalid(violations) => ApiError::validation(violations),
            AuthError::NotFound => ApiError::not_found(),
            AuthError::EmailTaken => ApiError::conflict(ErrorCode::EmailTaken, detail),
            AuthError::LastAdmin => ApiError::conflict(ErrorCode::LastAdmin, detail),
            AuthError::OrganizationRequired(orgs) => {
                ApiError::bad_request(ErrorCode::OrganizationRequired, detail).with_violations(
                    orgs.into_iter()
                        .map(|org| {
                            Violation::new(
                                "/organization",
                                "organization_required",
                                format!("{}: {}", org.id, org.name),
                            )
                        })
                        .collect(),
                )
            }
            AuthError::Internal(cause) => ApiError::internal(cause),
            AuthError::Db(e) => e.into(),
        }
    }
}

impl From<IssuedTokens> for TokenResponse {
    fn from(t: IssuedTokens) -> Self {
        TokenResponse {
            access_token: t.access_token,
            token_type: "Bearer".into(),
            expires_in: t.expires_in,
            refresh_token: t.refresh_token,
            scope: t.scope,
        }
    }
}

/// Get tokens: sign in with email and password, rotate a refresh token, or authenticate an
/// integration client.
///
/// Send the OAuth2 form (`application/x-www-form-urlencoded`) or the same fields as JSON.
/// Client credentials may also come as HTTP Basic auth. Each client IP and each account
/// may try a limited number of times a minute (429 with `Retry-After` beyond that; every
/// answer carries the address's `RateLimit-Policy` and `RateLimit`). A
/// refresh token works once: using it returns a new pair, and presenting an already-used
/// refresh token ends that whole sign-in session.
#[utoipa::path(
    tag = "auth",
    request_body(
        content((TokenRequest = "application/x-www-form-urlencoded")),
        description = "The OAuth2 form (RFC 6749). The same fields as a JSON object are accepted too.",
    ),
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse,
            headers(
                ("Cache-Control" = String, description = "no-store"),
                ("RateLimit-Policy" = String, description = "the client address's budget, `\"sign-in\";q=LIMIT;w=60` (IETF httpapi draft; absent when the address is unknown)"),
                ("RateLimit" = String, description = "what is left of it, `\"sign-in\";r=LEFT;t=SECONDS`"),
            )),
        (status = 400, description = "Malformed request or unsupported grant (`invalid_request`, `unsupported_grant_type`, `invalid_scope`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong credentials, unknown/used/revoked/expired refresh token (`invalid_grant`), or bad client (`invalid_client`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither a form nor JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (`rate_limited`): from this address (`SECONDMILE_LOGIN_RATE_PER_IP` a minute), or on this account from an address that failed on it lately (`SECONDMILE_LOGIN_RATE_PER_ACCOUNT`; other addresses are slowed, not refused)", body = Problem, content_type = "application/problem+json",
            headers(
                ("Retry-After" = u64, description = "seconds to wait"),
                ("RateLimit-Policy" = String, description = "`\"sign-in\";q=LIMIT;w=60`"),
                ("RateLimit" = String, description = "`\"sign-in\";r=LEFT;t=SECONDS`"),
            )),
    )
)]
#[post("/auth/token")]
pub async fn issue_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: FormOrJson<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let ip = client_ip(&req, &state.auth.proxies);
    let limit = match ip.map(|ip| state.auth.limiter.check_ip(ip)) {
        Some(Err((wait, limit))) => {
            return Err(limit.add_to_problem(ApiError::too_many_requests(wait)));
        }
        Some(Ok(limit)) => Some(limit),
        None => None,
    };
    let granted = match body.grant_type.as_str() {
        "password" => password_grant(&state, body, ip).await,
        "refresh_token" => refresh_grant(&state, body).await,
        "client_credentials" => client_grant(&state, &req, body, ip).await,
        other => Err(ApiError::bad_request(
            ErrorCode::UnsupportedGrantType,
            format!(
                "grant_type `{other}` is not supported; use password, refresh_token or client_credentials"
            ),
        )),
    };
    // Refusals carry the limit too: a client sees its budget shrink as it fails.
    let response = match (granted, limit) {
        (Ok(response), _) => response,
        (Err(e), Some(limit)) => return Err(limit.add_to_problem(e)),
        (Err(e), None) => return Err(e),
    };
    let mut answer = HttpResponse::Ok();
    answer
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    if let Some(limit) = limit {
        limit.add_to(&mut answer);
    }
    Ok(answer.json(TokenResponse::from(response)))
}

fn required(value: Option<String>, name: &str) -> Result<String, ApiError> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidRequest,
            format!("`{name}` is required for this grant"),
        )
    })
}

/// Runs a sign-in attempt on `account` under its failure limit (see
/// [`rate_limit::LoginLimiter::admit`]), recording a failure.
async fn guarded<T>(
    state: &AppState,
    account: &str,
    ip: Option<std::net::IpAddr>,
    attempt: impl std::future::Future<Output = Result<T, AuthError>>,
) -> Result<T, ApiError> {
    let admission = state
        .auth
        .limiter
        .admit(account, ip)
        .map_err(ApiError::too_many_requests)?;
    if admission == rate_limit::Admission::Slowed {
        actix_web::rt::time::sleep(rate_limit::SLOWED_BY).await;
    }
    let outcome = attempt.await;
    if matches!(
        outcome,
        Err(AuthError::InvalidGrant(_) | AuthError::InvalidClient)
    ) {
        state.auth.limiter.failed(account, ip);
    } else {
        state.auth.limiter.settled(account);
    }
    Ok(outcome?)
}

async fn password_grant(
    state: &AppState,
    body: TokenRequest,
    ip: Option<std::net::IpAddr>,
) -> Result<IssuedTokens, ApiError> {
    let username = required(body.username, "username")?;
    let password = required(body.password, "password")?;
    if username.len() > 254 {
        return Err(AuthError::InvalidGrant("the email or password is incorrect").into());
    }
    let organization = match body.organization.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<OrgId>().map_err(|_| {
            ApiError::bad_request(
                ErrorCode::InvalidRequest,
                "`organization` is an organization id (a UUID)",
            )
        })?),
    };
    let email = Email::parse(&username).ok();
    let account = email.as_ref().map_or_else(
        || username.trim().to_lowercase(),
        |e| e.as_str().to_string(),
    );
    let sign_in = service::sign_in(&state.db, &state.auth.tokens, email, organization, password);
    guarded(state, &account, ip, sign_in).await
}

async fn refresh_grant(state: &AppState, body: TokenRequest) -> Result<IssuedTokens, ApiError> {
    let presented = required(body.refresh_token, "refresh_token")?;
    Ok(service::rotate_refresh(&state.db, &state.auth.tokens, &presented).await?)
}

/// Client id and secret from HTTP Basic auth (RFC 6749 2.3.1) or from the body.
fn client_credentials(req: &HttpRequest, body: &TokenRequest) -> Option<(String, String)> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_string(), secret.to_string()))
        });
    basic.or_else(|| Some((body.client_id.clone()?, body.client_secret.clone()?)))
}

async fn client_grant(
    state: &AppState,
    req: &HttpRequest,
    body: TokenRequest,
    ip: Option<std::net::IpAddr>,
) -> Result<IssuedTokens, ApiError> {
    let (id, secret) = client_credentials(req, &body).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidRequest,
            "`client_id` and `client_secret` are required for this grant",
        )
    })?;
    let id: ClientId = id.trim().parse().map_err(|_| AuthError::InvalidClient)?;
    let token = service::client_token(
        &state.db,
        &state.auth.tokens,
        id,
        secret,
        body.scope.as_deref(),
    );
    guarded(state, &format!("client:{id}"), ip, token).await
}

/// Revoke a refresh token (sign out): the whole sign-in session it belongs to ends.
///
/// Like RFC 7009, an unknown token is not an error, so the answer reveals nothing.
#[utoipa::path(
    tag = "auth",
    request_body(
        content((RevokeRequest = "application/x-www-form-urlencoded")),
        description = "The form of RFC 7009. The same field as a JSON object is accepted too.",
    ),
    responses(
        (status = 204, description = "The token (if it existed) and its session are revoked"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither a form nor JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A token longer than any this API issues", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/revoke")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    body: FormOrJson<RevokeRequest>,
) -> Result<HttpResponse, ApiError> {
    if body.0.token.len() > 200 {
        return Err(ApiError::validation(vec![
            crate::validation::Violation::new(
                "/token",
                "too_long",
                "a token has at most 200 characters",
            ),
        ]));
    }
    service::revoke(&state.db, &body.0.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who am I.
///
/// The calling user or integration client, its organization, role (users) and scopes: what an
/// app shows after signing in.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
    )
)]
#[get("/me")]
pub async fn get_me(
    auth: AuthUser,
    state: web::Data<AppState>,
) -> Result<web::Json<MeResponse>, ApiError> {
    let me = service::whoami(&state.db, &auth).await?;
    Ok(web::Json(MeResponse {
        kind: match auth.principal {
            Principal::User { .. } => PrincipalKind::User,
            Principal::Client { .. } => PrincipalKind::Client,
        },
        id: me.id,
        organization: OrganizationSummary {
            id: me.organization.id,
            name: me.organization.name,
        },
        role: auth.role(),
        email: me.email.map(|e| e.as_str().to_string()),
        name: me.name,
        scopes: auth.scopes,
        preferred_language: me.preferred_language,
    }))
}

/// Change my settings.
///
/// The calling user's own settings: the language they read questionnaires in
/// (`preferred_language`, over their browser's or app's `Accept-Language`; `null` clears
/// it). Users only: an integration client has no settings (403). Recorded in the audit log.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The caller", body = UserResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An integration client", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a language tag, or an unknown field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/me")]
pub async fn update_me(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: crate::extract::ApiJson<UpdateMeRequest>,
) -> Result<web::Json<UserResponse>, ApiError> {
    let Some(user) = auth.user_id() else {
        return Err(ApiError::forbidden("an integration client has no settings"));
    };
    let mut violations = crate::validation::Violations::default();
    let preferred_language =
        super::users::preferred_language(&mut violations, body.into_inner().preferred_language);
    violations.finish()?;
    let change = service::UserChange {
        preferred_language,
        ..service::UserChange::default()
    };
    let changed = service::change_user(&state.db, auth.org_id, auth.actor(), user, change).await?;
    Ok(web::Json(changed.into()))
}
