//! Rendering Pareto figures: the PNG decodes at the right size, the SVG
//! parses and carries the text (as glyph outlines, no font needed) and one
//! marker per point, every front point is labelled, and only .png and .svg
//! names are drawn.
//!
//! Set `NAS_PLOT_EXAMPLE_DIR` to keep the rendered files for a look.

use std::path::{Path, PathBuf};

use hybrid_nas::arch::compress_runs;
use hybrid_nas::pareto::{default_reference_k, Front, StudyFront};
use hybrid_nas::plot::{
    draw, draw_alphas, draw_with, AlphaSeries, PlotError, PlotOptions, PlotPoint, PlotSeries,
    PlotSpec, Shading, SIZE,
};
use hybrid_nas::search::darts::checkpoint::AlphaPoint;

/// Two studies, 15 trials: costs spanning two decades (so the cost axis goes
/// log), labels shaped like architecture short forms.
fn synthetic() -> (Vec<PlotSeries>, (f64, f64)) {
    let random = [
        ("d64 S16 S16", 2.1e5, 71.0),
        ("d64 A4 S16", 4.0e5, 58.5),
        ("d64 S16 A4 S16", 9.5e5, 49.0),
        ("d96 A4 A4", 1.6e6, 55.0),
        ("d128 S16 A4 S16 S16", 3.2e6, 41.5),
        ("d128 A4 A4 A4 A4", 6.0e6, 47.0),
        ("d128 S16 S16 S16 A4* S16 S16 S16 A4*", 1.3e7, 37.0),
        ("d192 A8 A8 A8", 2.4e7, 44.0),
    ];
    let evolution = [
        ("d64 S16 A4", 3.0e5, 62.0),
        ("d96 S16 A4 S16", 7.5e5, 50.5),
        ("d96 S16 S16 A4 S16", 1.2e6, 45.0),
        ("d128 S16 A4 S16 A4", 2.6e6, 39.0),
        ("d128 S16 S16 A4 S16 S16", 4.1e6, 40.5),
        ("d160 S16 A4 S16 A4 S16", 8.8e6, 35.2),
        ("d192 S32 A8 S32 A8 S32 A8", 2.0e7, 33.8),
    ];
    let all: Vec<(f64, f64)> = random
        .iter()
        .chain(&evolution)
        .map(|&(_, c, p)| (c, p))
        .collect();
    // One reference for both studies, so their hypervolumes compare.
    let reference = hybrid_nas::pareto::default_reference(&all);
    let series = [("random", &random[..]), ("evolution", &evolution[..])]
        .into_iter()
        .map(|(study, trials)| {
            let rows: Vec<(usize, f64, f64)> = trials
                .iter()
                .enumerate()
                .map(|(i, &(_, c, p))| (i, p, c))
                .collect();
            let front = StudyFront::compute(&rows, Some(reference));
            PlotSeries {
                study: study.to_string(),
                hypervolume: front.hypervolume,
                points: trials
                    .iter()
                    .enumerate()
                    .map(|(i, &(label, cost, ppl))| PlotPoint {
                        cost,
                        ppl,
                        label: label.to_string(),
                        on_front: front.contains(&i),
                        y_sd: None,
                    })
                    .collect(),
            }
        })
        .collect();
    (series, reference)
}

fn spec(reference: Option<(f64, f64)>) -> PlotSpec {
    PlotSpec {
        title: "Hybrid attention/SSM search: cost vs. quality".to_string(),
        x_label: "FLOPs per token (forward)".to_string(),
        y_label: "validation perplexity".to_string(),
        log_x: None,
        reference,
    }
}

fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("NAS_PLOT_EXAMPLE_DIR") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            (None, PathBuf::from(dir))
        }
        None => {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().to_path_buf();
            (Some(tmp), path)
        }
    }
}

/// One text of an SVG: a `<path>` of glyph outlines with the text in its
/// `aria-label`, and the box its ink covers.
struct SvgText {
    text: String,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

/// Every text of an SVG, in document order.
fn svg_texts(doc: &roxmltree::Document) -> Vec<SvgText> {
    doc.descendants()
        .filter(|n| n.has_tag_name("path"))
        .filter_map(|n| {
            let text = n.attribute("aria-label")?.to_string();
            // Path data is commands and x y pairs; the pairs in order are
            // every point the outline passes or is pulled towards.
            let numbers: Vec<f64> = n
                .attribute("d")?
                .split(|c: char| c.is_ascii_alphabetic() || c == ' ')
                .filter(|t| !t.is_empty())
                .map(|t| t.parse().unwrap())
                .collect();
            let (xs, ys): (Vec<f64>, Vec<f64>) = numbers.chunks(2).map(|p| (p[0], p[1])).unzip();
            let min = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
            let max = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
            Some(SvgText {
                text,
                x0: min(&xs),
                y0: min(&ys),
                x1: max(&xs),
                y1: max(&ys),
            })
        })
        .collect()
}

fn text_strings(doc: &roxmltree::Document) -> Vec<String> {
    svg_texts(doc).into_iter().map(|t| t.text).collect()
}

/// What no SVG of ours has: text left to the viewer's fonts.
fn assert_no_font_needed(svg: &str) {
    assert!(!svg.contains("<text"), "a <text> element");
    assert!(!svg.contains("font-family"), "a font-family");
    assert!(!svg.contains("font-size"), "a font-size");
}

fn png_size(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    // Not blank: a white figure with some dark ink (text, axes).
    let dark = buf[..info.buffer_size()]
        .chunks(3)
        .filter(|px| px.iter().all(|&c| c < 80))
        .count();
    assert!(
        dark > 5_000,
        "only {dark} dark pixels: text or axes missing?"
    );
    (info.width, info.height)
}

#[test]
fn png_renders_and_decodes() {
    let (series, reference) = synthetic();
    let (_keep, dir) = out_dir();
    for (name, r) in [("pareto.png", None), ("pareto_ref.png", Some(reference))] {
        let path = dir.join(name);
        draw(&path, &series, &spec(r)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(png_size(&path), SIZE);
    }
    // The extension in any case.
    let upper = dir.join("pareto.PNG");
    draw(&upper, &series, &spec(None)).unwrap();
    assert_eq!(png_size(&upper), SIZE);
}

#[test]
fn only_png_and_svg_names_are_drawn() {
    let (series, _) = synthetic();
    let (_keep, dir) = out_dir();
    for name in [
        "pareto.pdf",
        "pareto.figure",
        "pareto",
        "-",
        "pareto.svg.gz",
    ] {
        let path = dir.join(name);
        let err = draw(&path, &series, &spec(None)).unwrap_err();
        assert!(matches!(err, PlotError::Format(_)), "{name}: {err}");
        assert!(err.is_usage());
        let message = err.to_string();
        assert!(
            message.contains(".png") && message.contains(".svg"),
            "{message}"
        );
        assert!(!path.exists(), "{name} was written");
        let alphas = draw_alphas(&path, "t", &["S16".to_string()], &alpha_series());
        assert!(matches!(alphas, Err(PlotError::Format(_))), "{name}");
        assert!(!path.exists(), "{name} was written");
    }
    // Refused before anything else is looked at: even with nothing to plot.
    let err = draw(&dir.join("empty.pdf"), &[], &spec(None)).unwrap_err();
    assert!(matches!(err, PlotError::Format(_)), "{err}");
}

/// One search over two slots and two candidates.
fn alpha_series() -> Vec<AlphaSeries> {
    vec![AlphaSeries {
        label: "d64x2, λ = 0.01".to_string(),
        candidates: vec!["S16".to_string(), "A4".to_string()],
        points: (0..5)
            .map(|k| {
                let p = 0.5 + 0.1 * k as f64;
                AlphaPoint {
                    step: 10 * k,
                    probs: vec![vec![p, 1.0 - p], vec![1.0 - p, p]],
                    train_loss: None,
                    arch_loss: None,
                }
            })
            .collect(),
    }]
}

#[test]
fn alpha_svg_text_needs_no_font() {
    let (_keep, dir) = out_dir();
    let path = dir.join("alphas.svg");
    let candidates = ["S16".to_string(), "A4".to_string()];
    draw_alphas(
        &path,
        "tiny: softmax(α) per slot",
        &candidates,
        &alpha_series(),
    )
    .unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert_no_font_needed(&svg);
    let doc = roxmltree::Document::parse(&svg).expect("SVG is well-formed XML");
    let texts = text_strings(&doc);
    for wanted in [
        "tiny: softmax(α) per slot",
        "S16",
        "A4",
        "d64x2, λ = 0.01, slot 0",
        "d64x2, λ = 0.01, slot 1",
    ] {
        assert!(
            texts.iter().any(|t| t == wanted),
            "missing {wanted:?} in {texts:?}"
        );
    }
    draw_alphas(&dir.join("alphas.png"), "t", &candidates, &alpha_series()).unwrap();
}

#[test]
fn svg_has_text_and_one_marker_per_point() {
    let (series, reference) = synthetic();
    let (_keep, dir) = out_dir();
    for r in [None, Some(reference)] {
        let path = dir.join(if r.is_some() {
            "pareto_ref.svg"
        } else {
            "pareto.svg"
        });
        draw(&path, &series, &spec(r)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = roxmltree::Document::parse(&text).expect("SVG is well-formed XML");
        assert_eq!(doc.root_element().tag_name().name(), "svg");

        assert_no_font_needed(&text);
        let texts = text_strings(&doc);
        for wanted in [
            "FLOPs per token (forward)",
            "validation perplexity",
            "Hybrid attention/SSM search: cost vs. quality",
        ] {
            assert!(texts.iter().any(|t| t == wanted), "missing text {wanted:?}");
        }
        for s in &series {
            let entry = format!("{} (HV ", s.study);
            assert!(
                texts
                    .iter()
                    .any(|t| t.starts_with(&entry) && t.ends_with(')')),
                "legend entry for {} missing in {texts:?}",
                s.study
            );
        }
        if r.is_some() {
            assert!(texts.iter().any(|t| t.starts_with("HV reference point")));
        }
        // Log axis: round SI tick labels, no raw floats.
        assert!(texts.iter().any(|t| t == "1M"), "log ticks: {texts:?}");
        assert!(!texts.iter().any(|t| t.contains("000000")));

        let circles: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .collect();
        let points: usize = series.iter().map(|s| s.points.len()).sum();
        assert_eq!(points, 15);
        assert_eq!(circles.len(), points, "one circle per point, nothing else");
        let filled = circles
            .iter()
            .filter(|c| c.attribute("fill") != Some("none"))
            .count();
        let on_front = series
            .iter()
            .flat_map(|s| &s.points)
            .filter(|p| p.on_front)
            .count();
        assert_eq!(filled, on_front, "front points are the filled markers");

        // Every front point labelled, beside it or in the key.
        let labels = texts
            .iter()
            .filter(|t| t.starts_with('d') || t.contains("  d"))
            .count();
        assert_eq!(labels, on_front, "labels: {texts:?}");
    }
}

/// `n` front points close together (one dominated point far off makes the
/// axes wide), each with a long label that does not compress, so most cannot
/// be placed beside their points.
fn crowded(n: usize) -> Vec<PlotSeries> {
    let mut points: Vec<PlotPoint> = (0..n)
        .map(|i| {
            let layers: Vec<String> = (0..12)
                .map(|k| {
                    if (k + i) % 2 == 0 {
                        format!("S{}", 8 + k)
                    } else {
                        format!("A{}", 1 + k % 4)
                    }
                })
                .collect();
            PlotPoint {
                // On a line of falling perplexity: every point on the front.
                cost: 1.0e6 + 2.0e4 * i as f64,
                ppl: 40.0 - 0.2 * i as f64,
                label: format!("d{} {}", 64 + 8 * i, layers.join(" ")),
                on_front: true,
                y_sd: None,
            }
        })
        .collect();
    points.push(PlotPoint {
        cost: 1.0e7,
        ppl: 90.0,
        label: "d512 A8".into(),
        on_front: false,
        y_sd: None,
    });
    vec![PlotSeries {
        study: "crowded".into(),
        points,
        hypervolume: 1.0,
    }]
}

#[test]
fn crowded_long_labels_are_never_dropped_nor_cut() {
    let series = crowded(24);
    let (_keep, dir) = out_dir();
    let path = dir.join("crowded.svg");
    draw(&path, &series, &spec(None)).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("SVG is well-formed XML");
    let texts = text_strings(&doc);
    assert!(!texts.iter().any(|t| t.contains('…')), "{texts:?}");
    // Labels beside points, and key lines "N  label".
    let key: Vec<(usize, &str)> = texts
        .iter()
        .filter_map(|t| {
            let (n, label) = t.split_once("  ")?;
            Some((n.parse().ok()?, label))
        })
        .collect();
    assert!(!key.is_empty(), "nothing went to the key: {texts:?}");
    for p in series[0].points.iter().filter(|p| p.on_front) {
        let label = compress_runs(&p.label);
        let beside = texts.iter().filter(|t| **t == label).count();
        let keyed = key.iter().filter(|(_, l)| *l == label).count();
        assert_eq!(
            beside + keyed,
            1,
            "{label}: {beside} beside, {keyed} in the key"
        );
    }
    // Each key number is beside a point, and they count from 1.
    let mut numbers: Vec<usize> = key.iter().map(|(n, _)| *n).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=key.len()).collect::<Vec<_>>());
    for n in &numbers {
        assert!(
            texts.iter().any(|t| *t == n.to_string()),
            "number {n} not drawn"
        );
    }
    // Still one circle per point, and the figure its usual size.
    assert_eq!(svg.matches("<circle").count(), 25);
    draw(&dir.join("crowded.png"), &series, &spec(None)).unwrap();
    assert_eq!(png_size(&dir.join("crowded.png")), SIZE);
}

#[test]
fn non_finite_points_are_skipped_and_empty_input_is_an_error() {
    let (mut series, _) = synthetic();
    series[0].points.push(PlotPoint {
        cost: f64::NAN,
        ppl: 30.0,
        label: "d64 broken".into(),
        on_front: false,
        y_sd: None,
    });
    let (_keep, dir) = out_dir();
    let path = dir.join("nan.svg");
    draw(&path, &series, &spec(None)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("<circle").count(), 15);

    let empty = vec![PlotSeries {
        study: "none".into(),
        points: vec![],
        hypervolume: 0.0,
    }];
    assert!(matches!(
        draw(&dir.join("empty.png"), &empty, &spec(None)),
        Err(PlotError::NoData)
    ));
    let mut forced = spec(None);
    forced.log_x = Some(true);
    let zero = vec![PlotSeries {
        study: "zero".into(),
        points: vec![PlotPoint {
            cost: 0.0,
            ppl: 10.0,
            label: "x".into(),
            on_front: true,
            y_sd: None,
        }],
        hypervolume: 0.0,
    }];
    assert!(matches!(
        draw(&dir.join("zero.png"), &zero, &forced),
        Err(PlotError::NonPositiveLogCost(_))
    ));
}

/// The cost axis's tick labels in the SVG, left to right, with their x
/// positions. They are the one row of numeric texts sharing a `y` (each
/// perplexity tick has its own `y`).
fn cost_ticks(svg: &str) -> Vec<(String, f64)> {
    let doc = roxmltree::Document::parse(svg).expect("SVG is well-formed XML");
    let numeric = |t: &str| {
        let digits = t.trim_end_matches(['k', 'M', 'G']);
        !digits.is_empty() && digits.parse::<f64>().is_ok()
    };
    // Centred on its tick (the middle of its ink), on a shared baseline
    // (the bottom of its ink, to the pixel: no digit nor SI letter descends).
    let texts: Vec<(String, f64, f64)> = svg_texts(&doc)
        .into_iter()
        .filter(|t| numeric(&t.text))
        .map(|t| (t.text, (t.x0 + t.x1) / 2.0, t.y1.round()))
        .collect();
    let row_y = texts
        .iter()
        .map(|&(_, _, y)| y)
        .max_by_key(|&y| texts.iter().filter(|t| t.2 == y).count())
        .expect("some numeric tick labels");
    let mut row: Vec<(String, f64)> = texts
        .into_iter()
        .filter(|t| t.2 == row_y)
        .map(|(t, x, _)| (t, x))
        .collect();
    row.sort_by(|a, b| a.1.total_cmp(&b.1));
    row
}

fn labels(ticks: &[(String, f64)]) -> Vec<&str> {
    ticks.iter().map(|(t, _)| t.as_str()).collect()
}

/// Pixels between the ticks labelled `a` and `b`.
fn gap(ticks: &[(String, f64)], a: &str, b: &str) -> f64 {
    let at = |l: &str| ticks.iter().find(|(t, _)| t == l).expect(l).1;
    at(b) - at(a)
}

#[test]
fn cost_axis_is_log_over_two_decades_and_linear_when_asked() {
    let (series, _) = synthetic();
    let (_keep, dir) = out_dir();

    // Costs 210k..24M: two decades, so the axis goes log by itself, labelled
    // at 1 and 3 per decade, and each decade is equally wide.
    let path = dir.join("axis_log.svg");
    draw(&path, &series, &spec(None)).unwrap();
    let log = cost_ticks(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(labels(&log), ["300k", "1M", "3M", "10M", "30M"]);
    let decade = gap(&log, "1M", "10M");
    assert!(decade > 100.0, "decade only {decade} px wide");
    // (Within 2 px: a label's ink, whose middle is measured here, can sit a
    // pixel off the middle of its advance, which is what is centred.)
    assert!((gap(&log, "300k", "3M") - decade).abs() <= 2.0, "{log:?}");
    assert!((gap(&log, "3M", "30M") - decade).abs() <= 2.0, "{log:?}");
    // 1M to 3M is log10(3) of a decade, not a fifth of it as on a linear axis.
    let third = gap(&log, "1M", "3M");
    assert!((third - decade * 3f64.log10()).abs() <= 2.0, "{log:?}");

    // Forced linear over the same data: round, evenly spaced values.
    let mut linear_spec = spec(None);
    linear_spec.log_x = Some(false);
    let path = dir.join("axis_linear.svg");
    draw(&path, &series, &linear_spec).unwrap();
    let linear = cost_ticks(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(labels(&linear), ["0", "5M", "10M", "15M", "20M", "25M"]);
    let step = gap(&linear, "0", "5M");
    for w in linear.windows(2) {
        let d = w[1].1 - w[0].1;
        assert!((d - step).abs() <= 2.0, "uneven linear ticks: {linear:?}");
    }
}

#[test]
fn single_point() {
    let (_keep, dir) = out_dir();
    let one = vec![PlotSeries {
        study: "single".into(),
        points: vec![PlotPoint {
            cost: 1.5e6,
            ppl: 42.0,
            label: "d64 S16".into(),
            on_front: true,
            y_sd: None,
        }],
        hypervolume: 0.0,
    }];
    let path = dir.join("single.svg");
    draw(&path, &one, &spec(None)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    roxmltree::Document::parse(&text).unwrap();
    assert_eq!(text.matches("<circle").count(), 1);
    draw(&dir.join("single.png"), &one, &spec(None)).unwrap();
}

/// A shade per synthetic point, spread evenly over [0, 1] within each series
/// (so each series has a point at 0 and one at 1).
fn shades(series: &[PlotSeries]) -> Shading {
    Shading {
        title: "recall accuracy".to_string(),
        values: series
            .iter()
            .map(|s| {
                let n = s.points.len();
                (0..n).map(|j| Some(j as f64 / (n - 1) as f64)).collect()
            })
            .collect(),
    }
}

/// The SVG of `series` drawn with `options`, also drawn as PNG to check that
/// it renders there.
fn render_both(
    name: &str,
    series: &[PlotSeries],
    spec: &PlotSpec,
    options: &PlotOptions,
) -> String {
    let (_keep, dir) = out_dir();
    let png = dir.join(format!("{name}.png"));
    draw_with(&png, series, spec, options).unwrap();
    assert_eq!(png_size(&png), SIZE);
    let svg = dir.join(format!("{name}.svg"));
    draw_with(&svg, series, spec, options).unwrap();
    std::fs::read_to_string(&svg).unwrap()
}

/// A polygon's or polyline's `points` attribute as pixel coordinates.
fn vertices(node: &roxmltree::Node) -> Vec<(f64, f64)> {
    node.attribute("points")
        .unwrap_or_default()
        .split_whitespace()
        .map(|xy| {
            let (x, y) = xy.split_once(',').expect("x,y");
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

#[test]
fn shaded_markers_and_colour_bar() {
    let (series, reference) = synthetic();
    let options = PlotOptions {
        shading: Some(shades(&series)),
        ..PlotOptions::default()
    };
    let text = render_both("shaded", &series, &spec(Some(reference)), &options);
    let doc = roxmltree::Document::parse(&text).expect("SVG is well-formed XML");

    let circles: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .collect();
    assert_eq!(circles.len(), 15, "one circle per point, nothing else");
    // Every marker filled from the scale, dominated ones too (unshaded, those
    // are hollow), and the scale's two ends are used.
    let fills: Vec<&str> = circles.iter().filter_map(|c| c.attribute("fill")).collect();
    assert_eq!(fills.len(), 15);
    assert!(!fills.contains(&"none"), "{fills:?}");
    assert!(
        fills.contains(&"#440154") && fills.contains(&"#FDE725"),
        "{fills:?}"
    );
    assert!(!fills.contains(&"#0072B2"), "a marker in the study colour");

    // Front points ringed: a many-sided disc in a study colour behind each.
    let on_front = series
        .iter()
        .flat_map(|s| &s.points)
        .filter(|p| p.on_front)
        .count();
    let rings = doc
        .descendants()
        .filter(|n| n.has_tag_name("polygon") && vertices(n).len() == 24)
        .filter(|n| n.attribute("fill") != Some("#FFFFFF"))
        .count();
    assert_eq!(rings, on_front);

    // The colour bar: its title turned upright, its ticks, its bands.
    let all = svg_texts(&doc);
    let title = all
        .iter()
        .find(|t| t.text == "recall accuracy")
        .expect("colour bar title");
    assert!(
        title.y1 - title.y0 > 3.0 * (title.x1 - title.x0),
        "not upright: {:?}",
        (title.x0, title.y0, title.x1, title.y1)
    );
    let texts = text_strings(&doc);
    for tick in ["0.0", "0.4", "1.0"] {
        assert!(texts.iter().any(|t| t == tick), "colour bar tick {tick}");
    }
    assert!(texts.iter().any(|t| t.starts_with("ringed: Pareto front")));
    let mut band_fills: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter_map(|n| n.attribute("fill"))
        .collect();
    band_fills.sort_unstable();
    band_fills.dedup();
    assert!(
        band_fills.len() >= 50,
        "only {} rect colours",
        band_fills.len()
    );
    // Right of the plot, which has made room for it.
    assert!(title.x0 > f64::from(SIZE.0) - 80.0 && title.x1 < f64::from(SIZE.0));
}

#[test]
fn shading_with_missing_values_still_draws_one_circle_per_point() {
    let (series, _) = synthetic();
    let mut shading = shades(&series);
    shading.values[0][0] = None;
    shading.values[1][2] = Some(f64::NAN);
    shading.values[1].truncate(4);
    let options = PlotOptions {
        shading: Some(shading),
        ..PlotOptions::default()
    };
    let text = render_both("shaded_missing", &series, &spec(None), &options);
    assert_eq!(text.matches("<circle").count(), 15);
    // Grey for each of the 1 + 1 + 3 points without a usable shade.
    assert_eq!(text.matches(r##"fill="#AAAAAA""##).count(), 5);
}

/// Recall accuracy against FLOPs: one study, 9 trials, 5 on the front for
/// "lower cost, higher recall".
fn recall_study() -> (Vec<PlotSeries>, (f64, f64)) {
    let trials = [
        ("d64 S16 S16", 2.0e5, 0.12),
        ("d64 A4 S16", 4.0e5, 0.41),
        ("d64 S16 S16 S16", 6.0e5, 0.30), // dominated by the one before
        ("d96 A4 A4", 1.1e6, 0.58),
        ("d96 S16 S16 S16 S16", 1.5e6, 0.35), // dominated
        ("d128 A4 S16 A4", 2.9e6, 0.77),
        ("d128 S16 S16 S16 A4", 3.5e6, 0.52), // dominated
        ("d192 A8 A8 A8", 7.0e6, 0.93),
        ("d192 S32 S32 S32", 8.0e6, 0.60), // dominated
    ];
    // Recall is maximised: minimise [cost, -recall].
    let rows: Vec<(usize, Vec<f64>)> = trials
        .iter()
        .enumerate()
        .map(|(i, &(_, cost, recall))| (i, vec![cost, -recall]))
        .collect();
    let reference = default_reference_k(&rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(), 2);
    let front = Front::compute(&rows, Some(reference.clone()));
    assert_eq!(front.ids(), vec![0, 1, 3, 5, 7]);
    let series = vec![PlotSeries {
        study: "evolution".to_string(),
        hypervolume: front.hypervolume,
        points: trials
            .iter()
            .enumerate()
            .map(|(i, &(label, cost, recall))| PlotPoint {
                cost,
                ppl: recall,
                label: label.to_string(),
                on_front: front.contains(&i),
                y_sd: None,
            })
            .collect(),
    }];
    // Back to (cost, recall): below and right of every trial.
    (series, (reference[0], -reference[1]))
}

#[test]
fn maximised_y_front_rises_with_cost() {
    let (series, reference) = recall_study();
    assert!(reference.1 < 0.12 && reference.0 > 8.0e6);
    let mut recall_spec = spec(Some(reference));
    recall_spec.y_label = "recall accuracy".to_string();
    let options = PlotOptions {
        y_maximised: true,
        ..PlotOptions::default()
    };
    let text = render_both("recall", &series, &recall_spec, &options);
    let doc = roxmltree::Document::parse(&text).expect("SVG is well-formed XML");

    // The step line: the one 2-px polyline at the series' line opacity.
    let lines: Vec<_> = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("polyline")
                && n.attribute("stroke-width") == Some("2")
                && n.attribute("opacity") == Some("0.9")
        })
        .collect();
    assert_eq!(lines.len(), 1);
    let stairs = vertices(&lines[0]);
    // Five front points, four steps between them, closed at both ends.
    assert_eq!(stairs.len(), 5 + 4 + 2, "{stairs:?}");
    // In pixels y grows downwards: cost never falls and recall never falls.
    for w in stairs.windows(2) {
        assert!(
            w[1].0 >= w[0].0 && w[1].1 <= w[0].1,
            "not monotone: {stairs:?}"
        );
        assert!(w[0].0 == w[1].0 || w[0].1 == w[1].1, "diagonal: {stairs:?}");
    }
    assert!(stairs.last().unwrap().1 < stairs[0].1, "flat: {stairs:?}");
    // Every front marker (filled circle) is a corner of the line.
    let front: Vec<(f64, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("fill") != Some("none"))
        .map(|n| {
            let at = |a| n.attribute(a).unwrap().parse::<f64>().unwrap();
            (at("cx"), at("cy"))
        })
        .collect();
    assert_eq!(front.len(), 5);
    for p in &front {
        assert!(stairs.contains(p), "front point {p:?} not on {stairs:?}");
    }
    // Closed against the reference below right: the line starts at the
    // lowest y (largest pixel y) and ends at the largest cost, and the
    // dominated area under it is shaded.
    let lowest = stairs.iter().map(|v| v.1).fold(f64::MIN, f64::max);
    let rightmost = stairs.iter().map(|v| v.0).fold(f64::MIN, f64::max);
    assert_eq!(stairs[0].1, lowest);
    assert_eq!(stairs.last().unwrap().0, rightmost);
    let area = doc
        .descendants()
        .find(|n| n.has_tag_name("polygon") && n.attribute("opacity") == Some("0.08"))
        .expect("shaded dominated area");
    let corner = *vertices(&area).last().unwrap();
    assert_eq!(corner, (rightmost, lowest));

    // Shaded as well: still one circle per point.
    let both = PlotOptions {
        y_maximised: true,
        shading: Some(shades(&series)),
    };
    let text = render_both("recall_shaded", &series, &recall_spec, &both);
    assert_eq!(text.matches("<circle").count(), 9);
}

/// The PNG's pixels as RGB rows, with its width.
fn png_pixels(path: &Path) -> (Vec<u8>, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (buf, info.width as usize)
}

#[test]
fn png_and_svg_put_text_in_the_same_place() {
    let (series, _) = synthetic();
    let (_keep, dir) = out_dir();
    let (svg_path, png_path) = (dir.join("same.svg"), dir.join("same.png"));
    draw(&svg_path, &series, &spec(None)).unwrap();
    draw(&png_path, &series, &spec(None)).unwrap();
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts = svg_texts(&doc);
    let (rgb, width) = png_pixels(&png_path);
    let dark = |x: usize, y: usize| rgb[3 * (y * width + x)..][..3].iter().all(|&c| c < 128);
    // The title, the x axis title and the y axis title (turned upright).
    for wanted in [
        "Hybrid attention/SSM search: cost vs. quality",
        "FLOPs per token (forward)",
        "validation perplexity",
    ] {
        let t = texts.iter().find(|t| t.text == wanted).expect(wanted);
        // The PNG's ink near the SVG's outline covers the same box.
        let near = 4.0;
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for y in (t.y0 - near) as usize..=(t.y1 + near) as usize {
            for x in (t.x0 - near) as usize..=(t.x1 + near) as usize {
                if dark(x, y) {
                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                }
            }
        }
        let png_box = [x0 as f64, y0 as f64, x1 as f64 + 1.0, y1 as f64 + 1.0];
        let svg_box = [t.x0, t.y0, t.x1, t.y1];
        for (p, s) in png_box.iter().zip(&svg_box) {
            assert!(
                (p - s).abs() <= 2.0,
                "{wanted}: PNG {png_box:?}, SVG {svg_box:?}"
            );
        }
    }
}

#[test]
fn a_mean_with_an_sd_gets_an_error_bar_and_nothing_else_changes() {
    let (series, reference) = synthetic();
    let (_keep, dir) = out_dir();
    let plain = dir.join("bars-none.svg");
    draw(&plain, &series, &spec(Some(reference))).unwrap();
    // The sd of a point inside the y range: the axes stay as they were.
    let mut with_bar = series.clone();
    with_bar[0].points[2].y_sd = Some(2.0);
    let barred = dir.join("bars-one.svg");
    draw(&barred, &with_bar, &spec(Some(reference))).unwrap();
    let count = |path: &Path, tag: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        doc.descendants().filter(|n| n.has_tag_name(tag)).count()
    };
    // A bar and its two caps: three lines; still one circle per point.
    assert_eq!(
        count(&barred, "polyline"),
        count(&plain, "polyline") + 3,
        "one bar with two caps"
    );
    assert_eq!(count(&barred, "circle"), count(&plain, "circle"));
}
