//! Problems found in an extract, and the report written beside a quarantined file.
//!
//! A problem names the file, the row (spreadsheet numbering: the header is row 1), the
//! column and the rule. It never holds the offending value: reports and logs are read
//! by people who must not see extract contents.
//!
//! Reports are read by data officers who work in French: every rule says what is wrong
//! ([`Rule::explain`]) and what to do ([`Rule::fix`]) in French and in English; the text
//! report is written in the deployment's language, the JSON report carries both.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Serialize;

use super::limits::Limit;
use crate::domain::Kind;
use crate::locale::Locale;
use crate::pii::PiiKind;

/// A rule of the extract contract. `Display` gives the rule's short identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    Unreadable,
    SeveralSheets,
    Encoding,
    EmptyFile,
    UnknownKind,
    PiiColumn(PiiKind),
    PiiValue(PiiKind),
    MissingColumn,
    UndeclaredColumn,
    DuplicateColumn,
    FieldCount,
    Empty,
    TooLong,
    InvalidDate,
    FutureDate,
    DateTooEarly,
    UnknownCountry,
    UnknownRegion,
    UnknownCercle,
    CercleOutsideRegion,
    /// A code outside its set; the allowed codes are part of the contract, not data.
    UnknownCode(Vec<&'static str>),
    InvalidBirthYear,
    InvalidFlag,
    InvalidCount,
    NegativeCount,
    InvalidScore,
    PartExceedsTotal,
    AgeBandMismatch,
    UnaccompaniedAdult,
    DuplicateRow,
    /// A limit on the work one file may cause, with the limit's value.
    Limit(Limit, u64),
    /// A run died while reading this file.
    CrashedReader,
    /// The first row holds values, not column names.
    NoHeader,
    /// A site that is not in the register, or not in the row's cercle.
    UnknownSite,
    /// Not a month (`YYYY-MM`, `MM/YYYY` or a date of the month).
    InvalidMonth,
    /// A budget line the budget file does not list.
    UnknownBudgetLine,
    /// Not an amount of money.
    InvalidAmount,
    NegativeAmount,
    /// The budget file gives no exchange rate for the row's month and currency.
    NoExchangeRate,
}

impl Rule {
    pub fn id(&self) -> &'static str {
        match self {
            Rule::Unreadable => "unreadable",
            Rule::SeveralSheets => "several-sheets",
            Rule::Encoding => "encoding",
            Rule::EmptyFile => "empty-file",
            Rule::UnknownKind => "unknown-kind",
            Rule::PiiColumn(_) => "pii-column",
            Rule::PiiValue(_) => "pii-value",
            Rule::MissingColumn => "missing-column",
            Rule::UndeclaredColumn => "undeclared-column",
            Rule::DuplicateColumn => "duplicate-column",
            Rule::FieldCount => "field-count",
            Rule::Empty => "empty-value",
            Rule::TooLong => "too-long",
            Rule::InvalidDate => "invalid-date",
            Rule::FutureDate => "future-date",
            Rule::DateTooEarly => "date-too-early",
            Rule::UnknownCountry => "unknown-country",
            Rule::UnknownRegion => "unknown-pcode",
            Rule::UnknownCercle => "unknown-pcode",
            Rule::CercleOutsideRegion => "cercle-outside-region",
            Rule::UnknownCode(_) => "unknown-code",
            Rule::InvalidBirthYear => "invalid-birth-year",
            Rule::InvalidFlag => "invalid-flag",
            Rule::InvalidCount => "invalid-count",
            Rule::NegativeCount => "negative-count",
            Rule::InvalidScore => "invalid-score",
            Rule::PartExceedsTotal => "part-exceeds-total",
            Rule::AgeBandMismatch => "age-band-mismatch",
            Rule::UnaccompaniedAdult => "unaccompanied-adult",
            Rule::DuplicateRow => "duplicate-row",
            Rule::Limit(limit, _) => limit.id(),
            Rule::CrashedReader => "crashed-reader",
            Rule::NoHeader => "no-header",
            Rule::UnknownSite => "unknown-site",
            Rule::InvalidMonth => "invalid-month",
            Rule::UnknownBudgetLine => "unknown-budget-line",
            Rule::InvalidAmount => "invalid-amount",
            Rule::NegativeAmount => "negative-amount",
            Rule::NoExchangeRate => "no-exchange-rate",
        }
    }

    /// What is wrong, in `locale`, without quoting the value (a rule holds none: only
    /// the contract's codes and the job's limits).
    pub fn explain(&self, locale: Locale) -> String {
        let t = |fr: &str, en: &str| locale.pick(fr, en).to_string();
        match self {
            Rule::Unreadable => t(
                "le fichier n'a pas pu être lu comme un fichier CSV ou un classeur XLSX",
                "the file could not be read as CSV or XLSX",
            ),
            Rule::SeveralSheets => t(
                "plusieurs feuilles du classeur contiennent des données",
                "several sheets of the workbook hold data",
            ),
            Rule::Encoding => t(
                "le texte n'est ni en UTF-8 ni en Windows-1252, ou contient des caractères de contrôle",
                "the text is neither UTF-8 nor Windows-1252, or holds control characters",
            ),
            Rule::EmptyFile => t(
                "le fichier est vide : il n'a pas de ligne d'en-tête, ou aucune ligne de données sous l'en-tête",
                "the file is empty: it has no header row, or no data row below the header",
            ),
            Rule::UnknownKind => t(
                "le type d'extraction (retours, séances, campagnes, formations ou dépenses) n'est pas reconnu",
                "the kind of extract (returns, sessions, campaigns, trainings or finance) is not recognised",
            ),
            Rule::PiiColumn(kind) => match locale {
                Locale::Fr => format!(
                    "d'après son titre, la colonne semble contenir {}",
                    kind.describe(locale)
                ),
                Locale::En => format!("the column looks like it holds {}", kind.describe(locale)),
            },
            Rule::PiiValue(kind) => match locale {
                Locale::Fr => format!("la cellule semble contenir {}", kind.describe(locale)),
                Locale::En => format!("the cell looks like {}", kind.describe(locale)),
            },
            Rule::MissingColumn => t(
                "une colonne obligatoire est absente",
                "a required column is missing",
            ),
            Rule::UndeclaredColumn => t(
                "la colonne ne fait pas partie du contrat d'extraction",
                "the column is not part of the contract",
            ),
            Rule::DuplicateColumn => t("la colonne apparaît deux fois", "the column appears twice"),
            Rule::FieldCount => t(
                "la ligne n'a pas le même nombre de champs que l'en-tête",
                "the row has a different number of fields than the header",
            ),
            Rule::Empty => t(
                "la cellule est vide alors qu'une valeur est obligatoire",
                "the cell is empty but a value is required",
            ),
            Rule::TooLong => t(
                "la cellule dépasse 80 caractères",
                "the cell is longer than 80 characters",
            ),
            Rule::InvalidDate => t(
                "ce n'est pas une date réelle écrite AAAA-MM-JJ ou JJ/MM/AAAA",
                "not a real date written YYYY-MM-DD or DD/MM/YYYY",
            ),
            Rule::FutureDate => t(
                "la date est postérieure à aujourd'hui",
                "the date is in the future",
            ),
            Rule::DateTooEarly => t(
                "la date est antérieure à l'an 2000",
                "the date is before 2000",
            ),
            Rule::UnknownCountry => t(
                "ce n'est pas le code ISO 3166 alpha-3 d'un pays de départ du registre",
                "not the ISO 3166 alpha-3 code of a country of departure of the register",
            ),
            Rule::UnknownSite => t(
                "la colonne `site` contient un site inconnu du registre, ou un site situé hors du cercle de la ligne",
                "the column `site` holds a site that is not in the register, or a site outside the row's cercle",
            ),
            Rule::UnknownRegion => t(
                "ce n'est pas un P-code de région du découpage de 2019 (ML01 … ML10)",
                "not a region P-code of the 2019 boundaries (ML01 … ML10)",
            ),
            Rule::UnknownCercle => t(
                "ce n'est pas un P-code de cercle du découpage de 2019 (par ex. ML0105)",
                "not a cercle P-code of the 2019 boundaries (e.g. ML0105)",
            ),
            Rule::CercleOutsideRegion => t(
                "le cercle n'appartient pas à la région de la ligne",
                "the cercle is not in the row's region",
            ),
            Rule::UnknownCode(allowed) => match locale {
                Locale::Fr => format!(
                    "ce n'est pas un des codes autorisés : {}",
                    allowed.join(", ")
                ),
                Locale::En => format!("not one of the allowed codes: {}", allowed.join(", ")),
            },
            Rule::InvalidBirthYear => t(
                "ce n'est pas une année de naissance comprise entre 1900 et l'année de l'événement",
                "not a year of birth between 1900 and the year of the event",
            ),
            Rule::InvalidFlag => t(
                "ce n'est pas une valeur oui/non (1/0, oui/non, yes/no, vrai/faux)",
                "not a yes/no value (1/0, yes/no, oui/non, true/false)",
            ),
            Rule::InvalidCount => t("ce n'est pas un nombre entier", "not a whole number"),
            Rule::NegativeCount => t(
                "un effectif ne peut pas être négatif",
                "a count cannot be negative",
            ),
            Rule::InvalidScore => t(
                "ce n'est pas un score compris entre 0 et 100",
                "not a score between 0 and 100",
            ),
            Rule::PartExceedsTotal => t(
                "le nombre de femmes ou de jeunes touchés dépasse le nombre total de personnes touchées",
                "women or youth reached exceed people reached",
            ),
            Rule::AgeBandMismatch => t(
                "age_band et birth_year ne concordent pas",
                "age_band and birth_year disagree",
            ),
            Rule::UnaccompaniedAdult => t(
                "unaccompanied_minor indique « oui » pour une personne âgée de 18 ans ou plus",
                "unaccompanied_minor is set for someone aged 18 or over",
            ),
            Rule::DuplicateRow => t(
                "la ligne reprend la clé d'une ligne précédente",
                "the row repeats the key of an earlier row",
            ),
            Rule::Limit(limit, value) => match locale {
                Locale::Fr => format!(
                    "le fichier dépasse la limite {} = {value} ({})",
                    limit.setting(),
                    limit_measure(*limit, locale)
                ),
                Locale::En => format!(
                    "the file passes the limit {} = {value} ({})",
                    limit.setting(),
                    limit_measure(*limit, locale)
                ),
            },
            Rule::CrashedReader => t(
                "une exécution du traitement de nuit s'est arrêtée pendant la lecture de ce fichier ; il a été mis de côté pour que les exécutions suivantes puissent se poursuivre",
                "a run of the nightly job stopped while reading this file, so it was set aside to keep later runs going",
            ),
            Rule::NoHeader => t(
                "la première ligne contient des valeurs, pas des noms de colonnes",
                "the first row holds values, not column names",
            ),
            Rule::InvalidMonth => t(
                "ce n'est pas un mois écrit AAAA-MM ou MM/AAAA, ni une date réelle de ce mois",
                "not a month written YYYY-MM or MM/YYYY, nor a real date in that month",
            ),
            Rule::UnknownBudgetLine => t(
                "la colonne `budget_line` contient un code de ligne budgétaire absent du budget du projet",
                "the column `budget_line` holds a code that is not a line of the project's budget",
            ),
            Rule::InvalidAmount => t(
                "ce n'est pas un montant : des chiffres, avec au plus deux décimales",
                "not an amount: digits, with two decimals at most",
            ),
            Rule::NegativeAmount => t(
                "un montant dépensé ne peut pas être négatif",
                "an amount spent cannot be negative",
            ),
            Rule::NoExchangeRate => t(
                "le budget du projet ne donne pas de taux de change pour le mois de la ligne dans cette monnaie : le montant ne peut pas être converti",
                "the project's budget gives no exchange rate for the row's month in this currency, so the amount cannot be converted",
            ),
        }
    }

    /// What the sender should do about it, in `locale` (never quoting a value either).
    pub fn fix(&self, locale: Locale) -> String {
        let t = |fr: &str, en: &str| locale.pick(fr, en).to_string();
        match self {
            Rule::Unreadable => t(
                "enregistrez-le à nouveau depuis le tableur au format CSV (UTF-8) ou classeur Excel (.xlsx), vérifiez qu'il s'ouvre, puis renvoyez-le",
                "save it again from the spreadsheet as CSV (UTF-8) or as an Excel workbook (.xlsx), check that it opens, and deliver it again",
            ),
            Rule::SeveralSheets => t(
                "n'envoyez qu'une feuille par fichier ; gardez seulement la feuille des données, ou enregistrez chaque feuille dans un fichier distinct",
                "send one sheet per file; keep only the data sheet, or save each sheet as a file of its own",
            ),
            Rule::Encoding => t(
                "enregistrez à nouveau le fichier au format « CSV UTF-8 » depuis le tableur, et ressaisissez la cellule si elle contient des caractères invisibles (copiés depuis un autre logiciel)",
                "save the file again as \"CSV UTF-8\" from the spreadsheet, and retype the cell if it holds invisible characters (copied from another program)",
            ),
            Rule::EmptyFile => t(
                "vérifiez que vous avez exporté le bon fichier, avec sa ligne d'en-tête et ses données, puis renvoyez-le",
                "check that you exported the right file, with its header row and its data, and deliver it again",
            ),
            Rule::UnknownKind => t(
                "commencez le nom du fichier par retours, seances, campagnes, formations ou depenses (ou returns, sessions, campaigns, trainings, finance), ou utilisez les noms de colonnes du contrat",
                "start the file name with returns/retours, sessions/seances, campaigns/campagnes, trainings/formations or finance/depenses, or use the contract's column names",
            ),
            Rule::PiiColumn(_) => t(
                "supprimez cette colonne du fichier avant de le renvoyer ; aucune donnée qui identifie une personne ne doit être transmise",
                "remove the column from the file before sending it again; no data that identifies a person may be sent",
            ),
            Rule::PiiValue(_) => t(
                "effacez cette donnée identifiante de la cellule (et de toute autre cellule qui en contient) avant de renvoyer le fichier",
                "remove identifying data from the cell (and from any other cell that holds some) before sending the file again",
            ),
            Rule::MissingColumn => t(
                "ajoutez cette colonne, sous le nom indiqué, et remplissez-la pour chaque ligne",
                "add the column, under the name given, and fill it in on every row",
            ),
            Rule::UndeclaredColumn => t(
                "supprimez cette colonne, ou donnez-lui le nom prévu par le contrat si elle correspond à une colonne du contrat",
                "remove the column, or give it the contract's name if it holds one of the contract's columns",
            ),
            Rule::DuplicateColumn => t(
                "gardez une seule des deux colonnes et supprimez l'autre",
                "keep one of the two columns and delete the other",
            ),
            Rule::FieldCount => t(
                "vérifiez que la ligne n'a ni champ en trop ni champ manquant, et mettez entre guillemets les valeurs qui contiennent le séparateur (, ou ;)",
                "check the row for an extra or a missing field, and put quotes around values that hold the separator (, or ;)",
            ),
            Rule::Empty => t(
                "remplissez la cellule à partir de la fiche source",
                "fill in the cell from the source record",
            ),
            Rule::TooLong => t(
                "raccourcissez la cellule ; une référence est un code court, jamais du texte libre ni une remarque",
                "shorten the cell; a reference is a short code, never free text or a note",
            ),
            Rule::InvalidDate => t(
                "écrivez la date sous la forme AAAA-MM-JJ (2019-03-27) ou JJ/MM/AAAA (27/03/2019), et vérifiez que le jour existe",
                "write the date as YYYY-MM-DD (2019-03-27) or DD/MM/YYYY (27/03/2019), and check that the day exists",
            ),
            Rule::FutureDate => t(
                "corrigez la date (le jour et le mois sont peut-être inversés ; écrivez AAAA-MM-JJ ou JJ/MM/AAAA)",
                "correct the date (day and month may be swapped; write YYYY-MM-DD or DD/MM/YYYY)",
            ),
            Rule::DateTooEarly => t(
                "corrigez la date (souvent une année mal saisie)",
                "correct the date (often a mistyped year)",
            ),
            Rule::UnknownCountry => t(
                "utilisez le code à trois lettres du pays (par ex. DZA, LBY) ; un nouveau pays de départ s'ajoute dans DATA/reference/departure.csv",
                "use the country's three-letter code (e.g. DZA, LBY); a new country of departure is added to DATA/reference/departure.csv",
            ),
            Rule::UnknownSite => t(
                "utilisez un code du registre des sites (par ex. ML0105-01) ou le nom d'un site du registre, situé dans le cercle de la ligne, ou ajoutez le site à DATA/reference/sites.csv",
                "use a code of the site register (e.g. ML0105-01) or the name of a site of the register, in the row's cercle, or add the site to DATA/reference/sites.csv",
            ),
            Rule::UnknownRegion => t(
                "utilisez le P-code de la région, de ML01 à ML10 (par ex. ML01 pour Kayes)",
                "use the region's P-code, ML01 to ML10 (e.g. ML01 for Kayes)",
            ),
            Rule::UnknownCercle => t(
                "utilisez le P-code du cercle, soit le code de sa région suivi de deux chiffres (par ex. ML0105 pour Kita)",
                "use the cercle's P-code, its region's code followed by two digits (e.g. ML0105 for Kita)",
            ),
            Rule::CercleOutsideRegion => t(
                "vérifiez region_pcode et cercle_pcode ; le P-code d'un cercle commence par celui de sa région (ML0105 est dans ML01)",
                "check region_pcode and cercle_pcode; a cercle's P-code starts with its region's (ML0105 is in ML01)",
            ),
            Rule::UnknownCode(allowed) => match locale {
                Locale::Fr => format!(
                    "écrivez un des codes autorisés ({}) ou son libellé en français ou en anglais",
                    allowed.join(", ")
                ),
                Locale::En => format!(
                    "write one of the allowed codes ({}) or its French or English label",
                    allowed.join(", ")
                ),
            },
            Rule::InvalidBirthYear => t(
                "écrivez l'année de naissance sur quatre chiffres (par ex. 1994), ou laissez-la vide et remplissez age_band",
                "write the year of birth with four digits (e.g. 1994), or leave it empty and fill in age_band",
            ),
            Rule::InvalidFlag => t(
                "écrivez 1 pour oui et 0 pour non",
                "write 1 for yes and 0 for no",
            ),
            Rule::InvalidCount => t(
                "écrivez un nombre entier en chiffres, sans décimale ni texte (les espaces entre les milliers sont acceptés)",
                "write a whole number in digits, without decimals or text (spaces between thousands are accepted)",
            ),
            Rule::NegativeCount => t(
                "corrigez le nombre, qui doit valoir 0 ou plus",
                "correct the count to 0 or more",
            ),
            Rule::InvalidScore => t(
                "écrivez le score sous forme de nombre de 0 à 100 (décimales avec une virgule ou un point)",
                "write the score as a number from 0 to 100 (decimals with a point or a comma)",
            ),
            Rule::PartExceedsTotal => t(
                "vérifiez women_reached, youth_reached et people_reached ; le total comprend les femmes et les jeunes",
                "check women_reached, youth_reached and people_reached; the total includes the women and the youth",
            ),
            Rule::AgeBandMismatch => t(
                "corrigez l'une des deux valeurs pour que l'âge à la date de l'événement tombe dans la tranche, ou laissez birth_year vide",
                "correct one of the two so that the age at the date of the event falls in the band, or leave birth_year empty",
            ),
            Rule::UnaccompaniedAdult => t(
                "vérifiez l'âge (age_band, birth_year) et unaccompanied_minor ; un adulte n'est pas un mineur non accompagné",
                "check the age (age_band, birth_year) and unaccompanied_minor; an adult is not an unaccompanied minor",
            ),
            Rule::DuplicateRow => t(
                "supprimez la ligne en double, ou corrigez sa référence si elle décrit un autre enregistrement",
                "delete the repeated row, or correct its reference if it describes another record",
            ),
            Rule::Limit(limit, _) => {
                let first = match limit {
                    Limit::FileBytes
                    | Limit::Rows
                    | Limit::SheetCells
                    | Limit::XlsxUncompressed => t(
                        "découpez le fichier en fichiers plus petits (par exemple un par trimestre)",
                        "split the file into smaller files (one per quarter, for example)",
                    ),
                    Limit::FieldsPerRow => t(
                        "supprimez les colonnes dont le contrat n'a pas besoin",
                        "remove the columns the contract does not need",
                    ),
                    Limit::FieldBytes => t(
                        "raccourcissez la cellule ; une extraction ne contient pas de texte libre",
                        "shorten the cell; an extract holds no free text",
                    ),
                    Limit::RecordBytes => t(
                        "un guillemet (\") est sans doute resté ouvert sur cette ligne ; fermez-le ou supprimez-le",
                        "a quotation mark (\") is probably left open on this row; close it or remove it",
                    ),
                    Limit::ZipEntries | Limit::ZipRatio | Limit::SparseSheet => t(
                        "enregistrez à nouveau le fichier au format CSV, ou en .xlsx avec la seule feuille des données, sans lignes ni colonnes vides mises en forme au-delà des données",
                        "save the file again as CSV, or as .xlsx with only the data sheet and no empty formatted rows or columns beyond the data",
                    ),
                };
                match locale {
                    Locale::Fr => format!(
                        "{first} ; si le fichier est normal, l'administrateur peut relever {} dans ingest.toml",
                        limit.setting()
                    ),
                    Locale::En => format!(
                        "{first}; if the file is genuine, the administrator can raise {} in ingest.toml",
                        limit.setting()
                    ),
                }
            }
            Rule::CrashedReader => t(
                "si le fichier est correct, renvoyez-le ; s'il est de nouveau mis de côté, prévenez l'administrateur",
                "if the file is sound, deliver it again; if it is set aside again, tell the administrator",
            ),
            Rule::NoHeader => t(
                "ajoutez au-dessus des données la ligne d'en-tête du contrat (person_ref, return_date, …)",
                "add the contract's header row (person_ref, return_date, …) above the data",
            ),
            Rule::InvalidMonth => t(
                "écrivez le mois sous la forme AAAA-MM (2019-07) ou MM/AAAA (07/2019)",
                "write the month as YYYY-MM (2019-07) or MM/YYYY (07/2019)",
            ),
            Rule::UnknownBudgetLine => t(
                "utilisez un code de ligne du budget (staff, psychosocial_care, training, campaigns, workshops, monitoring, overheads) ; une nouvelle ligne s'ajoute au budget (dashboards/_budget.toml) par l'administrateur",
                "use a code of a budget line (staff, psychosocial_care, training, campaigns, workshops, monitoring, overheads); a new line is added to the budget (dashboards/_budget.toml) by the administrator",
            ),
            Rule::InvalidAmount => t(
                "écrivez le montant en chiffres, avec une virgule ou un point avant les décimales (au plus deux), sans symbole monétaire (les espaces entre les milliers sont acceptés)",
                "write the amount in digits, with a comma or a point before the decimals (two at most) and no currency sign (spaces between thousands are accepted)",
            ),
            Rule::NegativeAmount => t(
                "corrigez le montant, qui doit valoir 0 ou plus ; un remboursement se déduit de la dépense du mois",
                "correct the amount to 0 or more; a refund is deducted from the month's spending",
            ),
            Rule::NoExchangeRate => t(
                "vérifiez le mois et la monnaie ; si la dépense est juste, demandez à l'administrateur d'ajouter le taux du mois à dashboards/_budget.toml, puis renvoyez le fichier",
                "check the month and the currency; if the spending is right, ask the administrator to add the month's rate to dashboards/_budget.toml, then deliver the file again",
            ),
        }
    }

    /// Rules that reject a file because it carries identifying data.
    pub fn is_pii(&self) -> bool {
        matches!(self, Rule::PiiColumn(_) | Rule::PiiValue(_))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One problem: where (row, column) and which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Spreadsheet row number (header = 1); `None` for the file as a whole.
    pub row: Option<u64>,
    /// The column as the contract names it, or as the file's header writes it.
    pub column: Option<String>,
    pub rule: Rule,
}

/// Problems of one file, grouped by (column, rule) so that a million bad rows make a
/// short report that still accounts for every one of them.
#[derive(Debug, Default, Clone)]
pub struct Problems {
    groups: BTreeMap<(Option<String>, Rule), Vec<RowRange>>,
    total: u64,
}

/// An inclusive run of row numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RowRange(pub u64, pub u64);

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.total += 1;
        let rows = self
            .groups
            .entry((problem.column, problem.rule))
            .or_default();
        let row = problem.row.unwrap_or(0);
        match rows.last_mut() {
            Some(last) if last.1 + 1 == row => last.1 = row,
            Some(last) if last.1 == row => {}
            _ => rows.push(RowRange(row, row)),
        }
    }

    pub fn at(&mut self, row: u64, column: &str, rule: Rule) {
        self.push(Problem {
            row: Some(row),
            column: Some(column.to_string()),
            rule,
        });
    }

    /// A problem of the file as a whole, found at a row.
    pub fn file_at(&mut self, row: u64, rule: Rule) {
        self.push(Problem {
            row: Some(row),
            column: None,
            rule,
        });
    }

    pub fn file(&mut self, rule: Rule) {
        self.push(Problem {
            row: None,
            column: None,
            rule,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn has_pii(&self) -> bool {
        self.groups.keys().any(|(_, rule)| rule.is_pii())
    }

    /// Every problem, row by row (expands the grouped runs; meant for tests and small files).
    pub fn iter(&self) -> impl Iterator<Item = Problem> + '_ {
        self.groups.iter().flat_map(|((column, rule), ranges)| {
            ranges.iter().flat_map(move |r| {
                (r.0..=r.1).map(move |row| Problem {
                    row: (row > 0).then_some(row),
                    column: column.clone(),
                    rule: rule.clone(),
                })
            })
        })
    }

    pub fn groups(&self) -> impl Iterator<Item = (&Option<String>, &Rule, &[RowRange])> {
        self.groups
            .iter()
            .map(|((c, r), rows)| (c, r, rows.as_slice()))
    }
}

/// The outcome of reading one file, as written beside a quarantined file.
#[derive(Debug, Clone)]
pub struct Report {
    pub file: String,
    pub kind: Option<Kind>,
    pub rows_read: u64,
    pub problems: Problems,
}

impl Report {
    /// The plain-text report, meant for programme staff, in `locale`.
    pub fn to_text(&self, locale: Locale) -> String {
        let t = |fr: &'static str, en: &'static str| locale.pick(fr, en);
        let mut out = String::new();
        let verdict = if self.problems.has_pii() {
            t(
                "REJETÉ : le fichier contient des données identifiantes",
                "REJECTED: the file carries identifying data",
            )
        } else {
            t(
                "REJETÉ : le fichier ne respecte pas le contrat d'extraction",
                "REJECTED: the file breaks the extract contract",
            )
        };
        let kind = match self.kind {
            Some(kind) => kind_name(kind, locale),
            None => t("inconnu", "unknown"),
        };
        let _ = writeln!(
            out,
            "{}",
            t(
                "reintegra : rapport sur un fichier d'extraction",
                "reintegra extract report"
            )
        );
        let _ = writeln!(out, "{} {}", t("fichier :", "file:"), self.file);
        let _ = writeln!(out, "{} {kind}", t("type :", "kind:"));
        let _ = writeln!(
            out,
            "{} {}",
            t("lignes lues :", "rows read:"),
            self.rows_read
        );
        let _ = writeln!(
            out,
            "{verdict}{}",
            t(
                " ; rien n'en a été chargé.",
                "; nothing from it was loaded."
            )
        );
        let _ = writeln!(
            out,
            "{} {}\n",
            t("problèmes :", "problems:"),
            self.problems.total()
        );
        let _ = writeln!(
            out,
            "{}",
            t(
                "Les lignes sont numérotées comme dans un tableur (l'en-tête est la ligne 1).",
                "Rows are numbered as in a spreadsheet (the header is row 1)."
            )
        );
        let _ = writeln!(
            out,
            "{}\n",
            t(
                "Les valeurs des cellules ne sont jamais citées dans ce rapport.",
                "Cell values are never quoted in this report."
            )
        );
        for (column, rule, rows) in self.problems.groups() {
            let count: u64 = rows.iter().map(|r| r.1 - r.0 + 1).sum();
            let _ = writeln!(
                out,
                "- {}{} {} — {}",
                place(column.as_deref(), rule, true, locale),
                t(" :", ":"),
                rule.id(),
                rule.explain(locale)
            );
            let _ = writeln!(
                out,
                "  {} {}",
                t("à faire :", "what to do:"),
                rule.fix(locale)
            );
            if rows.first().is_some_and(|r| r.0 > 0) {
                let _ = writeln!(
                    out,
                    "  {}{} {}",
                    rows_word(count, locale),
                    t(" :", ":"),
                    format_rows(rows, 50, locale)
                );
            }
        }
        out
    }

    /// The machine-readable report: each problem group carries its explanation and its
    /// fix in both languages (`message` is the English explanation, as before).
    pub fn to_json(&self) -> serde_json::Value {
        let both = |text: &dyn Fn(Locale) -> String| serde_json::json!({ "fr": text(Locale::Fr), "en": text(Locale::En) });
        let problems: Vec<_> = self
            .problems
            .groups()
            .map(|(column, rule, rows)| {
                let rows: Vec<RowRange> = rows.iter().copied().filter(|r| r.0 > 0).collect();
                serde_json::json!({
                    "column": column,
                    "rule": rule.id(),
                    "message": rule.explain(Locale::En),
                    "explanation": both(&|l| rule.explain(l)),
                    "fix": both(&|l| rule.fix(l)),
                    "rows": rows,
                    "count": rows.iter().map(|r| r.1 - r.0 + 1).sum::<u64>(),
                })
            })
            .collect();
        serde_json::json!({
            "file": self.file,
            "kind": self.kind.map(Kind::name),
            "rows_read": self.rows_read,
            "outcome": "rejected",
            "pii": self.problems.has_pii(),
            "problem_count": self.problems.total(),
            "problems": problems,
        })
    }
}

/// Where a problem group is, as a reader sees it: `column sex`, `colonne #3 (C)`,
/// `file` / `fichier`. With `letters`, a column named by position also gets its
/// spreadsheet letters. A missing either/or pair (`age_band or birth_year`) reads `ou`
/// in French.
pub fn place(column: Option<&str>, rule: &Rule, letters: bool, locale: Locale) -> String {
    let word = locale.pick("colonne", "column");
    match column {
        Some(c) => {
            let c = match (locale, rule) {
                (Locale::Fr, Rule::MissingColumn) => c.replace(" or ", " ou "),
                _ => c.to_string(),
            };
            match c.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) {
                Some(n) if letters => format!("{word} {c} ({})", column_letters(n)),
                _ => format!("{word} {c}"),
            }
        }
        None => locale.pick("fichier", "file").to_string(),
    }
}

/// `1 row` / `3 rows`, `1 ligne` / `3 lignes`.
pub fn rows_word(count: u64, locale: Locale) -> String {
    let word = locale.pick("ligne", "row");
    format!("{count} {word}{}", if count == 1 { "" } else { "s" })
}

/// The kind of extract as the report names it: the contract's name in English, the
/// French word of the file names (`retours`, `séances`…) in French.
pub fn kind_name(kind: Kind, locale: Locale) -> &'static str {
    match (locale, kind) {
        (Locale::En, k) => k.name(),
        (Locale::Fr, Kind::Returns) => "retours",
        (Locale::Fr, Kind::Sessions) => "séances",
        (Locale::Fr, Kind::Campaigns) => "campagnes",
        (Locale::Fr, Kind::Trainings) => "formations",
        (Locale::Fr, Kind::Finance) => "dépenses",
    }
}

/// What a limit counts, to follow its setting and value in an explanation.
fn limit_measure(limit: Limit, locale: Locale) -> &'static str {
    let t = |fr: &'static str, en: &'static str| locale.pick(fr, en);
    match limit {
        Limit::FileBytes => t("octets du fichier", "bytes of the file"),
        Limit::Rows => t("lignes de données", "data rows"),
        Limit::FieldsPerRow => t("champs d'une ligne", "fields in a row"),
        Limit::FieldBytes => t("octets d'une cellule", "bytes of one cell"),
        Limit::RecordBytes => t("octets d'une ligne du CSV", "bytes of one CSV record"),
        Limit::XlsxUncompressed => t(
            "octets du classeur décompressé",
            "bytes of the workbook uncompressed",
        ),
        Limit::ZipEntries => t(
            "éléments de l'archive du classeur",
            "entries of the workbook's archive",
        ),
        Limit::ZipRatio => t(
            "taux de compression d'un élément du classeur",
            "compression ratio of an entry of the workbook",
        ),
        Limit::SheetCells => t(
            "cellules remplies de la feuille",
            "non-empty cells of the sheet",
        ),
        Limit::SparseSheet => t(
            "taille de la plage utilisée de la feuille par rapport aux cellules remplies",
            "size of the sheet's used range against the cells it holds",
        ),
    }
}

/// A spreadsheet's name of the n-th column (1 → A, 27 → AA).
pub fn column_letters(mut n: usize) -> String {
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// `2, 5-9, 12` — at most `limit` runs, then how many rows are left (`and 3 more` /
/// `et 3 autres`).
pub fn format_rows(rows: &[RowRange], limit: usize, locale: Locale) -> String {
    let mut parts: Vec<String> = rows
        .iter()
        .take(limit)
        .map(|r| {
            if r.0 == r.1 {
                r.0.to_string()
            } else {
                format!("{}-{}", r.0, r.1)
            }
        })
        .collect();
    if rows.len() > limit {
        let rest: u64 = rows[limit..].iter().map(|r| r.1 - r.0 + 1).sum();
        parts.push(match locale {
            Locale::Fr => format!("et {rest} autre{}", if rest == 1 { "" } else { "s" }),
            Locale::En => format!("and {rest} more"),
        });
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_group_consecutive_rows() {
        let mut p = Problems::default();
        for row in [2, 3, 4, 9] {
            p.at(row, "return_date", Rule::InvalidDate);
        }
        p.at(5, "sex", Rule::UnknownCode(vec!["F", "M"]));
        assert_eq!(p.total(), 5);
        let groups: Vec<_> = p.groups().collect();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].2, &[RowRange(2, 4), RowRange(9, 9)]);
        assert_eq!(format_rows(groups[0].2, 1, Locale::En), "2-4, and 1 more");
        assert_eq!(format_rows(groups[0].2, 1, Locale::Fr), "2-4, et 1 autre");
        assert_eq!(p.iter().count(), 5);
        assert_eq!(column_letters(1), "A");
        assert_eq!(column_letters(12), "L");
        assert_eq!(column_letters(27), "AA");
        assert_eq!(column_letters(16384), "XFD");
    }

    /// One rule of every variant (every kind of identifying data, every limit).
    fn one_of_each() -> Vec<Rule> {
        let pii = [
            PiiKind::Name,
            PiiKind::Phone,
            PiiKind::Email,
            PiiKind::Address,
            PiiKind::IdNumber,
            PiiKind::Location,
            PiiKind::DateOfBirth,
        ];
        let limits = [
            Limit::FileBytes,
            Limit::Rows,
            Limit::FieldsPerRow,
            Limit::FieldBytes,
            Limit::RecordBytes,
            Limit::XlsxUncompressed,
            Limit::ZipEntries,
            Limit::ZipRatio,
            Limit::SheetCells,
            Limit::SparseSheet,
        ];
        let mut rules = vec![
            Rule::Unreadable,
            Rule::SeveralSheets,
            Rule::Encoding,
            Rule::EmptyFile,
            Rule::UnknownKind,
            Rule::MissingColumn,
            Rule::UndeclaredColumn,
            Rule::DuplicateColumn,
            Rule::FieldCount,
            Rule::Empty,
            Rule::TooLong,
            Rule::InvalidDate,
            Rule::FutureDate,
            Rule::DateTooEarly,
            Rule::UnknownCountry,
            Rule::UnknownRegion,
            Rule::UnknownCercle,
            Rule::CercleOutsideRegion,
            Rule::UnknownCode(vec!["F", "M"]),
            Rule::InvalidBirthYear,
            Rule::InvalidFlag,
            Rule::InvalidCount,
            Rule::NegativeCount,
            Rule::InvalidScore,
            Rule::PartExceedsTotal,
            Rule::AgeBandMismatch,
            Rule::UnaccompaniedAdult,
            Rule::DuplicateRow,
            Rule::CrashedReader,
            Rule::NoHeader,
            Rule::UnknownSite,
            Rule::InvalidMonth,
            Rule::UnknownBudgetLine,
            Rule::InvalidAmount,
            Rule::NegativeAmount,
            Rule::NoExchangeRate,
        ];
        rules.extend(pii.iter().map(|k| Rule::PiiColumn(*k)));
        rules.extend(pii.iter().map(|k| Rule::PiiValue(*k)));
        let defaults = crate::extract::Limits::default();
        rules.extend(limits.iter().map(|l| Rule::Limit(*l, defaults.value(*l))));
        // No wildcard: a new variant does not compile until it is listed above.
        let mut seen = [false; 39];
        for rule in &rules {
            let i = match rule {
                Rule::Unreadable => 0,
                Rule::SeveralSheets => 1,
                Rule::Encoding => 2,
                Rule::EmptyFile => 3,
                Rule::UnknownKind => 4,
                Rule::PiiColumn(_) => 5,
                Rule::PiiValue(_) => 6,
                Rule::MissingColumn => 7,
                Rule::UndeclaredColumn => 8,
                Rule::DuplicateColumn => 9,
                Rule::FieldCount => 10,
                Rule::Empty => 11,
                Rule::TooLong => 12,
                Rule::InvalidDate => 13,
                Rule::FutureDate => 14,
                Rule::DateTooEarly => 15,
                Rule::UnknownCountry => 16,
                Rule::UnknownRegion => 17,
                Rule::UnknownCercle => 18,
                Rule::CercleOutsideRegion => 19,
                Rule::UnknownCode(_) => 20,
                Rule::InvalidBirthYear => 21,
                Rule::InvalidFlag => 22,
                Rule::InvalidCount => 23,
                Rule::NegativeCount => 24,
                Rule::InvalidScore => 25,
                Rule::PartExceedsTotal => 26,
                Rule::AgeBandMismatch => 27,
                Rule::UnaccompaniedAdult => 28,
                Rule::DuplicateRow => 29,
                Rule::Limit(_, _) => 30,
                Rule::CrashedReader => 31,
                Rule::NoHeader => 32,
                Rule::UnknownSite => 33,
                Rule::InvalidMonth => 34,
                Rule::UnknownBudgetLine => 35,
                Rule::InvalidAmount => 36,
                Rule::NegativeAmount => 37,
                Rule::NoExchangeRate => 38,
            };
            seen[i] = true;
        }
        assert!(seen.iter().all(|s| *s), "every variant is listed: {seen:?}");
        rules
    }

    #[test]
    fn every_rule_is_explained_and_fixed_in_french_and_english() {
        let rules = one_of_each();
        let mut texts = std::collections::BTreeMap::new();
        for rule in &rules {
            let explain = (rule.explain(Locale::Fr), rule.explain(Locale::En));
            let fix = (rule.fix(Locale::Fr), rule.fix(Locale::En));
            for text in [&explain.0, &explain.1, &fix.0, &fix.1] {
                assert!(!text.trim().is_empty(), "{rule:?}: empty text");
                assert_eq!(text.trim(), text, "{rule:?}: stray spaces in {text:?}");
            }
            assert_ne!(
                explain.0, explain.1,
                "{rule:?}: the French explanation is the English one"
            );
            assert_ne!(fix.0, fix.1, "{rule:?}: the French fix is the English one");
            assert_ne!(
                explain.0, fix.0,
                "{rule:?}: the fix repeats the explanation"
            );
            assert_ne!(
                explain.1, fix.1,
                "{rule:?}: the fix repeats the explanation"
            );
            // Rules read differently (two rules share a text only when they share an id).
            for (locale, text) in [("fr", &explain.0), ("en", &explain.1)] {
                if let Some(other) = texts.insert((locale, text.clone()), rule.clone()) {
                    assert_eq!(
                        other.id(),
                        rule.id(),
                        "{other:?} and {rule:?} read the same: {text}"
                    );
                }
            }
        }
        // Each kind of identifying data is named in both languages.
        let pii: Vec<_> = rules
            .iter()
            .filter(|r| matches!(r, Rule::PiiValue(_)))
            .collect();
        assert_eq!(pii.len(), 7);
        for locale in Locale::ALL {
            let named: std::collections::BTreeSet<_> =
                pii.iter().map(|r| r.explain(locale)).collect();
            assert_eq!(named.len(), 7, "{locale:?}");
        }
    }

    #[test]
    fn explanations_name_the_contract_not_the_data() {
        let rule = Rule::UnknownCode(vec!["VHR", "AVRR"]);
        assert_eq!(
            rule.explain(Locale::Fr),
            "ce n'est pas un des codes autorisés : VHR, AVRR"
        );
        assert!(rule.fix(Locale::Fr).contains("(VHR, AVRR)"));
        assert!(rule.fix(Locale::En).contains("(VHR, AVRR)"));
        let limit = Rule::Limit(Limit::RecordBytes, 65_536);
        for locale in Locale::ALL {
            assert!(
                limit.explain(locale).contains("max_record_bytes = 65536"),
                "{locale:?}"
            );
            assert!(limit.fix(locale).contains("ingest.toml"), "{locale:?}");
        }
        assert!(limit.fix(Locale::Fr).contains("guillemet"));
        assert_eq!(
            Rule::UnknownSite.explain(Locale::Fr),
            "la colonne `site` contient un site inconnu du registre, ou un site situé hors du cercle de la ligne"
        );
        assert!(
            Rule::UnknownSite
                .fix(Locale::Fr)
                .starts_with("utilisez un code du registre des sites (par ex. ML0105-01)")
        );
        assert!(
            Rule::UnknownSite
                .fix(Locale::Fr)
                .contains("DATA/reference/sites.csv")
        );
        assert!(
            Rule::PiiValue(PiiKind::Phone)
                .explain(Locale::Fr)
                .contains("numéro de téléphone")
        );
        assert!(
            Rule::PiiColumn(PiiKind::Name)
                .explain(Locale::En)
                .contains("a person's name")
        );
    }

    fn sample() -> Report {
        let mut problems = Problems::default();
        for row in [2, 3, 4, 9] {
            problems.at(row, "return_date", Rule::InvalidDate);
        }
        problems.at(1, "age_band or birth_year", Rule::MissingColumn);
        problems.at(6, "#12", Rule::PiiColumn(PiiKind::Phone));
        Report {
            file: "retours_kita.csv".into(),
            kind: Some(Kind::Returns),
            rows_read: 40,
            problems,
        }
    }

    #[test]
    fn the_text_report_speaks_the_deployments_language() {
        let report = sample();
        let fr = report.to_text(Locale::Fr);
        let en = report.to_text(Locale::En);
        for needle in [
            "reintegra : rapport sur un fichier d'extraction",
            "fichier : retours_kita.csv",
            "type : retours",
            "lignes lues : 40",
            "REJETÉ : le fichier contient des données identifiantes ; rien n'en a été chargé.",
            "Les lignes sont numérotées comme dans un tableur (l'en-tête est la ligne 1).",
            "- colonne return_date : invalid-date — ce n'est pas une date réelle",
            "  à faire : écrivez la date sous la forme AAAA-MM-JJ",
            "  4 lignes : 2-4, 9",
            "- colonne age_band ou birth_year : missing-column",
            "  1 ligne : 1",
            "- colonne #12 (L) : pii-column — d'après son titre, la colonne semble contenir un numéro de téléphone",
        ] {
            assert!(fr.contains(needle), "{needle:?} not in\n{fr}");
        }
        for needle in [
            "reintegra extract report",
            "file: retours_kita.csv",
            "kind: returns",
            "REJECTED: the file carries identifying data; nothing from it was loaded.",
            "Rows are numbered as in a spreadsheet (the header is row 1).",
            "- column return_date: invalid-date — not a real date",
            "  what to do: write the date as YYYY-MM-DD",
            "  4 rows: 2-4, 9",
            "- column age_band or birth_year: missing-column",
            "  1 row: 1",
            "- column #12 (L): pii-column — the column looks like it holds a phone number",
        ] {
            assert!(en.contains(needle), "{needle:?} not in\n{en}");
        }
        for word in [" row", "- column", "REJECTED", "what to do"] {
            assert!(!fr.contains(word), "{word:?} in the French report:\n{fr}");
        }
        for word in ["ligne", "colonne", "REJETÉ", "à faire", " : "] {
            assert!(!en.contains(word), "{word:?} in the English report:\n{en}");
        }
    }

    #[test]
    fn the_json_report_carries_both_languages() {
        let report = sample();
        let json = report.to_json();
        let problems = json["problems"].as_array().unwrap();
        assert_eq!(problems.len(), 3);
        for ((_, rule, _), p) in report.problems.groups().zip(problems) {
            assert_eq!(p["rule"], rule.id());
            for locale in Locale::ALL {
                let code = locale.code();
                assert_eq!(p["explanation"][code], rule.explain(locale));
                assert_eq!(p["fix"][code], rule.fix(locale));
            }
            assert_eq!(p["message"], rule.explain(Locale::En));
        }
        assert_eq!(json["problem_count"], 6);
        assert_eq!(json["pii"], true);
    }
}
