//! Languages of the interface (French by default, English) and locale formatting of
//! numbers and dates. The language itself, [`Locale`], is a shared type
//! (`crate::locale`), re-exported here.

use chrono::{Datelike, NaiveDate};

pub use crate::locale::Locale;

/// Formats a number with the locale's digit grouping: `11 505` (narrow no-break space)
/// or `11,505`; `decimals` digits after the separator (`72,5` / `72.5`).
pub fn format_number(value: f64, decimals: usize, locale: Locale) -> String {
    let (group, point) = match locale {
        Locale::Fr => ('\u{202f}', ','),
        Locale::En => (',', '.'),
    };
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('−');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(point);
        out.push_str(frac);
    }
    out
}

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_name(month: u32, locale: Locale) -> &'static str {
    let i = (month.clamp(1, 12) - 1) as usize;
    match locale {
        Locale::Fr => MONTHS_FR[i],
        Locale::En => MONTHS_EN[i],
    }
}

/// `27 mars 2019` / `27 March 2019`.
pub fn format_date(date: NaiveDate, locale: Locale) -> String {
    let day = match (locale, date.day()) {
        (Locale::Fr, 1) => "1er".to_string(),
        (_, d) => d.to_string(),
    };
    format!("{day} {} {}", month_name(date.month(), locale), date.year())
}

/// A period code as people read it: `2019-03` → `mars 2019`, `2019-Q2` → `T2 2019` /
/// `Q2 2019`, `2019` → `2019`.
pub fn format_period(code: &str, locale: Locale) -> String {
    if let Some((year, q)) = code.split_once("-Q") {
        return format!("{}{q} {year}", locale.pick("T", "Q"));
    }
    if let Some((year, month)) = code.split_once('-')
        && let Ok(m) = month.parse::<u32>()
    {
        return format!("{} {year}", month_name(m, locale));
    }
    code.to_string()
}

const MONTHS_FR_SHORT: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

/// A short month label for chart axes: `mars 19` / `Mar 19`.
pub fn format_month_short(code: &str, locale: Locale) -> String {
    let Some((year, month)) = code.split_once('-') else {
        return code.to_string();
    };
    let Ok(m) = month.parse::<u32>() else {
        return code.to_string();
    };
    let i = (m.clamp(1, 12) - 1) as usize;
    let short: String = match locale {
        Locale::Fr => MONTHS_FR_SHORT[i].to_string(),
        Locale::En => MONTHS_EN[i].chars().take(3).collect(),
    };
    format!("{short} {}", &year[year.len().saturating_sub(2)..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_locale() {
        assert_eq!(format_number(11505.0, 0, Locale::Fr), "11\u{202f}505");
        assert_eq!(format_number(11505.0, 0, Locale::En), "11,505");
        assert_eq!(format_number(1234567.0, 0, Locale::En), "1,234,567");
        assert_eq!(format_number(72.46, 1, Locale::Fr), "72,5");
        assert_eq!(format_number(999.0, 0, Locale::En), "999");
        assert_eq!(format_number(-1500.0, 0, Locale::En), "−1,500");
    }

    #[test]
    fn dates_and_periods_follow_the_locale() {
        let d = NaiveDate::from_ymd_opt(2019, 3, 27).unwrap();
        assert_eq!(format_date(d, Locale::Fr), "27 mars 2019");
        assert_eq!(format_date(d, Locale::En), "27 March 2019");
        assert_eq!(
            format_date(NaiveDate::from_ymd_opt(2019, 5, 1).unwrap(), Locale::Fr),
            "1er mai 2019"
        );
        assert_eq!(format_period("2019-Q2", Locale::Fr), "T2 2019");
        assert_eq!(format_period("2019-02", Locale::En), "February 2019");
        assert_eq!(format_month_short("2019-02", Locale::Fr), "févr. 19");
        assert_eq!(format_month_short("2019-05", Locale::Fr), "mai 19");
        assert_eq!(format_month_short("2019-11", Locale::Fr), "nov. 19");
        assert_eq!(format_month_short("2019-02", Locale::En), "Feb 19");
    }
}
