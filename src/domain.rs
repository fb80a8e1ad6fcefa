//! Domain types: what a value from an extract becomes once it has been parsed.
//!
//! Every raw string from a file is turned into one of these at the edge (extract), so
//! code further in never holds an unknown region, an unbanded age or a misspelt code.
//! Parsing is case-insensitive and ignores surrounding spaces, as the contract says.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::reference;

/// A closed set of codes from the extract contract, with its accepted spellings.
pub trait Code: Sized + Copy + 'static {
    /// Name of the code set, as used in `labels.toml` and as a dimension name.
    const SET: &'static str;
    const ALL: &'static [Self];
    fn code(self) -> &'static str;
    /// Parses a raw cell: trimmed, case-insensitive, aliases accepted.
    fn parse(raw: &str) -> Option<Self>;

    /// Parses a cell as careless but honest files write it: the code, or its French or
    /// English label from the reference data, in any case, with spaces, hyphens or
    /// underscores, with or without accents (`Premiers secours psychologiques`,
    /// `psychological first aid`, `PSYCHOLOGICAL_FIRST_AID`). Always yields the code.
    fn parse_lenient(raw: &str) -> Option<Self> {
        if let Some(code) = Self::parse(raw) {
            return Some(code);
        }
        let key = fold_label(raw);
        if key.is_empty() {
            return None;
        }
        let labels = reference::labels().get(Self::SET);
        Self::ALL.iter().copied().find(|c| {
            fold_label(c.code()) == key
                || labels
                    .and_then(|set| set.get(c.code()))
                    .is_some_and(|l| fold_label(&l.fr) == key || fold_label(&l.en) == key)
        })
    }
}

/// A code or label folded for lenient matching: lower case, accents removed, every
/// run of other characters than letters, digits and `+` made one space.
pub fn fold_label(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars().flat_map(char::to_lowercase).map(fold_accent) {
        if c.is_alphanumeric() || c == '+' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim_end().to_string()
}

macro_rules! code_set {
    ($(#[$meta:meta])* $name:ident, $set:literal {
        $($variant:ident = $code:literal $(| $alias:literal)*),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl Code for $name {
            const SET: &'static str = $set;
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }
            fn parse(raw: &str) -> Option<Self> {
                let raw = raw.trim();
                $(
                    if raw.eq_ignore_ascii_case($code) $(|| raw.eq_ignore_ascii_case($alias))* {
                        return Some(Self::$variant);
                    }
                )+
                None
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_set!(
    /// Sex as recorded by the case-management system.
    Sex, "sex" { Female = "F" | "female" | "femme" | "féminin" | "feminin", Male = "M" | "male" | "homme" | "masculin" }
);

code_set!(
    /// Age bands of the contract.
    AgeBand, "age_band" {
        A0_14 = "0-14", A15_17 = "15-17", A18_24 = "18-24", A25_34 = "25-34",
        A35_44 = "35-44", A45_59 = "45-59", A60Plus = "60+" | "60 +" | "60-+"
    }
);

impl AgeBand {
    /// The band of someone `age` full years old.
    pub fn from_age(age: i32) -> Option<Self> {
        Some(match age {
            i32::MIN..=-1 => return None,
            0..=14 => Self::A0_14,
            15..=17 => Self::A15_17,
            18..=24 => Self::A18_24,
            25..=34 => Self::A25_34,
            35..=44 => Self::A35_44,
            45..=59 => Self::A45_59,
            60..=120 => Self::A60Plus,
            _ => return None,
        })
    }

    pub fn is_minor(self) -> bool {
        matches!(self, Self::A0_14 | Self::A15_17)
    }
}

code_set!(
    /// How the return was organised.
    ReturnType, "return_type" { Vhr = "VHR", Avrr = "AVRR" }
);

code_set!(
    /// Vulnerability flags recorded at return (a person may carry several).
    Vulnerability, "vulnerability" {
        UnaccompaniedMinor = "unaccompanied_minor",
        TraffickingVictim = "trafficking_victim",
        MedicalCase = "medical_case",
        None = "none"
    }
);

code_set!(
    /// Kinds of psychosocial activity.
    Activity, "activity" {
        IndividualCounselling = "individual_counselling",
        GroupSession = "group_session",
        FamilyMediation = "family_mediation",
        PsychologicalFirstAid = "psychological_first_aid",
        Theatre = "theatre",
        Art = "art",
        Sport = "sport",
        ReferralSpecialised = "referral_specialised"
    }
);

code_set!(
    /// Who ran an activity.
    Facilitator, "facilitator" {
        Psychologist = "psychologist",
        SocialWorker = "social_worker",
        HealthWorker = "health_worker",
        CommunityVolunteer = "community_volunteer"
    }
);

code_set!(
    /// Channels of awareness campaigns.
    Channel, "channel" {
        Radio = "radio",
        CommunityTheatre = "community_theatre",
        Caravan = "caravan",
        FilmScreening = "film_screening",
        CommunityDialogue = "community_dialogue",
        School = "school",
        SocialMedia = "social_media"
    }
);

code_set!(
    /// Campaign languages (ISO 639 codes).
    Language, "language" { French = "fr", Bambara = "bm", Soninke = "snk", Fulfulde = "ff", Khassonke = "kao", English = "en" }
);

code_set!(
    /// Professions of trained professionals.
    Profession, "profession" {
        SocialWorker = "social_worker",
        HealthWorker = "health_worker",
        Psychologist = "psychologist",
        CommunityLeader = "community_leader",
        Teacher = "teacher"
    }
);

code_set!(
    /// Training topics.
    Topic, "topic" {
        PsychosocialSupport = "psychosocial_support",
        PsychologicalFirstAid = "psychological_first_aid",
        CaseManagement = "case_management",
        ReferralPathways = "referral_pathways",
        ChildProtection = "child_protection",
        StigmaReduction = "stigma_reduction"
    }
);

code_set!(
    /// The outputs of the programme that spending serves (finance extracts).
    Output, "output" {
        PsychosocialCare = "psychosocial_care",
        Training = "training",
        Awareness = "awareness",
        Coordination = "coordination"
    }
);

code_set!(
    /// Currencies spending is recorded in (finance extracts): the grant's and the two
    /// the programme pays in locally. `FCFA`/`CFA` are how Malian ledgers write XOF.
    Currency, "currency" { Usd = "USD", Chf = "CHF", Xof = "XOF" | "FCFA" | "CFA" | "F CFA" }
);

/// A region (admin1) P-code of the 2019 boundaries, e.g. `ML01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(&'static str);

/// A cercle (admin2) P-code of the 2019 boundaries, e.g. `ML0105` (Kita).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cercle(&'static str);

impl Region {
    pub fn parse(raw: &str) -> Option<Self> {
        reference::places()
            .region(raw.trim())
            .map(|r| Region(r.pcode.as_str()))
    }
    pub fn code(self) -> &'static str {
        self.0
    }
}

impl Cercle {
    pub fn parse(raw: &str) -> Option<Self> {
        reference::places()
            .cercle(raw.trim())
            .map(|c| Cercle(c.pcode.as_str()))
    }
    pub fn code(self) -> &'static str {
        self.0
    }
    /// The region this cercle belongs to.
    pub fn region(self) -> Region {
        let region = &reference::places()
            .cercle(self.0)
            .expect("a parsed cercle is in the reference")
            .region;
        Region(region.as_str())
    }
}

/// An ISO 3166-1 alpha-3 country code known to the reference data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country(&'static str);

impl Country {
    pub fn parse(raw: &str) -> Option<Self> {
        reference::countries()
            .get(raw.trim())
            .map(|c| Country(c.alpha3.as_str()))
    }
    pub fn code(self) -> &'static str {
        self.0
    }
}

/// The kinds of extract: four about the programme's activities, and its spending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Returns,
    Sessions,
    Campaigns,
    Trainings,
    /// Monthly spending by budget line: money, never people.
    Finance,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Returns,
        Kind::Sessions,
        Kind::Campaigns,
        Kind::Trainings,
        Kind::Finance,
    ];

    /// Name of the kind, which is also the name of its table in the private store.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Returns => "returns",
            Kind::Sessions => "sessions",
            Kind::Campaigns => "campaigns",
            Kind::Trainings => "trainings",
            Kind::Finance => "finance",
        }
    }

    /// The kind named by a file name's first word (English or French), if any.
    pub fn from_file_name(name: &str) -> Option<Kind> {
        let word: String = name
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .map(fold_accent)
            .collect();
        match word.as_str() {
            "returns" | "return" | "retours" | "retour" => Some(Kind::Returns),
            "sessions" | "session" | "seances" | "seance" => Some(Kind::Sessions),
            "campaigns" | "campaign" | "campagnes" | "campagne" => Some(Kind::Campaigns),
            "trainings" | "training" | "formations" | "formation" => Some(Kind::Trainings),
            "finance" | "finances" | "depenses" | "depense" | "spending" => Some(Kind::Finance),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Folds the accented letters of French into their base letter (é → e).
pub fn fold_accent(c: char) -> char {
    match c {
        'à' | 'â' | 'ä' | 'á' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' | 'í' => 'i',
        'ô' | 'ö' | 'ó' => 'o',
        'ù' | 'û' | 'ü' | 'ú' => 'u',
        'ç' => 'c',
        'ÿ' => 'y',
        'À' | 'Â' | 'Ä' | 'Á' => 'A',
        'É' | 'È' | 'Ê' | 'Ë' => 'E',
        'Î' | 'Ï' => 'I',
        'Ô' | 'Ö' => 'O',
        'Ù' | 'Û' | 'Ü' => 'U',
        'Ç' => 'C',
        other => other,
    }
}

/// Parses a calendar date written `YYYY-MM-DD` or `DD/MM/YYYY` (also `DD-MM-YYYY`,
/// `DD.MM.YYYY`, and a trailing `T00:00:00` or ` 00:00:00` as spreadsheets write it).
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    let raw = raw
        .split_once(['T', ' '])
        .filter(|(_, time)| is_midnight(time))
        .map_or(raw, |(date, _)| date);
    let bytes = raw.as_bytes();
    let num = |s: &str| -> Option<u32> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-' {
        let (y, m, d) = (num(&raw[0..4])?, num(&raw[5..7])?, num(&raw[8..10])?);
        return NaiveDate::from_ymd_opt(y as i32, m, d);
    }
    let mut parts = raw.split(['/', '-', '.']);
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || d.len() > 2 || m.len() > 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?)
}

fn is_midnight(time: &str) -> bool {
    matches!(
        time.trim(),
        "00:00:00" | "00:00" | "00:00:00.000" | "00:00:00Z"
    )
}

/// A calendar month, the unit in which extracts replace earlier ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(date: NaiveDate) -> Self {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("month is valid")
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Parses `YYYY-MM`.
    pub fn parse(raw: &str) -> Option<Month> {
        let (y, m) = raw.trim().split_once('-')?;
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Month { year, month })
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// An inclusive span of months: the period an extract covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthSpan {
    pub first: Month,
    pub last: Month,
}

impl MonthSpan {
    pub fn months(self) -> impl Iterator<Item = Month> {
        std::iter::successors(Some(self.first), move |m| {
            let next = m.next();
            (next <= self.last).then_some(next)
        })
    }
}

impl fmt::Display for MonthSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}..{}", self.first, self.last)
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn codes_are_accepted_as_their_labels_however_written_and_stored_as_codes() {
        for raw in [
            "psychological first aid",
            "Premiers secours psychologiques",
            "PSYCHOLOGICAL_FIRST_AID",
            " premiers  secours psychologiques ",
            "Premiers-Secours-Psychologiques",
            "premiers secours psychologiques",
            "PREMIERS SECOURS PSYCHOLOGIQUES",
        ] {
            assert_eq!(
                Activity::parse_lenient(raw),
                Some(Activity::PsychologicalFirstAid),
                "{raw}"
            );
        }
        assert_eq!(
            Channel::parse_lenient("theatre communautaire"),
            Some(Channel::CommunityTheatre)
        );
        assert_eq!(
            Channel::parse_lenient("Community Theatre"),
            Some(Channel::CommunityTheatre)
        );
        assert_eq!(Sex::parse_lenient("Femmes"), Some(Sex::Female));
        assert_eq!(AgeBand::parse_lenient("18–24 ans"), Some(AgeBand::A18_24));
        assert_eq!(Activity::parse_lenient("psychological"), None);
        assert_eq!(Activity::parse_lenient(""), None);
    }

    use super::*;

    #[test]
    fn codes_parse_in_any_case_with_stray_spaces() {
        assert_eq!(
            Activity::parse("  Group_Session "),
            Some(Activity::GroupSession)
        );
        assert_eq!(Sex::parse("femme"), Some(Sex::Female));
        assert_eq!(Sex::parse(" m"), Some(Sex::Male));
        assert_eq!(ReturnType::parse("vhr"), Some(ReturnType::Vhr));
        assert_eq!(Channel::parse("tv"), None);
        assert_eq!(Region::parse(" ml01 ").map(Region::code), Some("ML01"));
        assert_eq!(
            Cercle::parse("ML0105").map(|c| c.region().code()),
            Some("ML01")
        );
        assert_eq!(Cercle::parse("ML0199"), None);
    }

    #[test]
    fn dates_parse_in_both_written_forms() {
        let d = NaiveDate::from_ymd_opt(2019, 3, 27).unwrap();
        assert_eq!(parse_date("2019-03-27"), Some(d));
        assert_eq!(parse_date("27/03/2019"), Some(d));
        assert_eq!(parse_date("27/3/2019"), Some(d));
        assert_eq!(parse_date("2019-03-27 00:00:00"), Some(d));
        assert_eq!(parse_date("2019-02-30"), None);
        assert_eq!(parse_date("31/04/2019"), None);
        assert_eq!(parse_date("03/27/2019"), None);
        assert_eq!(parse_date("2019-3-27"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn kinds_come_from_the_first_word_of_a_file_name() {
        assert_eq!(
            Kind::from_file_name("returns_2019.csv"),
            Some(Kind::Returns)
        );
        assert_eq!(
            Kind::from_file_name("Séances mars.xlsx"),
            Some(Kind::Sessions)
        );
        assert_eq!(
            Kind::from_file_name("CAMPAGNES-2019.csv"),
            Some(Kind::Campaigns)
        );
        assert_eq!(
            Kind::from_file_name("Dépenses_2019-07.xlsx"),
            Some(Kind::Finance)
        );
        assert_eq!(Kind::from_file_name("finance.csv"), Some(Kind::Finance));
        assert_eq!(Kind::from_file_name("export.csv"), None);
    }

    #[test]
    fn month_spans_iterate_inclusively_across_years() {
        let span = MonthSpan {
            first: Month {
                year: 2018,
                month: 11,
            },
            last: Month {
                year: 2019,
                month: 2,
            },
        };
        let months: Vec<String> = span.months().map(|m| m.to_string()).collect();
        assert_eq!(months, ["2018-11", "2018-12", "2019-01", "2019-02"]);
    }

    #[test]
    fn ages_fall_into_their_band() {
        assert_eq!(AgeBand::from_age(17), Some(AgeBand::A15_17));
        assert_eq!(AgeBand::from_age(18), Some(AgeBand::A18_24));
        assert_eq!(AgeBand::from_age(60), Some(AgeBand::A60Plus));
        assert_eq!(AgeBand::from_age(-1), None);
    }
}
