//! The extract contract: the columns of each kind, their French names and their types.
//!
//! This is DESIGN.md's table in code. The private store's tables have exactly the
//! "stored" columns listed here, in this order.

use crate::domain::{
    Activity, AgeBand, Channel, Code, Currency, Facilitator, Kind, Language, Output, Profession,
    ReturnType, Sex, Topic, fold_accent,
};

/// What a column must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// An opaque pseudonymous reference from the source system.
    Ref,
    /// A calendar date, `YYYY-MM-DD` or `DD/MM/YYYY`.
    Date,
    /// ISO 3166-1 alpha-3.
    Country,
    /// Region P-code (admin1).
    Region,
    /// Cercle P-code (admin2), inside the row's region.
    Cercle,
    /// The name of an activity site (a place, never a person).
    Site,
    /// A code from one of the contract's closed sets.
    Code(CodeSet),
    /// Year of birth (never a full date of birth).
    BirthYear,
    /// Yes/no.
    Flag,
    /// A non-negative whole number.
    Count,
    /// A test score between 0 and 100.
    Score,
    /// A calendar month, `YYYY-MM`, or any date of it; stored as its first day.
    Month,
    /// A line of the grant's budget (`dashboards/_budget.toml`).
    BudgetLine,
    /// A sum of money: non-negative, at most two decimals (point or comma), thousands
    /// optionally grouped with spaces.
    Amount,
}

/// The closed code sets a column can draw from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSet {
    Sex,
    AgeBand,
    ReturnType,
    Activity,
    Facilitator,
    Channel,
    Language,
    Profession,
    Topic,
    Output,
    Currency,
}

impl CodeSet {
    /// The canonical code for a raw cell, if it is one of the set.
    pub fn normalize(self, raw: &str) -> Option<&'static str> {
        fn code<C: Code>(raw: &str) -> Option<&'static str> {
            C::parse_lenient(raw).map(C::code)
        }
        match self {
            CodeSet::Sex => code::<Sex>(raw),
            CodeSet::AgeBand => code::<AgeBand>(raw),
            CodeSet::ReturnType => code::<ReturnType>(raw),
            CodeSet::Activity => code::<Activity>(raw),
            CodeSet::Facilitator => code::<Facilitator>(raw),
            CodeSet::Channel => code::<Channel>(raw),
            CodeSet::Language => code::<Language>(raw),
            CodeSet::Profession => code::<Profession>(raw),
            CodeSet::Topic => code::<Topic>(raw),
            CodeSet::Output => code::<Output>(raw),
            CodeSet::Currency => code::<Currency>(raw),
        }
    }

    /// The allowed codes, for error messages (codes are part of the contract, not data).
    pub fn allowed(self) -> Vec<&'static str> {
        fn all<C: Code>() -> Vec<&'static str> {
            C::ALL.iter().map(|c| c.code()).collect()
        }
        match self {
            CodeSet::Sex => vec!["F", "M"],
            CodeSet::AgeBand => all::<AgeBand>(),
            CodeSet::ReturnType => all::<ReturnType>(),
            CodeSet::Activity => all::<Activity>(),
            CodeSet::Facilitator => all::<Facilitator>(),
            CodeSet::Channel => all::<Channel>(),
            CodeSet::Language => all::<Language>(),
            CodeSet::Profession => all::<Profession>(),
            CodeSet::Topic => all::<Topic>(),
            CodeSet::Output => all::<Output>(),
            CodeSet::Currency => all::<Currency>(),
        }
    }
}

impl CodeSet {
    pub const ALL: [CodeSet; 11] = [
        CodeSet::Sex,
        CodeSet::AgeBand,
        CodeSet::ReturnType,
        CodeSet::Activity,
        CodeSet::Facilitator,
        CodeSet::Channel,
        CodeSet::Language,
        CodeSet::Profession,
        CodeSet::Topic,
        CodeSet::Output,
        CodeSet::Currency,
    ];
}

/// Whether a cell is a code (or label) of one of the contract's sets, as data rows
/// hold them.
pub fn any_code(cell: &str) -> bool {
    CodeSet::ALL.iter().any(|set| set.normalize(cell).is_some())
}

/// Whether a column must be present in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Required,
    Optional,
    /// Required unless the named column is present (age_band or birth_year).
    EitherOr(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    /// The English name, which is also the canonical name.
    pub name: &'static str,
    /// The French name.
    pub fr: &'static str,
    pub ty: ColType,
    pub need: Need,
}

const fn col(name: &'static str, fr: &'static str, ty: ColType, need: Need) -> ColumnSpec {
    ColumnSpec { name, fr, ty, need }
}

use ColType as T;
use Need::*;

const RETURNS: &[ColumnSpec] = &[
    col("person_ref", "ref_personne", T::Ref, Required),
    col("return_date", "date_retour", T::Date, Required),
    col("country_from", "pays_provenance", T::Country, Required),
    col("region_pcode", "code_region", T::Region, Required),
    col("cercle_pcode", "code_cercle", T::Cercle, Required),
    col("sex", "sexe", T::Code(CodeSet::Sex), Required),
    col(
        "age_band",
        "tranche_age",
        T::Code(CodeSet::AgeBand),
        EitherOr("birth_year"),
    ),
    col(
        "birth_year",
        "annee_naissance",
        T::BirthYear,
        EitherOr("age_band"),
    ),
    col(
        "return_type",
        "type_retour",
        T::Code(CodeSet::ReturnType),
        Required,
    ),
    col(
        "unaccompanied_minor",
        "mineur_non_accompagne",
        T::Flag,
        Optional,
    ),
    col("trafficking_victim", "victime_traite", T::Flag, Optional),
    col("medical_case", "cas_medical", T::Flag, Optional),
];

const SESSIONS: &[ColumnSpec] = &[
    col("session_ref", "ref_seance", T::Ref, Required),
    col("person_ref", "ref_personne", T::Ref, Required),
    col("session_date", "date_seance", T::Date, Required),
    col("region_pcode", "code_region", T::Region, Required),
    col("cercle_pcode", "code_cercle", T::Cercle, Required),
    col("site", "site", T::Site, Required),
    col("activity", "activite", T::Code(CodeSet::Activity), Required),
    col(
        "facilitator",
        "intervenant",
        T::Code(CodeSet::Facilitator),
        Required,
    ),
];

const CAMPAIGNS: &[ColumnSpec] = &[
    col("event_ref", "ref_evenement", T::Ref, Required),
    col("event_date", "date_evenement", T::Date, Required),
    col("region_pcode", "code_region", T::Region, Required),
    col("cercle_pcode", "code_cercle", T::Cercle, Required),
    col("channel", "canal", T::Code(CodeSet::Channel), Required),
    col("language", "langue", T::Code(CodeSet::Language), Required),
    col("people_reached", "personnes_atteintes", T::Count, Required),
    col("women_reached", "femmes_atteintes", T::Count, Optional),
    col("youth_reached", "jeunes_atteints", T::Count, Optional),
];

const TRAININGS: &[ColumnSpec] = &[
    col("training_ref", "ref_formation", T::Ref, Required),
    col("person_ref", "ref_personne", T::Ref, Required),
    col("training_date", "date_formation", T::Date, Required),
    col("region_pcode", "code_region", T::Region, Required),
    col(
        "profession",
        "profession",
        T::Code(CodeSet::Profession),
        Required,
    ),
    col("sex", "sexe", T::Code(CodeSet::Sex), Required),
    col("topic", "theme", T::Code(CodeSet::Topic), Required),
    col("pre_score", "score_avant", T::Score, Optional),
    col("post_score", "score_apres", T::Score, Optional),
];

/// One row per month, budget line, output and currency: what the accounts spent.
const FINANCE: &[ColumnSpec] = &[
    col("month", "mois", T::Month, Required),
    col("budget_line", "ligne_budgetaire", T::BudgetLine, Required),
    col("output", "produit", T::Code(CodeSet::Output), Required),
    col("amount", "montant", T::Amount, Required),
    col("currency", "devise", T::Code(CodeSet::Currency), Required),
];

/// The columns a file of this kind may carry.
pub fn columns(kind: Kind) -> &'static [ColumnSpec] {
    match kind {
        Kind::Returns => RETURNS,
        Kind::Sessions => SESSIONS,
        Kind::Campaigns => CAMPAIGNS,
        Kind::Trainings => TRAININGS,
        Kind::Finance => FINANCE,
    }
}

/// A column of the private store, with its DuckDB type.
#[derive(Debug, Clone, Copy)]
pub struct StoredColumn {
    pub name: &'static str,
    pub sql_type: &'static str,
}

const fn stored(name: &'static str, sql_type: &'static str) -> StoredColumn {
    StoredColumn { name, sql_type }
}

/// The columns of the kind's table in the private store, in order. `birth_year` is not
/// kept: it becomes an age band at the return date.
pub fn stored_columns(kind: Kind) -> &'static [StoredColumn] {
    const RETURNS: &[StoredColumn] = &[
        stored("person_ref", "VARCHAR NOT NULL"),
        stored("return_date", "DATE NOT NULL"),
        stored("country_from", "VARCHAR NOT NULL"),
        stored("region_pcode", "VARCHAR NOT NULL"),
        stored("cercle_pcode", "VARCHAR NOT NULL"),
        stored("sex", "VARCHAR NOT NULL"),
        stored("age_band", "VARCHAR NOT NULL"),
        stored("return_type", "VARCHAR NOT NULL"),
        stored("unaccompanied_minor", "BOOLEAN NOT NULL"),
        stored("trafficking_victim", "BOOLEAN NOT NULL"),
        stored("medical_case", "BOOLEAN NOT NULL"),
    ];
    const SESSIONS: &[StoredColumn] = &[
        stored("session_ref", "VARCHAR NOT NULL"),
        stored("person_ref", "VARCHAR NOT NULL"),
        stored("session_date", "DATE NOT NULL"),
        stored("region_pcode", "VARCHAR NOT NULL"),
        stored("cercle_pcode", "VARCHAR NOT NULL"),
        stored("site", "VARCHAR NOT NULL"),
        stored("activity", "VARCHAR NOT NULL"),
        stored("facilitator", "VARCHAR NOT NULL"),
    ];
    const CAMPAIGNS: &[StoredColumn] = &[
        stored("event_ref", "VARCHAR NOT NULL"),
        stored("event_date", "DATE NOT NULL"),
        stored("region_pcode", "VARCHAR NOT NULL"),
        stored("cercle_pcode", "VARCHAR NOT NULL"),
        stored("channel", "VARCHAR NOT NULL"),
        stored("language", "VARCHAR NOT NULL"),
        stored("people_reached", "BIGINT NOT NULL"),
        stored("women_reached", "BIGINT"),
        stored("youth_reached", "BIGINT"),
    ];
    const TRAININGS: &[StoredColumn] = &[
        stored("training_ref", "VARCHAR NOT NULL"),
        stored("person_ref", "VARCHAR NOT NULL"),
        stored("training_date", "DATE NOT NULL"),
        stored("region_pcode", "VARCHAR NOT NULL"),
        stored("profession", "VARCHAR NOT NULL"),
        stored("sex", "VARCHAR NOT NULL"),
        stored("topic", "VARCHAR NOT NULL"),
        stored("pre_score", "DOUBLE"),
        stored("post_score", "DOUBLE"),
    ];
    const FINANCE: &[StoredColumn] = &[
        stored("month", "DATE NOT NULL"),
        stored("budget_line", "VARCHAR NOT NULL"),
        stored("output", "VARCHAR NOT NULL"),
        stored("amount", "DECIMAL(18,2) NOT NULL"),
        stored("currency", "VARCHAR NOT NULL"),
    ];
    match kind {
        Kind::Returns => RETURNS,
        Kind::Sessions => SESSIONS,
        Kind::Campaigns => CAMPAIGNS,
        Kind::Trainings => TRAININGS,
        Kind::Finance => FINANCE,
    }
}

/// The column whose months an extract of this kind covers.
pub fn date_column(kind: Kind) -> &'static str {
    match kind {
        Kind::Returns => "return_date",
        Kind::Sessions => "session_date",
        Kind::Campaigns => "event_date",
        Kind::Trainings => "training_date",
        Kind::Finance => "month",
    }
}

/// Columns whose values together identify one row; a file may not repeat them.
pub fn key_columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Returns => &["person_ref", "return_date"],
        Kind::Sessions => &["session_ref", "person_ref"],
        Kind::Campaigns => &["event_ref"],
        Kind::Trainings => &["training_ref", "person_ref"],
        Kind::Finance => &["budget_line", "month", "output", "currency"],
    }
}

/// A header as written in a file, folded for matching: trimmed, lower case, accents
/// removed, spaces, hyphens and dots turned into underscores.
pub fn fold_header(raw: &str) -> String {
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '"');
    let mut out = String::with_capacity(trimmed.len());
    for c in trimmed
        .chars()
        .flat_map(char::to_lowercase)
        .map(fold_accent)
    {
        let c = if c.is_alphanumeric() { c } else { '_' };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out.trim_matches('_').to_string()
}

/// The contract column a (folded) header names, if any.
pub fn find_column(kind: Kind, folded: &str) -> Option<&'static ColumnSpec> {
    columns(kind)
        .iter()
        .find(|c| c.name == folded || c.fr == folded)
}

/// Guesses the kind of a file from its headers: the kind whose required columns are
/// all present, or failing that the one with the most recognised columns.
pub fn kind_from_headers(folded: &[String]) -> Option<Kind> {
    let score = |kind: Kind| {
        let known = folded
            .iter()
            .filter(|h| find_column(kind, h).is_some())
            .count();
        let complete = columns(kind)
            .iter()
            .filter(|c| c.need == Need::Required)
            .all(|c| folded.iter().any(|h| h == c.name || h == c.fr));
        (complete, known)
    };
    let best = Kind::ALL.into_iter().max_by_key(|k| score(*k))?;
    let (complete, known) = score(best);
    (complete || known >= 3).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_fold_to_contract_names() {
        assert_eq!(fold_header(" Date Retour "), "date_retour");
        assert_eq!(fold_header("Code-Région"), "code_region");
        assert_eq!(fold_header("\u{feff}Person_Ref"), "person_ref");
        assert_eq!(fold_header("Activité"), "activite");
        assert_eq!(fold_header("Année de naissance"), "annee_de_naissance");
    }

    #[test]
    fn kinds_are_recognised_from_their_columns() {
        let folded = |hs: &[&str]| hs.iter().map(|h| fold_header(h)).collect::<Vec<_>>();
        let sessions = folded(&[
            "ref_seance",
            "ref_personne",
            "date_seance",
            "code_region",
            "code_cercle",
            "site",
            "activite",
            "intervenant",
        ]);
        assert_eq!(kind_from_headers(&sessions), Some(Kind::Sessions));
        assert_eq!(kind_from_headers(&folded(&["a", "b"])), None);
    }

    #[test]
    fn every_stored_column_comes_from_the_contract() {
        for kind in Kind::ALL {
            for stored in stored_columns(kind) {
                assert!(
                    find_column(kind, stored.name).is_some(),
                    "{kind}.{}",
                    stored.name
                );
            }
            assert!(find_column(kind, date_column(kind)).is_some());
        }
    }
}
