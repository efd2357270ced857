//! Small dense linear algebra on row-major `Vec<Vec<f64>>` matrices, backed by `faer`.
//!
//! The theory's matrices are K×K with K the number of populations (2–4 in practice), so
//! convenience beats speed here: plain nested vectors in, plain vectors out.

use faer::Mat;
use faer::prelude::Solve;

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

/// Singular values, largest first.
pub fn singular_values(a: &Matrix) -> Vec<f64> {
    if a.is_empty() {
        return vec![];
    }
    to_faer(a)
        .singular_values()
        .expect("SVD of a small finite matrix converges")
}

/// Reciprocal condition number σ_min/σ_max (0 for a singular matrix, 1 for the identity).
pub fn reciprocal_condition(a: &Matrix) -> f64 {
    let s = singular_values(a);
    match (s.first(), s.last()) {
        (Some(&max), Some(&min)) if max > 0.0 && max.is_finite() => min / max,
        _ => 0.0,
    }
}

/// Below this reciprocal condition number a matrix is treated as singular.
pub const SINGULAR_RCOND: f64 = 1e-12;

/// Solves a·x = b for square, non-singular a (full-pivoting LU); `None` if a is singular
/// (reciprocal condition number below [`SINGULAR_RCOND`]) or the result is not finite.
pub fn solve(a: &Matrix, b: &[f64]) -> Option<Vec<f64>> {
    if a.is_empty() {
        return Some(vec![]);
    }
    if reciprocal_condition(a) < SINGULAR_RCOND {
        return None;
    }
    let m = to_faer(a);
    let rhs = Mat::from_fn(b.len(), 1, |i, _| b[i]);
    let x = m.full_piv_lu().solve(&rhs);
    let out: Vec<f64> = (0..b.len()).map(|i| x[(i, 0)]).collect();
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// Inverse of a non-singular square matrix.
pub fn inverse(a: &Matrix) -> Option<Matrix> {
    let k = a.len();
    let cols: Option<Vec<Vec<f64>>> = (0..k)
        .map(|j| {
            let mut e = vec![0.0; k];
            e[j] = 1.0;
            solve(a, &e)
        })
        .collect();
    cols.map(|c| transpose(&c))
}

/// Left null vectors of a (unit vectors u with uᵀa ≈ 0), from the SVD: the columns of U whose
/// singular value is below `rcond · σ_max`.
pub fn left_null_space(a: &Matrix, rcond: f64) -> Vec<Vec<f64>> {
    if a.is_empty() {
        return vec![];
    }
    let m = to_faer(a);
    let svd = m.svd().expect("SVD of a small finite matrix converges");
    let s = svd.S().column_vector();
    let u = svd.U();
    let smax = s[0];
    (0..s.nrows())
        .filter(|&i| s[i] <= rcond * smax)
        .map(|i| (0..u.nrows()).map(|r| u[(r, i)]).collect())
        .collect()
}

/// Minimum-norm least-squares solution of a·x = b (pseudo-inverse via the SVD, singular values
/// below `rcond · σ_max` treated as zero).
pub fn lstsq_min_norm(a: &Matrix, b: &[f64], rcond: f64) -> Vec<f64> {
    let m = to_faer(a);
    let svd = m.svd().expect("SVD of a small finite matrix converges");
    let s = svd.S().column_vector();
    let (u, v) = (svd.U(), svd.V());
    let smax = s[0];
    let mut x = vec![0.0; m.ncols()];
    for i in 0..s.nrows() {
        if s[i] <= rcond * smax {
            continue;
        }
        let coef: f64 = (0..u.nrows()).map(|r| u[(r, i)] * b[r]).sum::<f64>() / s[i];
        for (c, xc) in x.iter_mut().enumerate() {
            *xc += coef * v[(c, i)];
        }
    }
    x
}

/// Eigenvalues of a general real square matrix, sorted by decreasing real part (then
/// decreasing imaginary part). 1×1 and 2×2 matrices use the closed forms.
pub fn eigenvalues(a: &Matrix) -> Vec<Complex> {
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
        _ => to_faer(a)
            .eigenvalues()
            .expect("eigenvalues of a small finite matrix converge")
            .into_iter()
            .map(|z| Complex { re: z.re, im: z.im })
            .collect(),
    };
    ev.sort_by(|x, y| y.re.total_cmp(&x.re).then(y.im.total_cmp(&x.im)));
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts_the_default_w() {
        let w = vec![vec![2.0, -3.0], vec![9.0, -5.0]];
        assert!((det(&w) - 17.0).abs() < 1e-12);
        let x = solve(&w, &[-3.6, -2.7]).unwrap();
        assert!((x[0] - 9.9 / 17.0).abs() < 1e-12 && (x[1] - 27.0 / 17.0).abs() < 1e-12);
        let inv = inverse(&w).unwrap();
        assert!((inv[0][0] - (-5.0 / 17.0)).abs() < 1e-12);
        assert!((inv[1][0] - (-9.0 / 17.0)).abs() < 1e-12);
    }

    #[test]
    fn singular_matrices_are_refused_and_their_null_space_found() {
        let a = vec![vec![1.0, 1.0, 2.0], vec![1.0, 1.0, 3.0], vec![4.0, 4.0, 5.0]];
        assert!(solve(&a, &[1.0, 2.0, 3.0]).is_none());
        // Rank 2: one left null vector u with uᵀa = 0.
        let null = left_null_space(&a, 1e-10);
        assert_eq!(null.len(), 1);
        let u = &null[0];
        for col in 0..3 {
            let s: f64 = u.iter().zip(&a).map(|(u, row)| u * row[col]).sum();
            assert!(s.abs() < 1e-12);
        }
    }

    #[test]
    fn eigenvalues_match_closed_forms_and_faer() {
        let rot = vec![vec![-1.0, -2.0], vec![2.0, -1.0]];
        let ev = eigenvalues(&rot);
        assert_eq!(ev[0], Complex { re: -1.0, im: 2.0 });
        assert_eq!(ev[1], Complex { re: -1.0, im: -2.0 });
        let diag = vec![vec![3.0, 0.0, 0.0], vec![0.0, -1.0, 0.0], vec![0.0, 0.0, 2.0]];
        let ev = eigenvalues(&diag);
        let re: Vec<f64> = ev.iter().map(|z| z.re).collect();
        assert!((re[0] - 3.0).abs() < 1e-12 && (re[1] - 2.0).abs() < 1e-12 && (re[2] + 1.0).abs() < 1e-12);
        let mut block = vec![vec![0.0; 3]; 3];
        block[0] = vec![-1.0, -2.0, 0.0];
        block[1] = vec![2.0, -1.0, 0.0];
        block[2] = vec![0.0, 0.0, -5.0];
        let ev = eigenvalues(&block);
        assert!((ev[0].re + 1.0).abs() < 1e-12 && (ev[0].im.abs() - 2.0).abs() < 1e-12);
        assert!((ev[2].re + 5.0).abs() < 1e-12);
    }
}
