//! The report export as a stream of CSV chunks: one page of reports read, written and sent
//! at a time, so memory stays flat whatever the number of rows.

use std::collections::HashMap;

use actix_web::web::Bytes;
use futures_util::Stream;

use super::rows::{self, ReportColumns};
use crate::db::questionnaires::Wording;
use crate::db::reports::{ReportCursor, ReportFilter};
use crate::db::{
    Db, DbError, locations as locations_store, questionnaires as questionnaires_store,
};
use crate::ids::{LocationId, OrgId, QuestionnaireId};
use crate::locations::model::Location;
use crate::reports::model::{Report, Visibility};
use crate::reports::service::{self as reports_service, ReportError};

/// Reports read per page.
const PAGE: i64 = 500;

/// One row per report, or one row per answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Reports,
    Answers,
}

impl Layout {
    /// The name of the downloaded file.
    pub fn file_name(self) -> &'static str {
        match self {
            Layout::Reports => "reports.csv",
            Layout::Answers => "report-answers.csv",
        }
    }
}

/// What to export, already checked.
pub struct ReportExport {
    pub org: OrgId,
    pub scope: Visibility,
    pub filter: ReportFilter,
    pub layout: Layout,
    pub personal: bool,
}

/// A questionnaire version as an export needs it.
struct Version {
    number: i32,
    /// Question key → section key.
    sections: HashMap<String, String>,
}

struct State {
    db: Db,
    export: ReportExport,
    columns: Option<ReportColumns>,
    after: Option<ReportCursor>,
    done: bool,
    locations: HashMap<LocationId, Option<Location>>,
    versions: HashMap<QuestionnaireId, Option<Version>>,
    /// Section titles and question texts in the header language asked for.
    wording: Option<Wording>,
}

/// CSV records as bytes (RFC 4180 quoting).
pub fn csv_bytes(records: impl IntoIterator<Item = Vec<String>>) -> Result<Bytes, std::io::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in records {
        writer
            .write_record(&record)
            .map_err(std::io::Error::other)?;
    }
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// The section keys of the latest version of `key`, in order (the export's section columns).
pub async fn section_keys(db: &Db, org: OrgId, key: String) -> Result<Vec<String>, DbError> {
    db.run(move |conn| {
        Ok(questionnaires_store::latest(conn, org, &key)?
            .map(|q| q.content.sections.into_iter().map(|s| s.key).collect())
            .unwrap_or_default())
    })
    .await
}

/// The section titles and question texts of `key`'s versions (all questionnaires' when
/// `None`) in `language`, where they have it (else their source).
pub async fn wording_in(
    db: &Db,
    org: OrgId,
    key: Option<String>,
    language: String,
) -> Result<Wording, DbError> {
    db.run(move |conn| {
        Ok(questionnaires_store::wording_of(
            conn,
            org,
            key.as_deref(),
            &[language],
        )?)
    })
    .await
}

/// The export as CSV chunks: the header first (with `wording`, a second header row of
/// section titles, or a `question_text` column), then a chunk per page of reports.
pub fn report_csv(
    db: Db,
    export: ReportExport,
    sections: Vec<String>,
    wording: Option<Wording>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let personal = export.personal;
    let state = State {
        db,
        columns: (export.layout == Layout::Reports).then_some(ReportColumns { sections, personal }),
        export,
        after: None,
        done: false,
        locations: HashMap::new(),
        versions: HashMap::new(),
        wording,
    };
    let header = match (&state.columns, &state.wording) {
        (Some(columns), None) => vec![columns.header()],
        (Some(columns), Some(wording)) => {
            vec![columns.header(), columns.labels(&wording.sections)]
        }
        (None, wording) => vec![rows::answer_header(personal, wording.is_some())],
    };
    let first = futures_util::stream::once(async move { csv_bytes(header) });
    let pages = futures_util::stream::try_unfold(state, |mut state| async move {
        if state.done {
            return Ok(None);
        }
        let page = next_page(&mut state).await?;
        Ok(Some((page, state)))
    });
    futures_util::StreamExt::chain(first, pages)
}

async fn next_page(state: &mut State) -> Result<Bytes, std::io::Error> {
    let e = &state.export;
    let (reports, _, _) = reports_service::list_visible(
        &state.db,
        e.org,
        e.scope,
        e.filter.clone(),
        crate::db::reports::Listing::Created {
            after: state.after.clone(),
            newest_first: false,
        },
        PAGE,
    )
    .await
    .map_err(std::io::Error::other)?;
    state.done = (reports.len() as i64) < PAGE;
    state.after = reports.last().map(|r| ReportCursor {
        created_at: r.created_at,
        id: r.id,
    });
    lookup(state, &reports)
        .await
        .map_err(std::io::Error::other)?;
    let mut records = Vec::new();
    for r in &reports {
        let location = state.locations.get(&r.location_id).and_then(Option::as_ref);
        let version = state
            .versions
            .get(&r.questionnaire_id)
            .and_then(Option::as_ref);
        match &state.columns {
            Some(columns) => records.push(columns.record(r, location, version.map(|v| v.number))),
            None => {
                let section_of = |q: &str| version.and_then(|v| v.sections.get(q).cloned());
                records.extend(rows::answer_records(
                    r,
                    location,
                    &section_of,
                    state.wording.as_ref().map(|w| &w.questions),
                    state.export.personal,
                ));
            }
        }
    }
    csv_bytes(records)
}

/// Loads the locations and questionnaire versions of `reports` not seen yet.
async fn lookup(state: &mut State, reports: &[Report]) -> Result<(), ReportError> {
    let org = state.export.org;
    let mut locations: Vec<LocationId> = reports
        .iter()
        .map(|r| r.location_id)
        .filter(|id| !state.locations.contains_key(id))
        .collect();
    locations.sort();
    locations.dedup();
    let mut versions: Vec<QuestionnaireId> = reports
        .iter()
        .map(|r| r.questionnaire_id)
        .filter(|id| !state.versions.contains_key(id))
        .collect();
    versions.sort();
    versions.dedup();
    if locations.is_empty() && versions.is_empty() {
        return Ok(());
    }
    let (found_locations, found_versions) = state
        .db
        .run(move |conn| {
            let mut ls = Vec::new();
            for id in locations {
                ls.push((id, locations_store::find(conn, org, id)?));
            }
            let mut vs = Vec::new();
            for id in versions {
                let v = questionnaires_store::find(conn, org, id)?.map(|q| Version {
                    number: q.version,
                    sections: q
                        .content
                        .sections
                        .iter()
                        .flat_map(|s| s.questions.iter().map(|x| (x.key.clone(), s.key.clone())))
                        .collect(),
                });
                vs.push((id, v));
            }
            Ok::<_, DbError>((ls, vs))
        })
        .await?;
    state.locations.extend(found_locations);
    state.versions.extend(found_versions);
    Ok(())
}
