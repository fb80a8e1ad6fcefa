//! How a dimension and its values read in each language, and the natural order of
//! values. Every name comes from reference data (`reference`: P-codes, countries, the
//! contract's code sets, `dimensions.toml`), never from an extract.

use super::i18n::{Locale, format_month_short, format_period};
use crate::definitions::dimension::{
    self, CERCLE, COUNTRY_FROM, MONTH, REGION, SITE, THROUGH_MONTH,
};
use crate::reference::{self, ValueSort};

/// The name of a dimension itself.
pub fn dimension_name(dim: &str, locale: Locale) -> String {
    reference::dimension(dim).map_or_else(
        || dim.to_string(),
        |d| locale.pick(&d.name.fr, &d.name.en).to_string(),
    )
}

/// A value as people read it (long form, for tables and headings).
pub fn value_label(dim: &str, code: &str, locale: Locale) -> String {
    let pick = |l: &reference::Label| locale.pick(&l.fr, &l.en).to_string();
    match dim {
        REGION => reference::places().region(code).map(|r| pick(&r.name)),
        CERCLE => reference::places().cercle(code).map(|c| pick(&c.name)),
        COUNTRY_FROM => reference::countries().get(code).map(|c| pick(&c.name)),
        d if dimension::is_period(d) => Some(format_period(code, locale)),
        // Sites are named from the snapshot's register, by whoever holds it.
        SITE => Some(code.to_string()),
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
        MONTH | THROUGH_MONTH => format_month_short(code, locale),
        _ => value_label(dim, code, locale),
    }
}

/// The position of a value in its dimension's own order, where it has one.
pub fn natural_rank(dim: &str, code: &str) -> Option<usize> {
    reference::dimension(dim)?
        .order
        .iter()
        .position(|c| c == code)
}

/// Sorts (code, label) pairs of a dimension in natural order: the dimension's own
/// order, else by code where the reference says so (periods, places), else by label.
pub fn sort_natural(dim: &str, codes: &mut [(String, String)]) {
    let by_code = reference::dimension(dim).is_some_and(|d| d.sort == ValueSort::Code);
    codes.sort_by(
        |a, b| match (natural_rank(dim, &a.0), natural_rank(dim, &b.0)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ if by_code => a.0.cmp(&b.0),
            _ => a.1.cmp(&b.1),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AgeBand, Code};

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
        assert_eq!(
            dimension_name("attendance_band", Locale::En),
            "Sessions attended"
        );
        assert_eq!(
            dimension_name("country_from", Locale::Fr),
            "Pays de provenance"
        );
        assert_eq!(dimension_name("unknown", Locale::Fr), "unknown");
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
        let order: Vec<&str> = AgeBand::ALL.iter().map(|b| b.code()).collect();
        assert_eq!(reference::dimension("age_band").unwrap().order, order);
    }

    #[test]
    fn every_dimension_of_the_measures_has_a_name_and_ordered_sets_are_whole() {
        let queries = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let measures = crate::definitions::measure::load_dir(&queries).unwrap();
        for m in &measures {
            for d in &m.dimensions {
                assert!(
                    reference::dimension(d).is_some(),
                    "{}: dimension {d} has no entry in dimensions.toml",
                    m.id
                );
            }
        }
        for (set, codes) in reference::labels() {
            if let Some(d) = reference::dimension(set).filter(|d| !d.order.is_empty()) {
                for code in codes.keys() {
                    assert!(
                        d.order.contains(code),
                        "{set}: {code} is missing from the order in dimensions.toml"
                    );
                }
            }
        }
    }
}
