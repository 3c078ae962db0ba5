//! What an attachment is: a file the shopper's app uploaded for a report.

use chrono::{DateTime, Utc};

use crate::ids::{AttachmentId, OrgId, ReportId};

/// A stored attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub org_id: OrgId,
    pub report_id: ReportId,
    /// The report's revision when the file arrived.
    pub revision: i32,
    pub media_type: String,
    pub size: i64,
    /// Hex SHA-256 of the stored bytes.
    pub sha256: String,
    /// Hex SHA-256 of the bytes as uploaded (what a retry is compared with).
    pub uploaded_sha256: String,
    pub storage_key: String,
    /// The photo question whose answer names the file; `None` for the receipt.
    pub question: Option<String>,
    /// The question's rule when the file arrived: the photo may show staff (personal data).
    pub shows_staff: bool,
    pub created_at: DateTime<Utc>,
}
