//! Request and response bodies of the identity endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::model::{ClientId, IntegrationClient, OrgId, Role, Scope, User, UserId};

/// An OAuth2 token request (RFC 6749), as a form or as JSON.
/// The OAuth2 grants the token endpoint takes (another answers 400 `unsupported_grant_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// A user signs in with email and password.
    Password,
    /// A user rotates a refresh token.
    RefreshToken,
    /// An integration client authenticates with its id and secret.
    ClientCredentials,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grant_type": "password", "username": "ana@example.com", "password": "correct horse battery staple"}))]
pub struct TokenRequest {
    /// `password`, `refresh_token` or `client_credentials`.
    #[schema(value_type = GrantType, example = "password")]
    pub grant_type: String,
    /// The user's email (`password` grant); `email` is accepted as an alias.
    #[serde(default, alias = "email")]
    #[schema(max_length = 254)]
    pub username: Option<String>,
    /// The user's password (`password` grant).
    #[serde(default)]
    #[schema(max_length = 1024)]
    pub password: Option<String>,
    /// The organization to sign in to (`password` grant), by id. Needed only when the email
    /// and password open accounts in several organizations (400 `organization_required`
    /// lists them); accounts are per organization.
    #[serde(default)]
    #[schema(format = Uuid, max_length = 36)]
    pub organization: Option<String>,
    /// The refresh token to rotate (`refresh_token` grant).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub refresh_token: Option<String>,
    /// The integration client's id (`client_credentials`; or HTTP Basic auth).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The integration client's secret (`client_credentials`; or HTTP Basic auth).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub client_secret: Option<String>,
    /// Space-separated scopes to request (`client_credentials`); default: all the client's.
    #[serde(default)]
    pub scope: Option<String>,
}

/// Tokens issued by `POST /api/v1/auth/token`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// The access token (a JWT), sent as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Opaque refresh token (users only); each use returns a new one and retires the old.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Space-separated scopes of the access token.
    pub scope: String,
}

/// A token to revoke (RFC 7009).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "smr_3q2-7wEvYF0m8l6o4gG5xYb9pT1cJ2kR8sVdU0nHaZc"}))]
pub struct RevokeRequest {
    /// The refresh token to revoke; its whole sign-in session ends.
    #[schema(max_length = 200)]
    pub token: String,
    /// Accepted for RFC 7009 compatibility; only refresh tokens can be revoked.
    #[serde(default)]
    pub token_type_hint: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationSummary {
    pub id: OrgId,
    pub name: String,
}

/// Whether the caller is a person or an integration client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Client,
}

/// The caller.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    pub kind: PrincipalKind,
    /// The user's or the client's id.
    pub id: uuid::Uuid,
    pub organization: OrganizationSummary,
    /// Users only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Users only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's display name or the client's name.
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Users only: the language they read questionnaires in, when they set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
}

/// A user (never with a password or its hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// The language the user reads questionnaires in (BCP 47); it wins over the
    /// `Accept-Language` of their browser or app. `null`: none set.
    #[schema(required = true, example = "de")]
    pub preferred_language: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        UserResponse {
            id: u.id,
            email: u.email.as_str().to_string(),
            display_name: u.display_name,
            role: u.role,
            active: u.active,
            preferred_language: u.preferred_language,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "rui@example.com", "display_name": "Rui Costa", "role": "reviewer", "password": "a long passphrase here"}))]
pub struct CreateUserRequest {
    /// Unique within the organization (other organizations may have the same email); stored
    /// in Unicode NFC and lower case.
    #[validate(length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: String,
    pub role: Role,
    /// 12 to 1,024 bytes.
    #[schema(min_length = 12, max_length = 1024, format = Password)]
    pub password: String,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Ana Lima", "role": "reviewer"}))]
pub struct UpdateUserRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// `false` deactivates the user and ends their sessions.
    pub active: Option<bool>,
    /// A new password (12 to 1,024 bytes); ends the user's sessions.
    #[schema(min_length = 12, max_length = 1024, format = Password)]
    pub password: Option<String>,
    /// The language the user reads questionnaires in, a BCP 47 tag; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 35, value_type = Option<String>)]
    pub preferred_language: Option<Option<String>>,
}

/// A field that may be sent as `null` to clear it: absent is `None`, `null` is `Some(None)`.
pub fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The caller's own settings; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"preferred_language": "de"}))]
pub struct UpdateMeRequest {
    /// The language to read questionnaires in, a BCP 47 tag; `null` clears it (then
    /// `Accept-Language` decides).
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 35, value_type = Option<String>)]
    pub preferred_language: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// An integration client (never with its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientResponse {
    /// Also the OAuth2 `client_id`.
    pub id: ClientId,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<IntegrationClient> for ClientResponse {
    fn from(c: IntegrationClient) -> Self {
        ClientResponse {
            id: c.id,
            name: c.name,
            scopes: c.scopes,
            active: c.active,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A new client with its secret, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedClientResponse {
    #[serde(flatten)]
    pub client: ClientResponse,
    /// Same as `id`, for OAuth2 tooling.
    pub client_id: ClientId,
    /// The secret for the client-credentials grant. It is stored hashed and cannot be shown again.
    pub client_secret: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "BI export", "scopes": ["aggregates:read", "reports:read"]}))]
pub struct CreateClientRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(min = 1, max = 10))]
    #[schema(min_items = 1, max_items = 10)]
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListClientsQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}
