//! `/open/`: the open data — every file of the public set (HXL-tagged CSV tables and
//! their Frictionless data package) with its size and what it holds, the licence, how
//! to read the files, and, for donors, programme staff and administrators, the IATI
//! activity file.

use maud::{Markup, html};

use super::Page;
use super::layout::layout;
use crate::access::Role;
use crate::present::i18n::format_number;
use crate::reference::Label;
use crate::render::exports::open_data::Licence;

/// A file the page lists.
pub struct Listed {
    pub name: String,
    pub title: Label,
    pub bytes: usize,
}

/// What the page shows besides the frame.
pub struct Listing<'a> {
    /// The tables' CSV files, in the package's order.
    pub tables: Vec<Listed>,
    /// `datapackage.json`.
    pub package: Listed,
    pub licence: &'a Licence,
}

fn size(bytes: usize, page: &Page<'_>) -> String {
    if bytes < 1024 {
        format!("{} {}", bytes, page.t("octets", "bytes"))
    } else {
        let kb = bytes as f64 / 1024.0;
        format!(
            "{} {}",
            format_number(kb, 1, page.locale),
            page.t("Kio", "KiB")
        )
    }
}

/// `/open/`: the files of the public open data.
pub fn open(page: &Page<'_>, listing: &Listing<'_>) -> Markup {
    let l = page.locale;
    let threshold = page.snapshot.threshold();
    let iati = matches!(
        page.viewer.role,
        Role::Donor | Role::Programme | Role::Admin
    );
    let licence_name = listing
        .licence
        .title
        .clone()
        .unwrap_or_else(|| listing.licence.id.clone());
    let body = html! {
        h1 { (page.t("Données ouvertes", "Open data")) }
        p.lead {
            (page.t(
                "Les tableaux que montrent les pages publiques du site, en fichiers CSV que les entrepôts de données humanitaires (comme HDX) lisent directement : chaque fichier porte sous sa ligne d'en-tête une ligne de hashtags HXL, et un paquet de données Frictionless les décrit tous.",
                "The tables the site's public pages show, as CSV files humanitarian data hubs (such as HDX) read as they are: each file carries a row of HXL hashtags under its header row, and a Frictionless data package describes them all."
            ))
        }
        section aria-labelledby="open-files" {
            h2 #open-files { (page.t("Fichiers", "Files")) }
            div.table-scroll { table.files {
                caption { (page.t("Fichiers de la version publiée ", "Files of the published version ")) code { (page.snapshot.id) } }
                thead {
                    tr {
                        th scope="col" { (page.t("Fichier", "File")) }
                        th scope="col" { (page.t("Contenu", "Content")) }
                        th scope="col" { (page.t("Taille", "Size")) }
                    }
                }
                tbody {
                    tr {
                        th scope="row" { a href={ "/open/" (listing.package.name) } { (listing.package.name) } }
                        td { (page.t(&listing.package.title.fr, &listing.package.title.en)) }
                        td { (size(listing.package.bytes, page)) }
                    }
                    @for f in &listing.tables {
                        tr {
                            th scope="row" { a href={ "/open/" (f.name) } { (f.name) } }
                            td { (page.t(&f.title.fr, &f.title.en)) }
                            td { (size(f.bytes, page)) }
                        }
                    }
                }
            } }
        }
        section aria-labelledby="open-licence" {
            h2 #open-licence { (page.t("Licence", "Licence")) }
            p {
                (page.t("Les fichiers sont publiés sous la licence ", "The files are published under the licence "))
                @if let Some(path) = &listing.licence.path {
                    a href=(path) { (licence_name) }
                } @else {
                    (licence_name)
                }
                " (" code { (listing.licence.id) } ")."
            }
        }
        section aria-labelledby="open-protection" {
            h2 #open-protection { (page.t("Protection des données", "Data protection")) }
            p { (page.snapshot.note(l.code())) }
            p {
                (match l {
                    crate::present::i18n::Locale::Fr => format!("Une cellule de moins de {threshold} n'est pas publiée : sa valeur est vide et sa colonne status vaut « suppressed ». Ce n'est pas zéro."),
                    crate::present::i18n::Locale::En => format!("A cell below {threshold} is not published: its value is empty and its status column reads “suppressed”. It is not zero."),
                })
            }
        }
        section aria-labelledby="open-read" {
            h2 #open-read { (page.t("Lire les fichiers", "Reading the files")) }
            ul {
                li {
                    strong { "HXL" } " — "
                    (page.t(
                        "la ligne 1 porte les noms des colonnes, la ligne 2 leurs hashtags HXL (Humanitarian Exchange Language : #adm1+code, #adm1+name, #date+month, #affected, #reached, #meta+status…) ; les données commencent en ligne 3. Le paquet de données indique le hashtag de chaque colonne.",
                        "row 1 holds the column names, row 2 their HXL (Humanitarian Exchange Language) hashtags (#adm1+code, #adm1+name, #date+month, #affected, #reached, #meta+status…); data starts on row 3. The data package gives each column's hashtag."
                    ))
                }
                li {
                    strong { "Frictionless" } " — "
                    (page.t(
                        "datapackage.json (Data Package v2) décrit chaque fichier : colonnes, types, clés, licence, version et date des données ; son dialecte dit que la ligne 2 n'est pas une ligne de données (headerRows [1], commentRows [2]). Vérifier : frictionless validate datapackage.json.",
                        "datapackage.json (Data Package v2) describes each file: columns, types, keys, licence, version and date of the data; its dialect says row 2 is not a data row (headerRows [1], commentRows [2]). Check it with: frictionless validate datapackage.json."
                    ))
                }
                li {
                    (page.t("Autres logiciels : sauter la ligne 2 (pandas : ", "Other software: skip row 2 (pandas: "))
                    code { "read_csv(path, skiprows=[1])" } ")."
                }
                li {
                    (page.t(
                        "Les libellés sont en français et en anglais ; les fichiers ne changent qu'avec une nouvelle version publiée (mêmes données, mêmes octets).",
                        "Labels are in French and English; the files change only with a new published version (same data, same bytes)."
                    ))
                }
            }
        }
        @if iati {
            section aria-labelledby="open-iati" {
                h2 #open-iati { "IATI" }
                p {
                    (page.t("Pour le bailleur : le fichier d'activité IATI du projet, ", "For the donor: the project's IATI activity file, "))
                    a href="/open/iati.xml" { "iati.xml" }
                    "."
                }
            }
        }
    };
    layout(page, page.t("Données ouvertes", "Open data"), None, body)
}
