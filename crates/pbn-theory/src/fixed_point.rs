//! Fixed points of the mean-field weight dynamics, their Jacobian eigenvalues and stability
//! (docs/theory.md §4.5).
//!
//! * One plastic block: the drift F(j) (rates re-solved from balance at every j) is scanned over
//!   the whole sign-consistent weight range on a dense grid (uniform ∪ geometric), every sign
//!   change inside the balanced range is refined with Brent's method — so *all* fixed points
//!   are reported, and their absence is stated with the sign of the drift and where balance
//!   breaks (Kohonen beyond the saddle-node, docs/theory.md §4.5.1).
//! * Several blocks, or a singular W: damped Newton on the joint system in (rates, weights)
//!   `W(j) r + ξ = 0, F(j, r) = 0` (finite-difference Jacobian, multi-start). The joint form
//!   needs no W⁻¹, so it also solves the optogenetic case of docs/theory.md §4.8, where W is singular for all
//!   weights (E1 and E2 share outgoing weights) and the homeostatic conditions r_E1 = r_E2 = ρ
//!   together with the balance rows fix r_I, j_E1I and j_E2I.
//!
//! Stability uses the Jacobian ∂(dj/dt)/∂j of the reduced dynamics (central differences,
//! reported in s⁻¹); it is undefined where W is singular.

use crate::balance;
use crate::drift::{self, DriftOptions};
use crate::error::TheoryError;
use crate::linalg::{self, Complex, Matrix};
use crate::model::Model;

/// Settings of the fixed-point search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolverOptions {
    /// Drift (covariance term) options.
    pub drift: DriftOptions,
    /// Grid points of the one-block scan.
    pub scan_points: usize,
    /// Newton iterations per start.
    pub max_iter: usize,
}

impl Default for SolverOptions {
    fn default() -> Self {
        Self {
            drift: DriftOptions::default(),
            scan_points: 4000,
            max_iter: 100,
        }
    }
}

/// Linear stability of a fixed point of dj/dt = F(j).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stability {
    /// All eigenvalues real and negative.
    StableNode,
    /// All real parts negative, some eigenvalues complex: damped oscillation.
    StableFocus,
    /// All eigenvalues real and positive.
    UnstableNode,
    /// All real parts positive, some complex: growing oscillation.
    UnstableFocus,
    /// Real parts of both signs.
    Saddle,
    /// Some real part zero (to rounding): linear analysis is inconclusive.
    Marginal,
    /// The drift vanishes identically: every weight is a fixed point (additive Hebb, docs/theory.md §4.5.3).
    Neutral,
    /// At a bound j_min/j_max with the drift pointing outward: stable (clipped).
    StableAtBound,
    /// Stability could not be assessed, and why.
    Undetermined(String),
}

impl Stability {
    /// Whether small perturbations decay.
    pub fn is_stable(&self) -> bool {
        matches!(self, Self::StableNode | Self::StableFocus | Self::StableAtBound)
    }

    /// Classifies from eigenvalues (any unit).
    pub fn classify(ev: &[Complex]) -> Self {
        let scale = ev.iter().map(|z| z.re.hypot(z.im)).fold(0.0, f64::max);
        let tol = 1e-9 * scale;
        if ev.is_empty() || scale == 0.0 {
            return Self::Marginal;
        }
        let neg = ev.iter().filter(|z| z.re < -tol).count();
        let pos = ev.iter().filter(|z| z.re > tol).count();
        let complex = ev.iter().any(|z| z.im.abs() > tol);
        match (neg, pos) {
            (n, 0) if n == ev.len() => {
                if complex {
                    Self::StableFocus
                } else {
                    Self::StableNode
                }
            }
            (0, p) if p == ev.len() => {
                if complex {
                    Self::UnstableFocus
                } else {
                    Self::UnstableNode
                }
            }
            (n, p) if n > 0 && p > 0 => Self::Saddle,
            _ => Self::Marginal,
        }
    }
}

impl std::fmt::Display for Stability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Self::StableNode => "stable node",
            Self::StableFocus => "stable focus",
            Self::UnstableNode => "unstable node",
            Self::UnstableFocus => "unstable focus",
            Self::Saddle => "saddle (unstable)",
            Self::Marginal => "marginal",
            Self::Neutral => "neutral (drift ≡ 0)",
            Self::StableAtBound => "stable (at bound)",
            Self::Undetermined(why) => return write!(f, "undetermined: {why}"),
        };
        f.write_str(s)
    }
}

/// A fixed point of the weight dynamics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FixedPoint {
    /// Mean unscaled weight of each plastic block (config order).
    pub weights: Vec<f64>,
    /// Population rates there (Hz).
    pub rates_hz: Vec<f64>,
    /// det W there.
    pub det_w: f64,
    /// ∂(dj_k/dt)/∂j_l (s⁻¹), when W is regular.
    pub jacobian_per_s: Option<Matrix>,
    /// Eigenvalues of the Jacobian (s⁻¹), largest real part first.
    pub eigenvalues_per_s: Vec<Complex>,
    /// Classification.
    pub stability: Stability,
}

/// Result of the fixed-point search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FixedPoints {
    /// The fixed points found (stable ones first, then by weight).
    pub points: Vec<FixedPoint>,
    /// How they were found and anything worth knowing (e.g. the balanced range scanned).
    pub notes: Vec<String>,
}

impl FixedPoints {
    /// The first stable fixed point, if any.
    pub fn stable(&self) -> Option<&FixedPoint> {
        self.points.iter().find(|p| p.stability.is_stable())
    }
}

/// Jacobian of the reduced dynamics ∂(dj/dt)/∂j (per ms) by central differences.
pub fn jacobian(model: &Model, j: &[f64], opts: &DriftOptions) -> Result<Matrix, TheoryError> {
    let p = j.len();
    let mut jac = linalg::zeros(p, p);
    for l in 0..p {
        let h = 1e-6 * j[l].abs().max(1.0);
        let mut up = j.to_vec();
        let mut dn = j.to_vec();
        up[l] += h;
        dn[l] -= h;
        let (fu, _) = drift::drift(model, &up, opts)?;
        let (fd, _) = drift::drift(model, &dn, opts)?;
        for k in 0..p {
            jac[k][l] = (fu[k] - fd[k]) / (2.0 * h);
        }
    }
    Ok(jac)
}

fn at_bound(model: &Model, j: &[f64]) -> bool {
    model.plastic.iter().zip(j).any(|(&b, &jb)| {
        let r = model.blocks[b].rule.as_ref().expect("plastic");
        r.j_min.is_some_and(|lo| (jb - lo).abs() <= 1e-12 * lo.abs().max(1.0))
            || r.j_max.is_some_and(|hi| (jb - hi).abs() <= 1e-12 * hi.abs().max(1.0))
    })
}

/// Completes a fixed point at weights `j` (rates given in kHz) with its stability.
fn describe(model: &Model, j: Vec<f64>, rates: Vec<f64>, opts: &DriftOptions) -> FixedPoint {
    let w = model.w(&j);
    let det_w = linalg::det(&w);
    let (jacobian_per_s, eigenvalues_per_s, stability) = if at_bound(model, &j) {
        (None, vec![], Stability::StableAtBound)
    } else {
        match jacobian(model, &j, opts) {
            Ok(jac) => {
                let jac_s: Matrix = jac.iter().map(|row| row.iter().map(|x| x * 1e3).collect()).collect();
                match linalg::eigenvalues(&jac_s) {
                    Ok(ev) => {
                        let st = Stability::classify(&ev);
                        (Some(jac_s), ev, st)
                    }
                    Err(e) => (
                        Some(jac_s),
                        vec![],
                        Stability::Undetermined(format!("the Jacobian's eigenvalues cannot be computed ({e})")),
                    ),
                }
            }
            Err(e) => (
                None,
                vec![],
                Stability::Undetermined(format!("the reduced dynamics are not defined here ({e})")),
            ),
        }
    };
    FixedPoint {
        weights: j,
        rates_hz: rates.iter().map(|r| r * 1e3).collect(),
        det_w,
        jacobian_per_s,
        eigenvalues_per_s,
        stability,
    }
}

/// Sign (+1/−1) a block's weight must keep: that of its initial weight, else of its source.
fn weight_sign(model: &Model, k: usize, j0: f64) -> f64 {
    if j0 != 0.0 {
        j0.signum()
    } else if model.populations[model.blocks[model.plastic[k]].pre].excitatory {
        1.0
    } else {
        -1.0
    }
}

/// Finds the fixed points of the weight dynamics of `model`, starting from `initial` weights
/// (one per plastic block).
pub fn find_fixed_points(model: &Model, initial: &[f64], opts: &SolverOptions) -> Result<FixedPoints, TheoryError> {
    if model.plastic.is_empty() {
        return Err(TheoryError::Config("no plastic projection: nothing to solve".into()));
    }
    if model.plastic.len() == 1 {
        match scan_1d(model, initial[0], opts) {
            Scan::Found(fp) => return Ok(fp),
            Scan::None(reason) => return Err(TheoryError::NoFixedPoint(reason)),
            Scan::NothingFeasible => {} // e.g. W singular everywhere: fall through to Newton.
        }
    }
    newton_multistart(model, initial, opts)
}

enum Scan {
    Found(FixedPoints),
    None(String),
    NothingFeasible,
}

/// Brent's method for a root of f in [a, b] with f(a)·f(b) ≤ 0.
pub fn brent(mut f: impl FnMut(f64) -> f64, mut a: f64, mut b: f64, tol: f64) -> f64 {
    let (mut fa, mut fb) = (f(a), f(b));
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 {
        return b;
    }
    let (mut c, mut fc) = (a, fa);
    let (mut d, mut e) = (b - a, b - a);
    for _ in 0..200 {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol1 = 2.0 * f64::EPSILON * b.abs() + 0.5 * tol;
        let xm = 0.5 * (c - b);
        if xm.abs() <= tol1 || fb == 0.0 {
            return b;
        }
        if e.abs() >= tol1 && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * xm * s;
                q = 1.0 - s;
            } else {
                let qq = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * xm * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            }
            p = p.abs();
            if 2.0 * p < (3.0 * xm * q - (tol1 * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = xm;
                e = d;
            }
        } else {
            d = xm;
            e = d;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol1 { d } else { tol1.copysign(xm) };
        fb = f(b);
    }
    b
}

fn scan_1d(model: &Model, j0: f64, opts: &SolverOptions) -> Scan {
    let rule = model.blocks[model.plastic[0]].rule.as_ref().expect("plastic");
    let label = model.block_label(model.plastic[0]);
    let sign = weight_sign(model, 0, j0);
    let scale = model
        .blocks
        .iter()
        .map(|b| b.weight.abs())
        .chain([
            j0.abs(),
            rule.j_min.map_or(0.0, f64::abs),
            rule.j_max.map_or(0.0, f64::abs),
        ])
        .filter(|x| x.is_finite())
        .fold(1.0, f64::max);
    // Signed interval: (0, 20·scale] on the side of the weight's sign, cut to the bounds.
    let (mut lo, mut hi) = if sign > 0.0 {
        (scale * 1e-9, 20.0 * scale)
    } else {
        (-20.0 * scale, -scale * 1e-9)
    };
    if let Some(b) = rule.j_min.filter(|b| b.is_finite()) {
        lo = lo.max(b);
        if b >= hi {
            hi = b + scale;
        }
    }
    if let Some(b) = rule.j_max.filter(|b| b.is_finite()) {
        hi = hi.min(b);
        if b <= lo {
            lo = b - scale;
        }
    }
    let n = opts.scan_points.max(10);
    let mut grid: Vec<f64> = (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64).collect();
    if lo * hi > 0.0 {
        let (a, b) = (lo.abs(), hi.abs());
        grid.extend((0..n).map(|i| sign * a * (b / a).powf(i as f64 / (n - 1) as f64)));
    }
    grid.push(j0.clamp(lo, hi));
    grid.sort_by(f64::total_cmp);
    grid.dedup();

    let eval = |j: f64| drift::drift(model, &[j], &opts.drift).map(|(f, r)| (f[0], r));
    struct Pt {
        j: f64,
        f: f64,
        scale: f64,
        det: f64,
    }
    let mut pts: Vec<Option<Pt>> = Vec::with_capacity(grid.len());
    let mut first_err: Vec<(f64, TheoryError)> = Vec::new();
    for &j in &grid {
        match eval(j) {
            Ok((f, r)) => {
                let w = model.w(&[j]);
                match drift::drift_scale_at_rates(model, &[j], &r, &w, &opts.drift) {
                    Ok(sc) => pts.push(Some(Pt {
                        j,
                        f,
                        scale: sc[0],
                        det: linalg::det(&w),
                    })),
                    Err(e) => {
                        first_err.push((j, e));
                        pts.push(None);
                    }
                }
            }
            Err(e) => {
                first_err.push((j, e));
                pts.push(None);
            }
        }
    }
    let feasible: Vec<&Pt> = pts.iter().flatten().collect();
    if feasible.is_empty() {
        return Scan::NothingFeasible;
    }
    let (f_lo, f_hi) = (feasible[0].j, feasible[feasible.len() - 1].j);
    let mut notes = vec![format!(
        "{label}: scanned {} weights in [{lo:.4}, {hi:.4}]; positive balanced state for {label} in [{f_lo:.4}, {f_hi:.4}]",
        grid.len()
    )];
    // Neutral: the drift cancels everywhere.
    if feasible.iter().all(|p| p.f.abs() <= 1e-9 * p.scale) {
        let j = j0.clamp(f_lo, f_hi);
        let r = balance::rates(model, &[j]).unwrap_or_default();
        let mut fp = describe(model, vec![j], r, &opts.drift);
        fp.stability = Stability::Neutral;
        notes.push(format!(
            "{label}: the mean drift vanishes identically (rate terms cancel and Γ⁺ = Γ⁻): every weight is a fixed point; the mean stays at its initial value while individual weights diffuse (docs/theory.md §4.5.3)"
        ));
        return Scan::Found(FixedPoints {
            points: vec![fp],
            notes,
        });
    }
    let f_at = |j: f64| eval(j).map_or(f64::NAN, |(f, _)| f);
    let mut roots: Vec<f64> = Vec::new();
    for w in pts.windows(2) {
        let (Some(a), Some(b)) = (&w[0], &w[1]) else { continue };
        if a.f == 0.0 {
            roots.push(a.j);
        }
        if a.f * b.f < 0.0 && a.det.signum() == b.det.signum() {
            let tol = 1e-13 * a.j.abs().max(b.j.abs()).max(1e-12);
            roots.push(brent(f_at, a.j, b.j, tol));
        }
    }
    if let Some(Some(last)) = pts.last()
        && last.f == 0.0
    {
        roots.push(last.j);
    }
    roots.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * a.abs().max(1.0));
    if roots.is_empty() {
        let dir = if feasible.iter().all(|p| p.f > 0.0) {
            "positive (the weight grows)"
        } else if feasible.iter().all(|p| p.f < 0.0) {
            "negative (the weight shrinks)"
        } else {
            "of both signs, but changes sign only where balance fails"
        };
        // Where does balance break next to the feasible range, and why?
        let edge = |j_edge: f64, upward: bool| -> String {
            let beyond = first_err
                .iter()
                .filter(|(j, _)| if upward { *j > j_edge } else { *j < j_edge })
                .min_by(|x, y| (x.0 - j_edge).abs().total_cmp(&(y.0 - j_edge).abs()));
            match beyond {
                Some((jb, e)) => {
                    // Bisect the feasibility boundary.
                    let (mut ok, mut bad) = (j_edge, *jb);
                    for _ in 0..60 {
                        let mid = 0.5 * (ok + bad);
                        if eval(mid).is_ok() { ok = mid } else { bad = mid }
                    }
                    let det_ok = linalg::det(&model.w(&[ok]));
                    let det_bad = linalg::det(&model.w(&[*jb]));
                    let why = match e {
                        _ if det_ok.signum() != det_bad.signum() => {
                            "det W passes through 0 there (the rates diverge)".to_string()
                        }
                        TheoryError::SingularW { .. } => "W becomes singular".to_string(),
                        TheoryError::NonPositiveRates { .. } => "a rate reaches zero".to_string(),
                        other => other.to_string(),
                    };
                    format!("balance breaks at {label} ≈ {ok:.4}: {why}")
                }
                None => format!("the scanned range ends at {label} = {j_edge:.4}"),
            }
        };
        let towards = if feasible.iter().all(|p| p.f > 0.0) {
            edge(f_hi, true)
        } else {
            edge(f_lo, false)
        };
        return Scan::None(format!(
            "dj/dt of {label} is {dir} for every {label} in the balanced range [{f_lo:.4}, {f_hi:.4}]; {towards}"
        ));
    }
    let mut points: Vec<FixedPoint> = roots
        .into_iter()
        .filter_map(|j| {
            balance::rates(model, &[j])
                .ok()
                .map(|r| describe(model, vec![j], r, &opts.drift))
        })
        .collect();
    sort_points(&mut points);
    Scan::Found(FixedPoints { points, notes })
}

fn sort_points(points: &mut [FixedPoint]) {
    points.sort_by(|a, b| {
        b.stability
            .is_stable()
            .cmp(&a.stability.is_stable())
            .then(a.weights[0].abs().total_cmp(&b.weights[0].abs()))
    });
}

/// The joint residual G(r, j) = [W(j) r + ξ; F(j, r)/ρ], with F the drift (per ms) and ρ each
/// rule's rate (so the roots are those of the drift, at a scale independent of η).
fn joint_residual(model: &Model, x: &[f64], opts: &DriftOptions) -> Result<Vec<f64>, TheoryError> {
    let k = model.k();
    let (r, j) = x.split_at(k);
    let w = model.w(j);
    let xi = model.drive();
    let mut g: Vec<f64> = linalg::mat_vec(&w, r).iter().zip(&xi).map(|(a, b)| a + b).collect();
    let f = drift::drift_at_rates(model, j, r, &w, opts)?;
    for (fk, &b) in f.iter().zip(&model.plastic) {
        g.push(fk / model.blocks[b].rule.as_ref().expect("plastic").rate);
    }
    Ok(g)
}

fn newton_multistart(model: &Model, initial: &[f64], opts: &SolverOptions) -> Result<FixedPoints, TheoryError> {
    let k = model.k();
    let signs: Vec<f64> = initial
        .iter()
        .enumerate()
        .map(|(i, &j)| weight_sign(model, i, j))
        .collect();
    let mut starts: Vec<Vec<f64>> = Vec::new();
    for f in [1.0, 0.5, 2.0, 0.75, 1.5, 0.25, 4.0] {
        starts.push(
            initial
                .iter()
                .zip(&signs)
                .map(|(&j, &s)| if j != 0.0 { j * f } else { s * f })
                .collect(),
        );
    }
    let mut found: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    let mut failures = Vec::new();
    for j0 in starts {
        // Initial rates: balance if possible, else least squares, floored at 1 Hz.
        let w = model.w(&j0);
        let rhs: Vec<f64> = model.drive().iter().map(|x| -x).collect();
        let r0 = match linalg::solve(&w, &rhs) {
            Ok(Some(r)) => r,
            Ok(None) => match linalg::lstsq_min_norm(&w, &rhs, 1e-9) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(e.to_string());
                    continue;
                }
            },
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        let mut x: Vec<f64> = r0.iter().map(|r| r.max(1e-3)).collect();
        x.extend(&j0);
        match newton(model, x, &signs, opts) {
            Ok(x) => {
                let (r, j) = x.split_at(k);
                if !found
                    .iter()
                    .any(|(fj, _)| fj.iter().zip(j).all(|(a, b)| (a - b).abs() <= 1e-7 * a.abs().max(1.0)))
                {
                    found.push((j.to_vec(), r.to_vec()));
                }
            }
            Err(e) => failures.push(e),
        }
        if !found.is_empty() {
            break;
        }
    }
    if found.is_empty() {
        let why = failures.first().cloned().unwrap_or_else(|| "no start converged".into());
        return Err(TheoryError::NoFixedPoint(format!(
            "damped Newton on the joint (rates, weights) system found no fixed point with positive rates from 7 starts around the config's weights (first failure: {why})"
        )));
    }
    let mut notes = vec!["fixed point from damped Newton on the joint system W(j) r + ξ = 0, dj/dt = 0".to_string()];
    let points: Vec<FixedPoint> = found
        .into_iter()
        .map(|(j, r)| {
            let w = model.w(&j);
            if !matches!(linalg::solve(&w, &r), Ok(Some(_))) {
                match balance::compatibility(model, &w, &model.drive()) {
                    Ok(comp) => notes.push(format!(
                        "W is singular at the fixed point (det W = {:.3e}): balance fixes the rates only through the weights' compatibility condition(s) {}; the rates shown are the ones the homeostatic conditions select",
                        linalg::det(&w),
                        comp.iter().map(|c| c.condition.clone()).collect::<Vec<_>>().join(", ")
                    )),
                    Err(e) => notes.push(format!("W cannot be analysed at the fixed point: {e}")),
                }
            }
            describe(model, j, r, &opts.drift)
        })
        .collect();
    Ok(FixedPoints { points, notes })
}

/// Damped Newton on the joint residual; iterates keep positive rates and weight signs.
fn newton(model: &Model, mut x: Vec<f64>, signs: &[f64], opts: &SolverOptions) -> Result<Vec<f64>, String> {
    let k = model.k();
    let nx = x.len();
    let typical: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| if i < k { v.abs().max(1e-3) } else { v.abs().max(1.0) })
        .collect();
    // Row scales from the initial point, so the merit function weighs rows comparably.
    let row_scale: Vec<f64> = {
        let (r, j) = x.split_at(k);
        let w = model.w(j);
        let xi = model.drive();
        let mut s: Vec<f64> = (0..k)
            .map(|a| xi[a].abs() + w[a].iter().zip(r).map(|(w, r)| (w * r).abs()).sum::<f64>())
            .collect();
        let sc = drift::drift_scale_at_rates(model, j, r, &w, &opts.drift).map_err(|e| e.to_string())?;
        for (scale, &b) in sc.iter().zip(&model.plastic) {
            s.push(scale / model.blocks[b].rule.as_ref().expect("plastic").rate.abs());
        }
        s.into_iter()
            .map(|v| if v > 0.0 && v.is_finite() { 1.0 / v } else { 1.0 })
            .collect()
    };
    let merit = |g: &[f64]| {
        g.iter()
            .zip(&row_scale)
            .map(|(g, s)| (g * s).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let admissible =
        |x: &[f64]| x[..k].iter().all(|&r| r > 0.0) && x[k..].iter().zip(signs).all(|(&j, &s)| j * s > 0.0);
    let mut g = joint_residual(model, &x, &opts.drift).map_err(|e| e.to_string())?;
    let mut m = merit(&g);
    for _ in 0..opts.max_iter {
        if m < 1e-13 {
            return Ok(x);
        }
        let mut jac = linalg::zeros(nx, nx);
        for l in 0..nx {
            let h = 1e-7 * x[l].abs().max(typical[l]);
            let (mut up, mut dn) = (x.clone(), x.clone());
            up[l] += h;
            dn[l] -= h;
            let (gu, gd) = (
                joint_residual(model, &up, &opts.drift).map_err(|e| e.to_string())?,
                joint_residual(model, &dn, &opts.drift).map_err(|e| e.to_string())?,
            );
            for i in 0..nx {
                jac[i][l] = (gu[i] - gd[i]) / (2.0 * h);
            }
        }
        let neg: Vec<f64> = g.iter().map(|v| -v).collect();
        let step = match linalg::solve(&jac, &neg).map_err(|e| e.to_string())? {
            Some(step) => step,
            None => linalg::lstsq_min_norm(&jac, &neg, 1e-12).map_err(|e| e.to_string())?,
        };
        let mut lambda = 1.0;
        loop {
            let trial: Vec<f64> = x.iter().zip(&step).map(|(x, s)| x + lambda * s).collect();
            if admissible(&trial) {
                // A trial point where the residual cannot be evaluated counts as no better.
                let gt = joint_residual(model, &trial, &opts.drift).unwrap_or_else(|_| vec![f64::NAN; nx]);
                let mt = merit(&gt);
                if mt.is_finite() && mt < (1.0 - 1e-4 * lambda) * m {
                    let small = trial
                        .iter()
                        .zip(&x)
                        .zip(&typical)
                        .all(|((a, b), t)| (a - b).abs() <= 1e-14 * a.abs().max(*t));
                    x = trial;
                    g = gt;
                    m = mt;
                    if small && m < 1e-9 {
                        return Ok(x);
                    }
                    break;
                }
            }
            lambda *= 0.5;
            if lambda < 1e-8 {
                return if m < 1e-9 {
                    Ok(x)
                } else {
                    Err(format!("Newton stalled (scaled residual {m:.3e})"))
                };
            }
        }
    }
    if m < 1e-9 {
        Ok(x)
    } else {
        Err(format!(
            "no convergence in {} iterations (scaled residual {m:.3e})",
            opts.max_iter
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn model(spec: &pbn_core::NetworkSpec) -> Model {
        Model::new(spec, 0.0).unwrap()
    }

    fn solve(spec: &pbn_core::NetworkSpec, opts: &SolverOptions) -> Result<FixedPoints, TheoryError> {
        let m = model(spec);
        find_fixed_points(&m, &m.initial_plastic_weights(), opts)
    }

    #[test]
    fn kohonen_fixed_point_and_rates() {
        // docs/theory.md §4.5.1 / docs/validation.md §8.A.3: j_ee* = 3.000, r = (7.5, 18.9) Hz;
        // unstable partner root 42.0.
        let fp = solve(&testing::kohonen(2.0, 1.0), &SolverOptions::default()).unwrap();
        assert_eq!(fp.points.len(), 2, "{fp:?}");
        let s = fp.stable().unwrap();
        assert!((s.weights[0] - 3.0).abs() < 1e-9, "{}", s.weights[0]);
        assert!((s.rates_hz[0] - 7.5).abs() < 1e-9 && (s.rates_hz[1] - 18.9).abs() < 1e-9);
        assert_eq!(s.stability, Stability::StableNode);
        // g'(j*) = η r_e [βτ ∂r_e/∂j − 1], ∂r_e/∂j = r_e/(45 − j): 1/(0.00696 η) ms.
        let re = 0.0075;
        let g = 1e-3 * re * (2.0 * 200.0 * re / 42.0 - 1.0) * 1e3;
        assert!(
            (s.eigenvalues_per_s[0].re - g).abs() < 1e-7 * g.abs(),
            "{:?} vs {g}",
            s.eigenvalues_per_s
        );
        assert!((s.eigenvalues_per_s[0].re + 0.00696).abs() < 1e-4);
        let u = &fp.points[1];
        assert!((u.weights[0] - 42.0).abs() < 1e-9);
        assert_eq!(u.stability, Stability::UnstableNode);
    }

    #[test]
    fn kohonen_beta_table() {
        // docs/theory.md §4.5.1 table (β = 1 … 4 step 0.2), within 1e-3; closed form [45 − √(2025 − 252β)]/2.
        let table = [
            1.4465, 1.7479, 2.0537, 2.3642, 2.6796, 3.0000, 3.3258, 3.6572, 3.9946, 4.3382, 4.6885, 5.0458, 5.4105,
            5.7832, 6.1645, 6.5548,
        ];
        for (i, want) in table.iter().enumerate() {
            let beta = 1.0 + 0.2 * i as f64;
            let fp = solve(&testing::kohonen(beta, 1.0), &SolverOptions::default()).unwrap();
            let got = fp.stable().unwrap().weights[0];
            assert!((got - want).abs() < 1e-3, "β = {beta}: {got} vs {want}");
            let exact = (45.0 - (2025.0 - 252.0 * beta).sqrt()) / 2.0;
            assert!((got - exact).abs() < 1e-9, "β = {beta}: {got} vs {exact}");
        }
    }

    #[test]
    fn kohonen_saddle_node_near_beta_c() {
        // β_c = 2025/252 = 8.0357: two roots just below, none above.
        let below = solve(&testing::kohonen(8.03, 1.0), &SolverOptions::default()).unwrap();
        assert_eq!(below.points.len(), 2, "{below:?}");
        assert!(below.stable().is_some());
        match solve(&testing::kohonen(8.05, 1.0), &SolverOptions::default()) {
            Err(TheoryError::NoFixedPoint(why)) => {
                assert!(
                    why.contains("positive") && why.contains("det W passes through 0"),
                    "{why}"
                );
                assert!(why.contains("45.0000") || why.contains("44.9999"), "{why}");
            }
            other => panic!("expected no fixed point, got {other:?}"),
        }
    }

    #[test]
    fn kohonen_correlations_raise_the_fixed_point_mildly() {
        // docs/theory.md §4.5.1: j_ee* = 3.000 / 3.081 / 3.408 / 3.825 for c = 0 / 0.1 / 0.5 / 1 (κ = 1).
        for (c, want) in [(0.1, 3.081), (0.5, 3.408), (1.0, 3.825)] {
            let mut spec = testing::kohonen(2.0, 1.0);
            spec.inputs[0].correlation = c;
            let got = solve(&spec, &SolverOptions::default())
                .unwrap()
                .stable()
                .unwrap()
                .weights[0];
            assert!((got - want).abs() < 1e-3, "c = {c}: {got} vs {want}");
        }
    }

    #[test]
    fn istdp_ie_fixed_point() {
        // docs/theory.md §4.5.5 / docs/validation.md §8.A.4: r_e* = 10 Hz, r_i* = 23.4 Hz, j_ei* = −119.6581 (c = 0).
        let fp = solve(&testing::istdp_ie(1e-4), &SolverOptions::default()).unwrap();
        assert_eq!(fp.points.len(), 1, "{fp:?}");
        let p = &fp.points[0];
        assert!((p.weights[0] + 119.6581).abs() < 1e-4, "{}", p.weights[0]);
        assert!((p.rates_hz[0] - 10.0).abs() < 1e-9 && (p.rates_hz[1] - 23.4).abs() < 1e-9);
        assert_eq!(p.stability, Stability::StableNode);
        // Relaxation rate ≈ 0.080 η per ms (η = 10⁻⁴): time constant ≈ 125 s.
        let lambda = -p.eigenvalues_per_s[0].re;
        assert!((1.0 / lambda - 125.0).abs() < 3.0, "τ = {} s", 1.0 / lambda);
    }

    #[test]
    fn istdp_ie_with_correlations() {
        // c = 0.1, κ = 1: r_e* = ρ_e/(1 + κc/(2τ r_x)) = 9.7561 Hz, j_ei* = −120.884.
        let mut spec = testing::istdp_ie(1e-4);
        spec.inputs[0].correlation = 0.1;
        let p = solve(&spec, &SolverOptions::default()).unwrap().points[0].clone();
        assert!(
            (p.rates_hz[0] - 10.0 / (1.0 + 0.1 / 4.0)).abs() < 1e-7,
            "{:?}",
            p.rates_hz
        );
        assert!((p.rates_hz[0] - 9.7561).abs() < 1e-4);
        assert!((p.weights[0] + 120.884).abs() < 1e-3, "{}", p.weights[0]);
    }

    #[test]
    fn istdp_ie_ii_fixed_points() {
        // docs/theory.md §4.5.6: ρ_i = 20 Hz → (−140.0, −292.5); ρ_i = 23 Hz → (−121.739, −254.348).
        for (rho_i, want) in [(20.0, [-140.0, -292.5]), (23.0, [-121.739, -254.348])] {
            let fp = solve(&testing::istdp_ie_ii(rho_i, 1e-4, 1e-4), &SolverOptions::default()).unwrap();
            let p = &fp.points[0];
            assert!((p.weights[0] - want[0]).abs() < 1e-3, "{:?}", p.weights);
            assert!((p.weights[1] - want[1]).abs() < 1e-3, "{:?}", p.weights);
            assert!((p.rates_hz[0] - 10.0).abs() < 1e-8 && (p.rates_hz[1] - rho_i).abs() < 1e-8);
        }
    }

    #[test]
    fn istdp_ie_ii_eigenvalues() {
        // docs/validation.md §8.A.6 (ρ_i = 23 Hz, N = 5000), s⁻¹.
        type Case = (f64, f64, [(f64, f64); 2], Stability);
        let cases: [Case; 3] = [
            (
                1e-4,
                1e-4,
                [(-7.05e-4, 7.65e-3), (-7.05e-4, -7.65e-3)],
                Stability::StableFocus,
            ),
            (1e-4, 1e-3, [(0.0433, 0.0), (0.0136, 0.0)], Stability::UnstableNode),
            (1e-3, 1e-4, [(-0.0094, 0.0), (-0.0631, 0.0)], Stability::StableNode),
        ];
        for (eta_ei, eta_ii, want, stab) in cases {
            let fp = solve(&testing::istdp_ie_ii(23.0, eta_ei, eta_ii), &SolverOptions::default()).unwrap();
            let p = &fp.points[0];
            assert_eq!(p.stability, stab, "{:?}", p.eigenvalues_per_s);
            for (z, (re, im)) in p.eigenvalues_per_s.iter().zip(want) {
                let tol = 0.01 * re.abs().max(im.abs());
                assert!(
                    (z.re - re).abs() < tol && (z.im - im).abs() < tol,
                    "({eta_ei}, {eta_ii}): {z:?} vs ({re}, {im})"
                );
            }
        }
    }

    #[test]
    fn istdp_ii_alone_is_unstable() {
        // docs/theory.md §4.5.6: I→I iSTDP alone pushes the wrong way in the inhibition-stabilised regime.
        let mut spec = testing::default();
        spec.projections[3].plasticity = Some(pbn_core::spec::PlasticitySpec::Istdp {
            eta: 1e-4,
            target_rate_hz: 20.0,
            j_norm: -200.0,
            tau_ms: 200.0,
        });
        let fp = solve(&spec, &SolverOptions::default()).unwrap();
        assert!(fp.points.iter().all(|p| !p.stability.is_stable()), "{fp:?}");
        assert!((fp.points[0].rates_hz[1] - 20.0).abs() < 1e-8);
    }

    #[test]
    fn soft_hebb_fixed_point_is_j_max() {
        // docs/theory.md §4.5.2: j_ee* = j_max; j_max = 25, j_ei = −100 → r = (15.75, 33.75) Hz.
        let mut spec = testing::default();
        spec.projections[1].weight = -100.0;
        spec.projections[0].weight = 20.0;
        spec.projections[0].plasticity = Some(pbn_core::spec::PlasticitySpec::HebbSoft {
            eta: 1e-3,
            j_max: 25.0,
            tau_ms: 200.0,
        });
        let fp = solve(&spec, &SolverOptions::default()).unwrap();
        let p = fp.stable().unwrap();
        assert!((p.weights[0] - 25.0).abs() < 1e-9);
        assert!((p.rates_hz[0] - 15.75).abs() < 1e-9 && (p.rates_hz[1] - 33.75).abs() < 1e-9);
        // Relaxation rate η τ r_e² (s⁻¹).
        let want = -1e-3 * 200.0 * 0.01575f64.powi(2) * 1e3;
        assert!((p.eigenvalues_per_s[0].re - want).abs() < 1e-6 * want.abs());
    }

    #[test]
    fn additive_hebb_is_neutral() {
        let mut spec = testing::default();
        spec.projections[0].plasticity = Some(pbn_core::spec::PlasticitySpec::HebbAdditive {
            eta: 1e-3,
            j_min: None,
            j_max: None,
            tau_ms: 200.0,
        });
        let fp = solve(&spec, &SolverOptions::default()).unwrap();
        assert_eq!(fp.points[0].stability, Stability::Neutral);
        assert_eq!(fp.points[0].weights[0], 25.0);
    }

    #[test]
    fn optogenetic_fixed_point_during_stimulation() {
        // docs/theory.md §4.8 / docs/validation.md §8.A.5: j_e1i* ≈ −158.12, j_e2i* ≈ −119.66,
        // r_i* = 23.4 Hz, W singular.
        let spec = testing::optogenetic();
        let m = Model::new(&spec, 2_500_000.0).unwrap();
        let fp = find_fixed_points(&m, &m.initial_plastic_weights(), &SolverOptions::default()).unwrap();
        let p = &fp.points[0];
        assert!((p.weights[0] + 158.1197).abs() < 1e-3, "{:?}", p.weights);
        assert!((p.weights[1] + 119.6581).abs() < 1e-3, "{:?}", p.weights);
        assert!((p.weights[0] - p.weights[1] + 38.46).abs() < 1e-2);
        assert!((p.rates_hz[0] - 10.0).abs() < 1e-8 && (p.rates_hz[1] - 10.0).abs() < 1e-8);
        assert!((p.rates_hz[2] - 23.4).abs() < 1e-8);
        assert!(matches!(p.stability, Stability::Undetermined(_)));
        assert!(fp.notes.iter().any(|n| n.contains("singular")), "{:?}", fp.notes);
        // Before the stimulus: both at −119.66.
        let m = Model::new(&spec, 0.0).unwrap();
        let fp = find_fixed_points(&m, &m.initial_plastic_weights(), &SolverOptions::default()).unwrap();
        let p = &fp.points[0];
        assert!(
            (p.weights[0] + 119.6581).abs() < 1e-3 && (p.weights[1] + 119.6581).abs() < 1e-3,
            "{:?}",
            p.weights
        );
    }

    #[test]
    fn brent_finds_roots() {
        let r = brent(|x| x * x - 2.0, 0.0, 2.0, 1e-15);
        assert!((r - 2f64.sqrt()).abs() < 1e-14);
    }

    #[test]
    fn stability_classification() {
        let c = |re, im| Complex { re, im };
        assert_eq!(
            Stability::classify(&[c(-1.0, 0.0), c(-2.0, 0.0)]),
            Stability::StableNode
        );
        assert_eq!(
            Stability::classify(&[c(-1.0, 1.0), c(-1.0, -1.0)]),
            Stability::StableFocus
        );
        assert_eq!(Stability::classify(&[c(1.0, 0.0), c(-2.0, 0.0)]), Stability::Saddle);
        assert_eq!(
            Stability::classify(&[c(1.0, 1.0), c(1.0, -1.0)]),
            Stability::UnstableFocus
        );
        assert_eq!(Stability::classify(&[c(0.0, 1.0), c(0.0, -1.0)]), Stability::Marginal);
    }
}
