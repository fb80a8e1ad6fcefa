//! What identifying data looks like: column names and values (phone numbers, e-mail
//! addresses, however written) that identify a person. The extract's PII gate rejects
//! a whole file on them; the register refuses site names holding them.
//!
//! It never returns the value it found, only which rule it broke; callers name the
//! column and row.

use std::sync::LazyLock;

use regex::Regex;

use crate::locale::Locale;

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
    /// What the data looks like, as a report names it (never the value found).
    pub fn describe(self, locale: Locale) -> &'static str {
        let t = |fr: &'static str, en: &'static str| locale.pick(fr, en);
        match self {
            PiiKind::Name => t("le nom d'une personne", "a person's name"),
            PiiKind::Phone => t("un numéro de téléphone", "a phone number"),
            PiiKind::Email => t("une adresse e-mail", "an e-mail address"),
            PiiKind::Address => t("une adresse postale", "a postal address"),
            PiiKind::IdNumber => t(
                "un numéro de carte d'identité, de passeport ou d'une autre pièce",
                "an identity, passport or other ID number",
            ),
            PiiKind::Location => t("des coordonnées GPS", "GPS coordinates"),
            PiiKind::DateOfBirth => t("une date de naissance exacte", "an exact date of birth"),
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

/// Cells at most this long are examined whole; the gate looks at the first `SCAN_CAP`
/// bytes of longer ones (cells are capped by the extract limits long before).
const SCAN_CAP: usize = 4096;

/// The text as the gate matches it: Unicode spaces (no-break, narrow no-break, thin,
/// figure…) as plain spaces, full-width digits and `＠` as ASCII, lower case.
fn normalise(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    for c in cell.chars() {
        let c = match c {
            '\u{a0}' | '\u{2000}'..='\u{200b}' | '\u{202f}' | '\u{205f}' | '\u{3000}' => ' ',
            '\u{ff10}'..='\u{ff19}' => char::from(b'0' + (c as u32 - 0xff10) as u8),
            '\u{ff20}' | '\u{fe6b}' => '@',
            '\u{ff0b}' => '+',
            '\u{ff0e}' | '\u{3002}' => '.',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c => c,
        };
        out.extend(c.to_lowercase());
    }
    out
}

/// Separators written between groups of digits in phone numbers.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '/' | '(' | ')' | '_')
}

/// Runs of digit groups: digits, with up to three separators between groups. The flag
/// says whether a `+` came just before the run.
fn digit_runs(text: &str) -> Vec<(bool, Vec<&str>)> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let plus = text[..i].trim_end_matches([' ', '(']).ends_with('+');
        let mut groups = Vec::new();
        loop {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(&text[start..i]);
            let mut j = i;
            while j < bytes.len() && j - i < 3 && is_separator(bytes[j] as char) {
                j += 1;
            }
            if j > i && j < bytes.len() && bytes[j].is_ascii_digit() {
                i = j;
            } else {
                break;
            }
        }
        runs.push((plus, groups));
    }
    runs
}

/// Whether groups of digits are written as a date: year, month, day in either order
/// (`2019-05-14`, `14/05/2019`, even a mistyped `2019-13-01`), or eight digits that
/// are a real date (`20190514`, `14052019`).
fn is_date(groups: &[&str]) -> bool {
    let year = |y: &str| y.len() == 4 && y.parse::<i32>().is_ok_and(|y| (1900..=2100).contains(&y));
    let valid = |y: &str, m: &str, d: &str| {
        let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
            return false;
        };
        (1900..=2100).contains(&y) && chrono::NaiveDate::from_ymd_opt(y, m, d).is_some()
    };
    match groups {
        [y, m, d] if year(y) && m.len() <= 2 && d.len() <= 2 => true,
        [d, m, y] if year(y) && m.len() <= 2 && d.len() <= 2 => true,
        [one] if one.len() == 8 => {
            valid(&one[..4], &one[4..6], &one[6..]) || valid(&one[4..], &one[2..4], &one[..2])
        }
        _ => false,
    }
}

/// Whether a window of groups holds a date anywhere in it.
fn holds_date(groups: &[&str]) -> bool {
    groups.windows(3).any(is_date) || groups.iter().any(|g| is_date(&[g]))
}

/// Whether digits (separators removed) are a phone number: Malian (8 digits from 2 to
/// 9, with or without `223` / `00223`), or international (`+` or `00`, a country code,
/// 8 to 15 digits in all).
fn is_phone(plus: bool, digits: &str) -> bool {
    let n = digits.len();
    let first = |s: &str| s.as_bytes().first().copied().unwrap_or(b'0');
    let malian = |rest: &str| rest.len() == 8 && (b'2'..=b'9').contains(&first(rest));
    if plus && (8..=15).contains(&n) && first(digits) != b'0' {
        return true;
    }
    if let Some(rest) = digits.strip_prefix("00")
        && (10..=15).contains(&rest.len())
        && first(rest) != b'0'
    {
        return true;
    }
    if let Some(rest) = digits.strip_prefix("223")
        && malian(rest)
    {
        return true;
    }
    malian(digits)
}

fn looks_like_phone(text: &str) -> bool {
    let year =
        |g: &&str| g.len() == 4 && g.parse::<i32>().is_ok_and(|y| (1900..=2100).contains(&y));
    for (plus, groups) in digit_runs(text) {
        // In a run that writes a date (a reference like `2000-2019-05-14`), a window
        // leaning on one of its years is part of the reference, not a number.
        let dated = holds_date(&groups);
        // Every window of whole groups holding at most 15 digits: a number written
        // next to a date or a reference is still found.
        for start in 0..groups.len() {
            let mut digits = String::new();
            for end in start..groups.len() {
                digits.push_str(groups[end]);
                if digits.len() > 15 {
                    break;
                }
                let window = &groups[start..=end];
                if digits.len() < 8 || holds_date(window) || (dated && window.iter().any(year)) {
                    continue;
                }
                if is_phone(plus && start == 0, &digits) {
                    return true;
                }
            }
        }
    }
    false
}

/// `awa [at] x.org`, `awa (at) x.org`, `awa at x dot org` written as an address.
static OBFUSCATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s*[\[\(\{<]\s*(at|arobase)\s*[\]\)\}>]\s*|\s+(at|arobase)\s+|\s*@\s*").unwrap()
});
static OBFUSCATED_DOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s*[\[\(\{<]\s*(dot|point)\s*[\]\)\}>]\s*|\s+(dot|point)\s+").unwrap()
});

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(\.[\p{L}\p{N}\-]+)*\.(\p{L}{2,}|xn--[a-z0-9\-]+)",
    )
    .unwrap()
});

/// Whether a cell holds `at` standing alone (between non-letters) or `arobase`, in any
/// case: a cheap look before the regex.
fn may_spell_at(bytes: &[u8]) -> bool {
    let letter = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphabetic());
    bytes.windows(2).enumerate().any(|(i, w)| {
        (w[0] | 0x20) == b'a'
            && (w[1] | 0x20) == b't'
            && (i == 0 || !letter(i - 1))
            && !letter(i + 2)
    }) || bytes.windows(7).any(|w| w.eq_ignore_ascii_case(b"arobase"))
}

/// A cell that may write `at` for `@` (as a word, or in brackets).
static AT_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(^|[^\p{L}])(at|arobase)([^\p{L}]|$)").unwrap());

fn looks_like_email(text: &str) -> bool {
    if text.contains('@') && EMAIL.is_match(text) {
        return true;
    }
    let joined = OBFUSCATED.replace_all(text, "@");
    if !joined.contains('@') {
        return false;
    }
    let joined = OBFUSCATED_DOT.replace_all(&joined, ".");
    EMAIL.is_match(&joined)
}

/// Whether a cell's text looks like a phone number or an e-mail address, however it is
/// written. Cheap for the common case: cells with fewer than 8 digits and nothing like
/// an `@` are not examined further.
pub fn value_kind(cell: &str) -> Option<PiiKind> {
    let cell = match cell.char_indices().nth(SCAN_CAP) {
        Some((i, _)) => &cell[..i],
        None => cell,
    };
    // One pass over the bytes for the common case: most cells have few digits, no `@`,
    // and nothing outside ASCII.
    let (mut ascii_digits, mut at, mut non_ascii) = (0usize, false, false);
    for &b in cell.as_bytes() {
        if b.is_ascii_digit() {
            ascii_digits += 1;
        } else if b == b'@' {
            at = true;
        } else if b >= 0x80 {
            non_ascii = true;
        }
    }
    let wide = |c: char| matches!(c, '\u{ff10}'..='\u{ff19}' | '\u{ff20}' | '\u{fe6b}');
    let wide_chars = non_ascii && cell.chars().any(wide);
    let maybe_email = at || wide_chars || (may_spell_at(cell.as_bytes()) && AT_WORD.is_match(cell));
    if ascii_digits < 8 && !wide_chars && !maybe_email {
        return None;
    }
    let text = normalise(cell);
    if maybe_email && looks_like_email(&text) {
        return Some(PiiKind::Email);
    }
    if looks_like_phone(&text) {
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
    fn phone_numbers_written_carelessly_are_caught() {
        for cell in [
            "76\u{a0}42\u{a0}63\u{a0}59",
            "76\u{202f}42\u{202f}63\u{202f}59",
            "76\u{2009}42\u{2009}63\u{2009}59",
            "76.42 63-59",
            "76/42/63/59",
            "22376426359",
            "0022376426359",
            "00223 76 42 63 59",
            "tel76426359",
            "Tél:76426359",
            "+223-76-42-63-59",
            "(+223) 76 42 63 59",
            "\u{ff17}\u{ff16}\u{ff14}\u{ff12}\u{ff16}\u{ff13}\u{ff15}\u{ff19}",
            "RET-2019-05-14 76 42 63 59",
            "7642 6359",
        ] {
            assert_eq!(value_kind(cell), Some(PiiKind::Phone), "{cell:?}");
        }
    }

    #[test]
    fn obfuscated_and_international_emails_are_caught() {
        for cell in [
            "awa [at] x.org",
            "awa (at) x.org",
            "AWA[AT]X.ORG",
            "awa at x dot org",
            "awa {at} x [dot] org",
            "awa\u{ff20}x.org",
            "awa@société.ml",
            "awa@xn--socit-esab.ml",
            "écrire à awa.traore@example.org svp",
        ] {
            assert_eq!(value_kind(cell), Some(PiiKind::Email), "{cell:?}");
        }
    }

    #[test]
    fn dates_references_and_counts_with_many_digits_pass() {
        for cell in [
            "2019-05-14",
            "14/05/2019",
            "14-05-2019",
            "20190514",
            "2019-05-14 10:30:00",
            "SES-KAY-0001-2019-05-14",
            "RET-00012345",
            "1 500 000",
            "9999999",
            "Théâtre de Kati.",
            "at the centre",
        ] {
            assert_eq!(value_kind(cell), None, "{cell:?}");
        }
    }

    mod generated {
        use super::super::*;
        use proptest::prelude::*;

        const SEPARATORS: &[&str] = &[" ", ".", "-", "/", "\u{a0}", "\u{202f}", "\u{2009}", " - "];
        const PREFIXES: &[&str] = &[
            "", "+223 ", "+223", "00223 ", "00223", "223", "tel", "Tél: ", "+223-", "(+223) ",
        ];
        const GROUPINGS: &[&[usize]] = &[
            &[8],
            &[2, 2, 2, 2],
            &[4, 4],
            &[2, 3, 3],
            &[3, 3, 2],
            &[2, 6],
        ];
        const AROUND: &[(&str, &str)] = &[
            ("", ""),
            ("Centre d'écoute de Kita ", ""),
            ("appeler le ", " demain"),
            ("P-", ""),
            ("Site ", " (Kayes)"),
        ];

        fn looks_like_date(digits: &str) -> bool {
            let ok = |y: &str, m: &str, d: &str| {
                let (y, m, d) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>());
                matches!((y, m, d), (Ok(y), Ok(m), Ok(d)) if (1900..=2100).contains(&y)
                    && chrono::NaiveDate::from_ymd_opt(y, m, d).is_some())
            };
            ok(&digits[..4], &digits[4..6], &digits[6..])
                || ok(&digits[4..], &digits[2..4], &digits[..2])
        }

        fn phone() -> impl Strategy<Value = String> {
            (
                2u8..=9,
                proptest::collection::vec(0u8..=9, 7),
                0..GROUPINGS.len(),
                proptest::collection::vec(0..SEPARATORS.len(), 7),
                0..PREFIXES.len(),
                0..AROUND.len(),
            )
                .prop_filter_map(
                    "a phone that reads as a date is a date",
                    |(first, rest, g, seps, p, a)| {
                        let digits: String = std::iter::once(first)
                            .chain(rest)
                            .map(|d| char::from(b'0' + d))
                            .collect();
                        if looks_like_date(&digits) {
                            return None;
                        }
                        let mut written = String::new();
                        let mut at = 0;
                        for (i, len) in GROUPINGS[g].iter().enumerate() {
                            if i > 0 {
                                written.push_str(SEPARATORS[seps[i]]);
                            }
                            written.push_str(&digits[at..at + len]);
                            at += len;
                        }
                        let (before, after) = AROUND[a];
                        Some(format!("{before}{}{written}{after}", PREFIXES[p]))
                    },
                )
        }

        fn email() -> impl Strategy<Value = String> {
            (
                "[a-z]{1,8}(\\.[a-z]{1,8})?",
                "[a-z]{2,10}",
                prop::sample::select(vec!["org", "ml", "com", "fr", "int"]),
                prop::sample::select(vec!["@", " [at] ", "(at)", " at ", "\u{ff20}", " @ "]),
                prop::sample::select(vec![".", " [dot] ", " dot ", "(dot)"]),
            )
                .prop_filter(
                    "a name that is itself an obfuscation word",
                    |(user, host, ..)| {
                        let words = ["at", "dot", "point", "arobase"];
                        !user.split('.').any(|w| words.contains(&w))
                            && !words.contains(&host.as_str())
                    },
                )
                .prop_map(|(user, host, tld, at, dot)| {
                    format!("contact {user}{at}{host}{dot}{tld}")
                })
        }

        fn valid_cell() -> impl Strategy<Value = String> {
            prop_oneof![
                (1u8..=10).prop_map(|r| format!("ML{r:02}")),
                (1u8..=10, 1u8..=9).prop_map(|(r, c)| format!("ML{r:02}{c:02}")),
                (2000i32..=2026, 1u32..=12, 1u32..=28)
                    .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
                (2000i32..=2026, 1u32..=12, 1u32..=28)
                    .prop_map(|(y, m, d)| format!("{d:02}/{m:02}/{y:04}")),
                (0u32..10_000_000).prop_map(|n| n.to_string()),
                (0u32..10_000_000).prop_map(|n| {
                    // French thousands: 1 500 000
                    let s = n.to_string();
                    let mut out = String::new();
                    for (i, c) in s.chars().enumerate() {
                        if i > 0 && (s.len() - i) % 3 == 0 {
                            out.push(' ');
                        }
                        out.push(c);
                    }
                    out
                }),
                "[A-Z][A-Z0-9]{7,8}".prop_filter("no 8 digits in a row", |r| {
                    !r.as_bytes()
                        .windows(8)
                        .any(|w| w.iter().all(u8::is_ascii_digit))
                }),
                "(SES|RET|FOR|EVT)-[A-Z]{3}-[0-9]{4}-20(1[7-9]|2[0-6])-0[1-9]-[12][0-9]",
                prop::sample::select(vec![
                    "Maison des jeunes de Kayes",
                    "Centre d'écoute de Kita",
                    "Théâtre de Bamako",
                    "psychological_first_aid",
                    "Premiers secours psychologiques",
                    "at home",
                    "18-24",
                    "60+",
                ])
                .prop_map(String::from),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn generated_phone_numbers_are_caught(cell in phone()) {
                prop_assert_eq!(value_kind(&cell), Some(PiiKind::Phone), "{:?}", cell);
            }

            #[test]
            fn generated_emails_are_caught(cell in email()) {
                prop_assert_eq!(value_kind(&cell), Some(PiiKind::Email), "{:?}", cell);
            }

            #[test]
            fn generated_valid_cells_are_not_flagged(cell in valid_cell()) {
                prop_assert_eq!(value_kind(&cell), None, "{:?}", cell);
            }
        }
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
