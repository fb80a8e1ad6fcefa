//! Words around the figures: definition texts with their numbers kept whole, the
//! filters of a page in words, role names.

use super::filters::Filters;
use super::i18n::{Locale, format_period};
use super::labels;
use crate::access::Role;
use crate::definitions::dimension::{AGE_BAND, SEX};
use crate::domain::{Code, Currency};

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
    if let Some(c) = filters.currency {
        parts.push(labels::value_label(Currency::SET, c.code(), locale));
    }
    match filters.compare {
        Some(super::filters::Compare::Previous) => parts.push(
            locale
                .pick(
                    "comparé à la période précédente",
                    "compared with the previous period",
                )
                .to_string(),
        ),
        Some(super::filters::Compare::Baseline) => parts.push(
            locale
                .pick(
                    "comparé à la première période",
                    "compared with the first period",
                )
                .to_string(),
        ),
        None => {}
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

/// A change in words and with its sign, for readers and screen readers alike:
/// "En hausse de 120 (+8 %) par rapport à T2 2019" / "Up 120 (+8%) on Q2 2019".
pub fn describe_change(
    change: &crate::present::panels::Change,
    decimals: usize,
    locale: Locale,
) -> String {
    use crate::present::panels::Change;
    match *change {
        Change::NotComparable { against } => {
            not_comparable(&format_period(&against.code(), locale), locale)
        }
        Change::Delta {
            against,
            current,
            previous,
        } => describe_delta(
            current,
            previous,
            &format_period(&against.code(), locale),
            decimals,
            locale,
        ),
    }
}

/// "Non comparable à {against} : …" — one of the two figures is not published.
pub fn not_comparable(against: &str, locale: Locale) -> String {
    match locale {
        Locale::Fr => format!(
            "Non comparable à {against} : l'un des deux chiffres n'est pas publié (moins de 10 personnes, ou non publié pour ces filtres)."
        ),
        Locale::En => format!(
            "Not comparable with {against}: one of the two figures is not published (fewer than 10 people, or not published for these filters)."
        ),
    }
}

/// The change from `previous` to `current` in words and with its sign, against
/// what `against` names ("T2 2019", "la valeur de référence").
pub fn describe_delta(
    current: f64,
    previous: f64,
    against: &str,
    decimals: usize,
    locale: Locale,
) -> String {
    use crate::present::i18n::format_number;
    let pct_sign = if locale == Locale::Fr { "\u{a0}%" } else { "%" };
    let period = against;
    let delta = current - previous;
    let rounded = (delta * 10f64.powi(decimals as i32)).round();
    if rounded == 0.0 {
        return match locale {
            Locale::Fr => format!(
                "Stable par rapport à {period} ({})",
                format_number(previous, decimals, locale)
            ),
            Locale::En => format!(
                "Unchanged on {period} ({})",
                format_number(previous, decimals, locale)
            ),
        };
    }
    let amount = format_number(delta.abs(), decimals, locale);
    let sign = if delta > 0.0 { "+" } else { "\u{2212}" };
    let pct = (previous > 0.0).then(|| {
        let p = (delta.abs() / previous * 100.0).round();
        format!(" ({sign}{}{pct_sign})", format_number(p, 0, locale))
    });
    let pct = pct.unwrap_or_default();
    let was = format_number(previous, decimals, locale);
    match (locale, delta > 0.0) {
        (Locale::Fr, true) => format!("En hausse de {amount}{pct} par rapport à {period} ({was})"),
        (Locale::Fr, false) => format!("En baisse de {amount}{pct} par rapport à {period} ({was})"),
        (Locale::En, true) => format!("Up {amount}{pct} on {period} ({was})"),
        (Locale::En, false) => format!("Down {amount}{pct} on {period} ({was})"),
    }
}

#[cfg(test)]
mod change_tests {
    use super::*;
    use crate::present::filters::Period;
    use crate::present::panels::Change;

    #[test]
    fn changes_are_told_in_words_with_their_sign_and_never_for_unpublished_figures() {
        let q2 = Period::parse("2019-Q2").unwrap();
        let up = Change::Delta {
            against: q2,
            current: 1320.0,
            previous: 1200.0,
        };
        let was = crate::present::i18n::format_number(1200.0, 0, Locale::Fr);
        assert_eq!(
            describe_change(&up, 0, Locale::Fr),
            format!("En hausse de 120 (+10\u{a0}%) par rapport à T2 2019 ({was})")
        );
        assert_eq!(
            describe_change(&up, 0, Locale::En),
            "Up 120 (+10%) on Q2 2019 (1,200)"
        );
        let down = Change::Delta {
            against: q2,
            current: 90.0,
            previous: 120.0,
        };
        assert_eq!(
            describe_change(&down, 0, Locale::En),
            "Down 30 (\u{2212}25%) on Q2 2019 (120)"
        );
        let same = Change::Delta {
            against: q2,
            current: 120.0,
            previous: 120.0,
        };
        assert_eq!(
            describe_change(&same, 0, Locale::En),
            "Unchanged on Q2 2019 (120)"
        );
        let none = Change::NotComparable { against: q2 };
        let text = describe_change(&none, 0, Locale::En);
        assert!(text.starts_with("Not comparable with Q2 2019:"), "{text}");
        assert!(
            !text.contains('+') && !text.contains('\u{2212}'),
            "no number for a change that cannot be computed"
        );
    }
}
