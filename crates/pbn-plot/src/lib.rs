//! Figures for pbn, written as PNG and SVG of the same drawing.
//!
//! Two layers:
//! - **Generic figures on plain data** ([`lines`], [`raster`], [`histograms`], [`scatter_with_fit`],
//!   [`points_with_errorbars`], and [`figure`] for several panels in a grid). Each takes a path *stem*
//!   (`out/rates` → `out/rates.png` + `out/rates.svg`) and returns the paths written. Log axes are
//!   supported on every panel; non-positive values are dropped from a log axis.
//! - **The standard figures of a run directory**: [`plot_run`].
//!
//! Text uses DejaVu Sans, embedded in the binary (no system fonts or fontconfig needed). Files are
//! written under a temporary name and renamed, so a reader never sees a half-written figure.

mod draw;
mod run;

use std::path::{Path, PathBuf};

pub use run::{RunPlots, plot_run, plot_run_report};

/// A short, readable rendering of a number (about 4 significant digits, `1e-4` style when tiny or huge),
/// as used for tick labels and legend values.
pub fn fmt_value(v: f64) -> String {
    draw::fmt_tick(v)
}

/// Why a figure could not be written.
#[derive(Debug)]
pub enum PlotError {
    /// Reading the run directory failed.
    Read(pbn_rundir::ReadError),
    /// Writing a file failed.
    Io(std::io::Error),
    /// The drawing library reported an error.
    Draw(String),
}

impl std::fmt::Display for PlotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(e) => write!(f, "reading run directory: {e}"),
            Self::Io(e) => write!(f, "writing figure: {e}"),
            Self::Draw(e) => write!(f, "drawing figure: {e}"),
        }
    }
}

impl std::error::Error for PlotError {}

impl From<pbn_rundir::ReadError> for PlotError {
    fn from(e: pbn_rundir::ReadError) -> Self {
        Self::Read(e)
    }
}

impl From<std::io::Error> for PlotError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Black.
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    /// Mid grey.
    pub const GREY: Rgb = Rgb(128, 128, 128);
    /// Excitatory red (matplotlib tab:red).
    pub const EXC: Rgb = Rgb(214, 39, 40);
    /// Inhibitory blue (matplotlib tab:blue).
    pub const INH: Rgb = Rgb(31, 119, 180);
    /// External-input green (matplotlib tab:green).
    pub const EXT: Rgb = Rgb(44, 160, 44);

    /// Colour `i` of the default cycle (matplotlib's tab10), wrapping around.
    pub fn cycle(i: usize) -> Rgb {
        const TAB10: [Rgb; 10] = [
            Rgb(31, 119, 180),
            Rgb(255, 127, 14),
            Rgb(44, 160, 44),
            Rgb(214, 39, 40),
            Rgb(148, 103, 189),
            Rgb(140, 86, 75),
            Rgb(227, 119, 194),
            Rgb(127, 127, 127),
            Rgb(188, 189, 34),
            Rgb(23, 190, 207),
        ];
        TAB10[i % TAB10.len()]
    }

    /// Shade `i` of a family: 0 is the colour itself, further shades alternate darker and lighter.
    pub fn shade(self, i: usize) -> Rgb {
        if i == 0 {
            return self;
        }
        let step = i.div_ceil(2) as f64 * 0.3;
        let mix = |c: u8| -> u8 {
            let c = c as f64;
            let v = if i % 2 == 1 {
                c * (1.0 - step).max(0.2)
            } else {
                c + (255.0 - c) * step.min(0.7)
            };
            v.round() as u8
        };
        Rgb(mix(self.0), mix(self.1), mix(self.2))
    }
}

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineKind {
    /// Solid line.
    #[default]
    Solid,
    /// Dashed line (theory predictions by convention).
    Dashed,
    /// Markers only, no line.
    Markers,
    /// Solid line with a marker at each point.
    LineMarkers,
}

/// One line of a line plot.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Legend text; empty for no legend entry.
    pub label: String,
    /// x values.
    pub x: Vec<f64>,
    /// y values (same length as `x`; NaN points are skipped and break the line).
    pub y: Vec<f64>,
    /// Colour; `None` takes the next colour of the default cycle.
    pub color: Option<Rgb>,
    /// Line kind.
    pub kind: LineKind,
    /// Line width in pixels (0 means 2).
    pub width: u32,
    /// Opacity in [0, 1] (0 means opaque).
    pub alpha: f64,
    /// Optional shaded band (lower, upper) at each x, e.g. mean ± SD.
    pub band: Option<(Vec<f64>, Vec<f64>)>,
}

impl Series {
    /// A solid line.
    pub fn new(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Self {
            label: label.into(),
            x,
            y,
            ..Self::default()
        }
    }

    /// Sets the colour.
    pub fn color(mut self, c: Rgb) -> Self {
        self.color = Some(c);
        self
    }

    /// Sets the line kind.
    pub fn kind(mut self, k: LineKind) -> Self {
        self.kind = k;
        self
    }

    /// Sets the width (pixels).
    pub fn width(mut self, w: u32) -> Self {
        self.width = w;
        self
    }

    /// Sets the opacity.
    pub fn alpha(mut self, a: f64) -> Self {
        self.alpha = a;
        self
    }

    /// Adds a shaded band between `lower` and `upper`.
    pub fn band(mut self, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        self.band = Some((lower, upper));
        self
    }
}

/// A horizontal or vertical reference line across the whole panel (e.g. a theory value).
#[derive(Debug, Clone)]
pub struct RefLine {
    /// Position on the y axis (horizontal line) or x axis (vertical line).
    pub value: f64,
    /// Legend text; empty for none.
    pub label: String,
    /// Colour.
    pub color: Rgb,
    /// Dashed (default for theory) or solid.
    pub dashed: bool,
}

impl RefLine {
    /// A dashed reference line.
    pub fn dashed(value: f64, label: impl Into<String>, color: Rgb) -> Self {
        Self {
            value,
            label: label.into(),
            color,
            dashed: true,
        }
    }

    /// A solid reference line.
    pub fn solid(value: f64, label: impl Into<String>, color: Rgb) -> Self {
        Self {
            value,
            label: label.into(),
            color,
            dashed: false,
        }
    }
}

/// One group of a spike raster (e.g. one population), drawn in one colour.
#[derive(Debug, Clone)]
pub struct RasterGroup {
    /// Legend text.
    pub label: String,
    /// Spike times (x).
    pub times: Vec<f64>,
    /// Row of each spike (y), e.g. neuron id.
    pub rows: Vec<f64>,
    /// Colour.
    pub color: Rgb,
}

/// One distribution of an overlaid histogram.
#[derive(Debug, Clone)]
pub struct Hist {
    /// Legend text.
    pub label: String,
    /// Samples (non-finite ones are ignored).
    pub values: Vec<f64>,
    /// Colour; `None` takes the default cycle.
    pub color: Option<Rgb>,
}

/// One group of a scatter plot.
#[derive(Debug, Clone)]
pub struct ScatterGroup {
    /// Legend text (the fit, when drawn, is appended).
    pub label: String,
    /// x values.
    pub x: Vec<f64>,
    /// y values.
    pub y: Vec<f64>,
    /// Colour; `None` takes the default cycle.
    pub color: Option<Rgb>,
}

/// Points with symmetric error bars (e.g. mean ± SD over realizations).
#[derive(Debug, Clone)]
pub struct ErrorSeries {
    /// Legend text.
    pub label: String,
    /// x values.
    pub x: Vec<f64>,
    /// y values.
    pub y: Vec<f64>,
    /// Half-length of each bar (same length as `y`; 0 for none).
    pub err: Vec<f64>,
    /// Colour; `None` takes the default cycle.
    pub color: Option<Rgb>,
    /// Also join the points with a thin line.
    pub join: bool,
}

/// What a panel shows.
#[derive(Debug, Clone)]
pub enum Content {
    /// Lines (with optional bands).
    Lines(Vec<Series>),
    /// A spike raster.
    Raster(Vec<RasterGroup>),
    /// Overlaid histograms with `bins` common bins, each normalised to a probability density
    /// (`density = true`) or to counts.
    Histograms {
        /// The distributions.
        hists: Vec<Hist>,
        /// Number of bins over the common range.
        bins: usize,
        /// Normalise to unit area.
        density: bool,
    },
    /// Scatter groups; with `fit`, a least-squares line per group (slope and r in the legend).
    Scatter {
        /// The groups.
        groups: Vec<ScatterGroup>,
        /// Draw a linear fit per group.
        fit: bool,
    },
    /// Points with error bars, plus lines (e.g. dashed theory curves).
    ErrorBars {
        /// The measured points.
        points: Vec<ErrorSeries>,
        /// Lines drawn under the points.
        lines: Vec<Series>,
    },
}

/// One panel: axes, labels and content.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Panel title (may be empty).
    pub title: String,
    /// x-axis label, with units.
    pub x_label: String,
    /// y-axis label, with units.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// Fixed x range; `None` fits the data.
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range; `None` fits the data (and the reference lines), leaving room at the top for
    /// an upper legend.
    pub y_range: Option<(f64, f64)>,
    /// Extend the fitted y range to include 0 (linear axes only).
    pub include_zero: bool,
    /// Horizontal reference lines.
    pub hlines: Vec<RefLine>,
    /// Vertical reference lines.
    pub vlines: Vec<RefLine>,
    /// Where the legend goes.
    pub legend: Legend,
    /// The data.
    pub content: Content,
}

impl Panel {
    /// A panel with linear axes, no reference lines and the legend at the upper right.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>, c: Content) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x: false,
            log_y: false,
            x_range: None,
            y_range: None,
            include_zero: false,
            hlines: vec![],
            vlines: vec![],
            legend: Legend::UpperRight,
            content: c,
        }
    }
}

/// Legend placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Legend {
    /// Upper right corner, inside the plot.
    #[default]
    UpperRight,
    /// Upper left.
    UpperLeft,
    /// Lower right.
    LowerRight,
    /// Lower left.
    LowerLeft,
    /// No legend.
    None,
}

/// Several panels in a grid of `columns` columns (row by row), under one title.
///
/// `size` is the size of each panel in pixels (`None`: 1000 × 640); the SVG has the same layout.
pub fn figure(
    stem: &Path,
    title: &str,
    panels: &[Panel],
    columns: usize,
    size: Option<(u32, u32)>,
) -> Result<Vec<PathBuf>, PlotError> {
    draw::write_figure(stem, title, panels, columns.max(1), size.unwrap_or((1000, 640)))
}

/// Lines against x, with optional horizontal reference lines (theory values) and log axes.
#[allow(clippy::too_many_arguments)]
pub fn lines(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_x: bool,
    log_y: bool,
    hlines: &[RefLine],
) -> Result<Vec<PathBuf>, PlotError> {
    let mut p = Panel::new("", x_label, y_label, Content::Lines(series.to_vec()));
    p.log_x = log_x;
    p.log_y = log_y;
    p.hlines = hlines.to_vec();
    figure(stem, title, &[p], 1, None)
}

/// A spike raster: one dot per spike at (time, row), one colour per group.
pub fn raster(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    groups: &[RasterGroup],
) -> Result<Vec<PathBuf>, PlotError> {
    let p = Panel::new("", x_label, y_label, Content::Raster(groups.to_vec()));
    figure(stem, title, &[p], 1, None)
}

/// Overlaid semi-transparent histograms over common bins, normalised to probability density, with
/// optional vertical reference lines (e.g. a theory mean).
pub fn histograms(
    stem: &Path,
    title: &str,
    x_label: &str,
    hists: &[Hist],
    bins: usize,
    vlines: &[RefLine],
) -> Result<Vec<PathBuf>, PlotError> {
    let mut p = Panel::new(
        "",
        x_label,
        "probability density",
        Content::Histograms {
            hists: hists.to_vec(),
            bins,
            density: true,
        },
    );
    p.vlines = vlines.to_vec();
    figure(stem, title, &[p], 1, None)
}

/// A scatter plot with a least-squares line per group; the legend gives slope and correlation.
pub fn scatter_with_fit(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    groups: &[ScatterGroup],
) -> Result<Vec<PathBuf>, PlotError> {
    let p = Panel::new(
        "",
        x_label,
        y_label,
        Content::Scatter {
            groups: groups.to_vec(),
            fit: true,
        },
    );
    figure(stem, title, &[p], 1, None)
}

/// Points with error bars and lines (e.g. "simulation mean ± SD vs theory as N grows": the points are
/// the simulation, `theory` the dashed curves, `hlines` constant predictions). Log axes supported.
#[allow(clippy::too_many_arguments)]
pub fn points_with_errorbars(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[ErrorSeries],
    theory: &[Series],
    hlines: &[RefLine],
    log_x: bool,
    log_y: bool,
) -> Result<Vec<PathBuf>, PlotError> {
    let mut p = Panel::new(
        "",
        x_label,
        y_label,
        Content::ErrorBars {
            points: points.to_vec(),
            lines: theory.to_vec(),
        },
    );
    p.log_x = log_x;
    p.log_y = log_y;
    p.hlines = hlines.to_vec();
    figure(stem, title, &[p], 1, None)
}

pub use pbn_analysis::fit::LinearFit;

/// The least-squares line of `pbn_analysis` on the finite (x, y) pairs, or `None` where it is
/// undefined (fewer than 2 points or constant x) and nothing should be drawn.
pub fn linear_fit(x: &[f64], y: &[f64]) -> Option<LinearFit> {
    Some(pbn_analysis::fit::linear_fit(x, y)).filter(|f| f.slope.is_finite())
}

/// Paths `stem.png` and `stem.svg`.
pub fn figure_paths(stem: &Path) -> (PathBuf, PathBuf) {
    let with = |ext: &str| {
        let mut s = stem.as_os_str().to_os_string();
        s.push(".");
        s.push(ext);
        PathBuf::from(s)
    };
    (with("png"), with("svg"))
}
