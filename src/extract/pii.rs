//! The PII gate: columns and values that identify a person reject the whole file.
//!
//! It never returns the value it found, only which rule it broke; callers name the
//! column and row.

use std::sync::LazyLock;

use regex::Regex;

/// What kind of identifying data a column name or a value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    Name,
    Phone,
    Email,
    Address,
    IdNumber,
    Location,
    DateOfBirth,
}

impl PiiKind {
    pub fn describe(self) -> &'static str {
        match self {
            PiiKind::Name => "a person's name",
            PiiKind::Phone => "a phone number",
            PiiKind::Email => "an e-mail address",
            PiiKind::Address => "a postal address",
            PiiKind::IdNumber => "an identity, passport or other ID number",
            PiiKind::Location => "GPS coordinates",
            PiiKind::DateOfBirth => "an exact date of birth",
        }
    }
}

/// Whole (folded) column names that identify people, in English and French.
const COLUMN_NAMES: &[(&str, PiiKind)] = &[
    ("name", PiiKind::Name),
    ("full_name", PiiKind::Name),
    ("first_name", PiiKind::Name),
    ("firstname", PiiKind::Name),
    ("last_name", PiiKind::Name),
    ("lastname", PiiKind::Name),
    ("surname", PiiKind::Name),
    ("given_name", PiiKind::Name),
    ("family_name", PiiKind::Name),
    ("nom", PiiKind::Name),
    ("prenom", PiiKind::Name),
    ("prenoms", PiiKind::Name),
    ("nom_complet", PiiKind::Name),
    ("nom_de_famille", PiiKind::Name),
    ("father_name", PiiKind::Name),
    ("mother_name", PiiKind::Name),
    ("nom_du_pere", PiiKind::Name),
    ("nom_de_la_mere", PiiKind::Name),
    ("phone", PiiKind::Phone),
    ("telephone", PiiKind::Phone),
    ("tel", PiiKind::Phone),
    ("mobile", PiiKind::Phone),
    ("portable", PiiKind::Phone),
    ("cell", PiiKind::Phone),
    ("cellphone", PiiKind::Phone),
    ("msisdn", PiiKind::Phone),
    ("whatsapp", PiiKind::Phone),
    ("email", PiiKind::Email),
    ("e_mail", PiiKind::Email),
    ("mail", PiiKind::Email),
    ("courriel", PiiKind::Email),
    ("address", PiiKind::Address),
    ("adresse", PiiKind::Address),
    ("street", PiiKind::Address),
    ("rue", PiiKind::Address),
    ("domicile", PiiKind::Address),
    ("passport", PiiKind::IdNumber),
    ("passeport", PiiKind::IdNumber),
    ("nina", PiiKind::IdNumber),
    ("cni", PiiKind::IdNumber),
    ("id_number", PiiKind::IdNumber),
    ("national_id", PiiKind::IdNumber),
    ("id_card", PiiKind::IdNumber),
    ("carte_identite", PiiKind::IdNumber),
    ("carte_d_identite", PiiKind::IdNumber),
    ("numero_identite", PiiKind::IdNumber),
    ("piece_identite", PiiKind::IdNumber),
    ("ssn", PiiKind::IdNumber),
    ("gps", PiiKind::Location),
    ("latitude", PiiKind::Location),
    ("longitude", PiiKind::Location),
    ("lat", PiiKind::Location),
    ("lon", PiiKind::Location),
    ("lng", PiiKind::Location),
    ("long", PiiKind::Location),
    ("coordinates", PiiKind::Location),
    ("coordonnees", PiiKind::Location),
    ("geolocation", PiiKind::Location),
    ("date_of_birth", PiiKind::DateOfBirth),
    ("birth_date", PiiKind::DateOfBirth),
    ("birthdate", PiiKind::DateOfBirth),
    ("dob", PiiKind::DateOfBirth),
    ("date_naissance", PiiKind::DateOfBirth),
    ("date_de_naissance", PiiKind::DateOfBirth),
    ("ddn", PiiKind::DateOfBirth),
];

/// Words that make a column identifying wherever they appear in its name
/// (`beneficiary_phone`, `nom_beneficiaire`, `passport_no`, `gps_lat`).
const COLUMN_WORDS: &[(&str, PiiKind)] = &[
    ("name", PiiKind::Name),
    ("nom", PiiKind::Name),
    ("prenom", PiiKind::Name),
    ("surname", PiiKind::Name),
    ("phone", PiiKind::Phone),
    ("telephone", PiiKind::Phone),
    ("tel", PiiKind::Phone),
    ("mobile", PiiKind::Phone),
    ("email", PiiKind::Email),
    ("courriel", PiiKind::Email),
    ("address", PiiKind::Address),
    ("adresse", PiiKind::Address),
    ("passport", PiiKind::IdNumber),
    ("passeport", PiiKind::IdNumber),
    ("nina", PiiKind::IdNumber),
    ("gps", PiiKind::Location),
    ("latitude", PiiKind::Location),
    ("longitude", PiiKind::Location),
    ("naissance", PiiKind::DateOfBirth),
    ("dob", PiiKind::DateOfBirth),
];

/// Whether a folded column name (see `contract::fold_header`) carries identifying data.
/// `birth_year`/`annee_naissance` are allowed by the contract and checked first.
pub fn column_kind(folded: &str) -> Option<PiiKind> {
    // A year of birth is allowed (the contract's birth_year / annee_naissance).
    let year = folded
        .split('_')
        .any(|w| matches!(w, "year" | "annee" | "an"));
    if year && (folded.contains("birth") || folded.contains("naissance")) {
        return None;
    }
    if let Some((_, kind)) = COLUMN_NAMES.iter().find(|(name, _)| *name == folded) {
        return Some(*kind);
    }
    if folded.contains("birth") && (folded.contains("date") || folded.contains("day")) {
        return Some(PiiKind::DateOfBirth);
    }
    if folded.starts_with("e_mail") || folded.ends_with("e_mail") {
        return Some(PiiKind::Email);
    }
    folded.split('_').find_map(|word| {
        COLUMN_WORDS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|(_, kind)| *kind)
    })
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}").unwrap()
});

/// International numbers (`+223 76 42 63 59`, `00223 76426359`, `+33 6 12 34 56 78`) and
/// Malian 8-digit numbers written whole or in pairs with one kind of separator
/// (`76426359`, `76 42 63 59`, `76.42.63.59`, `76-42-63-59`).
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?:\+|\b00)[1-9]\d{0,2}(?:[\s.\-]?\(?\d\)?){7,12}\b
        | \b[2-9]\d{7}\b
        | \b[2-9]\d(?:\x20\d\d){3}\b
        | \b[2-9]\d(?:\.\d\d){3}\b
        | \b[2-9]\d(?:-\d\d){3}\b
        ",
    )
    .unwrap()
});

/// Whether a cell's text looks like a phone number or an e-mail address. Cheap for the
/// common case: cells with fewer than 8 digits and no `@` are not examined further.
pub fn value_kind(cell: &str) -> Option<PiiKind> {
    let bytes = cell.as_bytes();
    if bytes.contains(&b'@') && EMAIL.is_match(cell) {
        return Some(PiiKind::Email);
    }
    if bytes.iter().filter(|b| b.is_ascii_digit()).count() >= 8 && PHONE.is_match(cell) {
        return Some(PiiKind::Phone);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifying_column_names_are_caught_in_both_languages() {
        for (name, kind) in [
            ("nom", PiiKind::Name),
            ("prenom", PiiKind::Name),
            ("full_name", PiiKind::Name),
            ("nom_beneficiaire", PiiKind::Name),
            ("telephone", PiiKind::Phone),
            ("numero_de_telephone", PiiKind::Phone),
            ("e_mail", PiiKind::Email),
            ("courriel", PiiKind::Email),
            ("adresse", PiiKind::Address),
            ("passport_number", PiiKind::IdNumber),
            ("nina", PiiKind::IdNumber),
            ("gps_lat", PiiKind::Location),
            ("latitude", PiiKind::Location),
            ("date_de_naissance", PiiKind::DateOfBirth),
            ("date_of_birth", PiiKind::DateOfBirth),
            ("birthdate", PiiKind::DateOfBirth),
        ] {
            assert_eq!(column_kind(name), Some(kind), "{name}");
        }
    }

    #[test]
    fn contract_columns_are_not_mistaken_for_identifying_ones() {
        for name in [
            "person_ref",
            "ref_personne",
            "birth_year",
            "annee_naissance",
            "site",
            "region_pcode",
            "code_cercle",
            "session_ref",
            "people_reached",
            "femmes_atteintes",
            "profession",
            "theme",
            "intervenant",
            "type_retour",
            "pays_provenance",
        ] {
            assert_eq!(column_kind(name), None, "{name}");
        }
    }

    #[test]
    fn phone_numbers_are_caught_in_malian_and_international_forms() {
        for cell in [
            "+223 76 42 63 59",
            "+22376426359",
            "00223 76 42 63 59",
            "76 42 63 59",
            "76426359",
            "76.42.63.59",
            "76-42-63-59",
            "+33 6 12 34 56 78",
            "+1 (202) 555-0147",
            "appeler le 66 12 34 56 demain",
        ] {
            assert_eq!(value_kind(cell), Some(PiiKind::Phone), "{cell}");
        }
    }

    #[test]
    fn emails_are_caught() {
        assert_eq!(value_kind("awa.traore@example.org"), Some(PiiKind::Email));
        assert_eq!(value_kind("contact: x_y@mail.ml"), Some(PiiKind::Email));
    }

    #[test]
    fn ordinary_cells_pass() {
        for cell in [
            "2019-03-27",
            "27/03/2019",
            "RET-00012345",
            "ML0105",
            "Centre d'écoute de Kita",
            "1500",
            "SES-KAY-0001-2019-05-14",
            "12345",
            "@home",
            "VHR",
        ] {
            assert_eq!(value_kind(cell), None, "{cell}");
        }
    }
}
