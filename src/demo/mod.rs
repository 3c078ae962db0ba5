//! `secondmile demo` and `serve --demo`: a living demo organization (Hearth & Home, a chain
//! of 40 antique and home-goods stores) with six months of visit reports. Every report goes
//! through the same use cases as the API (validation, scoring, review, rollups); only the
//! choices a shopper and a reviewer would make come from a seeded random source, so a seed
//! always gives the same figures.

mod fates;
mod languages;
mod plans;
mod unfinished;
pub mod visits;
pub mod world;

use fates::{Plan, plan_visit, run_visit};
pub use unfinished::{remove as remove_unfinished, unfinished};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use futures_util::StreamExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::audit::model::Actor;
use crate::auth::bootstrap::{self, BootstrapError};
use crate::auth::extractor::{AuthUser, Principal};
use crate::auth::model::{Email, Password, Role, Scope};
use crate::auth::service::{self as auth_service, AuthError, NewUser};
use crate::config::ReportsConfig;
use crate::db::{Db, DbError, identity};
use crate::ids::{ClientId, LocationId, OrgId, ReportId, UserId};
use crate::locations::model::RawLocation;
use crate::locations::service::{self as locations_service, LocationError};
use crate::programme::commands::{GeneratePlan, NewWave};
use crate::programme::model::ProgrammeSettings;
use crate::programme::rules::{self, DateRange};
use crate::programme::service as programme_service;
use crate::questionnaires::dto::CreateQuestionnaireRequest;
use crate::questionnaires::model::Questionnaire;
use crate::questionnaires::service::{self as questionnaires_service, QuestionnaireError};
use crate::reports::model::{CheckIn, ClientInfo, ReportSubmission, StaffObserved, Visit};
use crate::reports::service::{self as reports_service, Decision, ReportError};
use crate::reports::workflow::Action;

/// The example questionnaires shipped in `examples/`.
const STORE_VISIT: &str = include_str!("../../examples/questionnaire.json");
/// Shoppers of the field team besides the six named ones: enough for the six months of
/// visits to respect the demo's lockout rules ([`DEMO_RULES`]).
const FIELD_SHOPPERS: usize = 40;
/// The demo organization's lockout rules: 90 days between a shopper's visits to a store,
/// at most 4 a year.
const DEMO_RULES: crate::programme::rules::LockoutRules = crate::programme::rules::LockoutRules {
    lockout_days: Some(90),
    max_visits_per_location_per_year: Some(4),
};
const PHONE_SUPPORT: &str = include_str!("../../examples/phone-support.json");

/// Days of history, ending two days before today (so no visit is in the future anywhere).
const HISTORY_DAYS: i64 = 182;
/// Visits per store over the history, on average (40 stores: about 2,700 reports).
pub const VISITS_PER_STORE: u32 = 75;
/// Stores whose visits load at the same time.
const STORES_AT_ONCE: usize = 6;
/// Share of visits that are phone calls (the second questionnaire).
const PHONE_SHARE: f64 = 0.2;

/// What to load.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    /// One password for every demo user (otherwise each gets a generated one).
    pub password: Option<String>,
    /// Add the demo organization even when the database has organizations.
    pub force_new_org: bool,
    /// Visits per store on average ([`VISITS_PER_STORE`]; fewer for quick tests).
    pub visits_per_store: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the database already has {0} organization(s); the demo goes into an empty database (or pass --force-new-org)"
    )]
    NotEmpty(i64),
    #[error("{0}")]
    Invalid(String),
    #[error("demo data refused by the API's own rules: {0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<BootstrapError> for DemoError {
    fn from(e: BootstrapError) -> Self {
        match e {
            BootstrapError::Database(e) => DemoError::Db(e),
            other => DemoError::Invalid(other.to_string()),
        }
    }
}

macro_rules! refused {
    ($($t:ty),*) => {$(
        impl From<$t> for DemoError {
            fn from(e: $t) -> Self {
                DemoError::Refused(format!("{e:?}"))
            }
        }
    )*};
}
refused!(
    AuthError,
    LocationError,
    QuestionnaireError,
    ReportError,
    serde_json::Error
);

/// A demo user's credentials, printed once.
#[derive(Debug, Clone)]
pub struct Account {
    pub role: Role,
    pub email: String,
    pub password: String,
    pub note: String,
}

/// What the demo created.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub org_id: OrgId,
    pub org_name: String,
    pub accounts: Vec<Account>,
    pub client_id: ClientId,
    pub client_secret: String,
    /// The scopes the integration client was given (the banner lists them).
    pub client_scopes: Vec<Scope>,
    pub locations: usize,
    pub reports: Tally,
}

/// How the demo's reports ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub submitted: u64,
    pub approved: u64,
    pub rejected: u64,
    pub returned: u64,
    /// Returned, revised by the shopper, then decided.
    pub revised: u64,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.submitted + self.approved + self.rejected + self.returned
    }
}

/// Progress of the reports, for a bar or plain lines.
pub trait Progress {
    fn start(&mut self, total: u64);
    fn advance(&mut self, done: u64);
    fn finish(&mut self);
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&mut self, _: u64) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self) {}
}

/// A bar on a terminal, a line every 500 reports otherwise (on standard error).
pub enum Shown {
    Bar(indicatif::ProgressBar),
    Lines(u64),
}

impl Shown {
    pub fn for_stderr() -> Self {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} demo visit reports")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Shown::Bar(bar)
        } else {
            Shown::Lines(0)
        }
    }
}

impl Progress for Shown {
    fn start(&mut self, total: u64) {
        match self {
            Shown::Bar(bar) => bar.set_length(total),
            Shown::Lines(_) => eprintln!("loading {total} demo visit reports"),
        }
    }

    fn advance(&mut self, done: u64) {
        match self {
            Shown::Bar(bar) => bar.set_position(done),
            Shown::Lines(last) => {
                if done >= *last + 500 {
                    eprintln!("{done} demo visit reports loaded");
                    *last = done;
                }
            }
        }
    }

    fn finish(&mut self) {
        if let Shown::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// Whether the database has no organization yet.
pub fn is_empty(db: &Db) -> Result<bool, DemoError> {
    let mut conn = db.get()?;
    Ok(identity::count_organizations(&mut conn).map_err(DbError::Query)? == 0)
}

/// One of `texts`, drawn as `texts[rng.random_range(0..len)]` (the same draw, so a seed gives
/// the same demo as before), or "" for an empty list.
fn pick(rng: &mut impl Rng, texts: &[&'static str]) -> &'static str {
    if texts.is_empty() {
        return "";
    }
    texts
        .get(rng.random_range(0..texts.len()))
        .copied()
        .unwrap_or_default()
}

/// A password of 20 random characters (never derived from the seed).
fn generated_password() -> Result<String, DemoError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| DemoError::Invalid(e.to_string()))?;
    let chars: String = bytes
        .iter()
        .filter_map(|b| ALPHABET.get(usize::from(*b) % ALPHABET.len()))
        .map(|b| char::from(*b))
        .collect();
    Ok(format!(
        "{}-{}-{}-{}",
        &chars[0..5],
        &chars[5..10],
        &chars[10..15],
        &chars[15..20]
    ))
}

fn caller(org: OrgId, id: UserId, role: Role) -> AuthUser {
    AuthUser {
        org_id: org,
        principal: Principal::User { id, role },
        scopes: role.scopes(),
    }
}

/// The demo's users: role, email local part, display name, what they are for.
const USERS: [(Role, &str, &str, &str); 10] = [
    (
        Role::Reviewer,
        "reviewer",
        "Rosa Reviewer",
        "works the review queue",
    ),
    (
        Role::Analyst,
        "analyst",
        "Ana Analyst",
        "HQ analytics, read-only",
    ),
    (
        Role::Manager,
        "manager.europe",
        "Marta Manager",
        "manages the Europe stores",
    ),
    (
        Role::Manager,
        "manager.east",
        "Mike Manager",
        "manages the US East Coast stores",
    ),
    (Role::Shopper, "shopper1", "Sam Shopper", "mystery shopper"),
    (
        Role::Shopper,
        "shopper2",
        "Sasha Shopper",
        "mystery shopper",
    ),
    (Role::Shopper, "shopper3", "Sol Shopper", "mystery shopper"),
    (Role::Shopper, "shopper4", "Suki Shopper", "mystery shopper"),
    (Role::Shopper, "shopper5", "Sven Shopper", "mystery shopper"),
    (
        Role::Shopper,
        "shopper6",
        "Simone Shopper",
        "mystery shopper",
    ),
];

/// Loads the demo organization. `today` anchors the six months of history.
pub async fn load(
    db: &Db,
    rules: &ReportsConfig,
    options: &DemoOptions,
    today: NaiveDate,
    progress: &mut dyn Progress,
) -> Result<Loaded, DemoError> {
    let existing = {
        let mut conn = db.get()?;
        identity::count_organizations(&mut conn).map_err(DbError::Query)?
    };
    if existing > 0 && !options.force_new_org {
        return Err(DemoError::NotEmpty(existing));
    }
    if let Some(p) = &options.password {
        Password::parse(p.clone()).map_err(|e| DemoError::Invalid(format!("--password: {e}")))?;
    }
    // A second demo organization gets its own email domain (emails are unique).
    let domain = if existing == 0 {
        "hearth-home.example".to_string()
    } else {
        format!("hearth-home-{}.example", existing + 1)
    };
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    // Until the last step is done, the database says a demo is being loaded.
    unfinished::mark(db, &domain)?;

    // The organization, its admin and its people.
    let admin_password = password(options)?;
    let (org, admin) = {
        let db = db.clone();
        let (email, pw) = (format!("admin@{domain}"), admin_password.clone());
        actix_web::rt::task::spawn_blocking(move || {
            bootstrap::create_admin(&db, "Hearth & Home", &email, Some("Ada Admin"), pw)
        })
        .await
        .map_err(|_| DemoError::Invalid("creating the admin was cancelled".into()))??
    };
    let mut accounts = vec![Account {
        role: Role::Admin,
        email: admin.email.to_string(),
        password: admin_password,
        note: "manages users, locations, questionnaires".into(),
    }];
    let people = create_people(db, org.id, &domain, options, &mut accounts).await?;
    let (client, client_secret) = auth_service::create_client(
        db,
        org.id,
        Actor::System,
        Some(admin.id),
        "HQ business intelligence".to_string(),
        vec![
            Scope::ReportsRead,
            Scope::AggregatesRead,
            Scope::LocationsRead,
            Scope::QuestionnairesRead,
            Scope::EventsRead,
            Scope::ActionsRead,
        ],
    )
    .await?;
    let stores = create_stores(db, org.id, &people).await?;
    plans::turn_on(db, org.id).await?;

    // The questionnaires, published.
    let mut questionnaires: Vec<Questionnaire> = Vec::new();
    for raw in [STORE_VISIT, PHONE_SUPPORT] {
        let request: CreateQuestionnaireRequest = serde_json::from_str(raw)?;
        let (key, content) = request.content();
        let draft =
            questionnaires_service::create(db, org.id, Actor::System, Some(admin.id), key, content)
                .await?;
        questionnaires
            .push(questionnaires_service::publish(db, org.id, Actor::System, draft.id).await?);
    }
    languages::translate(db, org.id, &questionnaires).await?;

    // The visits: planned first (all the randomness, in a fixed order), then submitted
    // and reviewed through the use cases.
    // `shopper1` is new to the programme (no visits yet: the README's tour submits as them);
    // the other named shoppers and the field team wrote the history.
    let shoppers: Vec<UserId> = people
        .iter()
        .filter(|(r, _)| *r == Role::Shopper)
        .map(|(_, id)| *id)
        .skip(1)
        .collect();
    let reviewer = people
        .iter()
        .find(|(r, _)| *r == Role::Reviewer)
        .map(|(_, id)| *id)
        .ok_or_else(|| DemoError::Invalid("no reviewer".into()))?;
    let history = History {
        last: today - Duration::days(2),
        visits_per_store: options.visits_per_store.max(1),
    };
    let plans = history.plan(&mut rng, &stores, &shoppers, &questionnaires);
    // Wider than the API's default age limit: the demo backfills six months.
    let rules = ReportsConfig {
        max_age_days: rules.max_age_days.max(HISTORY_DAYS + 7),
        daily_quota: None,
        ..rules.clone()
    };
    let review = caller(org.id, reviewer, Role::Reviewer);
    let tally = load_history(
        db,
        &rules,
        org.id,
        &review,
        plans,
        &questionnaires,
        progress,
    )
    .await?;
    plan_this_month(db, org.id, &shoppers, today).await?;
    let european_manager = people
        .iter()
        .find(|(r, _)| *r == Role::Manager)
        .map(|(_, id)| *id);
    plans::work_on_plans(db, org.id, &stores, european_manager, today).await?;
    plans::appeal_two(
        db,
        org.id,
        &stores,
        european_manager,
        reviewer,
        rules.verdict,
    )
    .await?;
    unfinished::clear(db)?;
    progress.finish();
    Ok(Loaded {
        org_id: org.id,
        org_name: org.name,
        accounts,
        client_id: client.id,
        client_secret,
        client_scopes: client.scopes,
        locations: stores.len(),
        reports: tally,
    })
}

/// The demo's password (`--password`), or a generated one.
fn password(options: &DemoOptions) -> Result<String, DemoError> {
    match &options.password {
        Some(p) => Ok(p.clone()),
        None => generated_password(),
    }
}

/// The named users (their accounts are shown) and the field team (their passwords are the
/// demo's with `--password`, or generated and not shown); answers everyone with their role.
async fn create_people(
    db: &Db,
    org: OrgId,
    domain: &str,
    options: &DemoOptions,
    accounts: &mut Vec<Account>,
) -> Result<Vec<(Role, UserId)>, DemoError> {
    let mut people: Vec<(Role, UserId)> = Vec::new();
    let named = USERS.iter().map(|(role, local, name, note)| {
        (
            *role,
            format!("{local}@{domain}"),
            name.to_string(),
            Some(*note),
        )
    });
    let field = (1..=FIELD_SHOPPERS).map(|i| {
        let email = format!("field{i:02}@{domain}");
        (Role::Shopper, email, format!("Field shopper {i}"), None)
    });
    for (role, email, display_name, note) in named.chain(field) {
        let pw = password(options)?;
        let user = auth_service::create_user(
            db,
            org,
            Actor::System,
            NewUser {
                email: Email::parse(&email).map_err(DemoError::Invalid)?,
                display_name,
                role,
                password: Password::parse(pw.clone()).map_err(DemoError::Invalid)?,
            },
        )
        .await?;
        people.push((role, user.id));
        if let Some(note) = note {
            accounts.push(Account {
                role,
                email,
                password: pw,
                note: note.to_string(),
            });
        }
    }
    Ok(people)
}

/// The stores, with the European ones given to the first manager and the East Coast ones to
/// the second.
async fn create_stores(
    db: &Db,
    org: OrgId,
    people: &[(Role, UserId)],
) -> Result<Vec<(LocationId, &'static world::Store)>, DemoError> {
    let mut stores: Vec<(LocationId, &world::Store)> = Vec::new();
    for store in &world::STORES {
        let location = locations_service::create(
            db,
            org,
            Actor::System,
            RawLocation {
                code: store.code.to_string(),
                name: format!("Hearth & Home {}", store.name),
                address_lines: Vec::new(),
                city: Some(store.city.to_string()),
                postal_code: None,
                country: Some(store.country.to_string()),
                region: Some(store.region.to_string()),
                timezone: store.timezone.to_string(),
                latitude: Some(store.latitude),
                longitude: Some(store.longitude),
                tags: store.tags.iter().map(|t| t.to_string()).collect(),
            },
        )
        .await?;
        stores.push((location.id, store));
    }
    let of = |wanted: &dyn Fn(&world::Store) -> bool| -> Vec<LocationId> {
        stores
            .iter()
            .filter(|(_, s)| wanted(s))
            .map(|(id, _)| *id)
            .collect()
    };
    let managers: Vec<UserId> = people
        .iter()
        .filter(|(r, _)| *r == Role::Manager)
        .map(|(_, id)| *id)
        .collect();
    if let [europe, east] = managers[..] {
        let european = of(&|s| s.code.starts_with("EU-"));
        locations_service::set_manager_locations(db, org, Actor::System, europe, european).await?;
        let east_coast = of(&|s| s.timezone == "America/New_York");
        locations_service::set_manager_locations(db, org, Actor::System, east, east_coast).await?;
    }
    Ok(stores)
}

/// The six months of visits before the demo's today.
struct History {
    /// The last day with visits.
    last: NaiveDate,
    /// Visits a store has on average.
    visits_per_store: u32,
}

impl History {
    /// Every store's visits, in the order they load: the day, questionnaire (a share by
    /// phone) and shopper (the drawn one, or the next the lockout rules allow) of each.
    fn plan(
        &self,
        rng: &mut ChaCha8Rng,
        stores: &[(LocationId, &world::Store)],
        shoppers: &[UserId],
        questionnaires: &[Questionnaire],
    ) -> Vec<Vec<Plan>> {
        let first = self.last - Duration::days(HISTORY_DAYS - 1);
        let per_store = self.visits_per_store;
        let mut plans: Vec<Vec<Plan>> = Vec::new();
        for (location_id, store) in stores {
            let visits = rng.random_range(per_store * 2 / 3..=per_store * 4 / 3);
            let mut here = Vec::new();
            let mut seen: std::collections::HashMap<UserId, Vec<DateRange>> =
                std::collections::HashMap::new();
            for _ in 0..visits {
                let day = first + Duration::days(rng.random_range(0..HISTORY_DAYS));
                let phone = rng.random_bool(PHONE_SHARE);
                let drawn = rng.random_range(0..shoppers.len());
                let allowed = (0..shoppers.len())
                    .filter_map(|n| shoppers.get((drawn + n) % shoppers.len()))
                    .find(|s| {
                        let others = seen.get(s).map_or(&[][..], Vec::as_slice);
                        rules::check(DEMO_RULES, false, others, DateRange::day(day)).is_ok()
                    });
                let (Some(questionnaire), Some(&shopper)) =
                    (questionnaires.get(usize::from(phone)), allowed)
                else {
                    continue;
                };
                seen.entry(shopper).or_default().push(DateRange::day(day));
                here.push(plan_visit(
                    rng,
                    *location_id,
                    store,
                    questionnaire,
                    shopper,
                    day,
                    (day - first).num_days() as f64 / HISTORY_DAYS as f64,
                    self.last,
                ));
            }
            plans.push(here);
        }
        plans
    }
}

/// Submits and reviews the planned visits through the use cases, then dates the reports to
/// the evening of their visit.
async fn load_history(
    db: &Db,
    rules: &ReportsConfig,
    org: OrgId,
    review: &AuthUser,
    plans: Vec<Vec<Plan>>,
    questionnaires: &[Questionnaire],
    progress: &mut dyn Progress,
) -> Result<Tally, DemoError> {
    let mut tally = Tally::default();
    progress.start(plans.iter().map(|p| p.len() as u64).sum());
    // Stores load side by side (their commits overlap, which PostgreSQL needs to be quick);
    // each store's visits load in their planned order, so every rollup row adds up its
    // reports in the same order whatever the timing, and the figures are the same.
    let mut stores_loading =
        futures_util::stream::iter(plans.into_iter().map(|visits| async move {
            let mut here = Tally::default();
            for plan in visits {
                run_visit(db, rules, org, review, plan, questionnaires, &mut here).await?;
            }
            Ok::<_, DemoError>(here)
        }))
        .buffer_unordered(STORES_AT_ONCE);
    while let Some(here) = stores_loading.next().await {
        let here = here?;
        tally.submitted += here.submitted;
        tally.approved += here.approved;
        tally.rejected += here.rejected;
        tally.returned += here.returned;
        tally.revised += here.revised;
        progress.advance(tally.total());
    }
    drop(stores_loading);
    // The backfill's reports were stored just now; they are dated to the evening of their
    // visit, as a shopper would have sent them, so that they neither look like one day's
    // work nor count against the demo shoppers' daily submission quota.
    let db = db.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut conn = db.get()?;
        crate::db::reports::date_to_visits(&mut conn, org).map_err(DbError::Query)
    })
    .await
    .map_err(|e| DemoError::Invalid(format!("dating the reports: {e}")))??;
    Ok(tally)
}

/// The programme: the lockout rules the history follows, and this month's wave planned for
/// the shoppers who have visited before (`shopper1` is new and may claim open ones).
async fn plan_this_month(
    db: &Db,
    org: OrgId,
    shoppers: &[UserId],
    today: NaiveDate,
) -> Result<(), DemoError> {
    let refused = |e: crate::programme::service::ProgrammeError| DemoError::Refused(e.to_string());
    let settings = ProgrammeSettings {
        rules: DEMO_RULES,
        require_assignment: false,
    };
    programme_service::put_settings(db, org, Actor::System, settings)
        .await
        .map_err(refused)?;
    let wave = NewWave {
        name: "This month's visits".to_string(),
        starts_on: today - Duration::days(1),
        ends_on: today + Duration::days(27),
        questionnaire_key: "store-visit".to_string(),
        visits_per_location: 1,
        region: None,
        tag: None,
    };
    let wave = programme_service::create_wave(db, org, Actor::System, wave)
        .await
        .map_err(refused)?;
    let plan = GeneratePlan {
        assign: Some(true),
        shopper_ids: Some(shoppers.to_vec()),
        instructions: "Buy one item and ask how to return it.".to_string(),
    };
    programme_service::generate(db, org, wave.id, plan)
        .await
        .map_err(refused)?;
    Ok(())
}

/// The credentials table printed once at the end.
pub fn credentials_table(loaded: &Loaded) -> String {
    let mut out = format!(
        "Demo organization \"{}\" ({}): {} locations, {} visit reports ({} approved, {} awaiting review, {} returned, {} rejected; {} revised).\n\n",
        loaded.org_name,
        loaded.org_id,
        loaded.locations,
        loaded.reports.total(),
        loaded.reports.approved,
        loaded.reports.submitted,
        loaded.reports.returned,
        loaded.reports.rejected,
        loaded.reports.revised,
    );
    let width = loaded
        .accounts
        .iter()
        .map(|a| a.email.len())
        .max()
        .unwrap_or(5);
    out.push_str(&format!(
        "{:<9} {:<width$} {:<24} {}\n",
        "role", "email", "password", "what for"
    ));
    for a in &loaded.accounts {
        out.push_str(&format!(
            "{:<9} {:<width$} {:<24} {}\n",
            a.role.as_str(),
            a.email,
            a.password,
            a.note
        ));
    }
    let scopes: Vec<&str> = loaded.client_scopes.iter().map(|s| s.as_str()).collect();
    out.push_str(&format!(
        "\nIntegration client \"HQ business intelligence\" (scopes: {})\n  client_id:     {}\n  client_secret: {}\n\nThese passwords and the secret are shown only now.\n",
        scopes.join(" "),
        loaded.client_id,
        loaded.client_secret
    ));
    out
}
