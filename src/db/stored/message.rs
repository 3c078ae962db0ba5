//! A webhook delivery's message as the delivery keeps it until it is sent: its own type,
//! apart from the feed's response type, so that renaming an API field never makes a
//! pending delivery unreadable. Format 1 has the field names the API had when it was
//! introduced; rows written before formats existed are format 1 as they stand.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{StoredError, format_1, parse, write};
use crate::events::model::Message;
use crate::ids::{EventId, OrgId};

/// The format of delivery messages this version writes.
pub const MESSAGE_FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct MessageDoc {
    #[serde(default = "format_1")]
    format: u32,
    id: EventId,
    #[serde(rename = "type")]
    event_type: String,
    occurred_at: DateTime<Utc>,
    organization_id: OrgId,
    subject: SubjectDoc,
    /// The event's number in its organization's feed; none for a ping.
    cursor: Option<String>,
    data: Value,
}

#[derive(Serialize, Deserialize)]
struct SubjectDoc {
    #[serde(rename = "type")]
    subject_type: String,
    id: String,
}

pub fn message_to_json(m: &Message) -> String {
    write(&MessageDoc {
        format: MESSAGE_FORMAT,
        id: m.id,
        event_type: m.event_type.clone(),
        occurred_at: m.occurred_at,
        organization_id: m.org_id,
        subject: SubjectDoc {
            subject_type: m.subject_type.clone(),
            id: m.subject_id.clone(),
        },
        cursor: m.seq.map(|s| s.to_string()),
        data: m.data.clone(),
    })
}

/// Reads a stored message of any format this version knows.
pub fn message_from_json(json: &str) -> Result<Message, StoredError> {
    let doc: MessageDoc = parse("delivery message", MESSAGE_FORMAT, json)?;
    let seq = match doc.cursor {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| StoredError::Invalid {
            kind: "delivery message",
            why: format!("cursor `{c}` is not a number"),
        })?),
    };
    Ok(Message {
        id: doc.id,
        event_type: doc.event_type,
        subject_type: doc.subject.subject_type,
        subject_id: doc.subject.id,
        org_id: doc.organization_id,
        occurred_at: doc.occurred_at,
        seq,
        data: doc.data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body as deliveries stored it before messages had a format of their own (the feed's
    /// JSON, written whole).
    const BEFORE_FORMATS: &str = r#"{"id":"0193a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b","type":"report.approved","occurred_at":"2026-12-01T09:30:00.123456Z","organization_id":"0193a1b2-0000-7000-8000-000000000001","subject":{"type":"report","id":"0193a1b2-0000-7000-8000-000000000002"},"cursor":"42","data":{"score":87.5,"status":"approved"}}"#;

    #[test]
    fn a_body_stored_before_formats_reads_as_format_one() {
        let m = message_from_json(BEFORE_FORMATS).unwrap();
        assert_eq!(m.event_type, "report.approved");
        assert_eq!(m.subject_type, "report");
        assert_eq!(m.seq, Some(42));
        assert_eq!(m.data["score"], 87.5);
        let again = message_from_json(&message_to_json(&m)).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn a_ping_has_no_cursor_and_a_newer_format_is_refused() {
        let mut m = message_from_json(BEFORE_FORMATS).unwrap();
        m.seq = None;
        let json = message_to_json(&m);
        assert!(json.contains(r#""cursor":null"#) && json.contains(r#""format":1"#));
        assert_eq!(message_from_json(&json).unwrap().seq, None);
        let newer = json.replace(r#""format":1"#, r#""format":2"#);
        assert!(matches!(
            message_from_json(&newer),
            Err(StoredError::TooNew { found: 2, .. })
        ));
        let broken = BEFORE_FORMATS.replace(r#""cursor":"42""#, r#""cursor":"x""#);
        assert!(message_from_json(&broken).is_err());
    }
}
