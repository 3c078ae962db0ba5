//! Access tokens (HS256 JWT) and opaque secrets (refresh tokens, client secrets).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{AuthConfig, Secret};

/// Leeway for clock skew when checking `exp`.
pub const LEEWAY_SECS: u64 = 30;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user's or the client's id.
    pub sub: String,
    /// The organization the principal belongs to.
    pub org: String,
    /// `user` or `client`.
    pub kind: String,
    /// The user's role when the token was issued (the current role is read on each request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Space-separated scopes.
    pub scope: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    /// When the token was issued, in microseconds since the epoch (`iat` counts whole
    /// seconds, too coarse to tell a token from a password change in the same second).
    /// Absent from tokens issued before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_us: Option<i64>,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Key {
    fn new(secret: &[u8]) -> Self {
        // The key id names the secret without revealing it, so a token says which of the
        // current and previous secrets signed it.
        let kid = hex(&Sha256::digest(secret))[..16].to_string();
        Key {
            kid,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

/// Why a presented token was refused. The client only learns "invalid token".
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token names no known key")]
    UnknownKey,
    #[error("the token is invalid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

pub struct TokenService {
    current: Key,
    previous: Option<Key>,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl TokenService {
    /// `secret` signs new tokens; the configured previous secret only verifies.
    pub fn new(config: &AuthConfig, secret: &Secret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = false;
        TokenService {
            current: Key::new(secret.expose().as_bytes()),
            previous: config
                .jwt_previous_secret
                .as_ref()
                .map(|s| Key::new(s.expose().as_bytes())),
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl: config.access_ttl,
            refresh_ttl: config.refresh_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    /// Signs an access token for `sub` and returns it with its lifetime in seconds.
    pub fn issue(
        &self,
        sub: String,
        org: String,
        kind: &str,
        role: Option<String>,
        scope: String,
    ) -> anyhow::Result<(String, u64)> {
        let issued = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let now = issued.as_secs();
        let ttl = self.access_ttl.as_secs();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub,
            org,
            kind: kind.to_string(),
            role,
            scope,
            iat: now,
            iat_us: Some(i64::try_from(issued.as_micros()).unwrap_or(i64::MAX)),
            exp: now + ttl,
            jti: {
                let mut bytes = [0u8; 16];
                getrandom::fill(&mut bytes)
                    .map_err(|e| anyhow::anyhow!("random source failed: {e}"))?;
                uuid::Builder::from_random_bytes(bytes)
                    .into_uuid()
                    .to_string()
            },
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.current.encoding)?;
        Ok((token, ttl))
    }

    /// Verifies signature, algorithm, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token)?;
        let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        let key = std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|key| key.kid == kid)
            .ok_or(TokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation)?;
        Ok(data.claims)
    }
}

/// `prefix` followed by 256 random bits, URL-safe base64. Fails only when the operating
/// system's random source does, which callers answer as an internal error.
pub fn random_token(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of an opaque secret: its SHA-256, hex. The secrets are 256-bit random,
/// so a fast hash is enough (nothing to brute-force).
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrustedProxies;

    fn config(previous: Option<&str>) -> AuthConfig {
        AuthConfig {
            jwt_secret: None,
            jwt_previous_secret: previous.map(|s| Secret::new(s.into())),
            issuer: "secondmile".into(),
            audience: "secondmile-api".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(86_400),
            rate_per_ip: 10,
            rate_per_account: 10,
            trusted_proxies: TrustedProxies::default(),
        }
    }

    const OLD: &str = "old-secret-old-secret-old-secret-old";
    const NEW: &str = "new-secret-new-secret-new-secret-new";

    #[test]
    fn issued_tokens_verify_and_carry_their_claims() {
        let service = TokenService::new(&config(None), &Secret::new(NEW.into()));
        let (token, ttl) = service
            .issue(
                "u1".into(),
                "o1".into(),
                "user",
                Some("admin".into()),
                "reports:read".into(),
            )
            .unwrap();
        assert_eq!(ttl, 900);
        let claims = service.verify(&token).unwrap();
        assert_eq!(claims.sub, "u1");
        assert_eq!(claims.org, "o1");
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn tokens_of_the_previous_secret_verify_during_rotation() {
        let before = TokenService::new(&config(None), &Secret::new(OLD.into()));
        let (old_token, _) = before
            .issue("u1".into(), "o1".into(), "user", None, String::new())
            .unwrap();
        let rotated = TokenService::new(&config(Some(OLD)), &Secret::new(NEW.into()));
        assert!(rotated.verify(&old_token).is_ok());
        let after = TokenService::new(&config(None), &Secret::new(NEW.into()));
        assert!(matches!(
            after.verify(&old_token),
            Err(TokenError::UnknownKey)
        ));
    }

    #[test]
    fn opaque_secrets_are_random_and_hashed() {
        let a = random_token("smr_").unwrap();
        let b = random_token("smr_").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 43);
        assert_eq!(hash_secret(&a).len(), 64);
        assert!(constant_time_eq(&hash_secret(&a), &hash_secret(&a)));
        assert!(!constant_time_eq(&hash_secret(&a), &hash_secret(&b)));
    }
}
