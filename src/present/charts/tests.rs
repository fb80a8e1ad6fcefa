use super::*;
use resvg::usvg;

fn point(key: &str, label: &str, value: Option<f64>) -> Point {
    Point {
        key: key.to_string(),
        label: label.to_string(),
        value,
    }
}

fn chart(kind: ChartKind, series: Vec<Series>, locale: Locale) -> Chart {
    Chart {
        id: String::new(),
        kind,
        title: "Titre".to_string(),
        description: "Description".to_string(),
        series,
        target: None,
        unit: locale.pick("personnes", "people").to_string(),
        decimals: 0,
        suppressed_label: "<10".to_string(),
        locale,
        width: 640,
        marks: Vec::new(),
    }
}

fn one_series(points: Vec<Point>) -> Vec<Series> {
    vec![Series {
        name: "Retours".to_string(),
        points,
    }]
}

// --- realistic examples (also used for the PNG previews) ---------------------------

fn returns_by_region(locale: Locale) -> Chart {
    let rows = [
        ("ML01", "Kayes", Some(5200.0)),
        ("ML09", "Bamako", Some(2880.0)),
        ("ML02", "Koulikoro", Some(980.0)),
        ("ML03", "Sikasso", Some(760.0)),
        ("ML04", "Ségou", Some(690.0)),
        ("ML05", "Mopti", Some(420.0)),
        ("ML06", "Tombouctou", Some(170.0)),
        ("ML07", "Gao", Some(110.0)),
        ("ML08", "Kidal", None),
        ("ML10", "Ménaka", None),
    ];
    let mut c = chart(
        ChartKind::Bars,
        one_series(rows.iter().map(|(k, l, v)| point(k, l, *v)).collect()),
        locale,
    );
    c.title = locale
        .pick("Retours par région", "Returns by region")
        .to_string();
    c.description = locale
        .pick(
            "Migrants maliens aidés à rentrer depuis mai 2017, par région de retour.",
            "Malian migrants helped to return since May 2017, by region of return.",
        )
        .to_string();
    c
}

const MONTHS: [&str; 23] = [
    "2017-05", "2017-06", "2017-07", "2017-08", "2017-09", "2017-10", "2017-11", "2017-12",
    "2018-01", "2018-02", "2018-03", "2018-04", "2018-05", "2018-06", "2018-07", "2018-08",
    "2018-09", "2018-10", "2018-11", "2018-12", "2019-01", "2019-02", "2019-03",
];

fn returns_by_month(locale: Locale) -> Chart {
    let values = [
        310.0, 420.0, 380.0, 510.0, 640.0, 720.0, 560.0, 480.0, 530.0, 600.0, 790.0, 700.0, 650.0,
        0.0, 540.0, 460.0, 390.0, 430.0, 520.0, 610.0, 580.0, 680.0, 750.0,
    ];
    let points = MONTHS
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (m, v))| {
            point(
                m,
                &crate::present::i18n::format_month_short(m, locale),
                if i == 13 { None } else { Some(v) },
            )
        })
        .collect();
    let mut c = chart(ChartKind::Line, one_series(points), locale);
    c.title = locale
        .pick("Retours par mois", "Returns by month")
        .to_string();
    c
}

fn cumulative_beneficiaries(locale: Locale) -> Chart {
    let months = [
        "2019-03", "2019-04", "2019-05", "2019-06", "2019-07", "2019-08", "2019-09", "2019-10",
        "2019-11", "2019-12", "2020-01", "2020-02", "2020-03",
    ];
    let values = [
        120.0, 610.0, 1180.0, 1720.0, 2290.0, 2810.0, 3350.0, 3820.0, 4260.0, 4610.0, 4930.0,
        5190.0, 5412.0,
    ];
    let points = months
        .iter()
        .zip(values)
        .map(|(m, v)| {
            point(
                m,
                &crate::present::i18n::format_month_short(m, locale),
                Some(v),
            )
        })
        .collect();
    let mut c = chart(ChartKind::Line, one_series(points), locale);
    c.title = locale
        .pick(
            "Bénéficiaires uniques (cumul)",
            "Unique beneficiaries (cumulative)",
        )
        .to_string();
    c.target = Some(Target {
        value: 5000.0,
        label: locale
            .pick("Cible : 5 000", "Target: 5,000")
            .replace(' ', "\u{202f}"),
    });
    c
}

fn sex_age_pyramid(locale: Locale) -> Chart {
    let bands = ["0-14", "15-17", "18-24", "25-34", "35-44", "45-59", "60+"];
    let women = [
        Some(40.0),
        None,
        Some(120.0),
        Some(210.0),
        Some(90.0),
        Some(30.0),
        None,
    ];
    let men = [
        Some(60.0),
        Some(380.0),
        Some(2950.0),
        Some(4100.0),
        Some(1620.0),
        Some(410.0),
        Some(25.0),
    ];
    let series = |name: &str, values: &[Option<f64>]| Series {
        name: name.to_string(),
        points: bands
            .iter()
            .zip(values)
            .map(|(b, v)| point(b, b, *v))
            .collect(),
    };
    let mut c = chart(
        ChartKind::Pyramid,
        vec![
            series(locale.pick("Femmes", "Women"), &women),
            series(locale.pick("Hommes", "Men"), &men),
        ],
        locale,
    );
    c.title = locale
        .pick("Retours par sexe et âge", "Returns by sex and age")
        .to_string();
    c
}

fn sessions_by_activity_and_sex(locale: Locale) -> Chart {
    let activities = [
        ("group_session", "Séance de groupe", "Group session"),
        (
            "individual_counselling",
            "Accompagnement individuel",
            "Individual counselling",
        ),
        (
            "family_mediation",
            "Médiation familiale",
            "Family mediation",
        ),
        (
            "psychological_first_aid",
            "Premiers secours psychologiques",
            "Psychological first aid",
        ),
        ("theatre", "Théâtre", "Theatre"),
        ("sport", "Sport", "Sport"),
        (
            "referral_specialised",
            "Orientation spécialisée",
            "Specialised referral",
        ),
    ];
    let women = [
        Some(1840.0),
        Some(960.0),
        Some(410.0),
        Some(230.0),
        Some(150.0),
        None,
        None,
    ];
    let men = [
        Some(2630.0),
        Some(1420.0),
        Some(380.0),
        Some(520.0),
        Some(310.0),
        Some(270.0),
        Some(45.0),
    ];
    let series = |name: &str, values: &[Option<f64>]| Series {
        name: name.to_string(),
        points: activities
            .iter()
            .zip(values)
            .map(|((k, fr, en), v)| point(k, locale.pick(fr, en), *v))
            .collect(),
    };
    let mut c = chart(
        ChartKind::Bars,
        vec![
            series(locale.pick("Femmes", "Women"), &women),
            series(locale.pick("Hommes", "Men"), &men),
        ],
        locale,
    );
    c.title = locale
        .pick(
            "Participants par activité et sexe",
            "Participants by activity and sex",
        )
        .to_string();
    c.target = None;
    c
}

// --- behaviour ----------------------------------------------------------------------

fn parse(svg: &str) -> usvg::roxmltree::Document<'_> {
    match usvg::roxmltree::Document::parse(svg) {
        Ok(doc) => doc,
        Err(e) => panic!("invalid XML ({e}):\n{svg}"),
    }
}

fn all_examples() -> Vec<Chart> {
    Locale::ALL
        .iter()
        .flat_map(|l| {
            [
                returns_by_region(*l),
                returns_by_month(*l),
                cumulative_beneficiaries(*l),
                sex_age_pyramid(*l),
                sessions_by_activity_and_sex(*l),
            ]
        })
        .collect()
}

#[test]
fn every_chart_is_an_accessible_standalone_svg() {
    for c in all_examples() {
        let svg = render(&c).unwrap();
        assert!(svg.starts_with("<svg "), "{svg}");
        let doc = parse(&svg);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        assert_eq!(root.attribute("width"), Some("100%"));
        assert!(root.attribute("viewBox").is_some());
        let labelled_by = root.attribute("aria-labelledby").unwrap();
        let ids: Vec<&str> = labelled_by.split(' ').collect();
        let title = doc
            .descendants()
            .find(|n| n.attribute("id") == Some(ids[0]))
            .unwrap();
        let desc = doc
            .descendants()
            .find(|n| n.attribute("id") == Some(ids[1]))
            .unwrap();
        assert_eq!(
            (title.tag_name().name(), title.text()),
            ("title", Some(c.title.as_str()))
        );
        assert_eq!(
            (desc.tag_name().name(), desc.text()),
            ("desc", Some(c.description.as_str()))
        );
        for node in doc.descendants() {
            assert_ne!(node.tag_name().name(), "script");
            assert_ne!(node.tag_name().name(), "style");
            for attr in node.attributes() {
                assert!(
                    !attr.name().starts_with("on"),
                    "event handler {}",
                    attr.name()
                );
                assert!(
                    attr.name() != "href" && !attr.value().contains("url(http"),
                    "external reference"
                );
            }
        }
    }
}

#[test]
fn values_are_formatted_in_the_reader_s_language() {
    let fr = render(&returns_by_region(Locale::Fr)).unwrap();
    let en = render(&returns_by_region(Locale::En)).unwrap();
    assert!(fr.contains(">5\u{202f}200<") && fr.contains(">2\u{202f}880<"));
    assert!(en.contains(">5,200<") && en.contains(">2,880<"));
    assert!(!fr.contains("5,200") && !en.contains("5\u{202f}200"));

    let mut scores = chart(
        ChartKind::Bars,
        one_series(vec![point("a", "Avant", Some(61.25))]),
        Locale::Fr,
    );
    scores.decimals = 1;
    assert!(
        render(&scores).unwrap().contains(">61,3<") || render(&scores).unwrap().contains(">61,2<")
    );
}

#[test]
fn suppressed_cells_show_the_label_and_a_hatched_stub_never_a_number() {
    for c in [
        returns_by_region(Locale::Fr),
        returns_by_month(Locale::En),
        sex_age_pyramid(Locale::Fr),
    ] {
        let svg = render(&c).unwrap();
        assert!(svg.contains(">&lt;10<"), "{svg}");
        assert!(svg.contains("-hatch") || c.kind == ChartKind::Line);
        parse(&svg);
    }
    let region = render(&returns_by_region(Locale::En)).unwrap();
    assert_eq!(region.matches(">&lt;10<").count(), 2);
    assert_eq!(region.matches(r#"fill="url(#chart-"#).count(), 2);
}

#[test]
fn labels_are_escaped() {
    let c = chart(
        ChartKind::Bars,
        vec![Series {
            name: "A & B".to_string(),
            points: vec![
                point("x", r#"Nioro & "Diéma" <l'ouest>"#, Some(12.0)),
                point("y", "Ségou\u{1}", Some(3.0)),
            ],
        }],
        Locale::Fr,
    );
    let svg = render(&c).unwrap();
    let doc = parse(&svg);
    assert!(
        doc.descendants()
            .any(|n| n.text() == Some(r#"Nioro & "Diéma" <l'ouest>"#))
    );
    assert!(doc.descendants().any(|n| n.text() == Some("Ségou")));
}

#[test]
fn output_is_deterministic() {
    for c in all_examples() {
        assert_eq!(render(&c).unwrap(), render(&c).unwrap());
    }
}

#[test]
fn different_charts_get_different_ids() {
    let a = render(&returns_by_region(Locale::Fr)).unwrap();
    let b = render(&returns_by_region(Locale::En)).unwrap();
    let id = |svg: &str| {
        parse(svg)
            .root_element()
            .attribute("aria-labelledby")
            .unwrap()
            .to_string()
    };
    assert_ne!(id(&a), id(&b));
}

#[test]
fn a_given_id_is_used_and_made_safe() {
    let mut c = returns_by_region(Locale::Fr);
    c.id = "c-returns_by region\"<".to_string();
    let svg = render(&c).unwrap();
    let doc = parse(&svg);
    assert_eq!(
        doc.root_element().attribute("aria-labelledby"),
        Some("c-returns_byregion-title c-returns_byregion-desc")
    );
    assert!(svg.contains(r#"fill="url(#c-returns_byregion-hatch)""#));
    c.id = "42".to_string();
    assert!(render(&c).unwrap().contains(r#"id="c-42-title""#));
}

#[test]
fn nothing_to_draw_gives_a_readable_no_data_chart() {
    for kind in [ChartKind::Bars, ChartKind::Line, ChartKind::Pyramid] {
        for series in [
            vec![],
            vec![
                Series {
                    name: "a".into(),
                    points: vec![],
                },
                Series {
                    name: "b".into(),
                    points: vec![],
                },
            ],
            vec![
                Series {
                    name: "a".into(),
                    points: vec![point("x", "x", Some(f64::NAN))],
                },
                Series {
                    name: "b".into(),
                    points: vec![],
                },
            ],
        ] {
            let svg = render(&chart(kind, series, Locale::Fr)).unwrap();
            parse(&svg);
            assert!(svg.contains("Aucune donnée à afficher"), "{svg}");
        }
    }
}

#[test]
fn edge_cases_render_without_panicking() {
    let many: Vec<Point> = (0..40)
        .map(|i| {
            point(
                &format!("k{i}"),
                &format!("Catégorie {i}"),
                Some(i as f64 * 37.0),
            )
        })
        .collect();
    let huge: Vec<Point> = vec![
        point("a", "A", Some(1_234_567_890.0)),
        point("b", "B", Some(2_500_000.0)),
    ];
    let cases: Vec<Vec<Point>> = vec![
        vec![point("a", "A", None), point("b", "B", None)],
        vec![point("a", "A", Some(42.0))],
        vec![point("a", "A", Some(0.0)), point("b", "B", Some(0.0))],
        huge,
        many,
        vec![
            point("a", "A", Some(-120.0)),
            point("b", "B", Some(300.0)),
            point("c", "C", Some(f64::INFINITY)),
        ],
        vec![
            point("a", "", Some(1e-9)),
            point("a", "duplicate key", Some(5.0)),
        ],
        vec![
            point(
                "a",
                &"Très long libellé de catégorie ".repeat(12),
                Some(10.0),
            ),
            point("b", &"x".repeat(300), Some(4.0)),
        ],
    ];
    for kind in [ChartKind::Bars, ChartKind::Line, ChartKind::Pyramid] {
        for points in &cases {
            for locale in Locale::ALL {
                for width in [MIN_WIDTH, 390, 640, MAX_WIDTH] {
                    let series = if kind == ChartKind::Pyramid {
                        vec![
                            Series {
                                name: "Femmes".into(),
                                points: points.clone(),
                            },
                            Series {
                                name: "Hommes".into(),
                                points: points.iter().rev().cloned().collect(),
                            },
                        ]
                    } else {
                        one_series(points.clone())
                    };
                    let mut c = chart(kind, series, locale);
                    c.width = width;
                    c.target = Some(Target {
                        value: 5000.0,
                        label: "Cible".into(),
                    });
                    let svg = render(&c).unwrap();
                    let doc = parse(&svg);
                    let text: String = doc.descendants().filter_map(|n| n.text()).collect();
                    assert!(!text.contains("NaN") && !text.contains("inf"), "{svg}");
                }
            }
        }
    }
}

#[test]
fn many_series_and_a_nan_target_are_handled() {
    let series: Vec<Series> = (0..9)
        .map(|s| Series {
            name: format!("Série {s}"),
            points: MONTHS
                .iter()
                .map(|m| point(m, m, if s == 3 { None } else { Some(s as f64 * 10.0) }))
                .collect(),
        })
        .collect();
    for kind in [ChartKind::Bars, ChartKind::Line] {
        let mut c = chart(kind, series.clone(), Locale::En);
        c.target = Some(Target {
            value: f64::NAN,
            label: "nan".into(),
        });
        parse(&render(&c).unwrap());
    }
}

#[test]
fn bars_grow_with_the_number_of_rows() {
    let height = |n: usize| {
        let points = (0..n)
            .map(|i| point(&i.to_string(), "Kayes", Some(10.0 + i as f64)))
            .collect();
        let svg = render(&chart(ChartKind::Bars, one_series(points), Locale::Fr)).unwrap();
        let view_box = parse(&svg)
            .root_element()
            .attribute("viewBox")
            .unwrap()
            .to_string();
        view_box.split(' ').nth(3).unwrap().parse::<f64>().unwrap()
    };
    assert!((height(20) - height(10) - 280.0).abs() < 1.0);
}

#[test]
fn wrong_definitions_are_errors_that_say_what_to_do() {
    let mut c = returns_by_region(Locale::Fr);
    c.width = 0;
    let err = render(&c).unwrap_err();
    assert_eq!(err, ChartError::WidthOutOfRange { width: 0 });
    assert!(err.to_string().contains("240"));
    let mut c = returns_by_region(Locale::Fr);
    c.kind = ChartKind::Pyramid;
    assert_eq!(
        render(&c).unwrap_err(),
        ChartError::PyramidNeedsTwoSeries { found: 1 }
    );
}

/// Label space is reserved from `style::text_width`: it must agree with the layout of
/// the renderer that turns these SVGs into PNG and PDF exports.
#[test]
fn measured_text_widths_match_the_renderer() {
    let options = options();
    for (text, bold) in [
        ("Nioro du Sahel", false),
        ("Tombouctou", false),
        ("11\u{202f}505", false),
        ("Femmes", true),
    ] {
        let weight = if bold { r#" font-weight="bold""# } else { "" };
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40" font-family="{}" font-size="13"><text x="0" y="20"{weight}>{}</text></svg>"#,
            style::FONT_FAMILY,
            text
        );
        let tree = usvg::Tree::from_str(&svg, &options).unwrap();
        let measured = tree.root().abs_bounding_box().width() as f64;
        let ours = style::text_width(text, 13.0, bold);
        assert!(
            (measured - ours).abs() < 1.0,
            "{text}: renderer {measured}, ours {ours}"
        );
    }
}

fn options() -> usvg::Options<'static> {
    let mut options = usvg::Options::default();
    for font in [dejavu::sans::regular(), dejavu::sans::bold()] {
        options.fontdb_mut().load_font_data(font.to_vec());
    }
    options.font_family = "DejaVu Sans".to_string();
    options
}

fn to_png(svg: &str, path: &std::path::Path) {
    let tree = usvg::Tree::from_str(svg, &options()).unwrap();
    let size = tree.size().to_int_size();
    let scale = 2.0;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(
        (size.width() as f32 * scale) as u32,
        (size.height() as f32 * scale) as u32,
    )
    .unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.save_png(path).unwrap();
}

fn returns_by_month_and_sex(locale: Locale) -> Chart {
    let women = [
        12.0, 30.0, 25.0, 41.0, 38.0, 52.0, 47.0, 30.0, 26.0, 44.0, 61.0, 58.0, 49.0, 0.0, 35.0,
        28.0, 21.0, 33.0, 40.0, 52.0, 48.0, 57.0, 66.0,
    ];
    let men = [
        298.0, 390.0, 355.0, 469.0, 602.0, 668.0, 513.0, 450.0, 504.0, 556.0, 729.0, 642.0, 601.0,
        0.0, 505.0, 432.0, 369.0, 397.0, 480.0, 558.0, 532.0, 623.0, 684.0,
    ];
    let series = |name: &str, values: &[f64]| Series {
        name: name.to_string(),
        points: MONTHS
            .iter()
            .zip(values)
            .enumerate()
            .map(|(i, (m, v))| {
                let suppressed = i == 13 || (*v < 15.0);
                point(
                    m,
                    &crate::present::i18n::format_month_short(m, locale),
                    if suppressed { None } else { Some(*v) },
                )
            })
            .collect(),
    };
    let mut c = chart(
        ChartKind::Line,
        vec![
            series(locale.pick("Femmes", "Women"), &women),
            series(locale.pick("Hommes", "Men"), &men),
        ],
        locale,
    );
    c.title = locale
        .pick("Retours par mois et sexe", "Returns by month and sex")
        .to_string();
    c
}

fn forty_sites(locale: Locale) -> Chart {
    let points = (0..40)
        .map(|i| {
            let value = if i % 13 == 12 {
                None
            } else {
                Some(2_400_000.0 / (i as f64 + 1.0).powf(1.3))
            };
            point(
                &format!("site{i}"),
                &format!(
                    "Site {} — {}",
                    i + 1,
                    ["Kita", "Nioro du Sahel", "Diéma", "Bafoulabé"][i % 4]
                ),
                value,
            )
        })
        .collect();
    let mut c = chart(ChartKind::Bars, one_series(points), locale);
    c.target = Some(Target {
        value: 1_000_000.0,
        label: locale.pick("Objectif", "Goal").to_string(),
    });
    c.unit = locale
        .pick(
            "personnes atteintes (estimation)",
            "people reached (estimate)",
        )
        .to_string();
    c
}

fn long_labels(locale: Locale) -> Chart {
    let points = vec![
        point(
            "a",
            "Orientation vers des services spécialisés de santé mentale et de soutien psychosocial (SMSPS) & suivi",
            Some(1234.0),
        ),
        point("b", "Sensibilisation communautaire", Some(876.0)),
        point(
            "c",
            "Supercalifragilisticexpialidociouscampagneradiophoniquenationale",
            Some(45.0),
        ),
    ];
    chart(ChartKind::Bars, one_series(points), locale)
}

fn cumulative_with_notes(locale: Locale) -> Chart {
    let mark = |number: usize, keys: &[&str], title: &str| Mark {
        number,
        keys: keys.iter().map(|k| k.to_string()).collect(),
        title: title.to_string(),
    };
    Chart {
        marks: vec![
            mark(
                1,
                &["2019-07"],
                "1. 15 juillet 2019 – Le centre d'écoute <Kita> a fermé.",
            ),
            mark(
                2,
                &["2019-07"],
                "2. juillet 2019 – Campagne radio reportée.",
            ),
            mark(
                3,
                &["2019-10", "2019-11", "2019-12"],
                "3. T4 2019 – Nouvelle équipe.",
            ),
            mark(4, &["2031-01"], "4. janvier 2031 – hors du graphique."),
        ],
        ..cumulative_beneficiaries(locale)
    }
}

#[test]
fn note_marks_are_numbered_titled_discs_above_the_plot() {
    let plain = render(&cumulative_beneficiaries(Locale::Fr)).unwrap();
    let svg = render(&cumulative_with_notes(Locale::Fr)).unwrap();
    let doc = parse(&svg);
    let marks: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("note-mark"))
        .collect();
    // The mark on a period the chart does not draw is left out.
    assert_eq!(marks.len(), 3, "{svg}");
    let titles: Vec<&str> = marks
        .iter()
        .map(|g| {
            g.children()
                .find(|c| c.tag_name().name() == "title")
                .unwrap()
                .text()
                .unwrap()
        })
        .collect();
    assert_eq!(
        titles[0],
        "1. 15 juillet 2019 – Le centre d'écoute <Kita> a fermé."
    );
    let numbers: Vec<&str> = marks
        .iter()
        .map(|g| {
            g.children()
                .find(|c| c.tag_name().name() == "text")
                .unwrap()
                .text()
                .unwrap()
        })
        .collect();
    assert_eq!(numbers, vec!["1", "2", "3"]);
    let centre = |g: &usvg::roxmltree::Node<'_, '_>| {
        let c = g
            .children()
            .find(|c| c.tag_name().name() == "circle")
            .unwrap();
        let f = |a| c.attribute(a).unwrap().parse::<f64>().unwrap();
        (f("cx"), f("cy"))
    };
    // Two notes on one month: one above the other. The quarter's mark sits mid-quarter
    // (November), over a shaded span.
    let (one, two, three) = (centre(&marks[0]), centre(&marks[1]), centre(&marks[2]));
    assert_eq!(one.0, two.0);
    assert!(one.1 < two.1 || two.1 < one.1);
    assert!(three.0 > one.0);
    assert!(svg.contains(r##"fill="#eceff3""##));
    // Two rows of marks: the chart grows by two rows, the plot keeps its height.
    let height = |svg: &str| {
        let doc = parse(svg);
        let vb = doc.root_element().attribute("viewBox").unwrap().to_string();
        vb.split(' ').nth(3).unwrap().parse::<f64>().unwrap()
    };
    assert_eq!(height(&svg) - height(&plain), 44.0);
    // Bars and pyramids ignore marks.
    let bars = Chart {
        marks: cumulative_with_notes(Locale::Fr).marks,
        ..returns_by_region(Locale::Fr)
    };
    assert!(!render(&bars).unwrap().contains("note-mark"));
}

/// `cargo test -- --ignored writes_preview_pngs` writes the examples to the temporary
/// folder (charts-<name>-<lang>.png) to look at them.
#[test]
#[ignore]
fn writes_preview_pngs() {
    let dir = std::env::temp_dir();
    for locale in Locale::ALL {
        let mut cases = vec![
            ("region", returns_by_region(locale)),
            ("month", returns_by_month(locale)),
            ("cumulative", cumulative_beneficiaries(locale)),
            ("cumulative-notes", cumulative_with_notes(locale)),
            ("pyramid", sex_age_pyramid(locale)),
            ("grouped", sessions_by_activity_and_sex(locale)),
            ("month-sex", returns_by_month_and_sex(locale)),
            ("forty", forty_sites(locale)),
            ("long-labels", long_labels(locale)),
            ("empty", chart(ChartKind::Line, vec![], locale)),
            (
                "edge-single",
                chart(
                    ChartKind::Line,
                    one_series(vec![point("2019-03", "mars 19", Some(42.0))]),
                    locale,
                ),
            ),
            (
                "edge-all-suppressed",
                chart(
                    ChartKind::Line,
                    one_series(MONTHS.iter().map(|m| point(m, m, None)).collect()),
                    locale,
                ),
            ),
            (
                "edge-negative",
                chart(
                    ChartKind::Bars,
                    one_series(vec![
                        point("a", "Avant", Some(-12.5)),
                        point("b", "Après", Some(30.0)),
                        point("c", "Écart", None),
                    ]),
                    locale,
                ),
            ),
        ];
        for (name, c) in [
            ("phone-region", returns_by_region(locale)),
            ("phone-month", returns_by_month(locale)),
            ("phone-cumulative", cumulative_beneficiaries(locale)),
            ("phone-pyramid", sex_age_pyramid(locale)),
            ("phone-grouped", sessions_by_activity_and_sex(locale)),
        ] {
            cases.push((name, Chart { width: 390, ..c }));
        }
        for (name, c) in cases {
            let svg = render(&c).unwrap();
            std::fs::write(
                dir.join(format!("charts-{name}-{}.svg", locale.code())),
                &svg,
            )
            .unwrap();
            to_png(
                &svg,
                &dir.join(format!("charts-{name}-{}.png", locale.code())),
            );
        }
    }
}
