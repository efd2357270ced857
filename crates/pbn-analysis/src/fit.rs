//! Least-squares straight line and Pearson correlation.

use serde::Serialize;

/// y ≈ slope·x + intercept by ordinary least squares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinearFit {
    /// Slope (units of y per unit of x).
    pub slope: f64,
    /// Intercept (units of y).
    pub intercept: f64,
    /// Pearson correlation of x and y.
    pub r: f64,
    /// Number of (finite) points used.
    pub n: usize,
}

/// Least-squares line through the points with both coordinates finite (NaN fields if fewer than 2
/// points or x is constant; r is NaN if y is constant).
pub fn linear_fit(x: &[f64], y: &[f64]) -> LinearFit {
    let pts: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .map(|(&a, &b)| (a, b))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    let n = pts.len();
    let nf = n as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / nf;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for &(a, b) in &pts {
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
        sxy += (a - mx) * (b - my);
    }
    if n < 2 || sxx == 0.0 {
        return LinearFit {
            slope: f64::NAN,
            intercept: f64::NAN,
            r: f64::NAN,
            n,
        };
    }
    let slope = sxy / sxx;
    LinearFit {
        slope,
        intercept: my - slope * mx,
        r: if syy > 0.0 { sxy / (sxx * syy).sqrt() } else { f64::NAN },
        n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_by_hand() {
        // Exact line y = 2x + 1.
        let f = linear_fit(&[0.0, 1.0, 2.0, 3.0], &[1.0, 3.0, 5.0, 7.0]);
        assert_eq!((f.slope, f.intercept, f.r, f.n), (2.0, 1.0, 1.0, 4));
        // (0,1), (1,0), (2,2): x̄ = 1, ȳ = 1, Sxx = 2, Sxy = 1, Syy = 2 → slope 1/2, intercept 1/2, r = 1/2.
        let f = linear_fit(&[0.0, 1.0, 2.0, f64::NAN], &[1.0, 0.0, 2.0, 5.0]);
        assert_eq!((f.slope, f.intercept, f.n), (0.5, 0.5, 3));
        assert!((f.r - 0.5).abs() < 1e-15);
        // Decreasing: r = −1.
        assert_eq!(linear_fit(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).r, -1.0);
        assert!(linear_fit(&[1.0, 1.0], &[1.0, 2.0]).slope.is_nan());
    }
}
