//! A sparkline: a tiny inline line of a few values (an indicator's quarters), titled
//! for screen readers. A value not published leaves a gap and an open ring on the
//! baseline — never a point drawn at zero.

use super::style::{AXIS, MUTED, series_colour};
use super::svg::{escape, num};

const WIDTH: f64 = 96.0;
const HEIGHT: f64 = 24.0;
const PAD: f64 = 3.0;

/// An inline SVG of `values` (in order; `None` where no value is published), with
/// `title` as its accessible name (`<title>`, id `id`).
pub fn sparkline(id: &str, title: &str, values: &[Option<f64>]) -> String {
    let max = values.iter().flatten().fold(0.0_f64, |a, v| a.max(*v));
    let step = if values.len() > 1 {
        (WIDTH - 2.0 * PAD) / (values.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| PAD + step * i as f64;
    let y = |v: f64| {
        if max > 0.0 {
            HEIGHT - PAD - (v / max) * (HEIGHT - 2.0 * PAD)
        } else {
            HEIGHT - PAD
        }
    };
    let colour = series_colour(0, 1);
    let mut body = format!(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{AXIS}\" stroke-width=\"0.5\"/>",
        num(PAD),
        num(HEIGHT - PAD),
        num(WIDTH - PAD),
        num(HEIGHT - PAD)
    );
    // Runs of consecutive published values, each a polyline.
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, body: &mut String| {
        if run.len() > 1 {
            body.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
                run.join(" ")
            ));
        }
        run.clear();
    };
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => run.push(format!("{},{}", num(x(i)), num(y(*v)))),
            None => flush(&mut run, &mut body),
        }
    }
    flush(&mut run, &mut body);
    let last = values.len().saturating_sub(1);
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => body.push_str(&format!(
                "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{colour}\"/>",
                num(x(i)),
                num(y(*v)),
                if i == last { "2.5" } else { "1.5" }
            )),
            None => body.push_str(&format!(
                "<circle cx=\"{}\" cy=\"{}\" r=\"1.8\" fill=\"none\" stroke=\"{MUTED}\" stroke-width=\"0.8\"/>",
                num(x(i)),
                num(HEIGHT - PAD)
            )),
        }
    }
    let id = escape(id);
    format!(
        "<svg class=\"sparkline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}\"><title id=\"{id}\">{}</title>{body}</svg>",
        escape(title),
        w = num(WIDTH),
        h = num(HEIGHT),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_is_titled_and_leaves_unpublished_values_out() {
        let svg = sparkline(
            "t-1",
            "Séances : 10, <10, 30",
            &[Some(10.0), None, Some(30.0)],
        );
        assert!(
            svg.contains("<title id=\"t-1\">Séances : 10, &lt;10, 30</title>"),
            "{svg}"
        );
        assert!(svg.contains("aria-labelledby=\"t-1\""));
        // Two runs of one point each: no line is drawn across the gap.
        assert!(!svg.contains("<polyline"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 3);
        let joined = sparkline("t-2", "x", &[Some(1.0), Some(2.0)]);
        assert!(joined.contains("<polyline"));
        assert!(sparkline("t-3", "none", &[]).contains("<title"));
    }
}
