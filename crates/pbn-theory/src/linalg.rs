//! Small dense linear algebra on row-major `Vec<Vec<f64>>` matrices, backed by `faer`.
//!
//! The theory's matrices are K×K with K the number of populations (2–4 in practice), so
//! convenience beats speed here: plain nested vectors in, plain vectors out. Decompositions that
//! can fail (SVD, eigenvalues: on non-finite entries, or entries so large that sums of their
//! squares overflow, e.g. from weights of 1e200) return [`TheoryError::Numerical`] instead of
//! panicking.

use faer::Mat;
use faer::prelude::Solve;

use crate::error::TheoryError;

/// A dense row-major matrix.
pub type Matrix = Vec<Vec<f64>>;

/// A complex number (real, imaginary), e.g. an eigenvalue.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Complex {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

fn to_faer(a: &Matrix) -> Mat<f64> {
    let rows = a.len();
    let cols = a.first().map_or(0, Vec::len);
    Mat::from_fn(rows, cols, |i, j| a[i][j])
}

/// A k×k matrix of zeros.
pub fn zeros(rows: usize, cols: usize) -> Matrix {
    vec![vec![0.0; cols]; rows]
}

/// Matrix–vector product a·x.
pub fn mat_vec(a: &Matrix, x: &[f64]) -> Vec<f64> {
    a.iter()
        .map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum())
        .collect()
}

/// Transpose.
pub fn transpose(a: &Matrix) -> Matrix {
    let cols = a.first().map_or(0, Vec::len);
    (0..cols).map(|j| a.iter().map(|row| row[j]).collect()).collect()
}

/// Determinant (LU with partial pivoting).
pub fn det(a: &Matrix) -> f64 {
    if a.is_empty() {
        return 1.0;
    }
    to_faer(a).determinant()
}

/// Largest |entry| of a matrix (NaN if some entry is NaN).
fn max_abs(a: &Matrix) -> f64 {
    a.iter().flatten().fold(0.0, |m: f64, &x| {
        if x.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(x.abs())
        }
    })
}

/// The error of a decomposition `what` of `a` that did not work out.
fn failed(what: &str, a: &Matrix, why: impl std::fmt::Debug) -> TheoryError {
    let (rows, cols) = (a.len(), a.first().map_or(0, Vec::len));
    let largest = max_abs(a);
    let hint = if !largest.is_finite() {
        "it has non-finite entries".to_string()
    } else if largest > 1e150 {
        format!(
            "its entries reach {largest:.3e}, and their squares overflow double precision (are the weights absurdly large?)"
        )
    } else {
        format!("largest |entry| {largest:.3e}")
    };
    TheoryError::Numerical(format!("the {what} of a {rows}×{cols} matrix failed ({why:?}): {hint}"))
}

/// The SVD of `a`, or why it failed.
fn svd(a: &Matrix) -> Result<faer::linalg::solvers::Svd<f64>, TheoryError> {
    if !max_abs(a).is_finite() {
        return Err(failed("singular value decomposition", a, "NonFinite"));
    }
    to_faer(a)
        .svd()
        .map_err(|e| failed("singular value decomposition", a, e))
}

/// Singular values, largest first.
pub fn singular_values(a: &Matrix) -> Result<Vec<f64>, TheoryError> {
    if a.is_empty() {
        return Ok(vec![]);
    }
    if !max_abs(a).is_finite() {
        return Err(failed("singular value decomposition", a, "NonFinite"));
    }
    to_faer(a)
        .singular_values()
        .map_err(|e| failed("singular value decomposition", a, e))
}

/// Reciprocal condition number σ_min/σ_max (0 for a singular matrix, 1 for the identity).
pub fn reciprocal_condition(a: &Matrix) -> Result<f64, TheoryError> {
    let s = singular_values(a)?;
    Ok(match (s.first(), s.last()) {
        (Some(&max), Some(&min)) if max > 0.0 && max.is_finite() => min / max,
        _ => 0.0,
    })
}

/// Below this reciprocal condition number a matrix is treated as singular.
pub const SINGULAR_RCOND: f64 = 1e-12;

/// Solves a·x = b for square, non-singular a (full-pivoting LU); `None` if a is singular
/// (reciprocal condition number below [`SINGULAR_RCOND`]) or the result is not finite; an error
/// if a's condition cannot be computed.
pub fn solve(a: &Matrix, b: &[f64]) -> Result<Option<Vec<f64>>, TheoryError> {
    if a.is_empty() {
        return Ok(Some(vec![]));
    }
    if reciprocal_condition(a)? < SINGULAR_RCOND {
        return Ok(None);
    }
    let m = to_faer(a);
    let rhs = Mat::from_fn(b.len(), 1, |i, _| b[i]);
    let x = m.full_piv_lu().solve(&rhs);
    let out: Vec<f64> = (0..b.len()).map(|i| x[(i, 0)]).collect();
    Ok(out.iter().all(|v| v.is_finite()).then_some(out))
}

/// Inverse of a non-singular square matrix (`None` if singular).
pub fn inverse(a: &Matrix) -> Result<Option<Matrix>, TheoryError> {
    let k = a.len();
    let mut cols = Vec::with_capacity(k);
    for j in 0..k {
        let mut e = vec![0.0; k];
        e[j] = 1.0;
        match solve(a, &e)? {
            Some(c) => cols.push(c),
            None => return Ok(None),
        }
    }
    Ok(Some(transpose(&cols)))
}

/// Left null vectors of a (unit vectors u with uᵀa ≈ 0), from the SVD: the columns of U whose
/// singular value is below `rcond · σ_max`.
pub fn left_null_space(a: &Matrix, rcond: f64) -> Result<Vec<Vec<f64>>, TheoryError> {
    if a.is_empty() {
        return Ok(vec![]);
    }
    let svd = svd(a)?;
    let s = svd.S().column_vector();
    let u = svd.U();
    let smax = s[0];
    Ok((0..s.nrows())
        .filter(|&i| s[i] <= rcond * smax)
        .map(|i| (0..u.nrows()).map(|r| u[(r, i)]).collect())
        .collect())
}

/// Minimum-norm least-squares solution of a·x = b (pseudo-inverse via the SVD, singular values
/// below `rcond · σ_max` treated as zero).
pub fn lstsq_min_norm(a: &Matrix, b: &[f64], rcond: f64) -> Result<Vec<f64>, TheoryError> {
    let cols = a.first().map_or(0, Vec::len);
    if a.is_empty() || cols == 0 {
        return Ok(vec![0.0; cols]);
    }
    let svd = svd(a)?;
    let s = svd.S().column_vector();
    let (u, v) = (svd.U(), svd.V());
    let smax = s[0];
    let mut x = vec![0.0; cols];
    for i in 0..s.nrows() {
        if s[i] <= rcond * smax {
            continue;
        }
        let coef: f64 = (0..u.nrows()).map(|r| u[(r, i)] * b[r]).sum::<f64>() / s[i];
        for (c, xc) in x.iter_mut().enumerate() {
            *xc += coef * v[(c, i)];
        }
    }
    Ok(x)
}

/// Eigenvalues of a general real square matrix, sorted by decreasing real part (then
/// decreasing imaginary part). 1×1 and 2×2 matrices use the closed forms.
pub fn eigenvalues(a: &Matrix) -> Result<Vec<Complex>, TheoryError> {
    let mut ev = match a.len() {
        0 => vec![],
        1 => vec![Complex { re: a[0][0], im: 0.0 }],
        2 => {
            let tr = a[0][0] + a[1][1];
            let d = a[0][0] * a[1][1] - a[0][1] * a[1][0];
            let disc = tr * tr / 4.0 - d;
            if disc >= 0.0 {
                let s = disc.sqrt();
                vec![
                    Complex {
                        re: tr / 2.0 + s,
                        im: 0.0,
                    },
                    Complex {
                        re: tr / 2.0 - s,
                        im: 0.0,
                    },
                ]
            } else {
                let s = (-disc).sqrt();
                vec![Complex { re: tr / 2.0, im: s }, Complex { re: tr / 2.0, im: -s }]
            }
        }
        _ => {
            if !max_abs(a).is_finite() {
                return Err(failed("eigendecomposition", a, "NonFinite"));
            }
            to_faer(a)
                .eigenvalues()
                .map_err(|e| failed("eigendecomposition", a, e))?
                .into_iter()
                .map(|z| Complex { re: z.re, im: z.im })
                .collect()
        }
    };
    ev.sort_by(|x, y| y.re.total_cmp(&x.re).then(y.im.total_cmp(&x.im)));
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts_the_default_w() {
        let w = vec![vec![2.0, -3.0], vec![9.0, -5.0]];
        assert!((det(&w) - 17.0).abs() < 1e-12);
        let x = solve(&w, &[-3.6, -2.7]).unwrap().unwrap();
        assert!((x[0] - 9.9 / 17.0).abs() < 1e-12 && (x[1] - 27.0 / 17.0).abs() < 1e-12);
        let inv = inverse(&w).unwrap().unwrap();
        assert!((inv[0][0] - (-5.0 / 17.0)).abs() < 1e-12);
        assert!((inv[1][0] - (-9.0 / 17.0)).abs() < 1e-12);
    }

    #[test]
    fn singular_matrices_are_refused_and_their_null_space_found() {
        let a = vec![vec![1.0, 1.0, 2.0], vec![1.0, 1.0, 3.0], vec![4.0, 4.0, 5.0]];
        assert!(solve(&a, &[1.0, 2.0, 3.0]).unwrap().is_none());
        // Rank 2: one left null vector u with uᵀa = 0.
        let null = left_null_space(&a, 1e-10).unwrap();
        assert_eq!(null.len(), 1);
        let u = &null[0];
        for col in 0..3 {
            let s: f64 = u.iter().zip(&a).map(|(u, row)| u * row[col]).sum();
            assert!(s.abs() < 1e-12);
        }
    }

    #[test]
    fn overflowing_and_non_finite_matrices_are_errors_not_panics() {
        // The weight matrix of a config with weights ±1e200 (p·j·q).
        let huge = vec![vec![2e198, -3e198], vec![9e198, -5e198]];
        for e in [
            singular_values(&huge).unwrap_err(),
            solve(&huge, &[1.0, 1.0]).unwrap_err(),
            left_null_space(&huge, 1e-10).unwrap_err(),
            lstsq_min_norm(&huge, &[1.0, 1.0], 1e-10).unwrap_err(),
        ] {
            let msg = e.to_string();
            assert!(
                msg.starts_with("numerical failure: the singular value decomposition of a 2×2 matrix failed")
                    && msg.contains("overflow double precision"),
                "{msg}"
            );
        }
        let nan = vec![vec![f64::NAN, 0.0, 0.0], vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0]];
        assert!(singular_values(&nan).unwrap_err().to_string().contains("non-finite"));
        assert!(eigenvalues(&nan).is_err());
        // Large but harmless entries still work.
        let big = vec![vec![2e100, -3e100], vec![9e100, -5e100]];
        assert!(solve(&big, &[1.0, 1.0]).unwrap().is_some());
    }

    #[test]
    fn eigenvalues_match_closed_forms_and_faer() {
        let rot = vec![vec![-1.0, -2.0], vec![2.0, -1.0]];
        let ev = eigenvalues(&rot).unwrap();
        assert_eq!(ev[0], Complex { re: -1.0, im: 2.0 });
        assert_eq!(ev[1], Complex { re: -1.0, im: -2.0 });
        let diag = vec![vec![3.0, 0.0, 0.0], vec![0.0, -1.0, 0.0], vec![0.0, 0.0, 2.0]];
        let ev = eigenvalues(&diag).unwrap();
        let re: Vec<f64> = ev.iter().map(|z| z.re).collect();
        assert!((re[0] - 3.0).abs() < 1e-12 && (re[1] - 2.0).abs() < 1e-12 && (re[2] + 1.0).abs() < 1e-12);
        let mut block = vec![vec![0.0; 3]; 3];
        block[0] = vec![-1.0, -2.0, 0.0];
        block[1] = vec![2.0, -1.0, 0.0];
        block[2] = vec![0.0, 0.0, -5.0];
        let ev = eigenvalues(&block).unwrap();
        assert!((ev[0].re + 1.0).abs() < 1e-12 && (ev[0].im.abs() - 2.0).abs() < 1e-12);
        assert!((ev[2].re + 5.0).abs() < 1e-12);
    }
}
