//! Cursor pagination, the one style of every list: `?limit=&cursor=` in,
//! `{ "items": [...], "next_cursor": ..., "has_more": ... }` out.
//! The cursor is the page's last key (an id, or a time and an id) sealed with
//! ChaCha20-Poly1305 under a key derived from the token signing secret: opaque to every
//! caller (a manager learns no time finer than the view shows) and unforgeable (nobody can
//! probe positions of their choosing). Instances sharing the secret read each other's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::validation::Violation;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;
const CURSOR_PREFIX: &str = "v1:";
const NONCE: usize = 12;

/// The key cursors are sealed with: set once at start from the signing secret; a process
/// that never sets it (a unit test, a command) uses a random one.
static KEY: std::sync::OnceLock<chacha20poly1305::Key> = std::sync::OnceLock::new();

/// Derives the cursor key from the token signing secret (the first server of a process
/// sets it; cursors then stay valid for as long as the secret does).
pub fn set_cursor_key(secret: &[u8]) {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret) else {
        return;
    };
    mac.update(b"secondmile pagination cursors v2");
    let derived = mac.finalize().into_bytes();
    let _ = KEY.set(derived);
}

fn key() -> &'static chacha20poly1305::Key {
    KEY.get_or_init(|| {
        let mut random = [0u8; 32];
        // Without the system's randomness the key stays zero: cursors still round-trip.
        let _ = getrandom::fill(&mut random);
        chacha20poly1305::Key::from(random)
    })
}

/// The query of a list that has nothing but its page: `limit` and `cursor`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// One page of a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// Whether another page follows (`next_cursor` is not `null`).
    pub has_more: bool,
    /// Pages of figures only (the leaderboard, the recognition feed): the organization's
    /// event cursor when they were read (see `GET /api/v1/locations/{id}/figure-changes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
}

impl<T> Page<T> {
    /// The only page of a list that fits in one.
    pub fn last(items: Vec<T>) -> Self {
        Page {
            items,
            next_cursor: None,
            has_more: false,
            as_of: None,
        }
    }
}

/// Whether `cursor` could be a key of a list paged in memory (`PageRequest::after_key`):
/// sealed, so only what this server issued, and short.
pub fn is_memory_key(cursor: &str) -> bool {
    !cursor.is_empty() && cursor.len() <= 200
}

/// A checked page request: how many rows, and the id to continue after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<String>,
}

impl PageRequest {
    /// A page request whose cursor is an id (UUID).
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, ApiError> {
        Self::parse_with(limit, cursor, |key| uuid::Uuid::parse_str(key).is_ok())
    }

    /// A page request whose cursor key `is_key` accepts (e.g. `timestamp:id`).
    pub fn parse_with(
        limit: Option<u32>,
        cursor: Option<&str>,
        is_key: impl Fn(&str) -> bool,
    ) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(Violation::new(
                "/query/limit",
                "out_of_range",
                format!("limit must be from 1 to {MAX_LIMIT}"),
            ));
        }
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match decode(c).filter(|key| is_key(key)) {
                Some(id) => Some(id),
                None => {
                    errors.push(Violation::new(
                        "/query/cursor",
                        "invalid_cursor",
                        "cursor is not one this API returned",
                    ));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(PageRequest { limit, after })
        } else {
            let mut e =
                ApiError::bad_request(ErrorCode::InvalidQuery, "a query parameter is invalid");
            e = e.with_violations(errors);
            Err(e)
        }
    }

    /// The cursor's id as the list's id type (`parse` already checked it is a UUID).
    pub fn after_id<T: std::str::FromStr>(&self) -> Option<T> {
        self.after.as_deref().and_then(|a| a.parse().ok())
    }

    /// Whether a row whose ordering key is `key` comes after the cursor, for a list ordered in
    /// memory by a key whose byte order is the list's order (unique per row).
    pub fn after_key(&self, key: &str) -> bool {
        self.after.as_deref().is_none_or(|after| key > after)
    }

    /// One page of a list held in memory: sorted by `key`, cut after the cursor.
    pub fn page_in_memory<R, T>(
        &self,
        mut rows: Vec<R>,
        key: impl Fn(&R) -> String,
        map: impl Fn(R) -> T,
    ) -> Page<T> {
        rows.sort_by_cached_key(|r| key(r));
        let rows: Vec<R> = rows
            .into_iter()
            .filter(|r| self.after_key(&key(r)))
            .take(self.limit as usize + 1)
            .collect();
        self.page(rows, key, map)
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts the extra row and builds the page.
    pub fn page<R, T>(
        &self,
        mut rows: Vec<R>,
        id_of: impl Fn(&R) -> String,
        map: impl Fn(R) -> T,
    ) -> Page<T> {
        let more = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode(&id_of(r)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            has_more: next_cursor.is_some(),
            next_cursor,
            as_of: None,
        }
    }
}

/// Seals a key: a random nonce, then the sealed text, base64url.
pub fn encode(id: &str) -> String {
    use chacha20poly1305::aead::{Aead, KeyInit};
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(key());
    let mut nonce = [0u8; NONCE];
    let _ = getrandom::fill(&mut nonce);
    let plain = format!("{CURSOR_PREFIX}{id}");
    let sealed = cipher
        .encrypt(&chacha20poly1305::Nonce::from(nonce), plain.as_bytes())
        .unwrap_or_default();
    let mut out = nonce.to_vec();
    out.extend(sealed);
    URL_SAFE_NO_PAD.encode(out)
}

/// The key a cursor sealed, or `None` for anything this server did not seal.
pub fn decode(cursor: &str) -> Option<String> {
    use chacha20poly1305::aead::{Aead, KeyInit};
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    if bytes.len() <= NONCE {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(NONCE);
    let nonce: [u8; NONCE] = nonce.try_into().ok()?;
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(key());
    let plain = cipher
        .decrypt(&chacha20poly1305::Nonce::from(nonce), sealed)
        .ok()?;
    let text = String::from_utf8(plain).ok()?;
    text.strip_prefix(CURSOR_PREFIX).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let id = uuid::Uuid::now_v7().to_string();
        assert_eq!(decode(&encode(&id)), Some(id.clone()));
        assert_eq!(decode("bm90LWEtY3Vyc29y"), None);
        // An unsealed cursor of the earlier form is refused, and a sealed one reveals nothing.
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode(format!("v1:{id}"))), None);
        let sealed = encode(&id);
        let raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains(&id[..8]));
        // One flipped bit and it is refused.
        let mut forged = raw.clone();
        forged[NONCE + 1] ^= 1;
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode(forged)), None);
        assert!(PageRequest::parse(None, Some(&encode("not-a-uuid"))).is_err());
        assert_eq!(decode("!!"), None);
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        let err = PageRequest::parse(Some(500), Some("garbage"))
            .unwrap_err()
            .problem();
        assert_eq!(err.status, 400);
        assert_eq!(err.errors.len(), 2);
        assert!(PageRequest::parse(Some(0), None).is_err());
    }

    #[test]
    fn pages_know_whether_more_follow() {
        let request = PageRequest {
            limit: 2,
            after: None,
        };
        let page = request.page(
            vec![1, 2, 3],
            |n| format!("00000000-0000-0000-0000-00000000000{n}"),
            |n| n * 10,
        );
        assert_eq!(page.items, vec![10, 20]);
        assert!(page.next_cursor.is_some());
        let page = request.page(vec![1, 2], |n| n.to_string(), |n| n);
        assert!(page.next_cursor.is_none());
    }
}
