//! What an uploaded file is: the types accepted, the type its first bytes show (so a declared
//! `Content-Type` cannot disguise another kind of file), the metadata removed before it is
//! stored (a phone's JPEG carries its position and serial number in EXIF), and the
//! `Content-Digest` (RFC 9530) a client may send to have the bytes checked.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use img_parts::{ImageEXIF, ImageICC};

/// The file types an attachment may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Jpeg,
    Png,
    Heic,
    Webp,
    Pdf,
}

impl MediaType {
    pub const ALL: [MediaType; 5] = [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Heic,
        MediaType::Webp,
        MediaType::Pdf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Heic => "image/heic",
            MediaType::Webp => "image/webp",
            MediaType::Pdf => "application/pdf",
        }
    }

    /// The file name extension of the type.
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Heic => "heic",
            MediaType::Webp => "webp",
            MediaType::Pdf => "pdf",
        }
    }

    /// The type named by a `Content-Type` header (parameters ignored, case-insensitive).
    pub fn from_content_type(header: &str) -> Option<MediaType> {
        let essence = header.split(';').next().unwrap_or("").trim();
        MediaType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(essence))
    }

    /// The type the file's first bytes show, if it is one of ours.
    pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(MediaType::Jpeg);
        }
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(MediaType::Png);
        }
        if bytes.starts_with(b"%PDF-") {
            return Some(MediaType::Pdf);
        }
        if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
            return Some(MediaType::Webp);
        }
        // ISO base media: a `ftyp` box first, with a HEIF brand.
        if bytes.get(4..8) == Some(b"ftyp") {
            let brand = bytes.get(8..12)?;
            const HEIF: [&[u8]; 6] = [b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"];
            if HEIF.contains(&brand) {
                return Some(MediaType::Heic);
            }
        }
        None
    }
}

/// Whether a `Content-Type` says only "bytes" (`application/octet-stream`).
pub fn is_octet_stream(header: &str) -> bool {
    header
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/octet-stream")
}

/// JPEG markers of metadata segments: APP1 (EXIF, XMP and Extended XMP), APP2 (the MPF
/// index of further images, beside the colour profile, which stays), APP13 (IPTC), COM
/// (comments).
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP13: u8 = 0xED;
const COM: u8 = 0xFE;
/// APP2 segments that index the further images of a multi-picture file start so.
const MPF_PREFIX: &[u8] = b"MPF\0";

/// Where the first image of a JPEG ends (just after its EOI marker), walking its segments
/// and entropy-coded data; `None` when no EOI is found. What follows (the further images of
/// a multi-picture file, each with EXIF of its own, or any appended data) is not the photo.
fn first_image_end(bytes: &[u8]) -> Option<usize> {
    let mut i = 2; // after SOI
    while i + 1 < bytes.len() {
        if bytes.get(i) != Some(&0xFF) {
            i += 1; // entropy-coded data
            continue;
        }
        match *bytes.get(i + 1)? {
            0xFF => i += 1, // fill byte
            // A stuffed zero, a restart marker or TEM: part of the scan, no length.
            0x00 | 0x01 | 0xD0..=0xD7 => i += 2,
            0xD9 => return Some(i + 2),
            _ => {
                let high = usize::from(*bytes.get(i + 2)?);
                let low = usize::from(*bytes.get(i + 3)?);
                i += 2 + ((high << 8) | low);
            }
        }
    }
    None
}

/// The file as it is stored: JPEG without EXIF, XMP (Extended XMP too), IPTC, comments and
/// the further images of a multi-picture file, each of which may carry EXIF of its own
/// (only the first image, with its colour profile, is kept), PNG and WebP without EXIF; HEIC and PDF unchanged. An image that does not parse
/// is refused (its type was shown by its first bytes, so it is damaged or forged).
///
/// What the EXIF said of the capture's time and place is returned beside it, read before it
/// is removed (see [`Capture`]).
pub fn strip_metadata(media: MediaType, bytes: Bytes) -> Result<(Bytes, Capture), String> {
    let damaged = |e: img_parts::Error| format!("the {} file cannot be read: {e}", media.as_str());
    match media {
        MediaType::Jpeg => {
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(bytes).map_err(damaged)?;
            let capture = Capture::read(jpeg.exif());
            let icc = jpeg.icc_profile();
            jpeg.set_exif(None);
            jpeg.segments_mut().retain(|segment| {
                let marker = segment.marker();
                !(marker == APP1
                    || marker == APP13
                    || marker == COM
                    || (marker == APP2 && segment.contents().starts_with(MPF_PREFIX)))
            });
            jpeg.set_icc_profile(icc);
            let encoded = jpeg.encoder().bytes();
            let end = first_image_end(&encoded)
                .ok_or_else(|| format!("the {} file has no end of image", media.as_str()))?;
            Ok((encoded.slice(..end), capture))
        }
        MediaType::Png => {
            let mut png = img_parts::png::Png::from_bytes(bytes).map_err(damaged)?;
            let capture = Capture::read(png.exif());
            png.set_exif(None);
            Ok((png.encoder().bytes(), capture))
        }
        MediaType::Webp => {
            let mut webp = img_parts::webp::WebP::from_bytes(bytes).map_err(damaged)?;
            let capture = Capture::read(webp.exif());
            webp.set_exif(None);
            Ok((webp.encoder().bytes(), capture))
        }
        MediaType::Heic | MediaType::Pdf => Ok((bytes, Capture::default())),
    }
}

/// When and where a photo was taken, as its EXIF said. Held only until the differences from
/// the visit are derived (`reports::plausibility::PhotoOffsets`): neither is stored.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Capture {
    /// `DateTimeOriginal` as written (the camera's local time).
    pub local: Option<chrono::NaiveDateTime>,
    /// `OffsetTimeOriginal`, when the camera wrote it.
    pub offset: Option<chrono::FixedOffset>,
    /// GPS latitude and longitude in degrees.
    pub place: Option<(f64, f64)>,
}

impl Capture {
    /// Reads the capture's time and place from raw EXIF (a TIFF structure); nothing when it
    /// is absent or does not parse (metadata never refuses a photo).
    fn read(exif: Option<Bytes>) -> Self {
        use exif::{In, Tag, Value};
        let Some(parsed) = exif.and_then(|raw| exif::Reader::new().read_raw(raw.to_vec()).ok())
        else {
            return Capture::default();
        };
        let ascii = |tag| match &parsed.get_field(tag, In::PRIMARY)?.value {
            Value::Ascii(parts) => parts.first().cloned(),
            _ => None,
        };
        let local = ascii(Tag::DateTimeOriginal)
            .and_then(|raw| std::str::from_utf8(&raw).ok().map(str::to_string))
            .and_then(|t| {
                chrono::NaiveDateTime::parse_from_str(t.trim(), "%Y:%m:%d %H:%M:%S").ok()
            });
        let offset = ascii(Tag::OffsetTimeOriginal)
            .and_then(|raw| std::str::from_utf8(&raw).ok().map(str::to_string))
            .and_then(|t| {
                chrono::DateTime::parse_from_str(
                    &format!("2000-01-01T00:00:00{}", t.trim()),
                    "%Y-%m-%dT%H:%M:%S%:z",
                )
                .ok()
            })
            .map(|d| *d.offset());
        let degrees = |tag, reference, negative: u8| {
            let Value::Rational(parts) = &parsed.get_field(tag, In::PRIMARY)?.value else {
                return None;
            };
            let [d, m, s] = parts.as_slice() else {
                return None;
            };
            let value = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
            let sign = match ascii(reference) {
                Some(r) if r.first() == Some(&negative) => -1.0,
                _ => 1.0,
            };
            value.is_finite().then_some(sign * value)
        };
        let place = degrees(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')
            .zip(degrees(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W'))
            .filter(|(lat, lon)| lat.abs() <= 90.0 && lon.abs() <= 180.0);
        Capture {
            local,
            offset,
            place,
        }
    }

    /// The capture time as an instant: with its own offset, else in `timezone` (the
    /// location's, where the photo was meant to be taken).
    pub fn at(&self, timezone: chrono_tz::Tz) -> Option<chrono::DateTime<chrono::Utc>> {
        use chrono::TimeZone;
        let local = self.local?;
        match self.offset {
            Some(offset) => offset.from_local_datetime(&local).single(),
            None => timezone
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.fixed_offset()),
        }
        .map(|t| t.with_timezone(&chrono::Utc))
    }
}

/// The SHA-256 a `Content-Digest` header (RFC 9530) gives for the body: `sha-256=:BASE64:`,
/// possibly beside other algorithms. `Ok(None)` when the header names no sha-256 digest it
/// could check; `Err` when it is malformed.
pub fn content_digest_sha256(header: &str) -> Result<Option<[u8; 32]>, String> {
    for member in header.split(',') {
        let Some((algorithm, value)) = member.trim().split_once('=') else {
            return Err("Content-Digest is a list of algorithm=:base64: members".into());
        };
        if !algorithm.trim().eq_ignore_ascii_case("sha-256") {
            continue;
        }
        let encoded = value
            .trim()
            .strip_prefix(':')
            .and_then(|v| v.strip_suffix(':'))
            .ok_or("the sha-256 digest is a byte sequence: sha-256=:BASE64:")?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| "the sha-256 digest is not base64".to_string())?;
        let digest: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "a sha-256 digest has 32 bytes".to_string())?;
        return Ok(Some(digest));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// A minimal JPEG: SOI, an APP1 EXIF segment holding a GPS-like marker text, an XMP
    /// segment, a comment, and the rest of a (tiny) image.
    fn jpeg_with_metadata() -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        let segment = |marker: u8, body: &[u8]| {
            let len = u16::try_from(body.len() + 2).unwrap().to_be_bytes();
            let mut s = vec![0xFF, marker, len[0], len[1]];
            s.extend_from_slice(body);
            s
        };
        out.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        out.extend(segment(
            APP1,
            b"Exif\0\0GPSLatitude 38.7111 SerialNumber X1",
        ));
        let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
        xmp.extend_from_slice(b"<x:xmpmeta>GPSLongitude</x:xmpmeta>");
        out.extend(segment(APP1, &xmp));
        let mut extended = b"http://ns.adobe.com/xmp/extension/\0".to_vec();
        extended.extend_from_slice(b"0123456789ABCDEF0123456789ABCDEF<GPSAltitude/>");
        out.extend(segment(APP1, &extended));
        out.extend(segment(APP2, b"MPF\0II*\0index of the next image"));
        out.extend(segment(COM, b"taken by phone 123"));
        // A quantisation table stands in for the image; then end of image.
        out.extend(segment(0xDB, &[0u8; 65]));
        out.extend(segment(0xDA, &[0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]));
        out.extend_from_slice(&[0x00, 0x11, 0xFF, 0x00, 0xFF, 0xD3, 0x22, 0xFF, 0xD9]);
        // A second image after the first (a multi-picture file), with its own EXIF.
        out.extend_from_slice(&[0xFF, 0xD8]);
        out.extend(segment(APP1, b"Exif\0\0GPSLatitude 38.7199 second image"));
        out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x55, 0xFF, 0xD9]);
        out
    }

    #[test]
    fn types_are_told_by_their_first_bytes() {
        assert_eq!(
            MediaType::sniff(&jpeg_with_metadata()),
            Some(MediaType::Jpeg)
        );
        assert_eq!(
            MediaType::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(MediaType::Png)
        );
        assert_eq!(MediaType::sniff(b"%PDF-1.7\n"), Some(MediaType::Pdf));
        assert_eq!(
            MediaType::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(MediaType::Webp)
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Some(MediaType::Heic)
        );
        assert_eq!(MediaType::sniff(b"\0\0\0\x18ftypmp42\0\0\0\0"), None);
        assert_eq!(MediaType::sniff(b"GIF89a"), None);
        assert_eq!(MediaType::sniff(b""), None);
        assert_eq!(
            MediaType::from_content_type("IMAGE/JPEG; charset=binary"),
            Some(MediaType::Jpeg)
        );
        assert_eq!(MediaType::from_content_type("image/gif"), None);
    }

    #[test]
    fn jpeg_metadata_is_removed_and_the_image_kept() {
        let original = jpeg_with_metadata();
        let (stored, _) = strip_metadata(MediaType::Jpeg, Bytes::from(original.clone())).unwrap();
        let text = String::from_utf8_lossy(&stored);
        for gone in [
            "GPSLatitude",
            "SerialNumber",
            "GPSLongitude",
            "GPSAltitude",
            "phone 123",
            "Exif",
            "MPF",
            "second image",
        ] {
            assert!(!text.contains(gone), "{gone} is still there");
        }
        assert!(text.contains("JFIF"));
        assert!(stored.ends_with(&[0x00, 0x11, 0xFF, 0x00, 0xFF, 0xD3, 0x22, 0xFF, 0xD9]));
        assert!(stored.len() < original.len());
        // Stripping again changes nothing.
        let (again, capture) = strip_metadata(MediaType::Jpeg, stored.clone()).unwrap();
        assert_eq!(again, stored);
        assert_eq!(capture, Capture::default());
        // A file that only starts like a JPEG is refused.
        assert!(strip_metadata(MediaType::Jpeg, Bytes::from_static(&[0xFF, 0xD8, 0xFF])).is_err());
    }

    #[test]
    fn content_digests_are_read_as_rfc_9530_says() {
        let digest: [u8; 32] = Sha256::digest(b"hello").into();
        let header = format!("sha-256=:{}:", STANDARD.encode(digest));
        assert_eq!(content_digest_sha256(&header), Ok(Some(digest)));
        let both = format!("sha-512=:AAAA:, SHA-256=:{}:", STANDARD.encode(digest));
        assert_eq!(content_digest_sha256(&both), Ok(Some(digest)));
        assert_eq!(content_digest_sha256("sha-512=:AAAA:"), Ok(None));
        assert!(content_digest_sha256("sha-256=abc").is_err());
        assert!(content_digest_sha256("sha-256=:!!!:").is_err());
        assert!(content_digest_sha256("sha-256=:AAAA:").is_err());
        assert!(content_digest_sha256("nonsense").is_err());
    }
}
