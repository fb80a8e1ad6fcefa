//! How a dimension value reads in each language, and the natural order of values.

use super::i18n::{Locale, format_month_short, format_period};
use crate::domain::{AgeBand, Code};
use crate::reference;

/// Dimensions whose values are periods.
pub const PERIOD_DIMS: &[&str] = &["month", "quarter", "year", "through_month"];

/// The name of a dimension itself.
pub fn dimension_name(dim: &str, locale: Locale) -> String {
    let (fr, en) = match dim {
        "region" => ("Région", "Region"),
        "cercle" => ("Cercle", "Cercle"),
        "site" => ("Site", "Site"),
        "month" | "through_month" => ("Mois", "Month"),
        "quarter" => ("Trimestre", "Quarter"),
        "year" => ("Année", "Year"),
        "country_from" => ("Pays de provenance", "Country of departure"),
        "sex" => ("Sexe", "Sex"),
        "age_band" => ("Tranche d'âge", "Age band"),
        "return_type" => ("Type de retour", "Type of return"),
        "vulnerability" => ("Vulnérabilité", "Vulnerability"),
        "activity" => ("Activité", "Activity"),
        "facilitator" => ("Intervenant", "Facilitator"),
        "attendance_band" => ("Séances suivies", "Sessions attended"),
        "channel" => ("Canal", "Channel"),
        "language" => ("Langue", "Language"),
        "audience" => ("Public", "Audience"),
        "profession" => ("Profession", "Profession"),
        "topic" => ("Thème", "Topic"),
        "test" => ("Test", "Test"),
        other => return other.to_string(),
    };
    locale.pick(fr, en).to_string()
}

/// A value as people read it (long form, for tables and headings).
pub fn value_label(dim: &str, code: &str, locale: Locale) -> String {
    let pick = |l: &reference::Label| locale.pick(&l.fr, &l.en).to_string();
    match dim {
        "region" => reference::places().region(code).map(|r| pick(&r.name)),
        "cercle" => reference::places().cercle(code).map(|c| pick(&c.name)),
        "country_from" => reference::countries().get(code).map(|c| pick(&c.name)),
        d if PERIOD_DIMS.contains(&d) => Some(format_period(code, locale)),
        "site" => Some(code.to_string()),
        d => reference::labels()
            .get(d)
            .and_then(|set| set.get(code))
            .map(pick),
    }
    .unwrap_or_else(|| code.to_string())
}

/// A value as a chart axis shows it (months shortened).
pub fn axis_label(dim: &str, code: &str, locale: Locale) -> String {
    match dim {
        "month" | "through_month" => format_month_short(code, locale),
        _ => value_label(dim, code, locale),
    }
}

/// The position of a value in its dimension's own order, where it has one.
pub fn natural_rank(dim: &str, code: &str) -> Option<usize> {
    let order: &[&str] = match dim {
        "attendance_band" => &["1", "2-4", "5-9", "10+"],
        "test" => &["pre", "post"],
        "audience" => &["all", "women", "youth"],
        "sex" => &["F", "M"],
        "age_band" => return AgeBand::ALL.iter().position(|b| b.code() == code),
        "region" | "cercle" => return None,
        _ => return None,
    };
    order.iter().position(|c| *c == code)
}

/// Sorts codes of a dimension in natural order: the dimension's own order, periods in
/// time order, places by P-code, anything else by label.
pub fn sort_natural(dim: &str, codes: &mut [(String, String)]) {
    codes.sort_by(
        |a, b| match (natural_rank(dim, &a.0), natural_rank(dim, &b.0)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ if PERIOD_DIMS.contains(&dim) || dim == "region" || dim == "cercle" => a.0.cmp(&b.0),
            _ => a.1.cmp(&b.1),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_in_both_languages() {
        assert_eq!(value_label("region", "ML06", Locale::Fr), "Tombouctou");
        assert_eq!(value_label("region", "ML06", Locale::En), "Timbuktu");
        assert_eq!(value_label("country_from", "DZA", Locale::Fr), "Algérie");
        assert_eq!(
            value_label("activity", "group_session", Locale::En),
            "Group session"
        );
        assert_eq!(value_label("month", "2019-03", Locale::Fr), "mars 2019");
        assert_eq!(value_label("unknown", "x", Locale::Fr), "x");
    }

    #[test]
    fn ordinal_dimensions_keep_their_order() {
        let mut bands: Vec<(String, String)> = ["60+", "0-14", "25-34"]
            .iter()
            .map(|c| (c.to_string(), c.to_string()))
            .collect();
        sort_natural("age_band", &mut bands);
        assert_eq!(
            bands.iter().map(|b| b.0.as_str()).collect::<Vec<_>>(),
            ["0-14", "25-34", "60+"]
        );
    }
}
