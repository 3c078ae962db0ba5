//! `AuthUser`: the authenticated caller, as an extractor, so that a handler's signature
//! says it needs a token.

use crate::audit::model::Actor;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::model::{ClientId, OrgId, Role, Scope, UserId};
use super::service;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    User { id: UserId, role: Role },
    Client { id: ClientId },
}

/// The caller of an authenticated request. Role, scopes and the active flag are read from
/// the database on each request, so a deactivated account or a changed role takes effect
/// at once.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub org_id: OrgId,
    pub principal: Principal,
    pub scopes: Vec<Scope>,
}

impl AuthUser {
    /// The caller as the audit log names it.
    pub fn actor(&self) -> Actor {
        match self.principal {
            Principal::User { id, .. } => Actor::User(id),
            Principal::Client { id } => Actor::Client(id),
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self.principal {
            Principal::User { role, .. } => Some(role),
            Principal::Client { .. } => None,
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self.principal {
            Principal::User { id, .. } => Some(id),
            Principal::Client { .. } => None,
        }
    }

    /// 403 unless the caller is a user with one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), ApiError> {
        match self.role() {
            Some(role) if roles.contains(&role) => Ok(()),
            _ => Err(ApiError::forbidden(format!(
                "this needs the role {}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }

    /// 403 unless the caller is a user with one of `roles` or a client with `scope`.
    pub fn require_role_or_scope(&self, roles: &[Role], scope: Scope) -> Result<(), ApiError> {
        match self.principal {
            Principal::Client { .. } if self.scopes.contains(&scope) => Ok(()),
            Principal::Client { .. } => Err(ApiError::forbidden(format!(
                "this needs the scope {}",
                scope.as_str()
            ))),
            Principal::User { .. } => self.require_role(roles),
        }
    }
}

fn invalid_token() -> ApiError {
    ApiError::unauthorized(
        ErrorCode::InvalidToken,
        "the access token is invalid, expired or revoked",
        true,
    )
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = req.headers().get(header::AUTHORIZATION).map(|v| {
            v.to_str().ok().and_then(|s| {
                let (scheme, token) = s.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_string())
            })
        });
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no application state")))?;
            let token = match bearer {
                None => {
                    return Err(ApiError::unauthorized(
                        ErrorCode::MissingToken,
                        "this needs an access token: `Authorization: Bearer <token>`",
                        false,
                    ));
                }
                Some(None) => return Err(invalid_token()),
                Some(Some(token)) => token,
            };
            let claims = state.auth.tokens.verify(&token).map_err(|e| {
                tracing::debug!(reason = %e, "access token refused");
                invalid_token()
            })?;
            let org_id: OrgId = claims.org.parse().map_err(|_| invalid_token())?;
            match claims.kind.as_str() {
                "user" => {
                    let id: UserId = claims.sub.parse().map_err(|_| invalid_token())?;
                    let user = service::active_user(&state.db, org_id, id)
                        .await?
                        .ok_or_else(invalid_token)?;
                    // A password change, role change or deactivation ends earlier tokens.
                    // Compared to the microsecond; a token of the older form (whole
                    // seconds only) issued in the change's second is ended too.
                    if let Some(after) = user.sessions_valid_after {
                        let ended = match claims.iat_us {
                            Some(issued) => issued < after.timestamp_micros(),
                            None => {
                                i64::try_from(claims.iat).unwrap_or(i64::MAX) <= after.timestamp()
                            }
                        };
                        if ended {
                            return Err(invalid_token());
                        }
                    }
                    Ok(AuthUser {
                        org_id,
                        principal: Principal::User {
                            id,
                            role: user.role,
                        },
                        scopes: user.role.scopes(),
                    })
                }
                "client" => {
                    let id: ClientId = claims.sub.parse().map_err(|_| invalid_token())?;
                    let client = service::active_client(&state.db, org_id, id)
                        .await?
                        .ok_or_else(invalid_token)?;
                    // A client keeps only the scopes it still has and the token granted.
                    let granted = Scope::parse_list(&claims.scope).unwrap_or_default();
                    let scopes = client
                        .scopes
                        .into_iter()
                        .filter(|s| granted.contains(s))
                        .collect();
                    Ok(AuthUser {
                        org_id,
                        principal: Principal::Client { id },
                        scopes,
                    })
                }
                _ => Err(invalid_token()),
            }
        })
    }
}
