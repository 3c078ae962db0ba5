//! Dating an aggregate answer: `as_of` is the organization's event cursor at the moment the
//! figures were read, so that `GET /api/v1/locations/{id}/figure-changes?since=<as_of>`
//! lists exactly what moved them afterwards; the `ETag` is a hash of the figures themselves,
//! so `If-None-Match` answers 304 while nothing that enters them has changed.
//!
//! A read is dated by looking at the cursor before and after it. Events are numbered just
//! after their transactions commit, so the looks first number any waiting event that may
//! move figures; when such an event was numbered between the two looks, the read may or may
//! not have seen its change, and it is read again.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{Db, DbError, events as event_store, figure_moves as store};
use crate::error::ApiError;
use crate::events::sequencer;
use crate::ids::OrgId;

/// Reads of figures that moved while they were read, before the last one is answered as
/// it is.
const ATTEMPTS: usize = 5;

/// The organization's cursor once no event that may move figures waits for its number, and
/// (given `since`) whether such an event was numbered after `since`: one read unless an
/// event waits.
async fn settled(db: &Db, org: OrgId, since: Option<i64>) -> Result<(i64, bool), DbError> {
    let mut looked = (0, false);
    for _ in 0..ATTEMPTS {
        let (waiting, cursor, moved) = db
            .run(move |conn| {
                let waiting = store::figure_event_pending(conn, org)?;
                let cursor = event_store::bounds(conn, org)?.1;
                let moved = match since {
                    Some(since) => store::figure_event_between(conn, org, since, cursor)?,
                    None => false,
                };
                Ok::<_, DbError>((waiting, cursor, moved))
            })
            .await?;
        looked = (cursor, moved);
        if !waiting {
            break;
        }
        sequencer::catch_up(db).await?;
    }
    Ok(looked)
}

/// Runs `read` and answers it with the cursor it is as of (see the module's comment).
pub async fn dated<T>(
    db: &Db,
    org: OrgId,
    mut read: impl AsyncFnMut() -> Result<T, ApiError>,
) -> Result<(T, i64), ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (before, _) = settled(db, org, None).await?;
        let value = read().await?;
        let (_, moved) = settled(db, org, Some(before)).await?;
        if !moved {
            return Ok((value, before));
        }
        if attempt >= ATTEMPTS {
            tracing::warn!(org = %org, "figures kept moving while read; answered as of the first look");
            return Ok((value, before));
        }
    }
}

/// An aggregate answer that carries its `as_of`.
pub trait Dated: Serialize {
    fn set_as_of(&mut self, as_of: String);
}

/// The answer: 304 when `If-None-Match` names the figures' ETag, else the JSON with its
/// `as_of` and `ETag`.
pub fn answer<T: Dated>(req: &HttpRequest, as_of: i64, mut body: T) -> HttpResponse {
    // The ETag covers the figures, not the cursor: it is computed before `as_of` is set.
    let etag = etag_of(&body);
    if crate::attachments::handlers::names(req.headers().get(header::IF_NONE_MATCH), &etag, true) {
        return not_modified(etag, as_of);
    }
    body.set_as_of(as_of.to_string());
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((AS_OF, as_of.to_string()))
        .json(body)
}

/// The header that carries `as_of` (for the CSV, which has no field for it).
pub const AS_OF: &str = "As-Of";

/// A strong ETag of `body` as serialized.
pub fn etag_of<T: Serialize>(body: &T) -> String {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    etag_of_bytes(&bytes)
}

pub fn etag_of_bytes(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

pub fn not_modified(etag: String, as_of: i64) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((AS_OF, as_of.to_string()))
        .finish()
}

/// Implements [`Dated`] for answers with an `as_of: String` field.
macro_rules! dated_answers {
    ($($ty:ty),+ $(,)?) => {
        $(
            impl $crate::aggregates::as_of::Dated for $ty {
                fn set_as_of(&mut self, as_of: String) {
                    self.as_of = as_of;
                }
            }
        )+
    };
}
pub(crate) use dated_answers;

impl<T: Serialize> Dated for crate::pagination::Page<T> {
    fn set_as_of(&mut self, as_of: String) {
        self.as_of = Some(as_of);
    }
}
