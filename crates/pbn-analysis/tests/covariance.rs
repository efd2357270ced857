//! Count covariances and correlations on synthetic spike trains with known statistics, and the GEMM
//! path against the direct O(N²·W) definition.

use pbn_analysis::Group;
use pbn_analysis::counts::CountMatrix;
use pbn_analysis::covariance::{CovarianceOptions, correlation_from_covariance, count_covariance, covariance_direct};
use pbn_core::input::ExternalInput;
use pbn_core::rng::{Purpose, stream};
use pbn_core::spec::{InputSpec, Sign};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Independent Poisson trains: (times ms, ids) sorted by time.
fn poisson_trains(n: usize, rate_hz: f64, duration_ms: f64, seed: u64) -> (Vec<f64>, Vec<u32>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut spikes = vec![];
    for j in 0..n {
        // Rates spread over [0.5, 1.5]·rate so neurons differ.
        let r = rate_hz * 1e-3 * (0.5 + j as f64 / n as f64);
        let mut t = 0.0;
        loop {
            t += -(1.0 - rng.random::<f64>()).ln() / r;
            if t > duration_ms {
                break;
            }
            spikes.push((t, j as u32));
        }
    }
    spikes.sort_by(|a, b| a.0.total_cmp(&b.0));
    spikes.into_iter().unzip()
}

#[test]
fn gemm_path_matches_the_direct_definition() {
    // 37 neurons in two groups (25 + 12, one silent), 9 windows, stripes of 8 rows (uneven last stripe).
    let (mut t, mut id) = poisson_trains(37, 20.0, 9.0 * 250.0, 7);
    let silent = 30;
    let keep: Vec<bool> = id.iter().map(|&i| i != silent).collect();
    let mut k = keep.iter();
    t.retain(|_| *k.next().unwrap());
    id.retain(|&i| i != silent);
    let counts = CountMatrix::from_spikes(&t, &id, 37, 0.0, 9.0 * 250.0, 250.0);
    assert_eq!(counts.windows, 9);
    let groups = [Group::new("E", 0, 25), Group::new("I", 25, 12)];
    let opts = CovarianceOptions {
        samples_per_block: 50,
        seed: 3,
        stripe: 8,
    };
    let mut rows: Vec<f64> = vec![];
    let mut sink = |row: &[f64]| {
        rows.extend_from_slice(row);
        Ok(())
    };
    let s = count_covariance(&counts, &groups, &opts, Some(&mut sink)).unwrap();
    let direct = covariance_direct(&counts);
    assert_eq!(rows.len(), 37 * 37);
    for (a, b) in rows.iter().zip(&direct) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    // Block means from the direct matrix.
    let n = 37;
    let r = correlation_from_covariance(&direct, n);
    let mean_over = |pairs: &dyn Fn(usize, usize) -> bool, m: &[f64]| {
        let v: Vec<f64> = (0..n)
            .flat_map(|j| (0..n).map(move |k| (j, k)))
            .filter(|&(j, k)| pairs(j, k))
            .map(|(j, k)| m[j * n + k])
            .filter(|x| x.is_finite())
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let ee = |j: usize, k: usize| j < 25 && k < 25 && j != k;
    let ei = |j: usize, k: usize| j < 25 && k >= 25;
    let ii = |j: usize, k: usize| j >= 25 && k >= 25 && j != k;
    let ee_matlab = |j: usize, k: usize| j < 25 && k < 25 && j <= k;
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    let (bee, bei, bii) = (&s.blocks[0], &s.blocks[1], &s.blocks[2]);
    assert_eq!(
        (bee.a.as_str(), bee.b.as_str(), bei.b.as_str(), bii.a.as_str()),
        ("E", "E", "I", "I")
    );
    assert_eq!((bee.pairs, bei.pairs, bii.pairs), (300, 300, 66));
    close(bee.mean_cov, mean_over(&ee, &direct));
    close(bei.mean_cov, mean_over(&ei, &direct));
    close(bii.mean_cov, mean_over(&ii, &direct));
    close(bee.mean_corr, mean_over(&ee, &r));
    close(bei.mean_corr, mean_over(&ei, &r));
    close(bii.mean_corr, mean_over(&ii, &r));
    // The silent neuron's 11 I–I and 25 E–I correlations are NaN and excluded.
    assert_eq!((bei.corr_pairs, bii.corr_pairs), (300 - 25, 66 - 11));
    close(bee.mean_cov_matlab.unwrap(), mean_over(&ee_matlab, &direct));
    close(bee.mean_corr_matlab.unwrap(), mean_over(&ee_matlab, &r));
    assert!(bei.mean_cov_matlab.is_none());
    // Variances and Fano factors.
    for j in 0..n {
        close(s.variances[j], direct[j * n + j]);
    }
    let fano_i: Vec<f64> = (25..37)
        .filter(|&j| j != 30)
        .map(|j| direct[j * n + j] / s.means[j])
        .collect();
    close(s.groups[1].mean_fano, fano_i.iter().sum::<f64>() / fano_i.len() as f64);
    assert_eq!(s.groups[1].silent, 1);
    // Samples are genuine off-diagonal entries of their block.
    assert_eq!(bee.cov_samples.len(), 50);
    for v in &bii.cov_samples {
        assert!((25..37).any(|j| (25..37).any(|k| j != k && (direct[j * n + k] - v).abs() < 1e-12)));
    }
    // Without a sink (upper triangle only) the statistics are identical.
    let s2 = count_covariance(&counts, &groups, &opts, None).unwrap();
    for (a, b) in s.blocks.iter().zip(&s2.blocks) {
        close(a.mean_cov, b.mean_cov);
        close(a.mean_corr, b.mean_corr);
        assert_eq!(a.cov_samples, b.cov_samples);
    }
}

#[test]
fn independent_poisson_trains_are_uncorrelated_with_fano_one() {
    // 200 neurons, 5–15 Hz, 500 s → W = 2000 windows of 250 ms. A single pair's correlation has SD
    // ≈ 1/√W = 0.022; a block mean over ≥ 10⁴ (weakly dependent) pairs has SD ≈ 0.022/√N_block ≈ 0.002.
    let (t, id) = poisson_trains(200, 10.0, 500_000.0, 11);
    let counts = CountMatrix::from_spikes(&t, &id, 200, 0.0, 500_000.0, 250.0);
    let groups = [Group::new("E", 0, 160), Group::new("I", 160, 40)];
    let s = count_covariance(&counts, &groups, &CovarianceOptions::default(), None).unwrap();
    for b in &s.blocks {
        assert!(b.mean_corr.abs() < 0.006, "{}-{}: mean corr {}", b.a, b.b, b.mean_corr);
        // Covariance scale: Var ≈ r·T_win ≈ 2.5 counts², so |mean cov| < 0.006·2.5.
        assert!(b.mean_cov.abs() < 0.015, "{}-{}: mean cov {}", b.a, b.b, b.mean_cov);
        // Sampled correlations spread like 1/√W.
        let m = b.corr_samples.iter().sum::<f64>() / b.corr_samples.len() as f64;
        let sd = (b.corr_samples.iter().map(|x| (x - m).powi(2)).sum::<f64>() / b.corr_samples.len() as f64).sqrt();
        assert!(
            (sd * (2000f64).sqrt() - 1.0).abs() < 0.1,
            "sd·√W = {}",
            sd * 2000f64.sqrt()
        );
    }
    for g in &s.groups {
        assert!((g.mean_fano - 1.0).abs() < 0.03, "{}: Fano {}", g.name, g.mean_fano);
    }
}

#[test]
fn correlated_input_trains_have_correlation_c() {
    // 200 trains of the correlated input generator (c = 0.1, 10 Hz, jitter 5 ms), 400 s → 1600 windows of
    // 250 ms. Expected count correlation ≈ c·(1 − σ√2·√(2/π)/T_win) ≈ 0.098 (shared spikes split by jitter
    // across window edges); 100 s gave 0.085–0.091, too close to the tolerance.
    let spec = InputSpec {
        name: "X".into(),
        kind: Sign::Excitatory,
        fraction: None,
        size: Some(200),
        rate_hz: 10.0,
        correlation: 0.1,
        jitter_ms: 5.0,
        tau_syn_ms: 10.0,
        start_ms: 0.0,
        stop_ms: None,
    };
    let duration = 400_000.0;
    let mut input = ExternalInput::new(&spec, 200, stream(5, Purpose::Input, 0, 0));
    let (mut t, mut id) = (vec![], vec![]);
    let mut out = vec![];
    let dt = 0.1;
    for step in 1..=(duration / dt) as usize {
        let now = step as f64 * dt;
        out.clear();
        input.spikes_until(now, &mut out);
        for &k in &out {
            t.push(now);
            id.push(k);
        }
    }
    let rate = t.len() as f64 / 200.0 / (duration * 1e-3);
    assert!((rate - 10.0).abs() < 0.5, "rate {rate} Hz");
    let counts = CountMatrix::from_spikes(&t, &id, 200, 0.0, duration, 250.0);
    let groups = [Group::new("A", 0, 100), Group::new("B", 100, 100)];
    let s = count_covariance(&counts, &groups, &CovarianceOptions::default(), None).unwrap();
    for b in &s.blocks {
        assert!(
            (b.mean_corr - 0.1).abs() < 0.02,
            "{}-{}: mean corr {}",
            b.a,
            b.b,
            b.mean_corr
        );
        // Cov = c·r·T_win = 0.1 · 0.01 kHz · 250 ms = 0.25 counts² (±20 %).
        assert!(
            (b.mean_cov - 0.25).abs() < 0.05,
            "{}-{}: mean cov {}",
            b.a,
            b.b,
            b.mean_cov
        );
    }
}

/// Timing at the scale: N = 10⁴ neurons, W = 400 windows (100 s at 250 ms).
/// `cargo test --release -p pbn-analysis --test covariance -- --ignored --nocapture`
#[test]
#[ignore = "timing at N = 10⁴; run by hand"]
fn ten_thousand_neurons_in_seconds() {
    let n = 10_000;
    let (t, id) = poisson_trains(n, 10.0, 100_000.0, 1);
    let start = std::time::Instant::now();
    let counts = CountMatrix::from_spikes(&t, &id, n, 0.0, 100_000.0, 250.0);
    let groups = [Group::new("E", 0, 8000), Group::new("I", 8000, 2000)];
    let s = count_covariance(&counts, &groups, &CovarianceOptions::default(), None).unwrap();
    let secs = start.elapsed().as_secs_f64();
    eprintln!("N = {n}, W = {}: {secs:.2} s", s.windows);
    assert!(s.blocks.iter().all(|b| b.mean_corr.abs() < 0.005));
    assert!(secs < 60.0);
}
