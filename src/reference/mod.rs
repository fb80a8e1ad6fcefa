//! Reference data kept in the project and compiled into the binary: Mali's 2019 P-codes
//! (regions and cercles), ISO 3166 countries, and the French and English labels of every
//! code set of the extract contract; and the register of the programme's sites and of
//! the countries of departure it reports on, which the data owner extends without a
//! rebuild (`DATA/reference/sites.csv`, `DATA/reference/departure.csv`, checked by
//! `reintegra check`); and the built-in list of names notes may not contain
//! (`name-patterns.txt`).
//!
//! Every label a page shows comes from here: never from an extract.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

const PCODES_CSV: &str = include_str!("pcodes.csv");
const COUNTRIES_CSV: &str = include_str!("countries.csv");
const LABELS_TOML: &str = include_str!("labels.toml");
const DIMENSIONS_TOML: &str = include_str!("dimensions.toml");
const SITES_CSV: &str = include_str!("sites.csv");
const DEPARTURE_CSV: &str = include_str!("departure.csv");
/// Names no note may contain when `DATA/notes/names.txt` does not exist (see
/// `definitions::notes`).
pub const NAME_PATTERNS: &str = include_str!("name-patterns.txt");

/// A label in both languages of the product.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
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

/// How pages name a dimension and order its values (`dimensions.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionRef {
    pub name: Label,
    /// The dimension's own order of values, for ordinal code sets.
    #[serde(default)]
    pub order: Vec<String>,
    /// How values without an own order are sorted.
    #[serde(default)]
    pub sort: ValueSort,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueSort {
    /// By label in the reader's language.
    #[default]
    Label,
    /// By code: periods in time order, places by P-code.
    Code,
}

static DIMENSIONS: LazyLock<BTreeMap<String, DimensionRef>> =
    LazyLock::new(|| toml::from_str(DIMENSIONS_TOML).expect("dimensions.toml is well formed"));

/// The reference entry of a dimension, if it has one.
pub fn dimension(name: &str) -> Option<&'static DimensionRef> {
    DIMENSIONS.get(name)
}

/// A site of the programme: a facility, never a person's home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRef {
    pub code: String,
    pub region: String,
    pub cercle: String,
    pub name: Label,
}

/// The register: the sites and the countries of departure that may appear in extracts
/// and in published figures.
#[derive(Debug, Clone)]
pub struct Register {
    pub sites: Vec<SiteRef>,
    /// Folded code or name → index into `sites`.
    site_index: HashMap<String, usize>,
    /// ISO 3166 alpha-3 codes of the countries of departure, in file order.
    pub departure: Vec<String>,
}

/// A problem in a register file, located by file and line (values are never quoted:
/// the file is reference data, but a mistyped line may hold anything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterProblem {
    pub file: std::path::PathBuf,
    pub line: usize,
    pub message: String,
}

/// Where the data owner's additions live in a data folder.
pub fn register_dir(data: &std::path::Path) -> std::path::PathBuf {
    data.join("reference")
}

fn fold(raw: &str) -> String {
    crate::domain::fold_label(raw)
}

impl Register {
    /// The register built into the binary.
    pub fn builtin() -> Register {
        let mut r = Register {
            sites: Vec::new(),
            site_index: HashMap::new(),
            departure: Vec::new(),
        };
        let problems = r
            .add_sites(std::path::Path::new("src/reference/sites.csv"), SITES_CSV)
            .into_iter()
            .chain(r.add_departure(
                std::path::Path::new("src/reference/departure.csv"),
                DEPARTURE_CSV,
            ))
            .collect::<Vec<_>>();
        assert!(
            problems.is_empty(),
            "the built-in register is valid: {problems:?}"
        );
        r
    }

    /// The built-in register with the data owner's additions from `DATA/reference/`.
    pub fn load(data: &std::path::Path) -> Result<Register, Vec<RegisterProblem>> {
        let mut r = Register::builtin();
        let dir = register_dir(data);
        let mut problems = Vec::new();
        for (name, sites) in [("sites.csv", true), ("departure.csv", false)] {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    let text = text.trim_start_matches('\u{feff}');
                    problems.extend(if sites {
                        r.add_sites(&path, text)
                    } else {
                        r.add_departure(&path, text)
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => problems.push(RegisterProblem {
                    file: path,
                    line: 0,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
        if problems.is_empty() {
            Ok(r)
        } else {
            Err(problems)
        }
    }

    /// Checks one register file on its own (for `reintegra check`).
    pub fn check_file(path: &std::path::Path) -> Vec<RegisterProblem> {
        let mut r = Register::builtin();
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes)
                    .trim_start_matches('\u{feff}')
                    .to_string();
                if text
                    .lines()
                    .next()
                    .is_some_and(|h| h.trim().starts_with("alpha3"))
                {
                    r.add_departure(path, &text)
                } else {
                    r.add_sites(path, &text)
                }
            }
            Err(e) => vec![RegisterProblem {
                file: path.into(),
                line: 0,
                message: format!("cannot read: {e}"),
            }],
        }
    }

    fn add_sites(&mut self, path: &std::path::Path, text: &str) -> Vec<RegisterProblem> {
        let mut problems = Vec::new();
        let mut fail = |line: usize, message: String| {
            problems.push(RegisterProblem {
                file: path.into(),
                line,
                message,
            })
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
            Err(_) => {
                fail(1, "not a CSV file".into());
                return problems;
            }
        };
        if header != ["code", "region", "cercle", "name_fr", "name_en"] {
            fail(
                1,
                "the header must be: code,region,cercle,name_fr,name_en".into(),
            );
            return problems;
        }
        for (i, row) in reader.records().enumerate() {
            let line = i + 2;
            let Ok(row) = row else {
                fail(line, "not a CSV line".into());
                continue;
            };
            if row.len() != 5 {
                fail(
                    line,
                    "a site has 5 fields: code,region,cercle,name_fr,name_en".into(),
                );
                continue;
            }
            let (code, region, cercle) = (row[0].trim(), row[1].trim(), row[2].trim());
            let names = [row[3].trim(), row[4].trim()];
            let valid_code = (3..=20).contains(&code.len())
                && code
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
            if !valid_code {
                fail(
                    line,
                    "column code: 3 to 20 capital letters, digits or -".into(),
                );
                continue;
            }
            let Some(c) = places().cercle(cercle) else {
                fail(
                    line,
                    "column cercle: not a cercle P-code of the 2019 boundaries".into(),
                );
                continue;
            };
            if c.region != region {
                fail(
                    line,
                    "column region: the cercle is not in this region".into(),
                );
                continue;
            }
            if names.iter().any(|n| n.is_empty() || n.chars().count() > 80) {
                fail(
                    line,
                    "columns name_fr and name_en: 1 to 80 characters".into(),
                );
                continue;
            }
            if names.iter().any(|n| crate::pii::value_kind(n).is_some()) {
                fail(
                    line,
                    "a site name may not hold a phone number or an e-mail address".into(),
                );
                continue;
            }
            let keys = [fold(code), fold(names[0]), fold(names[1])];
            if let Some(k) = keys.iter().find(|k| {
                self.site_index
                    .get(*k)
                    .is_some_and(|i| self.sites[*i].code != code)
            }) {
                let _ = k;
                fail(line, "the code or a name is already another site's".into());
                continue;
            }
            if self.sites.iter().any(|s| s.code == code) {
                // The same site again (e.g. a built-in one copied into the data folder).
                continue;
            }
            let index = self.sites.len();
            self.sites.push(SiteRef {
                code: code.to_string(),
                region: region.to_string(),
                cercle: cercle.to_string(),
                name: Label {
                    fr: names[0].to_string(),
                    en: names[1].to_string(),
                },
            });
            for k in keys {
                self.site_index.insert(k, index);
            }
        }
        problems
    }

    fn add_departure(&mut self, path: &std::path::Path, text: &str) -> Vec<RegisterProblem> {
        let mut problems = Vec::new();
        let mut lines = text.lines();
        if lines.next().map(|h| h.trim().to_ascii_lowercase()) != Some("alpha3".into()) {
            problems.push(RegisterProblem {
                file: path.into(),
                line: 1,
                message: "the header must be: alpha3".into(),
            });
            return problems;
        }
        for (i, l) in lines.enumerate() {
            let code = l.trim().to_ascii_uppercase();
            if code.is_empty() {
                continue;
            }
            if countries().get(&code).is_none() {
                problems.push(RegisterProblem {
                    file: path.into(),
                    line: i + 2,
                    message: "not an ISO 3166 alpha-3 country code".into(),
                });
            } else if !self.departure.contains(&code) {
                self.departure.push(code);
            }
        }
        problems
    }

    /// The site a cell names, by code or by name in either language (case, accents and
    /// spaces tolerated).
    pub fn site(&self, raw: &str) -> Option<&SiteRef> {
        self.site_index.get(&fold(raw)).map(|i| &self.sites[*i])
    }

    /// The position in `sites` of the site a cell names.
    pub fn site_position(&self, raw: &str) -> Option<usize> {
        self.site_index.get(&fold(raw)).copied()
    }

    /// Whether a country (alpha-3) is a country of departure of the register.
    pub fn is_departure(&self, alpha3: &str) -> bool {
        self.departure.iter().any(|c| c == alpha3)
    }
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
        assert_labelled::<Output>();
        assert_labelled::<Currency>();
        let kinds = labels().get("kind").expect("[kind] in labels.toml");
        assert_eq!(kinds.len(), Kind::ALL.len());
        for kind in Kind::ALL {
            assert!(
                kinds.contains_key(kind.name()),
                "no label for the kind {}",
                kind.name()
            );
        }
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
    fn sites_are_found_by_code_or_name_and_the_data_owner_adds_more() {
        let r = Register::builtin();
        for raw in [
            "ML0105-01",
            "ml0105-01",
            "Centre d'écoute de Kita",
            "centre d ecoute de kita",
            "Kita listening centre",
            "  CENTRE D'ÉCOUTE DE KITA ",
        ] {
            assert_eq!(
                r.site(raw).map(|s| s.code.as_str()),
                Some("ML0105-01"),
                "{raw}"
            );
        }
        assert!(r.site("Domicile de Awa Traoré").is_none());
        assert!(r.is_departure("DZA") && !r.is_departure("FRA"));
        let dir = tempfile::tempdir().unwrap();
        let reference = register_dir(dir.path());
        std::fs::create_dir_all(&reference).unwrap();
        std::fs::write(
            reference.join("sites.csv"),
            "code,region,cercle,name_fr,name_en\nML0104-01,ML01,ML0104,Centre de Nioro,Nioro centre\n",
        )
        .unwrap();
        std::fs::write(reference.join("departure.csv"), "alpha3\nfra\n").unwrap();
        let r = Register::load(dir.path()).unwrap();
        assert_eq!(r.site("centre de nioro").unwrap().cercle, "ML0104");
        assert!(r.is_departure("FRA"));
        // Bad lines are named by file and line, never quoted.
        std::fs::write(
            reference.join("sites.csv"),
            "code,region,cercle,name_fr,name_en\nX1,ML01,ML0104,Chez Awa,Awa\nML0104-02,ML09,ML0104,Centre,Centre\nML0104-03,ML01,ML0104,Appeler 76 42 63 59,x\nML0104-04,ML01,ML0104,Centre d'écoute de Kita,y\n",
        )
        .unwrap();
        let problems = Register::load(dir.path()).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3, 4, 5], "{problems:?}");
        assert!(
            problems
                .iter()
                .all(|p| !p.message.contains("Awa") && !p.message.contains("76"))
        );
    }

    #[test]
    fn countries_are_found_by_alpha3_in_any_case() {
        assert_eq!(countries().get("dza").unwrap().name.fr, "Algérie");
        assert!(countries().get("XXX").is_none());
        assert!(countries().get("DZ").is_none());
    }
}
