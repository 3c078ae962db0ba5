//! Bodies of the attachment endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::Attachment;
use crate::ids::{AttachmentId, ReportId};

/// A stored photo or receipt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttachmentResponse {
    pub id: AttachmentId,
    pub report_id: ReportId,
    /// The report's revision when the file arrived.
    pub revision: i32,
    #[schema(example = "image/jpeg")]
    pub media_type: String,
    /// Bytes as stored (JPEG metadata such as the GPS position removed).
    pub size: i64,
    /// Hex SHA-256 of the bytes as stored.
    #[schema(min_length = 64, max_length = 64)]
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<Attachment> for AttachmentResponse {
    fn from(a: Attachment) -> Self {
        AttachmentResponse {
            id: a.id,
            report_id: a.report_id,
            revision: a.revision,
            media_type: a.media_type,
            size: a.size,
            sha256: a.sha256,
            created_at: a.created_at,
        }
    }
}

/// What a report expects (the ids its answers name) and what has arrived.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttachmentStatus {
    pub expected: Vec<AttachmentId>,
    pub received: Vec<AttachmentResponse>,
    /// Expected and not received yet.
    pub missing: Vec<AttachmentId>,
}
