//! Photos and receipts: upload after the report, idempotent retries, type, size and digest
//! checks, metadata removal, and expected versus received.

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, json_body};
use crate::helpers::{World, report, set_answer, submit, world, world_with};

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

pub async fn put(
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
pub async fn report_with_photo(w: &World, photo: &str) -> String {
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

    // Before the report exists: 404 with a code of its own, nothing stored.
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
        (404, Some("report_not_received")),
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

pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
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
            "declared png, bytes of no accepted type",
            b"not a picture at all".to_vec(),
            None,
            "image/png",
            422,
            "validation_failed",
        ),
        (
            "bytes of no accepted type, no type declared",
            b"GIF89a....".to_vec(),
            None,
            "application/octet-stream",
            415,
            "unsupported_media_type",
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

/// Generated clients often send `application/octet-stream`, or the last type a document lists:
/// the file's first bytes decide the type stored and served.
#[actix_web::test]
async fn the_first_bytes_decide_a_files_type_whatever_the_body_was_declared() {
    let w = world().await;
    for declared in ["application/octet-stream", "image/png"] {
        let photo = uuid::Uuid::new_v4().to_string();
        let report_id = report_with_photo(&w, &photo).await;
        let (status, stored) = put(
            &w.app,
            &w.shopper_token,
            &report_id,
            &photo,
            declared,
            jpeg_with_gps(),
            None,
        )
        .await;
        assert_eq!(status, 201, "{declared}: {stored}");
        assert_eq!(stored["media_type"], "image/jpeg", "{declared}");
        let (status, headers, bytes) = download(&w.app, &w.shopper_token, &photo, &[]).await;
        assert_eq!(status, 200, "{declared}");
        assert_eq!(headers.get("content-type").unwrap(), "image/jpeg");
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]), "{declared}");
    }
}

/// A minimal PDF (what `MediaType::sniff` recognises as one).
fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// GET with extra headers: status, headers and raw body.
pub async fn download(
    app: &TestApp,
    token: &str,
    id: &str,
    headers: &[(&str, &str)],
) -> (u16, awc::http::header::HeaderMap, Vec<u8>) {
    let mut request = app
        .client
        .get(app.url(&format!("/api/v1/attachments/{id}")))
        .bearer_auth(token);
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    let mut response = request.send().await.unwrap();
    let body = response.body().limit(20 << 20).await.unwrap().to_vec();
    (response.status().as_u16(), response.headers().clone(), body)
}

async fn review(app: &TestApp, token: &str, report: &str, body: Value) {
    let (status, reviewed) = app
        .post(&format!("/api/v1/reports/{report}/review"), token, body)
        .await;
    assert_eq!(status, 200, "{reviewed}");
}

#[actix_web::test]
async fn a_file_downloads_whole_or_by_range_with_its_etag() {
    let w = world().await;
    let photo = uuid::Uuid::new_v4().to_string();
    let report_id = report_with_photo(&w, &photo).await;
    let (status, stored) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &photo,
        "image/jpeg",
        jpeg_with_gps(),
        None,
    )
    .await;
    assert_eq!(status, 201, "{stored}");
    let etag = format!("\"{}\"", stored["sha256"].as_str().unwrap());
    let size = usize::try_from(stored["size"].as_u64().unwrap()).unwrap();

    let (status, headers, whole) = download(&w.app, &w.shopper_token, &photo, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(whole.len(), size);
    let header = |h: &awc::http::header::HeaderMap, name: &str| {
        h.get(name).map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(
        header(&headers, "content-type").as_deref(),
        Some("image/jpeg")
    );
    assert_eq!(header(&headers, "etag"), Some(etag.clone()));
    assert_eq!(header(&headers, "accept-ranges").as_deref(), Some("bytes"));
    assert_eq!(
        header(&headers, "cache-control").as_deref(),
        Some("private, max-age=3600")
    );
    assert_eq!(header(&headers, "content-length"), Some(size.to_string()));
    let hex: String = Sha256::digest(&whole)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stored["sha256"], hex, "the bytes are the stored bytes");

    // One range, an open range, a suffix, a suffix longer than the file.
    for (range, from, to) in [
        ("bytes=2-9", 2, 9),
        (&*format!("bytes={}-", size - 5), size - 5, size - 1),
        ("bytes=-4", size - 4, size - 1),
        (&*format!("bytes=-{}", size + 100), 0, size - 1),
    ] {
        let (status, headers, part) =
            download(&w.app, &w.shopper_token, &photo, &[("range", range)]).await;
        assert_eq!(status, 206, "{range}");
        assert_eq!(part, whole[from..=to].to_vec(), "{range}");
        assert_eq!(
            header(&headers, "content-range"),
            Some(format!("bytes {from}-{to}/{size}")),
            "{range}"
        );
    }
    // Outside the file: 416 naming the size.
    let (status, headers, body) = download(
        &w.app,
        &w.shopper_token,
        &photo,
        &[("range", &format!("bytes={}-", size + 10))],
    )
    .await;
    assert_eq!(status, 416, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        header(&headers, "content-range"),
        Some(format!("bytes */{size}"))
    );
    assert!(String::from_utf8_lossy(&body).contains("range_not_satisfiable"));
    // Not valid range syntax, or an If-Range that no longer holds: the whole file.
    for headers in [
        vec![("range", "pages=1-2")],
        vec![("range", "bytes=0-3"), ("if-range", "\"0000\"")],
    ] {
        let (status, _, body) = download(&w.app, &w.shopper_token, &photo, &headers).await;
        assert_eq!((status, body.len()), (200, size), "{headers:?}");
    }
    let (status, _, part) = download(
        &w.app,
        &w.shopper_token,
        &photo,
        &[("range", "bytes=0-3"), ("if-range", &etag)],
    )
    .await;
    assert_eq!((status, part.len()), (206, 4));
    // The ETag again: 304, nothing sent.
    let (status, headers, body) = download(
        &w.app,
        &w.shopper_token,
        &photo,
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!((status, body.len()), (304, 0));
    assert_eq!(header(&headers, "etag"), Some(etag));
    // HEAD: the headers without the body.
    let mut head = w
        .app
        .client
        .head(w.app.url(&format!("/api/v1/attachments/{photo}")))
        .bearer_auth(&w.shopper_token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert!(head.body().await.unwrap().is_empty());
    // An id nobody uploaded.
    let (status, _, _) = download(
        &w.app,
        &w.shopper_token,
        &uuid::Uuid::new_v4().to_string(),
        &[],
    )
    .await;
    assert_eq!(status, 404);
}

/// A published questionnaire whose optional `counter_photo` may show staff: its id.
pub async fn staffed_questionnaire(w: &World) -> String {
    let mut questionnaire = crate::questionnaires::example("staffed-visit");
    questionnaire["sections"][4]["questions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "counter_photo", "text": "Photo of the counter.", "type": "photo", "required": false, "shows_staff": true}));
    w.app
        .published_questionnaire(&w.admin_token, questionnaire)
        .await
}

#[actix_web::test]
async fn who_downloads_a_file_follows_who_sees_its_report() {
    let w = world().await;
    let staffed = staffed_questionnaire(&w).await;
    let (storefront, counter, receipt) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    let mut body = report(&w);
    body["questionnaire_id"] = json!(staffed);
    body["receipt"] = json!(receipt);
    set_answer(&mut body, "storefront_photo", json!({"value": storefront}));
    set_answer(&mut body, "counter_photo", json!({"value": counter}));
    let (status, created) = submit(&w, &body).await;
    assert_eq!(status, 201, "{created}");
    let report_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        created["attachments"],
        json!({"expected": 3, "received": 0})
    );
    let flags = |r: &Value| -> Vec<String> {
        r["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(flags(&created).contains(&"missing_attachments".to_string()));

    for (id, kind, bytes) in [
        (&storefront, "image/jpeg", jpeg_with_gps()),
        (&counter, "image/jpeg", jpeg_with_gps()),
        (&receipt, "application/pdf", pdf()),
    ] {
        let (status, stored) =
            put(&w.app, &w.shopper_token, &report_id, id, kind, bytes, None).await;
        assert_eq!(status, 201, "{stored}");
    }
    let read = w
        .app
        .get_ok(&format!("/api/v1/reports/{report_id}"), &w.admin_token)
        .await;
    assert_eq!(read["attachments"], json!({"expected": 3, "received": 3}));
    assert!(!flags(&read).contains(&"missing_attachments".to_string()));

    // Who may download what, while the report awaits review.
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer_token = w.app.access_token(&reviewer).await;
    let analyst = w.app.create_user(&w.admin_token, "analyst").await;
    let analyst_token = w.app.access_token(&analyst).await;
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[&w.location_id])
        .await;
    let manager_token = w.app.access_token(&manager).await;
    let other_shopper = w.app.create_user(&w.admin_token, "shopper").await;
    let other_shopper_token = w.app.access_token(&other_shopper).await;
    let (reader_id, reader_secret) = w.app.create_client(&w.admin_token, &["reports:read"]).await;
    let reader = w.app.client_token(&reader_id, &reader_secret).await;
    let (blind_id, blind_secret) = w
        .app
        .create_client(&w.admin_token, &["locations:read"])
        .await;
    let blind = w.app.client_token(&blind_id, &blind_secret).await;
    let stranger_admin = w.app.create_org_with_admin("Elsewhere");
    let stranger = w.app.access_token(&stranger_admin).await;

    let expect = |who: &'static str, token: String, storefront: u16, counter: u16, receipt: u16| {
        (who, token, [storefront, counter, receipt])
    };
    let before_release = [
        expect("shopper", w.shopper_token.clone(), 200, 200, 200),
        expect("admin", w.admin_token.clone(), 200, 200, 200),
        expect("reviewer", reviewer_token.clone(), 200, 200, 200),
        expect("analyst", analyst_token.clone(), 200, 403, 200),
        expect("client reports:read", reader.clone(), 200, 403, 200),
        expect("client locations:read", blind.clone(), 403, 403, 403),
        expect(
            "manager, not released",
            manager_token.clone(),
            404,
            404,
            404,
        ),
        expect(
            "another shopper",
            other_shopper_token.clone(),
            404,
            404,
            404,
        ),
        expect("another organization", stranger.clone(), 404, 404, 404),
    ];
    let ids = [&storefront, &counter, &receipt];
    for (who, token, statuses) in &before_release {
        for (id, expected) in ids.iter().zip(statuses) {
            let (status, headers, body) = download(&w.app, token, id, &[]).await;
            assert_eq!(
                status,
                *expected,
                "{who} {id}: {}",
                String::from_utf8_lossy(&body)
            );
            if status == 403 && *expected == 403 && *id == &counter && !who.contains("locations") {
                assert!(
                    String::from_utf8_lossy(&body).contains("staff_privacy"),
                    "{who}"
                );
            }
            if status == 200 {
                let kind = headers.get("content-type").unwrap().to_str().unwrap();
                assert_eq!(kind == "application/pdf", *id == &receipt, "{who}");
            }
        }
    }
    // Released: the manager sees the storefront and the receipt, never the staff photo.
    review(
        &w.app,
        &reviewer_token,
        &report_id,
        json!({"action": "approve"}),
    )
    .await;
    for (id, expected) in ids.iter().zip([200, 403, 200]) {
        let (status, _, _) = download(&w.app, &manager_token, id, &[]).await;
        assert_eq!(status, expected, "manager, released, {id}");
    }
    let managed = w
        .app
        .get_ok(&format!("/api/v1/reports/{report_id}"), &manager_token)
        .await;
    assert_eq!(
        managed["attachments"],
        json!({"expected": 3, "received": 3})
    );
    assert!(managed.get("flags").is_none(), "{managed}");
}

#[actix_web::test]
async fn a_revision_names_new_files_and_the_superseded_ones_stay() {
    let w = world().await;
    let first = uuid::Uuid::new_v4().to_string();
    let mut body = report(&w);
    set_answer(&mut body, "storefront_photo", json!({"value": first}));
    let (status, created) = submit(&w, &body).await;
    assert_eq!(status, 201, "{created}");
    let report_id = created["id"].as_str().unwrap().to_string();
    let (status, _) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &first,
        "image/jpeg",
        jpeg_with_gps(),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer_token = w.app.access_token(&reviewer).await;
    review(
        &w.app,
        &reviewer_token,
        &report_id,
        json!({"action": "return", "note": "The photo is blurred; take another"}),
    )
    .await;

    // The revision names a new photo and a receipt.
    let second = uuid::Uuid::new_v4().to_string();
    let receipt = uuid::Uuid::new_v4().to_string();
    set_answer(&mut body, "storefront_photo", json!({"value": second}));
    body["receipt"] = json!(receipt);
    let (status, revised) = w
        .app
        .put(
            &format!("/api/v1/reports/{report_id}"),
            &w.shopper_token,
            body,
        )
        .await;
    assert_eq!(status, 200, "{revised}");
    assert_eq!(revised["revision"], 2);
    assert_eq!(
        revised["attachments"],
        json!({"expected": 2, "received": 0})
    );
    let listed = w
        .app
        .get_ok(
            &format!("/api/v1/reports/{report_id}/attachments"),
            &reviewer_token,
        )
        .await;
    assert_eq!(listed["expected"], json!([second, receipt]));
    assert_eq!(listed["missing"], json!([second, receipt]));
    assert_eq!(listed["received"][0]["id"], json!(first));
    assert_eq!(listed["received"][0]["revision"], 1);
    // The superseded photo stays downloadable; the first revision still counts it.
    let (status, _, _) = download(&w.app, &reviewer_token, &first, &[]).await;
    assert_eq!(status, 200);
    let old = w
        .app
        .get_ok(
            &format!("/api/v1/reports/{report_id}/revisions/1"),
            &reviewer_token,
        )
        .await;
    assert_eq!(old["attachments"], json!({"expected": 1, "received": 1}));
    // A file for the superseded id can no longer be uploaded under the revised report.
    let (status, body) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &uuid::Uuid::new_v4().to_string(),
        "image/jpeg",
        jpeg_with_gps(),
        None,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, stored) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &receipt,
        "application/pdf",
        pdf(),
        None,
    )
    .await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["revision"], 2);
}

#[actix_web::test]
async fn a_report_names_each_file_once_and_old_references_expect_nothing() {
    let w = world().await;
    let photo = uuid::Uuid::new_v4().to_string();
    let mut body = report(&w);
    set_answer(&mut body, "storefront_photo", json!({"value": photo}));
    body["receipt"] = json!(photo);
    let (status, refused) = submit(&w, &body).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["pointer"], "/receipt");
    assert_eq!(refused["errors"][0]["code"], "duplicate_attachment");

    body["receipt"] = json!("not-an-id");
    let (status, refused) = submit(&w, &body).await;
    assert!(status == 400 || status == 422, "{status} {refused}");
    assert!(refused.to_string().contains("receipt"), "{refused}");

    // A photo reference that is not an id (an older app) is kept and expects no upload.
    let mut body = report(&w);
    set_answer(
        &mut body,
        "storefront_photo",
        json!({"value": "IMG_0042.jpg"}),
    );
    let (status, created) = submit(&w, &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["attachments"],
        json!({"expected": 0, "received": 0})
    );
}

fn sweep(app: &TestApp, older_than: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["attachments", "sweep", "--older-than", older_than])
        .env("DATABASE_URL", app.db.url())
        .env("SECONDMILE_STORAGE_URL", app.db.storage_url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile attachments sweep")
}

#[actix_web::test]
async fn the_sweeper_deletes_files_without_a_row_and_keeps_the_rest() {
    let w = world().await;
    let photo = uuid::Uuid::new_v4().to_string();
    let report_id = report_with_photo(&w, &photo).await;
    let (status, _) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &photo,
        "image/jpeg",
        jpeg_with_gps(),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let root = std::path::PathBuf::from(
        w.app
            .db
            .storage_url()
            .trim_start_matches("file://")
            .to_string(),
    );
    let kept = walk(&root);
    assert_eq!(kept.len(), 1);
    // What an upload killed after storing its file (no row) and one killed while writing it
    // (a staging file) leave behind.
    let orphan_dir = kept[0]
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join(uuid::Uuid::new_v4().to_string());
    std::fs::create_dir_all(&orphan_dir).unwrap();
    let orphan = orphan_dir.join("0".repeat(64));
    std::fs::write(&orphan, b"\xFF\xD8\xFForphan").unwrap();
    let staging = orphan_dir.join(format!("{}#1", "1".repeat(64)));
    std::fs::write(&staging, b"\xFF\xD8\xFFhalf").unwrap();

    // Within the grace period nothing goes.
    let out = sweep(&w.app, "3600");
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{out:?}");
    assert!(
        printed.contains(
            "examined 2 files: 1 with a row, 0 without a row deleted, 1 without a row kept"
        ),
        "{printed}"
    );
    assert!(orphan.exists() && staging.exists());

    let out = sweep(&w.app, "0");
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{out:?}");
    assert!(
        printed.contains("(no row)") && printed.contains("staging file"),
        "{printed}"
    );
    assert!(printed.contains("1 without a row deleted"), "{printed}");
    assert!(!orphan.exists() && !staging.exists());
    assert_eq!(walk(&root), kept, "the file with a row stays");
    let (status, _, body) = download(&w.app, &w.shopper_token, &photo, &[]).await;
    assert_eq!((status, body.is_empty()), (200, false));
}

/// The S3 bucket the S3 test uses (`SECONDMILE_TEST_S3_URL`, e.g. `s3://secondmile-test`; the
/// `AWS_*` variables name its endpoint and credentials). `.ci/run` sets it when it can start
/// an S3-protocol server (moto) on 127.0.0.1.
fn s3_bucket() -> Option<String> {
    std::env::var("SECONDMILE_TEST_S3_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

#[actix_web::test]
async fn on_s3_a_file_uploads_once_downloads_by_range_and_orphans_are_swept() {
    let Some(bucket) = s3_bucket() else {
        eprintln!(
            "*** S3 storage was not tested: SECONDMILE_TEST_S3_URL is not set (.ci/run sets it when it can start moto's S3 server)."
        );
        return;
    };
    let prefix = format!("{bucket}/test-{}", uuid::Uuid::new_v4());
    let w = world_with(&[("SECONDMILE_STORAGE_URL", &prefix)]).await;
    let photo = uuid::Uuid::new_v4().to_string();
    let report_id = report_with_photo(&w, &photo).await;
    let jpeg = jpeg_with_gps();
    let (status, stored) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &photo,
        "image/jpeg",
        jpeg.clone(),
        None,
    )
    .await;
    assert_eq!(status, 201, "{stored}");
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
    assert_eq!((status, &again["sha256"]), (200, &stored["sha256"]));
    let mut other = jpeg.clone();
    other[jpeg.len() - 3] ^= 0xFF;
    let (status, _) = put(
        &w.app,
        &w.shopper_token,
        &report_id,
        &photo,
        "image/jpeg",
        other,
        None,
    )
    .await;
    assert_eq!(status, 409);

    let (status, _, whole) = download(&w.app, &w.admin_token, &photo, &[]).await;
    assert_eq!(status, 200);
    let hex: String = Sha256::digest(&whole)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stored["sha256"], hex);
    assert!(!String::from_utf8_lossy(&whole).contains("GPSLatitude"));
    let (status, _, part) =
        download(&w.app, &w.admin_token, &photo, &[("range", "bytes=3-10")]).await;
    assert_eq!((status, part), (206, whole[3..=10].to_vec()));

    // An object without a row (an upload killed before its row) goes with the sweep.
    let storage = secondmile::attachments::storage::Storage::open(&prefix).unwrap();
    let orphan = format!(
        "orgs/x/attachments/{}/{}",
        uuid::Uuid::new_v4(),
        "0".repeat(64)
    );
    storage
        .put(&orphan, bytes::Bytes::from_static(b"\xFF\xD8\xFF"))
        .await
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["attachments", "sweep", "--older-than", "0"])
        .env("DATABASE_URL", w.app.db.url())
        .env("SECONDMILE_STORAGE_URL", &prefix)
        .env("SECONDMILE_LOG", "warn")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{out:?}");
    assert!(
        printed.contains(&format!("deleted {orphan} (no row)")),
        "{printed}"
    );
    assert_eq!(storage.size(&orphan).await.unwrap(), None);
    let (status, _, _) = download(&w.app, &w.admin_token, &photo, &[]).await;
    assert_eq!(status, 200, "the file with a row stays");
}
