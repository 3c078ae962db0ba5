//! Waves, assignments, shopper exclusions and the programme settings.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{assignments, programme_settings, shopper_exclusions, waves};
use super::{DbConn, bad_data};
use crate::ids::{AssignmentId, LocationId, OrgId, ReportId, UserId, WaveId};
use crate::programme::model::{Assignment, AssignmentStatus, ProgrammeSettings, Wave};
use crate::programme::rules::LockoutRules;
use crate::programme::schedule::Slot;

const DATE_FORMAT: &str = "%Y-%m-%d";

pub(crate) fn date(s: &str) -> QueryResult<NaiveDate> {
    NaiveDate::parse_from_str(s, DATE_FORMAT)
        .map_err(|e| bad_data(format!("bad stored date `{s}`: {e}")))
}

pub(crate) fn text(d: NaiveDate) -> String {
    d.format(DATE_FORMAT).to_string()
}

// ------------------------------------------------------------------------ settings

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = programme_settings, treat_none_as_null = true)]
struct SettingsRow {
    org_id: OrgId,
    lockout_days: Option<i32>,
    max_visits_per_location_per_year: Option<i32>,
    require_assignment: bool,
    updated_at: NaiveDateTime,
}

/// The organization's settings (every rule off when it never set them).
pub fn settings(conn: &mut DbConn, org: OrgId) -> QueryResult<ProgrammeSettings> {
    let row = programme_settings::table
        .filter(programme_settings::org_id.eq(org))
        .select(SettingsRow::as_select())
        .first(conn)
        .optional()?;
    let positive = |v: Option<i32>| v.and_then(|n| u32::try_from(n).ok());
    Ok(
        row.map_or_else(ProgrammeSettings::default, |r| ProgrammeSettings {
            rules: LockoutRules {
                lockout_days: positive(r.lockout_days),
                max_visits_per_location_per_year: positive(r.max_visits_per_location_per_year),
            },
            require_assignment: r.require_assignment,
        }),
    )
}

pub fn put_settings(
    conn: &mut DbConn,
    org: OrgId,
    s: &ProgrammeSettings,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let signed = |v: Option<u32>| v.and_then(|n| i32::try_from(n).ok());
    let row = SettingsRow {
        org_id: org,
        lockout_days: signed(s.rules.lockout_days),
        max_visits_per_location_per_year: signed(s.rules.max_visits_per_location_per_year),
        require_assignment: s.require_assignment,
        updated_at: at.naive_utc(),
    };
    // One code path for both backends: update, else insert (callers hold a write
    // transaction).
    let updated =
        diesel::update(programme_settings::table.filter(programme_settings::org_id.eq(org)))
            .set(&row)
            .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(programme_settings::table)
            .values(&row)
            .execute(conn)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------- exclusions

pub fn exclusions(conn: &mut DbConn, org: OrgId, shopper: UserId) -> QueryResult<Vec<LocationId>> {
    shopper_exclusions::table
        .filter(shopper_exclusions::org_id.eq(org))
        .filter(shopper_exclusions::shopper_id.eq(shopper))
        .select(shopper_exclusions::location_id)
        .order(shopper_exclusions::location_id.asc())
        .load(conn)
}

/// Every exclusion of the organization, as (shopper, location).
pub fn all_exclusions(conn: &mut DbConn, org: OrgId) -> QueryResult<Vec<(UserId, LocationId)>> {
    shopper_exclusions::table
        .filter(shopper_exclusions::org_id.eq(org))
        .select((
            shopper_exclusions::shopper_id,
            shopper_exclusions::location_id,
        ))
        .load(conn)
}

pub fn is_excluded(
    conn: &mut DbConn,
    org: OrgId,
    shopper: UserId,
    location: LocationId,
) -> QueryResult<bool> {
    Ok(shopper_exclusions::table
        .filter(shopper_exclusions::org_id.eq(org))
        .filter(shopper_exclusions::shopper_id.eq(shopper))
        .filter(shopper_exclusions::location_id.eq(location))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Replaces a shopper's exclusions.
pub fn set_exclusions(
    conn: &mut DbConn,
    org: OrgId,
    shopper: UserId,
    locations: &[LocationId],
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::delete(
        shopper_exclusions::table
            .filter(shopper_exclusions::org_id.eq(org))
            .filter(shopper_exclusions::shopper_id.eq(shopper)),
    )
    .execute(conn)?;
    let now = at.naive_utc();
    for location in locations {
        diesel::insert_into(shopper_exclusions::table)
            .values((
                shopper_exclusions::org_id.eq(org),
                shopper_exclusions::shopper_id.eq(shopper),
                shopper_exclusions::location_id.eq(*location),
                shopper_exclusions::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// --------------------------------------------------------------------------- waves

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = waves, treat_none_as_null = true)]
struct WaveRow {
    org_id: OrgId,
    id: WaveId,
    name: String,
    starts_on: String,
    ends_on: String,
    questionnaire_key: String,
    visits_per_location: i32,
    region: Option<String>,
    tag: Option<String>,
    closed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl WaveRow {
    fn of(w: &Wave) -> Self {
        WaveRow {
            org_id: w.org_id,
            id: w.id,
            name: w.name.clone(),
            starts_on: text(w.starts_on),
            ends_on: text(w.ends_on),
            questionnaire_key: w.questionnaire_key.clone(),
            visits_per_location: i32::try_from(w.visits_per_location).unwrap_or(i32::MAX),
            region: w.region.clone(),
            tag: w.tag.clone(),
            closed_at: w.closed_at.map(|t| t.naive_utc()),
            created_at: w.created_at.naive_utc(),
            updated_at: w.updated_at.naive_utc(),
        }
    }

    fn into_wave(self) -> QueryResult<Wave> {
        Ok(Wave {
            id: self.id,
            org_id: self.org_id,
            name: self.name,
            starts_on: date(&self.starts_on)?,
            ends_on: date(&self.ends_on)?,
            questionnaire_key: self.questionnaire_key,
            visits_per_location: u32::try_from(self.visits_per_location)
                .map_err(|_| bad_data("negative visits_per_location".into()))?,
            region: self.region,
            tag: self.tag,
            closed_at: self.closed_at.map(|t| t.and_utc()),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

pub fn insert_wave(conn: &mut DbConn, w: &Wave) -> QueryResult<()> {
    diesel::insert_into(waves::table)
        .values(WaveRow::of(w))
        .execute(conn)?;
    Ok(())
}

pub fn update_wave(conn: &mut DbConn, w: &Wave) -> QueryResult<()> {
    diesel::update(
        waves::table
            .filter(waves::org_id.eq(w.org_id))
            .filter(waves::id.eq(w.id)),
    )
    .set(WaveRow::of(w))
    .execute(conn)?;
    Ok(())
}

/// Serialises the planning of one wave (what it still needs is read, then planned):
/// PostgreSQL locks the wave's row until the transaction ends; SQLite already runs write
/// transactions one at a time.
pub fn lock_wave(conn: &mut DbConn, org: OrgId, id: WaveId) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("SELECT id FROM waves WHERE org_id = $1 AND id = $2 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(org.to_string())
            .bind::<diesel::sql_types::Text, _>(id.to_string())
            .execute(pg)?;
    }
    Ok(())
}

pub fn find_wave(conn: &mut DbConn, org: OrgId, id: WaveId) -> QueryResult<Option<Wave>> {
    waves::table
        .filter(waves::org_id.eq(org))
        .filter(waves::id.eq(id))
        .select(WaveRow::as_select())
        .first(conn)
        .optional()?
        .map(WaveRow::into_wave)
        .transpose()
}

/// The organization's waves, latest start first, after `(starts_on, id)` of the previous
/// page.
pub fn list_waves(
    conn: &mut DbConn,
    org: OrgId,
    after: Option<(NaiveDate, WaveId)>,
    limit: i64,
) -> QueryResult<Vec<Wave>> {
    let mut query = waves::table
        .filter(waves::org_id.eq(org))
        .select(WaveRow::as_select())
        .order((waves::starts_on.desc(), waves::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((starts, id)) = after {
        let starts = text(starts);
        query = query.filter(
            waves::starts_on
                .lt(starts.clone())
                .or(waves::starts_on.eq(starts).and(waves::id.lt(id))),
        );
    }
    query
        .load::<WaveRow>(conn)?
        .into_iter()
        .map(WaveRow::into_wave)
        .collect()
}

// --------------------------------------------------------------------- assignments

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = assignments, treat_none_as_null = true)]
struct AssignmentRow {
    org_id: OrgId,
    id: AssignmentId,
    wave_id: WaveId,
    location_id: LocationId,
    shopper_id: Option<UserId>,
    visit_from: String,
    visit_to: String,
    slot: Option<Slot>,
    instructions: String,
    status: AssignmentStatus,
    report_id: Option<ReportId>,
    decline_reason: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl AssignmentRow {
    fn of(a: &Assignment) -> Self {
        AssignmentRow {
            org_id: a.org_id,
            id: a.id,
            wave_id: a.wave_id,
            location_id: a.location_id,
            shopper_id: a.shopper_id,
            visit_from: text(a.visit_from),
            visit_to: text(a.visit_to),
            slot: a.slot,
            instructions: a.instructions.clone(),
            status: a.status,
            report_id: a.report_id,
            decline_reason: a.decline_reason.clone(),
            created_at: a.created_at.naive_utc(),
            updated_at: a.updated_at.naive_utc(),
        }
    }

    fn into_assignment(self) -> QueryResult<Assignment> {
        Ok(Assignment {
            id: self.id,
            org_id: self.org_id,
            wave_id: self.wave_id,
            location_id: self.location_id,
            shopper_id: self.shopper_id,
            visit_from: date(&self.visit_from)?,
            visit_to: date(&self.visit_to)?,
            slot: self.slot,
            instructions: self.instructions,
            status: self.status,
            report_id: self.report_id,
            decline_reason: self.decline_reason,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

fn load(rows: Vec<AssignmentRow>) -> QueryResult<Vec<Assignment>> {
    rows.into_iter()
        .map(AssignmentRow::into_assignment)
        .collect()
}

pub fn insert_assignment(conn: &mut DbConn, a: &Assignment) -> QueryResult<()> {
    diesel::insert_into(assignments::table)
        .values(AssignmentRow::of(a))
        .execute(conn)?;
    Ok(())
}

/// Writes `a` if its stored status and shopper are still `expected` (compare and set, so of
/// two concurrent changes one wins); returns whether it did.
pub fn update_assignment_if(
    conn: &mut DbConn,
    a: &Assignment,
    expected: (AssignmentStatus, Option<UserId>),
) -> QueryResult<bool> {
    let target = assignments::table
        .filter(assignments::org_id.eq(a.org_id))
        .filter(assignments::id.eq(a.id))
        .filter(assignments::status.eq(expected.0));
    let changed = match expected.1 {
        Some(shopper) => diesel::update(target.filter(assignments::shopper_id.eq(shopper)))
            .set(AssignmentRow::of(a))
            .execute(conn)?,
        None => diesel::update(target.filter(assignments::shopper_id.is_null()))
            .set(AssignmentRow::of(a))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

pub fn find_assignment(
    conn: &mut DbConn,
    org: OrgId,
    id: AssignmentId,
) -> QueryResult<Option<Assignment>> {
    assignments::table
        .filter(assignments::org_id.eq(org))
        .filter(assignments::id.eq(id))
        .select(AssignmentRow::as_select())
        .first(conn)
        .optional()?
        .map(AssignmentRow::into_assignment)
        .transpose()
}

/// A wave's assignments, by location, then window.
pub fn wave_assignments(
    conn: &mut DbConn,
    org: OrgId,
    wave: WaveId,
) -> QueryResult<Vec<Assignment>> {
    load(
        assignments::table
            .filter(assignments::org_id.eq(org))
            .filter(assignments::wave_id.eq(wave))
            .select(AssignmentRow::as_select())
            .order((
                assignments::location_id.asc(),
                assignments::visit_from.asc(),
                assignments::id.asc(),
            ))
            .load(conn)?,
    )
}

/// A shopper's assignments, earliest window end first.
pub fn shopper_assignments(
    conn: &mut DbConn,
    org: OrgId,
    shopper: UserId,
) -> QueryResult<Vec<Assignment>> {
    load(
        assignments::table
            .filter(assignments::org_id.eq(org))
            .filter(assignments::shopper_id.eq(shopper))
            .select(AssignmentRow::as_select())
            .order((assignments::visit_to.asc(), assignments::id.asc()))
            .load(conn)?,
    )
}

/// Open assignments (no shopper) whose window has not ended before `from`.
pub fn open_assignments(
    conn: &mut DbConn,
    org: OrgId,
    from: NaiveDate,
) -> QueryResult<Vec<Assignment>> {
    load(
        assignments::table
            .filter(assignments::org_id.eq(org))
            .filter(assignments::status.eq(AssignmentStatus::Open))
            .filter(assignments::visit_to.ge(text(from)))
            .select(AssignmentRow::as_select())
            .order((assignments::visit_to.asc(), assignments::id.asc()))
            .load(conn)?,
    )
}

/// The assignment a report completed, if any.
pub fn assignment_of_report(
    conn: &mut DbConn,
    org: OrgId,
    report: ReportId,
) -> QueryResult<Option<Assignment>> {
    assignments::table
        .filter(assignments::org_id.eq(org))
        .filter(assignments::report_id.eq(report))
        .select(AssignmentRow::as_select())
        .first(conn)
        .optional()?
        .map(AssignmentRow::into_assignment)
        .transpose()
}

/// The active assignments (open, assigned, accepted) of a shopper at a location: visits the
/// lockout rules count.
pub fn active_for(
    conn: &mut DbConn,
    org: OrgId,
    shopper: UserId,
    location: LocationId,
) -> QueryResult<Vec<Assignment>> {
    load(
        assignments::table
            .filter(assignments::org_id.eq(org))
            .filter(assignments::shopper_id.eq(shopper))
            .filter(assignments::location_id.eq(location))
            .filter(
                assignments::status
                    .eq_any([AssignmentStatus::Assigned, AssignmentStatus::Accepted]),
            )
            .select(AssignmentRow::as_select())
            .load(conn)?,
    )
}

/// Every active assignment with a shopper, of the organization (for planning).
pub fn all_active(conn: &mut DbConn, org: OrgId) -> QueryResult<Vec<Assignment>> {
    load(
        assignments::table
            .filter(assignments::org_id.eq(org))
            .filter(assignments::shopper_id.is_not_null())
            .filter(
                assignments::status
                    .eq_any([AssignmentStatus::Assigned, AssignmentStatus::Accepted]),
            )
            .select(AssignmentRow::as_select())
            .load(conn)?,
    )
}

/// The local dates of a shopper's reports at a location since `from` (visits the lockout
/// rules count; `except` leaves one report out, e.g. the one being revised).
pub fn visit_dates(
    conn: &mut DbConn,
    org: OrgId,
    shopper: UserId,
    location: LocationId,
    from: NaiveDate,
    except: Option<ReportId>,
) -> QueryResult<Vec<NaiveDate>> {
    use super::schema::reports;
    let mut query = reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::shopper_id.eq(shopper))
        .filter(reports::location_id.eq(location))
        .filter(reports::visit_local_date.ge(text(from)))
        .select(reports::visit_local_date)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(reports::id.ne(id));
    }
    query
        .load::<String>(conn)?
        .iter()
        .map(|d| date(d))
        .collect()
}

/// Every (shopper, location, local date) of the organization's reports since `from`.
pub fn all_visit_dates(
    conn: &mut DbConn,
    org: OrgId,
    from: NaiveDate,
) -> QueryResult<Vec<(UserId, LocationId, NaiveDate)>> {
    use super::schema::reports;
    reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::visit_local_date.ge(text(from)))
        .select((
            reports::shopper_id,
            reports::location_id,
            reports::visit_local_date,
        ))
        .load::<(UserId, LocationId, String)>(conn)?
        .into_iter()
        .map(|(s, l, d)| Ok((s, l, date(&d)?)))
        .collect()
}

/// Every (location, local date) of one shopper's reports since `from`.
pub fn shopper_visit_dates(
    conn: &mut DbConn,
    org: OrgId,
    shopper: UserId,
    from: NaiveDate,
) -> QueryResult<Vec<(LocationId, NaiveDate)>> {
    use super::schema::reports;
    reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::shopper_id.eq(shopper))
        .filter(reports::visit_local_date.ge(text(from)))
        .select((reports::location_id, reports::visit_local_date))
        .load::<(LocationId, String)>(conn)?
        .into_iter()
        .map(|(l, d)| Ok((l, date(&d)?)))
        .collect()
}
