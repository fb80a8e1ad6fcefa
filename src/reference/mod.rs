//! Reference data kept in the project and compiled into the binary: Mali's 2019 P-codes
//! (regions and cercles), ISO 3166 countries, and the French and English labels of every
//! code set of the extract contract.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde::Deserialize;

const PCODES_CSV: &str = include_str!("pcodes.csv");
const COUNTRIES_CSV: &str = include_str!("countries.csv");
const LABELS_TOML: &str = include_str!("labels.toml");

/// A label in both languages of the product.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Label {
    pub fr: String,
    pub en: String,
}

#[derive(Debug)]
pub struct RegionRef {
    pub pcode: String,
    pub name: Label,
}

#[derive(Debug)]
pub struct CercleRef {
    pub pcode: String,
    pub region: String,
    pub name: Label,
}

/// Regions and cercles of the 2019 boundaries, in P-code order.
#[derive(Debug)]
pub struct Places {
    pub regions: Vec<RegionRef>,
    pub cercles: Vec<CercleRef>,
    /// P-code → index into `regions` or `cercles` (validation looks up every row).
    index: HashMap<String, usize>,
}

impl Places {
    fn find(&self, pcode: &str) -> Option<usize> {
        self.index
            .get(pcode)
            .or_else(|| self.index.get(&pcode.to_ascii_uppercase()))
            .copied()
    }

    pub fn region(&self, pcode: &str) -> Option<&RegionRef> {
        (pcode.len() == 4)
            .then(|| self.find(pcode))
            .flatten()
            .map(|i| &self.regions[i])
    }

    pub fn cercle(&self, pcode: &str) -> Option<&CercleRef> {
        (pcode.len() == 6)
            .then(|| self.find(pcode))
            .flatten()
            .map(|i| &self.cercles[i])
    }
}

#[derive(Debug)]
pub struct CountryRef {
    pub alpha3: String,
    pub name: Label,
}

#[derive(Debug)]
pub struct Countries(HashMap<String, CountryRef>);

impl Countries {
    pub fn get(&self, alpha3: &str) -> Option<&CountryRef> {
        if alpha3.len() != 3 {
            return None;
        }
        self.0
            .get(alpha3)
            .or_else(|| self.0.get(&alpha3.to_ascii_uppercase()))
    }
}

/// Labels of the contract's code sets: set name → code → label.
pub type Labels = BTreeMap<String, BTreeMap<String, Label>>;

static PLACES: LazyLock<Places> = LazyLock::new(|| {
    let mut places = Places {
        regions: Vec::new(),
        cercles: Vec::new(),
        index: HashMap::new(),
    };
    let mut reader = csv::Reader::from_reader(PCODES_CSV.as_bytes());
    for row in reader.records() {
        let row = row.expect("pcodes.csv is well formed");
        let label = |fr: usize, en: usize| Label {
            fr: row[fr].to_string(),
            en: row[en].to_string(),
        };
        if !places.index.contains_key(&row[0]) {
            places
                .index
                .insert(row[0].to_string(), places.regions.len());
            places.regions.push(RegionRef {
                pcode: row[0].to_string(),
                name: label(1, 2),
            });
        }
        places
            .index
            .insert(row[3].to_string(), places.cercles.len());
        places.cercles.push(CercleRef {
            pcode: row[3].to_string(),
            region: row[0].to_string(),
            name: label(4, 5),
        });
    }
    places
});

static COUNTRIES: LazyLock<Countries> = LazyLock::new(|| {
    let mut reader = csv::Reader::from_reader(COUNTRIES_CSV.as_bytes());
    let map = reader
        .records()
        .map(|row| {
            let row = row.expect("countries.csv is well formed");
            let country = CountryRef {
                alpha3: row[0].to_string(),
                name: Label {
                    fr: row[2].to_string(),
                    en: row[1].to_string(),
                },
            };
            (country.alpha3.clone(), country)
        })
        .collect();
    Countries(map)
});

static LABELS: LazyLock<Labels> =
    LazyLock::new(|| toml::from_str(LABELS_TOML).expect("labels.toml is well formed"));

pub fn places() -> &'static Places {
    &PLACES
}

pub fn countries() -> &'static Countries {
    &COUNTRIES
}

pub fn labels() -> &'static Labels {
    &LABELS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;

    fn assert_labelled<C: Code>() {
        let set = labels()
            .get(C::SET)
            .unwrap_or_else(|| panic!("no [{}] in labels.toml", C::SET));
        for code in C::ALL {
            let label = set
                .get(code.code())
                .unwrap_or_else(|| panic!("{}.{} has no label", C::SET, code.code()));
            assert!(!label.fr.is_empty() && !label.en.is_empty());
        }
        assert_eq!(
            set.len(),
            C::ALL.len(),
            "[{}] labels codes the contract lacks",
            C::SET
        );
    }

    #[test]
    fn every_code_of_the_contract_has_labels_in_both_languages() {
        assert_labelled::<Sex>();
        assert_labelled::<AgeBand>();
        assert_labelled::<ReturnType>();
        assert_labelled::<Vulnerability>();
        assert_labelled::<Activity>();
        assert_labelled::<Facilitator>();
        assert_labelled::<Channel>();
        assert_labelled::<Language>();
        assert_labelled::<Profession>();
        assert_labelled::<Topic>();
    }

    #[test]
    fn places_hold_the_2019_regions_and_cercles() {
        let places = places();
        assert_eq!(places.regions.len(), 10);
        assert_eq!(places.cercles.len(), 49);
        assert_eq!(places.cercle("ML0105").unwrap().name.fr, "Kita");
        assert_eq!(places.region("ML06").unwrap().name.en, "Timbuktu");
        assert!(
            places
                .cercles
                .iter()
                .all(|c| c.pcode.starts_with(&c.region))
        );
    }

    #[test]
    fn countries_are_found_by_alpha3_in_any_case() {
        assert_eq!(countries().get("dza").unwrap().name.fr, "Algérie");
        assert!(countries().get("XXX").is_none());
        assert!(countries().get("DZ").is_none());
    }
}
