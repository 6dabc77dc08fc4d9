//! `fit.png`: predicted against measured pull time for each image. Left, the fitted and the
//! held-out prediction against the measured median on log axes, with the ±25% band; right,
//! every trial of each image beside its two predictions. Text uses the DejaVu Sans shipped
//! in `assets/`, so the chart renders on a machine with no system fonts.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::analysis::Analysis;
use crate::stats::median;

const FONT: &str = "sans-serif";
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/DejaVuSans.ttf");
        // a failure only means plotters keeps its own lookup
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, bytes);
    });
}

const FITTED: RGBColor = RGBColor(31, 119, 180);
const HELD: RGBColor = RGBColor(230, 120, 20);
const TRIAL: RGBColor = RGBColor(120, 120, 120);

/// Writes the chart to `path` (through a temporary file and a rename).
pub fn render(a: &Analysis, title: &str, path: &Path) -> Result<()> {
    register_font();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp.png");
    draw(a, title, &tmp).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn draw(a: &Analysis, title: &str, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (1400, 700)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(50);
    top.draw(&Text::new(title.to_string(), (20, 14), (FONT, 24).into_font().color(&BLACK)))?;
    let (left, right) = body.split_horizontally(640);

    // range over everything drawn, padded
    let mut lo = f64::INFINITY;
    let mut hi: f64 = 0.0;
    for (o, h) in a.obs.iter().zip(&a.held_out) {
        for v in o.pulls.iter().chain([h.fitted, h.held_out].iter()) {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
    }
    let (lo, hi) = (lo / 1.6, hi * 1.6);

    // left: predicted vs measured median
    let mut c = ChartBuilder::on(&left)
        .margin(20)
        .caption("predicted vs measured median pull (s)", (FONT, 20))
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d((lo..hi).log_scale(), (lo..hi).log_scale())?;
    c.configure_mesh()
        .x_labels(8)
        .y_labels(12)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .x_desc("measured median (s)")
        .y_desc("predicted (s)")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let diag: Vec<f64> = (0..=60).map(|i| lo * (hi / lo).powf(i as f64 / 60.0)).collect();
    c.draw_series(LineSeries::new(diag.iter().map(|&x| (x, x)), BLACK.stroke_width(1)))?
        .label("exact")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    for f in [1.25, 0.75] {
        c.draw_series(DashedLineSeries::new(diag.iter().map(|&x| (x, x * f)), 6, 4, TRIAL.stroke_width(1)))?;
    }
    c.draw_series(a.held_out.iter().map(|h| Circle::new((h.measured_median, h.held_out), 7, HELD.stroke_width(2))))?
        .label("held out (fit without this image)")
        .legend(|(x, y)| Circle::new((x + 10, y), 6, HELD.stroke_width(2)));
    c.draw_series(a.held_out.iter().map(|h| Circle::new((h.measured_median, h.fitted), 5, FITTED.filled())))?
        .label("fitted (all images)")
        .legend(|(x, y)| Circle::new((x + 10, y), 5, FITTED.filled()));
    // names beside the points, moved up or down (or to the left) where they would overlap
    let points: Vec<(String, (i32, i32))> =
        a.held_out.iter().map(|h| (h.name.clone(), c.backend_coord(&(h.measured_median, h.fitted)))).collect();
    for (name, (x, y), _) in place_labels(&points) {
        root.draw(&Text::new(name, (x, y), (FONT, 14).into_font().color(&BLACK)))?;
    }
    c.draw_series(std::iter::once(Text::new(
        "dashed: ±25%".to_string(),
        (lo * 1.15, hi / 1.5),
        (FONT, 14).into_font().color(&TRIAL),
    )))?;
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(TRIAL)
        .draw()?;

    // right: each image's trials and predictions, in order of measured time
    let mut order: Vec<usize> = (0..a.obs.len()).collect();
    order.sort_by(|&i, &j| median(&a.obs[i].pulls).total_cmp(&median(&a.obs[j].pulls)));
    let names: Vec<String> = order.iter().map(|&i| a.obs[i].name.clone()).collect();
    let n = order.len();
    let mut c = ChartBuilder::on(&right)
        .margin(20)
        .caption("each image: trials and predictions (s)", (FONT, 20))
        .x_label_area_size(60)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, (lo..hi).log_scale())?;
    c.configure_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].clone()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| tick(*v))
        .x_desc("image (random layers on top of the probe's own)")
        .y_desc("pull time (s)")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let trials: Vec<(f64, f64)> = order
        .iter()
        .enumerate()
        .flat_map(|(x, &i)| {
            let k = a.obs[i].pulls.len().max(1) as f64;
            a.obs[i].pulls.iter().enumerate().map(move |(j, &p)| (x as f64 - 0.15 + 0.3 * j as f64 / k, p))
        })
        .collect();
    c.draw_series(trials.iter().map(|&p| Circle::new(p, 3, TRIAL.filled())))?
        .label("measured trials")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, TRIAL.filled()));
    c.draw_series(order.iter().enumerate().map(|(x, &i)| {
        let f = a.held_out[i].fitted;
        PathElement::new(vec![(x as f64 - 0.3, f), (x as f64 + 0.3, f)], FITTED.stroke_width(3))
    }))?
    .label("fitted")
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], FITTED.stroke_width(3)));
    c.draw_series(
        order
            .iter()
            .enumerate()
            .map(|(x, &i)| Circle::new((x as f64, a.held_out[i].held_out), 7, HELD.stroke_width(2))),
    )?
    .label("held out")
    .legend(|(x, y)| Circle::new((x + 10, y), 6, HELD.stroke_width(2)));
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(TRIAL)
        .draw()?;
    root.present()?;
    Ok(())
}

/// A log-axis tick: at most three significant digits, no float noise (0.7000000000000001 → 0.7).
fn tick(v: f64) -> String {
    let s = if v >= 10.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{:.3}", v)
    };
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    s
}

/// A label: its text, top-left corner and size, in pixels.
type Label = (String, (i32, i32), (i32, i32));

/// Label positions (top-left corners, pixels) for points, none overlapping another label or
/// a point: each tries right of its point, then a line lower or higher, then the left side.
fn place_labels(points: &[(String, (i32, i32))]) -> Vec<Label> {
    const H: i32 = 15;
    let width = |s: &str| 8 * s.chars().count() as i32;
    let mut placed: Vec<Label> = Vec::new();
    let overlaps = |a: (i32, i32, i32, i32), b: (i32, i32, i32, i32)| a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
    for (name, (px, py)) in points {
        let w = width(name);
        let mut tries = vec![];
        for dy in [0, H, -H, 2 * H, -2 * H, 3 * H, -3 * H] {
            tries.push((px + 9, py - H / 2 + dy));
            tries.push((px - 9 - w, py - H / 2 + dy));
        }
        let free = |&(x, y): &(i32, i32)| {
            let r = (x, y, x + w, y + H);
            placed.iter().all(|(_, (lx, ly), (lw, lh))| !overlaps(r, (*lx, *ly, lx + lw, ly + lh)))
                && points.iter().all(|(_, (qx, qy))| !overlaps(r, (qx - 6, qy - 6, qx + 6, qy + 6)))
        };
        let at = tries.iter().copied().find(free).unwrap_or(tries[0]);
        placed.push((name.clone(), at, (w, H)));
    }
    placed
}
