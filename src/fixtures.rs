//! fixtures: realistic, de-identified extracts for demos, tests and benchmarks.
//!
//! Owns the generator of the extract files (`returns.csv`, `sessions.csv`,
//! `campaigns.csv`, `trainings.csv`, `finance.csv`) in the programme's real shape: its
//! volumes, date ranges, places and proportions, including the small cells (Kidal,
//! Ménaka, girls, 60+) that disclosure control must handle, and a year of monthly
//! spending of the 280,000 USD grant. Every row is invented from a seed — never real
//! people — and every reference is an opaque pseudonym that cannot pass for a phone
//! number or an e-mail address.
//!
//! Output is byte-for-byte deterministic for a given seed and scale: one ChaCha stream
//! per kind, no hash-map iteration, rows sorted by date then reference before writing.
//! `scale` multiplies volumes; shapes stay the same.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::{
    Activity, AgeBand, Cercle, Channel, Code, Country, Currency, Facilitator, Kind, Language,
    Month, Output, Profession, Region, ReturnType, Sex, Topic,
};
use crate::extract::contract;

/// Returnees helped home between May 2017 and 27 March 2019 (the programme's figure).
const RETURNEES: f64 = 11_505.0;
/// Unique beneficiaries of psychosocial activities (the target was more than 5,000).
const BENEFICIARIES: f64 = 5_400.0;
const CAMPAIGN_EVENTS: f64 = 420.0;
/// Rows of the training extract; about 550 distinct professionals attend them.
const TRAINING_ROWS: f64 = 700.0;

/// What [`write`] produced: each file written and its number of data rows.
#[derive(Debug, Clone)]
pub struct Summary {
    pub files: Vec<(PathBuf, u64)>,
}

/// Writes the extracts into `out` (created if missing) for `seed`, with volumes
/// multiplied by `scale` (rounded, at least one row per file).
pub fn write(out: &Path, seed: u64, scale: f64) -> io::Result<Summary> {
    if !scale.is_finite() || scale <= 0.0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the fixture scale must be a positive number, not {scale}"),
        ));
    }
    fs::create_dir_all(out)?;
    let mut files = Vec::new();
    for kind in Kind::ALL {
        // One stream per kind, so changing one generator leaves the other files alone.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(kind as u64);
        let path = out.join(format!("{}.csv", kind.name()));
        let rows = match kind {
            Kind::Returns => write_csv(&path, kind, &returns(&mut rng, scale))?,
            Kind::Sessions => write_csv(&path, kind, &sessions(&mut rng, scale))?,
            Kind::Campaigns => write_csv(&path, kind, &campaigns(&mut rng, scale))?,
            Kind::Trainings => write_csv(&path, kind, &trainings(&mut rng, scale))?,
            // Money does not scale with the number of people: one year, at any scale.
            Kind::Finance => write_csv(&path, kind, &finance(&mut rng))?,
        };
        files.push((path, rows));
    }
    Ok(Summary { files })
}

// ---------------------------------------------------------------------------------------
// Returns
// ---------------------------------------------------------------------------------------

struct ReturnRow {
    person_ref: String,
    date: NaiveDate,
    country: Country,
    cercle: Cercle,
    sex: Sex,
    age: AgeBand,
    return_type: ReturnType,
    unaccompanied_minor: bool,
    trafficking_victim: bool,
    medical_case: bool,
}

const COUNTRIES_FROM: &[(&str, f64)] = &[
    ("DZA", 48.0),
    ("LBY", 32.0),
    ("NER", 12.0),
    ("MAR", 4.0),
    ("MRT", 4.0),
];

/// Regions of return. The northern regions are thinly populated: their few returnees
/// are the small cells disclosure control exists for.
const RETURN_REGIONS: &[(&str, f64)] = &[
    ("ML01", 45.0),
    ("ML09", 25.0),
    ("ML02", 10.0),
    ("ML03", 6.5),
    ("ML04", 6.5),
    ("ML05", 4.15),
    ("ML06", 1.5),
    ("ML07", 1.0),
    ("ML08", 0.2),
    ("ML10", 0.15),
];

const AGE_BANDS: &[(AgeBand, f64)] = &[
    (AgeBand::A0_14, 1.0),
    (AgeBand::A15_17, 3.0),
    (AgeBand::A18_24, 30.0),
    (AgeBand::A25_34, 42.0),
    (AgeBand::A35_44, 18.0),
    (AgeBand::A45_59, 5.85),
    (AgeBand::A60Plus, 0.15),
];

/// Where returnees of a region settle. Kayes returns concentrate in the Soninke
/// emigration cercles (Kayes, Nioro du Sahel, Yélimané, Diéma) and Kita.
fn cercles_of(region: &str) -> &'static [(&'static str, f64)] {
    match region {
        "ML01" => &[
            ("ML0103", 25.0),
            ("ML0106", 20.0),
            ("ML0107", 18.0),
            ("ML0102", 14.0),
            ("ML0105", 13.0),
            ("ML0101", 6.0),
            ("ML0104", 4.0),
        ],
        "ML02" => &[
            ("ML0204", 35.0),
            ("ML0206", 15.0),
            ("ML0201", 15.0),
            ("ML0202", 13.0),
            ("ML0205", 12.0),
            ("ML0203", 10.0),
        ],
        "ML03" => &[
            ("ML0305", 30.0),
            ("ML0304", 22.0),
            ("ML0301", 18.0),
            ("ML0302", 12.0),
            ("ML0306", 8.0),
            ("ML0303", 5.0),
            ("ML0307", 5.0),
        ],
        "ML04" => &[
            ("ML0406", 30.0),
            ("ML0405", 20.0),
            ("ML0404", 15.0),
            ("ML0403", 10.0),
            ("ML0401", 10.0),
            ("ML0402", 10.0),
            ("ML0407", 5.0),
        ],
        "ML05" => &[
            ("ML0506", 35.0),
            ("ML0503", 15.0),
            ("ML0501", 15.0),
            ("ML0502", 10.0),
            ("ML0505", 10.0),
            ("ML0504", 5.0),
            ("ML0507", 5.0),
            ("ML0508", 5.0),
        ],
        "ML06" => &[
            ("ML0605", 40.0),
            ("ML0602", 20.0),
            ("ML0601", 20.0),
            ("ML0604", 15.0),
            ("ML0603", 5.0),
        ],
        "ML07" => &[("ML0703", 60.0), ("ML0701", 20.0), ("ML0702", 20.0)],
        "ML08" => &[
            ("ML0802", 70.0),
            ("ML0803", 15.0),
            ("ML0801", 10.0),
            ("ML0804", 5.0),
        ],
        "ML09" => &[("ML0901", 1.0)],
        "ML10" => &[("ML1001", 1.0)],
        other => panic!("fixtures have no cercles for region {other}"),
    }
}

/// Relative number of returns per day. The late-2017 reports from Libya swelled the
/// following months, 2018 was the busiest year, and the rainy season slows travel.
fn return_season(year: i32, month: u32) -> f64 {
    let level = match (year, month) {
        (2017, 12) | (2018, 1) => 1.4,
        (2017, _) => 0.65,
        (2018, _) => 1.0,
        _ => 0.85,
    };
    level * rainy_season(month)
}

/// Share of AVRR among returns from a country: the regular assisted-return scheme runs
/// mostly from transit countries (Niger, Morocco); departures from Libya and Algeria
/// are mostly humanitarian returns (VHR). Overall about one in five.
fn avrr_share(country: &str) -> f64 {
    match country {
        "NER" => 0.6,
        "MAR" => 0.7,
        "MRT" => 0.4,
        "LBY" => 0.15,
        _ => 0.08,
    }
}

fn returns(rng: &mut ChaCha8Rng, scale: f64) -> Vec<ReturnRow> {
    let calendar = Calendar::new(date(2017, 5, 1), date(2019, 3, 27), return_season, any_day);
    let mut refs = Pseudonyms::new('R', 8);
    let mut rows: Vec<ReturnRow> = (0..scaled(RETURNEES, scale))
        .map(|_| {
            let country = pick(rng, COUNTRIES_FROM);
            let region = pick(rng, RETURN_REGIONS);
            let sex = if rng.random_bool(0.04) {
                Sex::Female
            } else {
                Sex::Male
            };
            let age = pick(rng, AGE_BANDS);
            // Women on these routes are far more often trafficked than men.
            let trafficking = if sex == Sex::Female { 0.15 } else { 0.015 };
            ReturnRow {
                person_ref: refs.next(rng),
                date: calendar.day(rng),
                country: Country::parse(country).expect("fixture countries are in the reference"),
                cercle: cercle(pick(rng, cercles_of(region))),
                sex,
                age,
                return_type: if rng.random_bool(avrr_share(country)) {
                    ReturnType::Avrr
                } else {
                    ReturnType::Vhr
                },
                unaccompanied_minor: age.is_minor() && rng.random_bool(0.4),
                trafficking_victim: rng.random_bool(trafficking),
                medical_case: rng.random_bool(0.05),
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.date, &a.person_ref).cmp(&(b.date, &b.person_ref)));
    rows
}

impl Row for ReturnRow {
    fn field(&self, column: &str) -> Option<String> {
        Some(match column {
            "person_ref" => self.person_ref.clone(),
            "return_date" => self.date.to_string(),
            "country_from" => self.country.code().to_owned(),
            "region_pcode" => self.cercle.region().code().to_owned(),
            "cercle_pcode" => self.cercle.code().to_owned(),
            "sex" => self.sex.code().to_owned(),
            "age_band" => self.age.code().to_owned(),
            "return_type" => self.return_type.code().to_owned(),
            "unaccompanied_minor" => flag(self.unaccompanied_minor),
            "trafficking_victim" => flag(self.trafficking_victim),
            "medical_case" => flag(self.medical_case),
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------

struct SessionRow {
    session_ref: String,
    person_ref: String,
    date: NaiveDate,
    cercle: Cercle,
    site: &'static str,
    activity: Activity,
    facilitator: Facilitator,
}

/// A return area where the programme ran activities, and its sites (facilities, never
/// people), each with its share of the area's beneficiaries.
struct Place {
    cercle: &'static str,
    share: f64,
    sites: &'static [(&'static str, f64)],
}

const PLACES: &[Place] = &[
    Place {
        cercle: "ML0901",
        share: 0.45,
        sites: &[
            ("Centre d'écoute de Niaréla", 0.35),
            ("CSCom de Djélibougou", 0.25),
            ("Maison des jeunes de Bamako", 0.25),
            ("CSRéf de la Commune V", 0.15),
        ],
    },
    Place {
        cercle: "ML0103",
        share: 0.32,
        sites: &[
            ("Centre d'écoute de Kayes", 0.45),
            ("Maison des jeunes de Kayes", 0.30),
            ("CSCom de Kayes N'Di", 0.25),
        ],
    },
    Place {
        cercle: "ML0105",
        share: 0.23,
        sites: &[("Centre d'écoute de Kita", 0.6), ("CSRéf de Kita", 0.4)],
    },
];

/// How many times a beneficiary came: many once, a core of regulars 5–12 times.
const VISITS: &[(RangeInclusive<usize>, f64)] =
    &[(1..=1, 45.0), (2..=2, 25.0), (3..=4, 12.0), (5..=12, 18.0)];

/// The first visit is an intake: mostly counselling, a group or first aid.
const FIRST_VISIT: &[(Activity, f64)] = &[
    (Activity::IndividualCounselling, 45.0),
    (Activity::GroupSession, 30.0),
    (Activity::PsychologicalFirstAid, 15.0),
    (Activity::Theatre, 3.0),
    (Activity::Art, 3.0),
    (Activity::Sport, 4.0),
];

const LATER_VISIT: &[(Activity, f64)] = &[
    (Activity::GroupSession, 36.0),
    (Activity::IndividualCounselling, 22.0),
    (Activity::Sport, 11.0),
    (Activity::FamilyMediation, 10.0),
    (Activity::Theatre, 9.0),
    (Activity::Art, 8.0),
    (Activity::PsychologicalFirstAid, 4.0),
];

/// When a group activity meets at every site: a weekday, every so many weeks.
/// Fortnightly activities alternate weeks between a place's sites.
const GROUP_CADENCE: &[(Activity, Weekday, u64)] = &[
    (Activity::GroupSession, Weekday::Tue, 1),
    (Activity::GroupSession, Weekday::Thu, 1),
    (Activity::Sport, Weekday::Sat, 1),
    (Activity::Theatre, Weekday::Wed, 2),
    (Activity::Art, Weekday::Fri, 2),
];

/// People sharing one session: a group activity at one site on one day. `slot`
/// separates parallel groups when the scale makes one group too big.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Meeting {
    place: usize,
    site: usize,
    activity: Activity,
    date: NaiveDate,
    slot: usize,
}

fn is_group(activity: Activity) -> bool {
    matches!(
        activity,
        Activity::GroupSession | Activity::Theatre | Activity::Art | Activity::Sport
    )
}

/// Who runs an activity: psychologists counsel and refer, social workers mediate,
/// health workers give first aid, volunteers lead the workshops; others stand in.
fn facilitators(activity: Activity) -> &'static [(Facilitator, f64)] {
    use Facilitator::*;
    match activity {
        Activity::IndividualCounselling => &[
            (Psychologist, 70.0),
            (SocialWorker, 25.0),
            (HealthWorker, 5.0),
        ],
        Activity::GroupSession => &[
            (Psychologist, 40.0),
            (SocialWorker, 45.0),
            (CommunityVolunteer, 15.0),
        ],
        Activity::FamilyMediation => &[(SocialWorker, 85.0), (Psychologist, 15.0)],
        Activity::PsychologicalFirstAid => &[
            (HealthWorker, 60.0),
            (Psychologist, 20.0),
            (SocialWorker, 20.0),
        ],
        Activity::Theatre | Activity::Art | Activity::Sport => {
            &[(CommunityVolunteer, 85.0), (SocialWorker, 15.0)]
        }
        Activity::ReferralSpecialised => &[
            (Psychologist, 75.0),
            (HealthWorker, 15.0),
            (SocialWorker, 10.0),
        ],
    }
}

/// Chance that a beneficiary is referred to specialised care (about 6% overall): the
/// more often someone comes, the likelier a need beyond the programme shows.
fn referral_chance(visits: usize) -> f64 {
    match visits {
        1 => 0.03,
        2 => 0.065,
        3..=4 => 0.09,
        _ => 0.12,
    }
}

/// Relative number of new beneficiaries per day over the programme year: a start-up
/// quarter, Ramadan (May 2019), the rainy season and the closing month are quieter.
fn programme_season(year: i32, month: u32) -> f64 {
    let level = match (year, month) {
        (2019, 3 | 4) => 0.5,
        (2019, 5) => 0.7,
        (2020, 3) => 0.7,
        _ => 1.0,
    };
    level * rainy_season(month)
}

fn sessions(rng: &mut ChaCha8Rng, scale: f64) -> Vec<SessionRow> {
    let (first, last) = programme_year();
    let enrolment = Calendar::new(first, last, programme_season, not_sunday);
    let schedule = group_schedule(first, last);
    // Parallel groups keep group sizes realistic when the scale grows.
    let parallel = (scale.round() as usize).max(1);
    let mut people = Pseudonyms::new('S', 8);
    let mut session_refs = Pseudonyms::new('A', 8);
    let mut groups: BTreeMap<Meeting, (String, Facilitator)> = BTreeMap::new();
    let place_shares: Vec<(usize, f64)> = PLACES.iter().map(|p| p.share).enumerate().collect();

    let mut rows = Vec::new();
    for _ in 0..scaled(BENEFICIARIES, scale) {
        let person_ref = people.next(rng);
        let place = pick(rng, &place_shares);
        let sites: Vec<(usize, f64)> = PLACES[place]
            .sites
            .iter()
            .map(|s| s.1)
            .enumerate()
            .collect();
        let home = pick(rng, &sites);
        let visits = pick(rng, VISITS);
        let visits = rng.random_range(visits);
        let referred = rng.random_bool(referral_chance(visits));
        // A few regulars also go to a second site of the same town.
        let roams = visits >= 3 && sites.len() > 1 && rng.random_bool(0.12);
        let mut joined: Vec<Meeting> = Vec::new();

        for (visit, day) in visit_days(rng, &enrolment, visits, last)
            .into_iter()
            .enumerate()
        {
            let site = if roams && visit > 0 && rng.random_bool(0.3) {
                (home + rng.random_range(1..sites.len())) % sites.len()
            } else {
                home
            };
            let mut activity = if referred && visit == visits - 1 {
                Activity::ReferralSpecialised
            } else {
                pick(rng, if visit == 0 { FIRST_VISIT } else { LATER_VISIT })
            };
            let mut seat = None;
            if is_group(activity) {
                let days = &schedule[&(place, site, activity)];
                let taken: Vec<NaiveDate> = joined
                    .iter()
                    .filter(|m| (m.place, m.site, m.activity) == (place, site, activity))
                    .map(|m| m.date)
                    .collect();
                let slot = rng.random_range(0..parallel);
                seat = next_meeting(days, day, &taken).map(|date| Meeting {
                    place,
                    site,
                    activity,
                    date,
                    slot,
                });
                if seat.is_none() {
                    // No meeting left to join: the visit was a talk with a counsellor.
                    activity = Activity::IndividualCounselling;
                }
            }
            let (session_ref, facilitator, date) = match seat {
                Some(meeting) => {
                    joined.push(meeting);
                    let (session_ref, facilitator) = groups
                        .entry(meeting)
                        .or_insert_with(|| {
                            (session_refs.next(rng), pick(rng, facilitators(activity)))
                        })
                        .clone();
                    (session_ref, facilitator, meeting.date)
                }
                None => (
                    session_refs.next(rng),
                    pick(rng, facilitators(activity)),
                    day,
                ),
            };
            rows.push(SessionRow {
                session_ref,
                person_ref: person_ref.clone(),
                date,
                cercle: cercle(PLACES[place].cercle),
                site: PLACES[place].sites[site].0,
                activity,
                facilitator,
            });
        }
    }
    rows.sort_by(|a, b| {
        (a.date, &a.session_ref, &a.person_ref).cmp(&(b.date, &b.session_ref, &b.person_ref))
    });
    rows
}

/// The days one beneficiary came: enrolment, then a visit every few days (regulars) or
/// weeks, all inside the programme year and never on a Sunday.
fn visit_days(
    rng: &mut ChaCha8Rng,
    enrolment: &Calendar,
    visits: usize,
    last: NaiveDate,
) -> Vec<NaiveDate> {
    let gap = if visits >= 5 { 3..=21 } else { 5..=42 };
    let mut days = vec![enrolment.day(rng)];
    for _ in 1..visits {
        let previous = days[days.len() - 1];
        days.push(previous + Days::new(rng.random_range(gap.clone())));
    }
    // Late enrolees' series move back so they end by the close; the longest series
    // (11 gaps of 21 days) is shorter than the year, so none starts before the opening.
    let overshoot = (days[days.len() - 1] - last).num_days();
    for day in &mut days {
        if overshoot > 0 {
            *day = *day - Days::new(overshoot as u64);
        }
        if day.weekday() == Weekday::Sun {
            *day = *day - Days::new(1);
        }
    }
    days
}

/// Meeting days of each group activity at each site over the programme year.
fn group_schedule(
    first: NaiveDate,
    last: NaiveDate,
) -> BTreeMap<(usize, usize, Activity), Vec<NaiveDate>> {
    let mut schedule: BTreeMap<(usize, usize, Activity), Vec<NaiveDate>> = BTreeMap::new();
    for (place, p) in PLACES.iter().enumerate() {
        for site in 0..p.sites.len() {
            for &(activity, weekday, every) in GROUP_CADENCE {
                let mut day = first;
                while day.weekday() != weekday {
                    day = day + Days::new(1);
                }
                day = day + Days::new(7 * (site as u64 % every));
                let days = schedule.entry((place, site, activity)).or_default();
                while day <= last {
                    days.push(day);
                    day = day + Days::new(7 * every);
                }
                days.sort();
            }
        }
    }
    schedule
}

/// The first meeting on or after `day` that the person has not `taken` yet (else the
/// latest one before it), looking a few meetings ahead at most.
fn next_meeting(days: &[NaiveDate], day: NaiveDate, taken: &[NaiveDate]) -> Option<NaiveDate> {
    let from = days.partition_point(|d| *d < day);
    let later = days[from..].iter();
    let earlier = days[..from].iter().rev();
    later
        .chain(earlier)
        .take(4)
        .copied()
        .find(|d| !taken.contains(d))
}

impl Row for SessionRow {
    fn field(&self, column: &str) -> Option<String> {
        Some(match column {
            "session_ref" => self.session_ref.clone(),
            "person_ref" => self.person_ref.clone(),
            "session_date" => self.date.to_string(),
            "region_pcode" => self.cercle.region().code().to_owned(),
            "cercle_pcode" => self.cercle.code().to_owned(),
            "site" => self.site.to_owned(),
            "activity" => self.activity.code().to_owned(),
            "facilitator" => self.facilitator.code().to_owned(),
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Campaigns
// ---------------------------------------------------------------------------------------

struct CampaignRow {
    event_ref: String,
    date: NaiveDate,
    cercle: Cercle,
    channel: Channel,
    language: Language,
    people_reached: u64,
    women_reached: Option<u64>,
    youth_reached: Option<u64>,
}

const CHANNELS: &[(Channel, f64)] = &[
    (Channel::Radio, 22.0),
    (Channel::CommunityDialogue, 20.0),
    (Channel::CommunityTheatre, 15.0),
    (Channel::School, 13.0),
    (Channel::FilmScreening, 12.0),
    (Channel::Caravan, 10.0),
    (Channel::SocialMedia, 8.0),
];

/// Campaigns went where people leave from and come back to.
const CAMPAIGN_REGIONS: &[(&str, f64)] = &[
    ("ML01", 36.0),
    ("ML09", 22.0),
    ("ML02", 15.0),
    ("ML03", 10.0),
    ("ML04", 9.0),
    ("ML05", 8.0),
];

/// In Kayes region, campaigns favour the programme's towns, Kayes and Kita.
const KAYES_CAMPAIGN_CERCLES: &[(&str, f64)] = &[
    ("ML0103", 30.0),
    ("ML0105", 25.0),
    ("ML0106", 12.0),
    ("ML0107", 10.0),
    ("ML0102", 10.0),
    ("ML0101", 8.0),
    ("ML0104", 5.0),
];

/// Languages spoken in a region's campaigns: Bambara nearly everywhere, Soninke and
/// Khassonké in Kayes, Fulfulde in Mopti, French in towns.
fn languages_of(region: &str) -> &'static [(Language, f64)] {
    use Language::*;
    match region {
        "ML01" => &[
            (Bambara, 38.0),
            (Soninke, 30.0),
            (Khassonke, 16.0),
            (French, 12.0),
            (Fulfulde, 4.0),
        ],
        "ML09" => &[
            (Bambara, 62.0),
            (French, 33.0),
            (Soninke, 3.0),
            (Fulfulde, 2.0),
        ],
        "ML02" => &[
            (Bambara, 78.0),
            (French, 15.0),
            (Soninke, 5.0),
            (Fulfulde, 2.0),
        ],
        "ML03" => &[(Bambara, 82.0), (French, 14.0), (Fulfulde, 4.0)],
        "ML04" => &[(Bambara, 74.0), (French, 14.0), (Fulfulde, 12.0)],
        "ML05" => &[(Fulfulde, 55.0), (Bambara, 30.0), (French, 15.0)],
        other => panic!("fixtures have no campaign languages for region {other}"),
    }
}

/// An estimate of the people an event reached: log-uniform between the channel's
/// bounds, averaged twice so middling events are the most common; mass-media figures
/// are round estimates.
fn people_reached(rng: &mut ChaCha8Rng, channel: Channel) -> u64 {
    let (low, high, round_to): (f64, f64, u64) = match channel {
        Channel::Radio => (2_000.0, 40_000.0, 100),
        Channel::SocialMedia => (800.0, 25_000.0, 10),
        Channel::Caravan => (300.0, 4_000.0, 10),
        Channel::FilmScreening => (60.0, 600.0, 1),
        Channel::School => (40.0, 500.0, 1),
        Channel::CommunityTheatre => (40.0, 450.0, 1),
        Channel::CommunityDialogue => (15.0, 150.0, 1),
    };
    let u = (rng.random::<f64>() + rng.random::<f64>()) / 2.0;
    let estimate = low * (high / low).powf(u);
    ((estimate / round_to as f64).round() as u64 * round_to).max(1)
}

/// Part of `total` reached among a group (women, youth): a share drawn from `share`,
/// unknown (None) with probability `unknown`, which is high for mass media.
fn part_of(rng: &mut ChaCha8Rng, total: u64, share: (f64, f64), unknown: f64) -> Option<u64> {
    if rng.random_bool(unknown) {
        return None;
    }
    let part = (total as f64 * rng.random_range(share.0..=share.1)).round() as u64;
    Some(part.min(total))
}

fn campaigns(rng: &mut ChaCha8Rng, scale: f64) -> Vec<CampaignRow> {
    let (first, last) = programme_year();
    let calendar = Calendar::new(first, last, programme_season, any_day);
    let mut refs = Pseudonyms::new('E', 7);
    let mut rows: Vec<CampaignRow> = (0..scaled(CAMPAIGN_EVENTS, scale))
        .map(|_| {
            let channel = pick(rng, CHANNELS);
            // Social media campaigns are run from the capital.
            let region = if channel == Channel::SocialMedia && rng.random_bool(0.8) {
                "ML09"
            } else {
                pick(rng, CAMPAIGN_REGIONS)
            };
            let cercles = if region == "ML01" {
                KAYES_CAMPAIGN_CERCLES
            } else {
                cercles_of(region)
            };
            let language = match channel {
                Channel::SocialMedia if rng.random_bool(0.6) => Language::French,
                Channel::SocialMedia => Language::Bambara,
                Channel::School if rng.random_bool(0.5) => Language::French,
                _ => pick(rng, languages_of(region)),
            };
            let people = people_reached(rng, channel);
            let mass_media = matches!(channel, Channel::Radio | Channel::SocialMedia);
            let unknown = if mass_media { 0.45 } else { 0.1 };
            let youth_share = if channel == Channel::School {
                (0.85, 1.0)
            } else {
                (0.3, 0.65)
            };
            CampaignRow {
                event_ref: refs.next(rng),
                date: calendar.day(rng),
                cercle: cercle(pick(rng, cercles)),
                channel,
                language,
                people_reached: people,
                women_reached: part_of(rng, people, (0.3, 0.65), unknown),
                youth_reached: part_of(rng, people, youth_share, unknown),
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.date, &a.event_ref).cmp(&(b.date, &b.event_ref)));
    rows
}

impl Row for CampaignRow {
    fn field(&self, column: &str) -> Option<String> {
        let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        Some(match column {
            "event_ref" => self.event_ref.clone(),
            "event_date" => self.date.to_string(),
            "region_pcode" => self.cercle.region().code().to_owned(),
            "cercle_pcode" => self.cercle.code().to_owned(),
            "channel" => self.channel.code().to_owned(),
            "language" => self.language.code().to_owned(),
            "people_reached" => self.people_reached.to_string(),
            "women_reached" => count(self.women_reached),
            "youth_reached" => count(self.youth_reached),
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Trainings
// ---------------------------------------------------------------------------------------

struct TrainingRow {
    training_ref: String,
    person_ref: String,
    date: NaiveDate,
    region: Region,
    profession: Profession,
    sex: Sex,
    topic: Topic,
    pre_score: Option<f64>,
    post_score: Option<f64>,
}

/// A trained professional; `topics` counts the trainings they attended so far.
struct Professional {
    person_ref: String,
    region: &'static str,
    profession: Profession,
    sex: Sex,
    topics: usize,
    first_topic: Topic,
}

const TRAINING_REGIONS: &[(&str, f64)] = &[
    ("ML01", 42.0),
    ("ML09", 33.0),
    ("ML02", 15.0),
    ("ML03", 4.0),
    ("ML04", 3.0),
    ("ML05", 3.0),
];

const TOPICS: &[(Topic, f64)] = &[
    (Topic::PsychosocialSupport, 25.0),
    (Topic::PsychologicalFirstAid, 20.0),
    (Topic::CaseManagement, 15.0),
    (Topic::ChildProtection, 14.0),
    (Topic::StigmaReduction, 14.0),
    (Topic::ReferralPathways, 12.0),
];

/// Chance that a seat in a training goes to someone already trained on another topic
/// (about 150 second topics among 700 rows).
const SECOND_TOPIC: f64 = 0.27;

/// Who a topic is taught to.
fn professions_for(topic: Topic) -> &'static [(Profession, f64)] {
    use Profession::*;
    match topic {
        Topic::PsychosocialSupport => &[
            (SocialWorker, 35.0),
            (HealthWorker, 25.0),
            (CommunityLeader, 15.0),
            (Teacher, 13.0),
            (Psychologist, 12.0),
        ],
        Topic::PsychologicalFirstAid => &[
            (HealthWorker, 45.0),
            (SocialWorker, 25.0),
            (CommunityLeader, 15.0),
            (Teacher, 10.0),
            (Psychologist, 5.0),
        ],
        Topic::CaseManagement => &[
            (SocialWorker, 60.0),
            (HealthWorker, 20.0),
            (Psychologist, 15.0),
            (CommunityLeader, 5.0),
        ],
        Topic::ReferralPathways => &[
            (SocialWorker, 35.0),
            (HealthWorker, 35.0),
            (CommunityLeader, 15.0),
            (Psychologist, 10.0),
            (Teacher, 5.0),
        ],
        Topic::ChildProtection => &[
            (Teacher, 35.0),
            (SocialWorker, 30.0),
            (CommunityLeader, 20.0),
            (HealthWorker, 10.0),
            (Psychologist, 5.0),
        ],
        Topic::StigmaReduction => &[
            (CommunityLeader, 45.0),
            (Teacher, 20.0),
            (SocialWorker, 15.0),
            (HealthWorker, 15.0),
            (Psychologist, 5.0),
        ],
    }
}

/// Share of women in a profession; about a third overall, half among health workers.
fn women_share(profession: Profession) -> f64 {
    match profession {
        Profession::HealthWorker => 0.52,
        Profession::SocialWorker => 0.40,
        Profession::Psychologist => 0.38,
        Profession::Teacher => 0.30,
        Profession::CommunityLeader => 0.12,
    }
}

/// Relative number of trainings per day: front-loaded (staff were trained before
/// activities scaled up), little in the rainy season.
fn training_season(year: i32, month: u32) -> f64 {
    match (year, month) {
        (2019, 4 | 6) => 1.6,
        (2019, 5) => 1.1,
        (2020, 3) => 0.6,
        _ => rainy_season(month) * rainy_season(month),
    }
}

fn trainings(rng: &mut ChaCha8Rng, scale: f64) -> Vec<TrainingRow> {
    let (first, last) = programme_year();
    let calendar = Calendar::new(first, last, training_season, weekday);
    let sizes = group_sizes(rng, scaled(TRAINING_ROWS, scale), 10..=25);
    // Every topic is taught at least once, then topics come by weight. Trainings run in
    // date order, so a second topic always comes after the first.
    let mut courses: Vec<(NaiveDate, &'static str, Topic, usize)> = sizes
        .into_iter()
        .enumerate()
        .map(|(i, size)| {
            let topic = if i < TOPICS.len() {
                TOPICS[i].0
            } else {
                pick(rng, TOPICS)
            };
            (calendar.day(rng), pick(rng, TRAINING_REGIONS), topic, size)
        })
        .collect();
    courses.sort_by_key(|c| c.0);

    let mut training_refs = Pseudonyms::new('F', 7);
    let mut person_refs = Pseudonyms::new('T', 8);
    let mut staff: Vec<Professional> = Vec::new();
    let mut rows = Vec::new();
    for (date, region, topic, size) in courses {
        let training_ref = training_refs.next(rng);
        // Someone trained once in this region on another topic may come back.
        let mut returning: Vec<usize> = (0..staff.len())
            .filter(|&i| {
                let p = &staff[i];
                p.region == region && p.topics == 1 && p.first_topic != topic
            })
            .collect();
        // How well a session went shifts everyone's gain a little.
        let quality = rng.random_range(-5.0..=5.0);
        for _ in 0..size {
            let who = if !returning.is_empty() && rng.random_bool(SECOND_TOPIC) {
                returning.swap_remove(rng.random_range(0..returning.len()))
            } else {
                let profession = pick(rng, professions_for(topic));
                let female = rng.random_bool(women_share(profession));
                staff.push(Professional {
                    person_ref: person_refs.next(rng),
                    region,
                    profession,
                    sex: if female { Sex::Female } else { Sex::Male },
                    topics: 0,
                    first_topic: topic,
                });
                staff.len() - 1
            };
            let person = &mut staff[who];
            person.topics += 1;
            let (pre_score, post_score) = scores(rng, quality);
            rows.push(TrainingRow {
                training_ref: training_ref.clone(),
                person_ref: person.person_ref.clone(),
                date,
                region: Region::parse(region).expect("fixture regions are in the reference"),
                profession: person.profession,
                sex: person.sex,
                topic,
                pre_score,
                post_score,
            });
        }
    }
    rows.sort_by(|a, b| {
        (a.date, &a.training_ref, &a.person_ref).cmp(&(b.date, &b.training_ref, &b.person_ref))
    });
    rows
}

/// Pre- and post-test scores out of 100, marked to the half point. Post is usually
/// about 20 points higher; a few people missed one test or both.
fn scores(rng: &mut ChaCha8Rng, quality: f64) -> (Option<f64>, Option<f64>) {
    let pre = roughly_normal(rng, 52.0, 13.0).clamp(5.0, 95.0);
    let post = (pre + roughly_normal(rng, 20.0 + quality, 9.0)).clamp(0.0, 100.0);
    let half_point = |x: f64| (x * 2.0).round() / 2.0;
    match pick(rng, &[(0, 93.0), (1, 3.0), (2, 3.0), (3, 1.0)]) {
        1 => (None, None),
        2 => (Some(half_point(pre)), None),
        3 => (None, Some(half_point(post))),
        _ => (Some(half_point(pre)), Some(half_point(post))),
    }
}

/// Splits `total` seats into groups whose sizes lie in `size` (a smaller total makes
/// one small group), so rows add up exactly.
fn group_sizes(rng: &mut ChaCha8Rng, total: usize, size: RangeInclusive<usize>) -> Vec<usize> {
    let (min, max) = (*size.start(), *size.end());
    let mut sizes = Vec::new();
    let mut left = total;
    while left > 0 {
        let next = if left <= max {
            left
        } else {
            rng.random_range(min..=max.min(left - min))
        };
        sizes.push(next);
        left -= next;
    }
    sizes
}

impl Row for TrainingRow {
    fn field(&self, column: &str) -> Option<String> {
        let score = |s: Option<f64>| s.map(score_text).unwrap_or_default();
        Some(match column {
            "training_ref" => self.training_ref.clone(),
            "person_ref" => self.person_ref.clone(),
            "training_date" => self.date.to_string(),
            "region_pcode" => self.region.code().to_owned(),
            "profession" => self.profession.code().to_owned(),
            "sex" => self.sex.code().to_owned(),
            "topic" => self.topic.code().to_owned(),
            "pre_score" => score(self.pre_score),
            "post_score" => score(self.post_score),
            _ => return None,
        })
    }
}

/// `62` or `62.5`: one decimal at most.
fn score_text(score: f64) -> String {
    if score.fract() == 0.0 {
        format!("{score:.0}")
    } else {
        format!("{score:.1}")
    }
}

// ---------------------------------------------------------------------------------------
// Finance
// ---------------------------------------------------------------------------------------

struct FinanceRow {
    month: Month,
    line: &'static str,
    output: Output,
    amount: String,
    currency: Currency,
}

impl Row for FinanceRow {
    fn field(&self, column: &str) -> Option<String> {
        Some(match column {
            "month" => self.month.to_string(),
            "budget_line" => self.line.to_owned(),
            "output" => self.output.code().to_owned(),
            "amount" => self.amount.clone(),
            "currency" => self.currency.code().to_owned(),
            _ => return None,
        })
    }
}

/// The grant's plan in USD per budget line and quarter (2019-Q1 is the last days of
/// March 2019; 2020-Q1 runs to the end in March 2020), as `dashboards/_budget.toml`
/// plans it.
const FINANCE_PLAN: &[(&str, [f64; 5])] = &[
    ("staff", [2_000.0, 24_000.0, 24_000.0, 24_000.0, 24_000.0]),
    (
        "psychosocial_care",
        [0.0, 13_000.0, 15_000.0, 16_000.0, 14_000.0],
    ),
    ("training", [0.0, 12_000.0, 9_000.0, 6_000.0, 3_000.0]),
    ("campaigns", [0.0, 8_000.0, 9_000.0, 11_000.0, 10_000.0]),
    ("workshops", [0.0, 4_400.0, 5_000.0, 6_500.0, 6_500.0]),
    ("monitoring", [0.0, 2_500.0, 3_000.0, 3_500.0, 5_000.0]),
    ("overheads", [400.0, 4_800.0, 4_800.0, 4_800.0, 4_800.0]),
];

/// How a budget line's spending splits between the outputs it serves, and which part
/// of it is paid locally in CFA francs (the rest in USD; overheads are billed from
/// Switzerland in CHF).
fn finance_split(line: &str) -> (&'static [(Output, f64)], f64) {
    match line {
        "staff" => (
            &[
                (Output::PsychosocialCare, 0.5),
                (Output::Training, 0.15),
                (Output::Awareness, 0.15),
                (Output::Coordination, 0.2),
            ],
            0.0,
        ),
        "psychosocial_care" => (&[(Output::PsychosocialCare, 1.0)], 0.3),
        "training" => (&[(Output::Training, 1.0)], 0.2),
        "campaigns" => (&[(Output::Awareness, 1.0)], 0.35),
        "workshops" => (&[(Output::PsychosocialCare, 1.0)], 0.4),
        _ => (&[(Output::Coordination, 1.0)], 0.0),
    }
}

/// Local currency per USD the accountants paid at (roughly 2019's): the budget file's
/// rates convert back, so amounts land near the plan without matching it exactly.
const XOF_PER_USD: f64 = 590.0;
const CHF_PER_USD: f64 = 0.99;

/// A year of monthly spending: each line's quarterly plan spread over its months, spent
/// at 80 to 105 % of plan (staff steadier), split by output and currency.
fn finance(rng: &mut ChaCha8Rng) -> Vec<FinanceRow> {
    let months: Vec<Month> = std::iter::successors(
        Some(Month {
            year: 2019,
            month: 3,
        }),
        |m| Some(m.next()),
    )
    .take(13)
    .collect();
    // Quarter index of a month (0 = 2019-Q1) and how many project months it has.
    let quarter = |m: Month| ((m.year - 2019) * 4 + (m.month as i32 - 1) / 3) as usize;
    let months_in = |q: usize| months.iter().filter(|m| quarter(**m) == q).count() as f64;
    let cents = |x: f64| format!("{:.2}", (x * 100.0).round() / 100.0);
    let mut rows = Vec::new();
    for month in &months {
        let q = quarter(*month);
        for (line, plan) in FINANCE_PLAN {
            let planned = plan[q] / months_in(q);
            if planned == 0.0 {
                continue;
            }
            let execution = if *line == "staff" {
                rng.random_range(0.95..1.0)
            } else {
                rng.random_range(0.80..1.05)
            };
            let spent = planned * execution;
            let (outputs, local) = finance_split(line);
            for (output, share) in outputs {
                let usd = spent * share;
                if *line == "overheads" {
                    rows.push(FinanceRow {
                        month: *month,
                        line,
                        output: *output,
                        amount: cents(usd * CHF_PER_USD),
                        currency: Currency::Chf,
                    });
                    continue;
                }
                rows.push(FinanceRow {
                    month: *month,
                    line,
                    output: *output,
                    amount: cents(usd * (1.0 - local)),
                    currency: Currency::Usd,
                });
                if local > 0.0 {
                    // CFA francs have no cents; ledgers round to the franc.
                    rows.push(FinanceRow {
                        month: *month,
                        line,
                        output: *output,
                        amount: format!("{:.0}", (usd * local * XOF_PER_USD).round()),
                        currency: Currency::Xof,
                    });
                }
            }
        }
    }
    rows
}

// ---------------------------------------------------------------------------------------
// Shared helpers: writing, choosing, dates, pseudonyms
// ---------------------------------------------------------------------------------------

/// A row that can fill the contract's columns by name, so the header order always
/// follows the contract.
trait Row {
    fn field(&self, column: &str) -> Option<String>;
}

/// Writes `rows` under a header of the kind's contract columns (an age band rather
/// than a birth year), comma-separated, LF line endings; returns the row count.
fn write_csv<R: Row>(path: &Path, kind: Kind, rows: &[R]) -> io::Result<u64> {
    let columns: Vec<&str> = contract::columns(kind)
        .iter()
        .map(|c| c.name)
        .filter(|name| *name != "birth_year")
        .collect();
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_path(path)?;
    out.write_record(&columns)?;
    let mut record = Vec::with_capacity(columns.len());
    for row in rows {
        record.clear();
        for column in &columns {
            record.push(row.field(column).ok_or_else(|| {
                io::Error::other(format!("fixtures cannot fill the {kind} column {column}"))
            })?);
        }
        out.write_record(&record)?;
    }
    out.flush()?;
    Ok(rows.len() as u64)
}

/// Rows at this scale: rounded, never fewer than one.
fn scaled(at_scale_one: f64, scale: f64) -> usize {
    ((at_scale_one * scale).round() as usize).max(1)
}

/// One item of a weighted table (weights need not add up to anything in particular).
fn pick<T: Clone>(rng: &mut ChaCha8Rng, table: &[(T, f64)]) -> T {
    let total: f64 = table.iter().map(|(_, weight)| weight).sum();
    let mut x = rng.random_range(0.0..total);
    for (item, weight) in table {
        if x < *weight {
            return item.clone();
        }
        x -= weight;
    }
    // Rounding can leave x a hair above the last weight.
    table[table.len() - 1].0.clone()
}

/// A bell-shaped draw (sum of four uniforms) without pulling in a distributions crate.
fn roughly_normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    let sum: f64 = (0..4).map(|_| rng.random::<f64>()).sum();
    // Four uniforms have mean 2 and standard deviation sqrt(1/3).
    mean + sd * (sum - 2.0) / (1.0f64 / 3.0).sqrt()
}

fn flag(value: bool) -> String {
    if value { "1" } else { "0" }.to_owned()
}

fn cercle(pcode: &str) -> Cercle {
    Cercle::parse(pcode).expect("fixture cercles are in the reference")
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("fixture dates are valid")
}

/// The programme year: launched 27 March 2019, for one year.
fn programme_year() -> (NaiveDate, NaiveDate) {
    (date(2019, 3, 27), date(2020, 3, 26))
}

/// The rainy season (July to September) cuts roads and keeps people in the fields.
fn rainy_season(month: u32) -> f64 {
    match month {
        7 | 8 => 0.65,
        9 => 0.8,
        _ => 1.0,
    }
}

fn any_day(_: NaiveDate) -> bool {
    true
}

fn not_sunday(day: NaiveDate) -> bool {
    day.weekday() != Weekday::Sun
}

fn weekday(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Draws days in a span: months weighted by how busy they were (per day, times the
/// days of the month inside the span), days uniform within a month, on open days only.
struct Calendar {
    months: Vec<((NaiveDate, NaiveDate), f64)>,
    open: fn(NaiveDate) -> bool,
}

impl Calendar {
    fn new(
        first: NaiveDate,
        last: NaiveDate,
        busy: fn(i32, u32) -> f64,
        open: fn(NaiveDate) -> bool,
    ) -> Calendar {
        let mut months = Vec::new();
        let mut month = Month::of(first);
        while month.first_day() <= last {
            let start = month.first_day().max(first);
            let end = (month.next().first_day() - Days::new(1)).min(last);
            let days = (end - start).num_days() + 1;
            months.push(((start, end), busy(month.year, month.month) * days as f64));
            month = month.next();
        }
        Calendar { months, open }
    }

    fn day(&self, rng: &mut ChaCha8Rng) -> NaiveDate {
        loop {
            let (start, end) = pick(rng, &self.months);
            let offset = rng.random_range(0..=(end - start).num_days() as u64);
            let day = start + Days::new(offset);
            if (self.open)(day) {
                return day;
            }
        }
    }
}

/// Mints opaque pseudonyms — a prefix letter and `len` characters of A–Z and 0–9 —
/// unique within one file.
struct Pseudonyms {
    prefix: char,
    len: usize,
    used: HashSet<String>,
}

impl Pseudonyms {
    const ALPHABET: &'static [u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    fn new(prefix: char, len: usize) -> Pseudonyms {
        Pseudonyms {
            prefix,
            len,
            used: HashSet::new(),
        }
    }

    fn next(&mut self, rng: &mut ChaCha8Rng) -> String {
        loop {
            let mut pseudonym = String::with_capacity(self.len + 1);
            pseudonym.push(self.prefix);
            for _ in 0..self.len {
                pseudonym.push(Self::ALPHABET[rng.random_range(0..Self::ALPHABET.len())] as char);
            }
            // Eight digits in a row could pass for a Malian phone number at the PII gate.
            if longest_digit_run(&pseudonym) < 8 && self.used.insert(pseudonym.clone()) {
                return pseudonym;
            }
        }
    }
}

fn longest_digit_run(text: &str) -> usize {
    text.split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one written file as (header, records).
    fn read(dir: &Path, kind: Kind) -> (Vec<String>, Vec<Vec<String>>) {
        let mut reader = csv::Reader::from_path(dir.join(format!("{}.csv", kind.name())))
            .expect("fixture file opens");
        let header = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let records = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        (header, records)
    }

    fn column(header: &[String], name: &str) -> usize {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn bytes(dir: &Path) -> Vec<Vec<u8>> {
        Kind::ALL
            .iter()
            .map(|k| fs::read(dir.join(format!("{}.csv", k.name()))).unwrap())
            .collect()
    }

    fn written(seed: u64, scale: f64) -> (tempfile::TempDir, Summary) {
        let dir = tempfile::tempdir().unwrap();
        let summary = write(dir.path(), seed, scale).unwrap();
        (dir, summary)
    }

    #[test]
    fn same_seed_writes_identical_bytes() {
        let (a, _) = written(7, 1.0);
        let (b, _) = written(7, 1.0);
        assert_eq!(bytes(a.path()), bytes(b.path()));
    }

    #[test]
    fn different_seeds_write_different_bytes() {
        let (a, _) = written(7, 0.2);
        let (b, _) = written(8, 0.2);
        for (x, y) in bytes(a.path()).iter().zip(bytes(b.path())) {
            assert_ne!(*x, y);
        }
    }

    #[test]
    fn scale_one_has_the_programmes_11505_returns() {
        let (dir, summary) = written(1, 1.0);
        assert_eq!(summary.files.len(), 5);
        assert_eq!(summary.files[0], (dir.path().join("returns.csv"), 11_505));
        assert_eq!(read(dir.path(), Kind::Returns).1.len(), 11_505);
        let total: u64 = summary
            .files
            .iter()
            .map(|(path, _)| fs::metadata(path).unwrap().len())
            .sum();
        assert!(total < 4_000_000, "fixtures at scale 1 take {total} bytes");
    }

    #[test]
    fn volumes_follow_the_scale_with_at_least_one_row() {
        let (_dir, summary) = written(1, 0.2);
        let rows: Vec<u64> = summary.files.iter().map(|f| f.1).collect();
        assert_eq!(rows[0], 2_301);
        assert_eq!(rows[2], 84);
        assert_eq!(rows[3], 140);
        let (_dir, tiny) = written(1, 1e-6);
        assert!(tiny.files.iter().all(|f| f.1 >= 1), "{:?}", tiny.files);
        assert!(write(Path::new("/nonexistent"), 1, 0.0).is_err());
    }

    #[test]
    fn no_field_looks_like_a_phone_number_or_an_email() {
        let (dir, _) = written(3, 1.0);
        for kind in Kind::ALL {
            let (header, records) = read(dir.path(), kind);
            for field in header.iter().chain(records.iter().flatten()) {
                assert!(longest_digit_run(field) < 8, "{kind}: {field}");
                assert!(!field.contains('@'), "{kind}: {field}");
                assert_eq!(crate::pii::value_kind(field), None, "{kind}: {field}");
            }
        }
    }

    #[test]
    fn headers_follow_the_contract_with_an_age_band() {
        let (dir, _) = written(1, 0.01);
        for kind in Kind::ALL {
            let expected: Vec<&str> = contract::columns(kind)
                .iter()
                .map(|c| c.name)
                .filter(|n| *n != "birth_year")
                .collect();
            assert_eq!(read(dir.path(), kind).0, expected);
        }
        let raw = fs::read(dir.path().join("returns.csv")).unwrap();
        assert!(raw.starts_with(b"person_ref,return_date,"));
        assert!(!raw.contains(&b'\r'));
    }

    #[test]
    fn sessions_reach_more_than_5000_unique_beneficiaries() {
        let (dir, _) = written(1, 1.0);
        let (header, records) = read(dir.path(), Kind::Sessions);
        let (session, person) = (
            column(&header, "session_ref"),
            column(&header, "person_ref"),
        );
        let people: HashSet<&str> = records.iter().map(|r| r[person].as_str()).collect();
        assert!(people.len() > 5_000, "{} beneficiaries", people.len());
        let pairs: HashSet<(&str, &str)> = records
            .iter()
            .map(|r| (r[session].as_str(), r[person].as_str()))
            .collect();
        assert_eq!(
            pairs.len(),
            records.len(),
            "a person attends a session once"
        );
        let activity = column(&header, "activity");
        for code in Activity::ALL {
            assert!(
                records.iter().any(|r| r[activity] == code.code()),
                "no {code}"
            );
        }
    }

    #[test]
    fn cercles_belong_to_their_regions() {
        let (dir, _) = written(5, 1.0);
        for kind in [Kind::Returns, Kind::Sessions, Kind::Campaigns] {
            let (header, records) = read(dir.path(), kind);
            let (region, cercle) = (
                column(&header, "region_pcode"),
                column(&header, "cercle_pcode"),
            );
            for record in &records {
                let parsed = Cercle::parse(&record[cercle]).expect("known cercle");
                assert_eq!(parsed.region().code(), record[region], "{kind}");
            }
        }
    }

    #[test]
    fn small_cells_really_occur() {
        let (dir, _) = written(1, 1.0);
        let (header, records) = read(dir.path(), Kind::Returns);
        let region = column(&header, "region_pcode");
        let count = |code: &str| records.iter().filter(|r| r[region] == code).count();
        assert!(
            (5..=60).contains(&count("ML08")),
            "Kidal: {}",
            count("ML08")
        );
        assert!(
            (3..=50).contains(&count("ML10")),
            "Ménaka: {}",
            count("ML10")
        );
    }

    #[test]
    fn refs_are_unique_where_the_contract_says_so() {
        let (dir, _) = written(2, 1.0);
        for (kind, keys) in [
            (Kind::Returns, &["person_ref"][..]),
            (Kind::Campaigns, &["event_ref"][..]),
            (Kind::Trainings, &["training_ref", "person_ref"][..]),
        ] {
            let (header, records) = read(dir.path(), kind);
            let idx: Vec<usize> = keys.iter().map(|k| column(&header, k)).collect();
            let unique: HashSet<Vec<&str>> = records
                .iter()
                .map(|r| idx.iter().map(|&i| r[i].as_str()).collect())
                .collect();
            assert_eq!(unique.len(), records.len(), "{kind}");
        }
    }

    #[test]
    fn a_year_of_spending_stays_near_the_280000_usd_plan() {
        let (dir, _) = written(1, 1.0);
        let (header, records) = read(dir.path(), Kind::Finance);
        let (amount, currency) = (column(&header, "amount"), column(&header, "currency"));
        let usd: f64 = records
            .iter()
            .map(|r| {
                let x: f64 = r[amount].parse().unwrap();
                match r[currency].as_str() {
                    "USD" => x,
                    "CHF" => x / CHF_PER_USD,
                    _ => x / XOF_PER_USD,
                }
            })
            .sum();
        assert!((230_000.0..280_000.0).contains(&usd), "{usd}");
        for code in ["USD", "CHF", "XOF"] {
            assert!(records.iter().any(|r| r[currency] == code), "no {code}");
        }
        // At every scale, the same year of spending.
        let (small, _) = written(1, 0.01);
        assert_eq!(read(small.path(), Kind::Finance).1.len(), records.len());
    }

    #[test]
    fn every_extract_passes_the_contract() {
        let (dir, summary) = written(4, 1.0);
        let today = date(2021, 1, 1);
        for (path, rows) in &summary.files {
            let extract = crate::extract::read(
                path,
                &crate::extract::Context::new(today),
                &mut |_, _| {},
                &mut |_, _| {},
            );
            assert!(
                extract.is_valid(),
                "{}: {:?}",
                path.display(),
                extract.report()
            );
            assert_eq!(extract.rows, *rows);
        }
        drop(dir);
    }
}
