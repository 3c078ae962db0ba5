//! `POST /api/v1/auth/token`, `POST /api/v1/auth/revoke` and `GET /api/v1/me`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::TimeDelta;

use super::dto::{MeResponse, OrganizationSummary, RevokeRequest, TokenRequest, TokenResponse};
use super::extractor::{AuthUser, Principal};
use super::model::{ClientId, Email, OrgId, Scope, User};
use super::rate_limit::client_ip;
use super::{passwords, tokens};
use crate::db::identity::{self, NewRefreshToken};
use crate::db::{self, write_transaction};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::FormOrJson;
use crate::state::AppState;

fn invalid_grant(detail: &str) -> ApiError {
    ApiError::unauthorized(ErrorCode::InvalidGrant, detail, false)
}

fn invalid_client() -> ApiError {
    ApiError::unauthorized(
        ErrorCode::InvalidClient,
        "the client id or secret is incorrect, or the client is revoked",
        false,
    )
}

/// Get tokens: sign in with email and password, rotate a refresh token, or authenticate an
/// integration client.
///
/// Send the OAuth2 form (`application/x-www-form-urlencoded`) or the same fields as JSON.
/// Client credentials may also come as HTTP Basic auth. Each client IP and each account
/// may try a limited number of times a minute (429 with `Retry-After` beyond that). A
/// refresh token works once: using it returns a new pair, and presenting an already-used
/// refresh token ends that whole sign-in session.
#[utoipa::path(
    tag = "auth",
    request_body(
        content(
            (TokenRequest = "application/x-www-form-urlencoded"),
            (TokenRequest = "application/json"),
        ),
    ),
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse,
            headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "Malformed request or unsupported grant (`invalid_request`, `unsupported_grant_type`, `invalid_scope`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong credentials, unknown/used/revoked/expired refresh token (`invalid_grant`), or bad client (`invalid_client`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither a form nor JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "seconds to wait"))),
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
    if let Some(ip) = ip {
        state
            .auth
            .limiter
            .check_ip(ip)
            .map_err(ApiError::too_many_requests)?;
    }
    let response = match body.grant_type.as_str() {
        "password" => password_grant(&state, body).await?,
        "refresh_token" => refresh_grant(&state, body).await?,
        "client_credentials" => client_grant(&state, &req, body).await?,
        other => {
            return Err(ApiError::bad_request(
                ErrorCode::UnsupportedGrantType,
                format!(
                    "grant_type `{other}` is not supported; use password, refresh_token or client_credentials"
                ),
            ));
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(response))
}

fn required(value: Option<String>, name: &str) -> Result<String, ApiError> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidRequest,
            format!("`{name}` is required for this grant"),
        )
    })
}

async fn password_grant(
    state: &web::Data<AppState>,
    body: TokenRequest,
) -> Result<TokenResponse, ApiError> {
    let username = required(body.username, "username")?;
    let password = required(body.password, "password")?;
    // An over-long password is refused before any hashing work.
    if password.len() > super::model::PASSWORD_MAX_BYTES || username.len() > 254 {
        return Err(invalid_grant("the email or password is incorrect"));
    }
    let email = Email::parse(&username).ok();
    let account = email.as_ref().map_or_else(
        || username.trim().to_lowercase(),
        |e| e.as_str().to_string(),
    );
    state
        .auth
        .limiter
        .check_account(&account)
        .map_err(ApiError::too_many_requests)?;

    let found = match email {
        Some(email) => {
            state
                .db
                .run(move |conn| {
                    Ok::<_, ApiError>(identity::find_user_for_login(conn, email.as_str())?)
                })
                .await?
        }
        None => None,
    };
    // Unknown emails cost the same work as known ones, and every failure reads the same.
    let user = web::block(move || match found {
        Some((user, hash)) if passwords::verify(&password, &hash) && user.active => Some(user),
        Some(_) => None,
        None => {
            passwords::verify_dummy(&password);
            None
        }
    })
    .await
    .map_err(ApiError::internal)?
    .ok_or_else(|| invalid_grant("the email or password is incorrect"))?;

    let family = uuid::Uuid::now_v7().to_string();
    issue_user_tokens(state, user, family).await
}

/// Signs an access token for `user` and stores a new refresh token in `family`.
async fn issue_user_tokens(
    state: &web::Data<AppState>,
    user: User,
    family: String,
) -> Result<TokenResponse, ApiError> {
    let refresh = store_refresh_token(state, &user, family).await?;
    user_token_response(state, &user, refresh)
}

fn user_token_response(
    state: &AppState,
    user: &User,
    refresh: String,
) -> Result<TokenResponse, ApiError> {
    let scope = Scope::join(&user.role.scopes());
    let (access_token, expires_in) = state
        .auth
        .tokens
        .issue(
            user.id.to_string(),
            user.org_id.to_string(),
            "user",
            Some(user.role.as_str().to_string()),
            scope.clone(),
        )
        .map_err(ApiError::internal)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in,
        refresh_token: Some(refresh),
        scope,
    })
}

async fn store_refresh_token(
    state: &web::Data<AppState>,
    user: &User,
    family: String,
) -> Result<String, ApiError> {
    let token = tokens::random_token("smr_");
    let hash = tokens::hash_secret(&token);
    let now = db::now();
    let expires_at =
        now + TimeDelta::from_std(state.auth.tokens.refresh_ttl()).map_err(ApiError::internal)?;
    let (user_id, org_id) = (user.id, user.org_id);
    state
        .db
        .run(move |conn| {
            identity::insert_refresh_token(
                conn,
                &NewRefreshToken {
                    id: &uuid::Uuid::now_v7().to_string(),
                    token_hash: &hash,
                    family_id: &family,
                    user_id,
                    org_id,
                    created_at: now,
                    expires_at,
                },
            )?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(token)
}

enum Rotation {
    Rotated(User, String),
    Refused(&'static str),
}

async fn refresh_grant(
    state: &web::Data<AppState>,
    body: TokenRequest,
) -> Result<TokenResponse, ApiError> {
    let presented = required(body.refresh_token, "refresh_token")?;
    let hash = tokens::hash_secret(&presented);
    let new_token = tokens::random_token("smr_");
    let new_hash = tokens::hash_secret(&new_token);
    let ttl = TimeDelta::from_std(state.auth.tokens.refresh_ttl()).map_err(ApiError::internal)?;
    let outcome = state
        .db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                let now = db::now();
                let Some(stored) = identity::find_refresh_token(conn, &hash)? else {
                    return Ok::<_, ApiError>(Rotation::Refused("the refresh token is not valid"));
                };
                if stored.revoked {
                    return Ok(Rotation::Refused("the refresh token was revoked"));
                }
                if stored.used || !identity::consume_refresh_token(conn, &stored.id, now)? {
                    // A used token presented again means it was copied: end the session
                    // for everyone holding a token of this family.
                    let revoked = identity::revoke_refresh_family(conn, &stored.family_id, now)?;
                    tracing::warn!(family = %stored.family_id, revoked, "refresh token reused; session revoked");
                    return Ok(Rotation::Refused("the refresh token was already used; the session has been ended"));
                }
                if stored.expires_at <= now {
                    return Ok(Rotation::Refused("the refresh token has expired"));
                }
                let Some(user) = identity::find_user(conn, stored.org_id, stored.user_id)?.filter(|u| u.active) else {
                    identity::revoke_refresh_family(conn, &stored.family_id, now)?;
                    return Ok(Rotation::Refused("the account is deactivated"));
                };
                identity::insert_refresh_token(
                    conn,
                    &NewRefreshToken {
                        id: &uuid::Uuid::now_v7().to_string(),
                        token_hash: &new_hash,
                        family_id: &stored.family_id,
                        user_id: user.id,
                        org_id: user.org_id,
                        created_at: now,
                        expires_at: now + ttl,
                    },
                )?;
                Ok(Rotation::Rotated(user, new_token))
            })
        })
        .await?;
    match outcome {
        Rotation::Rotated(user, token) => user_token_response(state, &user, token),
        Rotation::Refused(reason) => Err(invalid_grant(reason)),
    }
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
    state: &web::Data<AppState>,
    req: &HttpRequest,
    body: TokenRequest,
) -> Result<TokenResponse, ApiError> {
    let (id, secret) = client_credentials(req, &body).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidRequest,
            "`client_id` and `client_secret` are required for this grant",
        )
    })?;
    let id: ClientId = id.trim().parse().map_err(|_| invalid_client())?;
    state
        .auth
        .limiter
        .check_account(&format!("client:{id}"))
        .map_err(ApiError::too_many_requests)?;
    let found = state
        .db
        .run(move |conn| Ok::<_, ApiError>(identity::find_client_for_auth(conn, id)?))
        .await?;
    let client = match found {
        Some((client, hash))
            if client.active && tokens::constant_time_eq(&tokens::hash_secret(&secret), &hash) =>
        {
            client
        }
        _ => return Err(invalid_client()),
    };
    let scopes = match body.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        None => client.scopes.clone(),
        Some(requested) => {
            let requested = Scope::parse_list(requested)
                .map_err(|e| ApiError::bad_request(ErrorCode::InvalidScope, e))?;
            if let Some(extra) = requested.iter().find(|s| !client.scopes.contains(s)) {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidScope,
                    format!("this client was not granted `{}`", extra.as_str()),
                ));
            }
            requested
        }
    };
    let scope = Scope::join(&scopes);
    let (access_token, expires_in) = state
        .auth
        .tokens
        .issue(
            client.id.to_string(),
            client.org_id.to_string(),
            "client",
            None,
            scope.clone(),
        )
        .map_err(ApiError::internal)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in,
        refresh_token: None,
        scope,
    })
}

/// Revoke a refresh token (sign out): the whole sign-in session it belongs to ends.
///
/// Like RFC 7009, an unknown token is not an error, so the answer reveals nothing.
#[utoipa::path(
    tag = "auth",
    request_body(
        content(
            (RevokeRequest = "application/x-www-form-urlencoded"),
            (RevokeRequest = "application/json"),
        ),
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
    let hash = tokens::hash_secret(&body.0.token);
    state
        .db
        .run(move |conn| {
            if let Some(stored) = identity::find_refresh_token(conn, &hash)? {
                identity::revoke_refresh_family(conn, &stored.family_id, db::now())?;
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who am I: the calling user or client, its organization, role and scopes.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
    )
)]
#[get("/me")]
pub async fn get_me(
    auth: AuthUser,
    state: web::Data<AppState>,
) -> Result<web::Json<MeResponse>, ApiError> {
    let org_id: OrgId = auth.org_id;
    let principal = auth.principal;
    let (org, name, email, id) = state
        .db
        .run(move |conn| {
            let org = identity::find_organization(conn, org_id)?.ok_or_else(ApiError::not_found)?;
            let (name, email, id) = match principal {
                Principal::User { id, .. } => {
                    let user =
                        identity::find_user(conn, org_id, id)?.ok_or_else(ApiError::not_found)?;
                    (user.display_name, Some(user.email), id.0)
                }
                Principal::Client { id } => {
                    let client =
                        identity::find_client(conn, org_id, id)?.ok_or_else(ApiError::not_found)?;
                    (client.name, None, id.0)
                }
            };
            Ok::<_, ApiError>((org, name, email, id))
        })
        .await?;
    Ok(web::Json(MeResponse {
        kind: match auth.principal {
            Principal::User { .. } => "user".into(),
            Principal::Client { .. } => "client".into(),
        },
        id,
        organization: OrganizationSummary {
            id: org.id,
            name: org.name,
        },
        role: auth.role(),
        email,
        name,
        scopes: auth.scopes,
    }))
}
