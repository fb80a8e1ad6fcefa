//! The perturbation table of the cell key method (UK ONS, Australian Bureau of
//! Statistics): for each original count `n`, a distribution of the noise `v` added to it.
//!
//! As in the Destatis `ptable` package (`create_cnt_ptable`, default `optim = 1`,
//! `mono = TRUE`): for each `n` the noise takes values in `[-D, D]`, has mean 0 and a
//! variance of **at most** `V`, never makes a count negative, never lands a positive
//! count in `1..=js`, keeps zero at zero, and its probabilities fall away from zero noise
//! (on both sides here; `ptable` constrains the negative side only). Among those
//! distributions we take the one of maximum entropy: p(v) ∝ exp(s(v)), where s is
//! a·v + b·v² (b ≤ 0, b = 0 when the variance bound is slack) made monotone away from 0
//! by an isotonic fit (pool-adjacent-violators) — the shape the KKT conditions give.
//! Without the monotonicity, a true 6 went to 5 with 62.5 % and to 10 or 11 with 8.9 %.
//!
//! For `n` in `1..=js` the allowed outcomes are 0 or at least `js + 1`: the variance is
//! at least `n·(js + 1 − n)`, above `V` for every such n with the defaults (where
//! `ptable` stops with an error), so those rows take the mean-zero pair of the nearest
//! outcomes; they are below the threshold whatever they become.
//! Rows beyond `js + D + 1` equal that row: counts that large are unconstrained, and
//! their noise is the discrete Gaussian of variance exactly V.

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
    /// Whether the variance bound holds (false for 1..=js, see the module doc).
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
        // The unconstrained row must be able to carry the variance asked for.
        let last = &rows[cap as usize];
        if (last.variance() - params.variance).abs() > 1e-6 {
            return Err(PTableError::VarianceTooLarge {
                variance: params.variance,
                d: params.max_deviation,
                js: params.js,
                n: cap,
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
    let probs = max_entropy(&support, p.variance);
    Row {
        n,
        noise: support
            .into_iter()
            .zip(probs)
            .filter(|(_, q)| *q > 1e-15)
            .collect(),
        meets_variance: true,
    }
}

/// A sequence fitted (least squares, equal weights) under `s[i] <= s[i+1]`: the
/// pool-adjacent-violators algorithm.
fn isotonic_increasing(s: &[f64]) -> Vec<f64> {
    let mut blocks: Vec<(f64, usize)> = Vec::new();
    for &x in s {
        blocks.push((x, 1));
        while blocks.len() > 1 {
            let (b, nb) = blocks[blocks.len() - 1];
            let (a, na) = blocks[blocks.len() - 2];
            if a <= b {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = ((a * na as f64 + b * nb as f64) / (na + nb) as f64, na + nb);
        }
    }
    blocks
        .into_iter()
        .flat_map(|(v, n)| std::iter::repeat_n(v, n))
        .collect()
}

/// The exponents made unimodal at index `zero`: non-decreasing up to it, non-increasing
/// after it.
fn unimodal(s: &[f64], zero: usize) -> Vec<f64> {
    let mut out = isotonic_increasing(&s[..=zero]);
    let right: Vec<f64> = s[zero..].iter().rev().copied().collect();
    let mut right = isotonic_increasing(&right);
    right.reverse();
    // The value at zero is shared: keep the larger fit, which keeps both sides monotone.
    out[zero] = out[zero].max(right[0]);
    out.extend_from_slice(&right[1..]);
    out
}

/// Probabilities over `support` (which holds 0) of maximum entropy with mean 0,
/// variance at most `v_max`, falling away from zero on both sides.
fn max_entropy(support: &[i32], v_max: f64) -> Vec<f64> {
    let xs: Vec<f64> = support.iter().map(|v| *v as f64).collect();
    // Falling away from zero noise — or, for a count that cannot stay (1..=js), from
    // the outcome nearest to it.
    let zero = (0..support.len())
        .min_by_key(|&i| support[i].unsigned_abs())
        .unwrap_or(0);
    let probs = |a: f64, b: f64| -> Vec<f64> {
        let s: Vec<f64> = xs.iter().map(|x| a * x + b * x * x).collect();
        let s = unimodal(&s, zero);
        let max = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = s.iter().map(|l| (l - max).exp()).collect();
        let z: f64 = w.iter().sum();
        w.into_iter().map(|w| w / z).collect()
    };
    let moment = |p: &[f64], k: i32| -> f64 { p.iter().zip(&xs).map(|(p, x)| p * x.powi(k)).sum() };
    // For a given b, the mean grows with a: find the a that centres it.
    let centre = |b: f64| -> f64 {
        let (mut lo, mut hi) = (-60.0f64, 60.0f64);
        for _ in 0..200 {
            let mid = (lo + hi) / 2.0;
            if moment(&probs(mid, b), 1) < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (lo + hi) / 2.0
    };
    let a0 = centre(0.0);
    if moment(&probs(a0, 0.0), 2) <= v_max {
        // The variance bound is slack: maximum entropy with mean zero only.
        return probs(a0, 0.0);
    }
    // Otherwise the variance sits on its bound: the b < 0 that brings it to V.
    let (mut lo, mut hi) = (-60.0f64, 0.0f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        let a = centre(mid);
        if moment(&probs(a, mid), 2) > v_max {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let b = (lo + hi) / 2.0;
    probs(centre(b), b)
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
                (total - 1.0).abs() < 1e-9,
                "{params:?} n={n}: sums to {total}"
            );
            assert!(
                row.mean().abs() < 1e-7,
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
            } else if n > js {
                assert!(row.meets_variance);
                assert!(
                    row.variance() <= params.variance + 1e-6,
                    "{params:?} n={n}: variance {}",
                    row.variance()
                );
                // Probabilities fall away from zero noise on both sides.
                let p = |v: i32| row.noise.iter().find(|(w, _)| *w == v).map(|x| x.1);
                let at_zero = p(0).expect("a count above js can stay");
                let mut previous = at_zero;
                for v in 1..=params.max_deviation as i32 {
                    if let Some(q) = p(v) {
                        assert!(
                            q <= previous + 1e-9,
                            "{params:?} n={n}: p({v}) = {q} > {previous}"
                        );
                        previous = q;
                    }
                }
                let mut previous = at_zero;
                for v in (-(params.max_deviation as i32)..0).rev() {
                    if let Some(q) = p(v) {
                        assert!(
                            q <= previous + 1e-9,
                            "{params:?} n={n}: p({v}) = {q} > {previous}"
                        );
                        previous = q;
                    }
                }
            } else {
                // Counts 1..=js must move to 0 or past js: the variance is at least the
                // product of the two nearest jumps; when that exceeds V the table takes it.
                let least = (n * (js + 1 - n)) as f64;
                if params.variance <= least {
                    assert!(
                        !row.meets_variance && (row.variance() - least).abs() < 1e-9,
                        "{params:?} n={n}"
                    );
                }
            }
        }
        let cap = table.cap() as u64;
        assert_eq!(
            table.row(cap + 100),
            table.row(cap),
            "large counts reuse the last row"
        );
        assert!(
            (table.row(cap).variance() - params.variance).abs() < 1e-6,
            "large counts carry the full variance"
        );
    }

    #[test]
    fn the_symmetric_row_is_the_discrete_gaussian_of_the_ptable_package() {
        // Row i >= 5 of create_cnt_ptable(D=5, V=3, js=0), from the package's own output.
        let table = PTable::new(Params {
            max_deviation: 5,
            variance: 3.0,
            js: 0,
        })
        .unwrap();
        let expected = [
            0.00379186, 0.01659093, 0.05229263, 0.11873037, 0.19419346, 0.22880150,
        ];
        let row = table.row(100);
        for (i, e) in expected.iter().enumerate() {
            let v = i as i32 - 5;
            let p = row.noise.iter().find(|(w, _)| *w == v).unwrap().1;
            assert!((p - e).abs() < 2e-5, "v={v}: {p} vs {e}");
        }
        // Row 1 (mono binds: P(1→0) = P(1→1)) and row 3, as the package gives them.
        let one = table.row(1);
        assert!(
            (one.noise[0].1 - 0.38894).abs() < 2e-4 && (one.noise[1].1 - 0.38894).abs() < 2e-4,
            "{one:?}"
        );
        let three = table.row(3);
        assert!((three.noise[3].1 - 0.21665).abs() < 2e-3, "{three:?}");
    }

    #[test]
    fn a_true_six_is_not_more_likely_published_as_five_than_as_six() {
        let table = PTable::new(Params {
            max_deviation: 5,
            variance: 3.0,
            js: 4,
        })
        .unwrap();
        for n in 5..=9u64 {
            let row = table.row(n);
            let p = |v: i32| row.noise.iter().find(|(w, _)| *w == v).map_or(0.0, |x| x.1);
            assert!(p(-1) <= p(0) + 1e-9, "n={n}: {row:?}");
        }
        // The U-shaped row of the old table sent a true 6 to 10 or 11 with 8.9 %.
        let six = table.row(6);
        let p = |v: i32| six.noise.iter().find(|(w, _)| *w == v).map_or(0.0, |x| x.1);
        assert!(p(4) + p(5) < 0.05, "{six:?}");
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
