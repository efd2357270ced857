//! The compact human-readable table of an [`Analysis`].

use std::fmt;

use crate::run::Analysis;

fn opt_ms(t: Option<f64>) -> String {
    t.map_or("not converged".into(), |t| format!("{:.0} ms", t))
}

impl fmt::Display for Analysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} — {}, {:.0} ms simulated, N = {}; window ({:.0}, {:.0}] ms",
            self.run_dir, self.status, self.simulated_ms, self.n, self.from_ms, self.to_ms
        )?;
        let cov = self.covariance.as_ref();
        writeln!(
            f,
            "\n{:<8} {:>6} {:>9} {:>8} {:>7} {:>7} {:>7} {:>10}",
            "pop", "size", "rate Hz", "sd Hz", "silent", "ISI CV", "Fano", "Var(n)"
        )?;
        for (k, p) in self.populations.iter().enumerate() {
            let g = cov.and_then(|c| c.summary.groups.get(k));
            writeln!(
                f,
                "{:<8} {:>6} {:>9.3} {:>8.3} {:>7} {:>7.3} {:>7.3} {:>10.4}",
                p.name,
                p.size,
                p.rate_hz,
                p.rate_sd_hz,
                p.silent,
                p.isi_cv,
                g.map_or(f64::NAN, |g| g.mean_fano),
                g.map_or(f64::NAN, |g| g.mean_variance)
            )?;
        }
        if let Some(c) = cov {
            writeln!(
                f,
                "\nspike counts: {} windows of {} ms; means {}",
                c.summary.windows, c.summary.window_ms, c.estimator
            )?;
            writeln!(
                f,
                "{:<10} {:>12} {:>10} {:>12} {:>10}",
                "block", "mean cov", "mean corr", "cov (diag)", "corr (diag)"
            )?;
            for b in &c.summary.blocks {
                writeln!(
                    f,
                    "{:<10} {:>12.4e} {:>10.4e} {:>12} {:>10}",
                    format!("{}-{}", b.a, b.b),
                    b.mean_cov,
                    b.mean_corr,
                    b.mean_cov_matlab.map_or("".into(), |v| format!("{v:.4e}")),
                    b.mean_corr_matlab.map_or("".into(), |v| format!("{v:.4e}")),
                )?;
            }
        }
        if !self.weights.is_empty() {
            writeln!(
                f,
                "\n{:<10} {:>9} {:>9} {:>8} {:>10} {:>15} {:>22}",
                "plastic", "initial", "final", "sd", "win mean", "converged", "KS D (p)"
            )?;
            for w in &self.weights {
                let s = &w.stats;
                let ks = s.ks.as_ref().map_or("-".into(), |k| {
                    format!(
                        "{:.3} ({:.2e}) {:.0}/{:.0}s",
                        k.result.statistic,
                        k.result.p_value,
                        k.t1_ms / 1e3,
                        k.t2_ms / 1e3
                    )
                });
                writeln!(
                    f,
                    "{:<10} {:>9.3} {:>9.3} {:>8.3} {:>10.3} {:>15} {:>22}",
                    w.name,
                    s.initial_mean,
                    s.final_mean,
                    s.final_std,
                    s.window_mean,
                    opt_ms(s.convergence_time_ms),
                    ks
                )?;
            }
            if self.weights.iter().any(|w| w.rate_weight.is_some()) {
                writeln!(
                    f,
                    "\nrate-weight (final weights; weight·kHz)\n{:<10} {:>9} {:>8} {:>9} {:>9} {:>9} {:>7} {:>11} {:>6}",
                    "block", "<j>", "<r> Hz", "<j r>", "<j><r>", "Cov(j,r)", "rel", "slope /Hz", "r"
                )?;
                for w in &self.weights {
                    if let Some(rw) = &w.rate_weight {
                        writeln!(
                            f,
                            "{:<10} {:>9.3} {:>8.3} {:>9.4} {:>9.4} {:>9.4} {:>7.3} {:>11.4} {:>6.3}",
                            w.name,
                            rw.mean_j,
                            rw.mean_r_khz * 1e3,
                            rw.mean_jr,
                            rw.mean_j_mean_r,
                            rw.cov_j_r,
                            rw.relative_cov,
                            rw.fit.slope,
                            rw.fit.r
                        )?;
                    }
                }
            }
            if let Some(d) = &self.correction_d {
                let parts: Vec<String> = self
                    .populations
                    .iter()
                    .zip(d)
                    .map(|(p, v)| format!("{} {v:.4e}", p.name))
                    .collect();
                writeln!(f, "D = sum_b p q Cov(j, r) (weight·kHz): {}", parts.join(", "))?;
            }
        }
        if let Some(b) = &self.balance {
            let sources: Vec<&str> = b
                .first()
                .map(|g| g.sources.iter().map(|s| s.source.as_str()).collect())
                .unwrap_or_default();
            write!(f, "\ninput (mV/ms) {:<4}", "")?;
            for s in &sources {
                write!(f, " {:>9}", s)?;
            }
            writeln!(f, " {:>9} {:>8}", "total", "neurons")?;
            for g in b {
                write!(f, "{:<18}", g.name)?;
                for s in &g.sources {
                    write!(f, " {:>9.4}", s.mean)?;
                }
                writeln!(f, " {:>9.4} {:>8}", g.total, g.neurons)?;
            }
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}
