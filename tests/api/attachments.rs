//! Photos and receipts: upload after the report, idempotent retries, type, size and digest
//! checks, metadata removal, and expected versus received.

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, json_body};
use crate::reports::{World, report, set_answer, submit, world, world_with};

/// A small JPEG whose EXIF names a GPS position and a serial number.
pub fn jpeg_with_gps() -> Vec<u8> {
    let segment = |marker: u8, body: &[u8]| {
        let len = u16::try_from(body.len() + 2).unwrap().to_be_bytes();
        let mut s = vec![0xFF, marker, len[0], len[1]];
        s.extend_from_slice(body);
        s
    };
    let mut out = vec![0xFF, 0xD8];
    out.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    out.extend(segment(
        0xE1,
        b"Exif\0\0GPSLatitude 38.7111 N SerialNumber 4411",
    ));
    out.extend(segment(0xDB, &[7u8; 65]));
    out.extend(segment(0xDA, &[0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]));
    out.extend_from_slice(&[0x12, 0x34, 0x56, 0xFF, 0xD9]);
    out
}

async fn put(
    app: &TestApp,
    token: &str,
    report: &str,
    id: &str,
    content_type: &str,
    bytes: Vec<u8>,
    digest: Option<String>,
) -> (u16, Value) {
    let mut request = app
        .client
        .put(app.url(&format!("/api/v1/reports/{report}/attachments/{id}")))
        .bearer_auth(token)
        .insert_header(("content-type", content_type));
    if let Some(d) = digest {
        request = request.insert_header(("content-digest", d));
    }
    let mut response = request.send_body(bytes).await.unwrap();
    let status = response.status().as_u16();
    (status, json_body(&mut response).await)
}

/// A submitted report whose storefront photo names `photo`.
async fn report_with_photo(w: &World, photo: &str) -> String {
    let mut body = report(w);
    set_answer(&mut body, "storefront_photo", json!({"value": photo}));
    let (status, created) = submit(w, &body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn a_photo_is_uploaded_after_its_report_once_and_its_gps_position_removed() {
    let w = world().await;
    let photo = uuid::Uuid::new_v4().to_string();
    let jpeg = jpeg_with_gps();

    // Before the report exists: 404, nothing stored.
    let early = uuid::Uuid::new_v4().to_string();
    let (status, body) = put(
        &w.app,
        &w.shopper_token,
        &early,
        &photo,
        "image/jpeg",
        jpeg.clone(),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );

    let report_id = report_with_photo(&w, &photo).await;
    let path = format!("/api/v1/reports/{report_id}/attachments");
    let status_of = w.app.get_ok(&path, &w.shopper_token).await;
    assert_eq!(status_of["expected"], json!([photo]));
    assert_eq!(status_of["missing"], json!([photo]));

    let digest = format!(
        "sha-256=:{}:",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&jpeg))
    );
    let (status, stored) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &photo,
        "image/jpeg",
        jpeg.clone(),
        Some(digest),
    )
    .await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["media_type"], "image/jpeg");
    assert_eq!(stored["revision"], 1);
    let size = stored["size"].as_u64().unwrap();
    assert!(size < jpeg.len() as u64, "metadata removed: {size}");

    // The file in the storage: no GPS position, no serial number; its digest as reported.
    let dir = w
        .app
        .db
        .storage_url()
        .trim_start_matches("file://")
        .to_string();
    let files: Vec<_> = walk(std::path::Path::new(&dir));
    assert_eq!(files.len(), 1, "{files:?}");
    let kept = std::fs::read(&files[0]).unwrap();
    let text = String::from_utf8_lossy(&kept);
    assert!(
        !text.contains("GPSLatitude") && !text.contains("SerialNumber"),
        "{text}"
    );
    let hex: String = Sha256::digest(&kept)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stored["sha256"], hex);

    // The same bytes again: 200, the same file; other bytes under the id: 409.
    let (status, again) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &photo,
        "image/jpeg",
        jpeg.clone(),
        None,
    )
    .await;
    assert_eq!(
        (status, &again["sha256"]),
        (200, &stored["sha256"]),
        "{again}"
    );
    let mut other = jpeg.clone();
    other[jpeg.len() - 3] ^= 0xFF;
    let (status, body) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &photo,
        "image/jpeg",
        other,
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("idempotency_mismatch")),
        "{body}"
    );

    let status_of = w.app.get_ok(&path, &w.admin_token).await;
    assert_eq!(status_of["missing"], json!([]));
    assert_eq!(status_of["received"].as_array().unwrap().len(), 1);
    assert_eq!(walk(std::path::Path::new(&dir)).len(), 1);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[actix_web::test]
async fn wrong_types_sizes_digests_and_ids_are_refused_and_nothing_is_stored() {
    let w = world_with(&[("SECONDMILE_MAX_ATTACHMENT_BYTES", "200")]).await;
    let photo = uuid::Uuid::new_v4().to_string();
    let report_id = report_with_photo(&w, &photo).await;
    let jpeg = jpeg_with_gps();
    // (what, bytes, Content-Digest, Content-Type, status, code)
    type Case<'a> = (&'a str, Vec<u8>, Option<String>, &'a str, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "declared png, bytes jpeg",
            jpeg.clone(),
            None,
            "image/png",
            422,
            "validation_failed",
        ),
        (
            "a gif",
            b"GIF89a....".to_vec(),
            None,
            "image/gif",
            415,
            "unsupported_media_type",
        ),
        (
            "too large",
            vec![0xFF; 300],
            None,
            "image/jpeg",
            413,
            "payload_too_large",
        ),
        (
            "wrong digest",
            jpeg.clone(),
            Some(format!(
                "sha-256=:{}:",
                base64::engine::general_purpose::STANDARD.encode([0u8; 32])
            )),
            "image/jpeg",
            400,
            "digest_mismatch",
        ),
        (
            "damaged jpeg",
            vec![0xFF, 0xD8, 0xFF, 0x00],
            None,
            "image/jpeg",
            422,
            "validation_failed",
        ),
    ];
    for (what, bytes, digest, content_type, expected, code) in cases {
        let (status, body) = put(
            &w.app,
            &w.shopper_token,
            &report_id,
            &photo,
            content_type,
            bytes,
            digest,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (expected, Some(code)),
            "{what}: {body}"
        );
    }
    // An id the report does not name.
    let stranger = uuid::Uuid::new_v4().to_string();
    let (status, body) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &stranger,
        "image/jpeg",
        jpeg.clone(),
        None,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["code"], "not_expected");
    let listed = w
        .app
        .get_ok(
            &format!("/api/v1/reports/{report_id}/attachments"),
            &w.shopper_token,
        )
        .await;
    assert_eq!(listed["received"], json!([]));
    // Someone else's report: another shopper gets 404, a reviewer 403.
    let other = w.app.create_user(&w.admin_token, "shopper").await;
    let other_token = w.app.access_token(&other).await;
    let (status, _) = put(
        &w.app,
        &other_token,
        &report_id,
        &photo,
        "image/jpeg",
        jpeg.clone(),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer_token = w.app.access_token(&reviewer).await;
    let (status, _) = put(
        &w.app,
        &reviewer_token,
        &report_id,
        &photo,
        "image/jpeg",
        jpeg,
        None,
    )
    .await;
    assert_eq!(status, 403);
}
