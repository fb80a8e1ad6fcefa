//! Value scales: a domain that always includes zero, rounded up to "nice" tick steps
//! (1, 2, 2.5, 5 × 10ⁿ), and the linear map from values to pixels.

/// Ticks from `lo` to `hi` (both multiples of `step`).
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
    /// Decimals needed to write the ticks without repeating a label.
    pub decimals: usize,
}

impl Ticks {
    pub fn values(&self) -> Vec<f64> {
        let count = ((self.hi - self.lo) / self.step).round();
        if !(0.0..=100.0).contains(&count) {
            return vec![self.lo, self.hi];
        }
        (0..=count as usize)
            .map(|i| self.lo + i as f64 * self.step)
            .collect()
    }
}

/// Nice ticks covering `[min(0, lo), max(0, hi)]` with about `target` intervals.
/// `decimals` is the precision of the data: 0 keeps ticks on whole numbers, so a chart
/// of small counts never shows "0.5 people".
pub fn nice_ticks(lo: f64, hi: f64, target: usize, decimals: usize) -> Ticks {
    let lo = if lo.is_finite() { lo.min(0.0) } else { 0.0 };
    let mut hi = if hi.is_finite() { hi.max(0.0) } else { 0.0 };
    let min_step = 10f64.powi(-(decimals.min(6) as i32));
    if hi - lo <= 0.0 {
        hi = min_step * target.max(1) as f64;
    }
    // The round step whose number of intervals is closest to `target` (fewer on ties).
    let raw = (hi - lo) / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let intervals = |s: f64| (hi / s).ceil() - (lo / s).floor();
    let step = [0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0]
        .iter()
        .map(|m| (m * magnitude).max(min_step))
        .min_by(|a, b| {
            let da = (intervals(*a) - target as f64).abs();
            let db = (intervals(*b) - target as f64).abs();
            da.total_cmp(&db).then(b.total_cmp(a))
        })
        .unwrap_or(min_step);
    let tick_decimals = if step >= 1.0 {
        0
    } else {
        // 0.25 needs two decimals, 0.5 one.
        (0..=6)
            .find(|d| ((step * 10f64.powi(*d)).round() - step * 10f64.powi(*d)).abs() < 1e-9)
            .unwrap_or(6) as usize
    };
    Ticks {
        lo: (lo / step).floor() * step,
        hi: (hi / step).ceil() * step,
        step,
        decimals: tick_decimals,
    }
}

/// Linear map from `[d0, d1]` to `[r0, r1]`.
#[derive(Debug, Clone, Copy)]
pub struct Linear {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Linear {
    pub fn map(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span.abs() < f64::EPSILON || !v.is_finite() {
            return self.r0;
        }
        self.r0 + (v - self.d0) / span * (self.r1 - self.r0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_data() {
        let t = nice_ticks(0.0, 5400.0, 5, 0);
        assert_eq!((t.lo, t.hi, t.step), (0.0, 6000.0, 1000.0));
        let t = nice_ticks(0.0, 3.0, 5, 0);
        assert_eq!(t.step, 1.0);
        let t = nice_ticks(0.0, 1.2, 5, 1);
        assert_eq!((t.step, t.decimals), (0.25, 2));
        let t = nice_ticks(0.0, 0.0, 5, 0);
        assert!(t.hi > 0.0);
        let t = nice_ticks(f64::NAN, f64::INFINITY, 5, 0);
        assert!(t.values().len() >= 2);
        let t = nice_ticks(0.0, 1_234_567.0, 5, 0);
        assert_eq!((t.hi, t.step), (1_250_000.0, 250_000.0));
    }
}
