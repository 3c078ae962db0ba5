//! Plausibility flags: things a reviewer should look at, never reasons to refuse a report.
//! Pure: no I/O.

use chrono::{TimeDelta, Utc};

use super::model::{CLOCK_SKEW_MINUTES, Flag, FlagCode, ReportSubmission, SHORT_VISIT_SECONDS};
use crate::locations::model::Location;

/// Great-circle distance in metres.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// Plausibility flags for a valid submission.
pub fn flags(sub: &ReportSubmission, location: &Location, radius_m: f64) -> Vec<Flag> {
    let mut flags = Vec::new();
    let started = sub.visit.started_at.with_timezone(&Utc);
    let ended = sub.visit.ended_at.with_timezone(&Utc);
    if (ended - started).num_seconds() < SHORT_VISIT_SECONDS {
        flags.push(Flag {
            code: FlagCode::ShortVisit,
            message: format!(
                "the visit lasted {} s, under 2 minutes",
                (ended - started).num_seconds()
            ),
        });
    }
    if let Some(c) = &sub.check_in {
        if let (Some(lat), Some(lon)) = (location.fields.latitude, location.fields.longitude) {
            let distance = haversine_m(c.lat, c.lon, lat, lon);
            if distance > radius_m {
                flags.push(Flag {
                    code: FlagCode::FarCheckIn,
                    message: format!(
                        "checked in {distance:.0} m from the location (limit {radius_m:.0} m)"
                    ),
                });
            }
        }
        let at = c.at.with_timezone(&Utc);
        // The check-in usually happens just before the visit starts; allow the same skew.
        if at < started - TimeDelta::minutes(CLOCK_SKEW_MINUTES) || at > ended {
            flags.push(Flag {
                code: FlagCode::CheckInOutsideVisit,
                message: "the check-in time is outside the visit".into(),
            });
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_great_circle_metres() {
        // Lisbon to Porto is about 274 km.
        let d = haversine_m(38.7223, -9.1393, 41.1579, -8.6291);
        assert!((270_000.0..280_000.0).contains(&d), "{d}");
        assert!(haversine_m(38.7, -9.1, 38.7, -9.1) < 0.001);
    }
}
