//! PNG charts for a capacity-planning review, rendered into memory (bytes; the caller
//! writes them with the other reports). Text uses DejaVu Sans embedded in the binary, so
//! charts render the same on a machine with no fonts installed.

use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

/// Chart size in pixels: large enough to read in a review, small enough to embed.
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 700;

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static INIT: Once = Once::new();

fn init_font() {
    INIT.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold, FontStyle::Italic, FontStyle::Oblique] {
            // the font is compiled in and valid; a failure would show as missing text
            let _ = register_font(FONT, style, FONT_BYTES);
        }
    });
}

/// Colours, one per series, readable on white and distinct in grey scale.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
];

/// The colour of a chart's reference lines (a percentile of all requests).
pub const INK: RGBColor = RGBColor(0, 0, 0);
/// The colour of a goal's line (used for nothing else, so a reader — or a test — finds it).
pub const GOAL: RGBColor = PALETTE[4];

/// The time axis of a chart over time (x in simulated hours): its description and tick labels
/// (hours, or clock time when the scenario says when it starts).
pub struct TimeAxis<'a> {
    pub desc: String,
    pub tick: &'a dyn Fn(f64) -> String,
}

impl TimeAxis<'_> {
    /// Simulated hours.
    pub fn hours() -> TimeAxis<'static> {
        TimeAxis { desc: "simulated time (hours)".into(), tick: &|h| tick(h) }
    }
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("chart rendering failed: {e:?}")
}

/// Render with `draw` on a white canvas and encode as PNG.
fn render(draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>) -> Result<Vec<u8>> {
    init_font();
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&rgb)?;
    }
    Ok(out)
}

/// Draw the series legend at `$pos` (a `SeriesLabelPosition` variant), framed.
macro_rules! legend {
    ($chart:ident, $pos:ident) => {
        $chart
            .configure_series_labels()
            .position(SeriesLabelPosition::$pos)
            .label_font(label_font())
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)?
    };
}

/// The frame every chart shares: title, margins, room for the axis labels.
fn builder<'a, 'b>(
    root: &'a DrawingArea<BitMapBackend<'b>, Shift>,
    title: &str,
    y_label_area: u32,
) -> ChartBuilder<'a, 'b, BitMapBackend<'b>> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, title_font()).margin(20).x_label_area_size(60).y_label_area_size(y_label_area);
    b
}

fn title_font() -> TextStyle<'static> {
    (FONT, 28).into_font().into()
}

fn label_font() -> TextStyle<'static> {
    (FONT, 18).into_font().into()
}

/// A cumulative distribution: (value, fraction ≤ value), values ascending.
pub type Cdf = Vec<(f64, f64)>;

/// A vertical line on a latency chart (a percentile, a goal): label, value in ms, colour.
pub type Mark = (String, f64, RGBColor);

/// Where dashes go along `a..b` (`n` dashes, each half a step), evenly on a linear or log axis.
fn dashes(a: f64, b: f64, n: usize, log: bool) -> Vec<(f64, f64)> {
    let at = |t: f64| if log { a * (b / a).powf(t) } else { a + (b - a) * t };
    (0..n).map(|i| (at(i as f64 / n as f64), at((i as f64 + 0.5) / n as f64))).collect()
}

/// The smallest tail share the tail panel shows: the CDF's densest quantile is 0.9999.
const TAIL_FLOOR: f64 = 1e-4;

/// Latency on a log time axis, one line per series (e.g. warm, cold): the CDF (left) for the
/// body, and the share of requests slower than each latency on a log scale (right) so the
/// tail a goal is about is not squeezed into the top pixel rows; `marks` draw as dashed
/// vertical lines on both (p99, goals).
pub fn latency_cdf(title: &str, series: &[(&str, &Cdf)], marks: &[Mark]) -> Result<Vec<u8>> {
    let all: Vec<f64> = series
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.0))
        .chain(marks.iter().map(|m| m.1))
        .filter(|v| *v > 0.0 && v.is_finite())
        .collect();
    let lo = all.iter().cloned().fold(f64::INFINITY, f64::min).max(1e-3);
    let hi = all.iter().cloned().fold(0.0, f64::max).max(lo * 10.0);
    let (lo, hi) = if all.is_empty() { (1.0, 10.0) } else { (lo / 1.2, hi * 1.2) };
    // the tail panel starts at the lowest median: below it nothing is tail
    let median = series
        .iter()
        .filter_map(|(_, c)| c.iter().find(|p| p.1 >= 0.5).map(|p| p.0))
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let t_lo = if median.is_finite() { (median / 1.5).max(lo) } else { lo };
    let t_lo = if t_lo * 2.0 > hi { lo } else { t_lo };
    render(|root| {
        let area = root.titled(title, title_font()).map_err(err)?;
        let (left, right) = area.split_horizontally(WIDTH * 11 / 20);
        let mut body = ChartBuilder::on(&left)
            .margin(15)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)
            .map_err(err)?;
        body.configure_mesh()
            .x_desc("latency, arrival to response (log scale)")
            .y_desc("fraction of requests ≤ latency")
            .label_style(label_font())
            .axis_desc_style(label_font())
            .x_label_formatter(&|v| format_ms(*v))
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .draw()
            .map_err(err)?;
        let mut tail = ChartBuilder::on(&right)
            .margin(15)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d((t_lo..hi).log_scale(), (TAIL_FLOOR..1.0).log_scale())
            .map_err(err)?;
        tail.configure_mesh()
            .x_desc("latency (log scale)")
            .y_desc("share of requests slower (log scale)")
            .label_style(label_font())
            .axis_desc_style(label_font())
            .x_label_formatter(&|v| format_ms(*v))
            .y_label_formatter(&|v| percent(*v))
            .draw()
            .map_err(err)?;
        for (k, (name, cdf)) in series.iter().enumerate() {
            if cdf.is_empty() {
                continue;
            }
            let color = PALETTE[k % PALETTE.len()];
            let pts: Vec<(f64, f64)> = cdf.iter().map(|&(v, f)| (v.max(lo), f)).collect();
            body.draw_series(LineSeries::new(pts, color.stroke_width(3))).map_err(err)?;
            let slower: Vec<(f64, f64)> =
                cdf.iter().filter(|p| p.0 >= t_lo && 1.0 - p.1 >= TAIL_FLOOR).map(|&(v, f)| (v, 1.0 - f)).collect();
            tail.draw_series(LineSeries::new(slower, color.stroke_width(3)))
                .map_err(err)?
                .label(name.to_string())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], color.stroke_width(3)));
        }
        for (label, v, color) in marks {
            let (v, color) = (*v, *color);
            if !(v > 0.0 && v.is_finite()) {
                continue;
            }
            body.draw_series(
                dashes(0.0, 1.0, 30, false)
                    .into_iter()
                    .map(|(a, b)| PathElement::new(vec![(v, a), (v, b)], color.stroke_width(2))),
            )
            .map_err(err)?;
            if v >= t_lo {
                tail.draw_series(
                    dashes(TAIL_FLOOR, 1.0, 30, true)
                        .into_iter()
                        .map(|(a, b)| PathElement::new(vec![(v, a), (v, b)], color.stroke_width(2))),
                )
                .map_err(err)?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], color.stroke_width(2)));
            }
        }
        legend!(tail, LowerLeft);
        Ok(())
    })
}

/// A share as a percentage with as many decimals as it needs (`10%`, `0.1%`, `0.01%`).
fn percent(v: f64) -> String {
    let p = v * 100.0;
    let decimals = if p >= 1.0 { 0 } else { (-p.log10()).ceil() as usize };
    format!("{p:.decimals$}%")
}

fn format_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}s", trim(v / 1000.0))
    } else {
        format!("{}ms", trim(v))
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Thick lines draw miter spikes at the sharp turns of a dense series: thin lines then.
fn line_width(points: usize) -> u32 {
    if points > 300 {
        1
    } else {
        2
    }
}

/// A line over time: name and (time in hours, value) points.
pub type TimeSeries<'a> = (&'a str, Vec<(f64, f64)>);

/// Lines over time (x in hours), optionally a dashed horizontal line (e.g. the reserved level).
pub fn over_time(
    title: &str,
    time: &TimeAxis<'_>,
    y_desc: &str,
    lines: &[TimeSeries<'_>],
    dashed: Option<(&str, f64)>,
) -> Result<Vec<u8>> {
    let x_max = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).fold(0.0, f64::max).max(1e-6);
    let y_max =
        lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).chain(dashed.map(|d| d.1)).fold(0.0, f64::max).max(1e-9)
            * 1.1;
    render(|root| {
        let mut chart = builder(root, title, 90).build_cartesian_2d(0.0..x_max, 0.0..y_max).map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(time.desc.as_str())
            .x_label_formatter(&|v| (time.tick)(*v))
            .y_desc(y_desc)
            .label_style(label_font())
            .axis_desc_style(label_font())
            .draw()
            .map_err(err)?;
        for (k, (name, pts)) in lines.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(line_width(pts.len()))))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], color.stroke_width(3)));
        }
        if let Some((name, level)) = dashed {
            let color = BLACK;
            let segs = dashes(0.0, x_max, 60, false)
                .into_iter()
                .map(|(a, b)| PathElement::new(vec![(a, level), (b, level)], color.stroke_width(2)));
            chart
                .draw_series(segs)
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], color.stroke_width(2)));
        }
        legend!(chart, UpperRight);
        Ok(())
    })
}

/// Lines over time on two y axes: `left` on the left scale, `right` on the right one (for
/// series of very different size, e.g. arrivals and cold starts).
pub fn over_time_twin(
    title: &str,
    time: &TimeAxis<'_>,
    left_desc: &str,
    left: &[TimeSeries<'_>],
    right_desc: &str,
    right: &[TimeSeries<'_>],
) -> Result<Vec<u8>> {
    let x_max = left.iter().chain(right).flat_map(|(_, p)| p.iter().map(|q| q.0)).fold(0.0, f64::max).max(1e-6);
    let y_max =
        |ls: &[TimeSeries<'_>]| ls.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).fold(0.0, f64::max).max(1e-9) * 1.1;
    let (yl, yr) = (y_max(left), y_max(right));
    render(|root| {
        let mut chart = builder(root, title, 90)
            .right_y_label_area_size(90)
            .build_cartesian_2d(0.0..x_max, 0.0..yl)
            .map_err(err)?
            .set_secondary_coord(0.0..x_max, 0.0..yr);
        chart
            .configure_mesh()
            .x_desc(time.desc.as_str())
            .x_label_formatter(&|v| (time.tick)(*v))
            .y_desc(left_desc)
            .label_style(label_font())
            .axis_desc_style(label_font())
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(err)?;
        chart
            .configure_secondary_axes()
            .y_desc(right_desc)
            .label_style(label_font())
            .axis_desc_style(label_font())
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(err)?;
        for (k, (name, pts)) in left.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(line_width(pts.len()))))
                .map_err(err)?
                .label(format!("{name} (left axis)"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], color.stroke_width(3)));
        }
        for (k, (name, pts)) in right.iter().enumerate() {
            let color = PALETTE[(k + left.len()) % PALETTE.len()];
            chart
                .draw_secondary_series(LineSeries::new(pts.iter().copied(), color.stroke_width(line_width(pts.len()))))
                .map_err(err)?
                .label(format!("{name} (right axis)"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], color.stroke_width(3)));
        }
        legend!(chart, UpperLeft);
        Ok(())
    })
}

/// Horizontal bars: label and value, in `unit`.
pub fn bars(title: &str, unit: &str, items: &[(String, f64)]) -> Result<Vec<u8>> {
    let max = items.iter().map(|i| i.1).fold(0.0, f64::max).max(1e-12) * 1.25;
    let n = items.len().max(1);
    render(|root| {
        // segments of 0..n - 1: one slot per item (0..n would add an empty slot at the end)
        let mut chart =
            builder(root, title, 220).build_cartesian_2d(0.0..max, (0..n - 1).into_segmented()).map_err(err)?;
        let labels: Vec<String> = items.iter().map(|i| i.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(unit)
            .label_style(label_font())
            .axis_desc_style(label_font())
            .y_label_formatter(&|seg| match seg {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()
            .map_err(err)?;
        for (i, (_, v)) in items.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (*v, if i + 1 < n { SegmentValue::Exact(i + 1) } else { SegmentValue::Last }),
                    ],
                    color.filled(),
                )))
                .map_err(err)?;
            let share = if items.iter().map(|x| x.1).sum::<f64>() > 0.0 {
                v / items.iter().map(|x| x.1).sum::<f64>() * 100.0
            } else {
                0.0
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{} ({share:.1}%)", sig(*v)),
                    (*v + max * 0.01, SegmentValue::CenterOf(i)),
                    label_font(),
                )))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// An axis tick: up to four significant digits without trailing zeros (`2`, `0.5`, `12.25`),
/// so every axis reads the same way.
pub fn tick(v: f64) -> String {
    let s = sig(v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Four significant digits, no exponent for ordinary magnitudes.
pub fn sig(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (3 - mag).clamp(0, 10) as usize;
    format!("{v:.decimals$}")
}

/// A scatter of points with axis descriptions; `highlight` marks a subset (drawn larger,
/// joined in x order, e.g. the Pareto front); points carry a label drawn beside them.
pub struct Scatter<'a> {
    pub title: &'a str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    /// (x, y, in the highlighted set, passes the filter)
    pub points: Vec<(f64, f64, bool, bool)>,
    pub labels: Vec<String>,
    pub highlight_name: &'a str,
    pub pass_name: &'a str,
    pub fail_name: &'a str,
    /// A dashed vertical line (a goal on the x metric): its legend label and x.
    pub x_mark: Option<(String, f64)>,
}

pub fn scatter(s: &Scatter<'_>) -> Result<Vec<u8>> {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, 0.0f64, f64::INFINITY, 0.0f64);
    for p in &s.points {
        x0 = x0.min(p.0);
        x1 = x1.max(p.0);
        y0 = y0.min(p.1);
        y1 = y1.max(p.1);
    }
    if s.points.is_empty() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if let Some((_, x)) = &s.x_mark {
        (x0, x1) = (x0.min(*x), x1.max(*x));
    }
    let dx = ((x1 - x0) * 0.1).max(x1.abs() * 0.01).max(1e-9);
    let dy = ((y1 - y0) * 0.1).max(y1.abs() * 0.01).max(1e-9);
    render(|root| {
        let mut chart = builder(root, s.title, 90)
            .build_cartesian_2d((x0 - dx).max(0.0)..x1 + dx, (y0 - dy).max(0.0)..y1 + dy)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(s.x_desc)
            .y_desc(s.y_desc)
            .label_style(label_font())
            .axis_desc_style(label_font())
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(err)?;
        let pass = PALETTE[0];
        let fail = PALETTE[6];
        let front = PALETTE[1];
        chart
            .draw_series(s.points.iter().filter(|p| p.3).map(|p| Circle::new((p.0, p.1), 6, pass.filled())))
            .map_err(err)?
            .label(s.pass_name)
            .legend(move |(x, y)| Circle::new((x + 10, y), 6, pass.filled()));
        if s.points.iter().any(|p| !p.3) {
            chart
                .draw_series(s.points.iter().filter(|p| !p.3).map(|p| Circle::new((p.0, p.1), 6, fail.stroke_width(2))))
                .map_err(err)?
                .label(s.fail_name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 6, fail.stroke_width(2)));
        }
        let mut hi: Vec<(f64, f64)> = s.points.iter().filter(|p| p.2).map(|p| (p.0, p.1)).collect();
        hi.sort_by(|a, b| a.0.total_cmp(&b.0));
        if !hi.is_empty() {
            chart.draw_series(LineSeries::new(hi.clone(), front.stroke_width(2))).map_err(err)?;
            chart
                .draw_series(hi.iter().map(|p| Circle::new(*p, 10, front.stroke_width(3))))
                .map_err(err)?
                .label(s.highlight_name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 10, front.stroke_width(3)));
        }
        if let Some((label, x)) = &s.x_mark {
            let (x, mark) = (*x, GOAL);
            let (ya, yb) = ((y0 - dy).max(0.0), y1 + dy);
            chart
                .draw_series(
                    dashes(ya, yb, 30, false)
                        .into_iter()
                        .map(|(a, b)| PathElement::new(vec![(x, a), (x, b)], mark.stroke_width(2))),
                )
                .map_err(err)?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], mark.stroke_width(2)));
        }
        for (p, l) in s.points.iter().zip(&s.labels) {
            if !l.is_empty() {
                chart
                    .draw_series(std::iter::once(Text::new(l.clone(), (p.0, p.1), (FONT, 14).into_font())))
                    .map_err(err)?;
            }
        }
        legend!(chart, UpperRight);
        Ok(())
    })
}

/// Lines of several series over categorical x values (e.g. a swept key's values); each
/// series on its own y scale is not possible here, so callers chart one metric per image.
pub fn category_lines(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    xs: &[String],
    series: &[(String, Vec<f64>)],
) -> Result<Vec<u8>> {
    let n = xs.len().max(1);
    let y_max =
        series.iter().flat_map(|s| s.1.iter().copied()).filter(|v| v.is_finite()).fold(0.0, f64::max).max(1e-12) * 1.15;
    render(|root| {
        let mut chart =
            builder(root, title, 90).build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0..y_max).map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_labels(n)
            .label_style(label_font())
            .axis_desc_style(label_font())
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 {
                    xs.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(err)?;
        for (k, (name, ys)) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let pts: Vec<(f64, f64)> =
                ys.iter().enumerate().filter(|(_, y)| y.is_finite()).map(|(i, y)| (i as f64, *y)).collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], color.stroke_width(3)));
            chart.draw_series(pts.iter().map(|p| Circle::new(*p, 5, color.filled()))).map_err(err)?;
        }
        if series.len() > 1 {
            legend!(chart, UpperRight);
        }
        Ok(())
    })
}

/// Decode a PNG (tests and checks): width, height and RGB bytes.
pub fn decode(png_bytes: &[u8]) -> Result<(u32, u32, Vec<u8>)> {
    let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = dec.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or_else(|| anyhow!("PNG too large"))?];
    let info = reader.next_frame(&mut buf)?;
    buf.truncate(info.buffer_size());
    Ok((info.width, info.height, buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Share of pixels that are not white, and the variance of their brightness.
    fn ink(png_bytes: &[u8]) -> (f64, f64) {
        let (w, h, rgb) = decode(png_bytes).unwrap();
        assert_eq!((w, h), (WIDTH, HEIGHT));
        let lum: Vec<f64> = rgb.chunks(3).map(|p| (p[0] as f64 + p[1] as f64 + p[2] as f64) / 3.0).collect();
        let n = lum.len() as f64;
        let mean = lum.iter().sum::<f64>() / n;
        let var = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n;
        (lum.iter().filter(|&&l| l < 250.0).count() as f64 / n, var)
    }

    #[test]
    fn charts_decode_have_the_expected_size_and_are_not_blank() {
        let cdf: Cdf = (1..=100).map(|i| (i as f64 * 10.0, i as f64 / 100.0)).collect();
        let pngs = vec![
            latency_cdf("latency", &[("warm", &cdf), ("cold", &cdf)], &[("p99".into(), 990.0, INK)]).unwrap(),
            over_time(
                "instances",
                &TimeAxis::hours(),
                "instances",
                &[("busy", vec![(0.0, 1.0), (1.0, 3.0)])],
                Some(("reserved", 2.0)),
            )
            .unwrap(),
            bars("cost by phase", "CNY", &[("busy".into(), 3.0), ("pull".into(), 1.0)]).unwrap(),
            scatter(&Scatter {
                title: "pareto",
                x_desc: "p99",
                y_desc: "cost",
                points: vec![(1.0, 3.0, true, true), (2.0, 1.0, true, true), (2.5, 2.5, false, false)],
                labels: vec!["a".into(), "b".into(), String::new()],
                highlight_name: "front",
                pass_name: "meets",
                fail_name: "misses",
                x_mark: Some(("goal".into(), 2.2)),
            })
            .unwrap(),
            category_lines(
                "curve",
                "memory",
                "cost",
                &["512MB".into(), "1GB".into()],
                &[("cost".into(), vec![1.0, 2.0])],
            )
            .unwrap(),
            over_time_twin(
                "twin",
                &TimeAxis::hours(),
                "a",
                &[("a", vec![(0.0, 1.0), (2.0, 5.0)])],
                "b",
                &[("b", vec![(0.0, 0.1), (2.0, 0.0)])],
            )
            .unwrap(),
        ];
        for p in pngs {
            let (ink, var) = ink(&p);
            assert!(ink > 0.01 && var > 10.0, "ink {ink}, variance {var}");
        }
    }

    #[test]
    fn text_renders_without_system_fonts() {
        // a chart with only a title: all the ink is text drawn with the embedded font
        let png = bars("TITLE TEXT", "unit", &[]).unwrap();
        let (ink, _) = ink(&png);
        assert!(ink > 0.001, "{ink}");
    }
}
