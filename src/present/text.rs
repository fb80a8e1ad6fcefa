//! Words around the figures: definition texts with their numbers kept whole, the
//! filters of a page in words, role names.

use super::filters::Filters;
use super::i18n::{Locale, format_period};
use super::labels;
use crate::access::Role;
use crate::definitions::dimension::{AGE_BAND, SEX};
use crate::domain::Code;

/// Text from the definition files with its numbers kept whole: a French "5 000" typed
/// with a plain space gets the narrow no-break space `format_number` writes, so a line
/// never breaks between "5" and "000".
pub fn whole_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let group = i > 0
                && digit(i - 1)
                && digit(i + 1)
                && digit(i + 2)
                && digit(i + 3)
                && !digit(i + 4);
            if *c == ' ' && group { '\u{202f}' } else { *c }
        })
        .collect()
}

/// The filters in words: "2018 · Kayes · Women".
pub fn describe_filters(filters: &Filters, locale: Locale) -> String {
    let mut parts = Vec::new();
    if let Some(p) = filters.period {
        parts.push(format_period(&p.code(), locale));
    }
    if let Some(p) = filters.place {
        parts.push(labels::value_label(p.level(), p.code(), locale));
    }
    if let Some(s) = filters.sex {
        parts.push(labels::value_label(SEX, s.code(), locale));
    }
    if let Some(a) = filters.age_band {
        parts.push(labels::value_label(AGE_BAND, a.code(), locale));
    }
    parts.join(" · ")
}

/// A role as people read it.
pub fn role_name(role: Role, locale: Locale) -> &'static str {
    match role {
        Role::Public => locale.pick("public", "public"),
        Role::Donor => locale.pick("bailleur", "donor"),
        Role::Ministry => locale.pick("ministère", "ministry"),
        Role::Programme => locale.pick("programme", "programme"),
        Role::Admin => locale.pick("administration", "administrator"),
    }
}

#[cfg(test)]
mod tests {
    use super::whole_numbers;

    #[test]
    fn numbers_typed_with_a_space_stay_whole() {
        assert_eq!(
            whole_numbers("l'objectif de 5 000 bénéficiaires"),
            "l'objectif de 5\u{202f}000 bénéficiaires"
        );
        assert_eq!(
            whole_numbers("1 283 573 personnes"),
            "1\u{202f}283\u{202f}573 personnes"
        );
        assert_eq!(
            whole_numbers("le 27 mars 2019 à Kita"),
            "le 27 mars 2019 à Kita"
        );
        assert_eq!(whole_numbers("12 0000 et 12 00"), "12 0000 et 12 00");
        assert_eq!(whole_numbers("Target: 5,000"), "Target: 5,000");
    }
}
