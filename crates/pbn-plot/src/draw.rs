//! Rendering panels with plotters onto the PNG and SVG backends.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor;

use crate::{Content, Legend, LineKind, Panel, PlotError, RefLine, Rgb, Series, figure_paths, linear_fit};

/// DejaVu Sans (Bitstream Vera licence, see `fonts/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

const TITLE_PX: u32 = 28;
const PANEL_TITLE_PX: u32 = 22;
const AXIS_DESC_PX: u32 = 20;
const TICK_PX: u32 = 17;
const LEGEND_PX: u32 = 17;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is valid; a failure here would be a build problem caught by the tests.
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            eprintln!("pbn-plot: the embedded font could not be loaded");
        }
    });
}

fn de<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Draw(e.to_string())
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// Renders the figure twice (PNG, SVG) and writes both atomically.
pub(crate) fn write_figure(
    stem: &Path,
    title: &str,
    panels: &[Panel],
    columns: usize,
    (pw, ph): (u32, u32),
) -> Result<Vec<PathBuf>, PlotError> {
    register_font();
    let rows = panels.len().div_ceil(columns).max(1);
    let cols = columns.min(panels.len().max(1));
    let title_h = if title.is_empty() { 0 } else { TITLE_PX + 22 };
    let size = (pw * cols as u32, ph * rows as u32 + title_h);
    let (png, svg) = figure_paths(stem);
    if let Some(dir) = png.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }

    // PNG: plotters picks the encoder from the extension, so the temporary name ends in .png too.
    let name = png
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = png.with_file_name(format!(".{name}.part.png"));
    let drawn = (|| {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        draw_all(&root, title, title_h, panels, rows, cols)?;
        root.present().map_err(de)
    })();
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &png)?;

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw_all(&root, title, title_h, panels, rows, cols)?;
        root.present().map_err(de)?;
    }
    pbn_rundir::write_atomic(&svg, text.as_bytes())?;
    Ok(vec![png, svg])
}

fn draw_all<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    title_h: u32,
    panels: &[Panel],
    rows: usize,
    cols: usize,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(de)?;
    let body = if title_h > 0 {
        let (top, body) = root.split_vertically(title_h);
        let (w, h) = top.dim_in_pixel();
        let style = TextStyle::from((FAMILY, TITLE_PX).into_font())
            .color(&BLACK)
            .pos(text_anchor::Pos::new(
                text_anchor::HPos::Center,
                text_anchor::VPos::Center,
            ));
        top.draw_text(title, &style, (w as i32 / 2, h as i32 / 2 + 4))
            .map_err(de)?;
        body
    } else {
        root.clone()
    };
    let areas = body.split_evenly((rows, cols));
    for (area, panel) in areas.iter().zip(panels) {
        draw_panel(area, panel)?;
    }
    Ok(())
}

/// Axis extents of a panel's data, before padding.
#[derive(Default)]
struct Extent {
    lo: f64,
    hi: f64,
    any: bool,
}

impl Extent {
    fn add(&mut self, v: f64, log: bool) {
        if !v.is_finite() || (log && v <= 0.0) {
            return;
        }
        if !self.any {
            (self.lo, self.hi, self.any) = (v, v, true);
        } else {
            self.lo = self.lo.min(v);
            self.hi = self.hi.max(v);
        }
    }

    fn add_all(&mut self, vs: &[f64], log: bool) {
        for &v in vs {
            self.add(v, log);
        }
    }

    /// The final range: padded by `pad` of the span (in log space for a log axis).
    fn range(&self, log: bool, pad: f64) -> (f64, f64) {
        if !self.any {
            return if log { (1.0, 10.0) } else { (0.0, 1.0) };
        }
        let (lo, hi) = (self.lo, self.hi);
        if log {
            let (a, b) = (lo.log10(), hi.log10());
            let (a, b) = if b - a < 1e-9 {
                (a - 0.3, b + 0.3)
            } else {
                (a - pad * (b - a), b + pad * (b - a))
            };
            (10f64.powf(a), 10f64.powf(b))
        } else if hi - lo <= 1e-12 * hi.abs().max(lo.abs()).max(1e-300) {
            let d = (lo.abs() * 0.1).max(1e-9);
            let d = if lo == 0.0 { 1.0 } else { d };
            (lo - d, hi + d)
        } else {
            (lo - pad * (hi - lo), hi + pad * (hi - lo))
        }
    }
}

/// Histogram of one sample over common edges: (bin left edges, heights).
pub(crate) fn bin(values: &[f64], lo: f64, hi: f64, bins: usize, density: bool) -> Vec<f64> {
    let mut counts = vec![0.0; bins];
    let width = (hi - lo) / bins as f64;
    let mut n = 0usize;
    for &v in values {
        if !v.is_finite() {
            continue;
        }
        n += 1;
        if v < lo || v > hi {
            continue;
        }
        let k = (((v - lo) / width).floor() as isize).clamp(0, bins as isize - 1) as usize;
        counts[k] += 1.0;
    }
    if density && n > 0 {
        for c in &mut counts {
            *c /= n as f64 * width;
        }
    }
    counts
}

/// The common bin range of several samples.
///
/// Far outliers would squeeze the bulk into a few bins: when the full range is more than twice the
/// 0.1–99.9 % quantile range, the bins span the quantile range (values outside still count in the
/// normalisation but are not drawn).
fn hist_range(hists: &[crate::Hist]) -> (f64, f64) {
    let mut e = Extent::default();
    for h in hists {
        e.add_all(&h.values, false);
    }
    if !e.any {
        return (0.0, 1.0);
    }
    let mut all: Vec<f64> = hists
        .iter()
        .flat_map(|h| h.values.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    if all.len() >= 100 {
        all.sort_by(f64::total_cmp);
        let q = |f: f64| all[((all.len() - 1) as f64 * f).round() as usize];
        let (a, b) = (q(0.001), q(0.999));
        if b > a && (e.hi - e.lo) > 2.0 * (b - a) {
            return (a, b);
        }
    }
    if e.hi - e.lo <= 1e-12 * e.hi.abs().max(e.lo.abs()) {
        let d = if e.lo == 0.0 { 0.5 } else { e.lo.abs() * 0.05 };
        return (e.lo - d, e.hi + d);
    }
    (e.lo, e.hi)
}

fn panel_ranges(p: &Panel, plot_h: f64) -> ((f64, f64), (f64, f64)) {
    let mut xe = Extent::default();
    let mut ye = Extent::default();
    let (mut x_pad, mut y_pad) = (0.04, 0.06);
    let mut y_from_zero = false;
    match &p.content {
        Content::Lines(series) => {
            x_pad = 0.0;
            for s in series {
                xe.add_all(&s.x, p.log_x);
                ye.add_all(&s.y, p.log_y);
                if let Some((lo, hi)) = &s.band {
                    ye.add_all(lo, p.log_y);
                    ye.add_all(hi, p.log_y);
                }
            }
        }
        Content::Raster(groups) => {
            (x_pad, y_pad) = (0.0, 0.0);
            for g in groups {
                xe.add_all(&g.times, p.log_x);
                for &r in &g.rows {
                    ye.add(r - 0.5, p.log_y);
                    ye.add(r + 0.5, p.log_y);
                }
            }
        }
        Content::Histograms { hists, bins, density } => {
            let (lo, hi) = hist_range(hists);
            xe.add(lo, p.log_x);
            xe.add(hi, p.log_x);
            for h in hists {
                ye.add_all(&bin(&h.values, lo, hi, (*bins).max(1), *density), p.log_y);
            }
            y_from_zero = !p.log_y;
        }
        Content::Scatter { groups, fit } => {
            for g in groups {
                xe.add_all(&g.x, p.log_x);
                ye.add_all(&g.y, p.log_y);
                if let (true, Some(f)) = (fit, linear_fit(&g.x, &g.y)) {
                    let mut gx = Extent::default();
                    gx.add_all(&g.x, p.log_x);
                    if gx.any {
                        ye.add(f.intercept + f.slope * gx.lo, p.log_y);
                        ye.add(f.intercept + f.slope * gx.hi, p.log_y);
                    }
                }
            }
        }
        Content::ErrorBars { points, lines } => {
            for s in lines {
                xe.add_all(&s.x, p.log_x);
                ye.add_all(&s.y, p.log_y);
            }
            for s in points {
                xe.add_all(&s.x, p.log_x);
                for (i, &y) in s.y.iter().enumerate() {
                    let e = s.err.get(i).copied().unwrap_or(0.0).abs();
                    ye.add(y + e, p.log_y);
                    // On a log axis a bar reaching zero or below is clipped, not used for the range.
                    if !p.log_y || y - e > 0.0 {
                        ye.add(y - e, p.log_y);
                    } else {
                        ye.add(y, p.log_y);
                    }
                }
            }
        }
    }
    for h in &p.hlines {
        ye.add(h.value, p.log_y);
    }
    for v in &p.vlines {
        xe.add(v.value, p.log_x);
    }
    if (y_from_zero || p.include_zero) && !p.log_y {
        ye.add(0.0, false);
    }
    let xr = p.x_range.unwrap_or_else(|| xe.range(p.log_x, x_pad));
    let mut yr = p.y_range.unwrap_or_else(|| ye.range(p.log_y, y_pad));
    if p.y_range.is_none() {
        if (y_from_zero || (p.include_zero && ye.any && ye.lo >= 0.0)) && !p.log_y {
            yr.0 = 0.0;
        }
        // Room at the top for an upper legend, so that it does not hide data.
        let entries = legend_entries(p);
        if entries > 0 && matches!(p.legend, Legend::UpperRight | Legend::UpperLeft) && plot_h > 100.0 {
            let frac = ((entries as f64 * (LEGEND_PX as f64 + 6.0) + 26.0) / plot_h).min(0.6);
            let grow = |lo: f64, hi: f64| hi + (hi - lo) * frac / (1.0 - frac);
            yr.1 = if p.log_y {
                10f64.powf(grow(yr.0.log10(), yr.1.log10()))
            } else {
                grow(yr.0, yr.1)
            };
        }
    }
    (xr, yr)
}

/// Number of legend entries a panel will draw.
fn legend_entries(p: &Panel) -> usize {
    let n = match &p.content {
        Content::Lines(s) => s.iter().filter(|s| !s.label.is_empty()).count(),
        Content::Raster(g) => g.iter().filter(|g| !g.label.is_empty()).count(),
        Content::Histograms { hists, .. } => hists.iter().filter(|h| !h.label.is_empty()).count(),
        Content::Scatter { groups, .. } => groups.iter().filter(|g| !g.label.is_empty()).count(),
        Content::ErrorBars { points, lines } => {
            points.iter().filter(|s| !s.label.is_empty()).count() + lines.iter().filter(|s| !s.label.is_empty()).count()
        }
    };
    n + p.hlines.iter().chain(&p.vlines).filter(|r| !r.label.is_empty()).count()
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel) -> Result<(), PlotError> {
    // Height of the plotting area: the panel less caption, margins and the x label area.
    let (_, h) = area.dim_in_pixel();
    let caption = if p.title.is_empty() {
        0.0
    } else {
        PANEL_TITLE_PX as f64 + 10.0
    };
    let ((x0, x1), (y0, y1)) = panel_ranges(p, h as f64 - caption - 24.0 - 62.0);
    // Log axes are labelled at 1, 2, 5 × 10^k (or every integer multiple for a short range), not
    // only at powers of ten: sizes 500, 1000, 2000 otherwise show one label.
    let log = |lo: f64, hi: f64| (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
    match (p.log_x, p.log_y) {
        (false, false) => draw_in(area, p, x0..x1, y0..y1, (x0, x1), (y0, y1)),
        (true, false) => draw_in(area, p, log(x0, x1), y0..y1, (x0, x1), (y0, y1)),
        (false, true) => draw_in(area, p, x0..x1, log(y0, y1), (x0, x1), (y0, y1)),
        (true, true) => draw_in(area, p, log(x0, x1), log(y0, y1), (x0, x1), (y0, y1)),
    }
}

/// Tick positions of a log axis over [lo, hi]: 1, 2, 5 × 10^k, or 1…9 × 10^k when that gives
/// fewer than three, thinned to at most ten.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo) {
        return vec![];
    }
    let within = |mantissas: &[f64]| -> Vec<f64> {
        let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (k0..=k1)
            .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|v| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9))
            .collect()
    };
    let mut ticks = within(&[1.0, 2.0, 5.0]);
    if ticks.len() < 3 {
        ticks = within(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    }
    if ticks.len() > 10 {
        ticks = within(&[1.0]);
    }
    ticks
}

/// A short, readable tick label.
/// Tick positions computed from a range that straddles 0 can land a rounding error away from it
/// (−5.55e-17); show those as 0.
fn snap_zero(v: f64) -> f64 {
    if v.abs() < 1e-12 { 0.0 } else { v }
}

pub(crate) fn fmt_tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { format!("{v}") };
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.2e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        return format!("{m}e{e}");
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

struct Ctx {
    auto: usize,
    labelled: bool,
}

impl Ctx {
    fn color(&mut self, c: Option<Rgb>) -> Rgb {
        c.unwrap_or_else(|| {
            let c = Rgb::cycle(self.auto);
            self.auto += 1;
            c
        })
    }
}

// Legend glyphs. Macros rather than functions: plotters' `DynElement` forces a 'static backend,
// so the closures must return concrete element types, which only inference can name.
macro_rules! legend_line {
    ($style:expr, $dashed:expr) => {{
        let style: ShapeStyle = $style;
        let gap = if $dashed { (9, 14) } else { (12, 12) };
        move |(x, y): (i32, i32)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (gap.0, 0)], style)
                + PathElement::new(vec![(gap.1, 0), (24, 0)], style)
        }
    }};
}

macro_rules! legend_box {
    ($color:expr) => {{
        let color: RGBAColor = $color;
        move |(x, y): (i32, i32)| EmptyElement::at((x, y)) + Rectangle::new([(2, -6), (20, 6)], color.filled())
    }};
}

macro_rules! legend_dot {
    ($color:expr) => {{
        let color: RGBAColor = $color;
        move |(x, y): (i32, i32)| EmptyElement::at((x, y)) + Circle::new((12, 0), 5, color.filled())
    }};
}

fn in_axis(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

fn draw_in<'a, DB, X, Y>(
    area: &'a DrawingArea<DB, Shift>,
    p: &Panel,
    xspec: X,
    yspec: Y,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Result<(), PlotError>
where
    DB: DrawingBackend + 'a,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(12)
        .margin_right(28)
        .x_label_area_size(62)
        .y_label_area_size(96);
    if !p.title.is_empty() {
        builder.caption(&p.title, (FAMILY, PANEL_TITLE_PX));
    }
    let mut chart = builder.build_cartesian_2d(xspec, yspec).map_err(de)?;
    chart
        .configure_mesh()
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .axis_desc_style((FAMILY, AXIS_DESC_PX))
        .label_style((FAMILY, TICK_PX))
        .x_label_formatter(&|v| fmt_tick(snap_zero(*v)))
        .y_label_formatter(&|v| fmt_tick(snap_zero(*v)))
        .x_labels(7)
        .y_labels(7)
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(RGBColor(245, 245, 245))
        .draw()
        .map_err(de)?;

    let mut ctx = Ctx {
        auto: 0,
        labelled: false,
    };
    let (lx, ly) = (p.log_x, p.log_y);

    match &p.content {
        Content::Lines(series) => {
            for s in series {
                draw_series_line(&mut chart, &mut ctx, s, lx, ly)?;
            }
        }
        Content::Raster(groups) => {
            let (_, h) = chart.plotting_area().dim_in_pixel();
            let nrows = (y1 - y0).max(1.0);
            let half = ((h as f64 / nrows) * 0.42).clamp(1.0, 4.0).round() as i32;
            for g in groups {
                let c = rgb(g.color).to_rgba();
                chart
                    .draw_series(
                        g.times
                            .iter()
                            .zip(&g.rows)
                            .filter(|(t, r)| in_axis(**t, lx) && in_axis(**r, ly))
                            .map(|(&t, &r)| {
                                EmptyElement::at((t, r)) + Rectangle::new([(0, -half), (1, half)], c.filled())
                            }),
                    )
                    .map_err(de)?
                    .label(g.label.as_str())
                    .legend(legend_box!(c));
                ctx.labelled |= !g.label.is_empty();
            }
        }
        Content::Histograms { hists, bins, density } => {
            let bins = (*bins).max(1);
            let (lo, hi) = hist_range(hists);
            let w = (hi - lo) / bins as f64;
            let base = if ly { y0 } else { 0.0 };
            for h in hists {
                let c = rgb(ctx.color(h.color));
                let heights = bin(&h.values, lo, hi, bins, *density);
                let fill = c.mix(0.35);
                chart
                    .draw_series(
                        heights
                            .iter()
                            .enumerate()
                            .filter(|(_, v)| in_axis(**v, ly))
                            .map(|(k, &v)| {
                                let a = lo + k as f64 * w;
                                Rectangle::new([(a, base), (a + w, v)], fill.filled())
                            }),
                    )
                    .map_err(de)?;
                // Step outline so that overlapping distributions stay distinguishable.
                let mut outline = vec![(lo, base)];
                for (k, &v) in heights.iter().enumerate() {
                    let v = if in_axis(v, ly) { v } else { base };
                    outline.push((lo + k as f64 * w, v));
                    outline.push((lo + (k + 1) as f64 * w, v));
                }
                outline.push((hi, base));
                let style = c.stroke_width(2);
                chart
                    .draw_series(std::iter::once(PathElement::new(outline, style)))
                    .map_err(de)?
                    .label(h.label.as_str())
                    .legend(legend_box!(c.mix(0.6)));
                ctx.labelled |= !h.label.is_empty();
            }
        }
        Content::Scatter { groups, fit } => {
            for g in groups {
                let c = rgb(ctx.color(g.color));
                let pts: Vec<(f64, f64)> =
                    g.x.iter()
                        .zip(&g.y)
                        .filter(|(a, b)| in_axis(**a, lx) && in_axis(**b, ly))
                        .map(|(a, b)| (*a, *b))
                        .collect();
                let radius = if pts.len() > 2000 { 2 } else { 3 };
                let label = match (fit, linear_fit(&g.x, &g.y)) {
                    (true, Some(f)) => {
                        format!("{} (slope {}, r = {:.2})", g.label, fmt_tick(f.slope), f.r)
                    }
                    _ => g.label.clone(),
                };
                chart
                    .draw_series(pts.iter().map(|&q| Circle::new(q, radius, c.mix(0.45).filled())))
                    .map_err(de)?
                    .label(label)
                    .legend(legend_dot!(c.to_rgba()));
                ctx.labelled |= !g.label.is_empty();
                if let (true, Some(f)) = (fit, linear_fit(&g.x, &g.y)) {
                    let mut xs = Extent::default();
                    for q in &pts {
                        xs.add(q.0, lx);
                    }
                    if xs.any {
                        let n = 50;
                        let line: Vec<(f64, f64)> = (0..=n)
                            .map(|i| {
                                let t = i as f64 / n as f64;
                                let x = if lx {
                                    10f64.powf(xs.lo.log10() + t * (xs.hi.log10() - xs.lo.log10()))
                                } else {
                                    xs.lo + t * (xs.hi - xs.lo)
                                };
                                (x, f.intercept + f.slope * x)
                            })
                            .filter(|q| in_axis(q.1, ly))
                            .collect();
                        let darker = rgb(g.color.unwrap_or(Rgb::BLACK).shade(1));
                        let darker = if g.color.is_some() { darker } else { c };
                        chart
                            .draw_series(LineSeries::new(line, darker.stroke_width(3)))
                            .map_err(de)?;
                    }
                }
            }
        }
        Content::ErrorBars { points, lines } => {
            for s in lines {
                draw_series_line(&mut chart, &mut ctx, s, lx, ly)?;
            }
            for s in points {
                let c = rgb(ctx.color(s.color));
                let pts: Vec<(f64, f64, f64)> =
                    s.x.iter()
                        .zip(&s.y)
                        .enumerate()
                        .filter(|(_, (a, b))| in_axis(**a, lx) && in_axis(**b, ly))
                        .map(|(i, (a, b))| (*a, *b, s.err.get(i).copied().unwrap_or(0.0).abs()))
                        .collect();
                if s.join {
                    chart
                        .draw_series(LineSeries::new(
                            pts.iter().map(|q| (q.0, q.1)),
                            c.mix(0.6).stroke_width(1),
                        ))
                        .map_err(de)?;
                }
                let bar = c.stroke_width(2);
                chart
                    .draw_series(pts.iter().filter(|q| q.2 > 0.0 && q.2.is_finite()).map(|&(x, y, e)| {
                        let lo = if ly && y - e <= 0.0 { y0 } else { y - e };
                        PathElement::new(vec![(x, lo), (x, y + e)], bar)
                    }))
                    .map_err(de)?;
                // Caps, drawn in pixels so that they look the same on log and linear axes.
                chart
                    .draw_series(
                        pts.iter()
                            .filter(|q| q.2 > 0.0 && q.2.is_finite())
                            .flat_map(|&(x, y, e)| {
                                let lo = if ly && y - e <= 0.0 { None } else { Some(y - e) };
                                [Some(y + e), lo].into_iter().flatten().map(move |yy| {
                                    EmptyElement::at((x, yy)) + PathElement::new(vec![(-6, 0), (6, 0)], bar)
                                })
                            }),
                    )
                    .map_err(de)?;
                chart
                    .draw_series(pts.iter().map(|&(x, y, _)| Circle::new((x, y), 5, c.filled())))
                    .map_err(de)?
                    .label(s.label.as_str())
                    .legend(legend_dot!(c.to_rgba()));
                ctx.labelled |= !s.label.is_empty();
            }
        }
    }

    let draw_ref = |chart: &mut ChartContext<'a, DB, _>, r: &RefLine, pts: Vec<(f64, f64)>, ctx: &mut Ctx| {
        let style = rgb(r.color).stroke_width(2);
        let anno = if r.dashed {
            chart
                .draw_series(DashedLineSeries::new(pts, 10, 7, style))
                .map_err(de)?
        } else {
            chart.draw_series(LineSeries::new(pts, style)).map_err(de)?
        };
        if !r.label.is_empty() {
            anno.label(r.label.as_str()).legend(legend_line!(style, r.dashed));
            ctx.labelled = true;
        }
        Ok::<(), PlotError>(())
    };
    for r in &p.hlines {
        if in_axis(r.value, ly) {
            draw_ref(&mut chart, r, vec![(x0, r.value), (x1, r.value)], &mut ctx)?;
        }
    }
    for r in &p.vlines {
        if in_axis(r.value, lx) {
            draw_ref(&mut chart, r, vec![(r.value, y0), (r.value, y1)], &mut ctx)?;
        }
    }

    if ctx.labelled && p.legend != Legend::None {
        let pos = match p.legend {
            Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
            Legend::LowerRight => SeriesLabelPosition::LowerRight,
            Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
            _ => SeriesLabelPosition::UpperRight,
        };
        chart
            .configure_series_labels()
            .position(pos)
            .margin(10)
            .legend_area_size(30)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .label_font((FAMILY, LEGEND_PX))
            .draw()
            .map_err(de)?;
    }
    Ok(())
}

fn draw_series_line<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    ctx: &mut Ctx,
    s: &Series,
    lx: bool,
    ly: bool,
) -> Result<(), PlotError>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let c = rgb(ctx.color(s.color));
    let alpha = if s.alpha > 0.0 { s.alpha.min(1.0) } else { 1.0 };
    let width = if s.width == 0 { 2 } else { s.width };
    let style = ShapeStyle {
        color: c.mix(alpha),
        filled: false,
        stroke_width: width,
    };
    if let Some((lo, hi)) = &s.band {
        let mut poly: Vec<(f64, f64)> = Vec::new();
        let mut back: Vec<(f64, f64)> = Vec::new();
        for ((&x, &a), &b) in s.x.iter().zip(lo).zip(hi) {
            if in_axis(x, lx) && in_axis(a, ly) && in_axis(b, ly) {
                poly.push((x, b));
                back.push((x, a));
            }
        }
        back.reverse();
        poly.extend(back);
        if poly.len() >= 3 {
            chart
                .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18 * alpha).filled())))
                .map_err(de)?;
        }
    }
    // Split at points the axis cannot show, so that gaps stay gaps.
    let mut segments: Vec<Vec<(f64, f64)>> = vec![vec![]];
    for (&x, &y) in s.x.iter().zip(&s.y) {
        if in_axis(x, lx) && in_axis(y, ly) {
            segments.last_mut().unwrap_or(&mut Vec::new()).push((x, y));
        } else if segments.last().is_some_and(|v| !v.is_empty()) {
            segments.push(vec![]);
        }
    }
    let marker = matches!(s.kind, LineKind::Markers | LineKind::LineMarkers);
    let line = !matches!(s.kind, LineKind::Markers);
    let dashed = s.kind == LineKind::Dashed;
    let mut first = true;
    for seg in segments.into_iter().filter(|v| !v.is_empty()) {
        if line {
            let anno = if dashed {
                chart
                    .draw_series(DashedLineSeries::new(seg.clone(), 10, 7, style))
                    .map_err(de)?
            } else {
                chart.draw_series(LineSeries::new(seg.clone(), style)).map_err(de)?
            };
            if first && !s.label.is_empty() && !marker {
                anno.label(s.label.as_str()).legend(legend_line!(style, dashed));
                ctx.labelled = true;
            }
        }
        if marker {
            let anno = chart
                .draw_series(seg.iter().map(|&q| Circle::new(q, 4, style.color.filled())))
                .map_err(de)?;
            if first && !s.label.is_empty() {
                let color = style.color;
                anno.label(s.label.as_str()).legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (24, 0)], color.stroke_width(if line { 2 } else { 0 }))
                        + Circle::new((12, 0), 4, color.filled())
                });
                ctx.labelled = true;
            }
        }
        first = false;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(fmt_tick(0.30000000000000004), "0.3");
        assert_eq!(fmt_tick(-150.0), "-150");
        assert_eq!(fmt_tick(5.824), "5.824");
        assert_eq!(fmt_tick(1e-4), "1e-4");
        assert_eq!(fmt_tick(2.5e-4), "2.5e-4");
        assert_eq!(fmt_tick(12000.0), "12000");
        assert_eq!(fmt_tick(0.0), "0");
    }

    #[test]
    fn bins_cover_the_range() {
        let h = bin(&[0.0, 0.5, 1.0, f64::NAN], 0.0, 1.0, 2, false);
        assert_eq!(h, vec![1.0, 2.0]);
        let d = bin(&[0.0, 0.5, 1.0], 0.0, 1.0, 2, true);
        assert!((d.iter().sum::<f64>() * 0.5 - 1.0).abs() < 1e-12);
    }
}

#[cfg(test)]
mod log_tick_tests {
    use super::log_ticks;

    #[test]
    fn log_axes_get_ticks_between_powers_of_ten() {
        assert_eq!(log_ticks(400.0, 2500.0), vec![500.0, 1000.0, 2000.0]);
        assert_eq!(log_ticks(900.0, 3500.0), vec![900.0, 1000.0, 2000.0, 3000.0]);
        assert_eq!(log_ticks(1.0, 1e6).len(), 7, "wide ranges keep powers of ten only");
        assert!(log_ticks(-1.0, 10.0).is_empty());
    }
}
