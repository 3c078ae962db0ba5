//! Plausibility: constructed reports trip each reason and only it; reviewers and admins see
//! the score and reasons, nobody else does; the review queue sorts by it.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::attachments::put;
use crate::helpers::{World, report, set_answer, submit, world};

/// The report as an admin reads it.
async fn read(w: &World, id: &str) -> Value {
    w.app
        .get_ok(&format!("/api/v1/reports/{id}"), &w.admin_token)
        .await
}

/// The reason codes of a report's plausibility, and its score.
async fn reasons(w: &World, id: &str) -> (Vec<String>, u64) {
    let r = read(w, id).await;
    let p = &r["plausibility"];
    let codes = p["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no plausibility: {r}"))
        .iter()
        .map(|x| x["code"].as_str().unwrap().to_string())
        .collect();
    (codes, p["score"].as_u64().unwrap())
}

async fn submitted(w: &World, body: &Value) -> String {
    let (status, created) = submit(w, body).await;
    assert_eq!(status, 201, "{created}");
    assert!(
        created.get("plausibility").is_none(),
        "the shopper never sees it: {created}"
    );
    created["id"].as_str().unwrap().to_string()
}

/// A report whose visit started `start` and lasted `seconds`, checked in 30 s before.
fn visit_at(w: &World, start: DateTime<Utc>, seconds: i64) -> Value {
    let mut body = report(w);
    body["visit"] = json!({
        "started_at": start.to_rfc3339(),
        "ended_at": (start + TimeDelta::seconds(seconds)).to_rfc3339(),
    });
    body["check_in"]["at"] = json!((start - TimeDelta::seconds(30)).to_rfc3339());
    body
}

const NARRATIVE: &str = "The clerk greeted me at the door, offered help with the sofa \
    cushions, explained the delivery times clearly and carried the box to the counter while I \
    paid at the till without any wait at all";

/// A JPEG whose EXIF says when (local time and offset) and where it was taken.
fn jpeg_with_exif(taken: Option<(&str, &str)>, place: Option<(f64, f64)>) -> Vec<u8> {
    use exif::experimental::Writer;
    use exif::{Field, In, Rational, Tag, Value as V};
    let ascii = |tag, s: &str| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: V::Ascii(vec![s.as_bytes().to_vec()]),
    };
    let dms = |tag, v: f64| {
        let v = v.abs();
        let d = v.floor();
        let m = ((v - d) * 60.0).floor();
        let s = ((v - d) * 60.0 - m) * 60.0;
        Field {
            tag,
            ifd_num: In::PRIMARY,
            value: V::Rational(vec![
                Rational::from((d as u32, 1)),
                Rational::from((m as u32, 1)),
                Rational::from(((s * 1000.0).round() as u32, 1000)),
            ]),
        }
    };
    let mut fields = Vec::new();
    if let Some((local, offset)) = taken {
        fields.push(ascii(Tag::DateTimeOriginal, local));
        fields.push(ascii(Tag::OffsetTimeOriginal, offset));
    }
    if let Some((lat, lon)) = place {
        fields.push(ascii(
            Tag::GPSLatitudeRef,
            if lat < 0.0 { "S" } else { "N" },
        ));
        fields.push(dms(Tag::GPSLatitude, lat));
        fields.push(ascii(
            Tag::GPSLongitudeRef,
            if lon < 0.0 { "W" } else { "E" },
        ));
        fields.push(dms(Tag::GPSLongitude, lon));
    }
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let segment = |marker: u8, body: &[u8]| {
        let len = u16::try_from(body.len() + 2).unwrap().to_be_bytes();
        let mut s = vec![0xFF, marker, len[0], len[1]];
        s.extend_from_slice(body);
        s
    };
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(tiff.get_ref());
    let mut out = vec![0xFF, 0xD8];
    out.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    out.extend(segment(0xE1, &app1));
    out.extend(segment(0xDB, &[7u8; 65]));
    out.extend(segment(0xDA, &[0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]));
    out.extend_from_slice(&[0x12, 0x34, 0x56, 0xFF, 0xD9]);
    out
}

/// Submits `body` with a receipt, uploads `photo` as it: the report's id.
async fn with_receipt(w: &World, mut body: Value, photo: Vec<u8>) -> String {
    let receipt = uuid::Uuid::new_v4().to_string();
    body["receipt"] = json!(receipt);
    let id = submitted(w, &body).await;
    let (status, stored) = put(
        &w.app,
        &w.shopper_token,
        &id,
        &receipt,
        "image/jpeg",
        photo,
        None,
    )
    .await;
    assert_eq!(status, 201, "{stored}");
    id
}

#[actix_web::test]
async fn a_plain_visit_is_fully_plausible_and_only_admins_and_reviewers_see_it() {
    let w = world().await;
    let id = submitted(&w, &report(&w)).await;
    assert_eq!(reasons(&w, &id).await, (vec![], 100));

    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer = w.app.access_token(&reviewer).await;
    let seen = w
        .app
        .get_ok(&format!("/api/v1/reports/{id}"), &reviewer)
        .await;
    assert_eq!(seen["plausibility"]["score"], 100);
    let listed = w
        .app
        .get_ok("/api/v1/reports?status=submitted", &reviewer)
        .await;
    assert_eq!(listed["items"][0]["plausibility"]["score"], 100);

    let (status, decided) = w
        .app
        .post(
            &format!("/api/v1/reports/{id}/review"),
            &reviewer,
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["plausibility"]["score"], 100);

    let analyst = w.app.create_user(&w.admin_token, "analyst").await;
    let analyst = w.app.access_token(&analyst).await;
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[&w.location_id])
        .await;
    let manager = w.app.access_token(&manager).await;
    for token in [&w.shopper_token, &analyst, &manager] {
        let one = w.app.get_ok(&format!("/api/v1/reports/{id}"), token).await;
        assert!(one.get("plausibility").is_none(), "{one}");
        let list = w.app.get_ok("/api/v1/reports", token).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
        assert!(list["items"][0].get("plausibility").is_none(), "{list}");
    }
}

#[actix_web::test]
async fn each_rule_trips_its_reason_and_only_it() {
    let w = world().await;
    let day = |n: i64| Utc::now() - TimeDelta::days(n) - TimeDelta::hours(3);

    // Check-in 4 km away.
    let mut far = visit_at(&w, day(1), 1020);
    far["check_in"]["lat"] = json!(38.75);
    let id = submitted(&w, &far).await;
    assert_eq!(
        reasons(&w, &id).await,
        (vec!["check_in_distance".into()], 75)
    );

    // Check-in 45 minutes before the visit.
    let mut early = visit_at(&w, day(2), 1020);
    early["check_in"]["at"] = json!((day(2) - TimeDelta::minutes(45)).to_rfc3339());
    let id = submitted(&w, &early).await;
    assert_eq!(reasons(&w, &id).await, (vec!["check_in_time".into()], 85));

    // Every scored answer at its maximum.
    let mut perfect = visit_at(&w, day(3), 1020);
    for (q, v) in [
        ("clean_inside", json!(5)),
        ("remembered_name", json!(true)),
        ("unexpressed_need", json!(true)),
        ("follow_up", json!(true)),
        ("beyond_task", json!(true)),
    ] {
        set_answer(&mut perfect, q, json!({"value": v}));
    }
    let id = submitted(&w, &perfect).await;
    let (codes, score) = reasons(&w, &id).await;
    assert_eq!((codes, score), (vec!["straight_lining".into()], 85));

    // A narrative, then one that nearly repeats it (by the same shopper, days later).
    let mut first = visit_at(&w, day(4), 1020);
    first["narrative"] = json!(NARRATIVE);
    let original = submitted(&w, &first).await;
    assert_eq!(reasons(&w, &original).await, (vec![], 100));
    let mut again = visit_at(&w, day(5), 1020);
    again["narrative"] = json!(NARRATIVE.replace("without any wait", "with hardly a wait"));
    let copy = submitted(&w, &again).await;
    assert_eq!(
        reasons(&w, &copy).await,
        (vec!["repeated_narrative".into()], 70)
    );
    let r = read(&w, &copy).await;
    let message = r["plausibility"]["reasons"][0]["message"].as_str().unwrap();
    assert!(message.contains(&original), "{message}");
    assert!(message.contains("same shopper"), "{message}");
    // A different narrative of the same length is not a repeat.
    let mut other = visit_at(&w, day(6), 1020);
    other["narrative"] = json!(
        "Nobody was at the entrance and I waited twelve minutes before a member of staff \
         noticed me; the shelves were untidy and the price labels on the lamps were missing"
    );
    let id = submitted(&w, &other).await;
    assert_eq!(reasons(&w, &id).await, (vec![], 100));

    // Ten visits of 17 minutes so far (with fillers): one of 2.5 minutes is unusual; one of
    // 20 is not.
    for n in 7..11 {
        submitted(&w, &visit_at(&w, day(n), 1020)).await;
    }
    let id = submitted(&w, &visit_at(&w, day(11), 150)).await;
    assert_eq!(
        reasons(&w, &id).await,
        (vec!["unusual_duration".into()], 85)
    );
    let id = submitted(&w, &visit_at(&w, day(12), 1200)).await;
    assert_eq!(reasons(&w, &id).await, (vec![], 100));

    // A receipt photographed three hours before the visit (its own offset), at the store.
    let start = day(13);
    let taken = (start - TimeDelta::hours(3))
        .format("%Y:%m:%d %H:%M:%S")
        .to_string();
    let photo = jpeg_with_exif(Some((&taken, "+00:00")), Some((38.7112, -9.1420)));
    let id = with_receipt(&w, visit_at(&w, start, 1020), photo).await;
    assert_eq!(reasons(&w, &id).await, (vec!["photo_time".into()], 80));

    // One photographed during the visit, in Porto.
    let start = day(14);
    let taken = (start + TimeDelta::minutes(5))
        .format("%Y:%m:%d %H:%M:%S")
        .to_string();
    let photo = jpeg_with_exif(Some((&taken, "+00:00")), Some((41.1579, -8.6291)));
    let id = with_receipt(&w, visit_at(&w, start, 1020), photo).await;
    assert_eq!(reasons(&w, &id).await, (vec!["photo_place".into()], 75));

    // One photographed during the visit at the store, in the location's time (no offset).
    let start = day(15);
    let local = (start + TimeDelta::minutes(5)).with_timezone(&chrono_tz::Europe::Lisbon);
    let taken = local.format("%Y:%m:%d %H:%M:%S").to_string();
    // The same JPEG with a DateTimeOriginal but no offset.
    let photo = strip_offset(jpeg_with_exif(
        Some((&taken, "+00:00")),
        Some((38.7112, -9.1420)),
    ));
    let id = with_receipt(&w, visit_at(&w, start, 1020), photo).await;
    assert_eq!(reasons(&w, &id).await, (vec![], 100));

    // The same shopper in Porto 13 minutes after a visit in Lisbon ended.
    let porto = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "S-2", "name": "Porto", "region": "North", "timezone": "Europe/Lisbon", "latitude": 41.1579, "longitude": -8.6291}),
        )
        .await;
    let mut there = visit_at(&w, day(12) + TimeDelta::minutes(33), 1020);
    there["location_id"] = json!(porto.id);
    there.as_object_mut().unwrap().remove("check_in");
    let id = submitted(&w, &there).await;
    let (codes, score) = reasons(&w, &id).await;
    assert_eq!((codes, score), (vec!["impossible_travel".into()], 60));
    // A day later is possible.
    let mut later = visit_at(&w, day(12) + TimeDelta::hours(8), 1020);
    later["location_id"] = json!(porto.id);
    later.as_object_mut().unwrap().remove("check_in");
    let id = submitted(&w, &later).await;
    assert_eq!(reasons(&w, &id).await, (vec![], 100));
}

/// The JPEG with its `OffsetTimeOriginal` value blanked out, so only the local time is left.
fn strip_offset(mut jpeg: Vec<u8>) -> Vec<u8> {
    let needle = b"+00:00\0";
    if let Some(at) = jpeg.windows(needle.len()).position(|w| w == needle) {
        jpeg[at..at + 6].copy_from_slice(b"      ");
    }
    jpeg
}

#[actix_web::test]
async fn the_queue_sorts_the_least_plausible_first_for_reviewers_only() {
    let w = world().await;
    let day = |n: i64| Utc::now() - TimeDelta::days(n) - TimeDelta::hours(3);
    let plain = submitted(&w, &visit_at(&w, day(1), 1020)).await;
    let mut far = visit_at(&w, day(2), 1020);
    far["check_in"]["lat"] = json!(38.75);
    let far = submitted(&w, &far).await;
    let mut worse = visit_at(&w, day(3), 1020);
    worse["check_in"]["lat"] = json!(38.75);
    worse["check_in"]["at"] = json!((day(3) - TimeDelta::hours(2)).to_rfc3339());
    let worse = submitted(&w, &worse).await;

    let path = "/api/v1/reports?status=submitted&sort=least_plausible&limit=2";
    let first = w.app.get_ok(path, &w.admin_token).await;
    let ids: Vec<_> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec![worse.clone(), far.clone()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = w
        .app
        .get_ok(&format!("{path}&cursor={cursor}"), &w.admin_token)
        .await;
    assert_eq!(rest["items"][0]["id"], plain.as_str());
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null(), "{rest}");

    for role in ["analyst", "manager"] {
        let user = w.app.create_user(&w.admin_token, role).await;
        let token = w.app.access_token(&user).await;
        let (status, problem) = w.app.get(path, &token).await;
        assert_eq!(status, 403, "{role}: {problem}");
    }
    let (status, _) = w.app.get(path, &w.shopper_token).await;
    assert_eq!(status, 403);
    // A cursor of the other order is refused.
    let (status, _) = w
        .app
        .get(&format!("{path}&cursor=1:{plain}"), &w.admin_token)
        .await;
    assert_eq!(status, 400);
}
