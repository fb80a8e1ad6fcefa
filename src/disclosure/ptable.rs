//! The perturbation table of the cell key method (UK ONS, Australian Bureau of
//! Statistics): for each original count `n`, a distribution of the noise `v` added to it.
//!
//! For each `n` the noise takes values in `[-D, D]`, has mean 0 and variance `V`, never
//! makes a count negative, never lands a positive count in `1..=js`, and keeps zero at
//! zero. Among the distributions meeting those constraints we take the one of maximum
//! entropy (p(v) ∝ exp(a·v + b·v²), a discrete Gaussian shape), found by Newton's method.
//! For `n` in `1..=js` the allowed outcomes are 0 or at least `js + 1`, so the noise must
//! jump at least that far: its variance is at least `n·(js + 1 − n)`. Where that exceeds
//! `V` (with the defaults, for every n in 1..=4) we take the mean-zero distribution of
//! least variance (two outcomes, the nearest on each side).
//! Rows beyond `js + D + 1` equal that row: counts that large are unconstrained.

/// Parameters of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Maximum absolute deviation D.
    pub max_deviation: u32,
    /// Variance V of the noise.
    pub variance: f64,
    /// No perturbed positive count may be in 1..=js.
    pub js: u32,
}

/// The noise distribution for one original count.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub n: u32,
    /// (v, probability) in increasing v; probabilities sum to 1.
    pub noise: Vec<(i32, f64)>,
    /// Whether the variance target was met (false for 1..=js, see the module doc).
    pub meets_variance: bool,
}

impl Row {
    pub fn mean(&self) -> f64 {
        self.noise.iter().map(|(v, p)| *v as f64 * p).sum()
    }
    pub fn variance(&self) -> f64 {
        let m = self.mean();
        self.noise
            .iter()
            .map(|(v, p)| (*v as f64 - m).powi(2) * p)
            .sum()
    }
}

#[derive(Debug, Clone)]
pub struct PTable {
    pub params: Params,
    /// Rows for n = 0..=cap; larger counts use the row of `cap`.
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PTableError {
    #[error("the variance must be positive and finite")]
    BadVariance,
    #[error(
        "variance {variance} cannot be reached by noise within ±{d} for a count of {n} (it may not fall into 1..={js})"
    )]
    VarianceTooLarge {
        variance: f64,
        d: u32,
        js: u32,
        n: u32,
    },
    #[error("the maximum deviation must be at least 1")]
    BadDeviation,
    #[error(
        "the maximum deviation ({d}) must be at least js ({js}), or a count of 1 could only become 0"
    )]
    DeviationBelowJs { d: u32, js: u32 },
}

impl PTable {
    pub fn new(params: Params) -> Result<PTable, PTableError> {
        let d = params.max_deviation as i32;
        if d < 1 {
            return Err(PTableError::BadDeviation);
        }
        if params.max_deviation < params.js {
            return Err(PTableError::DeviationBelowJs {
                d: params.max_deviation,
                js: params.js,
            });
        }
        if !(params.variance > 0.0 && params.variance.is_finite()) {
            return Err(PTableError::BadVariance);
        }
        let cap = params.js + params.max_deviation + 1;
        let rows: Vec<Row> = (0..=cap).map(|n| row(n, params)).collect();
        if let Some(bad) = rows.iter().find(|r| r.n > params.js && !r.meets_variance) {
            return Err(PTableError::VarianceTooLarge {
                variance: params.variance,
                d: params.max_deviation,
                js: params.js,
                n: bad.n,
            });
        }
        Ok(PTable { params, rows })
    }

    pub fn cap(&self) -> u32 {
        self.rows.len() as u32 - 1
    }

    pub fn row(&self, n: u64) -> &Row {
        &self.rows[n.min(self.cap() as u64) as usize]
    }

    /// The noise for a count `n` whose cell key, as a fraction of the key space, is `u`
    /// in [0, 1): the v whose cumulative interval holds u.
    pub fn noise(&self, n: u64, u: f64) -> i32 {
        self.intervals(n)
            .find(|&(_, _, hi)| u < hi)
            .map_or(0, |(v, _, _)| v)
    }

    /// (v, lower, upper) cumulative intervals of a row; the last upper bound is
    /// widened past 1 so that rounding never leaves a key without a noise.
    pub fn intervals(&self, n: u64) -> impl Iterator<Item = (i32, f64, f64)> + '_ {
        let noise = &self.row(n).noise;
        let last = noise.len() - 1;
        noise.iter().enumerate().scan(0.0, move |lo, (i, &(v, p))| {
            let start = *lo;
            *lo += p;
            let hi = if i == last { 2.0 } else { *lo };
            Some((v, start, hi))
        })
    }
}

/// The noise values an original count `n` may receive.
fn support(n: u32, p: Params) -> Vec<i32> {
    let d = p.max_deviation as i32;
    let (n, js) = (n as i32, p.js as i32);
    (-d..=d)
        .filter(|v| {
            let y = n + v;
            y == 0 || y > js
        })
        .collect()
}

fn row(n: u32, p: Params) -> Row {
    if n == 0 {
        return Row {
            n,
            noise: vec![(0, 1.0)],
            meets_variance: true,
        };
    }
    let support = support(n, p);
    let (neg, pos) = (
        support.iter().copied().filter(|v| *v < 0).max(),
        support.iter().copied().filter(|v| *v > 0).min(),
    );
    let min_variance = if support.contains(&0) {
        0.0
    } else {
        match (neg, pos) {
            (Some(a), Some(b)) => (-a * b) as f64,
            _ => f64::INFINITY,
        }
    };
    if p.variance <= min_variance + 1e-12 {
        // Infeasible target: the least-variance mean-zero pair of nearest outcomes.
        let (a, b) = (neg.expect("negative side"), pos.expect("positive side"));
        let pa = b as f64 / (b - a) as f64;
        return Row {
            n,
            noise: vec![(a, pa), (b, 1.0 - pa)],
            meets_variance: false,
        };
    }
    let (lowest, highest) = (support[0], support[support.len() - 1]);
    if p.variance >= (-lowest * highest) as f64 - 1e-12 {
        // Beyond reach: the widest mean-zero pair (refused by `PTable::new` for n > js).
        let pa = highest as f64 / (highest - lowest) as f64;
        return Row {
            n,
            noise: vec![(lowest, pa), (highest, 1.0 - pa)],
            meets_variance: false,
        };
    }
    let probs = max_entropy(&support, p.variance);
    Row {
        n,
        noise: support
            .into_iter()
            .zip(probs)
            .filter(|(_, q)| *q > 0.0)
            .collect(),
        meets_variance: true,
    }
}

/// Probabilities over `support` with mean 0 and variance `target` of maximum entropy:
/// p(v) ∝ exp(a·v + b·v²), (a, b) found by Newton's method on the convex dual.
fn max_entropy(support: &[i32], target: f64) -> Vec<f64> {
    let xs: Vec<f64> = support.iter().map(|v| *v as f64).collect();
    let probs = |a: f64, b: f64| -> Vec<f64> {
        let logits: Vec<f64> = xs.iter().map(|x| a * x + b * x * x).collect();
        let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let z: f64 = w.iter().sum();
        w.into_iter().map(|w| w / z).collect()
    };
    let dual = |a: f64, b: f64| -> f64 {
        let logits: Vec<f64> = xs.iter().map(|x| a * x + b * x * x).collect();
        let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        max + logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln() - b * target
    };
    let (mut a, mut b) = (0.0f64, 0.0f64);
    for _ in 0..200 {
        let p = probs(a, b);
        let m1: f64 = p.iter().zip(&xs).map(|(p, x)| p * x).sum();
        let m2: f64 = p.iter().zip(&xs).map(|(p, x)| p * x * x).sum();
        let m3: f64 = p.iter().zip(&xs).map(|(p, x)| p * x * x * x).sum();
        let m4: f64 = p.iter().zip(&xs).map(|(p, x)| p * x.powi(4)).sum();
        let (g1, g2) = (m1, m2 - target);
        if g1.abs() < 1e-13 && g2.abs() < 1e-12 {
            break;
        }
        // Hessian: covariance of (v, v²).
        let (h11, h12, h22) = (m2 - m1 * m1, m3 - m1 * m2, m4 - m2 * m2);
        let det = h11 * h22 - h12 * h12;
        let (da, db) = if det.abs() > 1e-300 {
            ((h22 * g1 - h12 * g2) / det, (h11 * g2 - h12 * g1) / det)
        } else {
            (g1, g2)
        };
        // Backtracking keeps every step a descent of the dual.
        let current = dual(a, b);
        let mut step = 1.0;
        while step > 1e-12
            && dual(a - step * da, b - step * db) > current - 1e-4 * step * (g1 * da + g2 * db)
        {
            step /= 2.0;
        }
        a -= step * da;
        b -= step * db;
    }
    probs(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(params: Params) {
        let table = PTable::new(params).unwrap();
        let js = params.js as i64;
        for row in &table.rows {
            let n = row.n as i64;
            let total: f64 = row.noise.iter().map(|(_, p)| p).sum();
            assert!(
                (total - 1.0).abs() < 1e-12,
                "{params:?} n={n}: sums to {total}"
            );
            assert!(
                row.mean().abs() < 1e-9,
                "{params:?} n={n}: mean {}",
                row.mean()
            );
            for &(v, p) in &row.noise {
                let y = n + v as i64;
                assert!(p > 0.0);
                assert!(
                    v.unsigned_abs() <= params.max_deviation,
                    "{params:?} n={n}: v={v}"
                );
                assert!(y >= 0, "{params:?} n={n}: negative output");
                assert!(y == 0 || y > js, "{params:?} n={n}: forbidden output {y}");
            }
            if n == 0 {
                assert_eq!(row.noise, vec![(0, 1.0)], "zero stays zero");
            } else if n > js || params.variance > (n * (js + 1 - n)) as f64 {
                assert!(row.meets_variance);
                assert!(
                    (row.variance() - params.variance).abs() < 1e-6,
                    "{params:?} n={n}: variance {}",
                    row.variance()
                );
            } else {
                // Counts 1..=js must move to 0 or past js: the variance is at least the
                // product of the two nearest jumps; when that exceeds V the table takes it.
                let least = (n * (js + 1 - n)) as f64;
                assert!(
                    !row.meets_variance && (row.variance() - least).abs() < 1e-9,
                    "{params:?} n={n}"
                );
            }
        }
        let cap = table.cap() as u64;
        assert_eq!(
            table.row(cap + 100),
            table.row(cap),
            "large counts reuse the last row"
        );
    }

    #[test]
    fn default_table_has_the_required_properties() {
        check(Params {
            max_deviation: 5,
            variance: 3.0,
            js: 4,
        });
    }

    #[test]
    fn other_settings_have_the_required_properties() {
        for (d, v, js) in [
            (3, 1.0, 2),
            (4, 2.0, 0),
            (5, 2.0, 4),
            (6, 4.5, 5),
            (10, 9.0, 4),
            (2, 0.5, 1),
        ] {
            check(Params {
                max_deviation: d,
                variance: v,
                js,
            });
        }
    }

    #[test]
    fn large_counts_get_a_symmetric_noise() {
        let table = PTable::new(Params {
            max_deviation: 5,
            variance: 3.0,
            js: 4,
        })
        .unwrap();
        let row = table.row(1000);
        for (v, p) in &row.noise {
            let mirror = row.noise.iter().find(|(w, _)| *w == -v).unwrap().1;
            assert!((p - mirror).abs() < 1e-12);
        }
    }

    #[test]
    fn the_cell_key_picks_the_noise_by_cumulative_interval() {
        let table = PTable::new(Params {
            max_deviation: 5,
            variance: 3.0,
            js: 4,
        })
        .unwrap();
        assert_eq!(table.noise(50, 0.0), -5);
        assert_eq!(table.noise(50, 0.999_999_999), 5);
        assert_eq!(table.noise(0, 0.7), 0);
        // Over a fine grid of keys the noise reproduces the row's distribution.
        let row = table.row(20);
        let steps = 1_000_000;
        let mean: f64 = (0..steps)
            .map(|i| table.noise(20, i as f64 / steps as f64) as f64)
            .sum::<f64>()
            / steps as f64;
        assert!(mean.abs() < 1e-3, "{mean}");
        assert!(row.noise.len() == 11);
    }

    #[test]
    fn impossible_settings_are_refused() {
        assert!(
            PTable::new(Params {
                max_deviation: 2,
                variance: 5.0,
                js: 1
            })
            .is_err()
        );
        assert!(
            PTable::new(Params {
                max_deviation: 2,
                variance: 1.0,
                js: 4
            })
            .is_err()
        );
        assert!(
            PTable::new(Params {
                max_deviation: 0,
                variance: 1.0,
                js: 1
            })
            .is_err()
        );
        assert!(
            PTable::new(Params {
                max_deviation: 3,
                variance: -1.0,
                js: 1
            })
            .is_err()
        );
    }
}
