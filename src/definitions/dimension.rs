//! Dimension names. Measures may declare any dimension their query returns; these are
//! the ones the product knows by name — filters pick them, the disclosure grid lists
//! their values from reference data, pages label and order them (`reference`'s
//! `dimensions.toml` holds their names in French and English).

pub const REGION: &str = "region";
pub const CERCLE: &str = "cercle";
pub const SITE: &str = "site";
pub const COUNTRY_FROM: &str = "country_from";
pub const YEAR: &str = "year";
pub const QUARTER: &str = "quarter";
pub const MONTH: &str = "month";
/// Cumulative figures: everything up to the end of a month.
pub const THROUGH_MONTH: &str = "through_month";
pub const SEX: &str = "sex";
pub const AGE_BAND: &str = "age_band";

/// Dimensions whose values are periods (their grid comes from the declared months).
pub const PERIOD: &[&str] = &[MONTH, QUARTER, YEAR, THROUGH_MONTH];

/// Dimensions whose values come from the places or the register.
pub const PLACE: &[&str] = &[REGION, CERCLE, SITE, COUNTRY_FROM];

/// Whether a dimension's values are periods.
pub fn is_period(dim: &str) -> bool {
    PERIOD.contains(&dim)
}

/// Whether a dimension has a reference list (its grid): places, periods, or a code set
/// of `labels.toml`.
pub fn has_reference_list(dim: &str) -> bool {
    is_period(dim) || PLACE.contains(&dim) || crate::reference::labels().contains_key(dim)
}
